//! Checkout, provider callbacks, refunds, receipts, the simulated provider's user side and the
//! sweep, over [`CheckoutPorts`].
//!
//! The order of things: a checkout is opened in the store first (so its id exists before the
//! provider hears of it), then made ready at the provider, then its reference and approval
//! address are attached. A callback is verified before anything is read; the store decides and
//! applies its effect in one transaction. A refund is made due in the store first (order
//! refunded, access revoked, ledger reversed, refund `pending`), then asked of the provider; a
//! provider that fails leaves it pending for [`Checkout::sweep`], and the answer is still the
//! refunded order.

mod errors;
#[cfg(test)]
mod tests;

pub use errors::{
    CallbackError, CheckOutError, GetReceiptError, ListReceiptsError, RefundUseCaseError,
    SimulateError, SweepError,
};

use crate::accounts::Principal;
use crate::ports::checkout_provider::{
    CallbackCodec, CallbackSignatureError, CheckoutGateway, CheckoutGatewayError, ProviderRecord,
    ProviderSimulator, ReadyRequest, SimulatedAction, SimulatorError,
};
use crate::ports::commerce::checkout::{
    ApplyCallback, ApplyCallbackError, BeginRefundError, CallbackOutcome, CheckoutRepository,
    OpenCheckout, OpenCheckoutError, ReceiptDetail, ReceiptQuery, ReceiptSummary,
};
use crate::ports::commerce::orders::OrderRepository;
use crate::ports::system::Clock;
use crate::{FieldViolation, Page};
use chrono::{DateTime, Utc};
use reserva_domain::commerce::{
    CallbackResult, CheckoutId, CheckoutStatus, ORDER_TOTAL_LIMIT, OrderId, OrderStatus,
    RefundState, checkout_expires_at, checkout_method,
};
use reserva_domain::paging::PageLimit;
use reserva_domain::wallet::{Money, PaymentMethod};
use std::sync::Arc;
use uuid::Uuid;

/// How many payments one sweep looks at, of each kind.
pub const SWEEP_BATCH: u32 = 100;

/// After this many failed provider calls for one payment (about four hours of backing off:
/// [`reserva_domain::commerce::retry_delay`]) each further failure is logged as an error.
pub const RETRIES_BEFORE_ALERT: u32 = 10;

/// Everything checkout talks to.
#[derive(Clone)]
pub struct CheckoutPorts {
    /// Checkout payments and receipts.
    pub checkouts: Arc<dyn CheckoutRepository>,
    /// Orders (read before opening, to refuse early what the store would refuse).
    pub orders: Arc<dyn OrderRepository>,
    /// The two-phase provider.
    pub gateway: Arc<dyn CheckoutGateway>,
    /// The callbacks' format and signature.
    pub codec: Arc<dyn CallbackCodec>,
    /// The simulated provider's user side; `None` with a real provider.
    pub simulator: Option<Arc<dyn ProviderSimulator>>,
    /// Time.
    pub clock: Arc<dyn Clock>,
}

/// The checkout use cases.
#[derive(Clone)]
pub struct Checkout {
    ports: CheckoutPorts,
}

/// A checkout to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckOutRequest {
    /// The caller's pending order.
    pub order_id: OrderId,
    /// Card, KakaoPay or bank transfer.
    pub method: PaymentMethod,
    /// One of the caller's billing addresses; `None`: their default one.
    pub billing_address_id: Option<Uuid>,
}

/// A payment made ready: the user approves it at `approval_url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadyCheckout {
    /// The payment.
    pub payment_id: CheckoutId,
    /// Its order.
    pub order_id: OrderId,
    /// Where the user approves it.
    pub approval_url: String,
    /// Always ready.
    pub status: CheckoutStatus,
    /// The amount (the order's total).
    pub amount: Money,
    /// When it expires unless approved.
    pub expires_at: DateTime<Utc>,
}

/// A refunded order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundedOrder {
    /// The order.
    pub order_id: OrderId,
    /// The refunded payment.
    pub payment_id: CheckoutId,
    /// Always refunded.
    pub status: OrderStatus,
    /// The amount given back.
    pub amount: Money,
    /// `done` when the provider confirmed; `pending` when it will be retried.
    pub refund: RefundState,
}

/// Which page of the caller's receipts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListReceipts {
    /// After this row (from the previous page's cursor).
    pub after: Option<(DateTime<Utc>, CheckoutId)>,
    /// Page size.
    pub limit: PageLimit,
}

/// One page of receipts, newest paid first; the cursor is the last one's `(paid_at, id)`.
pub type ReceiptPage = Page<ReceiptSummary, (DateTime<Utc>, CheckoutId)>;

/// What one sweep did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SweepReport {
    /// Ready payments expired.
    pub expired: u32,
    /// Overdue payments the provider had a result for, applied as their callback.
    pub resolved: u32,
    /// Refunds the provider confirmed.
    pub refunds_done: u32,
    /// Payments or refunds left for the next sweep (the provider or the store failed).
    pub left: u32,
}

/// What the provider is told to show for an order of these items.
fn description(titles: &[String]) -> String {
    match titles {
        [] => "Reserva order".to_owned(),
        [only] => only.clone(),
        [first, rest @ ..] => format!("{first} and {} more", rest.len()),
    }
}

impl Checkout {
    /// Builds the use cases.
    #[must_use]
    pub const fn new(ports: CheckoutPorts) -> Self {
        Self { ports }
    }

    fn now(&self) -> DateTime<Utc> {
        self.ports.clock.now()
    }

    /// Whether the simulated provider's routes exist.
    #[must_use]
    pub fn simulated(&self) -> bool {
        self.ports.simulator.is_some()
    }

    /// Checks out the caller's pending order: opens the payment (superseding the order's ready
    /// one), makes it ready at the provider and returns where to approve it.
    ///
    /// # Errors
    /// Every [`CheckOutError`].
    #[tracing::instrument(skip_all, fields(user_id = %principal.user_id, order_id = %request.order_id))]
    pub async fn check_out(
        &self,
        principal: &Principal,
        request: CheckOutRequest,
    ) -> Result<ReadyCheckout, CheckOutError> {
        let method = checkout_method(request.method).map_err(|rule| {
            CheckOutError::Invalid(vec![FieldViolation::new(
                "payment_method",
                "method_not_allowed",
                rule,
            )])
        })?;
        let order = self
            .ports
            .orders
            .order(principal.user_id, request.order_id)
            .await?
            .ok_or(CheckOutError::NotFound)?;
        if order.status != OrderStatus::Pending {
            return Err(CheckOutError::NotPending);
        }
        if order.total > ORDER_TOTAL_LIMIT {
            return Err(CheckOutError::TotalExceeded {
                total: order.total.get(),
            });
        }
        method.check(order.total).map_err(|rule| {
            CheckOutError::Invalid(vec![FieldViolation::new(
                "payment_method",
                rule.code(),
                rule,
            )])
        })?;
        let now = self.now();
        let id = CheckoutId::from_uuid(Uuid::now_v7());
        let expires_at = checkout_expires_at(now);
        let opened = self
            .ports
            .checkouts
            .open(OpenCheckout {
                id,
                order_id: order.id,
                user_id: principal.user_id,
                method,
                billing_address_id: request.billing_address_id,
                now,
                expires_at,
            })
            .await
            .map_err(|error| match error {
                OpenCheckoutError::NotFound => CheckOutError::NotFound,
                OpenCheckoutError::NotPending => CheckOutError::NotPending,
                OpenCheckoutError::TotalExceeded { total } => {
                    CheckOutError::TotalExceeded { total: total.get() }
                }
                OpenCheckoutError::UnknownBillingAddress => CheckOutError::UnknownBillingAddress,
                OpenCheckoutError::Dependency(error) => error.into(),
            })?;
        let ready = self
            .ports
            .gateway
            .ready(&ReadyRequest {
                checkout_id: id,
                method,
                amount: opened.amount,
                user_id: principal.user_id,
                description: description(&opened.item_titles),
            })
            .await;
        let answer = match ready {
            Ok(answer) => answer,
            Err(error) => {
                tracing::warn!(checkout_id = %id, %error, "the provider did not make the payment ready");
                if let Err(store) = self.ports.checkouts.fail_open(id, self.now()).await {
                    // still ready in the store: the sweep expires it
                    tracing::error!(checkout_id = %id, error = %store, "could not mark the payment failed");
                }
                return Err(match error {
                    CheckoutGatewayError::Declined(reason) => CheckOutError::Declined { reason },
                    CheckoutGatewayError::Timeout
                    | CheckoutGatewayError::Unavailable(_)
                    | CheckoutGatewayError::NothingToRefund => CheckOutError::ProviderUnavailable,
                });
            }
        };
        let attached = self
            .ports
            .checkouts
            .attach(
                id,
                answer.reference,
                answer.approval_url.clone(),
                self.now(),
            )
            .await?;
        if !attached {
            // A checkout of the same order opened meanwhile superseded this one: its approval
            // would only be refunded, so the caller is not sent to approve it.
            return Err(CheckOutError::Superseded);
        }
        Ok(ReadyCheckout {
            payment_id: id,
            order_id: order.id,
            approval_url: answer.approval_url,
            status: CheckoutStatus::Ready,
            amount: opened.amount,
            expires_at,
        })
    }

    /// A callback of the provider for payment `path_id`: verifies the signature over the raw
    /// body first (a bad one changes nothing), reads the body, which must name the same payment,
    /// and applies it. A replay changes nothing and answers with the recorded result and the
    /// current state.
    ///
    /// # Errors
    /// Every [`CallbackError`].
    #[tracing::instrument(skip_all, fields(checkout_id = %path_id))]
    pub async fn callback(
        &self,
        path_id: CheckoutId,
        body: &[u8],
        signature: Option<&str>,
    ) -> Result<CallbackOutcome, CallbackError> {
        let now = self.now();
        self.ports
            .codec
            .verify(body, signature.unwrap_or_default(), now)
            .map_err(|error| match error {
                CallbackSignatureError::Invalid => CallbackError::InvalidSignature,
                CallbackSignatureError::Stale => CallbackError::StaleSignature,
            })?;
        let message = self
            .ports
            .codec
            .decode(body)
            .map_err(|error| CallbackError::Malformed(error.0))?;
        if message.checkout_id != path_id {
            return Err(CallbackError::IdMismatch);
        }
        self.apply(path_id, message.result, Some(message.reference), now)
            .await
    }

    /// Applies a (verified) result and carries out at the provider the refund it made due.
    async fn apply(
        &self,
        id: CheckoutId,
        result: CallbackResult,
        reference: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<CallbackOutcome, CallbackError> {
        let mut outcome = self
            .ports
            .checkouts
            .apply_callback(ApplyCallback {
                id,
                result,
                reference,
                now,
            })
            .await
            .map_err(|error| match error {
                ApplyCallbackError::NotFound => CallbackError::NotFound,
                ApplyCallbackError::Dependency(error) => error.into(),
            })?;
        if let Some(amount) = outcome.refund_due {
            tracing::warn!(checkout_id = %id, "an approval that cannot pay its order: refunding it");
            outcome.refund = self.refund_at_provider(id, amount).await;
        }
        Ok(outcome)
    }

    /// Asks the provider for a due refund and records its confirmation; `pending` when either
    /// fails (the sweep retries, backing off: [`CheckoutRepository::retry_later`]). A provider
    /// that answers it has nothing to refund for a payment the store holds as taken has not
    /// confirmed that the money went back: the refund stays pending (and is logged as an error,
    /// for a person to look at), it is never reported done.
    async fn refund_at_provider(&self, id: CheckoutId, amount: Money) -> RefundState {
        match self.ports.gateway.refund(id, amount).await {
            Ok(()) => {}
            Err(CheckoutGatewayError::NothingToRefund) => {
                tracing::error!(checkout_id = %id, "the provider has no payment to refund: the refund stays pending, unconfirmed");
                self.retry_later(id).await;
                return RefundState::Pending;
            }
            Err(error) => {
                tracing::warn!(checkout_id = %id, %error, "refund left pending for the sweep");
                self.retry_later(id).await;
                return RefundState::Pending;
            }
        }
        match self.ports.checkouts.finish_refund(id, self.now()).await {
            Ok(()) => RefundState::Done,
            Err(error) => {
                tracing::error!(checkout_id = %id, %error, "refund made but not recorded: the sweep repeats it");
                RefundState::Pending
            }
        }
    }

    /// A provider call for payment `id` failed: the sweep tries it again later, backing off.
    async fn retry_later(&self, id: CheckoutId) {
        match self.ports.checkouts.retry_later(id, self.now()).await {
            Ok(attempts) if attempts >= RETRIES_BEFORE_ALERT => {
                tracing::error!(checkout_id = %id, attempts, "a provider call keeps failing: it needs a person");
            }
            Ok(_) => {}
            Err(error) => {
                // not put off: the next sweep simply tries it again
                tracing::warn!(checkout_id = %id, %error, "could not put off the next attempt");
            }
        }
    }

    /// Refunds the caller's paid order within the refund window.
    ///
    /// # Errors
    /// Every [`RefundUseCaseError`].
    #[tracing::instrument(skip_all, fields(user_id = %principal.user_id, order_id = %order_id))]
    pub async fn refund(
        &self,
        principal: &Principal,
        order_id: OrderId,
    ) -> Result<RefundedOrder, RefundUseCaseError> {
        let due = self
            .ports
            .checkouts
            .begin_refund(order_id, principal.user_id, self.now())
            .await
            .map_err(|error| match error {
                BeginRefundError::NotFound => RefundUseCaseError::NotFound,
                BeginRefundError::NotPaid => RefundUseCaseError::NotPaid,
                BeginRefundError::WindowClosed => RefundUseCaseError::WindowClosed,
                BeginRefundError::Dependency(error) => error.into(),
            })?;
        let refund = self.refund_at_provider(due.checkout_id, due.amount).await;
        Ok(RefundedOrder {
            order_id: due.order_id,
            payment_id: due.checkout_id,
            status: OrderStatus::Refunded,
            amount: due.amount,
            refund,
        })
    }

    /// A page of the caller's receipts, newest paid first.
    ///
    /// # Errors
    /// [`ListReceiptsError`] when the store fails.
    pub async fn receipts(
        &self,
        principal: &Principal,
        request: ListReceipts,
    ) -> Result<ReceiptPage, ListReceiptsError> {
        let rows = self
            .ports
            .checkouts
            .receipts(ReceiptQuery {
                user_id: principal.user_id,
                after: request.after,
                limit: request.limit,
            })
            .await?;
        Ok(Page::from_rows(rows, request.limit, |receipt| {
            (receipt.paid_at, receipt.checkout_id)
        }))
    }

    /// One of the caller's receipts.
    ///
    /// # Errors
    /// `NotFound` (absent, another user's, never paid), `Dependency`.
    pub async fn receipt(
        &self,
        principal: &Principal,
        id: CheckoutId,
    ) -> Result<ReceiptDetail, GetReceiptError> {
        self.ports
            .checkouts
            .receipt(principal.user_id, id)
            .await?
            .ok_or(GetReceiptError::NotFound)
    }

    /// Plays the caller's action at the simulated provider on their payment, and feeds each
    /// callback it sends through [`Checkout::callback`], exactly the provider's path.
    ///
    /// # Errors
    /// Every [`SimulateError`].
    #[tracing::instrument(skip_all, fields(user_id = %principal.user_id, checkout_id = %id))]
    pub async fn simulate(
        &self,
        principal: &Principal,
        id: CheckoutId,
        action: SimulatedAction,
    ) -> Result<CallbackOutcome, SimulateError> {
        let simulator = self
            .ports
            .simulator
            .as_ref()
            .ok_or(SimulateError::NotFound)?;
        let record = self.ports.checkouts.checkout(id).await?;
        if record.is_none_or(|record| record.user_id != principal.user_id) {
            return Err(SimulateError::NotFound);
        }
        let callbacks = simulator
            .act(id, action)
            .await
            .map_err(|error| match error {
                SimulatorError::UnknownPayment => SimulateError::NotFound,
                SimulatorError::NotReady => SimulateError::NotReady,
            })?;
        let mut last = None;
        for callback in callbacks {
            let applied = self
                .callback(id, &callback.body, Some(&callback.signature))
                .await;
            match applied {
                Ok(outcome) => last = Some(outcome),
                Err(error) => {
                    return Err(SimulateError::Callback {
                        error,
                        money_moved: action == SimulatedAction::Approve,
                        payment_id: id,
                    });
                }
            }
        }
        last.ok_or(SimulateError::NotReady)
    }

    /// Expires the ready payments past their time — after asking the provider, whose result
    /// (an approval the callback of which was lost, a decline, a cancellation) is applied as the
    /// callback would have been — and retries the pending refunds.
    ///
    /// # Errors
    /// [`SweepError`] when the store cannot list what to do.
    #[tracing::instrument(skip_all)]
    pub async fn sweep(&self) -> Result<SweepReport, SweepError> {
        let mut report = SweepReport::default();
        let now = self.now();
        for id in self.ports.checkouts.overdue_ready(now, SWEEP_BATCH).await? {
            let found = self.ports.gateway.lookup(id).await;
            let result = match found {
                Ok(ProviderRecord::Approved { reference }) => {
                    Some((CallbackResult::Approved, Some(reference)))
                }
                Ok(ProviderRecord::Declined) => Some((CallbackResult::Failed, None)),
                Ok(ProviderRecord::Cancelled) => Some((CallbackResult::Cancelled, None)),
                Ok(
                    ProviderRecord::Unknown
                    | ProviderRecord::Ready { .. }
                    | ProviderRecord::Refunded { .. },
                ) => None,
                Err(error) => {
                    tracing::warn!(checkout_id = %id, %error, "provider lookup failed: left for a later sweep");
                    self.retry_later(id).await;
                    report.left += 1;
                    continue;
                }
            };
            match result {
                Some((result, reference)) => match self.apply(id, result, reference, now).await {
                    Ok(_) => report.resolved += 1,
                    Err(error) => {
                        tracing::warn!(checkout_id = %id, %error, "could not apply the provider's result");
                        self.retry_later(id).await;
                        report.left += 1;
                    }
                },
                None => match self.ports.checkouts.expire_ready(id, now).await {
                    Ok(true) => report.expired += 1,
                    Ok(false) => {}
                    Err(error) => {
                        tracing::warn!(checkout_id = %id, %error, "could not expire the payment");
                        report.left += 1;
                    }
                },
            }
        }
        for due in self.ports.checkouts.due_refunds(now, SWEEP_BATCH).await? {
            match self.refund_at_provider(due.checkout_id, due.amount).await {
                RefundState::Done => report.refunds_done += 1,
                RefundState::Pending | RefundState::NotDue => report.left += 1,
            }
        }
        Ok(report)
    }
}
