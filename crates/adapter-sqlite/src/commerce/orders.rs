//! Orders on SQLite: placing one is one `BEGIN IMMEDIATE` transaction (read the offers, check
//! them, cancel the pending order, insert the new one and its items, empty the cart);
//! `orders_one_pending` backs it up.

use super::offers::{cart_offers, offer, owned_courses};
use super::{corrupt, stored_instant, stored_uuid};
use crate::micros;
use diesel::prelude::*;
use diesel::result::Error as QueryError;
use diesel::sql_types::{BigInt, Integer, Nullable, Text};
use reserva_application::DependencyError;
use reserva_application::ports::commerce::orders::{
    NewOrder, OrderQuery, OrderSource, PlaceOrderError,
};
use reserva_domain::accounts::UserId;
use reserva_domain::commerce::{Order, OrderId, OrderItemId};
use reserva_sql_support::TxError;
use reserva_sql_support::commerce::{Offer, StoredOrder, StoredOrderItem, check_order, orders_of};

/// A placement's transaction error.
pub(super) type PlaceTx = TxError<PlaceOrderError>;

#[derive(QueryableByName)]
struct OrderRow {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Text)]
    user_id: String,
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = BigInt)]
    total: i64,
    #[diesel(sql_type = BigInt)]
    created_at: i64,
    #[diesel(sql_type = BigInt)]
    updated_at: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    paid_at: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    cancelled_at: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    refunded_at: Option<i64>,
}

#[derive(QueryableByName)]
struct ItemRow {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Text)]
    order_id: String,
    #[diesel(sql_type = Nullable<Text>)]
    course_id: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    curriculum_id: Option<String>,
    #[diesel(sql_type = Text)]
    title: String,
    #[diesel(sql_type = BigInt)]
    price: i64,
}

const ORDER_COLUMNS: &str =
    "id, user_id, status, total, created_at, updated_at, paid_at, cancelled_at, refunded_at";

fn optional_instant(
    micros: Option<i64>,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, QueryError> {
    micros.map(stored_instant).transpose()
}

fn stored_order(row: OrderRow) -> Result<StoredOrder, QueryError> {
    Ok(StoredOrder {
        id: stored_uuid(&row.id)?,
        user_id: stored_uuid(&row.user_id)?,
        status: row.status,
        total: row.total,
        created_at: stored_instant(row.created_at)?,
        updated_at: stored_instant(row.updated_at)?,
        paid_at: optional_instant(row.paid_at)?,
        cancelled_at: optional_instant(row.cancelled_at)?,
        refunded_at: optional_instant(row.refunded_at)?,
    })
}

/// Orders with their items (one query per order: SQLite pages are small and local).
fn with_items(
    connection: &mut SqliteConnection,
    rows: Vec<OrderRow>,
) -> Result<Vec<Order>, QueryError> {
    let mut orders = Vec::with_capacity(rows.len());
    let mut items = Vec::new();
    for row in rows {
        let lines: Vec<ItemRow> = diesel::sql_query(
            "SELECT id, order_id, course_id, curriculum_id, title, price FROM order_items
             WHERE order_id = ?1 ORDER BY position",
        )
        .bind::<Text, _>(&row.id)
        .load(connection)?;
        for line in lines {
            items.push(StoredOrderItem {
                id: stored_uuid(&line.id)?,
                order_id: stored_uuid(&line.order_id)?,
                course_id: line.course_id.as_deref().map(stored_uuid).transpose()?,
                curriculum_id: line.curriculum_id.as_deref().map(stored_uuid).transpose()?,
                title: line.title,
                price: line.price,
            });
        }
        orders.push(stored_order(row)?);
    }
    orders_of(orders, &items).map_err(corrupt)
}

/// The offers of an order: the cart's, or each direct item's.
fn offers_of(connection: &mut SqliteConnection, order: &NewOrder) -> Result<Vec<Offer>, PlaceTx> {
    match &order.source {
        OrderSource::Cart => {
            let offers: Vec<Offer> = cart_offers(connection, order.user_id)?
                .into_iter()
                .map(|(_, offer)| offer)
                .collect();
            if offers.is_empty() {
                return Err(TxError::Refused(PlaceOrderError::CartEmpty));
            }
            Ok(offers)
        }
        OrderSource::Items(items) => items
            .iter()
            .map(|item| {
                offer(connection, *item)?
                    .ok_or(TxError::Refused(PlaceOrderError::ItemNotFound(*item)))
            })
            .collect(),
    }
}

/// Places an order (see `OrderRepository::place_order`), inside the write transaction.
pub(super) fn place(connection: &mut SqliteConnection, order: &NewOrder) -> Result<Order, PlaceTx> {
    let offers = offers_of(connection, order)?;
    let owned = owned_courses(connection, order.user_id, order.now)?;
    let total = check_order(&offers, &owned).map_err(TxError::Refused)?;
    let user = order.user_id.as_uuid().to_string();
    let now = micros(order.now);
    diesel::sql_query(
        "UPDATE orders SET status = 'cancelled', cancelled_at = ?2, updated_at = ?2
         WHERE user_id = ?1 AND status = 'pending'",
    )
    .bind::<Text, _>(&user)
    .bind::<BigInt, _>(now)
    .execute(connection)?;
    let row: OrderRow = diesel::sql_query(format!(
        "INSERT INTO orders (id, user_id, status, total, created_at, updated_at)
         VALUES (?1, ?2, 'pending', ?3, ?4, ?4) RETURNING {ORDER_COLUMNS}"
    ))
    .bind::<Text, _>(order.id.as_uuid().to_string())
    .bind::<Text, _>(&user)
    .bind::<BigInt, _>(total.get())
    .bind::<BigInt, _>(now)
    .get_result(connection)?;
    for (position, offer) in (0_i32..).zip(&offers) {
        let item_id = OrderItemId::from_uuid(uuid::Uuid::now_v7())
            .as_uuid()
            .to_string();
        diesel::sql_query(
            "INSERT INTO order_items (id, order_id, position, course_id, curriculum_id, title,
                                      price)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .bind::<Text, _>(&item_id)
        .bind::<Text, _>(order.id.as_uuid().to_string())
        .bind::<Integer, _>(position)
        .bind::<Nullable<Text>, _>(offer.item.course().map(|id| id.as_uuid().to_string()))
        .bind::<Nullable<Text>, _>(offer.item.curriculum().map(|id| id.as_uuid().to_string()))
        .bind::<Text, _>(&offer.title)
        .bind::<BigInt, _>(offer.price.get())
        .execute(connection)?;
        // what a curriculum line buys: its courses now, not when it is paid
        for course in &offer.courses {
            diesel::sql_query(
                "INSERT OR IGNORE INTO order_item_courses (order_item_id, course_id)
                 VALUES (?1, ?2)",
            )
            .bind::<Text, _>(&item_id)
            .bind::<Text, _>(course.as_uuid().to_string())
            .execute(connection)?;
        }
    }
    if order.source == OrderSource::Cart {
        diesel::sql_query("DELETE FROM cart_items WHERE user_id = ?1")
            .bind::<Text, _>(&user)
            .execute(connection)?;
    }
    with_items(connection, vec![row])?.pop().ok_or_else(|| {
        TxError::Refused(PlaceOrderError::Dependency(DependencyError::Failed(
            "commerce: the new order vanished".into(),
        )))
    })
}

/// One of the user's orders.
pub(super) fn one(
    connection: &mut SqliteConnection,
    user: UserId,
    id: OrderId,
) -> Result<Option<Order>, QueryError> {
    let rows: Vec<OrderRow> = diesel::sql_query(format!(
        "SELECT {ORDER_COLUMNS} FROM orders WHERE id = ?1 AND user_id = ?2"
    ))
    .bind::<Text, _>(id.as_uuid().to_string())
    .bind::<Text, _>(user.as_uuid().to_string())
    .load(connection)?;
    Ok(with_items(connection, rows)?.pop())
}

/// The user's pending order.
pub(super) fn pending(
    connection: &mut SqliteConnection,
    user: UserId,
) -> Result<Option<Order>, QueryError> {
    let rows: Vec<OrderRow> = diesel::sql_query(format!(
        "SELECT {ORDER_COLUMNS} FROM orders WHERE user_id = ?1 AND status = 'pending'"
    ))
    .bind::<Text, _>(user.as_uuid().to_string())
    .load(connection)?;
    Ok(with_items(connection, rows)?.pop())
}

/// A page of the user's orders, newest first (the index `orders_user_idx`).
pub(super) fn page(
    connection: &mut SqliteConnection,
    query: &OrderQuery,
) -> Result<Vec<Order>, QueryError> {
    let rows: Vec<OrderRow> = diesel::sql_query(format!(
        "SELECT {ORDER_COLUMNS} FROM orders
         WHERE user_id = ?1 AND (?2 IS NULL OR status = ?2)
           AND (?3 IS NULL OR (created_at, id) < (?3, ?4))
         ORDER BY created_at DESC, id DESC LIMIT ?5"
    ))
    .bind::<Text, _>(query.user_id.as_uuid().to_string())
    .bind::<Nullable<Text>, _>(query.status.map(|status| status.as_str()))
    .bind::<Nullable<BigInt>, _>(query.after.map(|(created_at, _)| micros(created_at)))
    .bind::<Nullable<Text>, _>(query.after.map(|(_, id)| id.as_uuid().to_string()))
    .bind::<BigInt, _>(i64::from(query.limit.get()) + 1)
    .load(connection)?;
    with_items(connection, rows)
}
