//! Creating a reservation: shape and window rules, then an advisory capacity check (pending
//! reservations use no capacity; the binding check happens at confirmation).

use super::{Exams, NoRoom};
use crate::accounts::Principal;
use crate::ports::exams::NewReservation;
use crate::{DependencyError, ErrorClass, FieldViolation, OUTCOME_UNKNOWN, UseCaseError};
use chrono::{DateTime, Utc};
use reserva_domain::exams::{Reservation, ReservationId};
use thiserror::Error;

/// The request as parsed from the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CreateReservationCommand {
    /// First hour.
    pub starts_at: DateTime<Utc>,
    /// End (exclusive).
    pub ends_at: DateTime<Utc>,
    /// People.
    pub headcount: i64,
}

/// Why creating a reservation failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CreateReservationError {
    /// Input breaks a rule (shape, hours, window, headcount).
    #[error("invalid reservation")]
    Invalid(Vec<FieldViolation>),
    /// An hour lacks room or a slot.
    #[error(transparent)]
    NoRoom(#[from] NoRoom),
    /// Creating the reservation was sent but its answer lost: it may or may not exist now.
    #[error("reservation {reservation} may or may not have been created: {source}")]
    OutcomeUnknown {
        /// The id it has if it was created.
        reservation: ReservationId,
        /// What was lost.
        source: DependencyError,
    },
    /// A dependency failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

impl UseCaseError for CreateReservationError {
    fn class(&self) -> ErrorClass {
        match self {
            Self::Invalid(_) => ErrorClass::InvalidInput,
            Self::NoRoom(refusal) => refusal.class(),
            Self::OutcomeUnknown { .. } => ErrorClass::OutcomeUnknown,
            Self::Dependency(error) => error.class(),
        }
    }
    fn code(&self) -> &'static str {
        match self {
            Self::Invalid(_) => "validation_failed",
            Self::NoRoom(refusal) => refusal.code(),
            Self::OutcomeUnknown { .. } => OUTCOME_UNKNOWN,
            Self::Dependency(error) => error.code(),
        }
    }
    fn violations(&self) -> &[FieldViolation] {
        match self {
            Self::Invalid(violations) => violations,
            _ => &[],
        }
    }
    fn resource_id(&self) -> Option<String> {
        match self {
            Self::OutcomeUnknown { reservation, .. } => Some(reservation.to_string()),
            _ => None,
        }
    }
}

impl Exams {
    /// Creates a pending reservation for the caller.
    ///
    /// # Errors
    /// `Invalid` (hours, window, headcount), `NoRoom` naming the hour, `OutcomeUnknown` naming
    /// the reservation when the store's answer was lost, `Dependency`.
    #[tracing::instrument(skip_all, fields(user_id = %principal.user_id))]
    pub async fn create_reservation(
        &self,
        principal: &Principal,
        command: CreateReservationCommand,
    ) -> Result<Reservation, CreateReservationError> {
        let (range, headcount) = self
            .validate(command.starts_at, command.ends_at, command.headcount)
            .map_err(CreateReservationError::Invalid)?;
        let new = NewReservation {
            id: ReservationId::from_uuid(uuid::Uuid::now_v7()),
            user_id: principal.user_id,
            range,
            headcount,
            now: self.now(),
        };
        let reservations = &self.ports.reservations;
        let id = new.id;
        let lost = |error: DependencyError| match error {
            DependencyError::Indeterminate(_) => CreateReservationError::OutcomeUnknown {
                reservation: id,
                source: error,
            },
            other => CreateReservationError::Dependency(other),
        };
        if let Some(stored) = reservations
            .insert_reservation_if_room(new.clone())
            .await
            .map_err(lost)?
        {
            return Ok(stored);
        }
        // Some hour lacked a slot or room: read the slots to name it.
        self.check_room::<CreateReservationError>(&range, headcount)
            .await?;
        // Room appeared between the two reads (a confirmed reservation was cancelled or shrunk).
        reservations.insert_reservation(new).await.map_err(lost)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exams::test_support::{Fixture, now, principal, reservation};
    use crate::ports::exams::Slot;
    use chrono::Duration;
    use reserva_domain::accounts::Role;
    use reserva_domain::exams::ReservationStatus;

    fn hours_from(start: DateTime<Utc>, count: i64) -> (DateTime<Utc>, DateTime<Utc>) {
        (start, start + Duration::hours(count))
    }

    fn command(start: DateTime<Utc>, hours: i64, headcount: i64) -> CreateReservationCommand {
        let (starts_at, ends_at) = hours_from(start, hours);
        CreateReservationCommand {
            starts_at,
            ends_at,
            headcount,
        }
    }

    fn slots_with(
        confirmed: u32,
    ) -> impl Fn(DateTime<Utc>, DateTime<Utc>) -> Result<Vec<Slot>, crate::DependencyError> {
        move |from, to| {
            let mut slots = Vec::new();
            let mut hour = from;
            while hour < to {
                slots.push(Slot {
                    starts_at: hour,
                    capacity: 50_000,
                    confirmed,
                });
                hour += Duration::hours(1);
            }
            Ok(slots)
        }
    }

    #[tokio::test]
    async fn creates_a_pending_reservation_in_one_store_call_when_every_hour_has_room() {
        let caller = principal(Role::Member);
        let mut fixture = Fixture::new();
        fixture.slots.expect_slots_between().never();
        fixture
            .reservations
            .expect_insert_reservation_if_room()
            .withf(move |new| {
                new.user_id == caller.user_id
                    && new.headcount.get() == 20_000
                    && new.range.hours().len() == 3
            })
            .times(1)
            .returning(|new| {
                let mut stored = reservation(new.user_id, ReservationStatus::Pending);
                stored.id = new.id;
                Ok(Some(stored))
            });
        let result = fixture
            .exams()
            .create_reservation(&caller, command(now() + Duration::days(5), 3, 20_000))
            .await;
        assert_eq!(result.map(|r| r.status), Ok(ReservationStatus::Pending));
    }

    #[tokio::test]
    async fn a_create_whose_answer_was_lost_names_the_reservation_it_may_have_made() {
        let mut fixture = Fixture::new();
        let sent = std::sync::Arc::new(std::sync::Mutex::new(None));
        let seen = std::sync::Arc::clone(&sent);
        fixture
            .reservations
            .expect_insert_reservation_if_room()
            .times(1)
            .returning(move |new| {
                *seen
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(new.id);
                Err(DependencyError::Indeterminate("connection closed".into()))
            });
        let result = fixture
            .exams()
            .create_reservation(
                &principal(Role::Member),
                command(now() + Duration::days(5), 1, 10),
            )
            .await;
        let sent = sent
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .expect("the store was called");
        let error = result.expect_err("the outcome is unknown");
        assert!(
            matches!(error, CreateReservationError::OutcomeUnknown { reservation, .. } if reservation == sent),
            "{error:?}"
        );
        assert_eq!(error.class(), ErrorClass::OutcomeUnknown);
        assert_eq!(error.code(), crate::OUTCOME_UNKNOWN);
        assert_eq!(error.resource_id(), Some(sent.to_string()));
    }

    /// A fixture whose first insert is refused, and whose slots then show room: the use case
    /// inserts again, in `order`.
    fn refused_then_room(order: &mut mockall::Sequence, confirmed: u32) -> Fixture {
        let mut fixture = Fixture::new();
        fixture
            .reservations
            .expect_insert_reservation_if_room()
            .times(1)
            .in_sequence(order)
            .returning(|_| Ok(None));
        fixture
            .slots
            .expect_slots_between()
            .times(1)
            .in_sequence(order)
            .returning(slots_with(confirmed));
        fixture
    }

    #[tokio::test]
    async fn room_that_appears_after_a_refused_insert_is_used() {
        let mut order = mockall::Sequence::new();
        let mut fixture = refused_then_room(&mut order, 30_000);
        fixture
            .reservations
            .expect_insert_reservation()
            .times(1)
            .in_sequence(&mut order)
            .returning(|new| {
                let mut stored = reservation(new.user_id, ReservationStatus::Pending);
                stored.id = new.id;
                Ok(stored)
            });
        let result = fixture
            .exams()
            .create_reservation(
                &principal(Role::Member),
                command(now() + Duration::days(5), 1, 20_000),
            )
            .await;
        assert_eq!(result.map(|r| r.status), Ok(ReservationStatus::Pending));
    }

    #[tokio::test]
    async fn a_lost_answer_on_the_second_insert_names_the_reservation_too() {
        let mut order = mockall::Sequence::new();
        let mut fixture = refused_then_room(&mut order, 0);
        fixture
            .reservations
            .expect_insert_reservation()
            .times(1)
            .in_sequence(&mut order)
            .returning(|_| Err(DependencyError::Indeterminate("connection closed".into())));
        let result = fixture
            .exams()
            .create_reservation(
                &principal(Role::Member),
                command(now() + Duration::days(5), 1, 10),
            )
            .await;
        assert!(
            matches!(result, Err(CreateReservationError::OutcomeUnknown { .. })),
            "{result:?}"
        );
    }

    fn refusing_inserts(fixture: &mut Fixture) {
        fixture
            .reservations
            .expect_insert_reservation_if_room()
            .returning(|_| Ok(None));
        fixture.reservations.expect_insert_reservation().never();
    }

    #[tokio::test]
    async fn one_full_or_missing_hour_refuses_the_whole_range() {
        let start = now() + Duration::days(5);
        let mut fixture = Fixture::new();
        refusing_inserts(&mut fixture);
        fixture
            .slots
            .expect_slots_between()
            .returning(slots_with(30_001));
        let result = fixture
            .exams()
            .create_reservation(&principal(Role::Member), command(start, 3, 20_000))
            .await;
        assert_eq!(
            result.err().map(|e| e.to_string()),
            Some(format!(
                "capacity exceeded for the hour starting {}",
                "2026-11-30T12:00:00+09:00"
            ))
        );

        let mut fixture = Fixture::new();
        refusing_inserts(&mut fixture);
        fixture
            .slots
            .expect_slots_between()
            .returning(move |from, to| {
                let mut slots = slots_with(0)(from, to)?;
                slots.remove(1);
                Ok(slots)
            });
        let result = fixture
            .exams()
            .create_reservation(&principal(Role::Member), command(start, 3, 1))
            .await;
        assert!(
            matches!(
                result,
                Err(CreateReservationError::NoRoom(
                    NoRoom::SlotUnavailable { .. }
                ))
            ),
            "{result:?}"
        );
    }

    #[tokio::test]
    async fn shape_window_duration_and_headcount_rules_are_400s_with_fields() {
        let exams = Fixture::new().exams();
        let member = principal(Role::Member);
        let cases = [
            (
                command(now() + Duration::days(5) + Duration::minutes(30), 1, 1),
                "starts_at",
                "not_on_the_hour",
            ),
            (
                CreateReservationCommand {
                    starts_at: now() + Duration::days(5),
                    ends_at: now() + Duration::days(5),
                    headcount: 1,
                },
                "ends_at",
                "ends_before_start",
            ),
            (
                command(now() + Duration::days(5), 1, 0),
                "headcount",
                "invalid_headcount",
            ),
            (
                command(now() + Duration::days(5), 1, 50_001),
                "headcount",
                "headcount_too_large",
            ),
            (
                command(now() + Duration::hours(71), 1, 1),
                "starts_at",
                "outside_booking_window",
            ),
            (
                command(now() + Duration::days(90), 2, 1),
                "starts_at",
                "outside_booking_window",
            ),
            (
                command(now() + Duration::days(5), 2_086, 1),
                "ends_at",
                "duration_too_long",
            ),
        ];
        for (command, field, code) in cases {
            let error = exams
                .create_reservation(&member, command)
                .await
                .expect_err("invalid");
            let violations = crate::UseCaseError::violations(&error);
            assert_eq!(
                (violations[0].field, violations[0].code),
                (field, code),
                "{command:?}"
            );
        }
    }
}
