//! What the two SQL stores share, written once: each adapter keeps only its dialect's SQL, its
//! schema and how it locks; how a stored row becomes an entity, how a search becomes a `LIKE`
//! pattern, what a failed transaction carries and how writes are grouped into batches live here.
//!
//! Rows come in as plain values (`Uuid`, `DateTime<Utc>`, `i32`, `&str`): PostgreSQL reads them
//! so natively, SQLite converts its text ids and microsecond counts first.

pub mod accounts;
pub mod batch;
pub mod billing;
pub mod catalog;
pub mod checkout;
pub mod commerce;
mod dsl;
pub mod exams;
mod search;
pub mod tickets;
mod transaction;
pub mod wallet;

pub use search::like_pattern;
pub use transaction::TxError;
