//! Settling and failing gateway payments, the ledger's view of gateway money, and the
//! reconciler's queues.

use super::{
    CatalogStore, PRICE, assert_clean, begin, fund, intent, member, open_test, paid_by_card,
    paid_from_wallet, read,
};
use crate::support::now;
use chrono::Duration;
use reserva_application::ports::catalog::{PaymentIntent, SettleError};
use reserva_domain::catalog::RegistrationStatus;
use reserva_domain::wallet::{PaymentId, PaymentMethod, PaymentStatus, RefundState};
use uuid::Uuid;

/// Settling twice changes nothing; a failed payment cannot be settled; failing a paid one leaves it
/// paid.
pub async fn settle_is_idempotent_and_a_failed_payment_is_not_pending<S: CatalogStore>(store: &S) {
    let buyer = member(store).await;
    let item = open_test(store, PRICE).await;
    let pending = begin(store, intent(buyer, &item, PaymentMethod::Kakaopay)).await;
    let at = now();
    let settled = store
        .settle_payment(pending.id, "ref-first", at)
        .await
        .unwrap_or_else(|e| panic!("settle_payment: {e:?}"));
    assert_eq!(settled.payment.status, PaymentStatus::Paid);
    assert_eq!(
        settled.payment.provider_reference.as_deref(),
        Some("ref-first")
    );
    assert_eq!(settled.payment.paid_at, Some(at));
    assert_eq!(settled.payment.created_at, pending.created_at);
    assert_eq!(settled.registration.status, RegistrationStatus::Applied);
    assert_eq!(settled.registration.payment_id, pending.id);
    assert_eq!(settled.registration.registered_at, at);
    let again = store
        .settle_payment(pending.id, "ref-second", now() + Duration::seconds(5))
        .await;
    assert_eq!(
        again.as_ref(),
        Ok(&settled),
        "a second settle changes nothing"
    );
    assert_eq!(read(store, &item, buyer).await.item.registration_count, 1);
    // Failing a paid payment leaves it paid.
    let not_failed = store.fail_payment(pending.id, now()).await;
    assert_eq!(not_failed, Ok(settled.payment.clone()));

    let other = member(store).await;
    let doomed = begin(store, intent(other, &item, PaymentMethod::Card)).await;
    let failed = store
        .fail_payment(doomed.id, now())
        .await
        .unwrap_or_else(|e| panic!("fail_payment: {e:?}"));
    assert_eq!(failed.status, PaymentStatus::Failed);
    assert_eq!(failed.paid_at, None);
    let refused = store.settle_payment(doomed.id, "late", now()).await;
    assert_eq!(refused, Err(SettleError::NotPending(PaymentStatus::Failed)));
    let failed_again = store.fail_payment(doomed.id, now()).await;
    assert_eq!(failed_again, Ok(failed));
    assert_eq!(read(store, &item, buyer).await.item.registration_count, 1);

    let unknown = PaymentId::from_uuid(Uuid::now_v7());
    assert_eq!(
        store.settle_payment(unknown, "x", now()).await,
        Err(SettleError::NotFound)
    );
    assert_eq!(
        store.fail_payment(unknown, now()).await,
        Err(SettleError::NotFound)
    );
    assert_clean(store).await;
}

/// A failed payment frees the place for a new apply and is not shown.
pub async fn fail_frees_the_place<S: CatalogStore>(store: &S) {
    let buyer = member(store).await;
    let item = open_test(store, PRICE).await;
    let first = begin(store, intent(buyer, &item, PaymentMethod::Card)).await;
    store
        .fail_payment(first.id, now())
        .await
        .unwrap_or_else(|e| panic!("fail_payment: {e:?}"));
    assert!(!read(store, &item, buyer).await.is_registered);
    assert_eq!(store.payment(buyer, first.id).await, Ok(None));
    let second = begin(store, intent(buyer, &item, PaymentMethod::Card)).await;
    let settled = store
        .settle_payment(second.id, "ref", now())
        .await
        .unwrap_or_else(|e| panic!("settle_payment: {e:?}"));
    assert_eq!(settled.payment.id, second.id);
    assert!(read(store, &item, buyer).await.is_registered);
    assert_eq!(read(store, &item, buyer).await.item.registration_count, 1);
    assert_clean(store).await;
}

/// Gateway payments post provider → revenue when settled and back when cancelled, and the ledger
/// stays clean.
pub async fn gateway_money_is_in_the_ledger<S: CatalogStore>(store: &S) {
    let buyer = member(store).await;
    let before = assert_clean(store).await;
    let item = open_test(store, PRICE).await;
    let pending = begin(store, intent(buyer, &item, PaymentMethod::BankTransfer)).await;
    assert_eq!(
        assert_clean(store).await,
        before,
        "nothing moves while pending"
    );
    store
        .settle_payment(pending.id, "ref", now())
        .await
        .unwrap_or_else(|e| panic!("settle_payment: {e:?}"));
    assert_eq!(assert_clean(store).await, before + 1, "provider → revenue");
    let cancelled = store
        .cancel_payment(buyer, pending.id, now())
        .await
        .unwrap_or_else(|e| panic!("cancel_payment: {e:?}"));
    assert_eq!(cancelled.payment.status, PaymentStatus::Cancelled);
    assert_eq!(cancelled.payment.refund, RefundState::Pending);
    assert_eq!(
        cancelled.registration.map(|r| r.status),
        Some(RegistrationStatus::Cancelled)
    );
    assert_eq!(assert_clean(store).await, before + 2, "revenue → provider");
    // Another gateway payment of another method on the same item: its own provider account.
    let other = member(store).await;
    paid_by_card(store, other, &item).await;
    assert_eq!(assert_clean(store).await, before + 3);
    // The buyer's wallet never took part.
    assert_eq!(super::balance(store, buyer).await, 0);
}

/// Pending payments before an instant and pending refunds, oldest first, limited; `mark_refunded`
/// ends a refund.
pub async fn the_reconcilers_queues<S: CatalogStore>(store: &S) {
    let buyer = member(store).await;
    fund(store, buyer, PRICE).await;
    let items = [
        open_test(store, PRICE).await,
        open_test(store, PRICE).await,
        open_test(store, PRICE).await,
        open_test(store, PRICE).await,
    ];
    let [a, b, c, d] = &items;
    let start = now() - Duration::minutes(10);
    let older = begin(
        store,
        PaymentIntent {
            now: start,
            ..intent(buyer, a, PaymentMethod::Card)
        },
    )
    .await;
    let newer = begin(
        store,
        PaymentIntent {
            now: start + Duration::minutes(1),
            ..intent(buyer, b, PaymentMethod::Kakaopay)
        },
    )
    .await;
    let pending_ids = |before, limit| async move {
        store
            .pending_payments(before, limit)
            .await
            .unwrap_or_else(|e| panic!("pending_payments: {e}"))
            .into_iter()
            .map(|p| p.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(pending_ids(now(), 100).await, [older.id, newer.id]);
    assert_eq!(pending_ids(now(), 1).await, [older.id]);
    assert_eq!(
        pending_ids(start + Duration::seconds(30), 100).await,
        [older.id]
    );
    assert_eq!(pending_ids(start - Duration::seconds(1), 100).await, []);
    store
        .settle_payment(older.id, "ref", now())
        .await
        .unwrap_or_else(|e| panic!("settle_payment: {e:?}"));
    store
        .fail_payment(newer.id, now())
        .await
        .unwrap_or_else(|e| panic!("fail_payment: {e:?}"));
    assert_eq!(pending_ids(now(), 100).await, Vec::<PaymentId>::new());

    let refund_ids = |limit| async move {
        store
            .pending_refunds(limit)
            .await
            .unwrap_or_else(|e| panic!("pending_refunds: {e}"))
            .into_iter()
            .map(|p| p.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(refund_ids(100).await, Vec::<PaymentId>::new());
    let by_card = paid_by_card(store, buyer, c).await;
    let by_wallet = paid_from_wallet(store, buyer, d).await;
    for id in [older.id, by_card.payment.id, by_wallet.payment.id] {
        store
            .cancel_payment(buyer, id, now())
            .await
            .unwrap_or_else(|e| panic!("cancel_payment: {e:?}"));
    }
    // The wallet was refunded in the cancel: only the gateway refunds wait, oldest first.
    assert_eq!(refund_ids(100).await, [older.id, by_card.payment.id]);
    assert_eq!(refund_ids(1).await, [older.id]);
    store
        .mark_refunded(older.id, now())
        .await
        .unwrap_or_else(|e| panic!("mark_refunded: {e}"));
    assert_eq!(refund_ids(100).await, [by_card.payment.id]);
    let shown = store.payment(buyer, older.id).await;
    let refund = shown.ok().flatten().map(|(p, _)| p.refund);
    assert_eq!(refund, Some(RefundState::Done));
    // Marking twice is harmless.
    store
        .mark_refunded(older.id, now())
        .await
        .unwrap_or_else(|e| panic!("mark_refunded: {e}"));
    assert_eq!(refund_ids(100).await, [by_card.payment.id]);
    assert_clean(store).await;
}
