//! Test-only writes the commerce cases need from a slice whose store may not exist yet: an order
//! paid or refunded (until the checkout does it), implemented in the adapter's test support with plain SQL — paying
//! and refunding through the adapter's own `grant_order_access` / `revoke_order_access`, the
//! functions the checkout's transactions call. A fixture panics when it fails: it is a test.

use chrono::{DateTime, Utc};
use reserva_domain::accounts::UserId;
use reserva_domain::commerce::OrderId;
use std::future::Future;
use uuid::Uuid;

/// The test-only commerce writes.
pub trait CommerceFixtures: Send + Sync {
    /// Marks a pending order paid at `paid_at` and grants its access, in one transaction, as
    /// the checkout's payment does.
    fn pay_order(&self, order: OrderId, paid_at: DateTime<Utc>) -> impl Future<Output = ()> + Send;

    /// Marks a paid order refunded at `now` and withdraws its access, in one transaction, as
    /// the checkout's refund does.
    fn refund_order(&self, order: OrderId, now: DateTime<Utc>) -> impl Future<Output = ()> + Send;

    /// Inserts a billing address of `user` (country `KR`, main address `main`, detail `101`,
    /// postal code `04524`), the default one when `default` (the user's other default, if any,
    /// is cleared first). Returns its id.
    fn billing_address(
        &self,
        user: UserId,
        main: &str,
        default: bool,
    ) -> impl Future<Output = Uuid> + Send;

    /// Rewrites a billing address's main address (to show that a receipt keeps its copy).
    fn edit_billing_address(&self, id: Uuid, main: &str) -> impl Future<Output = ()> + Send;

    /// Sets an order's stored total, bypassing the order's own check: how an order over the
    /// limit reaches the checkout's second check.
    fn force_order_total(&self, order: OrderId, total: i64) -> impl Future<Output = ()> + Send;
}
