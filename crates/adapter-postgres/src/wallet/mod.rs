//! `WalletRepository` on PostgreSQL, and the ledger posting every module's money moves through.
//!
//! A transfer is posted in two statements inside the caller's transaction ([`posting`]): the
//! transfer row (its id is the idempotency key: a second post of one id waits for the first and
//! then finds it) together with the system account's row, then the user wallet's guarded balance
//! change together with both entries. Only user wallets keep a balance, so payments of one
//! concert never queue on its revenue row.

mod audit;
pub(crate) mod posting;
mod repository;
mod rows;
