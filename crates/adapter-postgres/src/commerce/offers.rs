//! Reading what a cart add or an order is decided on: each item's current title, price and (a
//! curriculum) courses, the user's cart, and the courses the user may study now — the condition
//! of `domain::commerce::has_access`.

use super::corrupt;
use chrono::{DateTime, Utc};
use diesel::OptionalExtension;
use diesel::result::Error as QueryError;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use reserva_domain::accounts::UserId;
use reserva_domain::catalog::ItemId;
use reserva_domain::commerce::{CartLine, ItemRef};
use reserva_sql_support::commerce::{Offer, StoredCartLine, money};
use std::collections::HashSet;
use uuid::Uuid;

#[derive(diesel::QueryableByName)]
struct OfferRow {
    #[diesel(sql_type = Text)]
    title: String,
    #[diesel(sql_type = BigInt)]
    price: i64,
}

#[derive(diesel::QueryableByName)]
struct CourseRow {
    #[diesel(sql_type = SqlUuid)]
    course_id: Uuid,
}

#[derive(diesel::QueryableByName)]
pub(super) struct CartLineRow {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    course_id: Option<Uuid>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    curriculum_id: Option<Uuid>,
    #[diesel(sql_type = Text)]
    title: String,
    #[diesel(sql_type = BigInt)]
    price: i64,
    #[diesel(sql_type = Nullable<Text>)]
    courses: Option<String>,
}

/// The user's cart lines whose item still exists, oldest first, with current titles and prices
/// and (a curriculum) its courses as comma-separated ids.
const CART_LINES: &str = "\
SELECT c.id, c.course_id, c.curriculum_id,
       coalesce(i.title, k.name) AS title, coalesce(i.price, k.price) AS price,
       (SELECT string_agg(cc.course_id::text, ',') FROM curriculum_courses cc
        WHERE cc.curriculum_id = c.curriculum_id) AS courses
FROM cart_items c
LEFT JOIN catalog_items i ON i.id = c.course_id AND i.kind = 'course' AND i.deleted_at IS NULL
LEFT JOIN curricula k ON k.id = c.curriculum_id AND k.deleted_at IS NULL
WHERE c.user_id = $1 AND (i.id IS NOT NULL OR k.id IS NOT NULL)
ORDER BY c.created_at, c.id";

/// The cart's lines, each with its offer (for an order from the cart).
pub(super) async fn cart_offers(
    connection: &mut AsyncPgConnection,
    user: UserId,
) -> Result<Vec<(CartLine, Offer)>, QueryError> {
    let rows: Vec<CartLineRow> = crate::prepared::sql_query(CART_LINES)
        .bind::<SqlUuid, _>(user.as_uuid())
        .load(connection)
        .await?;
    rows.into_iter()
        .map(|row| {
            let courses = row
                .courses
                .as_deref()
                .unwrap_or_default()
                .split(',')
                .filter(|id| !id.is_empty())
                .map(|id| Uuid::parse_str(id).map(ItemId::from_uuid))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|error| QueryError::DeserializationError(Box::new(error)))?;
            let line = StoredCartLine {
                id: row.id,
                course_id: row.course_id,
                curriculum_id: row.curriculum_id,
                title: row.title,
                price: row.price,
            }
            .into_line()
            .map_err(corrupt)?;
            let offer = Offer {
                item: line.item,
                title: line.title.clone(),
                price: line.price,
                courses,
            };
            Ok((line, offer))
        })
        .collect()
}

/// One item as it can be bought now: a course (kind `course`, not deleted) or a curriculum (not
/// deleted) with its courses. `None` when there is no such item.
pub(super) async fn offer(
    connection: &mut AsyncPgConnection,
    item: ItemRef,
) -> Result<Option<Offer>, QueryError> {
    let (sql, id) = match item {
        ItemRef::Course(id) => (
            "SELECT title, price FROM catalog_items
             WHERE id = $1 AND kind = 'course' AND deleted_at IS NULL",
            id.as_uuid(),
        ),
        ItemRef::Curriculum(id) => (
            "SELECT name AS title, price FROM curricula WHERE id = $1 AND deleted_at IS NULL",
            id.as_uuid(),
        ),
    };
    let Some(row): Option<OfferRow> = crate::prepared::sql_query(sql)
        .bind::<SqlUuid, _>(id)
        .get_result(connection)
        .await
        .optional()?
    else {
        return Ok(None);
    };
    let courses = match item {
        ItemRef::Course(_) => Vec::new(),
        ItemRef::Curriculum(_) => {
            let rows: Vec<CourseRow> = crate::prepared::sql_query(
                "SELECT course_id FROM curriculum_courses WHERE curriculum_id = $1
                 ORDER BY position",
            )
            .bind::<SqlUuid, _>(id)
            .load(connection)
            .await?;
            rows.into_iter()
                .map(|row| ItemId::from_uuid(row.course_id))
                .collect()
        }
    };
    Ok(Some(Offer {
        item,
        title: row.title,
        price: money(row.price).map_err(corrupt)?,
        courses,
    }))
}

/// The courses `user` owns at `now`: a grant not revoked and not expired (`now < expires_at`).
/// Unlike `has_access` it does not ask `granted_at ≤ now`: a grant made by a payment that
/// committed while this request was already under way starts a moment after the request's
/// `now` (or on another machine's clock), and it still means the course is bought.
pub(super) async fn owned_courses(
    connection: &mut AsyncPgConnection,
    user: UserId,
    now: DateTime<Utc>,
) -> Result<HashSet<ItemId>, QueryError> {
    let rows: Vec<CourseRow> = crate::prepared::sql_query(
        "SELECT DISTINCT course_id FROM course_access
         WHERE user_id = $1 AND revoked_at IS NULL AND $2 < expires_at",
    )
    .bind::<SqlUuid, _>(user.as_uuid())
    .bind::<Timestamptz, _>(now)
    .load(connection)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| ItemId::from_uuid(row.course_id))
        .collect())
}
