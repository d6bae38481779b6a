//! Cancelling a reservation (soft): owners while pending, admins always; a confirmed one gives
//! its capacity back. Cancelling a cancelled reservation succeeds and changes nothing.

use super::Exams;
use crate::accounts::Principal;
use crate::ports::exams::ReservationWriteError;
use crate::{DependencyError, ErrorClass, UseCaseError};
use reserva_domain::exams::{
    Actor, ReservationAction, ReservationId, ReservationStatus, Transition, TransitionError,
};
use thiserror::Error;

/// Why cancelling a reservation failed. Cancelling takes no room, so no hour can refuse it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CancelReservationError {
    /// Absent, or not the caller's.
    #[error("reservation not found")]
    NotFound,
    /// The caller may not cancel it in its status (an owner, once it is confirmed).
    #[error(transparent)]
    Transition(#[from] TransitionError),
    /// A dependency failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

impl UseCaseError for CancelReservationError {
    fn class(&self) -> ErrorClass {
        match self {
            Self::NotFound => ErrorClass::NotFound,
            Self::Transition(_) => ErrorClass::Conflict,
            Self::Dependency(error) => error.class(),
        }
    }
    fn code(&self) -> &'static str {
        match self {
            Self::NotFound => "not_found",
            Self::Transition(error) => error.code(),
            Self::Dependency(error) => error.code(),
        }
    }
}

impl Exams {
    /// Cancels the reservation.
    ///
    /// # Errors
    /// `NotFound`, `Transition` (`not_pending` for owners of confirmed ones), `Dependency`.
    #[tracing::instrument(skip_all, fields(user_id = %principal.user_id, reservation_id = %id))]
    pub async fn cancel_reservation(
        &self,
        principal: &Principal,
        id: ReservationId,
    ) -> Result<(), CancelReservationError> {
        let (current, actor) = self
            .visible(principal, id)
            .await?
            .ok_or(CancelReservationError::NotFound)?;
        let transition = current.status.apply(ReservationAction::Cancel, actor)?;
        if transition == Transition::Unchanged {
            return Ok(());
        }
        let result = self
            .ports
            .reservations
            .cancel_reservation(id, current.status, self.now())
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(error) => cancel_refused(error, actor),
        }
    }
}

/// The store's refusal of a cancel. Losing a race to another cancel is success; a store that
/// claims a cancel lacked room breaks the port's contract, which is an internal failure.
fn cancel_refused(
    error: ReservationWriteError,
    actor: Actor,
) -> Result<(), CancelReservationError> {
    match error {
        ReservationWriteError::StatusChanged {
            current: ReservationStatus::Cancelled,
        } => Ok(()),
        ReservationWriteError::StatusChanged { current } => Err(TransitionError {
            from: current,
            action: ReservationAction::Cancel,
            actor,
        }
        .into()),
        ReservationWriteError::NotFound => Err(CancelReservationError::NotFound),
        ReservationWriteError::CapacityExceeded { .. }
        | ReservationWriteError::MissingSlot { .. } => {
            Err(DependencyError::Failed(format!("the store refused a cancel: {error}")).into())
        }
        ReservationWriteError::Dependency(error) => Err(error.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exams::test_support::{Fixture, principal, reservation};
    use reserva_domain::accounts::Role;

    #[tokio::test]
    async fn owner_cancels_pending_admin_cancels_confirmed() {
        let owner = principal(Role::Member);
        for (status, caller) in [
            (ReservationStatus::Pending, owner),
            (ReservationStatus::Confirmed, principal(Role::Admin)),
        ] {
            let stored = reservation(owner.user_id, status);
            let mut fixture = Fixture::new();
            let copy = stored.clone();
            fixture
                .reservations
                .expect_find_reservation()
                .returning(move |_| Ok(Some(copy.clone())));
            fixture
                .reservations
                .expect_cancel_reservation()
                .withf(move |_, expected, _| *expected == status)
                .times(1)
                .returning(move |_, _, _| Ok(stored.clone()));
            assert_eq!(
                fixture
                    .exams()
                    .cancel_reservation(&caller, ReservationId::from_uuid(uuid::Uuid::now_v7()))
                    .await,
                Ok(())
            );
        }
    }

    #[tokio::test]
    async fn owner_cannot_cancel_confirmed_and_cancelled_is_a_no_op() {
        let owner = principal(Role::Member);
        let confirmed = reservation(owner.user_id, ReservationStatus::Confirmed);
        let mut fixture = Fixture::new();
        fixture
            .reservations
            .expect_find_reservation()
            .returning(move |_| Ok(Some(confirmed.clone())));
        let error = fixture
            .exams()
            .cancel_reservation(&owner, ReservationId::from_uuid(uuid::Uuid::now_v7()))
            .await
            .expect_err("owner");
        assert_eq!(error.code(), "not_pending");

        let cancelled = reservation(owner.user_id, ReservationStatus::Cancelled);
        let mut fixture = Fixture::new();
        fixture
            .reservations
            .expect_find_reservation()
            .returning(move |_| Ok(Some(cancelled.clone())));
        fixture.reservations.expect_cancel_reservation().never();
        assert_eq!(
            fixture
                .exams()
                .cancel_reservation(&owner, ReservationId::from_uuid(uuid::Uuid::now_v7()))
                .await,
            Ok(())
        );
    }

    /// The owner cancels a pending reservation of theirs and the store answers `refusal`.
    async fn cancel_refused_with(
        owner: &Principal,
        refusal: ReservationWriteError,
    ) -> Result<(), CancelReservationError> {
        let pending = reservation(owner.user_id, ReservationStatus::Pending);
        let mut fixture = Fixture::new();
        fixture
            .reservations
            .expect_find_reservation()
            .returning(move |_| Ok(Some(pending.clone())));
        fixture
            .reservations
            .expect_cancel_reservation()
            .return_once(move |_, _, _| Err(refusal));
        fixture
            .exams()
            .cancel_reservation(owner, ReservationId::from_uuid(uuid::Uuid::now_v7()))
            .await
    }

    #[tokio::test]
    async fn losing_a_race_to_another_cancel_is_fine_to_a_confirm_is_not() {
        let owner = principal(Role::Member);
        for (current, expected) in [
            (ReservationStatus::Cancelled, Ok(())),
            (ReservationStatus::Confirmed, Err("not_pending")),
        ] {
            let result =
                cancel_refused_with(&owner, ReservationWriteError::StatusChanged { current }).await;
            assert_eq!(result.map_err(|e| e.code()), expected);
        }
    }

    #[tokio::test]
    async fn a_store_claiming_a_cancel_lacked_room_is_an_internal_failure() {
        let owner = principal(Role::Member);
        let hour = reservation(owner.user_id, ReservationStatus::Pending)
            .range
            .starts_at();
        let error = cancel_refused_with(&owner, ReservationWriteError::CapacityExceeded { hour })
            .await
            .expect_err("contract breach");
        assert_eq!(
            (error.class(), error.code()),
            (ErrorClass::Internal, "internal_error")
        );
    }
}
