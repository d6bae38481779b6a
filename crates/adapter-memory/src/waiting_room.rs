//! `WaitingRoom` within one process: every room behind one mutex, each call applying what time
//! has done and admitting in arrival order under the domain's rule, as the Redis script does.
//! A room nobody has called for a few of its periods is dropped as a whole, as Redis expires
//! its keys; a dropped room answers `InventoryUnknown` and is reloaded.

use crate::MemorySharedState;
use crate::expiring::{Expiring, guard};
use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use reserva_application::DependencyError;
use reserva_application::ports::waiting_room::{
    PlaceStatus, QueuePlace, QueueToken, RoomError, RoomInventory, RoomRules, WaitingRoom,
};
use reserva_domain::accounts::UserId;
use reserva_domain::tickets::{Availability, ConcertId, HoldId, RoomCounts, admissible};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a room outlives its last call when no call has brought its rules yet.
const UNRULED_TTL: Duration = Duration::from_secs(3600);
/// The shortest time a room outlives its last call.
const MIN_TTL: Duration = Duration::from_secs(60);

/// The waiting room port's part of the state: the rooms by concert.
#[derive(Debug, Default)]
pub(crate) struct Rooms {
    by_concert: Mutex<Expiring<ConcertId, Room>>,
}

/// One concert's room.
#[derive(Debug)]
struct Room {
    /// Arrivals so far: the next one's place in line.
    arrivals: u64,
    known: bool,
    closed: bool,
    unsold: u32,
    holds: HashMap<HoldId, DateTime<Utc>>,
    /// Holds recorded as sold, so a repeated record counts once.
    sold: HashSet<HoldId>,
    /// Waiting tokens by arrival.
    line: BTreeMap<u64, String>,
    /// Waiting places by last poll: (seen, arrival).
    polls: BTreeSet<(DateTime<Utc>, u64)>,
    /// Active places by the end of their period.
    ends: BTreeSet<(DateTime<Utc>, String)>,
    places: HashMap<String, Place>,
    users: HashMap<UserId, String>,
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
    fn free_seats(&self) -> u32 {
        let live = u32::try_from(self.holds.len()).unwrap_or(u32::MAX);
        self.unsold.saturating_sub(live)
    }

    fn remove(&mut self, token: &str) -> bool {
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
    fn tidy(&mut self, now: DateTime<Utc>, rules: &RoomRules) {
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
    fn admit(&mut self, now: DateTime<Utc>, rules: &RoomRules) {
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
    fn seen(&mut self, token: &str, now: DateTime<Utc>) {
        if let Some(place) = self.places.get_mut(token)
            && let State::Waiting { seen } = place.state
        {
            self.polls.remove(&(seen, place.arrival));
            self.polls.insert((now, place.arrival));
            place.state = State::Waiting { seen: now };
        }
    }

    fn owned(&self, token: &str, user: UserId) -> bool {
        self.places
            .get(token)
            .is_some_and(|place| place.user == user)
    }

    fn place(&self, token: &str, now: DateTime<Utc>, rules: &RoomRules) -> Option<QueuePlace> {
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

    /// Keeps the room for `ttl` after this call.
    fn touch(&mut self, ttl: Option<Duration>) {
        if let Some(ttl) = ttl {
            self.ttl = ttl;
        }
        self.expires_at = Instant::now() + self.ttl;
    }
}

/// How long a room outlives its last call: a few of its periods.
fn room_ttl(rules: &RoomRules) -> Duration {
    let periods = rules.active_ttl.saturating_add(rules.idle_timeout);
    periods
        .saturating_mul(3)
        .saturating_add(rules.rate_window)
        .max(MIN_TTL)
}

impl MemorySharedState {
    /// Runs `change` on `concert`'s room (a fresh one if there is none or it lapsed).
    fn with_room<T>(
        &self,
        concert: ConcertId,
        ttl: Option<Duration>,
        change: impl FnOnce(&mut Room) -> T,
    ) -> Result<T, DependencyError> {
        let now = Instant::now();
        let mut rooms = guard(&self.state.rooms.by_concert, "waiting room")?;
        rooms.note_write(|room| room.expires_at > now);
        let room = rooms.entries.entry(concert).or_default();
        if room.expires_at <= now {
            *room = Room::default();
        }
        let answer = change(room);
        room.touch(ttl);
        Ok(answer)
    }
}

#[async_trait]
impl WaitingRoom for MemorySharedState {
    async fn join(
        &self,
        concert: ConcertId,
        user: UserId,
        new_token: QueueToken,
        now: DateTime<Utc>,
        rules: RoomRules,
    ) -> Result<QueuePlace, RoomError> {
        self.with_room(concert, Some(room_ttl(&rules)), |room| {
            if room.closed {
                return Err(RoomError::Closed);
            }
            if !room.known {
                return Err(RoomError::InventoryUnknown);
            }
            room.tidy(now, &rules);
            let token = match room.users.get(&user) {
                Some(existing) if room.owned(existing, user) => existing.clone(),
                _ => {
                    room.arrivals += 1;
                    let token = new_token.as_str().to_owned();
                    room.line.insert(room.arrivals, token.clone());
                    room.places.insert(
                        token.clone(),
                        Place {
                            user,
                            arrival: room.arrivals,
                            state: State::Waiting { seen: now },
                        },
                    );
                    room.polls.insert((now, room.arrivals));
                    room.users.insert(user, token.clone());
                    token
                }
            };
            room.seen(&token, now);
            room.admit(now, &rules);
            room.place(&token, now, &rules).ok_or_else(|| {
                DependencyError::Failed("waiting room join gave no place".into()).into()
            })
        })?
    }

    async fn poll(
        &self,
        token: &QueueToken,
        user: UserId,
        now: DateTime<Utc>,
        rules: RoomRules,
    ) -> Result<Option<QueuePlace>, RoomError> {
        self.with_room(token.concert(), Some(room_ttl(&rules)), |room| {
            if room.closed {
                return Err(RoomError::Closed);
            }
            if !room.known {
                // Changing nothing: the caller loads the inventory and polls again.
                return if room.owned(token.as_str(), user) {
                    Err(RoomError::InventoryUnknown)
                } else {
                    Ok(None)
                };
            }
            room.tidy(now, &rules);
            if !room.owned(token.as_str(), user) {
                return Ok(None);
            }
            room.seen(token.as_str(), now);
            room.admit(now, &rules);
            Ok(room.place(token.as_str(), now, &rules))
        })?
    }

    async fn finish(
        &self,
        token: &QueueToken,
        user: UserId,
        now: DateTime<Utc>,
        rules: RoomRules,
    ) -> Result<bool, DependencyError> {
        self.with_room(token.concert(), Some(room_ttl(&rules)), |room| {
            room.tidy(now, &rules);
            let finished = room.owned(token.as_str(), user) && room.remove(token.as_str());
            if room.known && !room.closed {
                room.admit(now, &rules);
            }
            finished
        })
    }

    async fn set_inventory(
        &self,
        concert: ConcertId,
        inventory: &RoomInventory,
    ) -> Result<(), DependencyError> {
        self.with_room(concert, None, |room| {
            room.known = true;
            room.closed = false;
            room.unsold = inventory.unsold_seats;
            room.holds = inventory.holds.iter().copied().collect();
        })
    }

    async fn hold_recorded(
        &self,
        concert: ConcertId,
        hold: HoldId,
        expires_at: DateTime<Utc>,
    ) -> Result<(), DependencyError> {
        self.with_room(concert, None, |room| {
            if !room.sold.contains(&hold) {
                room.holds.insert(hold, expires_at);
            }
        })
    }

    async fn hold_released(&self, concert: ConcertId, hold: HoldId) -> Result<(), DependencyError> {
        self.with_room(concert, None, |room| {
            room.holds.remove(&hold);
        })
    }

    async fn sale_recorded(&self, concert: ConcertId, hold: HoldId) -> Result<(), DependencyError> {
        self.with_room(concert, None, |room| {
            if room.sold.insert(hold) {
                room.holds.remove(&hold);
                room.unsold = room.unsold.saturating_sub(1);
            }
        })
    }

    async fn close(&self, concert: ConcertId) -> Result<(), DependencyError> {
        self.with_room(concert, None, |room| {
            room.closed = true;
            room.line.clear();
            room.polls.clear();
            room.ends.clear();
            room.places.clear();
            room.users.clear();
            room.admitted.clear();
        })
    }
}
