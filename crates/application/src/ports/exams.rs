//! Storage of exam slots (per-hour confirmed counts) and reservations.
//!
//! Capacity is guarded here, in the store: confirming adds a headcount to every covered hour or to
//! none, under row locks or a single writer, so no interleaving of requests can oversell an hour.

use crate::DependencyError;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reserva_domain::accounts::UserId;
use reserva_domain::exams::{
    CapacityError, Headcount, HourRange, Reservation, ReservationId, ReservationStatus,
};
use reserva_domain::paging::PageLimit;
use thiserror::Error;

pub use reserva_domain::exams::Slot;

/// Hourly slots.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait ExamSlotRepository: Send + Sync {
    /// Creates a slot of `capacity` for every hour in `hours` that has none. Existing slots and
    /// their counts are never changed. Safe to run concurrently from several instances.
    /// Returns how many slots were created.
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    async fn ensure_slots(
        &self,
        hours: &[DateTime<Utc>],
        capacity: u32,
    ) -> Result<u64, DependencyError>;

    /// Slots starting in `[from, to)`, in order.
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    async fn slots_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Slot>, DependencyError>;
}

/// A reservation to store (always pending).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReservation {
    /// Pre-generated id.
    pub id: ReservationId,
    /// Owner.
    pub user_id: UserId,
    /// Hours.
    pub range: HourRange,
    /// People.
    pub headcount: Headcount,
    /// Creation instant.
    pub now: DateTime<Utc>,
}

/// Why a reservation could not be changed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ReservationWriteError {
    /// No reservation with this id.
    #[error("reservation not found")]
    NotFound,
    /// Its status is no longer the one the change was decided on (someone else acted first).
    #[error("reservation is now {current}")]
    StatusChanged {
        /// The status found.
        current: ReservationStatus,
    },
    /// Confirmed people plus the headcount would pass this hour's capacity.
    #[error("capacity exceeded at {hour}")]
    CapacityExceeded {
        /// The first hour without room.
        hour: DateTime<Utc>,
    },
    /// A covered hour has no slot (outside the generated horizon).
    #[error("no slot exists at {hour}")]
    MissingSlot {
        /// The first missing hour.
        hour: DateTime<Utc>,
    },
    /// The store failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

/// Filters of a reservation list, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReservationQuery {
    /// Only this user's.
    pub user_id: Option<UserId>,
    /// Only this status.
    pub status: Option<ReservationStatus>,
    /// Only reservations ending after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Only reservations starting before this instant.
    pub to: Option<DateTime<Utc>>,
    /// Keyset cursor: only ids smaller than this.
    pub before: Option<ReservationId>,
    /// Page size (the store returns up to `limit + 1`).
    pub limit: PageLimit,
}

/// Reservations, with the capacity-changing transitions as atomic methods.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait ReservationRepository: Send + Sync {
    /// Stores a pending reservation.
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    async fn insert_reservation(&self, new: NewReservation)
    -> Result<Reservation, DependencyError>;

    /// Stores a pending reservation only if, as read by the insert itself, every hour it covers
    /// has a slot with room for its headcount more confirmed people; `None`, with nothing stored,
    /// otherwise. The usual way to create one: where the store allows, it is one statement, where
    /// reading the slots and then inserting would be two. Advisory like the check it stands for:
    /// confirming is what takes capacity.
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    async fn insert_reservation_if_room(
        &self,
        new: NewReservation,
    ) -> Result<Option<Reservation>, DependencyError>;

    /// The reservation with this id.
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    async fn find_reservation(
        &self,
        id: ReservationId,
    ) -> Result<Option<Reservation>, DependencyError>;

    /// Reservations matching `query`, newest first, at most `limit + 1`.
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    async fn list_reservations(
        &self,
        query: &ReservationQuery,
    ) -> Result<Vec<Reservation>, DependencyError>;

    /// Changes range and headcount if the status is still `expected`. For a confirmed reservation
    /// it releases the old hours and takes the new ones in one transaction.
    ///
    /// # Errors
    /// MUST return `StatusChanged` if the status differs, and for a confirmed one
    /// `CapacityExceeded` / `MissingSlot` when a new hour lacks room; nothing changes then.
    async fn update_reservation(
        &self,
        id: ReservationId,
        expected: ReservationStatus,
        range: HourRange,
        headcount: Headcount,
        now: DateTime<Utc>,
    ) -> Result<Reservation, ReservationWriteError>;

    /// Pending → confirmed, adding the headcount to every covered hour or to none. Of any number
    /// of concurrent confirms competing for an hour, only those that fit succeed.
    ///
    /// # Errors
    /// `NotFound`; `StatusChanged` unless pending; `CapacityExceeded` / `MissingSlot` naming the
    /// first hour without room (nothing changes then).
    async fn confirm_reservation(
        &self,
        id: ReservationId,
        now: DateTime<Utc>,
    ) -> Result<Reservation, ReservationWriteError>;

    /// `expected` → cancelled; a confirmed reservation gives its headcount back to every hour.
    ///
    /// # Errors
    /// `NotFound`; `StatusChanged` if the status differs from `expected`.
    async fn cancel_reservation(
        &self,
        id: ReservationId,
        expected: ReservationStatus,
        now: DateTime<Utc>,
    ) -> Result<Reservation, ReservationWriteError>;
}

impl From<CapacityError> for ReservationWriteError {
    fn from(error: CapacityError) -> Self {
        match error {
            CapacityError::Exceeded { hour } => Self::CapacityExceeded { hour },
            CapacityError::MissingSlot { hour } => Self::MissingSlot { hour },
        }
    }
}
