//! Ledger arithmetic: charges within limits, transfers that move a positive amount between two
//! accounts, and balances that only change by the entries of transfers.

use super::{LedgerAccount, Money, TransferId, TransferKind};
use chrono::{DateTime, Utc};
use thiserror::Error;

/// The largest single charge (PRODUCT.md: 1 ≤ amount ≤ 1,000,000).
pub const MAX_CHARGE: Money = Money::new_const(1_000_000);
/// The largest balance a charge may lead to (PRODUCT.md: balance ≤ 10,000,000). Refunds may
/// pass it: money owed back is never refused.
pub const MAX_BALANCE: Money = Money::new_const(10_000_000);

impl Money {
    /// For constants known to be non-negative.
    const fn new_const(amount: i64) -> Self {
        match Self::new(amount) {
            Ok(money) => money,
            Err(_) => Self::ZERO,
        }
    }
}

/// An amount a user may charge to their wallet in one go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChargeAmount(Money);

/// Why a charge amount was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum ChargeRefusal {
    /// Zero or negative (a negative "charge" would be a withdrawal: a source system's bug).
    #[error("amount must be at least 1")]
    NotPositive,
    /// Above [`MAX_CHARGE`].
    #[error("amount must be at most {MAX_CHARGE}")]
    TooLarge,
}

impl ChargeRefusal {
    /// Stable code for clients.
    #[must_use]
    pub const fn code(self) -> &'static str {
        match self {
            Self::NotPositive => "amount_not_positive",
            Self::TooLarge => "amount_too_large",
        }
    }
}

impl ChargeAmount {
    /// Validates a requested charge.
    ///
    /// # Errors
    /// [`ChargeRefusal`] for amounts outside 1..=[`MAX_CHARGE`].
    pub fn new(amount: i64) -> Result<Self, ChargeRefusal> {
        if amount < 1 {
            Err(ChargeRefusal::NotPositive)
        } else if amount > MAX_CHARGE.get() {
            Err(ChargeRefusal::TooLarge)
        } else {
            Money::new(amount)
                .map(Self)
                .map_err(|_| ChargeRefusal::NotPositive)
        }
    }

    /// The amount.
    #[must_use]
    pub const fn money(self) -> Money {
        self.0
    }
}

/// Why a balance could not change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum BalanceRefusal {
    /// The debit is larger than the balance.
    #[error("insufficient balance")]
    Insufficient,
    /// The credit would pass the limit.
    #[error("the balance may be at most {limit}")]
    LimitExceeded {
        /// The limit.
        limit: Money,
    },
}

/// A user wallet's balance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Balance(Money);

impl Balance {
    /// A balance of `money`.
    #[must_use]
    pub const fn new(money: Money) -> Self {
        Self(money)
    }

    /// The amount.
    #[must_use]
    pub const fn money(self) -> Money {
        self.0
    }

    /// The balance after taking `amount` out.
    ///
    /// # Errors
    /// [`BalanceRefusal::Insufficient`] if it would go below zero.
    pub fn debit(self, amount: Money) -> Result<Self, BalanceRefusal> {
        self.0
            .checked_sub(amount)
            .map(Self)
            .ok_or(BalanceRefusal::Insufficient)
    }

    /// The balance after putting `amount` in, refused above `limit` when there is one.
    ///
    /// # Errors
    /// [`BalanceRefusal::LimitExceeded`] above `limit` (or on overflow).
    pub fn credit(self, amount: Money, limit: Option<Money>) -> Result<Self, BalanceRefusal> {
        let ceiling = limit.unwrap_or(Money::new_const(i64::MAX));
        self.0
            .checked_add(amount)
            .filter(|sum| *sum <= ceiling)
            .map(Self)
            .ok_or(BalanceRefusal::LimitExceeded { limit: ceiling })
    }
}

/// A stored transfer: `amount` moved from `from` (debited) to `to` (credited).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transfer {
    /// Its id (also its idempotency key).
    pub id: TransferId,
    /// The account debited.
    pub from: LedgerAccount,
    /// The account credited.
    pub to: LedgerAccount,
    /// How much (always at least 1).
    pub amount: Money,
    /// Why.
    pub kind: TransferKind,
    /// When it was posted.
    pub created_at: DateTime<Utc>,
}

impl Transfer {
    /// The signed change this transfer makes to `account`: `-amount` if it is debited, `+amount`
    /// if credited, 0 otherwise. Summed over every transfer, the changes of all accounts are 0.
    #[must_use]
    pub fn change_for(&self, account: LedgerAccount) -> i64 {
        if account == self.from {
            -self.amount.get()
        } else if account == self.to {
            self.amount.get()
        } else {
            0
        }
    }
}

/// One line of a wallet's history: a transfer seen from one account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LedgerEntry {
    /// The entry's place in the ledger: later entries have larger numbers (a page cursor).
    pub sequence: i64,
    /// The transfer.
    pub transfer_id: TransferId,
    /// Why.
    pub kind: TransferKind,
    /// The signed change to the account (negative for a payment).
    pub amount: i64,
    /// The account's balance right after this entry.
    pub balance_after: Money,
    /// When.
    pub created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::UserId;
    use proptest::prelude::*;
    use uuid::Uuid;

    fn money(amount: i64) -> Money {
        Money::new(amount).unwrap()
    }

    #[test]
    fn charges_are_positive_and_bounded() {
        assert_eq!(ChargeAmount::new(0), Err(ChargeRefusal::NotPositive));
        assert_eq!(ChargeAmount::new(-5), Err(ChargeRefusal::NotPositive));
        assert_eq!(ChargeAmount::new(1).map(|a| a.money()), Ok(money(1)));
        assert_eq!(
            ChargeAmount::new(1_000_000).map(|a| a.money()),
            Ok(money(1_000_000))
        );
        assert_eq!(ChargeAmount::new(1_000_001), Err(ChargeRefusal::TooLarge));
    }

    #[test]
    fn a_balance_never_goes_negative_nor_past_its_limit() {
        let balance = Balance::new(money(100));
        assert_eq!(balance.debit(money(100)), Ok(Balance::new(Money::ZERO)));
        assert_eq!(balance.debit(money(101)), Err(BalanceRefusal::Insufficient));
        assert_eq!(
            balance.credit(money(9_999_900), Some(MAX_BALANCE)),
            Ok(Balance::new(MAX_BALANCE))
        );
        assert_eq!(
            balance.credit(money(9_999_901), Some(MAX_BALANCE)),
            Err(BalanceRefusal::LimitExceeded { limit: MAX_BALANCE })
        );
        assert!(balance.credit(money(9_999_901), None).is_ok());
    }

    #[test]
    fn a_transfer_moves_money_between_its_two_accounts_only() {
        let user = LedgerAccount::UserWallet(UserId::from_uuid(Uuid::now_v7()));
        let other = LedgerAccount::UserWallet(UserId::from_uuid(Uuid::now_v7()));
        let transfer = Transfer {
            id: TransferId::from_uuid(Uuid::now_v7()),
            from: LedgerAccount::Funding,
            to: user,
            amount: money(700),
            kind: TransferKind::Charge,
            created_at: Utc::now(),
        };
        assert_eq!(transfer.change_for(user), 700);
        assert_eq!(transfer.change_for(LedgerAccount::Funding), -700);
        assert_eq!(transfer.change_for(other), 0);
    }

    proptest! {
        /// Any sequence of accepted debits and credits leaves the balance equal to the sum of
        /// the accepted changes, never below zero and never above the limit.
        #[test]
        fn a_balance_is_the_sum_of_its_accepted_changes(
            changes in proptest::collection::vec(-2_000_000_i64..2_000_000, 0..60)
        ) {
            let mut balance = Balance::default();
            let mut sum = 0_i64;
            for change in changes {
                let amount = money(change.abs());
                let next = if change < 0 {
                    balance.debit(amount)
                } else {
                    balance.credit(amount, Some(MAX_BALANCE))
                };
                if let Ok(next) = next {
                    balance = next;
                    sum += change;
                }
                prop_assert!(balance.money() >= Money::ZERO);
                prop_assert!(balance.money() <= MAX_BALANCE);
                prop_assert_eq!(balance.money().get(), sum);
            }
        }
    }
}
