//! Test-only writes the commerce cases need from slices whose stores may not exist yet: a
//! curriculum (until the curricula store lands) and an order paid or refunded (until the
//! checkout does it), each implemented in the adapter's test support with plain SQL — paying
//! and refunding through the adapter's own `grant_order_access` / `revoke_order_access`, the
//! functions the checkout's transactions call. A fixture panics when it fails: it is a test.

use chrono::{DateTime, Utc};
use reserva_domain::accounts::UserId;
use reserva_domain::catalog::ItemId;
use reserva_domain::commerce::{CurriculumId, OrderId};
use std::future::Future;

/// A curriculum to insert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestCurriculum {
    /// Id.
    pub id: CurriculumId,
    /// Name (shown as the title of its cart and order lines).
    pub name: String,
    /// Price.
    pub price: i64,
    /// Its tutor (a user).
    pub tutor: UserId,
    /// Its courses, in order.
    pub courses: Vec<ItemId>,
    /// Creation instant.
    pub now: DateTime<Utc>,
}

/// The test-only commerce writes.
pub trait CommerceFixtures: Send + Sync {
    /// Inserts a curriculum with its courses.
    fn insert_curriculum(&self, curriculum: TestCurriculum) -> impl Future<Output = ()> + Send;

    /// Soft-deletes a curriculum.
    fn delete_curriculum(
        &self,
        id: CurriculumId,
        now: DateTime<Utc>,
    ) -> impl Future<Output = ()> + Send;

    /// Marks a pending order paid at `paid_at` and grants its access, in one transaction, as
    /// the checkout's payment does.
    fn pay_order(&self, order: OrderId, paid_at: DateTime<Utc>) -> impl Future<Output = ()> + Send;

    /// Marks a paid order refunded at `now` and withdraws its access, in one transaction, as
    /// the checkout's refund does.
    fn refund_order(&self, order: OrderId, now: DateTime<Utc>) -> impl Future<Output = ()> + Send;
}
