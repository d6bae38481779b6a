//! Storage of tests, courses, registrations and their payments.
//!
//! The store guards the catalog's invariants: at most one live (not cancelled) registration per
//! user and item — a `pending` or `paid` payment holds that place, so ten identical applies at
//! once reach the gateway once —, a registration exists exactly when its payment is paid, and an
//! item's `registration_count` equals its live registrations, changed in the transaction of the
//! change itself. Every method is one transaction.

use crate::DependencyError;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reserva_domain::accounts::UserId;
use reserva_domain::catalog::{CancelRefusal, CompleteRefusal};
use reserva_domain::catalog::{
    CatalogCursor, CatalogItem, CatalogSort, CourseDetails, ItemDescription, ItemId, ItemKind,
    ItemTitle, Registration, RegistrationId, Schedule, SearchText,
};
use reserva_domain::paging::PageLimit;
use reserva_domain::wallet::{Money, Payment, PaymentId, PaymentMethod, PaymentStatus};
use thiserror::Error;

/// A test or course to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewItem {
    /// Pre-generated id (UUID v7).
    pub id: ItemId,
    /// Test or course.
    pub kind: ItemKind,
    /// Title.
    pub title: ItemTitle,
    /// Description.
    pub description: Option<ItemDescription>,
    /// Price.
    pub price: Money,
    /// When it is open.
    pub schedule: Schedule,
    /// For a course (required then, absent for a test).
    pub course: Option<CourseDetails>,
    /// Creation instant.
    pub now: DateTime<Utc>,
}

/// An item's editable fields, complete (the use case merges a partial edit onto the stored item
/// and validates the result; the store's own checks — price ≥ 0, starts before ends — still
/// refuse a combination two racing edits could make).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemUpdate {
    /// Title.
    pub title: ItemTitle,
    /// Description.
    pub description: Option<ItemDescription>,
    /// Price (payments already made keep theirs).
    pub price: Money,
    /// When it is open.
    pub schedule: Schedule,
    /// For a course.
    pub course: Option<CourseDetails>,
    /// Instant of the edit.
    pub now: DateTime<Utc>,
}

/// Which items a write may touch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemScope {
    /// Any (an admin).
    Any,
    /// Only courses this tutor teaches (checked in the write itself).
    TutoredBy(UserId),
}

/// Why an edit was not stored.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum UpdateItemError {
    /// No such item of that kind (or deleted, or outside the scope).
    #[error("item not found")]
    NotFound,
    /// The stored row refused the combination (a concurrent edit made starts ≥ ends).
    #[error("the edit conflicts with a concurrent one")]
    Conflict,
    /// The store failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

/// An item as one user sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedItem {
    /// The item.
    pub item: CatalogItem,
    /// Whether the viewer has a live registration for it.
    pub is_registered: bool,
}

/// One page of a catalog list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogQuery {
    /// Tests or courses.
    pub kind: ItemKind,
    /// Whose `is_registered`.
    pub viewer: UserId,
    /// `status=available`: only items open at this instant (`starts_at ≤ t ≤ ends_at`).
    pub open_at: Option<DateTime<Utc>>,
    /// Full-text search: every word of it must match the title or description.
    pub search: Option<SearchText>,
    /// Order.
    pub sort: CatalogSort,
    /// After this row (of the same sort).
    pub after: Option<CatalogCursor>,
    /// Page size: the store returns at most `limit + 1` rows.
    pub limit: PageLimit,
}

/// Tests and courses.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait CatalogRepository: Send + Sync {
    /// Stores a new item (with `registration_count` 0).
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    async fn create_item(&self, item: NewItem) -> Result<CatalogItem, DependencyError>;

    /// One item of `kind` that is not deleted, with `viewer`'s `is_registered`.
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    async fn item(
        &self,
        kind: ItemKind,
        id: ItemId,
        viewer: UserId,
    ) -> Result<Option<ListedItem>, DependencyError>;

    /// Replaces an item's editable fields, if it exists, is not deleted and is within `scope`.
    ///
    /// # Errors
    /// `NotFound`, `Conflict`, `Dependency`.
    async fn update_item(
        &self,
        kind: ItemKind,
        id: ItemId,
        scope: ItemScope,
        update: ItemUpdate,
    ) -> Result<CatalogItem, UpdateItemError>;

    /// Soft-deletes an item within `scope`: hidden from lists and reads and closed to new
    /// registrations; existing registrations and payments stay (and may still be cancelled).
    /// `false` when there was no such item.
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    async fn delete_item(
        &self,
        kind: ItemKind,
        id: ItemId,
        scope: ItemScope,
        now: DateTime<Utc>,
    ) -> Result<bool, DependencyError>;

    /// A page of items, in `query.sort` order, at most `limit + 1` rows.
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    async fn list_items(&self, query: CatalogQuery) -> Result<Vec<ListedItem>, DependencyError>;
}

/// An attempt to pay for a registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentIntent {
    /// The payment's id: derived from the client's `Idempotency-Key`, or random.
    pub payment_id: PaymentId,
    /// Who pays.
    pub user_id: UserId,
    /// Test or course.
    pub kind: ItemKind,
    /// What for.
    pub item_id: ItemId,
    /// The amount the client sent: must equal the item's price.
    pub amount: Money,
    /// How.
    pub method: PaymentMethod,
    /// The instant of the request: the item must be open at it.
    pub now: DateTime<Utc>,
}

/// Why a payment could not begin. The store checks the item in the write itself, so an edit or
/// a close racing the apply cannot slip between check and write.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BeginPaymentError {
    /// No such item of that kind (or deleted).
    #[error("item not found")]
    ItemNotFound,
    /// The item is not open at `now`.
    #[error("the item is not open now")]
    NotOpen,
    /// The amount is not the item's price.
    #[error("the amount must equal the price {price}")]
    PriceMismatch {
        /// The item's price.
        price: Money,
    },
    /// The user already holds a live registration (or a pending payment) for the item.
    #[error("already registered")]
    AlreadyRegistered,
    /// A payment with this id exists for another user, item, amount or method.
    #[error("payment id already used for another payment")]
    IdReused,
    /// (Wallet only) the wallet holds less than the amount.
    #[error("insufficient balance")]
    InsufficientBalance,
    /// The store failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

/// A paid payment and its registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settled {
    /// The payment (`paid`, or later states when replayed).
    pub payment: Payment,
    /// Its registration.
    pub registration: Registration,
}

/// What [`RegistrationRepository::begin_payment`] found or made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Begun {
    /// A new `pending` payment: send it to the gateway.
    New(Payment),
    /// A payment with this id and the same user, item, amount and method already existed (a
    /// retry): `pending` (resume it at the gateway, which is idempotent by payment id), `failed`
    /// (final), or settled (paid or later, with its registration).
    Existing(Payment, Option<Registration>),
}

/// Why a pending payment could not be settled.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SettleError {
    /// No such payment.
    #[error("payment not found")]
    NotFound,
    /// It is no longer pending and not paid (it failed): nothing done.
    #[error("the payment is {0:?}")]
    NotPending(PaymentStatus),
    /// The store failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

/// Why a registration could not be completed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CompleteError {
    /// The user never registered for the item.
    #[error("no registration")]
    NotFound,
    /// The user's latest registration for it is completed or cancelled.
    #[error(transparent)]
    Refused(#[from] CompleteRefusal),
    /// The store failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

/// A cancelled payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cancelled {
    /// The payment, now `cancelled` (with `refund` pending for a gateway payment, not due for the
    /// wallet: refunded in the same transaction).
    pub payment: Payment,
    /// Its registration, now `cancelled`.
    pub registration: Option<Registration>,
}

/// Why a payment could not be cancelled.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CancelPaymentError {
    /// No such payment shown to this user (others' payments, pending and failed ones are absent).
    #[error("payment not found")]
    NotFound,
    /// Its registration is completed, or it is already cancelled.
    #[error(transparent)]
    Refused(#[from] CancelRefusal),
    /// The store failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

/// Which of a user's payments to list (only `paid` and `cancelled` ones are ever listed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentQuery {
    /// Whose.
    pub user_id: UserId,
    /// Only this status (`paid` or `cancelled`).
    pub status: Option<PaymentStatus>,
    /// Only this kind.
    pub kind: Option<ItemKind>,
    /// Paid at or after this instant (the start of the `from` date in the business time zone).
    pub paid_from: Option<DateTime<Utc>>,
    /// Paid before this instant (the start of the day after `to`).
    pub paid_before: Option<DateTime<Utc>>,
    /// The item title contains this text (case-insensitive, literal: `%` and `_` match
    /// themselves).
    pub search: Option<SearchText>,
    /// After this row, newest `paid_at` first then id descending.
    pub after: Option<(DateTime<Utc>, PaymentId)>,
    /// Page size: at most `limit + 1` rows.
    pub limit: PageLimit,
}

/// What the ledger audit of the catalog found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CatalogAudit {
    /// Items checked.
    pub items_checked: u64,
    /// Each violation, described (a count that is not the number of live registrations, two live
    /// registrations of one user for one item, a paid payment without its registration).
    pub violations: Vec<String>,
}

/// Registrations and their payments.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait RegistrationRepository: Send + Sync {
    /// Records a `pending` gateway payment holding the user's place, after checking in the same
    /// statement that the item exists, is open at `now` and costs `amount`, and that the user
    /// holds no live registration or pending payment for it. A payment with the same id is
    /// returned as [`Begun::Existing`] when it matches the intent (`IdReused` otherwise); a
    /// pending one is resumed: recorded again at `now` if that is later (see `fail_payment`). A
    /// failed payment stays failed: its id is never charged again (the provider may have
    /// charged and refunded it), so a client retries with a new key.
    ///
    /// # Errors
    /// Every [`BeginPaymentError`] but `InsufficientBalance`.
    async fn begin_payment(&self, intent: PaymentIntent) -> Result<Begun, BeginPaymentError>;

    /// Pays from the wallet in one transaction: the same checks as `begin_payment`, a ledger
    /// transfer wallet → the item's revenue (none for amount 0), the `paid` payment, the
    /// registration and the count; the new payment is recorded at `intent.now` (its
    /// `created_at`, to the microsecond: how the use case tells a new payment from a retry). A
    /// payment with the same id that matches the intent is returned as it stands (a retry;
    /// `IdReused` otherwise).
    ///
    /// # Errors
    /// Every [`BeginPaymentError`].
    async fn pay_from_wallet(&self, intent: PaymentIntent) -> Result<Settled, BeginPaymentError>;

    /// The gateway approved: `pending` → `paid` with the provider's reference, the registration
    /// (initial status of its kind) and the count + 1, and the ledger transfer provider → the
    /// item's revenue, in one transaction. Already `paid` (or later): returns it unchanged.
    ///
    /// # Errors
    /// `NotFound`, `NotPending` (it failed), `Dependency`.
    async fn settle_payment(
        &self,
        id: PaymentId,
        provider_reference: &str,
        now: DateTime<Utc>,
    ) -> Result<Settled, SettleError>;

    /// The gateway declined, or never received it: `pending` → `failed`, freeing the place —
    /// only if the payment was recorded at or before `recorded_before` (a request passes its
    /// own instant; the reconciler its cutoff, so a payment a retry resumed meanwhile, which
    /// `begin_payment` records again at the retry's instant, is left to that retry). Returns
    /// the payment as it stands; one that is no longer pending, or recorded later, is left as
    /// it is.
    ///
    /// # Errors
    /// `NotFound`, `Dependency`.
    async fn fail_payment(
        &self,
        id: PaymentId,
        recorded_before: DateTime<Utc>,
    ) -> Result<Payment, SettleError>;

    /// Completes the user's latest registration for the item.
    ///
    /// # Errors
    /// `NotFound`, `Refused`, `Dependency`.
    async fn complete(
        &self,
        user: UserId,
        kind: ItemKind,
        item: ItemId,
        now: DateTime<Utc>,
    ) -> Result<Registration, CompleteError>;

    /// Cancels the user's `paid` payment in one transaction: payment → `cancelled`, registration
    /// → `cancelled`, count − 1, and the refund — for the wallet a ledger transfer back (id
    /// derived from the payment), for the gateway the ledger transfer revenue → provider and the
    /// refund recorded as pending for [`Self::mark_refunded`]. Of concurrent cancels exactly one
    /// succeeds; the others see `AlreadyCancelled`.
    ///
    /// # Errors
    /// `NotFound` (absent, another user's, pending or failed), `Refused`, `Dependency`.
    async fn cancel_payment(
        &self,
        user: UserId,
        id: PaymentId,
        now: DateTime<Utc>,
    ) -> Result<Cancelled, CancelPaymentError>;

    /// The provider confirmed the refund: `refund` pending → done.
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    async fn mark_refunded(&self, id: PaymentId, now: DateTime<Utc>)
    -> Result<(), DependencyError>;

    /// One of the user's shown (`paid` or `cancelled`) payments.
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    async fn payment(
        &self,
        user: UserId,
        id: PaymentId,
    ) -> Result<Option<(Payment, Option<Registration>)>, DependencyError>;

    /// A page of the user's shown payments, newest `paid_at` first, at most `limit + 1`, each
    /// with its registration.
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    async fn payments(
        &self,
        query: PaymentQuery,
    ) -> Result<Vec<(Payment, Option<Registration>)>, DependencyError>;

    /// For the reconciler: `pending` payments recorded before `before`, oldest first, at most
    /// `limit`.
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    async fn pending_payments(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Payment>, DependencyError>;

    /// For the reconciler: cancelled gateway payments whose refund is pending, oldest first, at
    /// most `limit`.
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    async fn pending_refunds(&self, limit: u32) -> Result<Vec<Payment>, DependencyError>;

    /// Checks every item's `registration_count` against its live registrations, one live
    /// registration per user and item, one registration per paid payment, and that no item
    /// index is left unbuilt by an interrupted load ([`CatalogSeeder::defer_item_indexes`]).
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    async fn verify_catalog(&self) -> Result<CatalogAudit, DependencyError>;
}

/// A generated user for `reserva seed catalog` (all share one password hash: hashing a million
/// passwords would take hours and prove nothing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedUser {
    /// Id.
    pub id: UserId,
    /// E-mail (lowercase, unique: `seed-<n>@seed.reserva.invalid`).
    pub email: String,
    /// Username (unique).
    pub username: String,
    /// The shared argon2id hash.
    pub password_hash: String,
    /// Creation instant.
    pub now: DateTime<Utc>,
}

/// A generated paid registration: its payment (method `card`, reference `seed`) and
/// registration rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedRegistration {
    /// The payment's id.
    pub payment_id: PaymentId,
    /// The registration's id.
    pub registration_id: RegistrationId,
    /// Who.
    pub user_id: UserId,
    /// Test or course.
    pub kind: ItemKind,
    /// What.
    pub item_id: ItemId,
    /// Its title (the payment's snapshot).
    pub item_title: String,
    /// Its price.
    pub amount: Money,
    /// When.
    pub paid_at: DateTime<Utc>,
}

/// Bulk loading for `reserva seed catalog` (COPY or multi-row inserts; no per-row round trips).
#[async_trait]
pub trait CatalogSeeder: Send + Sync {
    /// Inserts a batch of items (ids must be new). Returns the rows written.
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    async fn insert_items(&self, items: &[NewItem]) -> Result<u64, DependencyError>;

    /// Inserts a batch of users (e-mails and usernames must be new).
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    async fn insert_users(&self, users: &[SeedUser]) -> Result<u64, DependencyError>;

    /// Inserts a batch of paid registrations with their payments; pairs (user, item) must be
    /// new. Counts are not touched: call [`Self::recount`] at the end.
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    async fn insert_registrations(
        &self,
        registrations: &[SeedRegistration],
    ) -> Result<u64, DependencyError>;

    /// Before items are loaded: when the store holds no item, it may set aside the item table's
    /// secondary indexes (the lists' and the search's, never one that guards uniqueness) to
    /// build each once from the loaded rows in [`Self::build_item_indexes`], which costs a
    /// fraction of a million rows' index insertions. What is set aside is recorded durably, so a
    /// load killed before the build leaves it to the next call of either method. Returns how
    /// many indexes are set aside (0 when the store holds items, or builds its indexes as it
    /// goes); when the store holds items, indexes an interrupted load left aside are built
    /// first.
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    async fn defer_item_indexes(&self) -> Result<u64, DependencyError>;

    /// The indexes [`Self::defer_item_indexes`] set aside and no build has made yet (a load in
    /// progress, or one that was killed): the lists and the search walk the whole table without
    /// them. Empty for a store that never sets any aside.
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    async fn deferred_item_indexes(&self) -> Result<Vec<String>, DependencyError>;

    /// Builds every index [`Self::defer_item_indexes`] set aside; returns how many.
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails (what is not built stays recorded).
    async fn build_item_indexes(&self) -> Result<u64, DependencyError>;

    /// Sets every item's `registration_count` to its live registrations and refreshes the
    /// planner's statistics (`ANALYZE`).
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    async fn recount(&self) -> Result<(), DependencyError>;
}
