//! Contracts of `CheckoutRepository`: opening a checkout (its refusals, the address it copies,
//! superseding), the callbacks (pay, cancel, fail, automatic refunds, replays), refunds and
//! their 7-day window, the sweep's reads and writes, receipts; and the races: two checkouts of
//! one order, one callback delivered ten times at once, ten refunds of one order. Money is
//! checked on the ledger the wallet audits (`verify_ledger`): every case ends balanced.

use super::{ShoppingStore, course, curriculum, member, money, order, reread};
use crate::support::{now, tag};
use chrono::{DateTime, Duration, Utc};
use reserva_application::ports::commerce::checkout::{
    ApplyCallback, ApplyCallbackError, BeginRefundError, CallbackOutcome, CheckoutRecord,
    CheckoutRepository, OpenCheckout, OpenCheckoutError, OpenedCheckout, ReceiptQuery,
};
use reserva_application::ports::commerce::orders::{OrderSource, PlaceOrderError};
use reserva_application::ports::wallet::WalletRepository;
use reserva_domain::accounts::UserId;
use reserva_domain::commerce::{
    ACCESS_DAYS, CHECKOUT_TTL, CallbackEffect, CallbackResult, CheckoutId, CheckoutStatus, ItemRef,
    ORDER_TOTAL_LIMIT, Order, OrderId, OrderStatus, ReceiptNumber, RefundState,
};
use reserva_domain::paging::PageLimit;
use reserva_domain::wallet::PaymentMethod;
use uuid::Uuid;

/// What the checkout cases need: a shopping store with checkouts and the ledger.
pub trait CheckoutStore: ShoppingStore + CheckoutRepository + WalletRepository {}
impl<T: ShoppingStore + CheckoutRepository + WalletRepository + ?Sized> CheckoutStore for T {}

fn opening(user: UserId, order: OrderId, address: Option<Uuid>, at: DateTime<Utc>) -> OpenCheckout {
    OpenCheckout {
        id: CheckoutId::from_uuid(Uuid::now_v7()),
        order_id: order,
        user_id: user,
        method: PaymentMethod::Kakaopay,
        billing_address_id: address,
        now: at,
        expires_at: at + CHECKOUT_TTL,
    }
}

/// Opens a checkout of `order` now, failing the case if it is refused.
async fn open<S: CheckoutStore>(
    store: &S,
    user: UserId,
    order: OrderId,
) -> (CheckoutId, OpenedCheckout) {
    let checkout = opening(user, order, None, now());
    let id = checkout.id;
    let opened = store
        .open(checkout)
        .await
        .unwrap_or_else(|e| panic!("open: {e:?}"));
    (id, opened)
}

fn delivery(id: CheckoutId, result: CallbackResult, at: DateTime<Utc>) -> ApplyCallback {
    ApplyCallback {
        id,
        result,
        reference: Some(format!("T{}", tag())),
        now: at,
    }
}

async fn callback<S: CheckoutStore>(
    store: &S,
    id: CheckoutId,
    result: CallbackResult,
    at: DateTime<Utc>,
) -> CallbackOutcome {
    store
        .apply_callback(delivery(id, result, at))
        .await
        .unwrap_or_else(|e| panic!("apply_callback: {e:?}"))
}

async fn record<S: CheckoutStore>(store: &S, id: CheckoutId) -> CheckoutRecord {
    store
        .checkout(id)
        .await
        .unwrap_or_else(|e| panic!("checkout: {e}"))
        .unwrap_or_else(|| panic!("checkout {id} not found"))
}

/// The ledger is balanced; returns how many transfers it holds.
async fn balanced<S: CheckoutStore>(store: &S) -> u64 {
    let audit = store
        .verify_ledger()
        .await
        .unwrap_or_else(|e| panic!("verify_ledger: {e}"));
    assert!(audit.violations.is_empty(), "{:#?}", audit.violations);
    audit.transfers_checked
}

/// A member with a pending order of two courses (10,000 and 20,000): (buyer, order).
async fn pending_order<S: CheckoutStore>(store: &S) -> (UserId, Order) {
    let buyer = member(store).await;
    let a = course(store, 10_000).await.id;
    let b = course(store, 20_000).await.id;
    let placed = order(store, buyer, &[ItemRef::Course(a), ItemRef::Course(b)]).await;
    (buyer, placed)
}

/// A member's order of one new course at `price`, paid through a checkout approved at `at`:
/// (buyer, order, checkout).
async fn paid_order<S: CheckoutStore>(
    store: &S,
    buyer: UserId,
    price: i64,
    at: DateTime<Utc>,
) -> (Order, CheckoutId) {
    let item = course(store, price).await.id;
    let placed = order(store, buyer, &[ItemRef::Course(item)]).await;
    let (id, _) = open(store, buyer, placed.id).await;
    let paid = callback(store, id, CallbackResult::Approved, at).await;
    assert_eq!(paid.effect, CallbackEffect::Pay);
    (placed, id)
}

/// A checkout opens ready on the order's total, copies the default billing address (or none),
/// and names the order's items for the provider.
pub async fn a_checkout_opens_ready_on_the_order_total<S: CheckoutStore>(store: &S) {
    let (buyer, placed) = pending_order(store).await;
    let (id, opened) = open(store, buyer, placed.id).await;
    assert_eq!(opened.amount, money(30_000));
    assert_eq!(opened.superseded, None);
    assert_eq!(
        opened.item_titles,
        placed
            .items
            .iter()
            .map(|i| i.title.clone())
            .collect::<Vec<_>>()
    );
    let ready = record(store, id).await;
    assert_eq!(ready.status, CheckoutStatus::Ready);
    assert_eq!(ready.order_id, placed.id);
    assert_eq!(ready.user_id, buyer);
    assert_eq!(ready.method, PaymentMethod::Kakaopay);
    assert_eq!(ready.amount, money(30_000));
    assert_eq!(ready.refund, RefundState::NotDue);
    assert_eq!(ready.callback_result, None);
    assert_eq!(ready.expires_at, ready.created_at + CHECKOUT_TTL);
    assert_eq!(ready.paid_at, None);
    assert_eq!(
        reread(store, buyer, placed.id).await.status,
        OrderStatus::Pending
    );

    store
        .attach(
            id,
            "T-ready-1".into(),
            "https://pay.example/1".into(),
            now(),
        )
        .await
        .unwrap_or_else(|e| panic!("attach: {e}"));
    let attached = record(store, id).await;
    assert_eq!(attached.provider_reference.as_deref(), Some("T-ready-1"));
    assert_eq!(
        attached.approval_url.as_deref(),
        Some("https://pay.example/1")
    );
    assert_eq!(attached.status, CheckoutStatus::Ready);

    // the provider refused the ready: the payment fails, the order stays pending and may be
    // checked out again; attaching to it changes nothing
    store
        .fail_open(id, now())
        .await
        .unwrap_or_else(|e| panic!("fail_open: {e}"));
    assert_eq!(record(store, id).await.status, CheckoutStatus::Failed);
    store
        .attach(
            id,
            "T-late".into(),
            "https://pay.example/late".into(),
            now(),
        )
        .await
        .unwrap_or_else(|e| panic!("attach: {e}"));
    assert_eq!(
        record(store, id).await.approval_url.as_deref(),
        Some("https://pay.example/1")
    );
    assert_eq!(
        reread(store, buyer, placed.id).await.status,
        OrderStatus::Pending
    );
    let (again, _) = open(store, buyer, placed.id).await;
    assert_eq!(record(store, again).await.status, CheckoutStatus::Ready);
}

/// Every refusal of an open writes nothing: an unknown order, another user's, one not pending,
/// one over the total limit (the second check), an address that is not the user's.
pub async fn open_refusals_write_nothing<S: CheckoutStore>(store: &S) {
    let (buyer, placed) = pending_order(store).await;
    let stranger = member(store).await;
    let strangers_address = store.billing_address(stranger, "Elsewhere 9", true).await;
    let refusals = [
        (
            opening(buyer, OrderId::from_uuid(Uuid::now_v7()), None, now()),
            OpenCheckoutError::NotFound,
        ),
        (
            opening(stranger, placed.id, None, now()),
            OpenCheckoutError::NotFound,
        ),
        (
            opening(buyer, placed.id, Some(strangers_address), now()),
            OpenCheckoutError::UnknownBillingAddress,
        ),
        (
            opening(buyer, placed.id, Some(Uuid::now_v7()), now()),
            OpenCheckoutError::UnknownBillingAddress,
        ),
    ];
    for (checkout, expected) in refusals {
        let id = checkout.id;
        assert_eq!(store.open(checkout).await, Err(expected));
        assert_eq!(store.checkout(id).await, Ok(None));
    }
    store
        .force_order_total(placed.id, ORDER_TOTAL_LIMIT.get() + 1)
        .await;
    let over = opening(buyer, placed.id, None, now());
    let over_id = over.id;
    assert_eq!(
        store.open(over).await,
        Err(OpenCheckoutError::TotalExceeded {
            total: money(ORDER_TOTAL_LIMIT.get() + 1)
        })
    );
    assert_eq!(store.checkout(over_id).await, Ok(None));
    store
        .force_order_total(placed.id, ORDER_TOTAL_LIMIT.get())
        .await;
    let (at_limit, opened) = open(store, buyer, placed.id).await;
    assert_eq!(
        opened.amount, ORDER_TOTAL_LIMIT,
        "the limit itself is allowed"
    );

    // paid: no longer pending
    callback(store, at_limit, CallbackResult::Approved, now()).await;
    let late = opening(buyer, placed.id, None, now());
    let late_id = late.id;
    assert_eq!(store.open(late).await, Err(OpenCheckoutError::NotPending));
    assert_eq!(store.checkout(late_id).await, Ok(None));
    // cancelled by a newer order: not pending either
    let (other_buyer, first) = pending_order(store).await;
    let item = course(store, 1_000).await.id;
    order(store, other_buyer, &[ItemRef::Course(item)]).await;
    assert_eq!(
        store
            .open(opening(other_buyer, first.id, None, now()))
            .await,
        Err(OpenCheckoutError::NotPending)
    );
    balanced(store).await;
}

/// The billing address is copied at checkout — the one given, else the default — and the
/// receipt keeps the copy when the address is edited later; without any address the receipt
/// has none.
pub async fn the_billing_address_is_copied_at_checkout<S: CheckoutStore>(store: &S) {
    let buyer = member(store).await;
    let default = store.billing_address(buyer, "Default 1", true).await;
    let other = store.billing_address(buyer, "Other 2", false).await;
    let main_of = async |address: Option<Uuid>| {
        let item = course(store, 500).await.id;
        let placed = order(store, buyer, &[ItemRef::Course(item)]).await;
        let checkout = opening(buyer, placed.id, address, now());
        let id = checkout.id;
        store
            .open(checkout)
            .await
            .unwrap_or_else(|e| panic!("open: {e:?}"));
        callback(store, id, CallbackResult::Approved, now()).await;
        let receipt = store
            .receipt(buyer, id)
            .await
            .unwrap_or_else(|e| panic!("receipt: {e}"))
            .unwrap_or_else(|| panic!("receipt of a paid checkout"));
        (id, receipt.billing.map(|billing| billing.main_address))
    };
    let (with_default, main) = main_of(None).await;
    assert_eq!(main.as_deref(), Some("Default 1"));
    let (_, main) = main_of(Some(other)).await;
    assert_eq!(main.as_deref(), Some("Other 2"));
    store.edit_billing_address(default, "Moved 3").await;
    let kept = store
        .receipt(buyer, with_default)
        .await
        .unwrap_or_else(|e| panic!("receipt: {e}"))
        .and_then(|receipt| receipt.billing);
    let kept = kept.unwrap_or_else(|| panic!("the copy is kept"));
    assert_eq!(kept.main_address, "Default 1");
    assert_eq!(kept.country, "KR");
    assert_eq!(kept.detail_address, "101");
    assert_eq!(kept.postal_code, "04524");

    let homeless = member(store).await;
    let (_, id) = paid_order(store, homeless, 700, now()).await;
    let receipt = store
        .receipt(homeless, id)
        .await
        .unwrap_or_else(|e| panic!("receipt: {e}"))
        .unwrap_or_else(|| panic!("receipt of a paid checkout"));
    assert_eq!(receipt.billing, None);
}

/// A second checkout of an order supersedes the first.
pub async fn a_second_checkout_supersedes_the_first<S: CheckoutStore>(store: &S) {
    let (buyer, placed) = pending_order(store).await;
    let (first, _) = open(store, buyer, placed.id).await;
    let (second, opened) = open(store, buyer, placed.id).await;
    assert_eq!(opened.superseded, Some(first));
    assert_eq!(
        record(store, first).await.status,
        CheckoutStatus::Superseded
    );
    assert_eq!(record(store, second).await.status, CheckoutStatus::Ready);
}

/// Ten checkouts of one order at once: every one opens (or fails as a dependency), and exactly
/// one is left ready, the others superseded.
pub async fn concurrent_checkouts_of_one_order_leave_one_ready<S: CheckoutStore>(store: &S) {
    let (buyer, placed) = pending_order(store).await;
    let attempts: Vec<OpenCheckout> = (0..10)
        .map(|_| opening(buyer, placed.id, None, now()))
        .collect();
    let ids: Vec<CheckoutId> = attempts.iter().map(|a| a.id).collect();
    let outcomes =
        futures_util::future::join_all(attempts.into_iter().map(|a| store.open(a))).await;
    let mut statuses = Vec::new();
    for (id, outcome) in ids.iter().zip(&outcomes) {
        match outcome {
            Ok(_) => statuses.push(record(store, *id).await.status),
            Err(OpenCheckoutError::Dependency(_)) => {
                assert_eq!(store.checkout(*id).await, Ok(None), "a failed open wrote");
            }
            Err(other) => panic!("open: {other:?}"),
        }
    }
    assert!(!statuses.is_empty(), "{outcomes:?}");
    let ready = statuses
        .iter()
        .filter(|status| **status == CheckoutStatus::Ready)
        .count();
    assert_eq!(ready, 1, "{statuses:?}");
    assert!(
        statuses
            .iter()
            .all(|s| matches!(s, CheckoutStatus::Ready | CheckoutStatus::Superseded)),
        "{statuses:?}"
    );
}

/// An approval pays the payment and its order, grants each course (a curriculum's too) for
/// 730 days from the callback's instant, and posts one transfer provider → commerce revenue;
/// every later delivery (whatever its result) is a replay that changes nothing.
pub async fn an_approval_pays_grants_and_posts_one_transfer<S: CheckoutStore>(store: &S) {
    let buyer = member(store).await;
    let single = course(store, 4_000).await.id;
    let (c1, c2) = (course(store, 1).await.id, course(store, 1).await.id);
    let bundle = curriculum(store, 6_000, &[c1, c2]).await;
    let placed = order(
        store,
        buyer,
        &[ItemRef::Course(single), ItemRef::Curriculum(bundle)],
    )
    .await;
    let (id, _) = open(store, buyer, placed.id).await;
    let before = balanced(store).await;
    let paid_at = now();
    let first = store
        .apply_callback(ApplyCallback {
            id,
            result: CallbackResult::Approved,
            reference: Some("T-approved".into()),
            now: paid_at,
        })
        .await
        .unwrap_or_else(|e| panic!("apply_callback: {e:?}"));
    assert_eq!(first.effect, CallbackEffect::Pay);
    assert_eq!(first.checkout_id, id);
    assert_eq!(first.order_id, placed.id);
    assert_eq!(first.recorded, CallbackResult::Approved);
    assert_eq!(first.status, CheckoutStatus::Paid);
    assert_eq!(first.order_status, OrderStatus::Paid);
    assert_eq!(first.refund, RefundState::NotDue);
    assert_eq!(first.refund_due, None);
    let paid = record(store, id).await;
    assert_eq!(paid.status, CheckoutStatus::Paid);
    assert_eq!(paid.paid_at, Some(paid_at));
    assert_eq!(paid.callback_result, Some(CallbackResult::Approved));
    assert_eq!(paid.provider_reference.as_deref(), Some("T-approved"));
    let order_now = reread(store, buyer, placed.id).await;
    assert_eq!(order_now.status, OrderStatus::Paid);
    assert_eq!(order_now.paid_at, Some(paid_at));
    let access = store
        .live_access(buyer, now())
        .await
        .unwrap_or_else(|e| panic!("live_access: {e}"));
    let mut courses: Vec<_> = access.iter().map(|a| a.grant.course_id).collect();
    courses.sort_unstable();
    let mut expected = vec![single, c1, c2];
    expected.sort_unstable();
    assert_eq!(courses, expected);
    for grant in &access {
        assert_eq!(grant.grant.order_id, placed.id);
        assert_eq!(grant.grant.granted_at, paid_at);
        assert_eq!(
            grant.grant.expires_at,
            paid_at + Duration::days(ACCESS_DAYS)
        );
    }
    assert_eq!(balanced(store).await, before + 1);

    for result in CallbackResult::ALL {
        let replay = callback(store, id, result, now() + Duration::minutes(1)).await;
        assert_eq!(replay.effect, CallbackEffect::Replay, "{result:?}");
        assert_eq!(replay.recorded, CallbackResult::Approved);
        assert_eq!(replay.status, CheckoutStatus::Paid);
        assert_eq!(replay.order_status, OrderStatus::Paid);
        assert_eq!(replay.refund_due, None);
    }
    assert_eq!(record(store, id).await, paid, "a replay writes nothing");
    assert_eq!(balanced(store).await, before + 1);
    assert_eq!(
        store
            .apply_callback(delivery(
                CheckoutId::from_uuid(Uuid::now_v7()),
                CallbackResult::Approved,
                now()
            ))
            .await,
        Err(ApplyCallbackError::NotFound)
    );
}

/// One approval delivered ten times at once takes effect once: one payment, one transfer,
/// each grant once; the other nine are replays (or dependency failures a retry replays).
pub async fn one_callback_delivered_ten_times_at_once_takes_effect_once<S: CheckoutStore>(
    store: &S,
) {
    let (buyer, placed) = pending_order(store).await;
    let (id, _) = open(store, buyer, placed.id).await;
    let before = balanced(store).await;
    let at = now();
    let outcomes = futures_util::future::join_all(
        (0..10).map(|_| store.apply_callback(delivery(id, CallbackResult::Approved, at))),
    )
    .await;
    let mut paid = 0;
    for outcome in &outcomes {
        match outcome {
            Ok(done) if done.effect == CallbackEffect::Pay => paid += 1,
            Ok(done) => {
                assert_eq!(done.effect, CallbackEffect::Replay);
                assert_eq!(done.status, CheckoutStatus::Paid);
            }
            Err(ApplyCallbackError::Dependency(_)) => {}
            Err(other) => panic!("apply_callback: {other:?}"),
        }
    }
    assert_eq!(paid, 1, "{outcomes:?}");
    assert_eq!(balanced(store).await, before + 1);
    let access = store
        .live_access(buyer, now())
        .await
        .unwrap_or_else(|e| panic!("live_access: {e}"));
    assert_eq!(access.len(), 2, "each course granted once");
    assert_eq!(
        reread(store, buyer, placed.id).await.status,
        OrderStatus::Paid
    );
}

/// A cancel at the provider cancels the payment and its pending order (SOURCES §5.5); a failure
/// fails the payment and leaves the order pending; late cancels and failures of a payment no
/// longer ready are recorded and change nothing else.
pub async fn cancels_and_failures<S: CheckoutStore>(store: &S) {
    let (buyer, placed) = pending_order(store).await;
    let (failed, _) = open(store, buyer, placed.id).await;
    let outcome = callback(store, failed, CallbackResult::Failed, now()).await;
    assert_eq!(outcome.effect, CallbackEffect::Fail);
    assert_eq!(outcome.status, CheckoutStatus::Failed);
    assert_eq!(outcome.order_status, OrderStatus::Pending);
    assert_eq!(
        record(store, failed).await.callback_result,
        Some(CallbackResult::Failed)
    );
    assert_eq!(
        reread(store, buyer, placed.id).await.status,
        OrderStatus::Pending
    );

    let (superseded, _) = open(store, buyer, placed.id).await;
    let (cancelled, _) = open(store, buyer, placed.id).await;
    let ignored = callback(store, superseded, CallbackResult::Cancelled, now()).await;
    assert_eq!(ignored.effect, CallbackEffect::Ignore);
    assert_eq!(ignored.status, CheckoutStatus::Superseded);
    assert_eq!(ignored.order_status, OrderStatus::Pending);
    assert_eq!(
        record(store, superseded).await.callback_result,
        Some(CallbackResult::Cancelled),
        "recorded"
    );
    let outcome = callback(store, cancelled, CallbackResult::Cancelled, now()).await;
    assert_eq!(outcome.effect, CallbackEffect::Cancel { order_too: true });
    assert_eq!(outcome.status, CheckoutStatus::Cancelled);
    assert_eq!(outcome.order_status, OrderStatus::Cancelled);
    let order_now = reread(store, buyer, placed.id).await;
    assert_eq!(order_now.status, OrderStatus::Cancelled);
    assert!(order_now.cancelled_at.is_some());
    // a late failure of the cancelled one: a replay
    let replay = callback(store, cancelled, CallbackResult::Failed, now()).await;
    assert_eq!(replay.effect, CallbackEffect::Replay);
    assert_eq!(replay.recorded, CallbackResult::Cancelled);
    assert_eq!(balanced(store).await, 0, "no money moved");
}

/// An approval that arrives for a payment that can no longer pay its order is refunded at
/// once: its order cancelled by a newer order (the payment, still ready, is closed), or the
/// payment superseded (it keeps its status). Both transfers are posted (the ledger stays
/// balanced), refund is pending until `finish_refund`, no access is granted, the order is
/// untouched.
pub async fn an_approval_that_cannot_pay_is_refunded_automatically<S: CheckoutStore>(store: &S) {
    let (buyer, placed) = pending_order(store).await;
    let (stale, _) = open(store, buyer, placed.id).await;
    let newer_item = course(store, 2_000).await.id;
    let newer = order(store, buyer, &[ItemRef::Course(newer_item)]).await;
    assert_eq!(
        reread(store, buyer, placed.id).await.status,
        OrderStatus::Cancelled
    );
    let before = balanced(store).await;
    let outcome = callback(store, stale, CallbackResult::Approved, now()).await;
    assert_eq!(
        outcome.effect,
        CallbackEffect::RefundAutomatically {
            close_payment: true
        }
    );
    assert_eq!(outcome.status, CheckoutStatus::Cancelled);
    assert_eq!(outcome.order_status, OrderStatus::Cancelled);
    assert_eq!(outcome.refund, RefundState::Pending);
    assert_eq!(outcome.refund_due, Some(money(30_000)));
    let refunded = record(store, stale).await;
    assert_eq!(refunded.refund, RefundState::Pending);
    assert_eq!(refunded.callback_result, Some(CallbackResult::Approved));
    assert_eq!(refunded.paid_at, None);
    assert_eq!(balanced(store).await, before + 2, "in and back out");
    assert!(
        store
            .live_access(buyer, now())
            .await
            .unwrap_or_else(|e| panic!("live_access: {e}"))
            .is_empty()
    );
    let replay = callback(store, stale, CallbackResult::Approved, now()).await;
    assert_eq!(replay.effect, CallbackEffect::Replay);
    assert_eq!(replay.refund_due, None, "a replay owes nothing more");
    assert_eq!(balanced(store).await, before + 2);

    // superseded: the newer checkout stays ready and may still pay
    let (superseded, _) = open(store, buyer, newer.id).await;
    let (current, _) = open(store, buyer, newer.id).await;
    let outcome = callback(store, superseded, CallbackResult::Approved, now()).await;
    assert_eq!(
        outcome.effect,
        CallbackEffect::RefundAutomatically {
            close_payment: false
        }
    );
    assert_eq!(outcome.status, CheckoutStatus::Superseded);
    assert_eq!(outcome.order_status, OrderStatus::Pending);
    assert_eq!(outcome.refund_due, Some(money(2_000)));
    assert_eq!(record(store, current).await.status, CheckoutStatus::Ready);
    assert_eq!(
        callback(store, current, CallbackResult::Approved, now())
            .await
            .effect,
        CallbackEffect::Pay
    );
    assert_eq!(balanced(store).await, before + 5);

    let due = store
        .due_refunds(now(), 100)
        .await
        .unwrap_or_else(|e| panic!("due_refunds: {e}"));
    let due_ids: Vec<CheckoutId> = due.iter().map(|d| d.checkout_id).collect();
    assert_eq!(due_ids, [stale, superseded], "the longest waiting first");
    assert_eq!(due[0].order_id, placed.id);
    assert_eq!(due[0].amount, money(30_000));
    // a refund the provider failed is put off (30 s, then 60 s …): the others come first
    let due_at = |at| async move {
        store
            .due_refunds(at, 100)
            .await
            .unwrap_or_else(|e| panic!("due_refunds: {e}"))
            .iter()
            .map(|d| d.checkout_id)
            .collect::<Vec<_>>()
    };
    let retry = |at| async move {
        store
            .retry_later(stale, at)
            .await
            .unwrap_or_else(|e| panic!("retry_later: {e}"))
    };
    assert_eq!(retry(now()).await, 1);
    assert_eq!(due_at(now()).await, [superseded], "not due yet");
    assert_eq!(due_at(now() + Duration::seconds(29)).await, [superseded]);
    assert_eq!(
        due_at(now() + Duration::seconds(30)).await,
        [superseded, stale],
        "due again, behind the one never tried"
    );
    assert_eq!(retry(now() + Duration::seconds(30)).await, 2);
    assert_eq!(
        due_at(now() + Duration::seconds(89)).await,
        [superseded],
        "backing off"
    );
    assert_eq!(
        due_at(now() + Duration::seconds(90)).await,
        [superseded, stale]
    );
    assert_eq!(
        store
            .retry_later(CheckoutId::from_uuid(Uuid::now_v7()), now())
            .await,
        Ok(0),
        "an unknown payment"
    );
    store
        .finish_refund(stale, now())
        .await
        .unwrap_or_else(|e| panic!("finish_refund: {e}"));
    assert_eq!(record(store, stale).await.refund, RefundState::Done);
    let due = store
        .due_refunds(now() + Duration::seconds(90), 100)
        .await
        .unwrap_or_else(|e| panic!("due_refunds: {e}"));
    assert_eq!(
        due.iter().map(|d| d.checkout_id).collect::<Vec<_>>(),
        [superseded]
    );
    // finishing twice, or a payment owed nothing, changes nothing
    store
        .finish_refund(stale, now())
        .await
        .unwrap_or_else(|e| panic!("finish_refund: {e}"));
    store
        .finish_refund(current, now())
        .await
        .unwrap_or_else(|e| panic!("finish_refund: {e}"));
    assert_eq!(record(store, current).await.refund, RefundState::NotDue);
    assert_eq!(
        balanced(store).await,
        before + 5,
        "finishing moves no money"
    );
}

/// A refund inside the window (7 days − 1 minute) refunds payment and order, withdraws the
/// access and posts the reverse transfer, with refund pending until the provider confirms;
/// at 7 days + 1 minute it is refused and nothing changes.
pub async fn refunds_inside_the_window_only<S: CheckoutStore>(store: &S) {
    let buyer = member(store).await;
    let paid_at = now() - Duration::days(8);
    let (late, _) = paid_order(store, buyer, 3_000, paid_at).await;
    let before = balanced(store).await;
    assert_eq!(
        store
            .begin_refund(
                late.id,
                buyer,
                paid_at + Duration::days(7) + Duration::minutes(1)
            )
            .await,
        Err(BeginRefundError::WindowClosed)
    );
    assert_eq!(
        reread(store, buyer, late.id).await.status,
        OrderStatus::Paid
    );
    assert_eq!(balanced(store).await, before);

    let (placed, id) = paid_order(store, buyer, 5_000, paid_at).await;
    let before = balanced(store).await;
    let at = paid_at + Duration::days(7) - Duration::minutes(1);
    let course_id = placed.items[0]
        .item
        .course()
        .unwrap_or_else(|| panic!("a course"));
    assert!(
        store
            .has_access(buyer, course_id, at)
            .await
            .unwrap_or_else(|e| panic!("has_access: {e}"))
    );
    let due = store
        .begin_refund(placed.id, buyer, at)
        .await
        .unwrap_or_else(|e| panic!("begin_refund: {e:?}"));
    assert_eq!(due.checkout_id, id);
    assert_eq!(due.order_id, placed.id);
    assert_eq!(due.amount, money(5_000));
    let refunded = record(store, id).await;
    assert_eq!(refunded.status, CheckoutStatus::Refunded);
    assert_eq!(refunded.refunded_at, Some(at));
    assert_eq!(refunded.refund, RefundState::Pending);
    let order_now = reread(store, buyer, placed.id).await;
    assert_eq!(order_now.status, OrderStatus::Refunded);
    assert_eq!(order_now.refunded_at, Some(at));
    assert!(
        !store
            .has_access(buyer, course_id, at)
            .await
            .unwrap_or_else(|e| panic!("has_access: {e}")),
        "withdrawn"
    );
    assert_eq!(balanced(store).await, before + 1);
    assert_eq!(
        store
            .due_refunds(now(), 10)
            .await
            .unwrap_or_else(|e| panic!("due_refunds: {e}"))
            .iter()
            .map(|d| d.checkout_id)
            .collect::<Vec<_>>(),
        [id]
    );
    assert_eq!(
        store.begin_refund(placed.id, buyer, at).await,
        Err(BeginRefundError::NotPaid),
        "refunded once"
    );
    assert_eq!(balanced(store).await, before + 1);
}

/// A refund is the owner's, of a paid order.
pub async fn refunds_need_the_owners_paid_order<S: CheckoutStore>(store: &S) {
    let (buyer, placed) = pending_order(store).await;
    let stranger = member(store).await;
    assert_eq!(
        store.begin_refund(placed.id, buyer, now()).await,
        Err(BeginRefundError::NotPaid),
        "pending"
    );
    assert_eq!(
        store
            .begin_refund(OrderId::from_uuid(Uuid::now_v7()), buyer, now())
            .await,
        Err(BeginRefundError::NotFound)
    );
    let (id, _) = open(store, buyer, placed.id).await;
    callback(store, id, CallbackResult::Approved, now()).await;
    assert_eq!(
        store.begin_refund(placed.id, stranger, now()).await,
        Err(BeginRefundError::NotFound),
        "another user's"
    );
    assert_eq!(
        reread(store, buyer, placed.id).await.status,
        OrderStatus::Paid
    );
}

/// Ten refunds of one order at once: one begins, the others are refused (or fail as a
/// dependency); one reverse transfer.
pub async fn ten_refunds_of_one_order_at_once_refund_once<S: CheckoutStore>(store: &S) {
    let buyer = member(store).await;
    let (placed, _) = paid_order(store, buyer, 8_000, now()).await;
    let before = balanced(store).await;
    let at = now();
    let outcomes =
        futures_util::future::join_all((0..10).map(|_| store.begin_refund(placed.id, buyer, at)))
            .await;
    let mut begun = 0;
    for outcome in &outcomes {
        match outcome {
            Ok(_) => begun += 1,
            Err(BeginRefundError::NotPaid | BeginRefundError::Dependency(_)) => {}
            Err(other) => panic!("begin_refund: {other:?}"),
        }
    }
    assert_eq!(begun, 1, "{outcomes:?}");
    assert_eq!(balanced(store).await, before + 1);
    assert_eq!(
        reread(store, buyer, placed.id).await.status,
        OrderStatus::Refunded
    );
}

/// An approval of an order racing a new order of the same course by the same buyer (who thinks
/// the first payment is stuck): the course is sold once. Either the approval commits first and
/// the new order is refused `AlreadyOwned`, or the new order does and cancels the first, whose
/// approval is then refunded automatically. Never both paid and ordered again, never an error.
pub async fn an_approval_racing_a_new_order_of_its_course_sells_it_once<S: CheckoutStore>(
    store: &S,
) {
    for round in 0..12 {
        let buyer = member(store).await;
        let item = course(store, 4_000).await.id;
        let first = order(store, buyer, &[ItemRef::Course(item)]).await;
        let (id, _) = open(store, buyer, first.id).await;
        let again = super::new_order(
            buyer,
            OrderSource::Items(vec![ItemRef::Course(item)]),
            now(),
        );
        let approval = store.apply_callback(delivery(id, CallbackResult::Approved, now()));
        let (approved, placed) = if round % 2 == 0 {
            futures_util::future::join(approval, store.place_order(again)).await
        } else {
            let (placed, approved) =
                futures_util::future::join(store.place_order(again), approval).await;
            (approved, placed)
        };
        let approved = approved.unwrap_or_else(|e| panic!("round {round}: callback: {e:?}"));
        match (&approved.effect, &placed) {
            (CallbackEffect::Pay, Err(PlaceOrderError::AlreadyOwned(owned))) => {
                assert_eq!(owned, &ItemRef::Course(item));
            }
            (
                CallbackEffect::RefundAutomatically {
                    close_payment: true,
                },
                Ok(_),
            ) => {
                assert_eq!(
                    reread(store, buyer, first.id).await.status,
                    OrderStatus::Cancelled
                );
            }
            (effect, placed) => {
                panic!(
                    "round {round}: the course sold twice or refused wrongly: {effect:?} with {placed:?}"
                )
            }
        }
        balanced(store).await;
    }
}

/// A refund of an order racing the approval of its payment: the refund either comes first
/// (`NotPaid`: nothing was paid yet) or after (it refunds), never an error.
pub async fn a_refund_racing_the_approval_refunds_or_is_refused<S: CheckoutStore>(store: &S) {
    for round in 0..12 {
        let (buyer, placed) = pending_order(store).await;
        let (id, _) = open(store, buyer, placed.id).await;
        let approval = store.apply_callback(delivery(id, CallbackResult::Approved, now()));
        let refund = store.begin_refund(placed.id, buyer, now());
        let (approved, refunded) = if round % 2 == 0 {
            futures_util::future::join(approval, refund).await
        } else {
            let (refunded, approved) = futures_util::future::join(refund, approval).await;
            (approved, refunded)
        };
        let approved = approved.unwrap_or_else(|e| panic!("round {round}: callback: {e:?}"));
        assert_eq!(approved.effect, CallbackEffect::Pay, "round {round}");
        match refunded {
            Ok(due) => {
                assert_eq!(due.checkout_id, id);
                assert_eq!(
                    reread(store, buyer, placed.id).await.status,
                    OrderStatus::Refunded
                );
            }
            Err(BeginRefundError::NotPaid) => assert_eq!(
                reread(store, buyer, placed.id).await.status,
                OrderStatus::Paid
            ),
            Err(other) => panic!("round {round}: begin_refund: {other:?}"),
        }
        balanced(store).await;
    }
}

/// The sweep's reads and writes: a ready payment is overdue from its `expires_at` on, expiring
/// it takes once, and an approval that arrives after is refunded automatically.
pub async fn overdue_ready_payments_expire<S: CheckoutStore>(store: &S) {
    let (buyer, placed) = pending_order(store).await;
    let opened_at = now();
    let checkout = opening(buyer, placed.id, None, opened_at);
    let id = checkout.id;
    store
        .open(checkout)
        .await
        .unwrap_or_else(|e| panic!("open: {e:?}"));
    let overdue = async |at: DateTime<Utc>| {
        store
            .overdue_ready(at, 100)
            .await
            .unwrap_or_else(|e| panic!("overdue_ready: {e}"))
    };
    let expires_at = opened_at + CHECKOUT_TTL;
    assert!(
        !overdue(expires_at - Duration::seconds(1))
            .await
            .contains(&id)
    );
    assert!(overdue(expires_at).await.contains(&id));
    // a lookup that failed at the expiry puts it off for 30 s
    assert_eq!(store.retry_later(id, expires_at).await, Ok(1));
    assert!(
        !overdue(expires_at + Duration::seconds(29))
            .await
            .contains(&id)
    );
    assert!(
        overdue(expires_at + Duration::seconds(30))
            .await
            .contains(&id)
    );
    assert_eq!(
        store
            .expire_ready(id, expires_at - Duration::seconds(1))
            .await,
        Ok(false),
        "not yet"
    );
    assert_eq!(record(store, id).await.status, CheckoutStatus::Ready);
    assert_eq!(store.expire_ready(id, expires_at).await, Ok(true));
    assert_eq!(store.expire_ready(id, expires_at).await, Ok(false), "once");
    assert_eq!(record(store, id).await.status, CheckoutStatus::Expired);
    assert!(!overdue(expires_at + Duration::hours(1)).await.contains(&id));
    assert_eq!(
        reread(store, buyer, placed.id).await.status,
        OrderStatus::Pending
    );
    let late = callback(store, id, CallbackResult::Approved, expires_at).await;
    assert_eq!(
        late.effect,
        CallbackEffect::RefundAutomatically {
            close_payment: false
        }
    );
    assert_eq!(late.status, CheckoutStatus::Expired);
    assert_eq!(late.order_status, OrderStatus::Pending);
    balanced(store).await;
    // a paid one is never overdue
    let (paid, _) = open(store, buyer, placed.id).await;
    callback(store, paid, CallbackResult::Approved, now()).await;
    assert!(!overdue(now() + Duration::days(1)).await.contains(&paid));
    assert_eq!(
        store.expire_ready(paid, now() + Duration::days(1)).await,
        Ok(false)
    );
}

/// Receipts: the user's paid and refunded payments, newest `paid_at` first in keyset pages that
/// neither skip nor repeat; the detail has the items as ordered, the amounts, the customer's
/// e-mail and the status; another user's receipt, or a payment never paid, is none.
pub async fn receipts_list_paid_and_refunded_newest_first<S: CheckoutStore>(store: &S) {
    let buyer = member(store).await;
    let start = now() - Duration::hours(1);
    let mut paid = Vec::new();
    for n in 0..5_i64 {
        let (placed, id) = paid_order(store, buyer, 1_000 + n, start + Duration::minutes(n)).await;
        paid.push((placed, id));
    }
    store
        .begin_refund(paid[1].0.id, buyer, now())
        .await
        .unwrap_or_else(|e| panic!("begin_refund: {e:?}"));
    // a ready payment is no receipt
    let item = course(store, 900).await.id;
    let open_order = order(store, buyer, &[ItemRef::Course(item)]).await;
    let (ready, _) = open(store, buyer, open_order.id).await;

    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .receipts(ReceiptQuery {
                user_id: buyer,
                after,
                limit: PageLimit::new(2).unwrap_or_else(|e| panic!("{e}")),
            })
            .await
            .unwrap_or_else(|e| panic!("receipts: {e}"));
        assert!(page.len() <= 3, "at most limit + 1");
        let more = page.len() == 3;
        let kept: Vec<_> = page.into_iter().take(2).collect();
        after = kept.last().map(|r| (r.paid_at, r.checkout_id));
        seen.extend(kept);
        if !more {
            break;
        }
    }
    let expected: Vec<CheckoutId> = paid.iter().rev().map(|(_, id)| *id).collect();
    assert_eq!(
        seen.iter().map(|r| r.checkout_id).collect::<Vec<_>>(),
        expected
    );
    for receipt in &seen {
        let n = paid
            .iter()
            .position(|(_, id)| *id == receipt.checkout_id)
            .unwrap_or_else(|| panic!("a receipt of ours"));
        assert_eq!(receipt.order_id, paid[n].0.id);
        assert_eq!(receipt.amount, money(1_000 + n as i64));
        assert_eq!(receipt.paid_at, start + Duration::minutes(n as i64));
        let refunded = n == 1;
        assert_eq!(
            receipt.status,
            if refunded {
                CheckoutStatus::Refunded
            } else {
                CheckoutStatus::Paid
            }
        );
        assert_eq!(receipt.refunded_at.is_some(), refunded);
    }

    let (placed, id) = &paid[1];
    let detail = store
        .receipt(buyer, *id)
        .await
        .unwrap_or_else(|e| panic!("receipt: {e}"))
        .unwrap_or_else(|| panic!("the receipt"));
    assert_eq!(detail.summary.checkout_id, *id);
    assert_eq!(detail.summary.status, CheckoutStatus::Refunded);
    assert_eq!(detail.refund, RefundState::Pending);
    assert_eq!(detail.method, PaymentMethod::Kakaopay);
    assert_eq!(detail.items, placed.items);
    let email = store
        .find_user(buyer)
        .await
        .unwrap_or_else(|e| panic!("find_user: {e}"))
        .unwrap_or_else(|| panic!("the buyer"))
        .email;
    assert_eq!(detail.customer_email, email.as_str());
    assert!(ReceiptNumber::of(*id).as_str().starts_with("REC-"));

    let stranger = member(store).await;
    assert_eq!(store.receipt(stranger, *id).await, Ok(None));
    assert_eq!(store.receipt(buyer, ready).await, Ok(None), "never paid");
    assert!(
        store
            .receipts(ReceiptQuery {
                user_id: stranger,
                after: None,
                limit: PageLimit::MAX_PAGE,
            })
            .await
            .unwrap_or_else(|e| panic!("receipts: {e}"))
            .is_empty()
    );
}
