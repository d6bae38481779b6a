//! Receipts on SQLite: a user's paid and refunded payments, newest `paid_at` first on the
//! partial index `order_payments_receipts_idx` (keyset on `(paid_at, id)`), and one receipt
//! with its order's items as ordered, the billing address copied at checkout and the
//! customer's e-mail, read in one snapshot.

use super::{corrupt, stored_instant, stored_uuid};
use crate::micros;
use diesel::prelude::*;
use diesel::result::Error as QueryError;
use diesel::sql_types::{BigInt, Nullable, Text};
use reserva_application::ports::commerce::checkout::{ReceiptDetail, ReceiptQuery, ReceiptSummary};
use reserva_domain::accounts::UserId;
use reserva_domain::commerce::CheckoutId;
use reserva_sql_support::checkout::{StoredReceipt, StoredReceiptDetail};
use reserva_sql_support::commerce::StoredOrderItem;

#[derive(QueryableByName)]
struct ReceiptRow {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Text)]
    order_id: String,
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = BigInt)]
    amount: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    paid_at: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    refunded_at: Option<i64>,
}

impl ReceiptRow {
    fn into_stored(self) -> Result<StoredReceipt, QueryError> {
        Ok(StoredReceipt {
            id: stored_uuid(&self.id)?,
            order_id: stored_uuid(&self.order_id)?,
            status: self.status,
            amount: self.amount,
            paid_at: self.paid_at.map(stored_instant).transpose()?,
            refunded_at: self.refunded_at.map(stored_instant).transpose()?,
        })
    }
}

#[derive(QueryableByName)]
struct DetailRow {
    #[diesel(embed)]
    receipt: ReceiptRow,
    #[diesel(sql_type = Text)]
    method: String,
    #[diesel(sql_type = Text)]
    refund: String,
    #[diesel(sql_type = Nullable<Text>)]
    billing_country: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    billing_main_address: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    billing_detail_address: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    billing_postal_code: Option<String>,
    #[diesel(sql_type = Text)]
    email: String,
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

/// A page of the user's receipts, newest `paid_at` first.
pub(super) fn page(
    connection: &mut SqliteConnection,
    query: &ReceiptQuery,
) -> Result<Vec<ReceiptSummary>, QueryError> {
    let rows: Vec<ReceiptRow> = diesel::sql_query(
        "SELECT id, order_id, status, amount, paid_at, refunded_at FROM order_payments
         WHERE user_id = ?1 AND status IN ('paid', 'refunded')
           AND (?2 IS NULL OR (paid_at, id) < (?2, ?3))
         ORDER BY paid_at DESC, id DESC LIMIT ?4",
    )
    .bind::<Text, _>(query.user_id.as_uuid().to_string())
    .bind::<Nullable<BigInt>, _>(query.after.map(|(paid_at, _)| micros(paid_at)))
    .bind::<Nullable<Text>, _>(query.after.map(|(_, id)| id.as_uuid().to_string()))
    .bind::<BigInt, _>(i64::from(query.limit.get()) + 1)
    .load(connection)?;
    rows.into_iter()
        .map(|row| row.into_stored()?.into_summary().map_err(corrupt))
        .collect()
}

/// One of the user's receipts (run in a snapshot).
pub(super) fn detail(
    connection: &mut SqliteConnection,
    user: UserId,
    id: CheckoutId,
) -> Result<Option<ReceiptDetail>, QueryError> {
    let row: Option<DetailRow> = diesel::sql_query(
        "SELECT p.id, p.order_id, p.status, p.amount, p.paid_at, p.refunded_at, p.method,
                p.refund, p.billing_country, p.billing_main_address, p.billing_detail_address,
                p.billing_postal_code, u.email
         FROM order_payments p JOIN users u ON u.id = p.user_id
         WHERE p.id = ?1 AND p.user_id = ?2 AND p.status IN ('paid', 'refunded')",
    )
    .bind::<Text, _>(id.as_uuid().to_string())
    .bind::<Text, _>(user.as_uuid().to_string())
    .get_result(connection)
    .optional()?;
    let Some(row) = row else {
        return Ok(None);
    };
    let items: Vec<ItemRow> = diesel::sql_query(
        "SELECT id, order_id, course_id, curriculum_id, title, price FROM order_items
         WHERE order_id = ?1 ORDER BY position",
    )
    .bind::<Text, _>(&row.receipt.order_id)
    .load(connection)?;
    let items = items
        .into_iter()
        .map(|item| {
            Ok(StoredOrderItem {
                id: stored_uuid(&item.id)?,
                order_id: stored_uuid(&item.order_id)?,
                course_id: item.course_id.as_deref().map(stored_uuid).transpose()?,
                curriculum_id: item.curriculum_id.as_deref().map(stored_uuid).transpose()?,
                title: item.title,
                price: item.price,
            })
        })
        .collect::<Result<Vec<_>, QueryError>>()?;
    StoredReceiptDetail {
        receipt: row.receipt.into_stored()?,
        method: row.method,
        refund: row.refund,
        billing_country: row.billing_country,
        billing_main_address: row.billing_main_address,
        billing_detail_address: row.billing_detail_address,
        billing_postal_code: row.billing_postal_code,
        email: row.email,
        items,
    }
    .into_detail()
    .map(Some)
    .map_err(corrupt)
}
