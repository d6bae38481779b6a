//! Storage of exam slots (per-hour confirmed counts) and reservations.
//!
//! Capacity is guarded here, in the store: confirming adds a headcount to every covered hour or to
//! none, under row locks or a single writer, so no interleaving of requests can oversell an hour.

use crate::DependencyError;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reserva_domain::accounts::UserId;
use reserva_domain::exams::{Headcount, HourRange, Reservation, ReservationId, ReservationStatus};
use reserva_domain::paging::PageLimit;
use thiserror::Error;

/// One hour's fill level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    /// UTC start of the hour.
    pub starts_at: DateTime<Utc>,
    /// People the hour holds.
    pub capacity: u32,
    /// People confirmed in it.
    pub confirmed: u32,
}

impl Slot {
    /// Places left.
    #[must_use]
    pub const fn remaining(&self) -> u32 {
        self.capacity.saturating_sub(self.confirmed)
    }
}

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

/// The capacity rule every store applies under its locks: with `release` giving its headcount back
/// to its hours, does `take` fit in every one of its hours? `slots` are the stored slots covering
/// both ranges, ordered by `starts_at`.
///
/// # Errors
/// [`ReservationWriteError::MissingSlot`] or [`ReservationWriteError::CapacityExceeded`], naming
/// the first hour of `take` that fails.
pub fn check_capacity_change(
    slots: &[Slot],
    release: Option<(&HourRange, Headcount)>,
    take: (&HourRange, Headcount),
) -> Result<(), ReservationWriteError> {
    let (range, headcount) = take;
    for hour in range.hours() {
        let Ok(index) = slots.binary_search_by_key(&hour, |slot| slot.starts_at) else {
            return Err(ReservationWriteError::MissingSlot { hour });
        };
        let slot = slots[index];
        let released = release
            .filter(|(old, _)| old.starts_at() <= hour && hour < old.ends_at())
            .map_or(0, |(_, people)| people.get());
        let confirmed = slot.confirmed.saturating_sub(released);
        if !reserva_domain::exams::fits(confirmed, headcount, slot.capacity) {
            return Err(ReservationWriteError::CapacityExceeded { hour });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};
    use reserva_domain::exams::BusinessZone;

    fn hour(index: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0)
            .single()
            .unwrap_or_default()
            + Duration::hours(index)
    }

    fn range(from: i64, to: i64) -> HourRange {
        HourRange::new(hour(from), hour(to), BusinessZone::new(chrono_tz::UTC))
            .unwrap_or_else(|error| panic!("{error}"))
    }

    fn people(count: i64) -> Headcount {
        Headcount::new(count).unwrap_or_else(|error| panic!("{error}"))
    }

    fn slots(confirmed: &[u32]) -> Vec<Slot> {
        (0_i64..)
            .zip(confirmed)
            .map(|(index, confirmed)| Slot {
                starts_at: hour(index),
                capacity: 10,
                confirmed: *confirmed,
            })
            .collect()
    }

    #[test]
    fn take_must_fit_in_every_hour() {
        let slots = slots(&[0, 6, 0]);
        assert_eq!(
            check_capacity_change(&slots, None, (&range(0, 3), people(4))),
            Ok(())
        );
        assert_eq!(
            check_capacity_change(&slots, None, (&range(0, 3), people(5))),
            Err(ReservationWriteError::CapacityExceeded { hour: hour(1) })
        );
    }

    #[test]
    fn released_places_count_only_in_their_own_hours() {
        let slots = slots(&[0, 6, 6]);
        let old = range(1, 2);
        assert_eq!(
            check_capacity_change(&slots, Some((&old, people(6))), (&range(1, 2), people(10))),
            Ok(())
        );
        assert_eq!(
            check_capacity_change(&slots, Some((&old, people(6))), (&range(1, 3), people(5))),
            Err(ReservationWriteError::CapacityExceeded { hour: hour(2) })
        );
    }

    #[test]
    fn an_hour_without_a_slot_is_named() {
        let slots = slots(&[0, 0]);
        assert_eq!(
            check_capacity_change(&slots, None, (&range(1, 4), people(1))),
            Err(ReservationWriteError::MissingSlot { hour: hour(2) })
        );
    }
}
