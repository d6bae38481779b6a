//! The checkout use cases over mocked ports: every branch.

use super::*;
use crate::UseCaseError;
use crate::commerce::test_support::{now, order, principal};
use crate::ports::checkout_provider::{
    CallbackMessage, MalformedCallback, MockCallbackCodec, MockCheckoutGateway,
    MockProviderSimulator, ReadyAnswer, SignedCallback,
};
use crate::ports::commerce::checkout::{
    CheckoutRecord, MockCheckoutRepository, OpenedCheckout, RefundDue,
};
use crate::ports::commerce::orders::MockOrderRepository;
use crate::ports::system::MockClock;
use crate::{DependencyError, ErrorClass};
use reserva_domain::accounts::UserId;
use reserva_domain::commerce::{CallbackEffect, Order};

fn won(amount: i64) -> Money {
    Money::new(amount).expect("valid")
}

fn checkout_id() -> CheckoutId {
    CheckoutId::from_uuid(Uuid::now_v7())
}

struct Fixture {
    checkouts: MockCheckoutRepository,
    orders: MockOrderRepository,
    gateway: MockCheckoutGateway,
    codec: MockCallbackCodec,
    simulator: Option<MockProviderSimulator>,
}

impl Fixture {
    fn new() -> Self {
        Self {
            checkouts: MockCheckoutRepository::new(),
            orders: MockOrderRepository::new(),
            gateway: MockCheckoutGateway::new(),
            codec: MockCallbackCodec::new(),
            simulator: Some(MockProviderSimulator::new()),
        }
    }

    fn checkout(self) -> Checkout {
        let mut clock = MockClock::new();
        clock.expect_now().returning(now);
        Checkout::new(CheckoutPorts {
            checkouts: Arc::new(self.checkouts),
            orders: Arc::new(self.orders),
            gateway: Arc::new(self.gateway),
            codec: Arc::new(self.codec),
            simulator: self
                .simulator
                .map(|simulator| Arc::new(simulator) as Arc<dyn ProviderSimulator>),
            clock: Arc::new(clock),
        })
    }

    fn with_order(&mut self, order: Order) {
        self.orders
            .expect_order()
            .return_once(move |_, _| Ok(Some(order)));
    }

    /// The codec accepts the signature and reads `message` from the body.
    fn accepting(&mut self, message: CallbackMessage) {
        self.codec.expect_verify().returning(|_, _, _| Ok(()));
        self.codec
            .expect_decode()
            .returning(move |_| Ok(message.clone()));
    }
}

fn request(order: &Order, method: PaymentMethod) -> CheckOutRequest {
    CheckOutRequest {
        order_id: order.id,
        method,
        billing_address_id: None,
    }
}

fn opened() -> OpenedCheckout {
    OpenedCheckout {
        amount: won(20_000),
        item_titles: vec!["Rust basics".into(), "Async Rust".into(), "Axum".into()],
        superseded: None,
    }
}

fn outcome(id: CheckoutId, effect: CallbackEffect, refund_due: Option<Money>) -> CallbackOutcome {
    CallbackOutcome {
        checkout_id: id,
        order_id: OrderId::from_uuid(Uuid::now_v7()),
        effect,
        recorded: CallbackResult::Approved,
        status: CheckoutStatus::Paid,
        order_status: OrderStatus::Paid,
        refund: if refund_due.is_some() {
            RefundState::Pending
        } else {
            RefundState::NotDue
        },
        refund_due,
    }
}

fn message(id: CheckoutId, result: CallbackResult) -> CallbackMessage {
    CallbackMessage {
        checkout_id: id,
        result,
        reference: "ref".into(),
    }
}

#[tokio::test]
async fn a_checkout_opens_then_readies_then_attaches() {
    let caller = principal();
    let pending = order(caller.user_id);
    let order_id = pending.id;
    let mut fixture = Fixture::new();
    fixture.with_order(pending.clone());
    fixture
        .checkouts
        .expect_open()
        .withf(move |open| {
            open.order_id == order_id
                && open.user_id == caller.user_id
                && open.method == PaymentMethod::Kakaopay
                && open.now == now()
                && open.expires_at == now() + chrono::Duration::minutes(15)
        })
        .times(1)
        .return_once(|_| Ok(opened()));
    fixture
        .gateway
        .expect_ready()
        .withf(|ready| ready.description == "Rust basics and 2 more" && ready.amount == won(20_000))
        .times(1)
        .returning(|ready| {
            Ok(ReadyAnswer {
                reference: "tid-1".into(),
                approval_url: format!("https://pay.example/{}", ready.checkout_id),
            })
        });
    fixture
        .checkouts
        .expect_attach()
        .withf(|_, reference, url, _| reference == "tid-1" && url.starts_with("https://pay"))
        .times(1)
        .returning(|_, _, _, _| Ok(true));
    let ready = fixture
        .checkout()
        .check_out(&caller, request(&pending, PaymentMethod::Kakaopay))
        .await
        .expect("ready");
    assert_eq!(ready.status, CheckoutStatus::Ready);
    assert_eq!(ready.order_id, order_id);
    assert_eq!(
        ready.approval_url,
        format!("https://pay.example/{}", ready.payment_id)
    );
    assert_eq!(ready.expires_at, now() + chrono::Duration::minutes(15));
}

#[tokio::test]
async fn a_checkout_superseded_before_its_answer_is_stored_is_refused() {
    let caller = principal();
    let pending = order(caller.user_id);
    let mut fixture = Fixture::new();
    fixture.with_order(pending.clone());
    fixture
        .checkouts
        .expect_open()
        .return_once(|_| Ok(opened()));
    fixture.gateway.expect_ready().returning(|ready| {
        Ok(ReadyAnswer {
            reference: "tid-2".into(),
            approval_url: format!("https://pay.example/{}", ready.checkout_id),
        })
    });
    fixture
        .checkouts
        .expect_attach()
        .times(1)
        .returning(|_, _, _, _| Ok(false));
    let error = fixture
        .checkout()
        .check_out(&caller, request(&pending, PaymentMethod::Kakaopay))
        .await
        .expect_err("superseded");
    assert_eq!(error, CheckOutError::Superseded);
    assert_eq!(
        (error.class(), error.code()),
        (ErrorClass::Conflict, "checkout_superseded")
    );
}

#[tokio::test]
async fn the_wallet_is_refused_before_anything_is_read() {
    let caller = principal();
    let pending = order(caller.user_id);
    let error = Fixture::new()
        .checkout()
        .check_out(&caller, request(&pending, PaymentMethod::Wallet))
        .await
        .expect_err("refused");
    assert_eq!(error.code(), "validation_failed");
    assert_eq!(error.violations()[0].field, "payment_method");
    assert_eq!(error.violations()[0].code, "method_not_allowed");
}

#[tokio::test]
async fn the_order_is_checked_before_the_store_is_written() {
    let caller = principal();
    let mut paid = order(caller.user_id);
    paid.status = OrderStatus::Paid;
    let mut over = order(caller.user_id);
    over.total = won(50_001);
    let mut free = order(caller.user_id);
    free.total = Money::ZERO;
    for (found, class, code) in [
        (None, ErrorClass::NotFound, "not_found"),
        (Some(paid), ErrorClass::Conflict, "order_not_pending"),
        (Some(over), ErrorClass::Conflict, "order_total_exceeded"),
        (Some(free), ErrorClass::InvalidInput, "validation_failed"),
    ] {
        let mut fixture = Fixture::new();
        let asked = order(caller.user_id);
        fixture
            .orders
            .expect_order()
            .withf(move |user, _| *user == caller.user_id)
            .return_once(move |_, _| Ok(found));
        let error = fixture
            .checkout()
            .check_out(&caller, request(&asked, PaymentMethod::Card))
            .await
            .expect_err("refused");
        assert_eq!((error.class(), error.code()), (class, code));
    }
}

#[tokio::test]
async fn the_stores_refusals_keep_their_codes() {
    let caller = principal();
    for (refusal, class, code) in [
        (
            OpenCheckoutError::UnknownBillingAddress,
            ErrorClass::NotFound,
            "unknown_billing_address",
        ),
        (
            OpenCheckoutError::NotPending,
            ErrorClass::Conflict,
            "order_not_pending",
        ),
        (
            OpenCheckoutError::NotFound,
            ErrorClass::NotFound,
            "not_found",
        ),
        (
            OpenCheckoutError::TotalExceeded { total: won(60_000) },
            ErrorClass::Conflict,
            "order_total_exceeded",
        ),
        (
            OpenCheckoutError::Dependency(DependencyError::Unavailable("down".into())),
            ErrorClass::Unavailable,
            "service_unavailable",
        ),
    ] {
        let pending = order(caller.user_id);
        let mut fixture = Fixture::new();
        fixture.with_order(pending.clone());
        fixture
            .checkouts
            .expect_open()
            .return_once(move |_| Err(refusal));
        let error = fixture
            .checkout()
            .check_out(&caller, request(&pending, PaymentMethod::Card))
            .await
            .expect_err("refused");
        assert_eq!((error.class(), error.code()), (class, code));
    }
}

#[tokio::test]
async fn a_provider_that_fails_at_ready_leaves_the_payment_failed() {
    let caller = principal();
    for (failure, class, code) in [
        (
            CheckoutGatewayError::Declined("no".into()),
            ErrorClass::PaymentDeclined,
            "payment_declined",
        ),
        (
            CheckoutGatewayError::Timeout,
            ErrorClass::Unavailable,
            "provider_unavailable",
        ),
        (
            CheckoutGatewayError::Unavailable("down".into()),
            ErrorClass::Unavailable,
            "provider_unavailable",
        ),
    ] {
        let pending = order(caller.user_id);
        let mut fixture = Fixture::new();
        fixture.with_order(pending.clone());
        fixture
            .checkouts
            .expect_open()
            .return_once(|_| Ok(opened()));
        fixture
            .gateway
            .expect_ready()
            .return_once(move |_| Err(failure));
        fixture
            .checkouts
            .expect_fail_open()
            .times(1)
            .returning(|_, _| Ok(()));
        let error = fixture
            .checkout()
            .check_out(&caller, request(&pending, PaymentMethod::Card))
            .await
            .expect_err("refused");
        assert_eq!((error.class(), error.code()), (class, code));
    }
}

#[tokio::test]
async fn a_bad_signature_is_refused_before_anything_is_read() {
    for (refusal, code) in [
        (CallbackSignatureError::Invalid, "invalid_signature"),
        (CallbackSignatureError::Stale, "stale_signature"),
    ] {
        let mut fixture = Fixture::new();
        fixture
            .codec
            .expect_verify()
            .withf(|body, header, at| body == b"body" && header.is_empty() && *at == now())
            .return_once(move |_, _, _| Err(refusal));
        let error = fixture
            .checkout()
            .callback(checkout_id(), b"body", None)
            .await
            .expect_err("refused");
        assert_eq!(
            (error.class(), error.code()),
            (ErrorClass::Unauthenticated, code)
        );
    }
}

#[tokio::test]
async fn a_signed_body_must_be_a_message_about_the_paths_payment() {
    let id = checkout_id();
    let mut fixture = Fixture::new();
    fixture.codec.expect_verify().returning(|_, _, _| Ok(()));
    fixture
        .codec
        .expect_decode()
        .return_once(|_| Err(MalformedCallback("not json".into())));
    let error = fixture
        .checkout()
        .callback(id, b"{", Some("t=1,v1=00"))
        .await
        .expect_err("refused");
    assert_eq!(error.code(), "malformed_callback");
    let mut fixture = Fixture::new();
    fixture.accepting(message(checkout_id(), CallbackResult::Approved));
    let error = fixture
        .checkout()
        .callback(id, b"{}", Some("t=1,v1=00"))
        .await
        .expect_err("refused");
    assert_eq!(
        (error.class(), error.code()),
        (ErrorClass::InvalidInput, "payment_id_mismatch")
    );
}

#[tokio::test]
async fn a_callback_is_applied_with_its_result_and_reference() {
    let id = checkout_id();
    let mut fixture = Fixture::new();
    fixture.accepting(message(id, CallbackResult::Approved));
    let answer = outcome(id, CallbackEffect::Pay, None);
    let expected = answer.clone();
    fixture
        .checkouts
        .expect_apply_callback()
        .withf(move |apply| {
            apply.id == id
                && apply.result == CallbackResult::Approved
                && apply.reference.as_deref() == Some("ref")
                && apply.now == now()
        })
        .times(1)
        .return_once(move |_| Ok(answer));
    let applied = fixture.checkout().callback(id, b"{}", Some("sig")).await;
    assert_eq!(applied, Ok(expected));
}

#[tokio::test]
async fn an_unknown_payment_is_not_found() {
    let id = checkout_id();
    let mut fixture = Fixture::new();
    fixture.accepting(message(id, CallbackResult::Failed));
    fixture
        .checkouts
        .expect_apply_callback()
        .return_once(|_| Err(ApplyCallbackError::NotFound));
    let error = fixture
        .checkout()
        .callback(id, b"{}", Some("sig"))
        .await
        .expect_err("refused");
    assert_eq!(error.code(), "not_found");
}

#[tokio::test]
async fn an_automatic_refund_is_made_at_the_provider_and_recorded() {
    let id = checkout_id();
    let mut fixture = Fixture::new();
    fixture.accepting(message(id, CallbackResult::Approved));
    fixture
        .checkouts
        .expect_apply_callback()
        .return_once(move |_| {
            Ok(outcome(
                id,
                CallbackEffect::RefundAutomatically {
                    close_payment: false,
                },
                Some(won(20_000)),
            ))
        });
    fixture
        .gateway
        .expect_refund()
        .withf(move |refunded, amount| *refunded == id && *amount == won(20_000))
        .times(1)
        .returning(|_, _| Ok(()));
    fixture
        .checkouts
        .expect_finish_refund()
        .withf(move |finished, _| *finished == id)
        .times(1)
        .returning(|_, _| Ok(()));
    let applied = fixture
        .checkout()
        .callback(id, b"{}", Some("sig"))
        .await
        .expect("applied");
    assert_eq!(applied.refund, RefundState::Done);
}

#[tokio::test]
async fn an_automatic_refund_the_provider_fails_stays_pending() {
    let id = checkout_id();
    let mut fixture = Fixture::new();
    fixture.accepting(message(id, CallbackResult::Approved));
    fixture
        .checkouts
        .expect_apply_callback()
        .return_once(move |_| {
            Ok(outcome(
                id,
                CallbackEffect::RefundAutomatically {
                    close_payment: true,
                },
                Some(won(20_000)),
            ))
        });
    fixture
        .gateway
        .expect_refund()
        .times(1)
        .returning(|_, _| Err(CheckoutGatewayError::Timeout));
    fixture
        .checkouts
        .expect_retry_later()
        .withf(move |at, _| *at == id)
        .times(1)
        .returning(|_, _| Ok(1));
    let applied = fixture
        .checkout()
        .callback(id, b"{}", Some("sig"))
        .await
        .expect("applied");
    assert_eq!(applied.refund, RefundState::Pending);
}

fn due(order_id: OrderId) -> RefundDue {
    RefundDue {
        checkout_id: checkout_id(),
        order_id,
        amount: won(20_000),
    }
}

#[tokio::test]
async fn a_refund_is_begun_then_made_then_recorded() {
    let caller = principal();
    let order_id = OrderId::from_uuid(Uuid::now_v7());
    let mut fixture = Fixture::new();
    fixture
        .checkouts
        .expect_begin_refund()
        .withf(move |order, user, at| *order == order_id && *user == caller.user_id && *at == now())
        .times(1)
        .return_once(move |_, _, _| Ok(due(order_id)));
    fixture
        .gateway
        .expect_refund()
        .times(1)
        .returning(|_, _| Ok(()));
    fixture
        .checkouts
        .expect_finish_refund()
        .times(1)
        .returning(|_, _| Ok(()));
    let refunded = fixture
        .checkout()
        .refund(&caller, order_id)
        .await
        .expect("refunded");
    assert_eq!(
        (refunded.status, refunded.refund, refunded.amount),
        (OrderStatus::Refunded, RefundState::Done, won(20_000))
    );
}

#[tokio::test]
async fn a_refund_the_provider_fails_is_still_refunded_and_left_pending() {
    let caller = principal();
    let order_id = OrderId::from_uuid(Uuid::now_v7());
    let mut fixture = Fixture::new();
    fixture
        .checkouts
        .expect_begin_refund()
        .return_once(move |_, _, _| Ok(due(order_id)));
    fixture
        .gateway
        .expect_refund()
        .returning(|_, _| Err(CheckoutGatewayError::Unavailable("down".into())));
    // the store cannot put it off either: the answer is still pending, the next sweep retries
    fixture
        .checkouts
        .expect_retry_later()
        .times(1)
        .returning(|_, _| Err(DependencyError::Unavailable("db".into())));
    let refunded = fixture
        .checkout()
        .refund(&caller, order_id)
        .await
        .expect("refunded");
    assert_eq!(
        (refunded.status, refunded.refund),
        (OrderStatus::Refunded, RefundState::Pending)
    );
}

#[tokio::test]
async fn nothing_to_refund_at_the_provider_leaves_the_refund_pending_and_unconfirmed() {
    let caller = principal();
    let order_id = OrderId::from_uuid(Uuid::now_v7());
    let mut fixture = Fixture::new();
    fixture
        .checkouts
        .expect_begin_refund()
        .return_once(move |_, _, _| Ok(due(order_id)));
    fixture
        .gateway
        .expect_refund()
        .returning(|_, _| Err(CheckoutGatewayError::NothingToRefund));
    fixture.checkouts.expect_finish_refund().never();
    fixture
        .checkouts
        .expect_retry_later()
        .times(1)
        .returning(|_, _| Ok(RETRIES_BEFORE_ALERT));
    let refunded = fixture.checkout().refund(&caller, order_id).await;
    assert_eq!(refunded.map(|done| done.refund), Ok(RefundState::Pending));
}

#[tokio::test]
async fn refund_refusals_keep_their_codes() {
    for (refusal, class, code) in [
        (
            BeginRefundError::NotFound,
            ErrorClass::NotFound,
            "not_found",
        ),
        (
            BeginRefundError::NotPaid,
            ErrorClass::Conflict,
            "order_not_paid",
        ),
        (
            BeginRefundError::WindowClosed,
            ErrorClass::Conflict,
            "refund_window_closed",
        ),
    ] {
        let mut fixture = Fixture::new();
        fixture
            .checkouts
            .expect_begin_refund()
            .return_once(move |_, _, _| Err(refusal));
        let error = fixture
            .checkout()
            .refund(&principal(), OrderId::from_uuid(Uuid::now_v7()))
            .await
            .expect_err("refused");
        assert_eq!((error.class(), error.code()), (class, code));
    }
}

fn summary(paid_at: DateTime<Utc>) -> ReceiptSummary {
    ReceiptSummary {
        checkout_id: checkout_id(),
        order_id: OrderId::from_uuid(Uuid::now_v7()),
        status: CheckoutStatus::Paid,
        amount: won(20_000),
        paid_at,
        refunded_at: None,
    }
}

#[tokio::test]
async fn receipts_page_by_their_last_row_and_a_strangers_is_not_found() {
    let caller = principal();
    let rows = vec![summary(now()), summary(now()), summary(now())];
    let last_kept = (rows[1].paid_at, rows[1].checkout_id);
    let mut fixture = Fixture::new();
    fixture
        .checkouts
        .expect_receipts()
        .withf(move |query| query.user_id == caller.user_id && query.limit.get() == 2)
        .return_once(move |_| Ok(rows));
    fixture
        .checkouts
        .expect_receipt()
        .withf(move |user, _| *user == caller.user_id)
        .return_once(|_, _| Ok(None));
    let checkout = fixture.checkout();
    let page = checkout
        .receipts(
            &caller,
            ListReceipts {
                after: None,
                limit: PageLimit::new(2).expect("valid"),
            },
        )
        .await
        .expect("page");
    assert_eq!((page.items.len(), page.next), (2, Some(last_kept)));
    assert_eq!(
        checkout.receipt(&caller, checkout_id()).await,
        Err(GetReceiptError::NotFound)
    );
}

fn record(id: CheckoutId, user: UserId) -> CheckoutRecord {
    CheckoutRecord {
        id,
        order_id: OrderId::from_uuid(Uuid::now_v7()),
        user_id: user,
        method: PaymentMethod::Card,
        amount: won(20_000),
        status: CheckoutStatus::Ready,
        refund: RefundState::NotDue,
        callback_result: None,
        provider_reference: Some("ref".into()),
        approval_url: None,
        created_at: now(),
        expires_at: now(),
        paid_at: None,
        refunded_at: None,
    }
}

fn signed() -> SignedCallback {
    SignedCallback {
        body: b"{}".to_vec(),
        signature: "sig".into(),
    }
}

#[tokio::test]
async fn simulating_feeds_each_callback_through_the_callback_path() {
    let caller = principal();
    let id = checkout_id();
    let mut fixture = Fixture::new();
    fixture
        .checkouts
        .expect_checkout()
        .return_once(move |_| Ok(Some(record(id, caller.user_id))));
    let mut simulator = MockProviderSimulator::new();
    simulator
        .expect_act()
        .withf(move |acted, action| *acted == id && *action == SimulatedAction::Approve)
        .return_once(|_, _| Ok(vec![signed(), signed()]));
    fixture.simulator = Some(simulator);
    fixture
        .codec
        .expect_verify()
        .withf(|body, header, _| body == b"{}" && header == "sig")
        .times(2)
        .returning(|_, _, _| Ok(()));
    fixture
        .codec
        .expect_decode()
        .times(2)
        .returning(move |_| Ok(message(id, CallbackResult::Approved)));
    let mut effects = vec![CallbackEffect::Replay, CallbackEffect::Pay];
    fixture
        .checkouts
        .expect_apply_callback()
        .times(2)
        .returning(move |_| Ok(outcome(id, effects.pop().expect("two"), None)));
    let last = fixture
        .checkout()
        .simulate(&caller, id, SimulatedAction::Approve)
        .await
        .expect("played");
    assert_eq!(last.effect, CallbackEffect::Replay);
}

#[tokio::test]
async fn simulating_needs_the_simulator_and_the_owner() {
    let caller = principal();
    let id = checkout_id();
    let mut fixture = Fixture::new();
    fixture.simulator = None;
    let checkout = fixture.checkout();
    assert!(!checkout.simulated());
    let error = checkout
        .simulate(&caller, id, SimulatedAction::Approve)
        .await
        .expect_err("absent");
    assert_eq!(error.code(), "not_found");
    for found in [None, Some(record(id, UserId::from_uuid(Uuid::now_v7())))] {
        let mut fixture = Fixture::new();
        fixture
            .checkouts
            .expect_checkout()
            .return_once(|_| Ok(found));
        let error = fixture
            .checkout()
            .simulate(&caller, id, SimulatedAction::Cancel)
            .await
            .expect_err("not theirs");
        assert_eq!(error.code(), "not_found");
    }
}

#[tokio::test]
async fn simulating_an_acted_payment_is_not_ready() {
    let caller = principal();
    let id = checkout_id();
    let mut fixture = Fixture::new();
    fixture
        .checkouts
        .expect_checkout()
        .return_once(move |_| Ok(Some(record(id, caller.user_id))));
    let mut simulator = MockProviderSimulator::new();
    simulator
        .expect_act()
        .return_once(|_, _| Err(SimulatorError::NotReady));
    fixture.simulator = Some(simulator);
    let error = fixture
        .checkout()
        .simulate(&caller, id, SimulatedAction::Decline)
        .await
        .expect_err("acted");
    assert_eq!(
        (error.class(), error.code()),
        (ErrorClass::Conflict, "payment_not_ready")
    );
}

#[tokio::test]
async fn an_approval_the_store_could_not_record_is_an_unknown_outcome() {
    let caller = principal();
    let id = checkout_id();
    let mut fixture = Fixture::new();
    fixture
        .checkouts
        .expect_checkout()
        .return_once(move |_| Ok(Some(record(id, caller.user_id))));
    let mut simulator = MockProviderSimulator::new();
    simulator
        .expect_act()
        .return_once(|_, _| Ok(vec![signed()]));
    fixture.simulator = Some(simulator);
    fixture.accepting(message(id, CallbackResult::Approved));
    fixture.checkouts.expect_apply_callback().return_once(|_| {
        Err(ApplyCallbackError::Dependency(
            DependencyError::Unavailable("down".into()),
        ))
    });
    let error = fixture
        .checkout()
        .simulate(&caller, id, SimulatedAction::Approve)
        .await
        .expect_err("lost");
    assert_eq!(
        (error.class(), error.code(), error.resource_id()),
        (
            ErrorClass::OutcomeUnknown,
            crate::OUTCOME_UNKNOWN,
            Some(id.to_string())
        )
    );
}

#[tokio::test]
async fn the_sweep_asks_the_provider_before_expiring_and_retries_refunds() {
    let (approved, ready, unreachable, declined) =
        (checkout_id(), checkout_id(), checkout_id(), checkout_id());
    let mut fixture = Fixture::new();
    fixture
        .checkouts
        .expect_overdue_ready()
        .withf(|at, limit| *at == now() && *limit == SWEEP_BATCH)
        .return_once(move |_, _| Ok(vec![approved, ready, unreachable, declined]));
    fixture.gateway.expect_lookup().returning(move |id| {
        if id == approved {
            Ok(ProviderRecord::Approved {
                reference: "late".into(),
            })
        } else if id == ready {
            Ok(ProviderRecord::Ready {
                reference: "r".into(),
            })
        } else if id == declined {
            Ok(ProviderRecord::Declined)
        } else {
            Err(CheckoutGatewayError::Timeout)
        }
    });
    fixture
        .checkouts
        .expect_apply_callback()
        .withf(move |apply| {
            (apply.id == approved
                && apply.result == CallbackResult::Approved
                && apply.reference.as_deref() == Some("late"))
                || (apply.id == declined
                    && apply.result == CallbackResult::Failed
                    && apply.reference.is_none())
        })
        .times(2)
        .returning(|apply| Ok(outcome(apply.id, CallbackEffect::Pay, None)));
    fixture
        .checkouts
        .expect_expire_ready()
        .withf(move |id, at| *id == ready && *at == now())
        .times(1)
        .returning(|_, _| Ok(true));
    let retried = due(OrderId::from_uuid(Uuid::now_v7()));
    let failing = due(OrderId::from_uuid(Uuid::now_v7()));
    let (retried_id, failing_id) = (retried.checkout_id, failing.checkout_id);
    fixture
        .checkouts
        .expect_due_refunds()
        .withf(|at, limit| *at == now() && *limit == SWEEP_BATCH)
        .return_once(move |_, _| Ok(vec![retried, failing]));
    // the unreachable lookup and the failed refund go to the back, backing off
    fixture
        .checkouts
        .expect_retry_later()
        .withf(move |id, at| (*id == unreachable || *id == failing_id) && *at == now())
        .times(2)
        .returning(|_, _| Ok(1));
    fixture.gateway.expect_refund().returning(move |id, _| {
        if id == failing_id {
            Err(CheckoutGatewayError::Unavailable("down".into()))
        } else {
            Ok(())
        }
    });
    fixture
        .checkouts
        .expect_finish_refund()
        .withf(move |id, _| *id == retried_id)
        .times(1)
        .returning(|_, _| Ok(()));
    let report = fixture.checkout().sweep().await.expect("swept");
    assert_eq!(
        report,
        SweepReport {
            expired: 1,
            resolved: 2,
            refunds_done: 1,
            left: 2,
        }
    );
}

#[test]
fn the_description_names_the_first_item_and_counts_the_rest() {
    assert_eq!(description(&[]), "Reserva order");
    assert_eq!(description(&["A".into()]), "A");
    assert_eq!(description(&["A".into(), "B".into()]), "A and 1 more");
}
