//! Cancelling a performance (admins): its bookings are refunded, its live holds released, and
//! the concert's room learns what is left (or closes when nothing is on sale any more).

use super::{Tickets, room_update_failed};
use crate::accounts::Principal;
use crate::ports::tickets::{CancelPerformanceError, PerformanceCancellation};
use crate::{DependencyError, ErrorClass, UseCaseError};
use reserva_domain::tickets::{ConcertId, PerformanceId};
use thiserror::Error;

/// Why cancelling a performance failed (the port's own enum is `CancelPerformanceError`).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CancelPerformanceUseCaseError {
    /// Not an admin.
    #[error("only admins may cancel performances")]
    Forbidden,
    /// No such performance.
    #[error("performance not found")]
    NotFound,
    /// Already cancelled.
    #[error("performance already cancelled")]
    AlreadyCancelled,
    /// A dependency failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

impl UseCaseError for CancelPerformanceUseCaseError {
    fn class(&self) -> ErrorClass {
        match self {
            Self::Forbidden => ErrorClass::Forbidden,
            Self::NotFound => ErrorClass::NotFound,
            Self::AlreadyCancelled => ErrorClass::Conflict,
            Self::Dependency(error) => error.class(),
        }
    }
    fn code(&self) -> &'static str {
        match self {
            Self::Forbidden => "forbidden",
            Self::NotFound => "not_found",
            Self::AlreadyCancelled => "already_cancelled",
            Self::Dependency(error) => error.code(),
        }
    }
}

impl Tickets {
    /// Cancels a performance, refunding every booking and releasing every live hold.
    ///
    /// # Errors
    /// `Forbidden` for non-admins, `NotFound`, `AlreadyCancelled`, `Dependency`.
    #[tracing::instrument(skip_all, fields(user_id = %principal.user_id, performance_id = %id))]
    pub async fn cancel_performance(
        &self,
        principal: &Principal,
        id: PerformanceId,
    ) -> Result<PerformanceCancellation, CancelPerformanceUseCaseError> {
        if !principal.is_admin() {
            return Err(CancelPerformanceUseCaseError::Forbidden);
        }
        let now = self.now();
        let cancellation = self
            .ports
            .holds
            .cancel_performance(id, now)
            .await
            .map_err(|error| match error {
                CancelPerformanceError::NotFound => CancelPerformanceUseCaseError::NotFound,
                CancelPerformanceError::AlreadyCancelled => {
                    CancelPerformanceUseCaseError::AlreadyCancelled
                }
                CancelPerformanceError::Dependency(error) => error.into(),
            })?;
        let concert = cancellation.performance.concert_id;
        if let Err(error) = self.after_cancel(concert, now).await {
            room_update_failed("cancel_performance", concert, &error);
        }
        Ok(cancellation)
    }

    /// Gives the room the store's inventory, or closes it when nothing is on sale any more.
    async fn after_cancel(
        &self,
        concert: ConcertId,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), DependencyError> {
        let on_sale = self
            .ports
            .concerts
            .find_concert(concert)
            .await?
            .is_some_and(|stored| stored.performances.iter().any(|p| p.is_on_sale(now)));
        if on_sale {
            self.resync_room(concert, now)
                .await
                .map_err(super::RoomSync::into_dependency)
        } else {
            self.ports.room.close(concert).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::tickets::ConcertInventory;
    use crate::tickets::test_support::{Fixture, concert, concert_id, now, performance, principal};
    use reserva_domain::accounts::Role;

    fn cancelling(fixture: &mut Fixture, concert: ConcertId) -> PerformanceId {
        let mut cancelled = performance(concert);
        cancelled.cancelled_at = Some(now());
        let id = cancelled.id;
        fixture
            .holds
            .expect_cancel_performance()
            .withf(move |performance, _| *performance == id)
            .times(1)
            .return_once(move |_, _| {
                Ok(PerformanceCancellation {
                    performance: cancelled,
                    refunded: 2,
                    released: vec![],
                })
            });
        id
    }

    #[tokio::test]
    async fn the_room_gets_the_stores_inventory_while_something_is_on_sale() {
        let id = concert_id();
        let mut fixture = Fixture::new();
        let performance = cancelling(&mut fixture, id);
        fixture
            .concerts
            .expect_find_concert()
            .returning(move |_| Ok(Some(concert(id))));
        fixture.concerts.expect_inventory().returning(|_, _| {
            Ok(ConcertInventory {
                unsold_seats: 10,
                holds: vec![],
            })
        });
        fixture
            .room
            .expect_set_inventory()
            .withf(|_, inventory| inventory.unsold_seats == 10)
            .times(1)
            .returning(|_, _| Ok(()));
        fixture.room.expect_close().never();
        let done = fixture
            .tickets()
            .cancel_performance(&principal(Role::Admin), performance)
            .await;
        assert_eq!(done.map(|d| d.refunded), Ok(2));
    }

    #[tokio::test]
    async fn the_room_closes_when_nothing_is_left_on_sale_and_its_failure_is_only_logged() {
        let id = concert_id();
        let mut fixture = Fixture::new();
        let performance = cancelling(&mut fixture, id);
        fixture.concerts.expect_find_concert().returning(move |_| {
            let mut gone = concert(id);
            gone.performances[0].cancelled_at = Some(now());
            Ok(Some(gone))
        });
        fixture.room.expect_set_inventory().never();
        fixture
            .room
            .expect_close()
            .times(1)
            .returning(|_| Err(DependencyError::Unavailable("redis".into())));
        let done = fixture
            .tickets()
            .cancel_performance(&principal(Role::Admin), performance)
            .await;
        assert!(done.is_ok(), "{done:?}");
    }

    #[tokio::test]
    async fn members_are_forbidden_and_the_stores_refusals_keep_their_codes() {
        let id = PerformanceId::from_uuid(uuid::Uuid::now_v7());
        let error = Fixture::new()
            .tickets()
            .cancel_performance(&principal(Role::Member), id)
            .await
            .expect_err("forbidden");
        assert_eq!(
            (error.class(), error.code()),
            (ErrorClass::Forbidden, "forbidden")
        );
        for (refusal, class, code) in [
            (
                CancelPerformanceError::NotFound,
                ErrorClass::NotFound,
                "not_found",
            ),
            (
                CancelPerformanceError::AlreadyCancelled,
                ErrorClass::Conflict,
                "already_cancelled",
            ),
        ] {
            let mut fixture = Fixture::new();
            fixture
                .holds
                .expect_cancel_performance()
                .return_once(move |_, _| Err(refusal));
            fixture.room.expect_close().never();
            let error = fixture
                .tickets()
                .cancel_performance(&principal(Role::Admin), id)
                .await
                .expect_err("refused");
            assert_eq!((error.class(), error.code()), (class, code));
        }
    }
}
