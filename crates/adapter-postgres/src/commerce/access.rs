//! Course access on PostgreSQL: the reads of `AccessRepository`, and the two writes of the
//! checkout's transactions, [`grant_order_access`] and [`revoke_order_access`], which run on
//! the caller's open connection (inside its transaction) so that a payment and its access, or a
//! refund and its withdrawal, commit together.

use chrono::{DateTime, Utc};
use diesel::result::Error as QueryError;
use diesel::sql_types::{Bool, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use reserva_application::ports::commerce::access::CourseAccess;
use reserva_domain::accounts::UserId;
use reserva_domain::catalog::ItemId;
use reserva_domain::commerce::{OrderId, access_expires_at};
use reserva_sql_support::commerce::StoredGrant;
use uuid::Uuid;

#[derive(diesel::QueryableByName)]
struct GrantRow {
    #[diesel(sql_type = SqlUuid)]
    user_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    course_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    order_id: Uuid,
    #[diesel(sql_type = Timestamptz)]
    granted_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    expires_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    revoked_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Text)]
    title: String,
}

#[derive(diesel::QueryableByName)]
struct Exists {
    #[diesel(sql_type = Bool)]
    value: bool,
}

/// The user's live grants at `now`, with their courses' titles.
pub(super) async fn live(
    connection: &mut AsyncPgConnection,
    user: UserId,
    now: DateTime<Utc>,
) -> Result<Vec<CourseAccess>, QueryError> {
    let rows: Vec<GrantRow> = crate::prepared::sql_query(
        "SELECT a.user_id, a.course_id, a.order_id, a.granted_at, a.expires_at, a.revoked_at,
                i.title
         FROM course_access a JOIN catalog_items i ON i.id = a.course_id
         WHERE a.user_id = $1 AND a.revoked_at IS NULL AND a.granted_at <= $2
           AND $2 < a.expires_at",
    )
    .bind::<SqlUuid, _>(user.as_uuid())
    .bind::<Timestamptz, _>(now)
    .load(connection)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| CourseAccess {
            grant: StoredGrant {
                user_id: row.user_id,
                course_id: row.course_id,
                order_id: row.order_id,
                granted_at: row.granted_at,
                expires_at: row.expires_at,
                revoked_at: row.revoked_at,
            }
            .into_grant(),
            title: row.title,
        })
        .collect())
}

/// Whether the user may study the course at `now` (the condition of `has_access`).
pub(super) async fn has(
    connection: &mut AsyncPgConnection,
    user: UserId,
    course: ItemId,
    now: DateTime<Utc>,
) -> Result<bool, QueryError> {
    let found: Exists = crate::prepared::sql_query(
        "SELECT EXISTS (SELECT 1 FROM course_access
                        WHERE user_id = $1 AND course_id = $2 AND revoked_at IS NULL
                          AND granted_at <= $3 AND $3 < expires_at) AS value",
    )
    .bind::<SqlUuid, _>(user.as_uuid())
    .bind::<SqlUuid, _>(course.as_uuid())
    .bind::<Timestamptz, _>(now)
    .get_result(connection)
    .await?;
    Ok(found.value)
}

/// For the checkout's payment transaction: grants the order's buyer access to every course of
/// the order — its course items, and each course its curriculum items held when the order was
/// placed (`order_item_courses`) — from `paid_at` for `ACCESS_DAYS`. A course that appears
/// twice is granted once; granting an order again changes nothing. Returns how many grants were made. Runs on the caller's
/// connection: call it inside the transaction that marks the order paid.
///
/// # Errors
/// The database's error, for the caller's transaction to roll back on.
pub(crate) async fn grant_order_access(
    connection: &mut AsyncPgConnection,
    order: OrderId,
    paid_at: DateTime<Utc>,
) -> Result<usize, QueryError> {
    crate::prepared::sql_query(
        "INSERT INTO course_access (user_id, course_id, order_id, granted_at, expires_at)
         SELECT DISTINCT o.user_id, c.course_id, o.id, $2, $3
         FROM orders o
         JOIN (SELECT oi.course_id FROM order_items oi
               WHERE oi.order_id = $1 AND oi.course_id IS NOT NULL
               UNION
               SELECT oc.course_id FROM order_items oi
               JOIN order_item_courses oc ON oc.order_item_id = oi.id
               WHERE oi.order_id = $1) c ON true
         WHERE o.id = $1
         ON CONFLICT (user_id, course_id, order_id) DO NOTHING",
    )
    .bind::<SqlUuid, _>(order.as_uuid())
    .bind::<Timestamptz, _>(paid_at)
    .bind::<Timestamptz, _>(access_expires_at(paid_at))
    .execute(connection)
    .await
}

/// For the checkout's refund transaction: withdraws every grant the order made (`revoked_at =
/// now`; grants already revoked keep their instant). Returns how many were withdrawn. Runs on
/// the caller's connection, inside the transaction that marks the order refunded.
///
/// # Errors
/// The database's error, for the caller's transaction to roll back on.
pub(crate) async fn revoke_order_access(
    connection: &mut AsyncPgConnection,
    order: OrderId,
    now: DateTime<Utc>,
) -> Result<usize, QueryError> {
    crate::prepared::sql_query(
        "UPDATE course_access SET revoked_at = $2 WHERE order_id = $1 AND revoked_at IS NULL",
    )
    .bind::<SqlUuid, _>(order.as_uuid())
    .bind::<Timestamptz, _>(now)
    .execute(connection)
    .await
}
