//! Exams use cases: the slot query, creating, reading, editing, confirming and cancelling
//! reservations, and keeping slots generated across the booking horizon.

mod booking;
mod cancel;
mod confirm;
mod create;
mod edit;
mod error;
mod read;
mod slots;
#[cfg(test)]
mod test_support;

pub use cancel::CancelReservationError;
pub use confirm::ConfirmReservationError;
pub use create::{CreateReservationCommand, CreateReservationError};
pub use edit::{EditReservationCommand, EditReservationError};
pub use error::NoRoom;
pub use read::{
    GetReservationError, ListReservationsCommand, ListReservationsError, ReservationPage,
};
pub use slots::{DaySlots, SlotQueryError};

use crate::DependencyError;
use crate::accounts::Principal;
use crate::ports::exams::{ExamSlotRepository, ReservationRepository};
use crate::ports::system::Clock;
use chrono::{DateTime, Utc};
use reserva_domain::exams::{Actor, BookingPolicy, BusinessZone, Reservation, ReservationId};
use std::sync::Arc;

/// Everything the exams use cases talk to.
#[derive(Clone)]
pub struct ExamsPorts {
    /// Hourly slots.
    pub slots: Arc<dyn ExamSlotRepository>,
    /// Reservations.
    pub reservations: Arc<dyn ReservationRepository>,
    /// Time.
    pub clock: Arc<dyn Clock>,
}

/// The exams use cases.
#[derive(Clone)]
pub struct Exams {
    ports: ExamsPorts,
    policy: BookingPolicy,
    zone: BusinessZone,
}

impl Exams {
    /// Builds the use cases.
    #[must_use]
    pub fn new(ports: ExamsPorts, policy: BookingPolicy, zone: BusinessZone) -> Self {
        Self {
            ports,
            policy,
            zone,
        }
    }

    /// The policy in force (`reserva exams slots` marks the hours it refuses).
    #[must_use]
    pub const fn policy(&self) -> BookingPolicy {
        self.policy
    }

    /// The business time zone.
    #[must_use]
    pub const fn zone(&self) -> BusinessZone {
        self.zone
    }

    fn now(&self) -> DateTime<Utc> {
        self.ports.clock.now()
    }

    /// An hour as error details name it: as response bodies show instants.
    fn local(&self, instant: DateTime<Utc>) -> String {
        crate::time::format_instant(instant, self.zone)
    }

    /// Loads a reservation the caller may see: its owner or an admin. Others get `None`, like an
    /// absent one, so the existence of other users' reservations is never revealed.
    async fn visible(
        &self,
        principal: &Principal,
        id: ReservationId,
    ) -> Result<Option<(Reservation, Actor)>, DependencyError> {
        let Some(reservation) = self.ports.reservations.find_reservation(id).await? else {
            return Ok(None);
        };
        Ok(if principal.is_admin() {
            Some((reservation, Actor::Admin))
        } else if reservation.user_id == principal.user_id {
            Some((reservation, Actor::Owner))
        } else {
            None
        })
    }
}
