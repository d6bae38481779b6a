//! What an admitted user sees before choosing: the concert's dates with free seats, and one
//! performance's seat map. Both need the caller's active token for the concert.

use super::Tickets;
use super::queue::{QueueAccessError, parse_token};
use crate::accounts::Principal;
use crate::ports::tickets::{PerformanceAvailability, SeatMap};
use crate::{DependencyError, ErrorClass, UseCaseError};
use reserva_domain::tickets::{ConcertId, PerformanceId};
use thiserror::Error;

/// Why the dates of a concert could not be listed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AvailableDatesError {
    /// The queue token does not let the caller through.
    #[error(transparent)]
    Queue(#[from] QueueAccessError),
    /// A dependency failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

impl UseCaseError for AvailableDatesError {
    fn class(&self) -> ErrorClass {
        match self {
            Self::Queue(error) => error.class(),
            Self::Dependency(error) => error.class(),
        }
    }
    fn code(&self) -> &'static str {
        match self {
            Self::Queue(error) => error.code(),
            Self::Dependency(error) => error.code(),
        }
    }
}

/// Why a seat map could not be shown.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SeatMapError {
    /// The queue token does not let the caller through.
    #[error(transparent)]
    Queue(#[from] QueueAccessError),
    /// No such performance.
    #[error("performance not found")]
    NotFound,
    /// A dependency failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

impl UseCaseError for SeatMapError {
    fn class(&self) -> ErrorClass {
        match self {
            Self::Queue(error) => error.class(),
            Self::NotFound => ErrorClass::NotFound,
            Self::Dependency(error) => error.class(),
        }
    }
    fn code(&self) -> &'static str {
        match self {
            Self::Queue(error) => error.code(),
            Self::NotFound => "not_found",
            Self::Dependency(error) => error.code(),
        }
    }
}

impl Tickets {
    /// The concert's performances on sale with at least one free seat, earliest first.
    ///
    /// # Errors
    /// `Queue` (no, invalid, waiting or another concert's token), `Dependency`.
    pub async fn available_dates(
        &self,
        principal: &Principal,
        token: Option<&str>,
        concert: ConcertId,
    ) -> Result<Vec<PerformanceAvailability>, AvailableDatesError> {
        let token = parse_token(token)?;
        self.require_active(principal, &token, concert).await?;
        Ok(self
            .ports
            .concerts
            .available_performances(concert, self.now())
            .await?)
    }

    /// Every seat of a performance with its state now.
    ///
    /// # Errors
    /// `Queue`, `NotFound`, `Dependency`.
    pub async fn seat_map(
        &self,
        principal: &Principal,
        token: Option<&str>,
        performance: PerformanceId,
    ) -> Result<SeatMap, SeatMapError> {
        let token = parse_token(token)?;
        // One read gives both the seats and the concert the token must be for; nothing of it
        // is shown until the token passes.
        let map = self
            .ports
            .concerts
            .seat_map(performance, self.now())
            .await?
            .ok_or(SeatMapError::NotFound)?;
        self.require_active(principal, &token, map.performance.concert_id)
            .await?;
        Ok(map)
    }
}
