//! Confirming a reservation (admins): all covered hours gain the headcount, or none does.

use super::{ExamError, Exams};
use crate::accounts::Principal;
use reserva_domain::exams::{Actor, Reservation, ReservationAction, ReservationId};

impl Exams {
    /// Pending → confirmed. The store adds the headcount to every covered hour under locks, so
    /// concurrent confirms can never together pass an hour's capacity.
    ///
    /// # Errors
    /// `Forbidden` for non-admins, `NotFound`, `Transition` (`not_pending`), `CapacityExceeded`
    /// naming the first full hour, `SlotUnavailable`, `Dependency`.
    #[tracing::instrument(skip_all, fields(admin = %principal.user_id, reservation_id = %id))]
    pub async fn confirm_reservation(
        &self,
        principal: &Principal,
        id: ReservationId,
    ) -> Result<Reservation, ExamError> {
        if !principal.is_admin() {
            return Err(ExamError::Forbidden);
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
    use crate::{DependencyError, UseCaseError};
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
                Err(ExamError::Forbidden)
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
