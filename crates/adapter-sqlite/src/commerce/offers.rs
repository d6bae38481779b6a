//! Reading what a cart add or an order is decided on: each item's current title, price and (a
//! curriculum) courses, the user's cart, and the courses the user may study now — the condition
//! of `domain::commerce::has_access`.

use super::{corrupt, stored_uuid};
use crate::micros;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::result::Error as QueryError;
use diesel::sql_types::{BigInt, Nullable, Text};
use reserva_domain::accounts::UserId;
use reserva_domain::catalog::ItemId;
use reserva_domain::commerce::{CartLine, ItemRef};
use reserva_sql_support::commerce::{Offer, StoredCartLine, money};
use std::collections::HashSet;

#[derive(QueryableByName)]
struct OfferRow {
    #[diesel(sql_type = Text)]
    title: String,
    #[diesel(sql_type = BigInt)]
    price: i64,
}

#[derive(QueryableByName)]
struct CourseRow {
    #[diesel(sql_type = Text)]
    course_id: String,
}

#[derive(QueryableByName)]
struct CartLineRow {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Nullable<Text>)]
    course_id: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    curriculum_id: Option<String>,
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
       (SELECT group_concat(cc.course_id, ',') FROM curriculum_courses cc
        WHERE cc.curriculum_id = c.curriculum_id) AS courses
FROM cart_items c
LEFT JOIN catalog_items i ON i.id = c.course_id AND i.kind = 'course' AND i.deleted_at IS NULL
LEFT JOIN curricula k ON k.id = c.curriculum_id AND k.deleted_at IS NULL
WHERE c.user_id = ?1 AND (i.id IS NOT NULL OR k.id IS NOT NULL)
ORDER BY c.created_at, c.id";

fn optional_uuid(text: Option<&str>) -> Result<Option<uuid::Uuid>, QueryError> {
    text.map(stored_uuid).transpose()
}

/// The cart's lines, each with its offer (for an order from the cart).
pub(super) fn cart_offers(
    connection: &mut SqliteConnection,
    user: UserId,
) -> Result<Vec<(CartLine, Offer)>, QueryError> {
    let rows: Vec<CartLineRow> = diesel::sql_query(CART_LINES)
        .bind::<Text, _>(user.as_uuid().to_string())
        .load(connection)?;
    rows.into_iter()
        .map(|row| {
            let courses = row
                .courses
                .as_deref()
                .unwrap_or_default()
                .split(',')
                .filter(|id| !id.is_empty())
                .map(|id| stored_uuid(id).map(ItemId::from_uuid))
                .collect::<Result<Vec<_>, _>>()?;
            let line = StoredCartLine {
                id: stored_uuid(&row.id)?,
                course_id: optional_uuid(row.course_id.as_deref())?,
                curriculum_id: optional_uuid(row.curriculum_id.as_deref())?,
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
pub(super) fn offer(
    connection: &mut SqliteConnection,
    item: ItemRef,
) -> Result<Option<Offer>, QueryError> {
    let (sql, id) = match item {
        ItemRef::Course(id) => (
            "SELECT title, price FROM catalog_items
             WHERE id = ?1 AND kind = 'course' AND deleted_at IS NULL",
            id.as_uuid(),
        ),
        ItemRef::Curriculum(id) => (
            "SELECT name AS title, price FROM curricula WHERE id = ?1 AND deleted_at IS NULL",
            id.as_uuid(),
        ),
    };
    let Some(row): Option<OfferRow> = diesel::sql_query(sql)
        .bind::<Text, _>(id.to_string())
        .get_result(connection)
        .optional()?
    else {
        return Ok(None);
    };
    let courses = match item {
        ItemRef::Course(_) => Vec::new(),
        ItemRef::Curriculum(_) => {
            let rows: Vec<CourseRow> = diesel::sql_query(
                "SELECT course_id FROM curriculum_courses WHERE curriculum_id = ?1
                 ORDER BY position",
            )
            .bind::<Text, _>(id.to_string())
            .load(connection)?;
            rows.iter()
                .map(|row| stored_uuid(&row.course_id).map(ItemId::from_uuid))
                .collect::<Result<Vec<_>, _>>()?
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
pub(super) fn owned_courses(
    connection: &mut SqliteConnection,
    user: UserId,
    now: DateTime<Utc>,
) -> Result<HashSet<ItemId>, QueryError> {
    let rows: Vec<CourseRow> = diesel::sql_query(
        "SELECT DISTINCT course_id FROM course_access
         WHERE user_id = ?1 AND revoked_at IS NULL AND ?2 < expires_at",
    )
    .bind::<Text, _>(user.as_uuid().to_string())
    .bind::<BigInt, _>(micros(now))
    .load(connection)?;
    rows.iter()
        .map(|row| stored_uuid(&row.course_id).map(ItemId::from_uuid))
        .collect()
}
