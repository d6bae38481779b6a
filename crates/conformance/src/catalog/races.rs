//! Races the store must decide: however they interleave, a user holds one place per item, a
//! payment is cancelled and refunded once, and every count equals the live registrations.

use super::{
    CatalogStore, PRICE, assert_clean, balance, begin, fund, intent, member, open_test,
    paid_from_wallet, payments_of, read,
};
use crate::support::now;
use futures_util::future::join_all;
use reserva_application::ports::catalog::{BeginPaymentError, Begun, CancelPaymentError};
use reserva_domain::catalog::{CancelRefusal, ItemId};
use reserva_domain::wallet::{PaymentMethod, PaymentStatus};
use std::collections::HashMap;

/// Ten applies at once, without a key (ten ids) and then with one (one id): each time one
/// payment reaches the gateway, and settling it makes one registration.
pub async fn concurrent_identical_applies_begin_one_payment<S: CatalogStore>(store: &S) {
    let buyer = member(store).await;
    let item = open_test(store, PRICE).await;
    let requests: Vec<_> = (0..10)
        .map(|_| intent(buyer, &item, PaymentMethod::Card))
        .collect();
    let outcomes = join_all(requests.iter().map(|r| store.begin_payment(r.clone()))).await;
    let mut new = Vec::new();
    for outcome in &outcomes {
        match outcome {
            Ok(Begun::New(payment)) => new.push(payment.clone()),
            Err(BeginPaymentError::AlreadyRegistered) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(new.len(), 1, "{outcomes:?}");
    let winner = new.first().map_or_else(|| panic!("one payment"), |p| p.id);
    store
        .settle_payment(winner, "ref", now())
        .await
        .unwrap_or_else(|e| panic!("settle_payment: {e:?}"));
    let shown = super::payment_ids(store, payments_of(buyer)).await;
    assert_eq!(shown, [winner]);
    assert_eq!(read(store, &item, buyer).await.item.registration_count, 1);

    let other_item = open_test(store, PRICE).await;
    let keyed = intent(buyer, &other_item, PaymentMethod::Kakaopay);
    let outcomes = join_all((0..10).map(|_| store.begin_payment(keyed.clone()))).await;
    let mut begun = 0;
    for outcome in &outcomes {
        match outcome {
            Ok(Begun::New(payment)) => {
                begun += 1;
                assert_eq!(payment.id, keyed.payment_id);
            }
            Ok(Begun::Existing(payment, None)) => {
                assert_eq!(payment.id, keyed.payment_id);
                assert_eq!(payment.status, PaymentStatus::Pending);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(begun, 1, "{outcomes:?}");
    let settles =
        join_all((0..10).map(|_| store.settle_payment(keyed.payment_id, "ref", now()))).await;
    let registrations: Vec<_> = settles
        .iter()
        .map(|s| {
            s.as_ref()
                .unwrap_or_else(|e| panic!("settle_payment: {e:?}"))
                .registration
                .id
        })
        .collect();
    assert!(registrations.windows(2).all(|w| w.first() == w.last()));
    assert_eq!(
        read(store, &other_item, buyer)
            .await
            .item
            .registration_count,
        1
    );
    assert_clean(store).await;
}

/// Ten wallet applies at once, with ten ids and then with one: one debit, one registration.
pub async fn concurrent_identical_wallet_applies_pay_once<S: CatalogStore>(store: &S) {
    let buyer = member(store).await;
    fund(store, buyer, PRICE * 4).await;
    let item = open_test(store, PRICE).await;
    let requests: Vec<_> = (0..10)
        .map(|_| intent(buyer, &item, PaymentMethod::Wallet))
        .collect();
    let outcomes = join_all(requests.iter().map(|r| store.pay_from_wallet(r.clone()))).await;
    let mut paid = 0;
    for outcome in &outcomes {
        match outcome {
            Ok(_) => paid += 1,
            Err(BeginPaymentError::AlreadyRegistered) => {}
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(paid, 1, "{outcomes:?}");
    assert_eq!(balance(store, buyer).await, PRICE * 3);
    assert_eq!(read(store, &item, buyer).await.item.registration_count, 1);

    let other_item = open_test(store, PRICE).await;
    let keyed = intent(buyer, &other_item, PaymentMethod::Wallet);
    let outcomes = join_all((0..10).map(|_| store.pay_from_wallet(keyed.clone()))).await;
    let first = outcomes
        .first()
        .and_then(|o| o.as_ref().ok())
        .unwrap_or_else(|| panic!("{outcomes:?}"));
    for outcome in &outcomes {
        assert_eq!(
            outcome.as_ref(),
            Ok(first),
            "every retry answers the one payment"
        );
    }
    assert_eq!(balance(store, buyer).await, PRICE * 2);
    assert_eq!(
        read(store, &other_item, buyer)
            .await
            .item
            .registration_count,
        1
    );
    assert_eq!(super::payment_ids(store, payments_of(buyer)).await.len(), 2);
    assert_clean(store).await;
}

/// Ten cancels of one payment at once: one succeeds, nine see it cancelled, one refund.
pub async fn concurrent_cancels_refund_once<S: CatalogStore>(store: &S) {
    let buyer = member(store).await;
    fund(store, buyer, PRICE).await;
    let item = open_test(store, PRICE).await;
    let settled = paid_from_wallet(store, buyer, &item).await;
    let before = assert_clean(store).await;
    let outcomes =
        join_all((0..10).map(|_| store.cancel_payment(buyer, settled.payment.id, now()))).await;
    let mut cancelled = 0;
    for outcome in &outcomes {
        match outcome {
            Ok(_) => cancelled += 1,
            Err(CancelPaymentError::Refused(CancelRefusal::AlreadyCancelled)) => {}
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(cancelled, 1, "{outcomes:?}");
    assert_eq!(balance(store, buyer).await, PRICE, "refunded once");
    assert_eq!(read(store, &item, buyer).await.item.registration_count, 0);
    assert_eq!(assert_clean(store).await, before + 1, "one refund transfer");

    let gateway_item = open_test(store, PRICE).await;
    let by_card = super::paid_by_card(store, buyer, &gateway_item).await;
    let outcomes =
        join_all((0..10).map(|_| store.cancel_payment(buyer, by_card.payment.id, now()))).await;
    assert_eq!(
        outcomes.iter().filter(|o| o.is_ok()).count(),
        1,
        "{outcomes:?}"
    );
    let refunds = store.pending_refunds(100).await;
    assert_eq!(refunds.map(|r| r.len()), Ok(1));
    assert_clean(store).await;
}

/// Twelve users apply for and cancel three items all at once, again and again: afterwards each
/// item's count is the number of its live registrations.
pub async fn counts_equal_live_registrations_after_mixed_races<S: CatalogStore>(store: &S) {
    let items = [
        open_test(store, PRICE).await,
        open_test(store, PRICE).await,
        open_test(store, PRICE).await,
    ];
    let mut users = Vec::new();
    for _ in 0..12 {
        let user = member(store).await;
        fund(store, user, PRICE * 9).await;
        users.push(user);
    }
    let rounds = users.iter().enumerate().map(|(index, user)| {
        let items = &items;
        async move {
            for round in 0..3 {
                for item in items {
                    match store
                        .pay_from_wallet(intent(*user, item, PaymentMethod::Wallet))
                        .await
                    {
                        Ok(settled) => {
                            // Odd users end every round cancelled; even ones keep the last.
                            if index % 2 == 1 || round < 2 {
                                store
                                    .cancel_payment(*user, settled.payment.id, now())
                                    .await
                                    .unwrap_or_else(|e| panic!("cancel_payment: {e:?}"));
                            }
                        }
                        Err(error) => panic!("pay_from_wallet: {error:?}"),
                    }
                }
            }
        }
    });
    join_all(rounds).await;

    let mut live: HashMap<ItemId, i64> = HashMap::new();
    for user in &users {
        let shown = store
            .payments(payments_of(*user))
            .await
            .unwrap_or_else(|e| panic!("payments: {e}"));
        for (payment, registration) in shown {
            if payment.status == PaymentStatus::Paid
                && registration.is_some_and(|r| r.status.is_live())
            {
                *live.entry(payment.item_id).or_default() += 1;
            }
        }
    }
    for item in &items {
        let count = read(store, item, item_viewer(&users))
            .await
            .item
            .registration_count;
        assert_eq!(count, 6, "six even users keep a place");
        assert_eq!(live.get(&item.id).copied().unwrap_or(0), count);
    }
    for (index, user) in users.iter().enumerate() {
        let expected = if index % 2 == 0 { PRICE * 6 } else { PRICE * 9 };
        assert_eq!(balance(store, *user).await, expected);
    }
    assert_clean(store).await;
}

/// Twenty buyers' begins at once, mixed with a second place of one of them, a twin of another's
/// (same id), and begins a missing item, a wrong price (by a buyer whose place is taken: the
/// price is the answer, as for a single begin) and an item not open yet refuse: each gets its own
/// answer, and settling the twenty counts twenty. (PostgreSQL inserts concurrent begins
/// in batches, one statement for all: this is the batch's race.)
pub async fn concurrent_begins_of_many_buyers_get_their_own_answers<S: CatalogStore>(store: &S) {
    let item = open_test(store, PRICE).await;
    let starts = now() + chrono::Duration::days(2);
    let mut later = super::new_test(&format!("Later {}", crate::support::tag()), PRICE, now());
    later.schedule =
        reserva_domain::catalog::Schedule::new(starts, starts + chrono::Duration::days(1))
            .unwrap_or_else(|e| panic!("{e}"));
    let later = super::create(store, later).await;
    let mut buyers = Vec::new();
    for _ in 0..20 {
        buyers.push(member(store).await);
    }
    let (first, second) = (buyers[0], buyers[1]);
    let mut intents: Vec<_> = buyers
        .iter()
        .map(|buyer| intent(*buyer, &item, PaymentMethod::Card))
        .collect();
    let twin = intents[1].clone();
    let refused = [
        intent(first, &item, PaymentMethod::Kakaopay),
        reserva_application::ports::catalog::PaymentIntent {
            item_id: ItemId::from_uuid(uuid::Uuid::now_v7()),
            ..intent(second, &item, PaymentMethod::Card)
        },
        reserva_application::ports::catalog::PaymentIntent {
            amount: super::money(PRICE + 1),
            ..intent(buyers[2], &item, PaymentMethod::Card)
        },
        intent(buyers[3], &later, PaymentMethod::Card),
    ];
    intents.push(twin.clone());
    intents.extend(refused.iter().cloned());
    let outcomes = join_all(intents.iter().map(|i| store.begin_payment(i.clone()))).await;

    let (buyers_outcomes, rest) = outcomes.split_at(20);
    let mut pending = Vec::new();
    let mut twin_new = 0;
    for (outcome, sent) in buyers_outcomes.iter().zip(&intents) {
        match outcome {
            Ok(Begun::New(payment)) => {
                assert_eq!(payment.id, sent.payment_id);
                assert_eq!(payment.user_id, sent.user_id);
                assert_eq!(payment.status, PaymentStatus::Pending);
                pending.push(payment.id);
                twin_new += usize::from(payment.id == twin.payment_id);
            }
            // The twin of buyer 1's may have been first: then this one resumes it.
            Ok(Begun::Existing(payment, None)) if payment.id == twin.payment_id => {
                pending.push(payment.id);
            }
            other => panic!("a buyer's begin: {other:?}"),
        }
    }
    match rest.first() {
        Some(Ok(Begun::New(payment))) => twin_new += usize::from(payment.id == twin.payment_id),
        Some(Ok(Begun::Existing(payment, None))) => {
            assert_eq!(payment.id, twin.payment_id);
            assert_eq!(payment.status, PaymentStatus::Pending);
        }
        other => panic!("the twin: {other:?}"),
    }
    assert_eq!(
        twin_new, 1,
        "one of the twins begins the payment: {outcomes:?}"
    );
    let expected = [
        Err(BeginPaymentError::AlreadyRegistered),
        Err(BeginPaymentError::ItemNotFound),
        Err(BeginPaymentError::PriceMismatch { price: item.price }),
        Err(BeginPaymentError::NotOpen),
    ];
    assert_eq!(rest.get(1..), Some(&expected[..]), "{outcomes:?}");

    let settles = join_all(
        pending
            .iter()
            .map(|id| store.settle_payment(*id, "ref", now())),
    )
    .await;
    for settle in &settles {
        assert!(settle.is_ok(), "{settle:?}");
    }
    assert_eq!(read(store, &item, first).await.item.registration_count, 20);
    assert_eq!(read(store, &later, first).await.item.registration_count, 0);
    assert_clean(store).await;
}

/// One payment id (one user's `Idempotency-Key`) sent at once for two items, several times
/// each: one payment begins, for the item of the request that began it, and every request for
/// the other item is refused as the key reused. (A batch must not hand one intent's row to
/// another that shares its id.)
pub async fn concurrent_begins_reusing_one_id_for_two_items<S: CatalogStore>(store: &S) {
    let buyer = member(store).await;
    let (first, second) = (open_test(store, PRICE).await, open_test(store, PRICE).await);
    let one = intent(buyer, &second, PaymentMethod::Card);
    let other = reserva_application::ports::catalog::PaymentIntent {
        item_id: first.id,
        ..one.clone()
    };
    let intents: Vec<_> = (0..6)
        .map(|index| {
            if index % 2 == 0 {
                one.clone()
            } else {
                other.clone()
            }
        })
        .collect();
    let outcomes = join_all(intents.iter().map(|i| store.begin_payment(i.clone()))).await;
    let mut began = None;
    for (outcome, sent) in outcomes.iter().zip(&intents) {
        if let Ok(Begun::New(payment)) = outcome {
            assert_eq!(payment.item_id, sent.item_id, "its own item: {outcomes:?}");
            assert!(
                began.replace(sent.item_id).is_none(),
                "one payment: {outcomes:?}"
            );
        }
    }
    let began = began.unwrap_or_else(|| panic!("one payment begins: {outcomes:?}"));
    for (outcome, sent) in outcomes.iter().zip(&intents) {
        match outcome {
            Ok(Begun::New(_)) => {}
            Ok(Begun::Existing(payment, None)) if sent.item_id == began => {
                assert_eq!(payment.item_id, began);
                assert_eq!(payment.status, PaymentStatus::Pending);
            }
            Err(BeginPaymentError::IdReused) if sent.item_id != began => {}
            other => panic!(
                "a request for {:?}: {other:?} in {outcomes:?}",
                sent.item_id
            ),
        }
    }
    assert_clean(store).await;
}

/// Forty buyers of two items approved at once, each settle sent twice, together with a failed
/// payment's settle, an unknown one's, and cancels of payments settled just before: every settle
/// gets its own answer (twins the same registration), and each count is exactly the live
/// registrations. (PostgreSQL writes concurrent settles in batches: this is the batch's race.)
pub async fn concurrent_settles_of_many_buyers_count_each_once<S: CatalogStore>(store: &S) {
    let items = [open_test(store, PRICE).await, open_test(store, PRICE).await];
    let mut pending = Vec::new();
    for index in 0..40 {
        let buyer = member(store).await;
        let item = items.get(index % 2).unwrap_or_else(|| panic!("two items"));
        pending.push((
            buyer,
            begin(store, intent(buyer, item, PaymentMethod::Card)).await,
        ));
    }
    // Two buyers of each item are settled first; their cancels race the others' settles.
    let early: Vec<_> = pending.drain(..4).collect();
    for (_, payment) in &early {
        store
            .settle_payment(payment.id, "early", now())
            .await
            .unwrap_or_else(|e| panic!("settle_payment: {e:?}"));
    }
    let failed_buyer = member(store).await;
    let failed = begin(store, intent(failed_buyer, &items[0], PaymentMethod::Card)).await;
    store
        .fail_payment(failed.id, now())
        .await
        .unwrap_or_else(|e| panic!("fail_payment: {e:?}"));
    let unknown = reserva_domain::wallet::PaymentId::from_uuid(uuid::Uuid::now_v7());

    let twins = pending
        .iter()
        .flat_map(|(_, payment)| [payment.id, payment.id])
        .map(|id| store.settle_payment(id, "burst", now()));
    let odd = [failed.id, unknown].map(|id| store.settle_payment(id, "burst", now()));
    let cancels = early
        .iter()
        .map(|(buyer, payment)| store.cancel_payment(*buyer, payment.id, now()));
    let (settles, odd, cancels) =
        futures_util::future::join3(join_all(twins), join_all(odd), join_all(cancels)).await;

    for (pair, (_, payment)) in settles.chunks(2).zip(&pending) {
        let registrations: Vec<_> = pair
            .iter()
            .map(|settle| match settle {
                Ok(settled) => {
                    assert_eq!(settled.payment.id, payment.id);
                    assert_eq!(settled.payment.status, PaymentStatus::Paid);
                    settled.registration.id
                }
                Err(error) => panic!("settle_payment: {error:?}"),
            })
            .collect();
        assert_eq!(registrations.first(), registrations.last(), "twins agree");
    }
    assert_eq!(
        odd.first(),
        Some(&Err(
            reserva_application::ports::catalog::SettleError::NotPending(PaymentStatus::Failed)
        ))
    );
    assert_eq!(
        odd.last(),
        Some(&Err(
            reserva_application::ports::catalog::SettleError::NotFound
        ))
    );
    for cancel in &cancels {
        assert!(cancel.is_ok(), "{cancel:?}");
    }
    for item in &items {
        let listed = read(store, item, failed_buyer).await.item;
        assert_eq!(listed.registration_count, 18, "20 settled, 2 cancelled");
    }
    assert_clean(store).await;
}

fn item_viewer(users: &[reserva_domain::accounts::UserId]) -> reserva_domain::accounts::UserId {
    users.first().copied().unwrap_or_else(|| panic!("users"))
}
