//! In-process shared state for a single instance: a lock, rate-limit counters, the marks of
//! revoked sessions and changed users, idempotency records and the concerts' waiting rooms, kept
//! in maps behind mutexes.
//!
//! Nothing is shared across processes, so this adapter is only correct when exactly one instance
//! of the service runs. Expired entries are pruned opportunistically on writes, so memory stays
//! bounded by the number of live entries.
//!
//! Each port lives in its own module with the part of the state it keeps, over the expiring maps
//! of [`expiring`]; this file only composes the parts into the one public store type.
//!
//! It also holds [`SimulatedGateway`], the in-process payment provider for tests and benchmarks,
//! and [`SimulatedCheckoutProvider`], the two-phase provider of commerce checkout.

mod expiring;
mod health;
mod idempotency;
mod locks;
mod payment_gateway;
mod rate_limits;
mod sessions;
mod waiting_room;

pub use payment_gateway::{
    CheckoutSimulatorRules, CheckoutSimulatorTotals, DECLINE_REASON, READY_DECLINE_REASON,
    SimulatedCheckoutProvider, SimulatedGateway, SimulatorRules, SimulatorTotals,
};
use std::sync::Arc;

/// Shared state held in this process. Cloning is cheap and every clone sees the same state.
#[derive(Debug, Clone, Default)]
pub struct MemorySharedState {
    state: Arc<State>,
}

/// One part per port, each defined (and only touched) in its port's module.
#[derive(Debug, Default)]
struct State {
    locks: locks::Locks,
    windows: rate_limits::Windows,
    marks: sessions::Marks,
    idempotency: idempotency::Records,
    rooms: waiting_room::Rooms,
}

impl MemorySharedState {
    /// Empty state: no locks, no counters, no revoked sessions.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
}
