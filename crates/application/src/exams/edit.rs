//! Editing a reservation: owners while pending, admins also when confirmed (capacity is released
//! and re-taken in one transaction by the store).

use super::error::RefusedWrite;
use super::{Exams, NoRoom};
use crate::accounts::Principal;
use crate::{DependencyError, ErrorClass, FieldViolation, UseCaseError};
use chrono::{DateTime, Utc};
use reserva_domain::exams::{
    Reservation, ReservationAction, ReservationId, ReservationStatus, TransitionError,
};
use thiserror::Error;

/// Fields to change; `None` keeps the current value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EditReservationCommand {
    /// New first hour.
    pub starts_at: Option<DateTime<Utc>>,
    /// New end.
    pub ends_at: Option<DateTime<Utc>>,
    /// New headcount.
    pub headcount: Option<i64>,
}

/// Why editing a reservation failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EditReservationError {
    /// Nothing to change, or the result breaks a rule (shape, hours, window, headcount).
    #[error("invalid reservation")]
    Invalid(Vec<FieldViolation>),
    /// Absent, or not the caller's.
    #[error("reservation not found")]
    NotFound,
    /// The caller may not edit it in its status.
    #[error(transparent)]
    Transition(#[from] TransitionError),
    /// A new hour lacks room or a slot.
    #[error(transparent)]
    NoRoom(#[from] NoRoom),
    /// A dependency failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

impl RefusedWrite for EditReservationError {
    const NOT_FOUND: Self = Self::NotFound;
}

impl UseCaseError for EditReservationError {
    fn class(&self) -> ErrorClass {
        match self {
            Self::Invalid(_) => ErrorClass::InvalidInput,
            Self::NotFound => ErrorClass::NotFound,
            Self::Transition(_) => ErrorClass::Conflict,
            Self::NoRoom(refusal) => refusal.class(),
            Self::Dependency(error) => error.class(),
        }
    }
    fn code(&self) -> &'static str {
        match self {
            Self::Invalid(_) => "validation_failed",
            Self::NotFound => "not_found",
            Self::Transition(error) => error.code(),
            Self::NoRoom(refusal) => refusal.code(),
            Self::Dependency(error) => error.code(),
        }
    }
    fn violations(&self) -> &[FieldViolation] {
        match self {
            Self::Invalid(violations) => violations,
            _ => &[],
        }
    }
}

impl Exams {
    /// Changes hours and/or headcount.
    ///
    /// # Errors
    /// `Invalid`, `NotFound`, `Transition` (`not_pending` for owners, `reservation_cancelled`),
    /// `NoRoom` naming the hour, `Dependency`.
    #[tracing::instrument(skip_all, fields(user_id = %principal.user_id, reservation_id = %id))]
    pub async fn edit_reservation(
        &self,
        principal: &Principal,
        id: ReservationId,
        command: EditReservationCommand,
    ) -> Result<Reservation, EditReservationError> {
        if command == EditReservationCommand::default() {
            let rule = "give starts_at, ends_at or headcount";
            return Err(EditReservationError::Invalid(vec![FieldViolation::new(
                "starts_at",
                "nothing_to_change",
                rule,
            )]));
        }
        let (current, actor) = self
            .visible(principal, id)
            .await?
            .ok_or(EditReservationError::NotFound)?;
        current.status.apply(ReservationAction::Edit, actor)?;
        let (range, headcount) = self
            .validate(
                command.starts_at.unwrap_or(current.range.starts_at()),
                command.ends_at.unwrap_or(current.range.ends_at()),
                command
                    .headcount
                    .unwrap_or_else(|| i64::from(current.headcount.get())),
            )
            .map_err(EditReservationError::Invalid)?;
        if current.status == ReservationStatus::Pending {
            self.check_room::<EditReservationError>(&range, headcount)
                .await?;
        }
        self.ports
            .reservations
            .update_reservation(id, current.status, range, headcount, self.now())
            .await
            .map_err(|error| self.write_error(error, ReservationAction::Edit, actor))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exams::test_support::{Fixture, principal, reservation};
    use crate::ports::exams::{ReservationWriteError, Slot};
    use chrono::Duration;
    use reserva_domain::accounts::Role;

    fn with(fixture: &mut Fixture, stored: Reservation) {
        fixture
            .reservations
            .expect_find_reservation()
            .returning(move |_| Ok(Some(stored.clone())));
    }

    fn roomy(fixture: &mut Fixture) {
        fixture.slots.expect_slots_between().returning(|from, to| {
            let mut slots = Vec::new();
            let mut hour = from;
            while hour < to {
                slots.push(Slot {
                    starts_at: hour,
                    capacity: 50_000,
                    confirmed: 0,
                });
                hour += Duration::hours(1);
            }
            Ok(slots)
        });
    }

    #[tokio::test]
    async fn owner_edits_a_pending_reservation_keeping_unchanged_fields() {
        let owner = principal(Role::Member);
        let stored = reservation(owner.user_id, ReservationStatus::Pending);
        let (id, start, end) = (stored.id, stored.range.starts_at(), stored.range.ends_at());
        let mut fixture = Fixture::new();
        with(&mut fixture, stored.clone());
        roomy(&mut fixture);
        fixture
            .reservations
            .expect_update_reservation()
            .withf(move |_, expected, range, headcount, _| {
                *expected == ReservationStatus::Pending
                    && range.starts_at() == start
                    && range.ends_at() == end
                    && headcount.get() == 7
            })
            .returning(move |_, _, _, _, _| Ok(stored.clone()));
        let command = EditReservationCommand {
            headcount: Some(7),
            ..EditReservationCommand::default()
        };
        assert!(
            fixture
                .exams()
                .edit_reservation(&owner, id, command)
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn owners_cannot_edit_confirmed_admins_can_and_capacity_errors_name_the_hour() {
        let owner = principal(Role::Member);
        let stored = reservation(owner.user_id, ReservationStatus::Confirmed);
        let command = EditReservationCommand {
            headcount: Some(9),
            ..EditReservationCommand::default()
        };
        let mut fixture = Fixture::new();
        with(&mut fixture, stored.clone());
        let error = fixture
            .exams()
            .edit_reservation(&owner, stored.id, command)
            .await
            .expect_err("owner");
        assert_eq!(crate::UseCaseError::code(&error), "not_pending");

        let hour = stored.range.starts_at();
        let mut fixture = Fixture::new();
        with(&mut fixture, stored.clone());
        fixture
            .reservations
            .expect_update_reservation()
            .withf(|_, expected, _, _, _| *expected == ReservationStatus::Confirmed)
            .returning(move |_, _, _, _, _| Err(ReservationWriteError::CapacityExceeded { hour }));
        let error = fixture
            .exams()
            .edit_reservation(&principal(Role::Admin), stored.id, command)
            .await
            .expect_err("full");
        assert_eq!(crate::UseCaseError::code(&error), "capacity_exceeded");
    }

    #[tokio::test]
    async fn races_and_cancelled_reservations_are_conflicts() {
        let owner = principal(Role::Member);
        let stored = reservation(owner.user_id, ReservationStatus::Pending);
        let command = EditReservationCommand {
            headcount: Some(9),
            ..EditReservationCommand::default()
        };
        let mut fixture = Fixture::new();
        with(&mut fixture, stored.clone());
        roomy(&mut fixture);
        fixture
            .reservations
            .expect_update_reservation()
            .returning(|_, _, _, _, _| {
                Err(ReservationWriteError::StatusChanged {
                    current: ReservationStatus::Confirmed,
                })
            });
        let error = fixture
            .exams()
            .edit_reservation(&owner, stored.id, command)
            .await
            .expect_err("raced");
        assert_eq!(crate::UseCaseError::code(&error), "not_pending");

        let cancelled = reservation(owner.user_id, ReservationStatus::Cancelled);
        let mut fixture = Fixture::new();
        with(&mut fixture, cancelled.clone());
        let error = fixture
            .exams()
            .edit_reservation(&principal(Role::Admin), cancelled.id, command)
            .await
            .expect_err("cancelled");
        assert_eq!(crate::UseCaseError::code(&error), "reservation_cancelled");
        let empty = Fixture::new()
            .exams()
            .edit_reservation(&owner, cancelled.id, EditReservationCommand::default())
            .await;
        assert!(matches!(empty, Err(EditReservationError::Invalid(_))));
    }
}
