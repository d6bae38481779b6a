//! Contracts of `DistributedLock`, `RateLimiter`, `SessionRevocations` and `IdempotencyRecords`.

use crate::support::{session_id, tag, user_id};
use futures_util::future::join_all;
use reserva_application::ports::shared_state::{
    AccessMarks, ClaimToken, DistributedLock, IdempotencyClaim, IdempotencyRecords, LockToken,
    RateLimiter, RecordedResponse, SessionRevocations,
};
use std::time::Duration;

/// What a shared-state adapter is.
pub trait SharedState:
    DistributedLock + RateLimiter + SessionRevocations + IdempotencyRecords
{
}
impl<T: DistributedLock + RateLimiter + SessionRevocations + IdempotencyRecords + ?Sized>
    SharedState for T
{
}

const LONG: Duration = Duration::from_secs(30);
const SHORT: Duration = Duration::from_millis(300);

async fn acquire<S: SharedState>(state: &S, name: &str, ttl: Duration) -> Option<LockToken> {
    state
        .try_acquire(name, ttl)
        .await
        .unwrap_or_else(|error| panic!("try_acquire: {error}"))
}

/// A held lock cannot be taken again or released with a foreign token; its holder can release it.
pub async fn lock_is_exclusive_until_released_by_its_holder<S: SharedState>(state: &S) {
    let name = format!("lock-{}", tag());
    let Some(token) = acquire(state, &name, LONG).await else {
        panic!("free lock not acquired")
    };
    assert_eq!(acquire(state, &name, LONG).await, None);
    let foreign = LockToken::new("not-the-holder".into());
    assert_eq!(state.release(&name, &foreign).await, Ok(false));
    assert_eq!(acquire(state, &name, LONG).await, None);
    assert_eq!(state.release(&name, &token).await, Ok(true));
    assert_eq!(state.release(&name, &token).await, Ok(false));
    let again = acquire(state, &name, LONG).await;
    assert!(
        again.is_some_and(|new| new != token),
        "a new holder gets a new token"
    );
    let other = format!("lock-{}", tag());
    assert!(
        acquire(state, &other, LONG).await.is_some(),
        "locks are independent by name"
    );
}

/// After its TTL a lock is free again, and the old holder can no longer release the new one.
pub async fn lock_can_be_retaken_after_its_ttl<S: SharedState>(state: &S) {
    let name = format!("lock-{}", tag());
    let Some(old) = acquire(state, &name, SHORT).await else {
        panic!("free lock not acquired")
    };
    tokio::time::sleep(SHORT * 2).await;
    let Some(new) = acquire(state, &name, LONG).await else {
        panic!("expired lock not retaken")
    };
    assert_eq!(state.release(&name, &old).await, Ok(false));
    assert_eq!(acquire(state, &name, LONG).await, None);
    assert_eq!(state.release(&name, &new).await, Ok(true));
}

/// Twenty simultaneous attempts on a free lock: exactly one wins.
pub async fn concurrent_lock_attempts_let_exactly_one_in<S: SharedState>(state: &S) {
    let name = format!("lock-{}", tag());
    let results = join_all((0..20).map(|_| state.try_acquire(&name, LONG))).await;
    let winners = results
        .iter()
        .filter(|result| matches!(result, Ok(Some(_))))
        .count();
    assert_eq!(winners, 1, "{results:?}");
}

/// Hits are counted within a window; `peek` does not count; `reset` clears.
pub async fn rate_limiter_counts_hits_in_a_window<S: SharedState>(state: &S) {
    let key = format!("rate-{}", tag());
    let empty = state.peek(&key).await.map(|count| count.hits);
    assert_eq!(empty, Ok(0));
    for expected in 1..=3 {
        let count = state.hit(&key, LONG).await.map(|count| count.hits);
        assert_eq!(count, Ok(expected));
    }
    let Ok(count) = state.peek(&key).await else {
        panic!("peek failed")
    };
    assert_eq!(count.hits, 3);
    assert!(
        count.resets_in > Duration::ZERO && count.resets_in <= LONG,
        "{count:?}"
    );
    assert_eq!(state.reset(&key).await, Ok(()));
    assert_eq!(state.peek(&key).await.map(|count| count.hits), Ok(0));
}

/// Fifty simultaneous hits raise the count by exactly fifty.
pub async fn rate_limiter_counts_concurrent_hits_exactly<S: SharedState>(state: &S) {
    let key = format!("rate-{}", tag());
    let results = join_all((0..50).map(|_| state.hit(&key, LONG))).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let mut seen: Vec<u32> = results
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .map(|c| c.hits)
        .collect();
    seen.sort_unstable();
    assert_eq!(
        seen,
        (1..=50).collect::<Vec<u32>>(),
        "every hit sees a distinct count"
    );
    assert_eq!(state.peek(&key).await.map(|count| count.hits), Ok(50));
}

/// When the window ends the count starts again from zero.
pub async fn rate_limiter_window_expires<S: SharedState>(state: &S) {
    let key = format!("rate-{}", tag());
    assert_eq!(state.hit(&key, SHORT).await.map(|count| count.hits), Ok(1));
    tokio::time::sleep(SHORT * 2).await;
    assert_eq!(state.peek(&key).await.map(|count| count.hits), Ok(0));
    assert_eq!(state.hit(&key, SHORT).await.map(|count| count.hits), Ok(1));
}

/// A revoked session reads revoked until the given instant, then the mark lapses; a later mark
/// of the same session never shortens an earlier one.
pub async fn revoked_sessions_stay_revoked_until_the_given_instant<S: SharedState>(state: &S) {
    let (lasting, lapsing, untouched) = (session_id(), session_id(), session_id());
    let user = user_id();
    let revoked = async |session| {
        state
            .access_marks(session, user)
            .await
            .map(|marks| marks.session_revoked)
    };
    let now = chrono::Utc::now();
    assert_eq!(
        state
            .revoke(lasting, now + chrono::Duration::minutes(15))
            .await,
        Ok(())
    );
    assert_eq!(
        state
            .revoke(lapsing, now + chrono::Duration::milliseconds(300))
            .await,
        Ok(())
    );
    assert_eq!(
        state
            .revoke(lasting, now + chrono::Duration::milliseconds(300))
            .await,
        Ok(()),
        "a shorter second mark"
    );
    assert_eq!(revoked(lasting).await, Ok(true));
    assert_eq!(revoked(lapsing).await, Ok(true));
    assert_eq!(revoked(untouched).await, Ok(false));
    tokio::time::sleep(SHORT * 2).await;
    assert_eq!(revoked(lapsing).await, Ok(false));
    assert_eq!(revoked(lasting).await, Ok(true), "the longer mark is kept");
    let past = now - chrono::Duration::seconds(1);
    assert_eq!(state.revoke(untouched, past).await, Ok(()));
    assert_eq!(
        revoked(untouched).await,
        Ok(false),
        "a mark in the past is no mark"
    );
    assert_eq!(
        state.access_marks(lasting, user).await,
        Ok(AccessMarks {
            session_revoked: true,
            user_changed: false
        }),
        "a session mark says nothing of its user"
    );
}

/// A changed user reads changed until the given instant, independently of any session; a later
/// mark never shortens an earlier one.
pub async fn changed_users_stay_marked_until_the_given_instant<S: SharedState>(state: &S) {
    let (lasting, lapsing, untouched) = (user_id(), user_id(), user_id());
    let session = session_id();
    let changed = async |user| {
        state
            .access_marks(session, user)
            .await
            .map(|marks| marks.user_changed)
    };
    let now = chrono::Utc::now();
    let long = now + chrono::Duration::minutes(30);
    let short = now + chrono::Duration::milliseconds(300);
    assert_eq!(state.mark_user_changed(lasting, long).await, Ok(()));
    assert_eq!(state.mark_user_changed(lasting, short).await, Ok(()));
    assert_eq!(state.mark_user_changed(lapsing, short).await, Ok(()));
    assert_eq!(
        state
            .mark_user_changed(untouched, now - chrono::Duration::seconds(1))
            .await,
        Ok(()),
        "a mark in the past"
    );
    assert_eq!(changed(lasting).await, Ok(true));
    assert_eq!(changed(lapsing).await, Ok(true));
    assert_eq!(changed(untouched).await, Ok(false));
    tokio::time::sleep(SHORT * 2).await;
    assert_eq!(changed(lapsing).await, Ok(false));
    assert_eq!(changed(lasting).await, Ok(true), "the longer mark is kept");
    assert_eq!(
        state.access_marks(session, lasting).await,
        Ok(AccessMarks {
            session_revoked: false,
            user_changed: true
        }),
        "a user mark says nothing of a session"
    );
}

fn response(body: &str) -> RecordedResponse {
    RecordedResponse {
        status: 201,
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("location".into(), "/api/v1/things/1".into()),
        ],
        body: body.into(),
    }
}

async fn claimed<S: SharedState>(state: &S, key: &str, fingerprint: &str) -> ClaimToken {
    match state.claim(key, fingerprint, LONG).await {
        Ok(IdempotencyClaim::Claimed(token)) => token,
        other => panic!("expected a claim of {key}, got {other:?}"),
    }
}

/// A key's first request owns it; the same request again is in flight, another request is a
/// mismatch; once completed, the same request replays the response, byte for byte.
pub async fn idempotency_key_is_claimed_then_replayed<S: SharedState>(state: &S) {
    let key = format!("idem-{}", tag());
    let body = r#"{"id":"1","note":"ünïcode \"quoted\""}"#;
    let token = claimed(state, &key, "POST /things {a}").await;
    assert_eq!(
        state.claim(&key, "POST /things {a}", LONG).await,
        Ok(IdempotencyClaim::InFlight)
    );
    assert_eq!(
        state.claim(&key, "POST /things {b}", LONG).await,
        Ok(IdempotencyClaim::Mismatch)
    );
    assert_eq!(
        state
            .complete(&key, &token, &response(body), Duration::from_secs(3600))
            .await,
        Ok(true)
    );
    assert_eq!(
        state.claim(&key, "POST /things {a}", LONG).await,
        Ok(IdempotencyClaim::Replay(response(body)))
    );
    assert_eq!(
        state.claim(&key, "POST /things {b}", LONG).await,
        Ok(IdempotencyClaim::Mismatch)
    );
    assert_eq!(
        state.abandon(&key, &token).await,
        Ok(()),
        "abandoning a completed key"
    );
    assert_eq!(
        state.claim(&key, "POST /things {a}", LONG).await,
        Ok(IdempotencyClaim::Replay(response(body))),
        "a completed key cannot be abandoned"
    );
}

/// An abandoned key is free again; a foreign token neither abandons nor completes a claim.
pub async fn idempotency_key_can_be_abandoned_only_by_its_owner<S: SharedState>(state: &S) {
    let key = format!("idem-{}", tag());
    let token = claimed(state, &key, "fp").await;
    let other = format!("idem-{}", tag());
    let foreign = claimed(state, &other, "fp").await;
    assert_eq!(state.abandon(&key, &foreign).await, Ok(()));
    assert_eq!(
        state.complete(&key, &foreign, &response("{}"), LONG).await,
        Ok(false)
    );
    assert_eq!(state.renew(&key, &foreign, LONG).await, Ok(false));
    assert_eq!(
        state.claim(&key, "fp", LONG).await,
        Ok(IdempotencyClaim::InFlight),
        "a foreign token changes nothing"
    );
    assert_eq!(state.abandon(&key, &token).await, Ok(()));
    let again = claimed(state, &key, "another fp").await;
    assert_ne!(again, token);
}

/// A renewed claim outlives its first lapse time; once completed it can no longer be renewed.
pub async fn a_renewed_idempotency_claim_stays_in_flight<S: SharedState>(state: &S) {
    let key = format!("idem-{}", tag());
    let Ok(IdempotencyClaim::Claimed(token)) = state.claim(&key, "fp", SHORT).await else {
        panic!("free key not claimed")
    };
    // Renewed every quarter of its life (a slow round trip on a loaded machine still leaves
    // room), for one and a half lives.
    for _ in 0..6 {
        tokio::time::sleep(SHORT / 4).await;
        assert_eq!(state.renew(&key, &token, SHORT).await, Ok(true));
    }
    assert_eq!(
        state.claim(&key, "fp", LONG).await,
        Ok(IdempotencyClaim::InFlight),
        "renewed past its first lapse time (1.5 x SHORT)"
    );
    assert_eq!(
        state.complete(&key, &token, &response("{}"), LONG).await,
        Ok(true)
    );
    assert_eq!(
        state.renew(&key, &token, SHORT).await,
        Ok(false),
        "a completed key is no longer in flight"
    );
    tokio::time::sleep(SHORT * 2).await;
    assert!(
        matches!(
            state.claim(&key, "fp", LONG).await,
            Ok(IdempotencyClaim::Replay(_))
        ),
        "renewing a completed key did not shorten its replay"
    );
}

/// Of many simultaneous claims of one free key, exactly one owns it.
pub async fn concurrent_idempotency_claims_let_exactly_one_in<S: SharedState>(state: &S) {
    let key = format!("idem-{}", tag());
    let outcomes = join_all((0..20).map(|_| state.claim(&key, "fp", LONG))).await;
    let owners = outcomes
        .iter()
        .filter(|outcome| matches!(outcome, Ok(IdempotencyClaim::Claimed(_))))
        .count();
    let in_flight = outcomes
        .iter()
        .filter(|outcome| matches!(outcome, Ok(IdempotencyClaim::InFlight)))
        .count();
    assert_eq!((owners, in_flight), (1, 19), "{outcomes:?}");
}

/// A claim nobody completes lapses (a crashed instance); its late owner then changes nothing.
/// A replay lapses after its keep time.
pub async fn idempotency_claims_and_replays_lapse<S: SharedState>(state: &S) {
    let key = format!("idem-{}", tag());
    let Ok(IdempotencyClaim::Claimed(stale)) = state.claim(&key, "fp", SHORT).await else {
        panic!("free key not claimed")
    };
    tokio::time::sleep(SHORT * 2).await;
    let fresh = claimed(state, &key, "fp").await;
    assert_eq!(
        state.complete(&key, &stale, &response("{}"), LONG).await,
        Ok(false)
    );
    assert_eq!(state.renew(&key, &stale, LONG).await, Ok(false));
    assert_eq!(
        state.claim(&key, "fp", LONG).await,
        Ok(IdempotencyClaim::InFlight),
        "the stale owner could not complete"
    );
    assert_eq!(
        state.complete(&key, &fresh, &response("{}"), SHORT).await,
        Ok(true)
    );
    assert!(matches!(
        state.claim(&key, "fp", LONG).await,
        Ok(IdempotencyClaim::Replay(_))
    ));
    tokio::time::sleep(SHORT * 2).await;
    assert!(matches!(
        state.claim(&key, "other fp", LONG).await,
        Ok(IdempotencyClaim::Claimed(_))
    ));
}
