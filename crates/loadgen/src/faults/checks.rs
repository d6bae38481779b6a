//! After the run: the invariants, from the database (psql and the `reserva` audits) and from the
//! harness's own log of answers.

use crate::client::Entry;
use crate::load::QueueEvent;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::process::Command;

/// One invariant's result.
pub(crate) struct Verdict {
    pub name: String,
    pub violations: Vec<String>,
}

impl Verdict {
    fn new(name: &str, violations: Vec<String>) -> Self {
        Self {
            name: name.to_owned(),
            violations,
        }
    }
}

/// Rows of a query, one string per row (`|` between columns).
pub(crate) fn rows(url: &str, sql: &str) -> Result<Vec<String>, String> {
    let output = Command::new("psql")
        .arg(url)
        .args(["-XAtqc", sql])
        .output()
        .map_err(|e| format!("psql: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "psql {sql}: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_owned)
        .collect())
}

fn set(url: &str, sql: &str) -> Result<HashSet<String>, String> {
    rows(url, sql).map(|r| r.into_iter().collect())
}

/// Runs a `reserva` audit; its output and exit status.
fn audit(mut command: Command, name: &str) -> Verdict {
    match command.output() {
        Ok(output) if output.status.success() => Verdict::new(name, Vec::new()),
        Ok(output) => Verdict::new(
            name,
            vec![format!(
                "exit {}: {}{}",
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            )],
        ),
        Err(error) => Verdict::new(name, vec![error.to_string()]),
    }
}

/// Every key's logical outcome: the effects its 2xx answers named, whether one of them
/// succeeded, and whether an attempt ended without telling what happened (no answer, a 503, or
/// `idempotency_key_in_flight`: that attempt may have made the effect).
#[derive(Default)]
struct KeyOutcome {
    effects: HashSet<String>,
    succeeded: bool,
    uncertain: bool,
}

fn by_key<'a>(log: &'a [Entry], kind: &str) -> HashMap<&'a str, KeyOutcome> {
    let mut keys: HashMap<&str, KeyOutcome> = HashMap::new();
    for entry in log.iter().filter(|e| e.kind == kind) {
        let Some(key) = entry.key.as_deref() else {
            continue;
        };
        let outcome = keys.entry(key).or_default();
        let in_flight =
            entry.status == 409 && entry.code.as_deref() == Some("idempotency_key_in_flight");
        if entry.status == 0 || entry.status >= 500 || in_flight {
            outcome.uncertain = true;
        }
        if (200..300).contains(&entry.status) {
            outcome.succeeded = true;
            if let Some(effect) = &entry.effect {
                outcome.effects.insert(effect.clone());
            }
        }
    }
    keys
}

/// For one keyed kind: every 2xx effect exists in `stored`; the retries of one key answered one
/// effect; and the stored effects no 2xx named are at most the keys left without an answer.
fn effects_once(log: &[Entry], kind: &str, stored: &HashSet<String>) -> Verdict {
    let keys = by_key(log, kind);
    let mut violations = Vec::new();
    let mut answered = HashSet::new();
    let mut unknown = 0;
    for (key, outcome) in &keys {
        if outcome.effects.len() > 1 {
            violations.push(format!(
                "key {key}: retries answered {} different effects {:?}",
                outcome.effects.len(),
                outcome.effects
            ));
        }
        for effect in &outcome.effects {
            if !stored.contains(effect) {
                violations.push(format!(
                    "key {key}: answered 2xx with {effect}, which is not in the database"
                ));
            }
            answered.insert(effect.clone());
        }
        // A key no 2xx settled may still have made its effect in an attempt that got no
        // answer: the first one committed and its instance was killed, then the retries met the
        // dead instance's claim (409 in flight until it lapses) or, after the record was lost
        // with Redis, the database's own refusal (a 409 such as "already reserved"). A key that
        // did get a 2xx is not counted: a second effect beside the one it named is a violation.
        if !outcome.succeeded && outcome.uncertain {
            unknown += 1;
        }
    }
    let unanswered = stored.difference(&answered).count();
    if unanswered > unknown {
        violations.push(format!(
            "{unanswered} stored effects no answer named, but only {unknown} keys ended without an answer: a retry made a second effect"
        ));
    }
    Verdict::new(
        &format!(
            "{kind}: every 2xx effect stored once ({} keys, {} effects, {unknown} unknown outcomes)",
            keys.len(),
            answered.len()
        ),
        violations,
    )
}

/// No 500 ever; every 503 carries Retry-After.
fn answers(log: &[Entry]) -> Vec<Verdict> {
    let five_hundreds: Vec<String> = log
        .iter()
        .filter(|e| e.status >= 500 && e.status != 503)
        .map(|e| {
            format!(
                "{} {} {} at {} ms on instance {}: {:?}",
                e.status, e.method, e.path, e.sent_ms, e.instance, e.code
            )
        })
        .collect();
    let bare: Vec<String> = log
        .iter()
        .filter(|e| {
            e.status == 503
                && e.retry_after.is_none()
                && e.code.as_deref() != Some("outcome_unknown")
        })
        .map(|e| {
            format!(
                "503 without Retry-After: {} {} at {} ms ({:?})",
                e.method, e.path, e.sent_ms, e.code
            )
        })
        .collect();
    vec![
        Verdict::new("no 5xx other than 503", five_hundreds),
        Verdict::new(
            "every 503 carries Retry-After (but `outcome_unknown`, which by design asks to look first)",
            bare,
        ),
    ]
}

/// Admission follows arrival: if A's join was answered before B's was sent (one Redis epoch
/// throughout), A cannot still be waiting after B was seen active. And a waiting place never
/// moves back.
fn queue_order(events: &[QueueEvent]) -> Verdict {
    let mut violations = Vec::new();
    let same_epoch = |e: &QueueEvent| e.epoch_sent == e.epoch_received;
    let mut by_token: BTreeMap<&str, Vec<&QueueEvent>> = BTreeMap::new();
    for event in events {
        by_token
            .entry(event.token.as_str())
            .or_default()
            .push(event);
    }
    struct Place<'a> {
        user: usize,
        concert: usize,
        epoch: u64,
        joined_sent: u64,
        joined_received: u64,
        first_active: Option<u64>,
        waiting_polls: Vec<&'a QueueEvent>,
    }
    let mut places = Vec::new();
    for (token, list) in &mut by_token {
        list.sort_by_key(|e| e.sent_ms);
        // The place's arrival is its first join (later joins of a live place answer 200
        // with it); a join whose retries spanned a Redis stop is not comparable.
        let Some(join) = list.iter().find(|e| e.join).copied() else {
            continue;
        };
        if !same_epoch(join) {
            continue;
        }
        list.retain(|e| same_epoch(e) && e.epoch_sent == join.epoch_sent);
        let mut last_position = i64::MAX;
        for event in list.iter().filter(|e| !e.active) {
            if event.position > last_position {
                violations.push(format!(
                    "token {token}: waiting position went from {last_position} to {} at {} ms",
                    event.position, event.sent_ms
                ));
            }
            last_position = event.position;
        }
        places.push(Place {
            user: join.user,
            concert: join.concert,
            epoch: join.epoch_sent,
            joined_sent: join.sent_ms,
            joined_received: join.received_ms,
            first_active: list
                .iter()
                .filter(|e| e.active && e.epoch_sent == join.epoch_sent)
                .map(|e| e.received_ms)
                .min(),
            waiting_polls: list
                .iter()
                .filter(|e| !e.active && !e.join && e.epoch_sent == join.epoch_sent)
                .copied()
                .collect(),
        });
    }
    let mut checked = 0_usize;
    for early in &places {
        for late in &places {
            if late.epoch != early.epoch
                || late.concert != early.concert
                || early.joined_received >= late.joined_sent
            {
                continue;
            }
            let Some(admitted) = late.first_active else {
                continue;
            };
            checked += 1;
            if let Some(poll) = early.waiting_polls.iter().find(|p| p.sent_ms > admitted) {
                violations.push(format!(
                    "buyer{} joined at {} ms and was still waiting at {} ms, after buyer{}, who joined later (at {} ms), was active at {admitted} ms",
                    early.user, early.joined_sent, poll.sent_ms, late.user, late.joined_sent
                ));
            }
        }
    }
    Verdict::new(
        &format!(
            "queue: admission in arrival order ({} places, {checked} ordered pairs checked)",
            places.len()
        ),
        violations,
    )
}

/// Every check; each verdict lists its violations.
pub(crate) fn all(
    url: &str,
    reserva: impl Fn() -> Command,
    log: &[Entry],
    queue: &[QueueEvent],
) -> Result<Vec<Verdict>, String> {
    let mut verdicts = answers(log);
    let over = rows(
        url,
        "SELECT starts_at || ' ' || confirmed || '/' || capacity FROM exam_slots WHERE confirmed > capacity",
    )?;
    verdicts.push(Verdict::new("exams: no hour above capacity", over));
    let drift = rows(
        url,
        "SELECT s.starts_at || ': confirmed ' || s.confirmed || ', reservations ' || COALESCE(r.total, 0) \
         FROM exam_slots s LEFT JOIN LATERAL (SELECT sum(headcount) AS total FROM exam_reservations \
         WHERE status = 'confirmed' AND starts_at <= s.starts_at AND ends_at > s.starts_at) r ON true \
         WHERE s.confirmed <> COALESCE(r.total, 0)",
    )?;
    verdicts.push(Verdict::new(
        "exams: each hour's count = its confirmed reservations",
        drift,
    ));
    let fill = rows(
        url,
        "SELECT count(*) || ' hours, ' || sum(confirmed) || ' of ' || sum(capacity) || ' places confirmed' \
         FROM exam_slots WHERE confirmed > 0",
    )?;
    println!(
        "exam hours booked: {}",
        fill.first().map_or("?", String::as_str)
    );

    let reservations = set(url, "SELECT id FROM exam_reservations")?;
    verdicts.push(effects_once(log, "exam.create", &reservations));
    let confirmed = set(
        url,
        "SELECT id FROM exam_reservations WHERE status = 'confirmed'",
    )?;
    verdicts.push(effects_once(log, "exam.confirm", &confirmed));
    let charges = set(url, "SELECT id FROM ledger_transfers WHERE kind = 'charge'")?;
    verdicts.push(effects_once(log, "wallet.charge", &charges));
    let holds = set(url, "SELECT id FROM seat_holds")?;
    let stray: Vec<String> = log
        .iter()
        .filter(|e| e.kind == "seat.hold" && e.status == 201)
        .filter_map(|e| e.effect.clone())
        .filter(|id| !holds.contains(id))
        .collect();
    verdicts.push(Verdict::new("tickets: every 201 hold is stored", stray));
    let bookings = set(url, "SELECT id FROM bookings WHERE status = 'confirmed'")?;
    verdicts.push(effects_once(log, "seat.pay", &bookings));
    let twice = rows(
        url,
        "SELECT performance_id || ' seat ' || seat_number FROM bookings WHERE status = 'confirmed' \
         GROUP BY performance_id, seat_number HAVING count(*) > 1",
    )?;
    verdicts.push(Verdict::new("tickets: no seat sold twice", twice));
    let held_sold = rows(
        url,
        "SELECT h.id::text FROM seat_holds h JOIN bookings b ON b.performance_id = h.performance_id \
         AND b.seat_number = h.seat_number AND b.status = 'confirmed' \
         WHERE h.status = 'held' AND h.expires_at > now() \
         UNION ALL SELECT performance_id || ' seat ' || seat_number FROM seats \
         WHERE booking_id IS NOT NULL AND hold_expires_at > now()",
    )?;
    verdicts.push(Verdict::new(
        "tickets: no live hold on a sold seat",
        held_sold,
    ));
    let payments = set(
        url,
        "SELECT id FROM catalog_payments WHERE status IN ('paid', 'cancelled')",
    )?;
    verdicts.push(effects_once(log, "catalog.apply", &payments));
    let cancelled = set(
        url,
        "SELECT id FROM catalog_payments WHERE status = 'cancelled'",
    )?;
    let uncancelled: Vec<String> = log
        .iter()
        .filter(|e| e.kind == "catalog.cancel" && e.status == 200)
        .filter_map(|e| e.effect.clone())
        .filter(|id| !cancelled.contains(id))
        .collect();
    verdicts.push(Verdict::new(
        "catalog: every 200 cancel is stored cancelled",
        uncancelled,
    ));
    verdicts.push(queue_order(queue));
    let mut wallet = reserva();
    wallet.args(["wallet", "verify"]);
    verdicts.push(audit(
        wallet,
        "reserva wallet verify (ledger balanced, seats sold once)",
    ));
    let mut catalog = reserva();
    catalog.args(["catalog", "verify"]);
    verdicts.push(audit(catalog, "reserva catalog verify"));
    let stuck = rows(
        url,
        "SELECT count(*) FROM pg_stat_activity WHERE state LIKE 'idle in transaction%'",
    )?;
    let stuck: Vec<String> = stuck
        .into_iter()
        .filter(|n| n != "0")
        .map(|n| format!("{n} sessions idle in transaction"))
        .collect();
    verdicts.push(Verdict::new("no half-done transaction left open", stuck));
    Ok(verdicts)
}

#[cfg(test)]
mod tests {
    //! The log checks must catch what they claim to: each case feeds a log with one violation.

    use super::*;

    fn entry(
        kind: &'static str,
        key: &str,
        attempt: u32,
        status: u16,
        effect: Option<&str>,
    ) -> Entry {
        Entry {
            sent_ms: u64::from(attempt) * 10,
            latency_ms: 1.0,
            instance: 0,
            method: "POST",
            kind,
            path: "/x".into(),
            key: Some(key.into()),
            attempt,
            status,
            retry_after: None,
            code: None,
            effect: effect.map(str::to_owned),
            error: None,
        }
    }

    fn stored(ids: &[&str]) -> HashSet<String> {
        ids.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn a_clean_log_passes() {
        let log = [
            entry("k", "a", 1, 0, None),
            entry("k", "a", 2, 201, Some("e1")),
            entry("k", "b", 1, 201, Some("e2")),
        ];
        assert!(
            effects_once(&log, "k", &stored(&["e1", "e2"]))
                .violations
                .is_empty()
        );
    }

    #[test]
    fn an_answered_effect_missing_from_the_database_is_caught() {
        let log = [entry("k", "a", 1, 201, Some("e1"))];
        assert_eq!(effects_once(&log, "k", &stored(&[])).violations.len(), 1);
    }

    #[test]
    fn two_effects_for_one_key_are_caught() {
        let log = [
            entry("k", "a", 1, 201, Some("e1")),
            entry("k", "a", 2, 201, Some("e2")),
        ];
        assert!(
            !effects_once(&log, "k", &stored(&["e1", "e2"]))
                .violations
                .is_empty()
        );
    }

    #[test]
    fn a_stored_effect_no_answer_explains_is_caught() {
        // One key, answered e1; the database also holds e2, and no key was left unanswered.
        let log = [
            entry("k", "a", 1, 201, Some("e1")),
            entry("k", "b", 1, 409, None),
        ];
        assert_eq!(
            effects_once(&log, "k", &stored(&["e1", "e2"]))
                .violations
                .len(),
            1
        );
        // Had key b ended without an answer, e2 could be its effect.
        let log = [
            entry("k", "a", 1, 201, Some("e1")),
            entry("k", "b", 1, 0, None),
        ];
        assert!(
            effects_once(&log, "k", &stored(&["e1", "e2"]))
                .violations
                .is_empty()
        );
    }

    #[test]
    fn a_key_whose_first_attempt_went_unanswered_may_own_an_unnamed_effect() {
        // Attempt 1 committed e2 and its instance was killed; the retries met the dead
        // instance's claim until they ran out (CI run of stop 19).
        let mut in_flight = entry("k", "b", 2, 409, None);
        in_flight.code = Some("idempotency_key_in_flight".into());
        let log = [
            entry("k", "a", 1, 201, Some("e1")),
            entry("k", "b", 1, 0, None),
            in_flight,
        ];
        assert!(
            effects_once(&log, "k", &stored(&["e1", "e2"]))
                .violations
                .is_empty()
        );
        // The record was lost with Redis and the retry met the database's own refusal.
        let log = [
            entry("k", "a", 1, 201, Some("e1")),
            entry("k", "b", 1, 503, None),
            entry("k", "b", 2, 409, None),
        ];
        assert!(
            effects_once(&log, "k", &stored(&["e1", "e2"]))
                .violations
                .is_empty()
        );
    }

    #[test]
    fn an_unanswered_attempt_does_not_excuse_a_second_effect_beside_a_2xx() {
        // Key b's first attempt went unanswered, its retry made another effect and named it:
        // the database holds both, which is a double effect.
        let log = [
            entry("k", "b", 1, 0, None),
            entry("k", "b", 2, 201, Some("e1")),
        ];
        assert_eq!(
            effects_once(&log, "k", &stored(&["e1", "e2"]))
                .violations
                .len(),
            1
        );
    }

    #[test]
    fn a_500_and_a_bare_503_are_caught_but_outcome_unknown_is_not() {
        let mut bare = entry("k", "a", 1, 503, None);
        let mut unknown = entry("k", "b", 1, 503, None);
        unknown.code = Some("outcome_unknown".into());
        let mut hinted = entry("k", "c", 1, 503, None);
        hinted.retry_after = Some("1".into());
        let log = [entry("k", "d", 1, 500, None), bare.clone(), unknown, hinted];
        let verdicts = answers(&log);
        assert_eq!(verdicts[0].violations.len(), 1);
        assert_eq!(verdicts[1].violations.len(), 1);
        bare.retry_after = Some("1".into());
        assert!(answers(&[bare]).iter().all(|v| v.violations.is_empty()));
    }

    fn event(user: usize, join: bool, at: u64, active: bool, position: i64) -> QueueEvent {
        QueueEvent {
            user,
            concert: 0,
            token: format!("t{user}"),
            join,
            sent_ms: at,
            received_ms: at + 5,
            epoch_sent: 0,
            epoch_received: 0,
            active,
            position,
        }
    }

    #[test]
    fn admission_out_of_arrival_order_is_caught() {
        // 1 joins first, 2 later; 2 is active at 100 while 1 still waits at 110.
        let events = [
            event(1, true, 0, false, 1),
            event(2, true, 20, false, 2),
            event(2, false, 100, true, 0),
            event(1, false, 110, false, 1),
        ];
        assert_eq!(queue_order(&events).violations.len(), 1);
    }

    #[test]
    fn admission_in_order_passes_and_other_rooms_or_epochs_do_not_count() {
        let events = [
            event(1, true, 0, false, 1),
            event(2, true, 20, false, 2),
            event(1, false, 100, true, 0),
            event(2, false, 110, false, 1),
        ];
        assert!(queue_order(&events).violations.is_empty());
        let mut other_room = event(2, true, 20, false, 1);
        other_room.concert = 1;
        let mut after_a_stop = event(3, true, 30, false, 1);
        (after_a_stop.epoch_sent, after_a_stop.epoch_received) = (1, 1);
        let events = [
            event(1, true, 0, false, 1),
            other_room,
            event(2, false, 100, true, 0),
            after_a_stop,
            event(3, false, 100, true, 0),
            event(1, false, 110, false, 1),
        ];
        assert!(queue_order(&events).violations.is_empty());
    }

    #[test]
    fn a_waiting_place_that_moves_back_is_caught() {
        let events = [event(1, true, 0, false, 3), event(1, false, 50, false, 4)];
        assert_eq!(queue_order(&events).violations.len(), 1);
    }
}
