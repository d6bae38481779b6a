//! The check every seat request makes first (A13): the caller sent a token, it is theirs and
//! still in its room, it is for the concert asked about, and it is active.

use super::Tickets;
use crate::accounts::Principal;
use crate::ports::waiting_room::{PlaceStatus, QueuePlace, QueueToken, RoomError};
use crate::{DependencyError, ErrorClass, UseCaseError};
use reserva_domain::tickets::ConcertId;
use thiserror::Error;

/// Why the caller's queue token does not let them through.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum QueueAccessError {
    /// No token was sent.
    #[error("a queue token is required")]
    TokenRequired,
    /// Malformed, unknown, lapsed, finished, or someone else's.
    #[error("the queue token is not valid")]
    TokenInvalid,
    /// Still waiting: not admitted yet.
    #[error("the queue token is not active yet")]
    NotActive,
    /// A token of another concert's room.
    #[error("the queue token is for another concert")]
    WrongConcert,
    /// A dependency failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

impl UseCaseError for QueueAccessError {
    fn class(&self) -> ErrorClass {
        match self {
            Self::TokenRequired | Self::TokenInvalid => ErrorClass::Unauthenticated,
            Self::NotActive | Self::WrongConcert => ErrorClass::Forbidden,
            Self::Dependency(error) => error.class(),
        }
    }
    fn code(&self) -> &'static str {
        match self {
            Self::TokenRequired => "queue_token_required",
            Self::TokenInvalid => "queue_token_invalid",
            Self::NotActive => "queue_token_not_active",
            Self::WrongConcert => "queue_token_wrong_concert",
            Self::Dependency(error) => error.code(),
        }
    }
}

/// Reads the token a client sent (no I/O).
pub(super) fn parse_token(raw: Option<&str>) -> Result<QueueToken, QueueAccessError> {
    let raw = raw.ok_or(QueueAccessError::TokenRequired)?;
    QueueToken::parse(raw).ok_or(QueueAccessError::TokenInvalid)
}
impl Tickets {
    /// Checks that `token` is the caller's active token for `concert`.
    pub(super) async fn require_active(
        &self,
        principal: &Principal,
        token: &QueueToken,
        concert: ConcertId,
    ) -> Result<QueuePlace, QueueAccessError> {
        let place = self.poll(principal, token).await?;
        if token.concert() != concert {
            return Err(QueueAccessError::WrongConcert);
        }
        match place.status {
            PlaceStatus::Active { .. } => Ok(place),
            PlaceStatus::Waiting { .. } => Err(QueueAccessError::NotActive),
        }
    }

    /// The token's place in its own room; `TokenInvalid` when it has none. A room that lost
    /// its inventory (it answers so only to a token it holds) is reloaded and asked once more.
    pub(super) async fn poll(
        &self,
        principal: &Principal,
        token: &QueueToken,
    ) -> Result<QueuePlace, QueueAccessError> {
        let now = self.now();
        let rules = self.room_rules();
        let room = &self.ports.room;
        let mut polled = room.poll(token, principal.user_id, now, rules).await;
        if polled == Err(RoomError::InventoryUnknown) {
            self.resync_room(token.concert(), now)
                .await
                .map_err(super::RoomSync::into_dependency)?;
            polled = room.poll(token, principal.user_id, now, rules).await;
        }
        match polled {
            Ok(Some(place)) => Ok(place),
            // A closed room ended every place.
            Ok(None) | Err(RoomError::Closed) => Err(QueueAccessError::TokenInvalid),
            Err(RoomError::InventoryUnknown) => Err(DependencyError::Failed(
                "the room lost its inventory just after it was set".into(),
            )
            .into()),
            Err(RoomError::Dependency(error)) => Err(error.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::tickets::ConcertInventory;
    use crate::tickets::test_support::{Fixture, active, concert_id, place, principal, token};
    use reserva_domain::accounts::Role;

    /// What `require_active` answers when the room answers `polled` for the token of
    /// `token_concert`, asked about `wanted`.
    async fn access(
        raw: Option<&str>,
        polled: Result<Option<PlaceStatus>, RoomError>,
        wanted: ConcertId,
    ) -> Result<(), QueueAccessError> {
        let member = principal(Role::Member);
        let mut fixture = Fixture::new();
        fixture
            .room
            .expect_poll()
            .returning(move |token, user, _, _| {
                polled
                    .clone()
                    .map(|status| status.map(|status| place(token.clone(), user, status)))
            });
        let tickets = fixture.tickets();
        let token = parse_token(raw)?;
        tickets
            .require_active(&member, &token, wanted)
            .await
            .map(|_| ())
    }

    #[tokio::test]
    async fn seat_requests_need_the_callers_active_token_for_that_concert() {
        let id = concert_id();
        let good = token(id);
        let other = token(concert_id());
        let waiting = PlaceStatus::Waiting { position: 3 };
        let cases = [
            (None, Ok(Some(active())), id, Err("queue_token_required")),
            (
                Some("not-a-token"),
                Ok(Some(active())),
                id,
                Err("queue_token_invalid"),
            ),
            (
                Some(good.as_str()),
                Ok(None),
                id,
                Err("queue_token_invalid"),
            ),
            (
                Some(good.as_str()),
                Err(RoomError::Closed),
                id,
                Err("queue_token_invalid"),
            ),
            (
                Some(good.as_str()),
                Ok(Some(waiting)),
                id,
                Err("queue_token_not_active"),
            ),
            (
                Some(other.as_str()),
                Ok(Some(active())),
                id,
                Err("queue_token_wrong_concert"),
            ),
            (Some(good.as_str()), Ok(Some(active())), id, Ok(())),
        ];
        for (raw, polled, wanted, expected) in cases {
            let result = access(raw, polled.clone(), wanted).await;
            assert_eq!(result.map_err(|e| e.code()), expected, "{raw:?} {polled:?}");
        }
        let down = access(
            Some(good.as_str()),
            Err(RoomError::Dependency(DependencyError::Unavailable(
                "redis".into(),
            ))),
            id,
        )
        .await
        .expect_err("down");
        assert_eq!(down.class(), ErrorClass::Unavailable);
        let classes = [
            (QueueAccessError::TokenRequired, ErrorClass::Unauthenticated),
            (QueueAccessError::TokenInvalid, ErrorClass::Unauthenticated),
            (QueueAccessError::NotActive, ErrorClass::Forbidden),
            (QueueAccessError::WrongConcert, ErrorClass::Forbidden),
        ];
        for (error, class) in classes {
            assert_eq!(error.class(), class);
        }
    }

    #[tokio::test]
    async fn a_poll_of_a_room_that_lost_its_inventory_reloads_it_and_polls_once_more() {
        let id = concert_id();
        let member = principal(Role::Member);
        let mine = token(id);
        let mut fixture = Fixture::new();
        let mut order = mockall::Sequence::new();
        fixture
            .room
            .expect_poll()
            .times(1)
            .in_sequence(&mut order)
            .returning(|_, _, _, _| Err(RoomError::InventoryUnknown));
        fixture
            .concerts
            .expect_inventory()
            .withf(move |concert, _| *concert == id)
            .times(1)
            .in_sequence(&mut order)
            .returning(|_, _| Ok(ConcertInventory::default()));
        fixture
            .room
            .expect_set_inventory()
            .times(1)
            .in_sequence(&mut order)
            .returning(|_, _| Ok(()));
        fixture
            .room
            .expect_poll()
            .times(1)
            .in_sequence(&mut order)
            .returning(|token, user, _, _| Ok(Some(place(token.clone(), user, active()))));
        let ticket = fixture
            .tickets()
            .queue_status(&member, Some(mine.as_str()))
            .await;
        assert_eq!(ticket.map(|t| t.eta_seconds), Ok(0));
    }
}
