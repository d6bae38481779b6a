//! Paying from the wallet: the money, the registration and the count in one transaction.

use super::{
    CatalogStore, PRICE, assert_clean, balance, create, fund, intent, member, new_course,
    open_test, paid_from_wallet, read, user,
};
use crate::support::{now, tag};
use reserva_application::ports::catalog::BeginPaymentError;
use reserva_domain::accounts::Role;
use reserva_domain::catalog::{ItemKind, RegistrationStatus};
use reserva_domain::wallet::{PaymentMethod, PaymentStatus, RefundState};

/// A wallet payment debits the wallet, registers (by kind), counts and posts one transfer.
pub async fn a_wallet_payment_moves_money_and_registers<S: CatalogStore>(store: &S) {
    let buyer = member(store).await;
    let tutor = user(store, Role::Tutor).await;
    fund(store, buyer, PRICE * 2 + 5_000).await;
    let before = assert_clean(store).await;
    let test = open_test(store, PRICE).await;
    let request = intent(buyer, &test, PaymentMethod::Wallet);
    let settled = store
        .pay_from_wallet(request.clone())
        .await
        .unwrap_or_else(|e| panic!("pay_from_wallet: {e:?}"));
    let payment = &settled.payment;
    assert_eq!(payment.id, request.payment_id);
    assert_eq!(payment.status, PaymentStatus::Paid);
    assert_eq!(payment.method, PaymentMethod::Wallet);
    assert_eq!(payment.amount, test.price);
    assert_eq!(payment.refund, RefundState::NotDue);
    assert_eq!(payment.paid_at, Some(request.now));
    assert_eq!(payment.item_title, test.title.as_str());
    let registration = &settled.registration;
    assert_eq!(registration.status, RegistrationStatus::Applied);
    assert_eq!(registration.payment_id, payment.id);
    assert_eq!(registration.user_id, buyer);
    assert_eq!(registration.item_id, test.id);
    assert_eq!(registration.kind, ItemKind::Test);
    assert_eq!(registration.registered_at, request.now);
    assert_eq!(balance(store, buyer).await, PRICE + 5_000);
    assert_eq!(read(store, &test, buyer).await.item.registration_count, 1);
    assert_eq!(assert_clean(store).await, before + 1, "one ledger transfer");

    let course = create(store, new_course(&format!("Wallet {}", tag()), tutor)).await;
    let enrolled = paid_from_wallet(store, buyer, &course).await;
    assert_eq!(enrolled.registration.status, RegistrationStatus::Enrolled);
    assert_eq!(enrolled.registration.kind, ItemKind::Course);
    assert_eq!(balance(store, buyer).await, 5_000);
    let shown = store.payment(buyer, enrolled.payment.id).await;
    assert_eq!(
        shown,
        Ok(Some((
            enrolled.payment.clone(),
            Some(enrolled.registration.clone())
        )))
    );
    assert_eq!(assert_clean(store).await, before + 2);
}

/// Too little in the wallet: nothing is written and the place stays free.
pub async fn insufficient_balance_writes_nothing<S: CatalogStore>(store: &S) {
    let buyer = member(store).await;
    fund(store, buyer, PRICE - 1).await;
    let before = assert_clean(store).await;
    let item = open_test(store, PRICE).await;
    let request = intent(buyer, &item, PaymentMethod::Wallet);
    assert_eq!(
        store.pay_from_wallet(request.clone()).await,
        Err(BeginPaymentError::InsufficientBalance)
    );
    let never_charged = member(store).await;
    assert_eq!(
        store
            .pay_from_wallet(intent(never_charged, &item, PaymentMethod::Wallet))
            .await,
        Err(BeginPaymentError::InsufficientBalance)
    );
    assert_eq!(balance(store, buyer).await, PRICE - 1);
    assert_eq!(store.payment(buyer, request.payment_id).await, Ok(None));
    assert_eq!(read(store, &item, buyer).await.item.registration_count, 0);
    assert!(!read(store, &item, buyer).await.is_registered);
    assert_eq!(assert_clean(store).await, before);
    // The place was not taken: the same id may pay once the wallet holds enough.
    fund(store, buyer, 1).await;
    let settled = store
        .pay_from_wallet(request)
        .await
        .unwrap_or_else(|e| panic!("pay_from_wallet: {e:?}"));
    assert_eq!(settled.payment.status, PaymentStatus::Paid);
    assert_eq!(balance(store, buyer).await, 0);
}

/// A free item is paid from the wallet without a transfer, and cancelled without one.
pub async fn a_free_item_moves_no_money<S: CatalogStore>(store: &S) {
    let buyer = member(store).await;
    let before = assert_clean(store).await;
    let item = open_test(store, 0).await;
    let settled = paid_from_wallet(store, buyer, &item).await;
    assert_eq!(settled.payment.amount.get(), 0);
    assert_eq!(settled.payment.status, PaymentStatus::Paid);
    assert_eq!(balance(store, buyer).await, 0);
    assert_eq!(read(store, &item, buyer).await.item.registration_count, 1);
    assert_eq!(assert_clean(store).await, before, "no transfer for nothing");
    let cancelled = store
        .cancel_payment(buyer, settled.payment.id, now())
        .await
        .unwrap_or_else(|e| panic!("cancel_payment: {e:?}"));
    assert_eq!(cancelled.payment.refund, RefundState::NotDue);
    assert_eq!(balance(store, buyer).await, 0);
    assert_eq!(assert_clean(store).await, before);
}

/// A wallet payment retried under its id is returned as it stands, never paid twice.
pub async fn a_wallet_payment_retried_is_returned_as_it_stands<S: CatalogStore>(store: &S) {
    let buyer = member(store).await;
    fund(store, buyer, PRICE * 2).await;
    let item = open_test(store, PRICE).await;
    let request = intent(buyer, &item, PaymentMethod::Wallet);
    let first = store
        .pay_from_wallet(request.clone())
        .await
        .unwrap_or_else(|e| panic!("pay_from_wallet: {e:?}"));
    let again = store.pay_from_wallet(request.clone()).await;
    assert_eq!(again.as_ref(), Ok(&first));
    assert_eq!(balance(store, buyer).await, PRICE);
    let cancelled = store
        .cancel_payment(buyer, first.payment.id, now())
        .await
        .unwrap_or_else(|e| panic!("cancel_payment: {e:?}"));
    let after_cancel = store
        .pay_from_wallet(request)
        .await
        .unwrap_or_else(|e| panic!("pay_from_wallet: {e:?}"));
    assert_eq!(after_cancel.payment, cancelled.payment);
    assert_eq!(
        Some(after_cancel.registration),
        cancelled.registration,
        "a retry never pays again"
    );
    assert_eq!(balance(store, buyer).await, PRICE * 2);
    assert_clean(store).await;
}
