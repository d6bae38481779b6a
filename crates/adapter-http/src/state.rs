//! What every handler can reach: the use cases (accounts, catalog, exams, tickets, wallet),
//! idempotency records, the health probes and the proxies whose forwarded client addresses are
//! believed.

use crate::client_address::TrustedProxies;
use reserva_application::accounts::Accounts;
use reserva_application::catalog::Catalog;
use reserva_application::commerce::billing::BillingAddresses;
use reserva_application::commerce::{Checkout, Curricula, Shopping};
use reserva_application::exams::Exams;
use reserva_application::ports::shared_state::IdempotencyRecords;
use reserva_application::ports::system::HealthProbe;
use reserva_application::tickets::Tickets;
use reserva_application::wallet::Wallet;
use reserva_domain::exams::BusinessZone;
use std::sync::Arc;

/// Shared, cheaply cloned application state handed to every worker.
#[derive(Clone)]
pub struct ApiState {
    /// Accounts use cases.
    pub accounts: Accounts,
    /// Catalog use cases: tests, courses, registrations and their payments.
    pub catalog: Catalog,
    /// Commerce use cases: curricula.
    pub curricula: Curricula,
    /// Commerce use cases: the cart, orders and course access.
    pub shopping: Shopping,
    /// Commerce use cases: the caller's billing addresses.
    pub billing: BillingAddresses,
    /// Commerce checkout: payments, callbacks, refunds, receipts.
    pub checkout: Checkout,
    /// Exams use cases.
    pub exams: Exams,
    /// Tickets use cases: concerts, the waiting room, seat holds and bookings.
    pub tickets: Tickets,
    /// Wallet use cases.
    pub wallet: Wallet,
    /// Idempotency keys of booking POSTs (shared state).
    pub idempotency: Arc<dyn IdempotencyRecords>,
    /// Dependencies `/readyz` checks.
    pub health_probes: Vec<Arc<dyn HealthProbe>>,
    /// Time zone in which timestamps are shown.
    pub time_zone: BusinessZone,
    /// Peers whose `X-Forwarded-For` names the client (the login limits count by client).
    pub trusted_proxies: TrustedProxies,
}
