//! `WaitingRoom` within one process: every room behind one mutex, each call applying what time
//! has done and admitting in arrival order under the domain's rule, as the Redis script does.
//! A room nobody has called for a few of its periods is dropped as a whole, as Redis expires
//! its keys; a dropped room answers `InventoryUnknown` and is reloaded.

mod room;

use crate::MemorySharedState;
use crate::expiring::{Expiring, guard};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reserva_application::DependencyError;
use reserva_application::ports::waiting_room::{
    QueuePlace, QueueToken, RoomError, RoomInventory, RoomRules, WaitingRoom,
};
use reserva_domain::accounts::UserId;
use reserva_domain::tickets::{ConcertId, HoldId};
use room::{Room, room_ttl};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The waiting room port's part of the state: the rooms by concert.
#[derive(Debug, Default)]
pub(crate) struct Rooms {
    by_concert: Mutex<Expiring<ConcertId, Room>>,
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
        rooms.note_write(|room| !room.lapsed(now));
        let room = rooms.entries.entry(concert).or_default();
        if room.lapsed(now) {
            *room = Room::default();
        }
        let answer = change(room);
        room.touch(ttl);
        Ok(answer)
    }

    /// Runs `change` on `concert`'s room if it has a live one; `None` otherwise, creating
    /// nothing: a poll with a made-up token must not make a room that lives for its TTL.
    fn with_existing_room<T>(
        &self,
        concert: ConcertId,
        ttl: Option<Duration>,
        change: impl FnOnce(&mut Room) -> T,
    ) -> Result<Option<T>, DependencyError> {
        let now = Instant::now();
        let mut rooms = guard(&self.state.rooms.by_concert, "waiting room")?;
        let Some(room) = rooms
            .entries
            .get_mut(&concert)
            .filter(|room| !room.lapsed(now))
        else {
            return Ok(None);
        };
        let answer = change(room);
        room.touch(ttl);
        Ok(Some(answer))
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
                    room.enter(user, new_token.as_str(), now);
                    new_token.as_str().to_owned()
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
        let answer = self.with_existing_room(token.concert(), Some(room_ttl(&rules)), |room| {
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
        })?;
        answer.unwrap_or(Ok(None))
    }

    async fn finish(
        &self,
        token: &QueueToken,
        user: UserId,
        now: DateTime<Utc>,
        rules: RoomRules,
    ) -> Result<bool, DependencyError> {
        let finished =
            self.with_existing_room(token.concert(), Some(room_ttl(&rules)), |room| {
                room.tidy(now, &rules);
                let finished = room.owned(token.as_str(), user) && room.remove(token.as_str());
                if room.known && !room.closed {
                    room.admit(now, &rules);
                }
                finished
            })?;
        Ok(finished.unwrap_or(false))
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
            room.empty();
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    #[tokio::test]
    async fn a_room_nobody_calls_is_dropped_and_asks_for_its_inventory_again() {
        let state = MemorySharedState::new();
        let concert = ConcertId::from_uuid(Uuid::now_v7());
        let rules = RoomRules {
            max_active: 1,
            admission_margin: 0,
            active_ttl: Duration::from_secs(600),
            idle_timeout: Duration::from_secs(120),
            rate_window: Duration::from_secs(60),
        };
        let inventory = RoomInventory {
            unsold_seats: 3,
            holds: Vec::new(),
        };
        state.set_inventory(concert, &inventory).await.unwrap();
        let user = UserId::from_uuid(Uuid::now_v7());
        let token = QueueToken::new(concert, &Uuid::new_v4().simple().to_string());
        let now = Utc::now();
        assert!(
            state
                .join(concert, user, token.clone(), now, rules)
                .await
                .is_ok()
        );
        if let Some(room) = state
            .state
            .rooms
            .by_concert
            .lock()
            .unwrap()
            .entries
            .get_mut(&concert)
        {
            room.lapse();
        }
        let again = state.join(concert, user, token, now, rules).await;
        assert_eq!(again, Err(RoomError::InventoryUnknown));
    }

    #[tokio::test]
    async fn polls_and_finishes_with_made_up_tokens_create_no_room() {
        let state = MemorySharedState::new();
        let rules = RoomRules {
            max_active: 1,
            admission_margin: 0,
            active_ttl: Duration::from_secs(600),
            idle_timeout: Duration::from_secs(120),
            rate_window: Duration::from_secs(60),
        };
        let user = UserId::from_uuid(Uuid::now_v7());
        for _ in 0..50 {
            let concert = ConcertId::from_uuid(Uuid::now_v7());
            let token = QueueToken::new(concert, &Uuid::new_v4().simple().to_string());
            assert_eq!(state.poll(&token, user, Utc::now(), rules).await, Ok(None));
            assert_eq!(
                state.finish(&token, user, Utc::now(), rules).await,
                Ok(false)
            );
        }
        let rooms = state.state.rooms.by_concert.lock().unwrap().entries.len();
        assert_eq!(rooms, 0);
    }
}
