//! Holding a seat (an active token needed) and releasing a hold (its owner).

use super::queue::{QueueAccessError, parse_token};
use super::{Tickets, room_update_failed};
use crate::accounts::Principal;
use crate::ports::tickets::{HoldError, NewHold, ReleaseError};
use crate::{DependencyError, ErrorClass, FieldViolation, UseCaseError};
use reserva_domain::tickets::{HoldId, PerformanceId, SeatHold, SeatNumber, SeatOutOfRange};
use thiserror::Error;

/// Why a seat could not be held.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum HoldSeatError {
    /// The queue token does not let the caller through.
    #[error(transparent)]
    Queue(#[from] QueueAccessError),
    /// The seat number is outside the performance's seats.
    #[error("invalid seat")]
    Invalid(Vec<FieldViolation>),
    /// No such performance.
    #[error("performance not found")]
    NotFound,
    /// The performance was cancelled or has started.
    #[error("performance is not on sale")]
    NotOnSale,
    /// Sold, or under a live hold.
    #[error("seat is not available")]
    SeatUnavailable,
    /// The caller already holds or owns a seat of this concert on this date.
    #[error("already holding or owning a seat for this date")]
    AlreadyHoldingForDate,
    /// A dependency failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

impl UseCaseError for HoldSeatError {
    fn class(&self) -> ErrorClass {
        match self {
            Self::Queue(error) => error.class(),
            Self::Invalid(_) => ErrorClass::InvalidInput,
            Self::NotFound => ErrorClass::NotFound,
            Self::NotOnSale | Self::SeatUnavailable | Self::AlreadyHoldingForDate => {
                ErrorClass::Conflict
            }
            Self::Dependency(error) => error.class(),
        }
    }
    fn code(&self) -> &'static str {
        match self {
            Self::Queue(error) => error.code(),
            Self::Invalid(_) => "validation_failed",
            Self::NotFound => "not_found",
            Self::NotOnSale => "not_on_sale",
            Self::SeatUnavailable => "seat_unavailable",
            Self::AlreadyHoldingForDate => "already_holding_for_date",
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

fn seat_out_of_range(rule: SeatOutOfRange) -> HoldSeatError {
    HoldSeatError::Invalid(vec![FieldViolation::new(
        "seat_number",
        "seat_out_of_range",
        rule,
    )])
}

/// Why a hold could not be released.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ReleaseHoldError {
    /// No such hold, or someone else's.
    #[error("hold not found")]
    NotFound,
    /// Paid: the seat stays sold.
    #[error("hold already paid")]
    AlreadyPaid,
    /// A dependency failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

impl UseCaseError for ReleaseHoldError {
    fn class(&self) -> ErrorClass {
        match self {
            Self::NotFound => ErrorClass::NotFound,
            Self::AlreadyPaid => ErrorClass::Conflict,
            Self::Dependency(error) => error.class(),
        }
    }
    fn code(&self) -> &'static str {
        match self {
            Self::NotFound => "not_found",
            Self::AlreadyPaid => "hold_already_paid",
            Self::Dependency(error) => error.code(),
        }
    }
}

impl Tickets {
    /// Holds a seat for the caller for the policy's hold time.
    ///
    /// # Errors
    /// `Queue`, `Invalid` (`seat_number`: `seat_out_of_range`), `NotFound`, `NotOnSale`,
    /// `SeatUnavailable`, `AlreadyHoldingForDate`, `Dependency`.
    #[tracing::instrument(skip_all, fields(user_id = %principal.user_id, performance_id = %performance))]
    pub async fn hold_seat(
        &self,
        principal: &Principal,
        token: Option<&str>,
        performance: PerformanceId,
        seat: i64,
    ) -> Result<SeatHold, HoldSeatError> {
        let token = parse_token(token)?;
        let seat = SeatNumber::new(seat).map_err(seat_out_of_range)?;
        let stored = self
            .ports
            .concerts
            .find_performance(performance)
            .await?
            .ok_or(HoldSeatError::NotFound)?;
        self.require_active(principal, &token, stored.concert_id)
            .await?;
        let seat = seat.within(stored.seats).map_err(seat_out_of_range)?;
        let now = self.now();
        let new = NewHold {
            id: HoldId::from_uuid(uuid::Uuid::now_v7()),
            performance_id: performance,
            seat,
            user_id: principal.user_id,
            now,
            expires_at: now + self.policy.hold_ttl,
        };
        let hold = self
            .ports
            .holds
            .hold_seat(new)
            .await
            .map_err(|error| match error {
                HoldError::PerformanceNotFound => HoldSeatError::NotFound,
                HoldError::NotOnSale => HoldSeatError::NotOnSale,
                HoldError::NoSuchSeat { count, .. } => seat_out_of_range(SeatOutOfRange { count }),
                HoldError::SeatUnavailable => HoldSeatError::SeatUnavailable,
                HoldError::AlreadyHoldingForDate => HoldSeatError::AlreadyHoldingForDate,
                HoldError::Dependency(error) => error.into(),
            })?;
        let recorded = self
            .ports
            .room
            .hold_recorded(hold.concert_id, hold.id, hold.expires_at)
            .await;
        if let Err(error) = recorded {
            room_update_failed("hold_recorded", hold.concert_id, &error);
        }
        Ok(hold)
    }

    /// Releases the caller's hold, freeing its seat. A hold already expired or released is
    /// fine (releasing is idempotent).
    ///
    /// # Errors
    /// `NotFound` (also someone else's), `AlreadyPaid`, `Dependency`.
    #[tracing::instrument(skip_all, fields(user_id = %principal.user_id, hold_id = %id))]
    pub async fn release_hold(
        &self,
        principal: &Principal,
        id: HoldId,
    ) -> Result<(), ReleaseHoldError> {
        let hold = self
            .ports
            .holds
            .release_hold(id, principal.user_id, self.now())
            .await
            .map_err(|error| match error {
                ReleaseError::NotFound => ReleaseHoldError::NotFound,
                ReleaseError::AlreadyPaid => ReleaseHoldError::AlreadyPaid,
                ReleaseError::Dependency(error) => error.into(),
            })?;
        // Unknown holds are ignored by the room, so telling it about a hold that had already
        // expired or been released is harmless.
        if let Err(error) = self
            .ports
            .room
            .hold_released(hold.concert_id, hold.id)
            .await
        {
            room_update_failed("hold_released", hold.concert_id, &error);
        }
        Ok(())
    }
}
