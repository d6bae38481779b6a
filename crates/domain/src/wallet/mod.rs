//! The wallet: a prepaid balance kept as a double-entry ledger. Every balance change is an
//! immutable transfer of a positive amount from one ledger account to another, so money is never
//! created or lost, only moved; a user's balance is the sum of its entries and never negative.
//!
//! Used by tickets (paying for a seat hold) and later by the catalog and commerce.

mod account;
mod ledger;
mod money;

pub use account::{LedgerAccount, RevenueStream, TransferId, TransferKind};
pub use ledger::{
    Balance, BalanceRefusal, ChargeAmount, ChargeRefusal, LedgerEntry, MAX_BALANCE, MAX_CHARGE,
    Transfer,
};
pub use money::{Money, NegativeAmount};
