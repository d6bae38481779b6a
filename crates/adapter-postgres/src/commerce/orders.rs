//! Orders on PostgreSQL: placing one is one transaction under the user's lock (read the offers,
//! check them, cancel the pending order, insert the new one and its items, empty the cart);
//! `orders_one_pending` backs the lock up.

use super::offers::{cart_offers, offer, owned_courses};
use super::{corrupt, lock_user};
use crate::{query_error, write_outcome_error};
use chrono::{DateTime, Utc};
use diesel::result::{DatabaseErrorKind, Error as QueryError};
use diesel::sql_types::{Array, BigInt, Integer, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use reserva_application::DependencyError;
use reserva_application::ports::commerce::orders::{
    NewOrder, OrderQuery, OrderSource, PlaceOrderError,
};
use reserva_domain::accounts::UserId;
use reserva_domain::commerce::{Order, OrderId, OrderItemId};
use reserva_sql_support::TxError;
use reserva_sql_support::commerce::{Offer, StoredOrder, StoredOrderItem, check_order, orders_of};
use uuid::Uuid;

#[derive(diesel::QueryableByName)]
struct OrderRow {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    user_id: Uuid,
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = BigInt)]
    total: i64,
    #[diesel(sql_type = Timestamptz)]
    created_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    updated_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    paid_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    cancelled_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    refunded_at: Option<DateTime<Utc>>,
}

#[derive(diesel::QueryableByName)]
struct ItemRow {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    order_id: Uuid,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    course_id: Option<Uuid>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    curriculum_id: Option<Uuid>,
    #[diesel(sql_type = Text)]
    title: String,
    #[diesel(sql_type = BigInt)]
    price: i64,
}

const ORDER_COLUMNS: &str =
    "id, user_id, status, total, created_at, updated_at, paid_at, cancelled_at, refunded_at";

/// Orders with their items (one query for the items of all of them).
async fn with_items(
    connection: &mut AsyncPgConnection,
    rows: Vec<OrderRow>,
) -> Result<Vec<Order>, QueryError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
    let items: Vec<ItemRow> = crate::prepared::sql_query(
        "SELECT id, order_id, course_id, curriculum_id, title, price FROM order_items
         WHERE order_id = ANY($1) ORDER BY order_id, position",
    )
    .bind::<Array<SqlUuid>, _>(ids)
    .load(connection)
    .await?;
    let items: Vec<StoredOrderItem> = items
        .into_iter()
        .map(|row| StoredOrderItem {
            id: row.id,
            order_id: row.order_id,
            course_id: row.course_id,
            curriculum_id: row.curriculum_id,
            title: row.title,
            price: row.price,
        })
        .collect();
    let orders = rows
        .into_iter()
        .map(|row| StoredOrder {
            id: row.id,
            user_id: row.user_id,
            status: row.status,
            total: row.total,
            created_at: row.created_at,
            updated_at: row.updated_at,
            paid_at: row.paid_at,
            cancelled_at: row.cancelled_at,
            refunded_at: row.refunded_at,
        })
        .collect();
    orders_of(orders, &items).map_err(corrupt)
}

/// The offers of an order: the cart's, or each direct item's.
async fn offers_of(
    connection: &mut AsyncPgConnection,
    order: &NewOrder,
) -> Result<Vec<Offer>, TxError<PlaceOrderError>> {
    match &order.source {
        OrderSource::Cart => {
            let offers: Vec<Offer> = cart_offers(connection, order.user_id)
                .await?
                .into_iter()
                .map(|(_, offer)| offer)
                .collect();
            if offers.is_empty() {
                return Err(TxError::Refused(PlaceOrderError::CartEmpty));
            }
            Ok(offers)
        }
        OrderSource::Items(items) => {
            let mut offers = Vec::with_capacity(items.len());
            for item in items {
                let found = offer(connection, *item)
                    .await?
                    .ok_or(TxError::Refused(PlaceOrderError::ItemNotFound(*item)))?;
                offers.push(found);
            }
            Ok(offers)
        }
    }
}

async fn place_locked(
    connection: &mut AsyncPgConnection,
    order: &NewOrder,
) -> Result<Order, TxError<PlaceOrderError>> {
    if !lock_user(connection, order.user_id).await? {
        return Err(TxError::Refused(PlaceOrderError::Dependency(
            DependencyError::Failed("commerce: the order's user does not exist".into()),
        )));
    }
    // The pending order's row before the access grants: a payment callback of that order holds
    // it until it commits, and only once it has does a new statement see the grants it made (read
    // before the wait, a course being paid for this instant would pass as not owned).
    crate::prepared::sql_query(
        "SELECT id FROM orders WHERE user_id = $1 AND status = 'pending' FOR NO KEY UPDATE",
    )
    .bind::<SqlUuid, _>(order.user_id.as_uuid())
    .execute(connection)
    .await?;
    let offers = offers_of(connection, order).await?;
    let owned = owned_courses(connection, order.user_id, order.now).await?;
    let total = check_order(&offers, &owned).map_err(TxError::Refused)?;
    crate::prepared::sql_query(
        "UPDATE orders SET status = 'cancelled', cancelled_at = $2, updated_at = $2
         WHERE user_id = $1 AND status = 'pending'",
    )
    .bind::<SqlUuid, _>(order.user_id.as_uuid())
    .bind::<Timestamptz, _>(order.now)
    .execute(connection)
    .await?;
    let row: OrderRow = crate::prepared::sql_query(format!(
        "INSERT INTO orders (id, user_id, status, total, created_at, updated_at)
         VALUES ($1, $2, 'pending', $3, $4, $4) RETURNING {ORDER_COLUMNS}"
    ))
    .bind::<SqlUuid, _>(order.id.as_uuid())
    .bind::<SqlUuid, _>(order.user_id.as_uuid())
    .bind::<BigInt, _>(total.get())
    .bind::<Timestamptz, _>(order.now)
    .get_result(connection)
    .await?;
    for (position, offer) in (0_i32..).zip(&offers) {
        let item_id = OrderItemId::from_uuid(Uuid::now_v7());
        crate::prepared::sql_query(
            "INSERT INTO order_items (id, order_id, position, course_id, curriculum_id, title,
                                      price)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind::<SqlUuid, _>(item_id.as_uuid())
        .bind::<SqlUuid, _>(order.id.as_uuid())
        .bind::<Integer, _>(position)
        .bind::<Nullable<SqlUuid>, _>(offer.item.course().map(|id| id.as_uuid()))
        .bind::<Nullable<SqlUuid>, _>(offer.item.curriculum().map(|id| id.as_uuid()))
        .bind::<Text, _>(&offer.title)
        .bind::<BigInt, _>(offer.price.get())
        .execute(connection)
        .await?;
        if !offer.courses.is_empty() {
            // what the curriculum line buys: its courses now, not when it is paid
            let courses: Vec<Uuid> = offer.courses.iter().map(|id| id.as_uuid()).collect();
            crate::prepared::sql_query(
                "INSERT INTO order_item_courses (order_item_id, course_id)
                 SELECT $1, unnest($2::uuid[]) ON CONFLICT DO NOTHING",
            )
            .bind::<SqlUuid, _>(item_id.as_uuid())
            .bind::<Array<SqlUuid>, _>(&courses)
            .execute(connection)
            .await?;
        }
    }
    if order.source == OrderSource::Cart {
        crate::prepared::sql_query("DELETE FROM cart_items WHERE user_id = $1")
            .bind::<SqlUuid, _>(order.user_id.as_uuid())
            .execute(connection)
            .await?;
    }
    let mut placed = with_items(connection, vec![row]).await?;
    placed.pop().ok_or_else(|| {
        TxError::Refused(PlaceOrderError::Dependency(DependencyError::Failed(
            "commerce: the new order vanished".into(),
        )))
    })
}

/// Places an order (see `OrderRepository::place_order`).
pub(super) async fn place(
    connection: &mut AsyncPgConnection,
    order: &NewOrder,
) -> Result<Order, PlaceOrderError> {
    connection
        .transaction(async |connection| place_locked(connection, order).await)
        .await
        .map_err(|error| {
            error.into_refusal(|error| {
                let pending_taken = matches!(
                    &error,
                    QueryError::DatabaseError(DatabaseErrorKind::UniqueViolation, info)
                        if info.constraint_name() == Some("orders_one_pending")
                );
                if pending_taken {
                    // The user lock makes this unreachable; should it happen, a retry succeeds.
                    PlaceOrderError::Dependency(DependencyError::Unavailable(
                        "commerce: a concurrent order of the same user".into(),
                    ))
                } else {
                    PlaceOrderError::Dependency(write_outcome_error(error))
                }
            })
        })
}

/// One of the user's orders.
pub(super) async fn one(
    connection: &mut AsyncPgConnection,
    user: UserId,
    id: OrderId,
) -> Result<Option<Order>, DependencyError> {
    let rows: Vec<OrderRow> = crate::prepared::sql_query(format!(
        "SELECT {ORDER_COLUMNS} FROM orders WHERE id = $1 AND user_id = $2"
    ))
    .bind::<SqlUuid, _>(id.as_uuid())
    .bind::<SqlUuid, _>(user.as_uuid())
    .load(connection)
    .await
    .map_err(query_error)?;
    Ok(with_items(connection, rows)
        .await
        .map_err(query_error)?
        .pop())
}

/// The user's pending order.
pub(super) async fn pending(
    connection: &mut AsyncPgConnection,
    user: UserId,
) -> Result<Option<Order>, DependencyError> {
    let rows: Vec<OrderRow> = crate::prepared::sql_query(format!(
        "SELECT {ORDER_COLUMNS} FROM orders WHERE user_id = $1 AND status = 'pending'"
    ))
    .bind::<SqlUuid, _>(user.as_uuid())
    .load(connection)
    .await
    .map_err(query_error)?;
    Ok(with_items(connection, rows)
        .await
        .map_err(query_error)?
        .pop())
}

/// A page of the user's orders, newest first (the index `orders_user_idx`).
pub(super) async fn page(
    connection: &mut AsyncPgConnection,
    query: &OrderQuery,
) -> Result<Vec<Order>, DependencyError> {
    let rows: Vec<OrderRow> = crate::prepared::sql_query(format!(
        "SELECT {ORDER_COLUMNS} FROM orders
         WHERE user_id = $1 AND ($2::text IS NULL OR status = $2)
           AND ($3::timestamptz IS NULL OR (created_at, id) < ($3, $4))
         ORDER BY created_at DESC, id DESC LIMIT $5"
    ))
    .bind::<SqlUuid, _>(query.user_id.as_uuid())
    .bind::<Nullable<Text>, _>(query.status.map(|status| status.as_str()))
    .bind::<Nullable<Timestamptz>, _>(query.after.map(|(created_at, _)| created_at))
    .bind::<Nullable<SqlUuid>, _>(query.after.map(|(_, id)| id.as_uuid()))
    .bind::<BigInt, _>(i64::from(query.limit.get()) + 1)
    .load(connection)
    .await
    .map_err(query_error)?;
    with_items(connection, rows).await.map_err(query_error)
}
