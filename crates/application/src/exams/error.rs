//! Errors of the exams use cases.

use crate::{DependencyError, ErrorClass, FieldViolation, OUTCOME_UNKNOWN, UseCaseError};
use reserva_domain::exams::{ReservationId, TransitionError};
use thiserror::Error;

/// Why a reservation operation failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ExamError {
    /// Input breaks a rule (shape, hours, window, headcount).
    #[error("invalid reservation")]
    Invalid(Vec<FieldViolation>),
    /// Absent, or not the caller's.
    #[error("reservation not found")]
    NotFound,
    /// Admins only.
    #[error("administrators only")]
    Forbidden,
    /// The reservation's status does not allow this.
    #[error("{0}")]
    Transition(TransitionError),
    /// An hour lacks room.
    #[error("capacity exceeded for the hour starting {hour}")]
    CapacityExceeded {
        /// The hour, in the business time zone.
        hour: String,
    },
    /// An hour has no slot yet.
    #[error("the hour starting {hour} cannot be booked yet")]
    SlotUnavailable {
        /// The hour, in the business time zone.
        hour: String,
    },
    /// A dependency failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
    /// Creating the reservation was sent but its answer lost: it may or may not exist now.
    #[error("reservation {reservation} may or may not have been created: {source}")]
    OutcomeUnknown {
        /// The id it has if it was created.
        reservation: ReservationId,
        /// What was lost.
        source: DependencyError,
    },
}

impl UseCaseError for ExamError {
    fn class(&self) -> ErrorClass {
        match self {
            Self::Invalid(_) => ErrorClass::InvalidInput,
            Self::NotFound => ErrorClass::NotFound,
            Self::Forbidden => ErrorClass::Forbidden,
            Self::Transition(_) | Self::CapacityExceeded { .. } | Self::SlotUnavailable { .. } => {
                ErrorClass::Conflict
            }
            Self::Dependency(error) => error.class(),
            Self::OutcomeUnknown { .. } => ErrorClass::OutcomeUnknown,
        }
    }
    fn code(&self) -> &'static str {
        match self {
            Self::Invalid(_) => "validation_failed",
            Self::NotFound => "not_found",
            Self::Forbidden => "forbidden",
            Self::Transition(error) => error.code(),
            Self::CapacityExceeded { .. } => "capacity_exceeded",
            Self::SlotUnavailable { .. } => "slot_unavailable",
            Self::Dependency(error) => error.code(),
            Self::OutcomeUnknown { .. } => OUTCOME_UNKNOWN,
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

/// Why the slot query failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SlotQueryError {
    /// No hour of the date can be booked now.
    #[error(
        "no hour of {date} is inside the booking window (from {lead_hours} hours to {horizon_days} days ahead)"
    )]
    DateOutOfWindow {
        /// The date asked for.
        date: String,
        /// Lead time.
        lead_hours: i64,
        /// Horizon.
        horizon_days: i64,
    },
    /// A dependency failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

impl UseCaseError for SlotQueryError {
    fn class(&self) -> ErrorClass {
        match self {
            Self::DateOutOfWindow { .. } => ErrorClass::InvalidInput,
            Self::Dependency(error) => error.class(),
        }
    }
    fn code(&self) -> &'static str {
        match self {
            Self::DateOutOfWindow { .. } => "date_out_of_window",
            Self::Dependency(error) => error.code(),
        }
    }
}
