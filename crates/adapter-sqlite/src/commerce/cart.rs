//! The cart on SQLite: an add is one `BEGIN IMMEDIATE` transaction (the user's dead lines, whose
//! item was deleted, dropped; then exists, not in the cart, not owned, under the cap, then the
//! insert, which the partial unique indexes back up).

use super::offers::{cart_offers, offer, owned_courses};
use crate::errors::violated;
use crate::micros;
use diesel::prelude::*;
use diesel::result::Error as QueryError;
use diesel::sql_types::{BigInt, Nullable, Text};
use reserva_application::ports::commerce::cart::{AddToCartError, NewCartItem};
use reserva_domain::accounts::UserId;
use reserva_domain::commerce::{CartItemId, CartLine};
use reserva_sql_support::TxError;
use reserva_sql_support::commerce::is_owned;

/// An add's transaction error.
pub(super) type AddTx = TxError<AddToCartError>;

#[derive(QueryableByName)]
struct Counts {
    #[diesel(sql_type = BigInt)]
    same: i64,
    #[diesel(sql_type = BigInt)]
    held: i64,
}

/// Whether `error` is an item already in the user's cart.
pub(super) fn is_in_cart(error: &QueryError) -> bool {
    violated(error).is_some_and(|message| {
        message.contains("cart_items.user_id, cart_items.course_id")
            || message.contains("cart_items.user_id, cart_items.curriculum_id")
    })
}

/// Adds an item (see `CartRepository::add_to_cart`), inside the write transaction.
pub(super) fn add(connection: &mut SqliteConnection, new: &NewCartItem) -> Result<CartLine, AddTx> {
    // Lines whose course or curriculum was deleted: `GET /cart` no longer shows them, so they
    // must not hold a place under the cap either.
    diesel::sql_query(
        "DELETE FROM cart_items WHERE user_id = ?1
         AND NOT EXISTS (SELECT 1 FROM catalog_items i WHERE i.id = cart_items.course_id
                         AND i.kind = 'course' AND i.deleted_at IS NULL)
         AND NOT EXISTS (SELECT 1 FROM curricula k WHERE k.id = cart_items.curriculum_id
                         AND k.deleted_at IS NULL)",
    )
    .bind::<Text, _>(new.user_id.as_uuid().to_string())
    .execute(connection)?;
    let offer = offer(connection, new.item)?.ok_or(TxError::Refused(AddToCartError::NotFound))?;
    let course = new.item.course().map(|id| id.as_uuid().to_string());
    let curriculum = new.item.curriculum().map(|id| id.as_uuid().to_string());
    let counts: Counts = diesel::sql_query(
        "SELECT coalesce(sum(CASE WHEN course_id = ?2 OR curriculum_id = ?3 THEN 1 ELSE 0 END), 0)
                    AS same,
                count(*) AS held
         FROM cart_items WHERE user_id = ?1",
    )
    .bind::<Text, _>(new.user_id.as_uuid().to_string())
    .bind::<Nullable<Text>, _>(course.clone())
    .bind::<Nullable<Text>, _>(curriculum.clone())
    .get_result(connection)?;
    if counts.same > 0 {
        return Err(TxError::Refused(AddToCartError::AlreadyInCart));
    }
    let owned = owned_courses(connection, new.user_id, new.now)?;
    if is_owned(&offer, &owned) {
        return Err(TxError::Refused(AddToCartError::AlreadyOwned));
    }
    if counts.held >= i64::from(new.limit) {
        return Err(TxError::Refused(AddToCartError::CartFull));
    }
    diesel::sql_query(
        "INSERT INTO cart_items (id, user_id, course_id, curriculum_id, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .bind::<Text, _>(new.id.as_uuid().to_string())
    .bind::<Text, _>(new.user_id.as_uuid().to_string())
    .bind::<Nullable<Text>, _>(course)
    .bind::<Nullable<Text>, _>(curriculum)
    .bind::<BigInt, _>(micros(new.now))
    .execute(connection)?;
    Ok(CartLine {
        id: new.id,
        item: new.item,
        title: offer.title,
        price: offer.price,
    })
}

/// The user's cart.
pub(super) fn lines(
    connection: &mut SqliteConnection,
    user: UserId,
) -> Result<Vec<CartLine>, QueryError> {
    Ok(cart_offers(connection, user)?
        .into_iter()
        .map(|(line, _)| line)
        .collect())
}

/// Removes one of the user's lines.
pub(super) fn remove(
    connection: &mut SqliteConnection,
    user: UserId,
    id: CartItemId,
) -> Result<bool, QueryError> {
    let removed = diesel::sql_query("DELETE FROM cart_items WHERE id = ?1 AND user_id = ?2")
        .bind::<Text, _>(id.as_uuid().to_string())
        .bind::<Text, _>(user.as_uuid().to_string())
        .execute(connection)?;
    Ok(removed > 0)
}
