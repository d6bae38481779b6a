//! Beginning a gateway payment: the item's checks, the one live place, and payment ids reused.

use super::{CatalogStore, PRICE, begin, create, fund, intent, member, money, new_test, open_test};
use crate::support::{now, tag};
use chrono::Duration;
use reserva_application::ports::catalog::{BeginPaymentError, Begun, PaymentIntent};
use reserva_domain::catalog::{ItemId, ItemKind, RegistrationStatus, Schedule};
use reserva_domain::wallet::{Payment, PaymentId, PaymentMethod, PaymentStatus, RefundState};
use uuid::Uuid;

/// Beginning checks the item exists under its kind, costs the amount and is open (inclusively), and
/// records a pending payment.
pub async fn begin_payment_checks_the_item<S: CatalogStore>(store: &S) {
    let buyer = member(store).await;
    let item = open_test(store, PRICE).await;
    let missing = PaymentIntent {
        item_id: ItemId::from_uuid(Uuid::now_v7()),
        ..intent(buyer, &item, PaymentMethod::Card)
    };
    assert_eq!(
        store.begin_payment(missing).await,
        Err(BeginPaymentError::ItemNotFound)
    );
    let wrong_kind = PaymentIntent {
        kind: ItemKind::Course,
        ..intent(buyer, &item, PaymentMethod::Card)
    };
    assert_eq!(
        store.begin_payment(wrong_kind).await,
        Err(BeginPaymentError::ItemNotFound)
    );
    let cheap = PaymentIntent {
        amount: money(PRICE - 1),
        ..intent(buyer, &item, PaymentMethod::Card)
    };
    assert_eq!(
        store.begin_payment(cheap).await,
        Err(BeginPaymentError::PriceMismatch { price: item.price })
    );

    let starts = now() + Duration::days(2);
    let ends = starts + Duration::days(1);
    let mut later = new_test(&format!("Later {}", tag()), PRICE, now());
    later.schedule = Schedule::new(starts, ends).unwrap_or_else(|e| panic!("{e}"));
    let later = create(store, later).await;
    let one = Duration::microseconds(1);
    for at in [starts - one, ends + one] {
        let closed = PaymentIntent {
            now: at,
            ..intent(buyer, &later, PaymentMethod::Card)
        };
        assert_eq!(
            store.begin_payment(closed).await,
            Err(BeginPaymentError::NotOpen),
            "at {at}"
        );
    }
    let at_start = PaymentIntent {
        now: starts,
        ..intent(buyer, &later, PaymentMethod::Card)
    };
    let begun = begin(store, at_start.clone()).await;
    assert_eq!(begun.id, at_start.payment_id);
    assert_eq!(begun.user_id, buyer);
    assert_eq!(begun.kind, ItemKind::Test);
    assert_eq!(begun.item_id, later.id);
    assert_eq!(begun.item_title, later.title.as_str());
    assert_eq!(begun.amount, later.price);
    assert_eq!(begun.method, PaymentMethod::Card);
    assert_eq!(begun.status, PaymentStatus::Pending);
    assert_eq!(begun.refund, RefundState::NotDue);
    assert_eq!(begun.created_at, starts);
    assert_eq!(begun.paid_at, None);
    // Nothing is registered or counted for a pending payment.
    let read = super::read(store, &later, buyer).await;
    assert_eq!(read.item.registration_count, 0);
    // A pending payment is not shown to its user.
    assert_eq!(store.payment(buyer, begun.id).await, Ok(None));
}

/// A pending or paid payment holds the user's place: a second apply by any method is refused.
pub async fn a_live_place_refuses_a_second_apply<S: CatalogStore>(store: &S) {
    let buyer = member(store).await;
    fund(store, buyer, PRICE * 3).await;
    let item = open_test(store, PRICE).await;
    let pending = begin(store, intent(buyer, &item, PaymentMethod::Card)).await;
    assert_eq!(
        store
            .begin_payment(intent(buyer, &item, PaymentMethod::Kakaopay))
            .await,
        Err(BeginPaymentError::AlreadyRegistered),
        "a pending payment holds the place"
    );
    assert_eq!(
        store
            .pay_from_wallet(intent(buyer, &item, PaymentMethod::Wallet))
            .await,
        Err(BeginPaymentError::AlreadyRegistered)
    );
    store
        .settle_payment(pending.id, "ref", now())
        .await
        .unwrap_or_else(|e| panic!("settle_payment: {e:?}"));
    assert_eq!(
        store
            .begin_payment(intent(buyer, &item, PaymentMethod::Card))
            .await,
        Err(BeginPaymentError::AlreadyRegistered),
        "a paid payment holds the place"
    );
    assert_eq!(
        store
            .pay_from_wallet(intent(buyer, &item, PaymentMethod::Wallet))
            .await,
        Err(BeginPaymentError::AlreadyRegistered)
    );
    assert_eq!(super::balance(store, buyer).await, PRICE * 3);
    // Another user is not held back.
    let other = member(store).await;
    begin(store, intent(other, &item, PaymentMethod::Card)).await;
}

/// A payment id used again is the existing payment when the intent matches, `IdReused` otherwise.
pub async fn a_reused_payment_id_is_existing_or_refused<S: CatalogStore>(store: &S) {
    let (buyer, other) = (member(store).await, member(store).await);
    let item = open_test(store, PRICE).await;
    let twin = open_test(store, PRICE).await;
    let first = intent(buyer, &item, PaymentMethod::Card);
    let pending = begin(store, first.clone()).await;
    let retry = PaymentIntent {
        now: now(),
        ..first.clone()
    };
    let resumed = Payment {
        created_at: pending.created_at.max(retry.now),
        ..pending.clone()
    };
    assert_eq!(
        store.begin_payment(retry.clone()).await,
        Ok(Begun::Existing(resumed, None))
    );
    let reused = [
        PaymentIntent {
            method: PaymentMethod::Kakaopay,
            ..first.clone()
        },
        PaymentIntent {
            item_id: twin.id,
            ..first.clone()
        },
        PaymentIntent {
            amount: money(PRICE + 100),
            ..first.clone()
        },
        PaymentIntent {
            user_id: other,
            ..first.clone()
        },
    ];
    for intent in reused {
        assert_eq!(
            store.begin_payment(intent.clone()).await,
            Err(BeginPaymentError::IdReused),
            "{intent:?}"
        );
    }
    assert_eq!(
        store
            .pay_from_wallet(PaymentIntent {
                method: PaymentMethod::Wallet,
                ..first.clone()
            })
            .await,
        Err(BeginPaymentError::IdReused)
    );

    let settled = store
        .settle_payment(pending.id, "ref-1", now())
        .await
        .unwrap_or_else(|e| panic!("settle_payment: {e:?}"));
    assert_eq!(settled.registration.status, RegistrationStatus::Applied);
    assert_eq!(
        store.begin_payment(retry).await,
        Ok(Begun::Existing(
            settled.payment.clone(),
            Some(settled.registration.clone())
        ))
    );

    let declined = intent(other, &twin, PaymentMethod::BankTransfer);
    let failed_payment = begin(store, declined.clone()).await;
    let failed = store
        .fail_payment(failed_payment.id, now())
        .await
        .unwrap_or_else(|e| panic!("fail_payment: {e:?}"));
    assert_eq!(failed.status, PaymentStatus::Failed);
    // A failed payment is final: a retry finds it failed, and its id is never charged again.
    let retried = PaymentIntent {
        now: now() + Duration::seconds(5),
        ..declined.clone()
    };
    assert_eq!(
        store.begin_payment(retried).await,
        Ok(Begun::Existing(failed, None))
    );
    let unused = PaymentId::from_uuid(Uuid::now_v7());
    assert_eq!(store.payment(buyer, unused).await, Ok(None));
}

/// A retry that resumes a pending payment records it again at its own instant, so a fail
/// decided on an older listing (the reconciler's cutoff) leaves it to that retry; a fail at or
/// after its new instant fails it.
pub async fn a_resumed_payment_is_not_failed_on_an_older_listing<S: CatalogStore>(store: &S) {
    let buyer = member(store).await;
    let item = open_test(store, PRICE).await;
    let first = intent(buyer, &item, PaymentMethod::Card);
    let listed_at = first.now;
    begin(store, first.clone()).await;
    let later = listed_at + Duration::seconds(40);
    let retry = PaymentIntent {
        now: later,
        ..first.clone()
    };
    match store.begin_payment(retry).await {
        Ok(Begun::Existing(payment, None)) => assert_eq!(payment.created_at, later),
        other => panic!("resumed: {other:?}"),
    }
    let kept = store
        .fail_payment(first.payment_id, listed_at + Duration::seconds(10))
        .await
        .unwrap_or_else(|e| panic!("fail_payment: {e:?}"));
    assert_eq!(kept.status, PaymentStatus::Pending, "left to the retry");
    let failed = store
        .fail_payment(first.payment_id, later)
        .await
        .unwrap_or_else(|e| panic!("fail_payment: {e:?}"));
    assert_eq!(failed.status, PaymentStatus::Failed);
}
