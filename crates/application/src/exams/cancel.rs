//! Cancelling a reservation (soft): owners while pending, admins always; a confirmed one gives
//! its capacity back. Cancelling a cancelled reservation succeeds and changes nothing.

use super::{ExamError, Exams};
use crate::accounts::Principal;
use reserva_domain::exams::{ReservationAction, ReservationId, Transition};

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
    ) -> Result<(), ExamError> {
        let (current, actor) = self.visible(principal, id).await?;
        let transition = current
            .status
            .apply(ReservationAction::Cancel, actor)
            .map_err(ExamError::Transition)?;
        if transition == Transition::Unchanged {
            return Ok(());
        }
        match self
            .ports
            .reservations
            .cancel_reservation(id, current.status, self.now())
            .await
        {
            Ok(_) => Ok(()),
            Err(crate::ports::exams::ReservationWriteError::StatusChanged {
                current: reserva_domain::exams::ReservationStatus::Cancelled,
            }) => Ok(()),
            Err(error) => Err(self.write_error(error, ReservationAction::Cancel, actor)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::UseCaseError;
    use crate::exams::test_support::{Fixture, principal, reservation};
    use crate::ports::exams::ReservationWriteError;
    use reserva_domain::accounts::Role;
    use reserva_domain::exams::ReservationStatus;

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

    #[tokio::test]
    async fn losing_a_race_to_another_cancel_is_fine_to_a_confirm_is_not() {
        let owner = principal(Role::Member);
        for (current, expected) in [
            (ReservationStatus::Cancelled, Ok(())),
            (ReservationStatus::Confirmed, Err("not_pending")),
        ] {
            let pending = reservation(owner.user_id, ReservationStatus::Pending);
            let mut fixture = Fixture::new();
            fixture
                .reservations
                .expect_find_reservation()
                .returning(move |_| Ok(Some(pending.clone())));
            fixture
                .reservations
                .expect_cancel_reservation()
                .returning(move |_, _, _| Err(ReservationWriteError::StatusChanged { current }));
            let result = fixture
                .exams()
                .cancel_reservation(&owner, ReservationId::from_uuid(uuid::Uuid::now_v7()))
                .await;
            assert_eq!(result.map_err(|e| e.code()), expected);
        }
    }
}
