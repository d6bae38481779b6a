//! The error pieces several exams use cases share. Each use case has its own enum (beside it),
//! so a signature admits only what that use case can return; what they have in common lives here:
//! the "no room in an hour" refusal, and the mapping of a store's refusal to a write.

use super::Exams;
use crate::ports::exams::ReservationWriteError;
use crate::{DependencyError, ErrorClass};
use reserva_domain::exams::{Actor, ReservationAction, TransitionError};
use thiserror::Error;

/// An hour a booking needs has no room. Creating, confirming and editing can all meet both
/// kinds, so each of their enums embeds this whole.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NoRoom {
    /// The hour lacks room for the headcount.
    #[error("capacity exceeded for the hour starting {hour}")]
    CapacityExceeded {
        /// The hour, in the business time zone.
        hour: String,
    },
    /// The hour has no slot yet.
    #[error("the hour starting {hour} cannot be booked yet")]
    SlotUnavailable {
        /// The hour, in the business time zone.
        hour: String,
    },
}

impl NoRoom {
    /// Always [`ErrorClass::Conflict`]: the request fits once the hour has room.
    #[must_use]
    pub const fn class(&self) -> ErrorClass {
        ErrorClass::Conflict
    }

    /// `capacity_exceeded` or `slot_unavailable`.
    #[must_use]
    pub const fn code(&self) -> &'static str {
        match self {
            Self::CapacityExceeded { .. } => "capacity_exceeded",
            Self::SlotUnavailable { .. } => "slot_unavailable",
        }
    }
}

/// The error enum of a use case that changes a stored reservation and can meet every refusal of
/// [`ReservationWriteError`] (confirming, editing), so one function maps the store's answer.
pub(super) trait RefusedWrite:
    From<DependencyError> + From<NoRoom> + From<TransitionError>
{
    /// The reservation is gone.
    const NOT_FOUND: Self;
}

impl Exams {
    /// The store refused `attempted` by `actor`: names the hour in the business time zone, and a
    /// status someone else changed first as the transition it now makes illegal.
    pub(super) fn write_error<E: RefusedWrite>(
        &self,
        error: ReservationWriteError,
        attempted: ReservationAction,
        actor: Actor,
    ) -> E {
        match error {
            ReservationWriteError::NotFound => E::NOT_FOUND,
            ReservationWriteError::StatusChanged { current } => TransitionError {
                from: current,
                action: attempted,
                actor,
            }
            .into(),
            ReservationWriteError::CapacityExceeded { hour } => NoRoom::CapacityExceeded {
                hour: self.local(hour),
            }
            .into(),
            ReservationWriteError::MissingSlot { hour } => NoRoom::SlotUnavailable {
                hour: self.local(hour),
            }
            .into(),
            ReservationWriteError::Dependency(error) => error.into(),
        }
    }
}
