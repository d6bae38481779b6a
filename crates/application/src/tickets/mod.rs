//! Tickets use cases: concerts (created by admins), the waiting room in front of each concert,
//! seat holds, paying for them from the wallet, bookings, cancelling a performance, and the
//! sweeper that tidies expired holds and keeps every room's copy of the inventory in step.
//!
//! The store decides every seat (held, sold, refunded); the room only decides who may try. So
//! after the store commits, a failing room update is logged and the request still succeeds: the
//! room's copy is then stale until the next sweep, which can delay admissions but never oversell.

mod access;
mod bookings;
mod browse;
mod cancel;
mod concerts;
mod create;
mod hold;
mod pay;
mod queue;
mod sweep;
#[cfg(test)]
mod test_support;

pub use access::QueueAccessError;
pub use bookings::{BookingPage, ListBookingsError};
pub use browse::{AvailableDatesError, SeatMapError};
pub use cancel::CancelPerformanceUseCaseError;
pub use concerts::{ConcertPage, GetConcertError, ListConcertsError};
pub use create::{CreateConcertCommand, CreateConcertError, MAX_PERFORMANCES};
pub use hold::{HoldSeatError, ReleaseHoldError};
pub use pay::{PayHoldError, payment_transfer_id};
pub use queue::{JoinQueueError, QueueTicket};
pub use sweep::{SWEEP_BATCH, SweepReport};

use crate::DependencyError;
use crate::ports::system::Clock;
use crate::ports::tickets::{ConcertInventory, ConcertRepository, SeatHoldRepository};
use crate::ports::waiting_room::{RoomInventory, RoomRules, WaitingRoom};
use chrono::{DateTime, Utc};
use reserva_domain::exams::BusinessZone;
use reserva_domain::tickets::{ConcertId, TicketPolicy};
use std::sync::Arc;
use std::time::Duration;

/// Everything the tickets use cases talk to.
#[derive(Clone)]
pub struct TicketsPorts {
    /// Concerts and performances.
    pub concerts: Arc<dyn ConcertRepository>,
    /// Seat holds and bookings.
    pub holds: Arc<dyn SeatHoldRepository>,
    /// The waiting rooms.
    pub room: Arc<dyn WaitingRoom>,
    /// Time.
    pub clock: Arc<dyn Clock>,
}

/// The tickets use cases.
#[derive(Clone)]
pub struct Tickets {
    ports: TicketsPorts,
    policy: TicketPolicy,
    zone: BusinessZone,
    rate_window: Duration,
}

impl Tickets {
    /// Over how long the room measures its admission rate (for ETAs) unless told otherwise.
    pub const DEFAULT_RATE_WINDOW: Duration = Duration::from_secs(60);

    /// Builds the use cases.
    #[must_use]
    pub fn new(ports: TicketsPorts, policy: TicketPolicy, zone: BusinessZone) -> Self {
        Self {
            ports,
            policy,
            zone,
            rate_window: Self::DEFAULT_RATE_WINDOW,
        }
    }

    /// Measures the admission rate over `window` instead (`tickets.queue_rate_window_seconds`).
    #[must_use]
    pub const fn with_rate_window(mut self, window: Duration) -> Self {
        self.rate_window = window;
        self
    }

    /// The policy in force.
    #[must_use]
    pub const fn policy(&self) -> TicketPolicy {
        self.policy
    }

    /// The business time zone (what a performance's date means).
    #[must_use]
    pub const fn zone(&self) -> BusinessZone {
        self.zone
    }

    /// The rules every room call is made with.
    #[must_use]
    pub const fn room_rules(&self) -> RoomRules {
        RoomRules {
            max_active: self.policy.max_active,
            admission_margin: self.policy.admission_margin,
            active_ttl: self.policy.active_ttl,
            idle_timeout: self.policy.idle_timeout,
            rate_window: self.rate_window,
        }
    }

    fn now(&self) -> DateTime<Utc> {
        self.ports.clock.now()
    }

    /// Loads the concert's inventory from the store and gives the room a copy.
    async fn resync_room(&self, concert: ConcertId, now: DateTime<Utc>) -> Result<(), RoomSync> {
        let inventory = self
            .ports
            .concerts
            .inventory(concert, now)
            .await
            .map_err(RoomSync::Store)?;
        self.ports
            .room
            .set_inventory(concert, &room_inventory(inventory))
            .await
            .map_err(RoomSync::Room)
    }
}

/// Which side of a room resync failed.
#[derive(Debug)]
enum RoomSync {
    /// Reading the store's inventory.
    Store(DependencyError),
    /// Writing the room's copy.
    Room(DependencyError),
}

impl RoomSync {
    fn into_dependency(self) -> DependencyError {
        match self {
            Self::Store(error) | Self::Room(error) => error,
        }
    }
}

fn room_inventory(inventory: ConcertInventory) -> RoomInventory {
    RoomInventory {
        unsold_seats: inventory.unsold_seats,
        holds: inventory.holds,
    }
}

/// Logs a room update that failed after the store committed: the request has done what it was
/// for, and the sweeper will resynchronise the room.
fn room_update_failed(what: &'static str, concert: ConcertId, error: &DependencyError) {
    tracing::warn!(%concert, %error, update = what, "waiting room not updated; the sweeper will resync it");
}
