//! Course access on SQLite: the reads of `AccessRepository`, and the two writes of the
//! checkout's transactions, [`grant_order_access`] and [`revoke_order_access`], which run on
//! the caller's connection inside its `BEGIN IMMEDIATE` transaction, so that a payment and its
//! access, or a refund and its withdrawal, commit together.

use super::{stored_instant, stored_uuid};
use crate::micros;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::result::Error as QueryError;
use diesel::sql_types::{BigInt, Bool, Nullable, Text};
use reserva_application::ports::commerce::access::CourseAccess;
use reserva_domain::accounts::UserId;
use reserva_domain::catalog::ItemId;
use reserva_domain::commerce::{OrderId, access_expires_at};
use reserva_sql_support::commerce::StoredGrant;

#[derive(QueryableByName)]
struct GrantRow {
    #[diesel(sql_type = Text)]
    user_id: String,
    #[diesel(sql_type = Text)]
    course_id: String,
    #[diesel(sql_type = Text)]
    order_id: String,
    #[diesel(sql_type = BigInt)]
    granted_at: i64,
    #[diesel(sql_type = BigInt)]
    expires_at: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    revoked_at: Option<i64>,
    #[diesel(sql_type = Text)]
    title: String,
}

#[derive(QueryableByName)]
struct Exists {
    #[diesel(sql_type = Bool)]
    value: bool,
}

/// The user's live grants at `now`, with their courses' titles.
pub(super) fn live(
    connection: &mut SqliteConnection,
    user: UserId,
    now: DateTime<Utc>,
) -> Result<Vec<CourseAccess>, QueryError> {
    let rows: Vec<GrantRow> = diesel::sql_query(
        "SELECT a.user_id, a.course_id, a.order_id, a.granted_at, a.expires_at, a.revoked_at,
                i.title
         FROM course_access a JOIN catalog_items i ON i.id = a.course_id
         WHERE a.user_id = ?1 AND a.revoked_at IS NULL AND a.granted_at <= ?2
           AND ?2 < a.expires_at",
    )
    .bind::<Text, _>(user.as_uuid().to_string())
    .bind::<BigInt, _>(micros(now))
    .load(connection)?;
    rows.into_iter()
        .map(|row| {
            Ok(CourseAccess {
                grant: StoredGrant {
                    user_id: stored_uuid(&row.user_id)?,
                    course_id: stored_uuid(&row.course_id)?,
                    order_id: stored_uuid(&row.order_id)?,
                    granted_at: stored_instant(row.granted_at)?,
                    expires_at: stored_instant(row.expires_at)?,
                    revoked_at: row.revoked_at.map(stored_instant).transpose()?,
                }
                .into_grant(),
                title: row.title,
            })
        })
        .collect()
}

/// Whether the user may study the course at `now` (the condition of `has_access`).
pub(super) fn has(
    connection: &mut SqliteConnection,
    user: UserId,
    course: ItemId,
    now: DateTime<Utc>,
) -> Result<bool, QueryError> {
    let found: Exists = diesel::sql_query(
        "SELECT EXISTS (SELECT 1 FROM course_access
                        WHERE user_id = ?1 AND course_id = ?2 AND revoked_at IS NULL
                          AND granted_at <= ?3 AND ?3 < expires_at) AS value",
    )
    .bind::<Text, _>(user.as_uuid().to_string())
    .bind::<Text, _>(course.as_uuid().to_string())
    .bind::<BigInt, _>(micros(now))
    .get_result(connection)?;
    Ok(found.value)
}

/// For the checkout's payment transaction: grants the order's buyer access to every course of
/// the order — its course items, and each course its curriculum items held when the order was
/// placed (`order_item_courses`) — from `paid_at` for `ACCESS_DAYS`. A course that appears
/// twice is granted once; granting an order again changes nothing. Returns how many grants were
/// made. Call it inside the transaction that marks the order paid.
///
/// # Errors
/// The database's error, for the caller's transaction to roll back on.
pub(crate) fn grant_order_access(
    connection: &mut SqliteConnection,
    order: OrderId,
    paid_at: DateTime<Utc>,
) -> Result<usize, QueryError> {
    diesel::sql_query(
        "INSERT INTO course_access (user_id, course_id, order_id, granted_at, expires_at)
         SELECT DISTINCT o.user_id, c.course_id, o.id, ?2, ?3
         FROM orders o
         JOIN (SELECT oi.course_id FROM order_items oi
               WHERE oi.order_id = ?1 AND oi.course_id IS NOT NULL
               UNION
               SELECT oc.course_id FROM order_items oi
               JOIN order_item_courses oc ON oc.order_item_id = oi.id
               WHERE oi.order_id = ?1) c
         WHERE o.id = ?1
         ON CONFLICT (user_id, course_id, order_id) DO NOTHING",
    )
    .bind::<Text, _>(order.as_uuid().to_string())
    .bind::<BigInt, _>(micros(paid_at))
    .bind::<BigInt, _>(micros(access_expires_at(paid_at)))
    .execute(connection)
}

/// For the checkout's refund transaction: withdraws every grant the order made (`revoked_at =
/// now`; grants already revoked keep their instant). Returns how many were withdrawn. Call it
/// inside the transaction that marks the order refunded.
///
/// # Errors
/// The database's error, for the caller's transaction to roll back on.
pub(crate) fn revoke_order_access(
    connection: &mut SqliteConnection,
    order: OrderId,
    now: DateTime<Utc>,
) -> Result<usize, QueryError> {
    diesel::sql_query(
        "UPDATE course_access SET revoked_at = ?2 WHERE order_id = ?1 AND revoked_at IS NULL",
    )
    .bind::<Text, _>(order.as_uuid().to_string())
    .bind::<BigInt, _>(micros(now))
    .execute(connection)
}
