//! Contracts of `WalletRepository`: charges (limit, idempotent replays, races on one id) and
//! the wallet's entries, one file per concern, over the fixtures here.

pub mod charges;
pub mod entries;

use crate::support::now;
use reserva_application::ports::wallet::{ChargeError, NewCharge, PostedCharge, WalletRepository};
use reserva_domain::accounts::UserId;
use reserva_domain::wallet::{ChargeAmount, MAX_BALANCE, TransferId};
use uuid::Uuid;

/// A charge of `amount` to `user` with a fresh random id.
fn charge_of(user: UserId, amount: i64) -> NewCharge {
    NewCharge {
        transfer_id: TransferId::from_uuid(Uuid::now_v7()),
        user_id: user,
        amount: ChargeAmount::new(amount).unwrap_or_else(|e| panic!("{e}")),
        max_balance: MAX_BALANCE,
        now: now(),
    }
}

/// Posts `charge`, failing the case if it is refused.
async fn post<S: WalletRepository>(store: &S, charge: NewCharge) -> PostedCharge {
    let result: Result<PostedCharge, ChargeError> = store.charge(charge).await;
    result.unwrap_or_else(|e| panic!("charge: {e}"))
}

/// The ledger audit finds nothing wrong.
async fn assert_ledger_clean<S: WalletRepository>(store: &S) {
    let audit = store
        .verify_ledger()
        .await
        .unwrap_or_else(|e| panic!("verify_ledger: {e}"));
    assert!(audit.violations.is_empty(), "{:#?}", audit.violations);
}

/// The registered wallet-store cases by file, listed once: [`crate::wallet_store_tests!`]
/// expands them and the registration check compares them with the case files. Expands to
/// `$callback! { $args wallet { file: [case, ...], ... } }`.
#[doc(hidden)]
#[macro_export]
macro_rules! __wallet_store_cases {
    ($callback:path, $($args:tt)*) => {
        $callback! {
            $($args)*
            wallet {
                charges: [
                    a_charge_credits_the_wallet,
                    a_charge_past_the_limit_posts_nothing,
                    a_repeated_charge_id_replays_the_first,
                    a_charge_id_reused_for_another_amount_is_refused,
                    concurrent_charges_with_one_id_post_once,
                    concurrent_charges_on_one_wallet_add_up,
                ],
                entries: [
                    entries_are_newest_first_and_paged_by_sequence,
                ],
            }
        }
    };
}
