//! Charges: funding → the user's wallet, bounded by the balance limit, idempotent by transfer
//! id.

use super::{assert_ledger_clean, charge_of, post};
use crate::support::{now, user_id};
use futures_util::future::join_all;
use reserva_application::ports::wallet::{ChargeError, NewCharge, WalletRepository};
use reserva_domain::paging::PageLimit;
use reserva_domain::wallet::{ChargeAmount, LedgerAccount, MAX_BALANCE, Money, TransferKind};

/// A first charge creates the wallet; balances add up; an unknown wallet holds zero.
pub async fn a_charge_credits_the_wallet<S: WalletRepository>(store: &S) {
    let user = user_id();
    assert_eq!(store.balance(user).await, Ok(Money::ZERO));
    let first = charge_of(user, 30_000);
    let posted = post(store, first).await;
    assert!(!posted.replayed);
    assert_eq!(posted.balance_after.get(), 30_000);
    let transfer = posted.transfer;
    assert_eq!(
        (transfer.id, transfer.kind),
        (first.transfer_id, TransferKind::Charge)
    );
    assert_eq!(
        (transfer.from, transfer.to, transfer.amount),
        (
            LedgerAccount::Funding,
            LedgerAccount::UserWallet(user),
            first.amount.money()
        )
    );
    assert_eq!(transfer.created_at, first.now);
    let second = post(store, charge_of(user, 1_000_000)).await;
    assert_eq!(second.balance_after.get(), 1_030_000);
    assert_eq!(store.balance(user).await.map(Money::get), Ok(1_030_000));
    assert_eq!(store.balance(user_id()).await, Ok(Money::ZERO));
    assert_ledger_clean(store).await;
}

/// A charge that would pass the limit is refused and posts nothing; up to it is fine.
pub async fn a_charge_past_the_limit_posts_nothing<S: WalletRepository>(store: &S) {
    let user = user_id();
    let limit = Money::new(1_500_000).unwrap_or_else(|e| panic!("{e}"));
    let limited = |amount| NewCharge {
        max_balance: limit,
        ..charge_of(user, amount)
    };
    post(store, limited(1_000_000)).await;
    let refused = store.charge(limited(500_001)).await;
    assert_eq!(refused, Err(ChargeError::BalanceLimitExceeded { limit }));
    let entries = store.entries(user, None, PageLimit::DEFAULT).await;
    assert_eq!(entries.map(|e| e.len()), Ok(1));
    let full = post(store, limited(500_000)).await;
    assert_eq!(full.balance_after, limit);
    let over = store.charge(limited(1)).await;
    assert_eq!(over, Err(ChargeError::BalanceLimitExceeded { limit }));
    assert_eq!(store.balance(user).await, Ok(limit));
    assert_ledger_clean(store).await;
}

/// The same id, user and amount again is the first charge, replayed: nothing posted twice, and
/// its balance is the one right after it.
pub async fn a_repeated_charge_id_replays_the_first<S: WalletRepository>(store: &S) {
    let user = user_id();
    let first = charge_of(user, 10_000);
    let posted = post(store, first).await;
    post(store, charge_of(user, 5_000)).await;
    let again = post(
        store,
        NewCharge {
            now: now(),
            ..first
        },
    )
    .await;
    assert!(again.replayed);
    assert_eq!(again.transfer, posted.transfer);
    assert_eq!(again.balance_after.get(), 10_000);
    assert_eq!(store.balance(user).await.map(Money::get), Ok(15_000));
    let entries = store.entries(user, None, PageLimit::DEFAULT).await;
    assert_eq!(entries.map(|e| e.len()), Ok(2));
    assert_ledger_clean(store).await;
}

/// An id already used for another amount, or another user, is refused.
pub async fn a_charge_id_reused_for_another_amount_is_refused<S: WalletRepository>(store: &S) {
    let user = user_id();
    let first = charge_of(user, 10_000);
    post(store, first).await;
    let other_amount = NewCharge {
        amount: ChargeAmount::new(10_001).unwrap_or_else(|e| panic!("{e}")),
        ..first
    };
    assert_eq!(store.charge(other_amount).await, Err(ChargeError::IdReused));
    let other_user = NewCharge {
        user_id: user_id(),
        ..first
    };
    assert_eq!(store.charge(other_user).await, Err(ChargeError::IdReused));
    assert_eq!(store.balance(user).await.map(Money::get), Ok(10_000));
    assert_eq!(store.balance(other_user.user_id).await, Ok(Money::ZERO));
    assert_ledger_clean(store).await;
}

/// Twenty charges with one id at once: one is posted, the others replay it.
pub async fn concurrent_charges_with_one_id_post_once<S: WalletRepository>(store: &S) {
    let user = user_id();
    let charge = charge_of(user, 7_000);
    let outcomes = join_all((0..20).map(|_| store.charge(charge))).await;
    let mut posted = 0;
    for outcome in &outcomes {
        match outcome {
            Ok(result) => {
                assert_eq!(result.transfer.id, charge.transfer_id);
                assert_eq!(result.balance_after.get(), 7_000);
                if !result.replayed {
                    posted += 1;
                }
            }
            Err(error) => panic!("{error}"),
        }
    }
    assert_eq!(posted, 1);
    assert_eq!(store.balance(user).await.map(Money::get), Ok(7_000));
    let entries = store.entries(user, None, PageLimit::DEFAULT).await;
    assert_eq!(entries.map(|e| e.len()), Ok(1));
    assert_ledger_clean(store).await;
}

/// Fifty distinct charges on one wallet at once, some past the limit: the balance is exactly
/// the sum of the accepted ones, never above the limit.
pub async fn concurrent_charges_on_one_wallet_add_up<S: WalletRepository>(store: &S) {
    let user = user_id();
    let charges: Vec<_> = (0..50).map(|_| charge_of(user, 300_000)).collect();
    let outcomes = join_all(charges.iter().map(|c| store.charge(*c))).await;
    let accepted = outcomes.iter().filter(|o| o.is_ok()).count();
    let refused = outcomes
        .iter()
        .filter(|o| matches!(o, Err(ChargeError::BalanceLimitExceeded { .. })))
        .count();
    // 33 × 300,000 = 9,900,000 fit under 10,000,000
    assert_eq!((accepted, refused), (33, 17), "{outcomes:?}");
    let balance = store.balance(user).await.map(Money::get);
    assert_eq!(balance, Ok(33 * 300_000));
    assert!(balance.is_ok_and(|b| b <= MAX_BALANCE.get()));
    assert_ledger_clean(store).await;
}
