//! One concert's room as plain data: its line in arrival order, its active places, its copy
//! of the inventory and its admission log, with what time does to them and the admission rule.

use chrono::{DateTime, TimeDelta, Utc};
use reserva_application::ports::waiting_room::{PlaceStatus, QueuePlace, QueueToken, RoomRules};
use reserva_domain::accounts::UserId;
use reserva_domain::tickets::{Availability, HoldId, RoomCounts, admissible};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

/// How long a room outlives its last call when no call has brought its rules yet.
const UNRULED_TTL: Duration = Duration::from_secs(3600);
/// The shortest time a room outlives its last call.
const MIN_TTL: Duration = Duration::from_secs(60);

/// One concert's room.
#[derive(Debug)]
pub(super) struct Room {
    /// Arrivals so far: the next one's place in line.
    arrivals: u64,
    pub(super) known: bool,
    pub(super) closed: bool,
    pub(super) unsold: u32,
    pub(super) holds: HashMap<HoldId, DateTime<Utc>>,
    /// Holds recorded as sold, so a repeated record counts once.
    pub(super) sold: HashSet<HoldId>,
    /// Waiting tokens by arrival.
    line: BTreeMap<u64, String>,
    /// Waiting places by last poll: (seen, arrival).
    polls: BTreeSet<(DateTime<Utc>, u64)>,
    /// Active places by the end of their period.
    ends: BTreeSet<(DateTime<Utc>, String)>,
    places: HashMap<String, Place>,
    pub(super) users: HashMap<UserId, String>,
    /// When each admission of the current rate window happened, oldest first.
    admitted: VecDeque<DateTime<Utc>>,
    /// How long the room outlives its last call, and when that is.
    ttl: Duration,
    expires_at: Instant,
}

impl Default for Room {
    fn default() -> Self {
        Self {
            arrivals: 0,
            known: false,
            closed: false,
            unsold: 0,
            holds: HashMap::new(),
            sold: HashSet::new(),
            line: BTreeMap::new(),
            polls: BTreeSet::new(),
            ends: BTreeSet::new(),
            places: HashMap::new(),
            users: HashMap::new(),
            admitted: VecDeque::new(),
            ttl: UNRULED_TTL,
            expires_at: Instant::now() + UNRULED_TTL,
        }
    }
}

#[derive(Debug)]
struct Place {
    user: UserId,
    arrival: u64,
    state: State,
}

#[derive(Debug, Clone, Copy)]
enum State {
    Waiting { seen: DateTime<Utc> },
    Active { until: DateTime<Utc> },
}

fn shift(now: DateTime<Utc>, by: Duration, later: bool) -> DateTime<Utc> {
    let delta = TimeDelta::from_std(by).unwrap_or(TimeDelta::MAX);
    let moved = if later {
        now.checked_add_signed(delta)
    } else {
        now.checked_sub_signed(delta)
    };
    moved.unwrap_or(if later {
        DateTime::<Utc>::MAX_UTC
    } else {
        DateTime::<Utc>::MIN_UTC
    })
}

fn count(items: usize) -> u64 {
    u64::try_from(items).unwrap_or(u64::MAX)
}

impl Room {
    pub(super) fn free_seats(&self) -> u32 {
        let live = u32::try_from(self.holds.len()).unwrap_or(u32::MAX);
        self.unsold.saturating_sub(live)
    }

    pub(super) fn remove(&mut self, token: &str) -> bool {
        let Some(place) = self.places.remove(token) else {
            return false;
        };
        match place.state {
            State::Waiting { seen } => {
                self.line.remove(&place.arrival);
                self.polls.remove(&(seen, place.arrival));
            }
            State::Active { until } => {
                self.ends.remove(&(until, token.to_owned()));
            }
        }
        if self
            .users
            .get(&place.user)
            .is_some_and(|mine| mine == token)
        {
            self.users.remove(&place.user);
        }
        true
    }

    /// What time has done: idle waiting users, ended active periods, expired holds, old
    /// admissions.
    pub(super) fn tidy(&mut self, now: DateTime<Utc>, rules: &RoomRules) {
        let idle_since = shift(now, rules.idle_timeout, false);
        while let Some(&(seen, arrival)) = self.polls.first()
            && seen <= idle_since
        {
            self.polls.remove(&(seen, arrival));
            if let Some(token) = self.line.get(&arrival).cloned() {
                self.remove(&token);
            }
        }
        while let Some((until, token)) = self.ends.first().cloned()
            && until <= now
        {
            self.remove(&token);
        }
        self.holds.retain(|_, expires_at| *expires_at > now);
        let window_start = shift(now, rules.rate_window, false);
        while self.admitted.front().is_some_and(|at| *at <= window_start) {
            self.admitted.pop_front();
        }
    }

    /// Admits waiting users in arrival order as far as the domain's rule allows.
    pub(super) fn admit(&mut self, now: DateTime<Utc>, rules: &RoomRules) {
        let counts = RoomCounts {
            active: u32::try_from(self.ends.len()).unwrap_or(u32::MAX),
            free_seats: self.free_seats(),
            live_holds: u32::try_from(self.holds.len()).unwrap_or(u32::MAX),
        };
        let until = shift(now, rules.active_ttl, true);
        for _ in 0..admissible(counts, rules.max_active, rules.admission_margin) {
            let Some((_, token)) = self.line.pop_first() else {
                break;
            };
            if let Some(place) = self.places.get_mut(&token) {
                if let State::Waiting { seen } = place.state {
                    self.polls.remove(&(seen, place.arrival));
                }
                place.state = State::Active { until };
                self.ends.insert((until, token));
                self.admitted.push_back(now);
            }
        }
    }

    /// A join or poll keeps a waiting place.
    pub(super) fn seen(&mut self, token: &str, now: DateTime<Utc>) {
        if let Some(place) = self.places.get_mut(token)
            && let State::Waiting { seen } = place.state
        {
            self.polls.remove(&(seen, place.arrival));
            self.polls.insert((now, place.arrival));
            place.state = State::Waiting { seen: now };
        }
    }

    pub(super) fn owned(&self, token: &str, user: UserId) -> bool {
        self.places
            .get(token)
            .is_some_and(|place| place.user == user)
    }

    pub(super) fn place(
        &self,
        token: &str,
        now: DateTime<Utc>,
        rules: &RoomRules,
    ) -> Option<QueuePlace> {
        let place = self.places.get(token)?;
        let status = match place.state {
            State::Active { until } => PlaceStatus::Active { until },
            State::Waiting { .. } => PlaceStatus::Waiting {
                position: count(self.line.range(..place.arrival).count()) + 1,
            },
        };
        let window_start = shift(now, rules.rate_window, false);
        Some(QueuePlace {
            token: QueueToken::parse(token)?,
            user_id: place.user,
            status,
            availability: Availability::of(self.free_seats()),
            admitted_recently: count(
                self.admitted
                    .iter()
                    .filter(|at| **at > window_start)
                    .count(),
            ),
        })
    }

    /// Puts a new arrival at the end of the line.
    pub(super) fn enter(&mut self, user: UserId, token: &str, now: DateTime<Utc>) {
        self.arrivals += 1;
        self.line.insert(self.arrivals, token.to_owned());
        self.places.insert(
            token.to_owned(),
            Place {
                user,
                arrival: self.arrivals,
                state: State::Waiting { seen: now },
            },
        );
        self.polls.insert((now, self.arrivals));
        self.users.insert(user, token.to_owned());
    }

    /// Ends every place (the room closed).
    pub(super) fn empty(&mut self) {
        self.line.clear();
        self.polls.clear();
        self.ends.clear();
        self.places.clear();
        self.users.clear();
        self.admitted.clear();
    }

    /// Whether the room has outlived its last call by its time-to-live at `at`.
    pub(super) fn lapsed(&self, at: Instant) -> bool {
        self.expires_at <= at
    }

    /// As if the room had not been called for its whole time-to-live.
    #[cfg(test)]
    pub(super) fn lapse(&mut self) {
        self.expires_at = Instant::now();
    }

    /// Keeps the room for `ttl` after this call.
    pub(super) fn touch(&mut self, ttl: Option<Duration>) {
        if let Some(ttl) = ttl {
            self.ttl = ttl;
        }
        self.expires_at = Instant::now() + self.ttl;
    }
}

/// How long a room outlives its last call: a few of its periods.
pub(super) fn room_ttl(rules: &RoomRules) -> Duration {
    let periods = rules.active_ttl.saturating_add(rules.idle_timeout);
    periods
        .saturating_mul(3)
        .saturating_add(rules.rate_window)
        .max(MIN_TTL)
}
