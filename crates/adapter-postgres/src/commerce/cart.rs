//! The cart on PostgreSQL: an add is one transaction under the user's lock (the user's dead
//! lines, whose item was deleted, dropped; then exists, not in the cart, not owned, under the
//! cap, then the insert, which the partial unique indexes back up). A removal takes the same
//! lock.

use super::lock_user;
use super::offers::{cart_offers, offer, owned_courses};
use crate::write_outcome_error;
use diesel::result::{DatabaseErrorKind, Error as QueryError};
use diesel::sql_types::{BigInt, Nullable, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use reserva_application::DependencyError;
use reserva_application::ports::commerce::cart::{AddToCartError, NewCartItem};
use reserva_domain::accounts::UserId;
use reserva_domain::commerce::{CartItemId, CartLine};
use reserva_sql_support::TxError;
use reserva_sql_support::commerce::is_owned;

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    value: i64,
}

/// Whether `error` is an item already in the user's cart.
fn is_in_cart(error: &QueryError) -> bool {
    matches!(
        error,
        QueryError::DatabaseError(DatabaseErrorKind::UniqueViolation, info)
            if matches!(
                info.constraint_name(),
                Some("cart_items_one_course" | "cart_items_one_curriculum")
            )
    )
}

/// Deletes the user's lines whose course or curriculum was deleted: `GET /cart` no longer shows
/// them, so they must not hold a place under the cap either.
async fn drop_dead_lines(
    connection: &mut AsyncPgConnection,
    user: UserId,
) -> Result<(), QueryError> {
    crate::prepared::sql_query(
        "DELETE FROM cart_items c WHERE c.user_id = $1
         AND NOT EXISTS (SELECT 1 FROM catalog_items i WHERE i.id = c.course_id
                         AND i.kind = 'course' AND i.deleted_at IS NULL)
         AND NOT EXISTS (SELECT 1 FROM curricula k WHERE k.id = c.curriculum_id
                         AND k.deleted_at IS NULL)",
    )
    .bind::<SqlUuid, _>(user.as_uuid())
    .execute(connection)
    .await?;
    Ok(())
}

async fn add_locked(
    connection: &mut AsyncPgConnection,
    new: &NewCartItem,
) -> Result<CartLine, TxError<AddToCartError>> {
    if !lock_user(connection, new.user_id).await? {
        return Err(TxError::Refused(AddToCartError::Dependency(
            DependencyError::Failed("commerce: the cart's user does not exist".into()),
        )));
    }
    drop_dead_lines(connection, new.user_id).await?;
    let offer = offer(connection, new.item)
        .await?
        .ok_or(TxError::Refused(AddToCartError::NotFound))?;
    let counts: Count = crate::prepared::sql_query(
        "SELECT count(*) FILTER (WHERE course_id = $2 OR curriculum_id = $3) AS value
         FROM cart_items WHERE user_id = $1",
    )
    .bind::<SqlUuid, _>(new.user_id.as_uuid())
    .bind::<Nullable<SqlUuid>, _>(new.item.course().map(|id| id.as_uuid()))
    .bind::<Nullable<SqlUuid>, _>(new.item.curriculum().map(|id| id.as_uuid()))
    .get_result(connection)
    .await?;
    if counts.value > 0 {
        return Err(TxError::Refused(AddToCartError::AlreadyInCart));
    }
    let owned = owned_courses(connection, new.user_id, new.now).await?;
    if is_owned(&offer, &owned) {
        return Err(TxError::Refused(AddToCartError::AlreadyOwned));
    }
    let held: Count =
        crate::prepared::sql_query("SELECT count(*) AS value FROM cart_items WHERE user_id = $1")
            .bind::<SqlUuid, _>(new.user_id.as_uuid())
            .get_result(connection)
            .await?;
    if held.value >= i64::from(new.limit) {
        return Err(TxError::Refused(AddToCartError::CartFull));
    }
    crate::prepared::sql_query(
        "INSERT INTO cart_items (id, user_id, course_id, curriculum_id, created_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind::<SqlUuid, _>(new.id.as_uuid())
    .bind::<SqlUuid, _>(new.user_id.as_uuid())
    .bind::<Nullable<SqlUuid>, _>(new.item.course().map(|id| id.as_uuid()))
    .bind::<Nullable<SqlUuid>, _>(new.item.curriculum().map(|id| id.as_uuid()))
    .bind::<Timestamptz, _>(new.now)
    .execute(connection)
    .await?;
    Ok(CartLine {
        id: new.id,
        item: new.item,
        title: offer.title,
        price: offer.price,
    })
}

/// Adds an item (see `CartRepository::add_to_cart`).
pub(super) async fn add(
    connection: &mut AsyncPgConnection,
    new: &NewCartItem,
) -> Result<CartLine, AddToCartError> {
    connection
        .transaction(async |connection| add_locked(connection, new).await)
        .await
        .map_err(|error| {
            error.into_refusal(|error| {
                if is_in_cart(&error) {
                    AddToCartError::AlreadyInCart
                } else {
                    AddToCartError::Dependency(write_outcome_error(error))
                }
            })
        })
}

/// The user's cart.
pub(super) async fn lines(
    connection: &mut AsyncPgConnection,
    user: UserId,
) -> Result<Vec<CartLine>, QueryError> {
    Ok(cart_offers(connection, user)
        .await?
        .into_iter()
        .map(|(line, _)| line)
        .collect())
}

/// Removes one of the user's lines, under the user's lock (as an add and an order from the
/// cart take it), so a removal never interleaves with the cap's count.
pub(super) async fn remove(
    connection: &mut AsyncPgConnection,
    user: UserId,
    id: CartItemId,
) -> Result<bool, QueryError> {
    connection
        .transaction(async |connection| {
            if !lock_user(connection, user).await? {
                return Ok(false);
            }
            let removed =
                crate::prepared::sql_query("DELETE FROM cart_items WHERE id = $1 AND user_id = $2")
                    .bind::<SqlUuid, _>(id.as_uuid())
                    .bind::<SqlUuid, _>(user.as_uuid())
                    .execute(connection)
                    .await?;
            Ok(removed > 0)
        })
        .await
}
