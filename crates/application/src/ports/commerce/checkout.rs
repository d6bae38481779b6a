//! Storage of checkout payments (`order_payments`) and the receipts they make. Every method is
//! one transaction; those that touch a payment and its order lock the payment row first, then
//! the order row (the same order everywhere, so two of them cannot deadlock on each other).
//!
//! The ledger: a payment posts `provider_<method>` → `commerce_revenue`; a refund (asked by the
//! user, or automatic for an approval that can no longer pay its order) posts the reverse in the
//! same transaction that makes it due, and `refund` = `pending` records that the provider still
//! owes the confirmation ([`CheckoutRepository::finish_refund`] makes it `done`). So the ledger
//! is balanced at every commit, whatever the provider answers later.

use crate::DependencyError;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reserva_domain::accounts::UserId;
use reserva_domain::commerce::{
    CallbackEffect, CallbackResult, CheckoutId, CheckoutStatus, OrderId, OrderItem, OrderStatus,
    RefundState,
};
use reserva_domain::paging::PageLimit;
use reserva_domain::wallet::{Money, PaymentMethod};
use thiserror::Error;
use uuid::Uuid;

/// A checkout to open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenCheckout {
    /// Pre-generated id (UUID v7), the idempotency key at the provider.
    pub id: CheckoutId,
    /// The order paid.
    pub order_id: OrderId,
    /// Who pays (must own the order).
    pub user_id: UserId,
    /// Card, KakaoPay or bank transfer.
    pub method: PaymentMethod,
    /// The billing address to copy (a `billing_addresses.id` of this user); `None`: the user's
    /// default one, or no address at all when they have none (snapshot columns null).
    pub billing_address_id: Option<Uuid>,
    /// The instant.
    pub now: DateTime<Utc>,
    /// When the ready payment expires (`now + CHECKOUT_TTL`).
    pub expires_at: DateTime<Utc>,
}

/// What was opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenedCheckout {
    /// The payment's amount: the order's total.
    pub amount: Money,
    /// The order's item titles, in order (the use case makes the provider's description).
    pub item_titles: Vec<String>,
    /// The ready payment this one superseded, if any.
    pub superseded: Option<CheckoutId>,
}

/// Why a checkout was not opened (nothing was written).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum OpenCheckoutError {
    /// No such order, or another user's.
    #[error("no such order")]
    NotFound,
    /// The order is not pending.
    #[error("the order is not pending")]
    NotPending,
    /// The order's total is over `ORDER_TOTAL_LIMIT` (the second check).
    #[error("the order's total {total} is over the limit")]
    TotalExceeded {
        /// The total.
        total: Money,
    },
    /// The billing address given is not one of the user's.
    #[error("unknown billing address")]
    UnknownBillingAddress,
    /// The store failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

/// A callback to apply (its signature already verified).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplyCallback {
    /// The checkout.
    pub id: CheckoutId,
    /// What the provider says.
    pub result: CallbackResult,
    /// The provider's reference (stored when the payment has none yet; a stored one is kept).
    /// `None` when the result comes from a provider lookup that gave none.
    pub reference: Option<String>,
    /// The instant (`paid_at`, grants from it).
    pub now: DateTime<Utc>,
}

/// What a callback did, and where the payment stands after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackOutcome {
    /// The checkout.
    pub checkout_id: CheckoutId,
    /// Its order.
    pub order_id: OrderId,
    /// What this delivery did (`Replay` when a result was already recorded).
    pub effect: CallbackEffect,
    /// The result recorded on the payment (the first one delivered).
    pub recorded: CallbackResult,
    /// The payment's status after it.
    pub status: CheckoutStatus,
    /// The order's status after it.
    pub order_status: OrderStatus,
    /// The payment's refund state after it.
    pub refund: RefundState,
    /// When this delivery made a refund due (`RefundAutomatically`): the amount to refund at
    /// the provider. `None` for every other effect, a replay included.
    pub refund_due: Option<Money>,
}

/// Why a callback was not applied.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ApplyCallbackError {
    /// No such checkout.
    #[error("no such payment")]
    NotFound,
    /// The store failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

/// A refund to carry out at the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundDue {
    /// The checkout to refund.
    pub checkout_id: CheckoutId,
    /// Its order.
    pub order_id: OrderId,
    /// The whole amount.
    pub amount: Money,
}

/// Why a refund was not begun (nothing was written).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BeginRefundError {
    /// No such order, or another user's.
    #[error("no such order")]
    NotFound,
    /// The order is not paid (pending, cancelled, failed, or refunded already).
    #[error("the order is not paid")]
    NotPaid,
    /// Paid more than `REFUND_WINDOW` ago.
    #[error("the refund window has closed")]
    WindowClosed,
    /// The store failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

/// One checkout payment as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutRecord {
    /// Id.
    pub id: CheckoutId,
    /// Its order.
    pub order_id: OrderId,
    /// Who pays.
    pub user_id: UserId,
    /// How.
    pub method: PaymentMethod,
    /// How much.
    pub amount: Money,
    /// Where it stands.
    pub status: CheckoutStatus,
    /// Whether money is owed back to the provider.
    pub refund: RefundState,
    /// The first callback's result.
    pub callback_result: Option<CallbackResult>,
    /// The provider's reference.
    pub provider_reference: Option<String>,
    /// Where the user approves it.
    pub approval_url: Option<String>,
    /// Opened.
    pub created_at: DateTime<Utc>,
    /// Expires (while ready).
    pub expires_at: DateTime<Utc>,
    /// Paid.
    pub paid_at: Option<DateTime<Utc>>,
    /// Refunded (by the user's request).
    pub refunded_at: Option<DateTime<Utc>>,
}

/// Which page of a user's receipts: paid and refunded payments, newest `paid_at` first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptQuery {
    /// Whose.
    pub user_id: UserId,
    /// After this row (`paid_at` descending, then id descending).
    pub after: Option<(DateTime<Utc>, CheckoutId)>,
    /// Page size: the store returns at most `limit + 1` rows.
    pub limit: PageLimit,
}

/// A receipt in the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptSummary {
    /// The payment (the receipt number is made from it).
    pub checkout_id: CheckoutId,
    /// The order.
    pub order_id: OrderId,
    /// Paid or refunded.
    pub status: CheckoutStatus,
    /// How much.
    pub amount: Money,
    /// Paid.
    pub paid_at: DateTime<Utc>,
    /// Refunded.
    pub refunded_at: Option<DateTime<Utc>>,
}

/// The billing address as copied at checkout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BillingSnapshot {
    /// Country.
    pub country: String,
    /// Main address.
    pub main_address: String,
    /// Detail address.
    pub detail_address: String,
    /// Postal code.
    pub postal_code: String,
}

/// A receipt in full.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptDetail {
    /// The list's fields.
    pub summary: ReceiptSummary,
    /// How it was paid.
    pub method: PaymentMethod,
    /// The order's items as ordered.
    pub items: Vec<OrderItem>,
    /// The billing address copied at checkout (`None`: the user had none).
    pub billing: Option<BillingSnapshot>,
    /// The customer's e-mail (current).
    pub customer_email: String,
    /// Whether the refund is confirmed by the provider.
    pub refund: RefundState,
}

/// Checkout payments.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait CheckoutRepository: Send + Sync {
    /// Opens a checkout: locks the order; refuses an unknown or another user's order, one not
    /// pending, one over the total limit, an unknown billing address; marks the order's ready
    /// payment superseded; copies the billing address (given, else the default, else none);
    /// inserts the ready payment (amount = the order's total). Of two checkouts of one order
    /// racing, one ends ready and the other superseded.
    ///
    /// # Errors
    /// Every [`OpenCheckoutError`].
    async fn open(&self, checkout: OpenCheckout) -> Result<OpenedCheckout, OpenCheckoutError>;

    /// Stores the provider's reference and approval address of a ready payment; whether it was
    /// still ready (a payment superseded, failed or expired meanwhile is left as it is).
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    async fn attach(
        &self,
        id: CheckoutId,
        reference: String,
        approval_url: String,
        now: DateTime<Utc>,
    ) -> Result<bool, DependencyError>;

    /// The provider's ready failed: a payment still ready becomes failed (its order stays
    /// pending).
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    async fn fail_open(&self, id: CheckoutId, now: DateTime<Utc>) -> Result<(), DependencyError>;

    /// Applies a verified callback: locks the payment, then its order, decides with
    /// `domain::commerce::on_callback`, and writes all of the effect (payment, order, access
    /// grants, ledger transfers, refund state, the recorded result) in this one transaction.
    /// Delivered any number of times, in parallel or not, it takes effect once.
    ///
    /// # Errors
    /// `NotFound`, `Dependency`.
    async fn apply_callback(
        &self,
        callback: ApplyCallback,
    ) -> Result<CallbackOutcome, ApplyCallbackError>;

    /// Begins the refund of a paid order of `user` at `now`: payment refunded (`refunded_at`),
    /// order refunded, its access revoked, ledger transfer `commerce_revenue` →
    /// `provider_<method>`, refund = pending. Of parallel refunds of one order, one begins and
    /// the others are refused `NotPaid`.
    ///
    /// # Errors
    /// Every [`BeginRefundError`].
    async fn begin_refund(
        &self,
        order_id: OrderId,
        user_id: UserId,
        now: DateTime<Utc>,
    ) -> Result<RefundDue, BeginRefundError>;

    /// The provider confirmed the refund: refund pending → done (anything else is left).
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    async fn finish_refund(
        &self,
        id: CheckoutId,
        now: DateTime<Utc>,
    ) -> Result<(), DependencyError>;

    /// Up to `limit` refunds still pending and due at `now` (never tried, or their retry time
    /// has come: see [`CheckoutRepository::retry_later`]), the longest waiting first.
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    async fn due_refunds(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<RefundDue>, DependencyError>;

    /// A provider call for payment `id` (its pending refund, or the lookup of it overdue and
    /// ready) failed at `now`: it is not due again before `now +
    /// domain::commerce::retry_delay(attempts so far)`, so that the payments that keep failing
    /// go to the back of the sweep's batches instead of starving the others. Returns the
    /// attempts made so far, this one included (0 for an unknown payment).
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    async fn retry_later(&self, id: CheckoutId, now: DateTime<Utc>)
    -> Result<u32, DependencyError>;

    /// Up to `limit` ready payments whose `expires_at ≤ now` and whose retry time (if any) has
    /// come, the oldest first.
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    async fn overdue_ready(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<CheckoutId>, DependencyError>;

    /// Expires a payment that is still ready and past its `expires_at` at `now`; whether it did.
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    async fn expire_ready(
        &self,
        id: CheckoutId,
        now: DateTime<Utc>,
    ) -> Result<bool, DependencyError>;

    /// One checkout payment, whoever's it is.
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    async fn checkout(&self, id: CheckoutId) -> Result<Option<CheckoutRecord>, DependencyError>;

    /// A page of the user's receipts (paid and refunded payments), newest `paid_at` first, at
    /// most `limit + 1`.
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    async fn receipts(&self, query: ReceiptQuery) -> Result<Vec<ReceiptSummary>, DependencyError>;

    /// One of the user's receipts (`None`: absent, another user's, or never paid).
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    async fn receipt(
        &self,
        user_id: UserId,
        id: CheckoutId,
    ) -> Result<Option<ReceiptDetail>, DependencyError>;
}
