//! The virtual waiting room in front of each concert: who is waiting in what order, who is
//! active (may list seats, hold and pay), and what is left to sell.
//!
//! Two adapters: Redis (several instances share one room; every call is one atomic script) and
//! memory (one instance). Every call first applies what time has done — waiting users who
//! stopped polling lose their place, active users past their lifetime leave, holds past their
//! expiry give their seat back — and then admits waiting users in arrival order up to
//! [`reserva_domain::tickets::admissible`]. So admission needs no background job, and a room
//! nobody calls does no work.
//!
//! The room's inventory (seats on sale and not sold, live holds with their expiry) is a copy
//! of the store's, kept current by the tickets use cases and resynchronised by the sweeper. It
//! only decides whom to admit and what to tell waiting users; the store alone decides whether a
//! seat can be held or sold, so a stale copy can never oversell.

use crate::DependencyError;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reserva_domain::accounts::UserId;
use reserva_domain::tickets::{Availability, ConcertId, HoldId};
use std::time::Duration;
use thiserror::Error;
use uuid::Uuid;

/// A queue token: the concert's id, a dot, and a random part. It names its room, so a poll
/// needs nothing else.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct QueueToken(String);

impl QueueToken {
    /// A token for `concert` with the random part `secret` (at least 16 URL-safe characters).
    #[must_use]
    pub fn new(concert: ConcertId, secret: &str) -> Self {
        Self(format!("{concert}.{secret}"))
    }

    /// Reads a token a client sent; `None` if it is not shaped like one (the random part must be
    /// 16 to 64 characters of `A-Z a-z 0-9 - _`).
    #[must_use]
    pub fn parse(raw: &str) -> Option<Self> {
        let (concert, secret) = raw.split_once('.')?;
        Uuid::parse_str(concert).ok()?;
        let shaped = (16..=64).contains(&secret.len())
            && secret
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_');
        shaped.then(|| Self(raw.to_owned()))
    }

    /// The concert whose room this token is for.
    #[must_use]
    pub fn concert(&self) -> ConcertId {
        let concert = self.0.split_once('.').map_or("", |(concert, _)| concert);
        ConcertId::from_uuid(Uuid::parse_str(concert).unwrap_or_default())
    }

    /// The text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where a token stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlaceStatus {
    /// In line; `position` 1 is next.
    Waiting {
        /// 1-based place in line.
        position: u64,
    },
    /// Admitted until `until`.
    Active {
        /// When the active period ends.
        until: DateTime<Utc>,
    },
}

/// A user's place in a room, as of the call that returned it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuePlace {
    /// The token.
    pub token: QueueToken,
    /// Its owner.
    pub user_id: UserId,
    /// Waiting or active.
    pub status: PlaceStatus,
    /// Whether any seat is neither sold nor held.
    pub availability: Availability,
    /// Users admitted during the last [`RoomRules::rate_window`] (for the ETA).
    pub admitted_recently: u64,
}

/// The room's rules (from the tickets policy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoomRules {
    /// Users active at once.
    pub max_active: u32,
    /// Seekers admitted beyond the free seats.
    pub admission_margin: u32,
    /// How long an admitted user stays active at most.
    pub active_ttl: Duration,
    /// How long a waiting user keeps the place without polling.
    pub idle_timeout: Duration,
    /// Over how long the admission rate is measured.
    pub rate_window: Duration,
}

/// The store's inventory of one concert, as the room keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RoomInventory {
    /// Seats of performances on sale that are not sold (held or not).
    pub unsold_seats: u32,
    /// Live holds on those seats, with the instant each expires.
    pub holds: Vec<(HoldId, DateTime<Utc>)>,
}

/// Why a room call did not give a place.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RoomError {
    /// The room has no inventory yet: the caller loads it from the store
    /// ([`WaitingRoom::set_inventory`]) and calls again.
    #[error("the room has no inventory yet")]
    InventoryUnknown,
    /// The room was closed (nothing of the concert is on sale any more).
    #[error("the waiting room is closed")]
    Closed,
    /// Shared state failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

/// One waiting room per concert.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait WaitingRoom: Send + Sync {
    /// The user's place in the concert's room: the one they already have (the same token,
    /// counted as a poll), or a new one at the end of the line under `new_token`. Of concurrent
    /// joins, across instances, each gets a distinct position in the order the room received
    /// them; in an empty room with room to admit, the new user is active at once.
    ///
    /// # Errors
    /// MUST return `InventoryUnknown` before the first [`WaitingRoom::set_inventory`] of the
    /// concert (changing nothing), `Closed` after [`WaitingRoom::close`], `Dependency` when the
    /// shared state cannot be reached.
    async fn join(
        &self,
        concert: ConcertId,
        user: UserId,
        new_token: QueueToken,
        now: DateTime<Utc>,
        rules: RoomRules,
    ) -> Result<QueuePlace, RoomError>;

    /// The place of `token` if it belongs to `user` and is still waiting or active; polling
    /// keeps a waiting place. `None` for an unknown, lapsed, finished or someone else's token.
    ///
    /// # Errors
    /// `Closed` after [`WaitingRoom::close`]; `Dependency` when the shared state cannot be
    /// reached.
    async fn poll(
        &self,
        token: &QueueToken,
        user: UserId,
        now: DateTime<Utc>,
        rules: RoomRules,
    ) -> Result<Option<QueuePlace>, RoomError>;

    /// Ends the place of `token` (the user paid or left), letting the next in line in. Returns
    /// whether it existed and belonged to `user`.
    ///
    /// # Errors
    /// MUST return [`DependencyError::Unavailable`] when the shared state cannot be reached.
    async fn finish(
        &self,
        token: &QueueToken,
        user: UserId,
        now: DateTime<Utc>,
        rules: RoomRules,
    ) -> Result<bool, DependencyError>;

    /// Replaces the room's copy of the inventory and reopens a room that had none.
    ///
    /// # Errors
    /// MUST return [`DependencyError::Unavailable`] when the shared state cannot be reached.
    async fn set_inventory(
        &self,
        concert: ConcertId,
        inventory: &RoomInventory,
    ) -> Result<(), DependencyError>;

    /// A seat was held until `expires_at`.
    ///
    /// # Errors
    /// MUST return [`DependencyError::Unavailable`] when the shared state cannot be reached.
    async fn hold_recorded(
        &self,
        concert: ConcertId,
        hold: HoldId,
        expires_at: DateTime<Utc>,
    ) -> Result<(), DependencyError>;

    /// A hold ended without a sale (released); its seat is free again. Unknown holds are ignored.
    ///
    /// # Errors
    /// MUST return [`DependencyError::Unavailable`] when the shared state cannot be reached.
    async fn hold_released(&self, concert: ConcertId, hold: HoldId) -> Result<(), DependencyError>;

    /// A hold was paid: its seat is sold (one unsold seat fewer). Recording the same sale twice
    /// changes nothing the second time.
    ///
    /// # Errors
    /// MUST return [`DependencyError::Unavailable`] when the shared state cannot be reached.
    async fn sale_recorded(&self, concert: ConcertId, hold: HoldId) -> Result<(), DependencyError>;

    /// Closes the room: every place ends and later joins get `Closed`, until a
    /// [`WaitingRoom::set_inventory`] reopens it.
    ///
    /// # Errors
    /// MUST return [`DependencyError::Unavailable`] when the shared state cannot be reached.
    async fn close(&self, concert: ConcertId) -> Result<(), DependencyError>;
}
