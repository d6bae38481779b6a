//! Stored slots and reservations as entities, and headcounts as stored integers.

use chrono::{DateTime, Utc};
use reserva_application::DependencyError;
use reserva_application::ports::exams::ReservationWriteError;
use reserva_domain::accounts::UserId;
use reserva_domain::exams::{
    Actor, Headcount, HourRange, Reservation, ReservationAction, ReservationId, ReservationStatus,
    Slot, Transition,
};
use uuid::Uuid;

/// An `exam_slots` row as plain values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredSlot {
    /// `starts_at`.
    pub starts_at: DateTime<Utc>,
    /// `capacity`.
    pub capacity: i32,
    /// `confirmed`.
    pub confirmed: i32,
}

impl StoredSlot {
    /// The slot.
    ///
    /// # Errors
    /// [`DependencyError::Failed`] for a negative count.
    pub fn into_slot(self) -> Result<Slot, DependencyError> {
        let corrupt = |_| DependencyError::Failed("stored slot has a negative count".into());
        Ok(Slot {
            starts_at: self.starts_at,
            capacity: u32::try_from(self.capacity).map_err(corrupt)?,
            confirmed: u32::try_from(self.confirmed).map_err(corrupt)?,
        })
    }
}

/// An `exam_reservations` row as plain values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredReservation {
    /// `id`.
    pub id: Uuid,
    /// `user_id`.
    pub user_id: Uuid,
    /// `starts_at`.
    pub starts_at: DateTime<Utc>,
    /// `ends_at`.
    pub ends_at: DateTime<Utc>,
    /// `headcount`.
    pub headcount: i32,
    /// `status`.
    pub status: String,
    /// `created_at`.
    pub created_at: DateTime<Utc>,
    /// `updated_at`.
    pub updated_at: DateTime<Utc>,
    /// `confirmed_at`.
    pub confirmed_at: Option<DateTime<Utc>>,
    /// `cancelled_at`.
    pub cancelled_at: Option<DateTime<Utc>>,
}

impl StoredReservation {
    /// The reservation.
    ///
    /// # Errors
    /// [`DependencyError::Failed`] when a stored value breaks a rule it was written under.
    pub fn into_reservation(self) -> Result<Reservation, DependencyError> {
        let corrupt = |what: &str| {
            DependencyError::Failed(format!("stored reservation has an invalid {what}"))
        };
        Ok(Reservation {
            id: ReservationId::from_uuid(self.id),
            user_id: UserId::from_uuid(self.user_id),
            range: HourRange::from_stored(self.starts_at, self.ends_at)
                .map_err(|_| corrupt("range"))?,
            headcount: Headcount::new(i64::from(self.headcount))
                .map_err(|_| corrupt("headcount"))?,
            status: self.status.parse().map_err(|()| corrupt("status"))?,
            created_at: self.created_at,
            updated_at: self.updated_at,
            confirmed_at: self.confirmed_at,
            cancelled_at: self.cancelled_at,
        })
    }
}

/// The reservation read (and locked) for a change decided on its being `expected`: the change
/// goes ahead only if it still is.
///
/// # Errors
/// `NotFound` when there is none; `StatusChanged` when someone else acted first.
pub fn expect_status(
    found: Option<Reservation>,
    expected: ReservationStatus,
) -> Result<Reservation, ReservationWriteError> {
    let reservation = found.ok_or(ReservationWriteError::NotFound)?;
    if reservation.status == expected {
        Ok(reservation)
    } else {
        Err(ReservationWriteError::StatusChanged {
            current: reservation.status,
        })
    }
}

/// The status a confirm moves `reservation` to, by the domain's transition table (an admin
/// confirms; only a pending reservation can be).
///
/// # Errors
/// `StatusChanged` when the table refuses it.
pub fn status_after_confirm(
    reservation: &Reservation,
) -> Result<ReservationStatus, ReservationWriteError> {
    match reservation
        .status
        .apply(ReservationAction::Confirm, Actor::Admin)
    {
        Ok(Transition::To(status)) => Ok(status),
        Ok(Transition::Unchanged) | Err(_) => Err(ReservationWriteError::StatusChanged {
            current: reservation.status,
        }),
    }
}

/// A headcount as the stored `INTEGER` (headcounts are far below `i32::MAX`: the policy caps
/// them at an hour's capacity).
#[must_use]
pub fn people(headcount: Headcount) -> i32 {
    i32::try_from(headcount.get()).unwrap_or(i32::MAX)
}

/// A written reservation that cannot be read back: the caller cannot be told what it got, and a
/// blind retry would write it again, so its outcome is unknown.
#[must_use]
pub fn unreadable_after_write(error: DependencyError) -> DependencyError {
    DependencyError::Indeterminate(format!("{error} (it was written)"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2030, 1, 1, hour, 0, 0)
            .single()
            .unwrap_or_default()
    }

    fn stored() -> StoredReservation {
        StoredReservation {
            id: Uuid::now_v7(),
            user_id: Uuid::now_v7(),
            starts_at: at(9),
            ends_at: at(11),
            headcount: 3,
            status: "accepted".into(),
            created_at: at(1),
            updated_at: at(2),
            confirmed_at: Some(at(2)),
            cancelled_at: None,
        }
    }

    #[test]
    fn a_stored_reservation_becomes_the_entity() {
        let reservation = stored().into_reservation();
        let reservation = reservation.unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(reservation.status, ReservationStatus::Confirmed);
        assert_eq!(reservation.headcount.get(), 3);
        assert_eq!(reservation.range.hours().len(), 2);
    }

    #[test]
    fn only_a_pending_reservation_can_be_confirmed() {
        let pending = StoredReservation {
            status: "pending".into(),
            confirmed_at: None,
            ..stored()
        }
        .into_reservation()
        .unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(
            status_after_confirm(&pending),
            Ok(ReservationStatus::Confirmed)
        );
        for status in [ReservationStatus::Confirmed, ReservationStatus::Cancelled] {
            let other = Reservation {
                status,
                ..pending.clone()
            };
            assert_eq!(
                status_after_confirm(&other),
                Err(ReservationWriteError::StatusChanged { current: status })
            );
        }
    }

    #[test]
    fn a_change_goes_ahead_only_on_the_status_it_was_decided_on() {
        let confirmed = stored()
            .into_reservation()
            .unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(
            expect_status(None, ReservationStatus::Pending),
            Err(ReservationWriteError::NotFound)
        );
        assert_eq!(
            expect_status(Some(confirmed.clone()), ReservationStatus::Pending),
            Err(ReservationWriteError::StatusChanged {
                current: ReservationStatus::Confirmed
            })
        );
        assert_eq!(
            expect_status(Some(confirmed.clone()), ReservationStatus::Confirmed),
            Ok(confirmed)
        );
    }

    #[test]
    fn corrupt_rows_are_failures_not_panics() {
        let bad_status = StoredReservation {
            status: "maybe".into(),
            ..stored()
        };
        let bad_headcount = StoredReservation {
            headcount: 0,
            ..stored()
        };
        for row in [bad_status, bad_headcount] {
            assert!(matches!(
                row.into_reservation(),
                Err(DependencyError::Failed(_))
            ));
        }
        let slot = StoredSlot {
            starts_at: at(9),
            capacity: 10,
            confirmed: -1,
        };
        assert!(slot.into_slot().is_err());
    }
}
