//! Confirming a reservation (admins): all covered hours gain the headcount, or none does.

use super::error::RefusedWrite;
use super::{Exams, NoRoom};
use crate::accounts::Principal;
use crate::{DependencyError, ErrorClass, UseCaseError};
use reserva_domain::exams::{
    Actor, Reservation, ReservationAction, ReservationId, TransitionError,
};
use thiserror::Error;

/// Why confirming a reservation failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConfirmReservationError {
    /// Admins only.
    #[error("administrators only")]
    Forbidden,
    /// No such reservation.
    #[error("reservation not found")]
    NotFound,
    /// It is no longer pending.
    #[error(transparent)]
    Transition(#[from] TransitionError),
    /// An hour lacks room or a slot.
    #[error(transparent)]
    NoRoom(#[from] NoRoom),
    /// A dependency failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

impl RefusedWrite for ConfirmReservationError {
    const NOT_FOUND: Self = Self::NotFound;
}

impl UseCaseError for ConfirmReservationError {
    fn class(&self) -> ErrorClass {
        match self {
            Self::Forbidden => ErrorClass::Forbidden,
            Self::NotFound => ErrorClass::NotFound,
            Self::Transition(_) => ErrorClass::Conflict,
            Self::NoRoom(refusal) => refusal.class(),
            Self::Dependency(error) => error.class(),
        }
    }
    fn code(&self) -> &'static str {
        match self {
            Self::Forbidden => "forbidden",
            Self::NotFound => "not_found",
            Self::Transition(error) => error.code(),
            Self::NoRoom(refusal) => refusal.code(),
            Self::Dependency(error) => error.code(),
        }
    }
}

impl Exams {
    /// Pending → confirmed. The store adds the headcount to every covered hour under locks, so
    /// concurrent confirms can never together pass an hour's capacity.
    ///
    /// # Errors
    /// `Forbidden` for non-admins, `NotFound`, `Transition` (`not_pending`), `NoRoom` naming the
    /// first hour without room or slot, `Dependency`.
    #[tracing::instrument(skip_all, fields(admin = %principal.user_id, reservation_id = %id))]
    pub async fn confirm_reservation(
        &self,
        principal: &Principal,
        id: ReservationId,
    ) -> Result<Reservation, ConfirmReservationError> {
        if !principal.is_admin() {
            return Err(ConfirmReservationError::Forbidden);
        }
        self.ports
            .reservations
            .confirm_reservation(id, self.now())
            .await
            .map_err(|error| self.write_error(error, ReservationAction::Confirm, Actor::Admin))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exams::test_support::{Fixture, principal, reservation};
    use crate::ports::exams::ReservationWriteError;
    use reserva_domain::accounts::Role;
    use reserva_domain::exams::ReservationStatus;

    #[tokio::test]
    async fn only_admins_confirm() {
        let id = ReservationId::from_uuid(uuid::Uuid::now_v7());
        for role in [Role::Member, Role::Tutor] {
            assert_eq!(
                Fixture::new()
                    .exams()
                    .confirm_reservation(&principal(role), id)
                    .await,
                Err(ConfirmReservationError::Forbidden)
            );
        }
    }

    type Case = (
        Result<Reservation, ReservationWriteError>,
        Result<&'static str, &'static str>,
    );

    #[tokio::test]
    async fn every_store_outcome_maps_to_its_error() {
        let admin = principal(Role::Admin);
        let confirmed = reservation(admin.user_id, ReservationStatus::Confirmed);
        let hour = confirmed.range.starts_at();
        let cases: Vec<Case> = vec![
            (Ok(confirmed.clone()), Ok("confirmed")),
            (Err(ReservationWriteError::NotFound), Err("not_found")),
            (
                Err(ReservationWriteError::StatusChanged {
                    current: ReservationStatus::Confirmed,
                }),
                Err("not_pending"),
            ),
            (
                Err(ReservationWriteError::StatusChanged {
                    current: ReservationStatus::Cancelled,
                }),
                Err("not_pending"),
            ),
            (
                Err(ReservationWriteError::CapacityExceeded { hour }),
                Err("capacity_exceeded"),
            ),
            (
                Err(ReservationWriteError::MissingSlot { hour }),
                Err("slot_unavailable"),
            ),
            (
                Err(ReservationWriteError::Dependency(
                    DependencyError::Unavailable("db".into()),
                )),
                Err("service_unavailable"),
            ),
        ];
        for (outcome, expected) in cases {
            let mut fixture = Fixture::new();
            fixture
                .reservations
                .expect_confirm_reservation()
                .return_once(move |_, _| outcome);
            let result = fixture
                .exams()
                .confirm_reservation(&admin, confirmed.id)
                .await;
            let got = result
                .as_ref()
                .map(|r| r.status.as_str())
                .map_err(UseCaseError::code);
            assert_eq!(got, expected);
        }
    }
}
