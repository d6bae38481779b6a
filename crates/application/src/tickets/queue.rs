//! The waiting room: joining a concert's line, polling one's place, and the check every seat
//! request makes first (the caller's token is active for that concert, A13).

use super::Tickets;
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

    /// The token's place in its own room; `TokenInvalid` when it has none.
    async fn poll(
        &self,
        principal: &Principal,
        token: &QueueToken,
    ) -> Result<QueuePlace, QueueAccessError> {
        let polled = self
            .ports
            .room
            .poll(token, principal.user_id, self.now(), self.room_rules())
            .await;
        match polled {
            Ok(Some(place)) => Ok(place),
            // A room without inventory holds no places (only a join, after loading it, makes
            // one), and a closed room ended them all: either way the token is no good. Loading
            // an inventory here would let any made-up concert id create a room.
            Ok(None) | Err(RoomError::Closed | RoomError::InventoryUnknown) => {
                Err(QueueAccessError::TokenInvalid)
            }
            Err(RoomError::Dependency(error)) => Err(error.into()),
        }
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
