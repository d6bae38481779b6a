//! Editing a reservation: owners while pending, admins also when confirmed (capacity is released
//! and re-taken in one transaction by the store).

use super::{ExamError, Exams};
use crate::accounts::Principal;
use chrono::{DateTime, Utc};
use reserva_domain::exams::{Reservation, ReservationAction, ReservationId, ReservationStatus};

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

impl Exams {
    /// Changes hours and/or headcount.
    ///
    /// # Errors
    /// `NotFound`, `Transition` (`not_pending` for owners, `reservation_cancelled`), `Invalid`,
    /// `CapacityExceeded` / `SlotUnavailable`, `Dependency`.
    #[tracing::instrument(skip_all, fields(user_id = %principal.user_id, reservation_id = %id))]
    pub async fn edit_reservation(
        &self,
        principal: &Principal,
        id: ReservationId,
        command: EditReservationCommand,
    ) -> Result<Reservation, ExamError> {
        if command == EditReservationCommand::default() {
            let rule = "give starts_at, ends_at or headcount";
            return Err(ExamError::Invalid(vec![crate::FieldViolation::new(
                "starts_at",
                "nothing_to_change",
                rule,
            )]));
        }
        let (current, actor) = self.visible(principal, id).await?;
        current
            .status
            .apply(ReservationAction::Edit, actor)
            .map_err(ExamError::Transition)?;
        let (range, headcount) = self.validate(
            command.starts_at.unwrap_or(current.range.starts_at()),
            command.ends_at.unwrap_or(current.range.ends_at()),
            command
                .headcount
                .unwrap_or_else(|| i64::from(current.headcount.get())),
        )?;
        if current.status == ReservationStatus::Pending {
            self.check_room(&range, headcount).await?;
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
        assert!(matches!(empty, Err(ExamError::Invalid(_))));
    }
}
