//! The commerce ports on PostgreSQL, one file per slice.
//!
//! Curricula ([`curricula`]): every write is one transaction that checks the listed courses with
//! `SELECT … FOR SHARE` (so a course cannot be soft-deleted between the check and the commit)
//! and writes the curriculum and its ordered `curriculum_courses` rows; reads take the course
//! ids in order in the same statement (`ARRAY(… ORDER BY position)`); the list is newest first
//! on the partial index of curricula that are not deleted, searched on the GIN index of the
//! generated tsvector.
//!
//! The cart, orders and course access ([`cart`], [`orders`], [`access`]):
//! A user's cart and order writes are serialised by a `FOR NO KEY UPDATE` lock on the user's
//! row ([`lock_user`]), taken first in each of those transactions: so the cart's cap and
//! "cancel the pending order, insert the new one" hold under any race, and the partial unique
//! indexes (`cart_items_one_course`, `cart_items_one_curriculum`, `orders_one_pending`) stay the
//! backstops. (`NO KEY` so that foreign-key checks of other writes that point at the user, which
//! take `KEY SHARE`, never wait on it.)
//!
//! The checkout and receipts ([`checkout`], [`receipts`]): one transaction per write, each
//! locking the payment row first and then its order (an open: the order's ready payment, then
//! the order), run again when PostgreSQL breaks a deadlock; a paid callback grants access with
//! [`access::grant_order_access`] and a refund withdraws it with
//! [`access::revoke_order_access`] in the same transaction as the ledger transfers.

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

use diesel::sql_types::Uuid as SqlUuid;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use reserva_application::DependencyError;
use reserva_domain::accounts::UserId;

/// Locks the user's row for their cart and order writes. `false` when there is no such user.
async fn lock_user(
    connection: &mut AsyncPgConnection,
    user: UserId,
) -> Result<bool, diesel::result::Error> {
    let locked = crate::prepared::sql_query("SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE")
        .bind::<SqlUuid, _>(user.as_uuid())
        .execute(connection)
        .await?;
    Ok(locked == 1)
}

fn corrupt(error: DependencyError) -> diesel::result::Error {
    diesel::result::Error::DeserializationError(error.to_string().into())
}
