//! The simulated two-phase provider of checkout, in process: it makes payments ready (with an
//! approval address on this service's simulated-provider routes), plays the user's approval,
//! decline or cancellation when told to ([`ProviderSimulator`]) and hands back the callback
//! exactly as it would POST it, signed with the injected [`CallbackCodec`].
//!
//! Like [`super::SimulatedGateway`] it is idempotent by id (a repeated ready answers the first
//! reference, a refund is made once) and keeps its records in this process only (after a
//! restart it knows nothing: a lookup answers `Unknown`, a refund `NothingToRefund`). A record
//! untouched for [`RECORD_RETENTION`] (the refund window and a day) is forgotten, so a
//! long-running server's books stay bounded by about eight days of payments.
//!
//! [`CheckoutSimulatorRules`] are the switches the tests use: decline or time out at ready,
//! time out at refund (each by amount, first attempt only), deliver every callback twice, and
//! sign callbacks as if they had been delayed.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use reserva_application::ports::checkout_provider::{
    CallbackCodec, CallbackMessage, CheckoutGateway, CheckoutGatewayError, ProviderRecord,
    ProviderSimulator, ReadyAnswer, ReadyRequest, SignedCallback, SimulatedAction, SimulatorError,
};
use reserva_application::ports::system::Clock;
use reserva_domain::commerce::{CallbackResult, CheckoutId};
use reserva_domain::wallet::Money;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// How long a record is kept after its last change: the refund window and a day (an approved
/// payment may be refunded for seven days; the other states are final).
pub const RECORD_RETENTION: Duration = Duration::days(8);

/// The books are pruned of records older than [`RECORD_RETENTION`] when they reach this many
/// records, and then again at twice what is left (amortised: a scan per doubling).
const FIRST_PRUNE_AT: usize = 1024;

/// The reason of every simulated decline at ready.
pub const READY_DECLINE_REASON: &str = "payment declined at ready (simulated)";

/// How the simulated checkout provider behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutSimulatorRules {
    /// Where approval addresses point: `<approval_base>/<id>/approve`.
    pub approval_base: String,
    /// Payments of these amounts are declined at ready (nothing is made ready).
    pub decline_ready_amounts: Vec<i64>,
    /// Payments of these amounts are made ready, and the answer is lost: `Err(Timeout)`.
    pub timeout_ready_amounts: Vec<i64>,
    /// The first refund of a payment of these amounts is made, and its answer is lost:
    /// `Err(Timeout)` (a repeat succeeds without refunding twice).
    pub timeout_refund_amounts: Vec<i64>,
    /// Every callback is delivered twice.
    pub deliver_twice: bool,
    /// Callbacks are signed this many seconds before now, as if they had been delayed on the
    /// way (more than 300 makes them stale).
    pub late_seconds: i64,
}

impl Default for CheckoutSimulatorRules {
    /// Makes everything ready at once, delivers once, on time.
    fn default() -> Self {
        Self {
            approval_base: "/api/v1/simulated-provider/payments".to_owned(),
            decline_ready_amounts: Vec::new(),
            timeout_ready_amounts: Vec::new(),
            timeout_refund_amounts: Vec::new(),
            deliver_twice: false,
            late_seconds: 0,
        }
    }
}

/// How many times things happened at the simulated provider (repeats are not counted again).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CheckoutSimulatorTotals {
    /// Payments made ready.
    pub readied: u64,
    /// Payments approved (money taken).
    pub approved: u64,
    /// Refunds made (money given back).
    pub refunds: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Ready,
    Approved,
    Declined,
    Cancelled,
    Refunded,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    amount: Money,
    state: State,
    refund_tried: bool,
    touched: DateTime<Utc>,
}

#[derive(Debug, Default)]
struct Books {
    entries: HashMap<CheckoutId, Entry>,
    /// Declined at ready, with when.
    declined_at_ready: HashMap<CheckoutId, DateTime<Utc>>,
    totals: CheckoutSimulatorTotals,
    prune_at: usize,
}

impl Books {
    /// Forgets the records untouched since `now - RECORD_RETENTION`, once the books have grown
    /// to their next pruning size.
    fn prune(&mut self, now: DateTime<Utc>) {
        let held = self.entries.len() + self.declined_at_ready.len();
        if held < self.prune_at.max(FIRST_PRUNE_AT) {
            return;
        }
        let since = now - RECORD_RETENTION;
        self.entries.retain(|_, entry| entry.touched > since);
        self.declined_at_ready.retain(|_, at| *at > since);
        let left = self.entries.len() + self.declined_at_ready.len();
        self.prune_at = left.saturating_mul(2).max(FIRST_PRUNE_AT);
    }
}

/// The simulated checkout provider. Cloning is cheap; clones share the records.
#[derive(Clone)]
pub struct SimulatedCheckoutProvider {
    rules: Arc<CheckoutSimulatorRules>,
    codec: Arc<dyn CallbackCodec>,
    clock: Arc<dyn Clock>,
    books: Arc<Mutex<Books>>,
}

impl std::fmt::Debug for SimulatedCheckoutProvider {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("SimulatedCheckoutProvider")
            .field("rules", &self.rules)
            .finish_non_exhaustive()
    }
}

impl SimulatedCheckoutProvider {
    /// A provider with no records, signing with `codec` at `clock`'s time.
    #[must_use]
    pub fn new(
        rules: CheckoutSimulatorRules,
        codec: Arc<dyn CallbackCodec>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            rules: Arc::new(rules),
            codec,
            clock,
            books: Arc::default(),
        }
    }

    /// The provider's reference of a checkout: `simco_` and the id without hyphens.
    #[must_use]
    pub fn reference(id: CheckoutId) -> String {
        format!("simco_{}", id.as_uuid().simple())
    }

    /// What happened so far.
    #[must_use]
    pub fn totals(&self) -> CheckoutSimulatorTotals {
        self.books().totals
    }

    /// The books; every change is one statement, so a poisoned lock is still safe to read.
    fn books(&self) -> MutexGuard<'_, Books> {
        self.books.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn answer(&self, id: CheckoutId) -> ReadyAnswer {
        ReadyAnswer {
            reference: Self::reference(id),
            approval_url: format!("{}/{id}/approve", self.rules.approval_base),
        }
    }
}

#[async_trait]
impl CheckoutGateway for SimulatedCheckoutProvider {
    async fn ready(&self, request: &ReadyRequest) -> Result<ReadyAnswer, CheckoutGatewayError> {
        let id = request.checkout_id;
        let amount = request.amount.get();
        let now = self.clock.now();
        let mut books = self.books();
        books.prune(now);
        if books.declined_at_ready.contains_key(&id) {
            return Err(CheckoutGatewayError::Declined(
                READY_DECLINE_REASON.to_owned(),
            ));
        }
        if books.entries.contains_key(&id) {
            return Ok(self.answer(id));
        }
        if self.rules.decline_ready_amounts.contains(&amount) {
            books.declined_at_ready.insert(id, now);
            return Err(CheckoutGatewayError::Declined(
                READY_DECLINE_REASON.to_owned(),
            ));
        }
        books.entries.insert(
            id,
            Entry {
                amount: request.amount,
                state: State::Ready,
                refund_tried: false,
                touched: now,
            },
        );
        books.totals.readied += 1;
        if self.rules.timeout_ready_amounts.contains(&amount) {
            return Err(CheckoutGatewayError::Timeout);
        }
        Ok(self.answer(id))
    }

    /// Refunds the whole approved payment once. Another amount than the one taken is refused
    /// before acting (`Unavailable`): the caller has the wrong payment.
    async fn refund(
        &self,
        checkout_id: CheckoutId,
        amount: Money,
    ) -> Result<(), CheckoutGatewayError> {
        let now = self.clock.now();
        let mut books = self.books();
        let Some(entry) = books.entries.get_mut(&checkout_id) else {
            return Err(CheckoutGatewayError::NothingToRefund);
        };
        if entry.amount != amount {
            return Err(CheckoutGatewayError::Unavailable(format!(
                "refund of {amount} for a payment of {}",
                entry.amount
            )));
        }
        let first_try = !entry.refund_tried;
        entry.refund_tried = true;
        match entry.state {
            State::Approved => {
                entry.state = State::Refunded;
                entry.touched = now;
                books.totals.refunds += 1;
            }
            State::Refunded => {}
            State::Ready | State::Declined | State::Cancelled => {
                return Err(CheckoutGatewayError::NothingToRefund);
            }
        }
        if first_try && self.rules.timeout_refund_amounts.contains(&amount.get()) {
            return Err(CheckoutGatewayError::Timeout);
        }
        Ok(())
    }

    async fn lookup(
        &self,
        checkout_id: CheckoutId,
    ) -> Result<ProviderRecord, CheckoutGatewayError> {
        let reference = Self::reference(checkout_id);
        let state = self
            .books()
            .entries
            .get(&checkout_id)
            .map(|entry| entry.state);
        Ok(match state {
            None => ProviderRecord::Unknown,
            Some(State::Ready) => ProviderRecord::Ready { reference },
            Some(State::Approved) => ProviderRecord::Approved { reference },
            Some(State::Declined) => ProviderRecord::Declined,
            Some(State::Cancelled) => ProviderRecord::Cancelled,
            Some(State::Refunded) => ProviderRecord::Refunded { reference },
        })
    }
}

#[async_trait]
impl ProviderSimulator for SimulatedCheckoutProvider {
    async fn act(
        &self,
        checkout_id: CheckoutId,
        action: SimulatedAction,
    ) -> Result<Vec<SignedCallback>, SimulatorError> {
        let now = self.clock.now();
        let result = {
            let mut books = self.books();
            let entry = books
                .entries
                .get_mut(&checkout_id)
                .ok_or(SimulatorError::UnknownPayment)?;
            if entry.state != State::Ready {
                return Err(SimulatorError::NotReady);
            }
            let (state, result) = match action {
                SimulatedAction::Approve => (State::Approved, CallbackResult::Approved),
                SimulatedAction::Decline => (State::Declined, CallbackResult::Failed),
                SimulatedAction::Cancel => (State::Cancelled, CallbackResult::Cancelled),
            };
            entry.state = state;
            entry.touched = now;
            if state == State::Approved {
                books.totals.approved += 1;
            }
            result
        };
        let body = self.codec.encode(&CallbackMessage {
            checkout_id,
            result,
            reference: Self::reference(checkout_id),
        });
        let signed_at = now - Duration::seconds(self.rules.late_seconds);
        let signature = self.codec.sign(&body, signed_at);
        let callback = SignedCallback { body, signature };
        Ok(if self.rules.deliver_twice {
            vec![callback.clone(), callback]
        } else {
            vec![callback]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, TimeZone, Utc};
    use reserva_application::ports::checkout_provider::{
        CallbackSignatureError, MalformedCallback,
    };
    use reserva_domain::accounts::UserId;
    use reserva_domain::wallet::PaymentMethod;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 2, 10, 0, 0)
            .single()
            .unwrap_or_default()
    }

    struct FixedClock;
    impl Clock for FixedClock {
        fn now(&self) -> DateTime<Utc> {
            now()
        }
    }

    /// A readable stand-in: the body names the message, the signature its time and body.
    struct PlainCodec;
    impl CallbackCodec for PlainCodec {
        fn encode(&self, message: &CallbackMessage) -> Vec<u8> {
            format!(
                "{}|{}|{}",
                message.checkout_id,
                message.result.as_str(),
                message.reference
            )
            .into_bytes()
        }
        fn decode(&self, _body: &[u8]) -> Result<CallbackMessage, MalformedCallback> {
            Err(MalformedCallback("unused".into()))
        }
        fn sign(&self, body: &[u8], at: DateTime<Utc>) -> String {
            format!("t={},len={}", at.timestamp(), body.len())
        }
        fn verify(
            &self,
            _body: &[u8],
            _header: &str,
            _now: DateTime<Utc>,
        ) -> Result<(), CallbackSignatureError> {
            Ok(())
        }
    }

    fn provider(rules: CheckoutSimulatorRules) -> SimulatedCheckoutProvider {
        SimulatedCheckoutProvider::new(rules, Arc::new(PlainCodec), Arc::new(FixedClock))
    }

    fn request(amount: i64) -> ReadyRequest {
        ReadyRequest {
            checkout_id: CheckoutId::from_uuid(uuid::Uuid::now_v7()),
            method: PaymentMethod::Kakaopay,
            amount: Money::new(amount).expect("valid"),
            user_id: UserId::from_uuid(uuid::Uuid::now_v7()),
            description: "Rust basics".into(),
        }
    }

    /// A clock the test moves.
    struct MovingClock(std::sync::Mutex<DateTime<Utc>>);
    impl Clock for MovingClock {
        fn now(&self) -> DateTime<Utc> {
            *self.0.lock().unwrap_or_else(PoisonError::into_inner)
        }
    }

    #[test]
    fn records_outlive_the_refund_window_by_a_day() {
        assert_eq!(
            RECORD_RETENTION,
            reserva_domain::commerce::REFUND_WINDOW + Duration::days(1)
        );
    }

    #[tokio::test]
    async fn records_untouched_past_the_retention_are_forgotten_and_the_rest_kept() {
        let clock = Arc::new(MovingClock(std::sync::Mutex::new(now())));
        let provider = SimulatedCheckoutProvider::new(
            CheckoutSimulatorRules::default(),
            Arc::new(PlainCodec),
            clock.clone(),
        );
        let old = request(20_000);
        provider.ready(&old).await.expect("ready");
        provider
            .act(old.checkout_id, SimulatedAction::Approve)
            .await
            .expect("approved");
        let move_to = |at| *clock.0.lock().unwrap_or_else(PoisonError::into_inner) = at;
        // still there a moment inside the retention, whatever the books' size
        move_to(now() + RECORD_RETENTION - Duration::seconds(1));
        let mut recent = Vec::new();
        for _ in 0..FIRST_PRUNE_AT {
            let fresh = request(1_000);
            provider.ready(&fresh).await.expect("ready");
            recent.push(fresh.checkout_id);
        }
        assert!(matches!(
            provider.lookup(old.checkout_id).await,
            Ok(ProviderRecord::Approved { .. })
        ));
        // past it, the next pruning forgets the old record and keeps the recent ones
        move_to(now() + RECORD_RETENTION + Duration::seconds(1));
        for _ in 0..FIRST_PRUNE_AT {
            provider.ready(&request(1_000)).await.expect("ready");
        }
        assert_eq!(
            provider.lookup(old.checkout_id).await,
            Ok(ProviderRecord::Unknown)
        );
        assert!(matches!(
            provider.lookup(recent[0]).await,
            Ok(ProviderRecord::Ready { .. })
        ));
        assert_eq!(provider.totals().approved, 1, "totals are not pruned");
    }

    #[tokio::test]
    async fn ready_is_idempotent_and_points_at_the_approval_route() {
        let provider = provider(CheckoutSimulatorRules::default());
        let request = request(20_000);
        let id = request.checkout_id;
        let first = provider.ready(&request).await.expect("ready");
        assert_eq!(
            first.approval_url,
            format!("/api/v1/simulated-provider/payments/{id}/approve")
        );
        assert_eq!(first.reference, SimulatedCheckoutProvider::reference(id));
        assert_eq!(provider.ready(&request).await, Ok(first.clone()));
        assert_eq!(provider.totals().readied, 1);
        assert_eq!(
            provider.lookup(id).await,
            Ok(ProviderRecord::Ready {
                reference: first.reference
            })
        );
    }

    #[tokio::test]
    async fn approving_hands_back_one_signed_callback_then_refuses_a_second_action() {
        let provider = provider(CheckoutSimulatorRules::default());
        let request = request(20_000);
        let id = request.checkout_id;
        provider.ready(&request).await.expect("ready");
        let callbacks = provider
            .act(id, SimulatedAction::Approve)
            .await
            .expect("acted");
        let reference = SimulatedCheckoutProvider::reference(id);
        let body = format!("{id}|approved|{reference}");
        assert_eq!(
            callbacks,
            vec![SignedCallback {
                signature: format!("t={},len={}", now().timestamp(), body.len()),
                body: body.into_bytes(),
            }]
        );
        assert_eq!(
            provider.act(id, SimulatedAction::Cancel).await,
            Err(SimulatorError::NotReady)
        );
        assert_eq!(provider.totals().approved, 1);
        assert_eq!(
            provider.lookup(id).await,
            Ok(ProviderRecord::Approved { reference })
        );
    }

    #[tokio::test]
    async fn decline_and_cancel_send_their_results() {
        let provider = provider(CheckoutSimulatorRules::default());
        for (action, result, record) in [
            (SimulatedAction::Decline, "failed", ProviderRecord::Declined),
            (
                SimulatedAction::Cancel,
                "cancelled",
                ProviderRecord::Cancelled,
            ),
        ] {
            let request = request(20_000);
            let id = request.checkout_id;
            provider.ready(&request).await.expect("ready");
            let callbacks = provider.act(id, action).await.expect("acted");
            let body = String::from_utf8(callbacks[0].body.clone()).expect("text");
            assert!(body.contains(&format!("|{result}|")), "{body}");
            assert_eq!(provider.lookup(id).await, Ok(record));
            assert_eq!(
                provider.refund(id, request.amount).await,
                Err(CheckoutGatewayError::NothingToRefund)
            );
        }
        assert_eq!(provider.totals().approved, 0);
    }

    #[tokio::test]
    async fn an_unknown_payment_cannot_be_acted_on_nor_refunded() {
        let provider = provider(CheckoutSimulatorRules::default());
        let id = CheckoutId::from_uuid(uuid::Uuid::now_v7());
        assert_eq!(
            provider.act(id, SimulatedAction::Approve).await,
            Err(SimulatorError::UnknownPayment)
        );
        assert_eq!(
            provider.refund(id, Money::ZERO).await,
            Err(CheckoutGatewayError::NothingToRefund)
        );
        assert_eq!(provider.lookup(id).await, Ok(ProviderRecord::Unknown));
    }

    #[tokio::test]
    async fn a_refund_is_made_once_and_only_of_the_amount_taken() {
        let provider = provider(CheckoutSimulatorRules::default());
        let request = request(20_000);
        let id = request.checkout_id;
        provider.ready(&request).await.expect("ready");
        provider
            .act(id, SimulatedAction::Approve)
            .await
            .expect("acted");
        assert!(matches!(
            provider.refund(id, Money::new(1).expect("valid")).await,
            Err(CheckoutGatewayError::Unavailable(_))
        ));
        assert_eq!(provider.refund(id, request.amount).await, Ok(()));
        assert_eq!(provider.refund(id, request.amount).await, Ok(()));
        assert_eq!(provider.totals().refunds, 1);
        assert!(matches!(
            provider.lookup(id).await,
            Ok(ProviderRecord::Refunded { .. })
        ));
    }

    #[tokio::test]
    async fn the_switches_decline_and_time_out_where_told() {
        let provider = provider(CheckoutSimulatorRules {
            decline_ready_amounts: vec![1_000],
            timeout_ready_amounts: vec![2_000],
            timeout_refund_amounts: vec![3_000],
            ..CheckoutSimulatorRules::default()
        });
        let declined = request(1_000);
        for _ in 0..2 {
            assert!(matches!(
                provider.ready(&declined).await,
                Err(CheckoutGatewayError::Declined(_))
            ));
        }
        assert_eq!(
            provider.lookup(declined.checkout_id).await,
            Ok(ProviderRecord::Unknown)
        );
        let lost = request(2_000);
        assert_eq!(
            provider.ready(&lost).await,
            Err(CheckoutGatewayError::Timeout)
        );
        assert!(
            matches!(
                provider.lookup(lost.checkout_id).await,
                Ok(ProviderRecord::Ready { .. })
            ),
            "made ready although the answer was lost"
        );
        assert!(provider.ready(&lost).await.is_ok(), "a repeat answers");
        let slow = request(3_000);
        provider.ready(&slow).await.expect("ready");
        provider
            .act(slow.checkout_id, SimulatedAction::Approve)
            .await
            .expect("acted");
        assert_eq!(
            provider.refund(slow.checkout_id, slow.amount).await,
            Err(CheckoutGatewayError::Timeout)
        );
        assert_eq!(provider.totals().refunds, 1, "refunded although unanswered");
        assert_eq!(provider.refund(slow.checkout_id, slow.amount).await, Ok(()));
        assert_eq!(provider.totals().refunds, 1);
    }

    #[tokio::test]
    async fn callbacks_can_be_delivered_twice_and_late() {
        let provider = provider(CheckoutSimulatorRules {
            deliver_twice: true,
            late_seconds: 600,
            ..CheckoutSimulatorRules::default()
        });
        let request = request(20_000);
        provider.ready(&request).await.expect("ready");
        let callbacks = provider
            .act(request.checkout_id, SimulatedAction::Approve)
            .await
            .expect("acted");
        assert_eq!(callbacks.len(), 2);
        assert_eq!(callbacks[0], callbacks[1]);
        let late = now().timestamp() - 600;
        assert!(
            callbacks[0].signature.starts_with(&format!("t={late},")),
            "{}",
            callbacks[0].signature
        );
    }
}
