//! The wallet: a prepaid balance kept as a double-entry ledger. Every balance change is an
//! immutable transfer of a positive amount from one ledger account to another, so money is never
//! created or lost, only moved; a user's balance is the sum of its entries and never negative.
//!
//! Used by tickets (paying for a seat hold), by the catalog (paying for a registration, from the
//! wallet or through the payment gateway: [`Payment`]) and later by commerce.

mod account;
mod ledger;
mod money;
mod payment;

pub use account::{LedgerAccount, RevenueStream, TransferId, TransferKind};
pub use ledger::{
    Balance, BalanceRefusal, ChargeAmount, ChargeRefusal, LedgerEntry, MAX_BALANCE, MAX_CHARGE,
    Transfer,
};
pub use money::{Money, NegativeAmount};
pub use payment::{MethodLimit, Payment, PaymentId, PaymentMethod, PaymentStatus, RefundState};
