//! Completing and cancelling registrations.

use super::{
    CatalogStore, PRICE, assert_clean, balance, begin, create, fund, intent, member, new_course,
    open_test, paid_by_card, paid_from_wallet, read, user,
};
use crate::support::{now, tag};
use reserva_application::ports::catalog::{CancelPaymentError, CompleteError};
use reserva_domain::accounts::Role;
use reserva_domain::catalog::{CancelRefusal, CompleteRefusal, ItemKind, RegistrationStatus};
use reserva_domain::wallet::{PaymentId, PaymentMethod, PaymentStatus, RefundState};
use uuid::Uuid;

/// Complete finishes the user's latest registration; completed or cancelled ones are refused.
pub async fn complete_finishes_the_latest_registration<S: CatalogStore>(store: &S) {
    let buyer = member(store).await;
    let tutor = user(store, Role::Tutor).await;
    let course = create(store, new_course(&format!("Finish {}", tag()), tutor)).await;
    assert_eq!(
        store
            .complete(buyer, ItemKind::Course, course.id, now())
            .await,
        Err(CompleteError::NotFound)
    );
    let first = paid_by_card(store, buyer, &course).await;
    // Under the other kind it is not found.
    assert_eq!(
        store
            .complete(buyer, ItemKind::Test, course.id, now())
            .await,
        Err(CompleteError::NotFound)
    );
    store
        .cancel_payment(buyer, first.payment.id, now())
        .await
        .unwrap_or_else(|e| panic!("cancel_payment: {e:?}"));
    assert_eq!(
        store
            .complete(buyer, ItemKind::Course, course.id, now())
            .await,
        Err(CompleteError::Refused(CompleteRefusal::Cancelled))
    );
    let second = paid_by_card(store, buyer, &course).await;
    let at = now();
    let completed = store
        .complete(buyer, ItemKind::Course, course.id, at)
        .await
        .unwrap_or_else(|e| panic!("complete: {e:?}"));
    assert_eq!(completed.id, second.registration.id, "the latest one");
    assert_eq!(completed.status, RegistrationStatus::Completed);
    assert_eq!(completed.completed_at, Some(at));
    assert_eq!(
        store
            .complete(buyer, ItemKind::Course, course.id, now())
            .await,
        Err(CompleteError::Refused(CompleteRefusal::AlreadyCompleted))
    );
    // A completed registration is still live: it counts and is registered.
    let listed = read(store, &course, buyer).await;
    assert!(listed.is_registered);
    assert_eq!(listed.item.registration_count, 1);
    let shown = store.payment(buyer, second.payment.id).await;
    assert_eq!(
        shown.ok().flatten().and_then(|(_, r)| r).map(|r| r.status),
        Some(RegistrationStatus::Completed)
    );
    // Another user has nothing to complete.
    let other = member(store).await;
    assert_eq!(
        store
            .complete(other, ItemKind::Course, course.id, now())
            .await,
        Err(CompleteError::NotFound)
    );
    assert_clean(store).await;
}

/// A completed registration's payment cannot be cancelled.
pub async fn a_completed_registration_cannot_be_cancelled<S: CatalogStore>(store: &S) {
    let buyer = member(store).await;
    fund(store, buyer, PRICE).await;
    let item = open_test(store, PRICE).await;
    let settled = paid_from_wallet(store, buyer, &item).await;
    store
        .complete(buyer, ItemKind::Test, item.id, now())
        .await
        .unwrap_or_else(|e| panic!("complete: {e:?}"));
    assert_eq!(
        store.cancel_payment(buyer, settled.payment.id, now()).await,
        Err(CancelPaymentError::Refused(CancelRefusal::Completed))
    );
    assert_eq!(balance(store, buyer).await, 0);
    assert_eq!(read(store, &item, buyer).await.item.registration_count, 1);
    assert_clean(store).await;
}

/// Cancelling refunds the wallet and frees the place; only the owner's shown payments cancel, once.
pub async fn cancel_refunds_the_wallet_and_re_apply_works<S: CatalogStore>(store: &S) {
    let (buyer, other) = (member(store).await, member(store).await);
    fund(store, buyer, PRICE).await;
    let item = open_test(store, PRICE).await;
    let settled = paid_from_wallet(store, buyer, &item).await;
    assert_eq!(balance(store, buyer).await, 0);

    assert_eq!(
        store.cancel_payment(other, settled.payment.id, now()).await,
        Err(CancelPaymentError::NotFound),
        "another user's payment"
    );
    assert_eq!(
        store
            .cancel_payment(buyer, PaymentId::from_uuid(Uuid::now_v7()), now())
            .await,
        Err(CancelPaymentError::NotFound)
    );
    let pending = begin(store, intent(other, &item, PaymentMethod::Card)).await;
    assert_eq!(
        store.cancel_payment(other, pending.id, now()).await,
        Err(CancelPaymentError::NotFound),
        "a pending payment"
    );
    store
        .fail_payment(pending.id, now())
        .await
        .unwrap_or_else(|e| panic!("fail_payment: {e:?}"));
    assert_eq!(
        store.cancel_payment(other, pending.id, now()).await,
        Err(CancelPaymentError::NotFound),
        "a failed payment"
    );

    let at = now();
    let cancelled = store
        .cancel_payment(buyer, settled.payment.id, at)
        .await
        .unwrap_or_else(|e| panic!("cancel_payment: {e:?}"));
    assert_eq!(cancelled.payment.status, PaymentStatus::Cancelled);
    assert_eq!(cancelled.payment.cancelled_at, Some(at));
    assert_eq!(cancelled.payment.refund, RefundState::NotDue);
    assert_eq!(cancelled.payment.paid_at, settled.payment.paid_at);
    let registration = cancelled.registration.clone();
    assert_eq!(
        registration
            .as_ref()
            .map(|r| (r.id, r.status, r.cancelled_at)),
        Some((
            settled.registration.id,
            RegistrationStatus::Cancelled,
            Some(at)
        ))
    );
    assert_eq!(balance(store, buyer).await, PRICE, "refunded");
    assert_eq!(read(store, &item, buyer).await.item.registration_count, 0);
    assert_eq!(
        store.cancel_payment(buyer, settled.payment.id, now()).await,
        Err(CancelPaymentError::Refused(CancelRefusal::AlreadyCancelled))
    );
    assert_eq!(balance(store, buyer).await, PRICE);

    let again = paid_from_wallet(store, buyer, &item).await;
    assert_ne!(again.payment.id, settled.payment.id);
    assert_ne!(again.registration.id, settled.registration.id);
    assert_eq!(balance(store, buyer).await, 0);
    let listed = read(store, &item, buyer).await;
    assert!(listed.is_registered);
    assert_eq!(listed.item.registration_count, 1);
    assert_clean(store).await;
}
