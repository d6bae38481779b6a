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
