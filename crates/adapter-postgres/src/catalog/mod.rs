//! `CatalogRepository`, `RegistrationRepository` and `CatalogSeeder` on PostgreSQL.
//!
//! A user's one live place per item is the partial unique index `catalog_payments_one_live`
//! (pending or paid): a payment is an `INSERT … SELECT` that checks the item in its own `WHERE`
//! ([`payments`]); the pending rows of gateway payments are inserted in batches, one statement
//! and one commit for all the begins that arrive meanwhile ([`begins`]); a wallet payment and a
//! cancel are one transaction each that lock the payment row, post the ledger transfer through
//! the wallet module's posting, then change the item's count ([`changes`]); settles of approved
//! gateway payments are committed in batches too, three statements, one count update per item
//! and one commit for all the settles that arrive meanwhile ([`settles`]). Lists read the partial indexes of items that are not deleted
//! in their sort's order, with the search on the GIN index of the generated tsvector
//! ([`items`]).

mod audit;
mod begins;
mod changes;
mod items;
pub(crate) use items::tsquery_words;
mod payments;
mod reads;
mod repository;
mod rows;
mod seeder;
mod settles;
