//! The waiting room: joining a concert's line and polling one's place.

use super::Tickets;
use super::access::{QueueAccessError, parse_token};
use crate::accounts::Principal;
use crate::ports::waiting_room::{PlaceStatus, QueuePlace, QueueToken, RoomError};
use crate::{DependencyError, ErrorClass, UseCaseError};
use reserva_domain::tickets::{ConcertId, eta_seconds};
use thiserror::Error;

/// A place in a room, as answered to its user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueTicket {
    /// The place.
    pub place: QueuePlace,
    /// Whether this call made it (a first join) rather than finding it.
    pub created: bool,
    /// Expected wait in seconds; 0 when active.
    pub eta_seconds: u64,
}

/// Why joining a concert's line failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum JoinQueueError {
    /// No such concert.
    #[error("concert not found")]
    NotFound,
    /// Nothing of the concert is on sale (every performance cancelled or started).
    #[error("the concert is not on sale")]
    NotOnSale,
    /// A dependency failed (the store, or the shared state holding the room).
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

impl UseCaseError for JoinQueueError {
    fn class(&self) -> ErrorClass {
        match self {
            Self::NotFound => ErrorClass::NotFound,
            Self::NotOnSale => ErrorClass::Conflict,
            Self::Dependency(error) => error.class(),
        }
    }
    fn code(&self) -> &'static str {
        match self {
            Self::NotFound => "not_found",
            Self::NotOnSale => "not_on_sale",
            Self::Dependency(error) => error.code(),
        }
    }
}
impl Tickets {
    /// The caller's place in the concert's line: the one they have (same token), or a new one at
    /// its end. An empty room with room to admit makes them active at once.
    ///
    /// # Errors
    /// `NotFound`, `NotOnSale` (also for a closed room), `Dependency`.
    #[tracing::instrument(skip_all, fields(user_id = %principal.user_id, concert_id = %concert))]
    pub async fn join_queue(
        &self,
        principal: &Principal,
        concert: ConcertId,
    ) -> Result<QueueTicket, JoinQueueError> {
        let now = self.now();
        // The store says whether the concert exists and sells anything; the room's copy may lag.
        let stored = self
            .ports
            .concerts
            .find_concert(concert)
            .await?
            .ok_or(JoinQueueError::NotFound)?;
        if !stored.performances.iter().any(|p| p.is_on_sale(now)) {
            return Err(JoinQueueError::NotOnSale);
        }
        let secret = uuid::Uuid::new_v4().simple().to_string();
        let new_token = QueueToken::new(concert, &secret);
        let rules = self.room_rules();
        let room = &self.ports.room;
        let mut result = room
            .join(concert, principal.user_id, new_token.clone(), now, rules)
            .await;
        if result == Err(RoomError::InventoryUnknown) {
            // First call since the room's state was made or lost: load it, then join once more.
            self.resync_room(concert, now)
                .await
                .map_err(super::RoomSync::into_dependency)?;
            result = room
                .join(concert, principal.user_id, new_token.clone(), now, rules)
                .await;
        }
        let place = result.map_err(|error| match error {
            RoomError::Closed => JoinQueueError::NotOnSale,
            RoomError::InventoryUnknown => {
                DependencyError::Failed("the room lost its inventory just after it was set".into())
                    .into()
            }
            RoomError::Dependency(error) => error.into(),
        })?;
        let created = place.token == new_token;
        Ok(self.ticket(place, created))
    }

    /// The place of the caller's token; polling keeps a waiting place.
    ///
    /// # Errors
    /// `TokenRequired`, `TokenInvalid` (malformed, unknown, lapsed, finished, someone else's,
    /// or its room closed), `Dependency`.
    pub async fn queue_status(
        &self,
        principal: &Principal,
        token: Option<&str>,
    ) -> Result<QueueTicket, QueueAccessError> {
        let token = parse_token(token)?;
        let place = self.poll(principal, &token).await?;
        Ok(self.ticket(place, false))
    }
    fn ticket(&self, place: QueuePlace, created: bool) -> QueueTicket {
        let eta_seconds = match place.status {
            PlaceStatus::Active { .. } => 0,
            PlaceStatus::Waiting { position } => eta_seconds(
                position,
                place.admitted_recently,
                self.rate_window,
                self.policy.max_active,
                self.policy.active_ttl,
            ),
        };
        QueueTicket {
            place,
            created,
            eta_seconds,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::tickets::ConcertInventory;
    use crate::tickets::test_support::{
        Fixture, active, concert, concert_id, now, place, principal, token,
    };
    use reserva_domain::accounts::Role;
    use reserva_domain::tickets::HoldId;

    fn finding(fixture: &mut Fixture, id: ConcertId) {
        fixture
            .concerts
            .expect_find_concert()
            .returning(move |_| Ok(Some(concert(id))));
    }

    #[tokio::test]
    async fn a_first_join_makes_a_new_token_with_an_eta_and_a_repeat_finds_it() {
        let id = concert_id();
        let member = principal(Role::Member);
        let mut fixture = Fixture::new();
        finding(&mut fixture, id);
        fixture
            .room
            .expect_join()
            .withf(move |concert, user, new_token, _, rules| {
                *concert == id
                    && *user == member.user_id
                    && new_token.concert() == id
                    && new_token.as_str().len() == 36 + 1 + 32
                    && rules.max_active == 100
            })
            .returning(|_, user, new_token, _, _| {
                let mut waiting = place(new_token, user, PlaceStatus::Waiting { position: 15 });
                waiting.admitted_recently = 30;
                Ok(waiting)
            });
        let ticket = fixture
            .tickets()
            .join_queue(&member, id)
            .await
            .expect("joined");
        // 30 admitted per minute: 2 s each.
        assert_eq!((ticket.created, ticket.eta_seconds), (true, 30));

        let mut fixture = Fixture::new();
        finding(&mut fixture, id);
        let existing = token(id);
        fixture
            .room
            .expect_join()
            .returning(move |_, user, _, _, _| Ok(place(existing.clone(), user, active())));
        let ticket = fixture
            .tickets()
            .join_queue(&member, id)
            .await
            .expect("joined");
        assert_eq!((ticket.created, ticket.eta_seconds), (false, 0));
    }

    #[tokio::test]
    async fn an_unknown_inventory_is_loaded_set_and_the_join_retried_once() {
        let id = concert_id();
        let hold = (HoldId::from_uuid(uuid::Uuid::now_v7()), now());
        let mut fixture = Fixture::new();
        finding(&mut fixture, id);
        let mut order = mockall::Sequence::new();
        fixture
            .room
            .expect_join()
            .times(1)
            .in_sequence(&mut order)
            .returning(|_, _, _, _, _| Err(RoomError::InventoryUnknown));
        fixture
            .concerts
            .expect_inventory()
            .times(1)
            .in_sequence(&mut order)
            .returning(move |_, _| {
                Ok(ConcertInventory {
                    unsold_seats: 42,
                    holds: vec![hold],
                })
            });
        fixture
            .room
            .expect_set_inventory()
            .withf(move |concert, inventory| {
                *concert == id && inventory.unsold_seats == 42 && inventory.holds == vec![hold]
            })
            .times(1)
            .in_sequence(&mut order)
            .returning(|_, _| Ok(()));
        fixture
            .room
            .expect_join()
            .times(1)
            .in_sequence(&mut order)
            .returning(|_, user, new_token, _, _| Ok(place(new_token, user, active())));
        let ticket = fixture
            .tickets()
            .join_queue(&principal(Role::Member), id)
            .await;
        assert_eq!(ticket.map(|t| t.created), Ok(true));

        // Unknown again right after setting it: not retried a second time.
        let mut fixture = Fixture::new();
        finding(&mut fixture, id);
        fixture
            .room
            .expect_join()
            .times(2)
            .returning(|_, _, _, _, _| Err(RoomError::InventoryUnknown));
        fixture
            .concerts
            .expect_inventory()
            .returning(|_, _| Ok(ConcertInventory::default()));
        fixture.room.expect_set_inventory().returning(|_, _| Ok(()));
        let error = fixture
            .tickets()
            .join_queue(&principal(Role::Member), id)
            .await
            .expect_err("gave up");
        assert_eq!(error.class(), ErrorClass::Internal);
    }

    #[tokio::test]
    async fn unknown_concerts_nothing_on_sale_and_closed_rooms_refuse_the_join() {
        let member = principal(Role::Member);
        let mut fixture = Fixture::new();
        fixture
            .concerts
            .expect_find_concert()
            .returning(|_| Ok(None));
        fixture.room.expect_join().never();
        let error = fixture.tickets().join_queue(&member, concert_id()).await;
        assert_eq!(error.map_err(|e| e.code()), Err("not_found"));

        let id = concert_id();
        let mut fixture = Fixture::new();
        fixture.concerts.expect_find_concert().returning(move |_| {
            let mut past = concert(id);
            past.performances[0].starts_at = now();
            let mut cancelled = past.performances[0].clone();
            cancelled.starts_at = now() + chrono::Duration::days(3);
            cancelled.cancelled_at = Some(now());
            past.performances.push(cancelled);
            Ok(Some(past))
        });
        fixture.room.expect_join().never();
        let error = fixture
            .tickets()
            .join_queue(&member, id)
            .await
            .expect_err("refused");
        assert_eq!(
            (error.class(), error.code()),
            (ErrorClass::Conflict, "not_on_sale")
        );

        let mut fixture = Fixture::new();
        finding(&mut fixture, id);
        fixture
            .room
            .expect_join()
            .returning(|_, _, _, _, _| Err(RoomError::Closed));
        let error = fixture.tickets().join_queue(&member, id).await;
        assert_eq!(error.map_err(|e| e.code()), Err("not_on_sale"));
    }
    #[tokio::test]
    async fn polling_shows_a_waiting_place_with_its_eta() {
        let id = concert_id();
        let member = principal(Role::Member);
        let mine = token(id);
        let mut fixture = Fixture::new();
        fixture
            .room
            .expect_poll()
            .withf(move |_, user, _, _| *user == member.user_id)
            .returning(|token, user, _, _| {
                Ok(Some(place(
                    token.clone(),
                    user,
                    PlaceStatus::Waiting { position: 10 },
                )))
            });
        let ticket = fixture
            .tickets()
            .queue_status(&member, Some(mine.as_str()))
            .await
            .expect("polled");
        // No admissions measured yet: 100 places turning over every 600 s.
        assert_eq!((ticket.created, ticket.eta_seconds), (false, 60));
        let missing = Fixture::new().tickets().queue_status(&member, None).await;
        assert_eq!(missing.map_err(|e| e.code()), Err("queue_token_required"));
    }
}
