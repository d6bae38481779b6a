//! The reservation entity.

use super::{Headcount, HourRange, ReservationStatus};
use crate::accounts::UserId;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Identifies a reservation (UUID v7, time-ordered).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReservationId(Uuid);

impl ReservationId {
    /// Wraps a UUID.
    #[must_use]
    pub const fn from_uuid(id: Uuid) -> Self {
        Self(id)
    }

    /// The UUID.
    #[must_use]
    pub const fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl std::fmt::Display for ReservationId {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(formatter)
    }
}

/// A request for `headcount` examinees over whole hours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reservation {
    /// Identity.
    pub id: ReservationId,
    /// Who made it.
    pub user_id: UserId,
    /// `[starts_at, ends_at)`.
    pub range: HourRange,
    /// Examinees.
    pub headcount: Headcount,
    /// Life-cycle state.
    pub status: ReservationStatus,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
    /// When an admin confirmed it.
    pub confirmed_at: Option<DateTime<Utc>>,
    /// When it was cancelled.
    pub cancelled_at: Option<DateTime<Utc>>,
}
