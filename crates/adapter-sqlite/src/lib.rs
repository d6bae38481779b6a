//! The embedded SQLite store, the default: the service runs with nothing installed.
//!
//! Queries run on diesel's synchronous SQLite connection inside tokio's blocking pool, with
//! connections pooled by deadpool. (diesel-async's `SyncConnectionWrapper` is not used: when a
//! request is cancelled mid-query it calls `block_in_place`, which panics on actix-web's
//! current-thread workers. Here a cancelled request's query just finishes in the blocking pool and
//! its connection goes back to the pool.) Every connection uses WAL,
//! `busy_timeout` and foreign keys; every write runs in a `BEGIN IMMEDIATE` transaction, so writers
//! queue on the database lock instead of failing on a lock upgrade, and capacity checks and their
//! writes happen with no other writer in between.
//!
//! Ids are stored as UUID text and instants as microseconds since the Unix epoch.
//!
//! One module per product area (`accounts`, `catalog`, `exams`, `tickets`, `wallet`), each with its own SQL; what is shared with
//! the PostgreSQL store (row conversions, search patterns, the transaction error) is in
//! `reserva-sql-support`. This file is wiring only.

mod accounts;
mod catalog;
mod commerce;
mod errors;
mod exams;
mod migrations;
mod schema;
mod settings;
mod store;
mod tickets;
mod values;
mod wallet;

pub(crate) use errors::query_error;
pub use migrations::{MIGRATIONS, revert_all_migrations, run_migrations};
pub use settings::{SqliteSettings, parse_sqlite_url};
pub use store::SqliteStore;
pub(crate) use values::{instant, micros, uuid};
