//! The PostgreSQL store: every repository port on diesel-async with a deadpool pool.
//!
//! - Every connection gets a `statement_timeout`, so a stuck query ends as a 503, not a hang.
//! - A pool that stays exhausted for `acquire_timeout` answers [`DependencyError::Unavailable`].
//! - Capacity changes lock the affected `exam_slots` rows in ascending order (`FOR UPDATE`), so
//!   concurrent confirms serialise per hour and never deadlock; a `CHECK` constraint backs it up.
//!   Confirms are committed in batches (group commit), one transaction for all that arrive together.
//! - Seats are guarded by their own rows and a user's date by a claim row (`tickets`); all money
//!   moves through one posting helper (`wallet`), inside the caller's transaction.
//! - Migrations are embedded in the binary ([`run_migrations`], [`revert_all_migrations`]).
//!
//! One module per product area (`accounts`, `exams`, `tickets`, `wallet`), each with its own SQL
//! and its own state; what is shared with the SQLite store (row conversions, search patterns,
//! the batch queue) is in `reserva-sql-support`. This file is wiring only.
//!
//! [`DependencyError::Unavailable`]: reserva_application::DependencyError::Unavailable

mod accounts;
mod catalog;
mod commerce;
mod errors;
mod exams;
mod migrations;
mod parts;
mod prepared;
mod schema;
mod settings;
mod store;
#[cfg(feature = "test-support")]
pub mod test_support;
mod tickets;
mod wallet;

pub(crate) use errors::{query_error, write_outcome_error};
pub use migrations::{MIGRATIONS, revert_all_migrations, run_migrations};
pub use settings::{PostgresSettings, redact};
pub use store::PostgresStore;
