//! `WalletRepository` on SQLite, and the one way every module posts a transfer.
//!
//! A transfer is posted inside the caller's `BEGIN IMMEDIATE` transaction ([`post`]): the
//! transfer row (its id is the idempotency key, so a second one with the id is refused by the
//! primary key), the guarded balance change of each user wallet it touches and its two entries.
//! Both sides may be system accounts, which keep no balance (a gateway payment: provider →
//! revenue, and back when it is cancelled).

mod audit;
mod ledger;
mod repository;

pub(crate) use ledger::{PostRefusal, Posting, post};
