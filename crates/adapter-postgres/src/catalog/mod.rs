//! `CatalogRepository`, `RegistrationRepository` and `CatalogSeeder` on PostgreSQL.
//!
//! A user's one live place per item is the partial unique index `catalog_payments_one_live`
//! (pending or paid): a payment is one `INSERT … SELECT` that checks the item in its own `WHERE`
//! ([`payments`]); a settle, a wallet payment and a cancel are one transaction each that lock the
//! payment row, then change the item's count, then post the ledger transfer through the wallet
//! module's posting ([`changes`]). Lists read the partial indexes of items that are not deleted
//! in their sort's order, with the search on the GIN index of the generated tsvector
//! ([`items`]).

mod audit;
mod changes;
mod items;
pub(crate) use items::tsquery_words;
mod payments;
mod reads;
mod repository;
mod rows;
mod seeder;
