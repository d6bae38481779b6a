//! The commerce ports on SQLite, one file per slice.
//!
//! Curricula ([`curricula`]): every write is one `BEGIN IMMEDIATE` transaction, so no other
//! writer runs between the check of the listed courses and the write of the curriculum and its
//! ordered `curriculum_courses` rows; reads are one snapshot, the course ids in order read with
//! `group_concat(… ORDER BY position)`; search is the FTS5 table `curricula_search`, queried as
//! the catalog's is (each word quoted).
//!
//! The cart, orders and course access ([`cart`], [`orders`], [`access`]): every write is one `BEGIN IMMEDIATE` transaction, so no other writer runs between a check
//! (in the cart, owned, under the cap, the total) and its write; the partial unique indexes
//! (`cart_items_one_course`, `cart_items_one_curriculum`, `orders_one_pending`) are the
//! backstops. Ids are UUID text, instants microseconds.
//!
//! The checkout and receipts ([`checkout`], [`receipts`]): each write is one `BEGIN IMMEDIATE`
//! transaction that reads the payment and its order, then writes what the shared decision says
//! (payment, order, access grants or revocations, ledger transfers); receipts are read in one
//! snapshot.

pub(crate) mod access;
mod billing;
mod cart;
mod checkout;
mod curricula;
#[cfg(feature = "test-support")]
mod fixtures;
mod offers;
mod orders;
mod receipts;
mod repository;

use reserva_application::DependencyError;

fn corrupt(error: DependencyError) -> diesel::result::Error {
    diesel::result::Error::DeserializationError(error.to_string().into())
}

/// A stored UUID, as a query error when it is not one.
fn stored_uuid(text: &str) -> Result<uuid::Uuid, diesel::result::Error> {
    crate::uuid(text).map_err(corrupt)
}

/// A stored instant, as a query error when it is out of range.
fn stored_instant(micros: i64) -> Result<chrono::DateTime<chrono::Utc>, diesel::result::Error> {
    crate::instant(micros).map_err(corrupt)
}
