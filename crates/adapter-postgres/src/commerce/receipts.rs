//! Receipts on PostgreSQL: a user's paid and refunded payments, newest `paid_at` first on the
//! partial index `order_payments_receipts_idx` (keyset on `(paid_at, id)`), and one receipt
//! with its order's items as ordered, the billing address copied at checkout and the
//! customer's e-mail, read in one snapshot.

use crate::query_error;
use chrono::{DateTime, Utc};
use diesel::OptionalExtension;
use diesel::result::Error as QueryError;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use reserva_application::DependencyError;
use reserva_application::ports::commerce::checkout::{ReceiptDetail, ReceiptQuery, ReceiptSummary};
use reserva_domain::accounts::UserId;
use reserva_domain::commerce::CheckoutId;
use reserva_sql_support::checkout::{StoredReceipt, StoredReceiptDetail};
use reserva_sql_support::commerce::StoredOrderItem;
use uuid::Uuid;

#[derive(diesel::QueryableByName)]
struct ReceiptRow {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    order_id: Uuid,
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = BigInt)]
    amount: i64,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    paid_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    refunded_at: Option<DateTime<Utc>>,
}

impl ReceiptRow {
    fn into_summary(self) -> Result<ReceiptSummary, DependencyError> {
        StoredReceipt {
            id: self.id,
            order_id: self.order_id,
            status: self.status,
            amount: self.amount,
            paid_at: self.paid_at,
            refunded_at: self.refunded_at,
        }
        .into_summary()
    }
}

#[derive(diesel::QueryableByName)]
struct DetailRow {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    order_id: Uuid,
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = BigInt)]
    amount: i64,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    paid_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    refunded_at: Option<DateTime<Utc>>,
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

/// A page of the user's receipts, newest `paid_at` first.
pub(super) async fn page(
    connection: &mut AsyncPgConnection,
    query: &ReceiptQuery,
) -> Result<Vec<ReceiptSummary>, DependencyError> {
    let rows: Vec<ReceiptRow> = crate::prepared::sql_query(
        "SELECT id, order_id, status, amount, paid_at, refunded_at FROM order_payments
         WHERE user_id = $1 AND status IN ('paid', 'refunded')
           AND ($2::timestamptz IS NULL OR (paid_at, id) < ($2, $3))
         ORDER BY paid_at DESC, id DESC LIMIT $4",
    )
    .bind::<SqlUuid, _>(query.user_id.as_uuid())
    .bind::<Nullable<Timestamptz>, _>(query.after.map(|(paid_at, _)| paid_at))
    .bind::<Nullable<SqlUuid>, _>(query.after.map(|(_, id)| id.as_uuid()))
    .bind::<BigInt, _>(i64::from(query.limit.get()) + 1)
    .load(connection)
    .await
    .map_err(query_error)?;
    rows.into_iter().map(ReceiptRow::into_summary).collect()
}

async fn detail_in(
    connection: &mut AsyncPgConnection,
    user: UserId,
    id: CheckoutId,
) -> Result<Option<ReceiptDetail>, QueryError> {
    let row: Option<DetailRow> = crate::prepared::sql_query(
        "SELECT p.id, p.order_id, p.status, p.amount, p.paid_at, p.refunded_at, p.method,
                p.refund, p.billing_country, p.billing_main_address, p.billing_detail_address,
                p.billing_postal_code, u.email
         FROM order_payments p JOIN users u ON u.id = p.user_id
         WHERE p.id = $1 AND p.user_id = $2 AND p.status IN ('paid', 'refunded')",
    )
    .bind::<SqlUuid, _>(id.as_uuid())
    .bind::<SqlUuid, _>(user.as_uuid())
    .get_result(connection)
    .await
    .optional()?;
    let Some(row) = row else {
        return Ok(None);
    };
    let items: Vec<ItemRow> = crate::prepared::sql_query(
        "SELECT id, order_id, course_id, curriculum_id, title, price FROM order_items
         WHERE order_id = $1 ORDER BY position",
    )
    .bind::<SqlUuid, _>(row.order_id)
    .load(connection)
    .await?;
    let detail = StoredReceiptDetail {
        receipt: StoredReceipt {
            id: row.id,
            order_id: row.order_id,
            status: row.status,
            amount: row.amount,
            paid_at: row.paid_at,
            refunded_at: row.refunded_at,
        },
        method: row.method,
        refund: row.refund,
        billing_country: row.billing_country,
        billing_main_address: row.billing_main_address,
        billing_detail_address: row.billing_detail_address,
        billing_postal_code: row.billing_postal_code,
        email: row.email,
        items: items
            .into_iter()
            .map(|item| StoredOrderItem {
                id: item.id,
                order_id: item.order_id,
                course_id: item.course_id,
                curriculum_id: item.curriculum_id,
                title: item.title,
                price: item.price,
            })
            .collect(),
    }
    .into_detail()
    .map_err(super::corrupt)?;
    Ok(Some(detail))
}

/// One of the user's receipts, in one read-only snapshot.
pub(super) async fn detail(
    connection: &mut AsyncPgConnection,
    user: UserId,
    id: CheckoutId,
) -> Result<Option<ReceiptDetail>, DependencyError> {
    connection
        .build_transaction()
        .read_only()
        .repeatable_read()
        .run(async |connection| detail_in(connection, user, id).await)
        .await
        .map_err(query_error)
}
