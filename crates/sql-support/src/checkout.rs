//! The checkout's decisions and row conversions, the same for both SQL stores: each store locks
//! and reads its rows its own way (PostgreSQL: the payment row, then the order row; SQLite: one
//! `BEGIN IMMEDIATE` transaction), asks these what to write, and writes it.
//!
//! A callback becomes a [`CallbackPlan`] (from `domain::commerce::on_callback`): the payment's
//! new columns, the order's change, whether access is granted, and the ledger transfers
//! ([`Movement`]s) to post. A refund and an open are checked by [`check_refund`] and
//! [`check_open`].

use crate::commerce::{StoredOrderItem, item_ref, money};
use chrono::{DateTime, Utc};
use reserva_application::DependencyError;
use reserva_application::ports::commerce::checkout::{
    BeginRefundError, BillingSnapshot, CallbackOutcome, CheckoutRecord, OpenCheckoutError,
    ReceiptDetail, ReceiptSummary,
};
use reserva_domain::accounts::UserId;
use reserva_domain::commerce::{
    CallbackEffect, CallbackResult, CheckoutId, CheckoutStatus, ORDER_TOTAL_LIMIT, OrderId,
    OrderItem, OrderItemId, OrderStatus, RefundState, may_refund, on_callback,
};
use reserva_domain::wallet::{
    LedgerAccount, Money, PaymentMethod, RevenueStream, TransferId, TransferKind,
};
use uuid::Uuid;

fn corrupt(what: &str) -> DependencyError {
    DependencyError::Failed(format!("stored checkout row has an invalid {what}"))
}

/// An `order_payments` row as plain values (the billing snapshot aside).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCheckout {
    /// `id`.
    pub id: Uuid,
    /// `order_id`.
    pub order_id: Uuid,
    /// `user_id`.
    pub user_id: Uuid,
    /// `method`.
    pub method: String,
    /// `amount`.
    pub amount: i64,
    /// `status`.
    pub status: String,
    /// `provider_reference`.
    pub provider_reference: Option<String>,
    /// `approval_url`.
    pub approval_url: Option<String>,
    /// `refund`.
    pub refund: String,
    /// `callback_result`.
    pub callback_result: Option<String>,
    /// `created_at`.
    pub created_at: DateTime<Utc>,
    /// `expires_at`.
    pub expires_at: DateTime<Utc>,
    /// `paid_at`.
    pub paid_at: Option<DateTime<Utc>>,
    /// `refunded_at`.
    pub refunded_at: Option<DateTime<Utc>>,
}

fn method(name: &str) -> Result<PaymentMethod, DependencyError> {
    PaymentMethod::parse(name)
        .filter(|method| method.uses_gateway())
        .ok_or_else(|| corrupt("method"))
}

fn status(name: &str) -> Result<CheckoutStatus, DependencyError> {
    CheckoutStatus::parse(name).ok_or_else(|| corrupt("status"))
}

fn refund_state(name: &str) -> Result<RefundState, DependencyError> {
    RefundState::parse(name).ok_or_else(|| corrupt("refund state"))
}

impl StoredCheckout {
    /// The record.
    ///
    /// # Errors
    /// [`DependencyError::Failed`] for a corrupt row.
    pub fn into_record(self) -> Result<CheckoutRecord, DependencyError> {
        Ok(CheckoutRecord {
            id: CheckoutId::from_uuid(self.id),
            order_id: OrderId::from_uuid(self.order_id),
            user_id: UserId::from_uuid(self.user_id),
            method: method(&self.method)?,
            amount: money(self.amount)?,
            status: status(&self.status)?,
            refund: refund_state(&self.refund)?,
            callback_result: self
                .callback_result
                .as_deref()
                .map(|name| CallbackResult::parse(name).ok_or_else(|| corrupt("callback result")))
                .transpose()?,
            provider_reference: self.provider_reference,
            approval_url: self.approval_url,
            created_at: self.created_at,
            expires_at: self.expires_at,
            paid_at: self.paid_at,
            refunded_at: self.refunded_at,
        })
    }
}

/// A receipt row as plain values: a paid or refunded payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredReceipt {
    /// `id`.
    pub id: Uuid,
    /// `order_id`.
    pub order_id: Uuid,
    /// `status`.
    pub status: String,
    /// `amount`.
    pub amount: i64,
    /// `paid_at` (set: the row is paid or refunded).
    pub paid_at: Option<DateTime<Utc>>,
    /// `refunded_at`.
    pub refunded_at: Option<DateTime<Utc>>,
}

impl StoredReceipt {
    /// The receipt's list fields.
    ///
    /// # Errors
    /// [`DependencyError::Failed`] for a corrupt row (or one never paid).
    pub fn into_summary(self) -> Result<ReceiptSummary, DependencyError> {
        let status = status(&self.status)?;
        if !matches!(status, CheckoutStatus::Paid | CheckoutStatus::Refunded) {
            return Err(corrupt("receipt status"));
        }
        Ok(ReceiptSummary {
            checkout_id: CheckoutId::from_uuid(self.id),
            order_id: OrderId::from_uuid(self.order_id),
            status,
            amount: money(self.amount)?,
            paid_at: self.paid_at.ok_or_else(|| corrupt("paid_at"))?,
            refunded_at: self.refunded_at,
        })
    }
}

/// A receipt in full as plain values: its row, the payment's method and refund state, the four
/// billing columns, the customer's e-mail and the order's items (by `position`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredReceiptDetail {
    /// The list's columns.
    pub receipt: StoredReceipt,
    /// `method`.
    pub method: String,
    /// `refund`.
    pub refund: String,
    /// `billing_country`.
    pub billing_country: Option<String>,
    /// `billing_main_address`.
    pub billing_main_address: Option<String>,
    /// `billing_detail_address`.
    pub billing_detail_address: Option<String>,
    /// `billing_postal_code`.
    pub billing_postal_code: Option<String>,
    /// `users.email`.
    pub email: String,
    /// The order's items.
    pub items: Vec<StoredOrderItem>,
}

impl StoredReceiptDetail {
    /// The receipt.
    ///
    /// # Errors
    /// [`DependencyError::Failed`] for a corrupt row.
    pub fn into_detail(self) -> Result<ReceiptDetail, DependencyError> {
        Ok(ReceiptDetail {
            summary: self.receipt.into_summary()?,
            method: method(&self.method)?,
            items: order_items(self.items)?,
            billing: billing_snapshot(
                self.billing_country,
                self.billing_main_address,
                self.billing_detail_address,
                self.billing_postal_code,
            )?,
            customer_email: self.email,
            refund: refund_state(&self.refund)?,
        })
    }
}

/// The billing snapshot of a row's four columns: all set, or none (the user had no address).
///
/// # Errors
/// [`DependencyError::Failed`] when only some are set.
pub fn billing_snapshot(
    country: Option<String>,
    main_address: Option<String>,
    detail_address: Option<String>,
    postal_code: Option<String>,
) -> Result<Option<BillingSnapshot>, DependencyError> {
    match (country, main_address, detail_address, postal_code) {
        (Some(country), Some(main_address), Some(detail_address), Some(postal_code)) => {
            Ok(Some(BillingSnapshot {
                country,
                main_address,
                detail_address,
                postal_code,
            }))
        }
        (None, None, None, None) => Ok(None),
        _ => Err(corrupt("billing snapshot")),
    }
}

/// An order's items as stored, in the order given (their `position`).
///
/// # Errors
/// [`DependencyError::Failed`] for a corrupt row.
pub fn order_items(items: Vec<StoredOrderItem>) -> Result<Vec<OrderItem>, DependencyError> {
    items
        .into_iter()
        .map(|item| {
            Ok(OrderItem {
                id: OrderItemId::from_uuid(item.id),
                item: item_ref(item.course_id, item.curriculum_id)?,
                title: item.title,
                price: money(item.price)?,
            })
        })
        .collect()
}

/// The order a checkout opens on, as read under its lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderForCheckout {
    /// `orders.user_id`.
    pub user_id: Uuid,
    /// `orders.status`.
    pub status: String,
    /// `orders.total`.
    pub total: i64,
}

fn order_status(name: &str) -> Result<OrderStatus, DependencyError> {
    OrderStatus::parse(name).ok_or_else(|| DependencyError::Failed("stored order status".into()))
}

/// Whether `user` may open a checkout on `order` (`None`: no such order): theirs, pending, and
/// its total within `ORDER_TOTAL_LIMIT`. Returns the amount to pay.
///
/// # Errors
/// `NotFound`, `NotPending`, `TotalExceeded`, or `Dependency` for a corrupt row.
pub fn check_open(
    order: Option<&OrderForCheckout>,
    user: UserId,
) -> Result<Money, OpenCheckoutError> {
    let order = order
        .filter(|order| order.user_id == user.as_uuid())
        .ok_or(OpenCheckoutError::NotFound)?;
    if order_status(&order.status)? != OrderStatus::Pending {
        return Err(OpenCheckoutError::NotPending);
    }
    let total = money(order.total)?;
    if total > ORDER_TOTAL_LIMIT {
        return Err(OpenCheckoutError::TotalExceeded { total });
    }
    Ok(total)
}

/// The id of the transfer that pays checkout `id` (provider → commerce revenue): derived, so
/// it is posted at most once.
#[must_use]
pub fn payment_transfer(id: CheckoutId) -> TransferId {
    TransferId::derive("commerce-payment", id.as_uuid(), "")
}

/// The id of the transfer that refunds checkout `id` (commerce revenue → provider).
#[must_use]
pub fn refund_transfer(id: CheckoutId) -> TransferId {
    TransferId::derive("commerce-refund", id.as_uuid(), "")
}

/// One ledger transfer a checkout posts; the store adds the instant and posts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Movement {
    /// Its id (derived from the checkout).
    pub id: TransferId,
    /// Payment or refund.
    pub kind: TransferKind,
    /// Debited.
    pub from: LedgerAccount,
    /// Credited.
    pub to: LedgerAccount,
    /// A positive amount.
    pub amount: Money,
    /// The payer.
    pub user: UserId,
    /// The checkout it belongs to.
    pub reference: Uuid,
}

fn movement(record: &CheckoutRecord, kind: TransferKind) -> Option<Movement> {
    if record.amount == Money::ZERO {
        // nothing moved: the ledger holds no zero transfer
        return None;
    }
    let provider = LedgerAccount::Provider(record.method);
    let revenue = LedgerAccount::Revenue(RevenueStream::Commerce);
    let (id, from, to) = match kind {
        TransferKind::Refund => (refund_transfer(record.id), revenue, provider),
        TransferKind::Payment | TransferKind::Charge => {
            (payment_transfer(record.id), provider, revenue)
        }
    };
    Some(Movement {
        id,
        kind,
        from,
        to,
        amount: record.amount,
        user: record.user_id,
        reference: record.id.as_uuid(),
    })
}

/// What a callback does to the order row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderChange {
    /// pending → paid at the callback's instant.
    Paid,
    /// pending → cancelled at the callback's instant.
    Cancelled,
}

/// Everything one callback writes, decided from the rows read under their locks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackPlan {
    /// What `on_callback` decided.
    pub effect: CallbackEffect,
    /// The payment row's columns after it (nothing is written for a replay).
    pub status: CheckoutStatus,
    /// `refund` after it.
    pub refund: RefundState,
    /// `callback_result` after it.
    pub recorded: CallbackResult,
    /// `paid_at` is set to the callback's instant.
    pub pays: bool,
    /// The order row's change, if any.
    pub order: Option<OrderChange>,
    /// Access to the order's courses is granted from the callback's instant.
    pub grant: bool,
    /// The transfers to post, in order.
    pub movements: Vec<Movement>,
    order_status: OrderStatus,
}

impl CallbackPlan {
    /// Whether the payment row is written (anything but a replay).
    #[must_use]
    pub const fn writes(&self) -> bool {
        !matches!(self.effect, CallbackEffect::Replay)
    }

    /// The answer of the callback.
    #[must_use]
    pub fn outcome(&self, record: &CheckoutRecord) -> CallbackOutcome {
        CallbackOutcome {
            checkout_id: record.id,
            order_id: record.order_id,
            effect: self.effect,
            recorded: self.recorded,
            status: self.status,
            order_status: self.order_status,
            refund: self.refund,
            refund_due: matches!(self.effect, CallbackEffect::RefundAutomatically { .. })
                .then_some(record.amount),
        }
    }
}

/// Decides a callback with `result` for `record`, whose order is `order` (a stored status).
///
/// # Errors
/// [`DependencyError::Failed`] for a corrupt order status.
pub fn plan_callback(
    record: &CheckoutRecord,
    order: &str,
    result: CallbackResult,
) -> Result<CallbackPlan, DependencyError> {
    let order_now = order_status(order)?;
    let effect = on_callback(record.status, order_now, record.callback_result, result);
    let mut plan = CallbackPlan {
        effect,
        status: record.status,
        refund: record.refund,
        // a replay keeps what is recorded; any other effect records this result (an approval
        // after a recorded refusal overwrites it)
        recorded: match (effect, record.callback_result) {
            (CallbackEffect::Replay, Some(recorded)) => recorded,
            _ => result,
        },
        pays: false,
        order: None,
        grant: false,
        movements: Vec::new(),
        order_status: order_now,
    };
    match effect {
        CallbackEffect::Replay | CallbackEffect::Ignore => {}
        CallbackEffect::Pay => {
            plan.status = CheckoutStatus::Paid;
            plan.pays = true;
            plan.order = Some(OrderChange::Paid);
            plan.order_status = OrderStatus::Paid;
            plan.grant = true;
            plan.movements
                .extend(movement(record, TransferKind::Payment));
        }
        CallbackEffect::Cancel { order_too } => {
            plan.status = CheckoutStatus::Cancelled;
            if order_too {
                plan.order = Some(OrderChange::Cancelled);
                plan.order_status = OrderStatus::Cancelled;
            }
        }
        CallbackEffect::Fail => plan.status = CheckoutStatus::Failed,
        CallbackEffect::RefundAutomatically { close_payment } => {
            if close_payment {
                plan.status = CheckoutStatus::Cancelled;
            }
            plan.refund = RefundState::Pending;
            plan.movements
                .extend(movement(record, TransferKind::Payment));
            plan.movements
                .extend(movement(record, TransferKind::Refund));
        }
    }
    Ok(plan)
}

/// Whether `user` may refund `order` (read under its lock; `None`: no such order) at `now`,
/// `payment` being the order's paid or refunded payment (read under its lock first). Returns
/// the movement of the refund (`None` for a free order).
///
/// # Errors
/// `NotFound`, `NotPaid`, `WindowClosed`, or `Dependency` for a paid order without its
/// payment.
pub fn check_refund(
    payment: Option<&CheckoutRecord>,
    order: Option<(Uuid, &str)>,
    user: UserId,
    now: DateTime<Utc>,
) -> Result<Option<Movement>, BeginRefundError> {
    let (_, order_status_name) = order
        .filter(|(owner, _)| *owner == user.as_uuid())
        .ok_or(BeginRefundError::NotFound)?;
    if order_status(order_status_name)? != OrderStatus::Paid {
        return Err(BeginRefundError::NotPaid);
    }
    let payment = payment
        .filter(|payment| payment.status == CheckoutStatus::Paid)
        .ok_or_else(|| {
            BeginRefundError::Dependency(DependencyError::Failed(
                "commerce: a paid order without its paid payment".into(),
            ))
        })?;
    let paid_at = payment.paid_at.ok_or_else(|| corrupt("paid_at"))?;
    if !may_refund(paid_at, now) {
        return Err(BeginRefundError::WindowClosed);
    }
    Ok(movement(payment, TransferKind::Refund))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn record(status: CheckoutStatus, amount: i64) -> CheckoutRecord {
        let now = Utc::now();
        CheckoutRecord {
            id: CheckoutId::from_uuid(Uuid::now_v7()),
            order_id: OrderId::from_uuid(Uuid::now_v7()),
            user_id: UserId::from_uuid(Uuid::now_v7()),
            method: PaymentMethod::Kakaopay,
            amount: Money::new(amount).unwrap_or_default(),
            status,
            refund: RefundState::NotDue,
            callback_result: None,
            provider_reference: None,
            approval_url: None,
            created_at: now,
            expires_at: now + Duration::minutes(15),
            paid_at: (status == CheckoutStatus::Paid).then_some(now),
            refunded_at: None,
        }
    }

    #[test]
    fn an_approval_of_a_ready_payment_pays_grants_and_posts_one_transfer() {
        let ready = record(CheckoutStatus::Ready, 30_000);
        let plan = plan_callback(&ready, "pending", CallbackResult::Approved).unwrap();
        assert_eq!(plan.effect, CallbackEffect::Pay);
        assert!(plan.pays && plan.grant && plan.writes());
        assert_eq!(plan.order, Some(OrderChange::Paid));
        assert_eq!(plan.movements.len(), 1);
        let paid = plan.movements[0];
        assert_eq!(paid.from, LedgerAccount::Provider(PaymentMethod::Kakaopay));
        assert_eq!(paid.to, LedgerAccount::Revenue(RevenueStream::Commerce));
        assert_eq!(paid.id, payment_transfer(ready.id));
        let outcome = plan.outcome(&ready);
        assert_eq!(outcome.status, CheckoutStatus::Paid);
        assert_eq!(outcome.order_status, OrderStatus::Paid);
        assert_eq!(outcome.refund_due, None);
    }

    #[test]
    fn a_late_approval_posts_both_transfers_and_owes_the_refund() {
        let superseded = record(CheckoutStatus::Superseded, 5_000);
        let plan = plan_callback(&superseded, "pending", CallbackResult::Approved).unwrap();
        assert_eq!(plan.status, CheckoutStatus::Superseded);
        assert_eq!(plan.refund, RefundState::Pending);
        assert_eq!(plan.order, None);
        assert!(!plan.grant && !plan.pays);
        let ids: Vec<_> = plan.movements.iter().map(|m| (m.kind, m.id)).collect();
        assert_eq!(
            ids,
            [
                (TransferKind::Payment, payment_transfer(superseded.id)),
                (TransferKind::Refund, refund_transfer(superseded.id))
            ]
        );
        assert_eq!(
            plan.outcome(&superseded).refund_due,
            Some(superseded.amount)
        );
        let ready = record(CheckoutStatus::Ready, 5_000);
        let plan = plan_callback(&ready, "cancelled", CallbackResult::Approved).unwrap();
        assert_eq!(plan.status, CheckoutStatus::Cancelled, "closed");
        let free = record(CheckoutStatus::Expired, 0);
        let plan = plan_callback(&free, "pending", CallbackResult::Approved).unwrap();
        assert!(plan.movements.is_empty(), "a free order moves no money");
    }

    #[test]
    fn a_recorded_result_replays_without_writing() {
        let mut paid = record(CheckoutStatus::Paid, 100);
        paid.callback_result = Some(CallbackResult::Approved);
        let plan = plan_callback(&paid, "paid", CallbackResult::Cancelled).unwrap();
        assert_eq!(plan.effect, CallbackEffect::Replay);
        assert!(!plan.writes());
        assert_eq!(plan.recorded, CallbackResult::Approved);
        assert!(plan.movements.is_empty());
        assert!(plan_callback(&paid, "completed", CallbackResult::Approved).is_err());
    }

    #[test]
    fn an_approval_after_a_recorded_refusal_is_refunded_and_recorded() {
        let mut failed = record(CheckoutStatus::Failed, 7_000);
        failed.callback_result = Some(CallbackResult::Failed);
        let plan = plan_callback(&failed, "pending", CallbackResult::Approved).unwrap();
        assert_eq!(
            plan.effect,
            CallbackEffect::RefundAutomatically {
                close_payment: false
            }
        );
        assert!(plan.writes());
        assert_eq!(plan.recorded, CallbackResult::Approved, "overwritten");
        assert_eq!(plan.refund, RefundState::Pending);
        assert_eq!(plan.movements.len(), 2, "taken and given back");
        let again = plan_callback(&failed, "pending", CallbackResult::Cancelled).unwrap();
        assert_eq!(
            again.effect,
            CallbackEffect::Replay,
            "a refusal after a refusal"
        );
    }

    #[test]
    fn a_refund_needs_the_owner_a_paid_order_and_the_window() {
        let user = UserId::from_uuid(Uuid::now_v7());
        let mut paid = record(CheckoutStatus::Paid, 100);
        paid.user_id = user;
        let paid_at = paid.paid_at.unwrap_or_default();
        let owner = Some((user.as_uuid(), "paid"));
        let at = |minutes| paid_at + Duration::days(7) + Duration::minutes(minutes);
        assert!(matches!(
            check_refund(Some(&paid), owner, user, at(-1)),
            Ok(Some(_))
        ));
        assert_eq!(
            check_refund(Some(&paid), owner, user, at(1)),
            Err(BeginRefundError::WindowClosed)
        );
        let stranger = UserId::from_uuid(Uuid::now_v7());
        assert_eq!(
            check_refund(Some(&paid), owner, stranger, at(-1)),
            Err(BeginRefundError::NotFound)
        );
        assert_eq!(
            check_refund(None, None, user, at(-1)),
            Err(BeginRefundError::NotFound)
        );
        assert_eq!(
            check_refund(
                Some(&paid),
                Some((user.as_uuid(), "refunded")),
                user,
                at(-1)
            ),
            Err(BeginRefundError::NotPaid)
        );
        assert!(matches!(
            check_refund(None, owner, user, at(-1)),
            Err(BeginRefundError::Dependency(_))
        ));
    }

    #[test]
    fn an_open_needs_the_owner_a_pending_order_and_the_limit() {
        let user = UserId::from_uuid(Uuid::now_v7());
        let order = |status: &str, total| OrderForCheckout {
            user_id: user.as_uuid(),
            status: status.into(),
            total,
        };
        assert_eq!(
            check_open(Some(&order("pending", 50_000)), user).map(Money::get),
            Ok(50_000)
        );
        assert!(matches!(
            check_open(Some(&order("pending", 50_001)), user),
            Err(OpenCheckoutError::TotalExceeded { total }) if total.get() == 50_001
        ));
        assert_eq!(
            check_open(Some(&order("paid", 1)), user),
            Err(OpenCheckoutError::NotPending)
        );
        assert_eq!(
            check_open(
                Some(&order("pending", 1)),
                UserId::from_uuid(Uuid::now_v7())
            ),
            Err(OpenCheckoutError::NotFound)
        );
        assert_eq!(check_open(None, user), Err(OpenCheckoutError::NotFound));
    }

    #[test]
    fn a_billing_snapshot_is_all_or_nothing() {
        let some = |text: &str| Some(text.to_owned());
        assert!(matches!(
            billing_snapshot(some("KR"), some("Main 1"), some(""), some("04524")),
            Ok(Some(_))
        ));
        assert_eq!(billing_snapshot(None, None, None, None), Ok(None));
        assert!(billing_snapshot(some("KR"), None, None, None).is_err());
    }
}
