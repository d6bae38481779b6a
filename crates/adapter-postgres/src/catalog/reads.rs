//! A user's shown payments with their registrations, and the reconciler's scans.

use super::rows::{PaymentRow, RegistrationRow, all};
use crate::query_error;
use chrono::{DateTime, Utc};
use diesel::sql_types::{Array, BigInt, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use reserva_application::DependencyError;
use reserva_application::ports::catalog::PaymentQuery;
use reserva_domain::accounts::UserId;
use reserva_domain::catalog::Registration;
use reserva_domain::wallet::{Payment, PaymentId};
use reserva_sql_support::like_pattern;
use std::collections::HashMap;
use uuid::Uuid;

/// Each payment with its registration (one query for all of them).
async fn with_registrations(
    connection: &mut AsyncPgConnection,
    rows: Vec<PaymentRow>,
) -> Result<Vec<(Payment, Option<Registration>)>, DependencyError> {
    let payments = all(rows, PaymentRow::into_payment)?;
    if payments.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = payments
        .iter()
        .map(|payment| payment.id.as_uuid())
        .collect();
    let rows: Vec<RegistrationRow> = crate::prepared::sql_query(
        "SELECT * FROM catalog_registrations WHERE payment_id = ANY($1)",
    )
    .bind::<Array<SqlUuid>, _>(ids)
    .load(connection)
    .await
    .map_err(query_error)?;
    let mut registrations: HashMap<PaymentId, Registration> =
        all(rows, RegistrationRow::into_registration)?
            .into_iter()
            .map(|registration| (registration.payment_id, registration))
            .collect();
    Ok(payments
        .into_iter()
        .map(|payment| {
            let registration = registrations.remove(&payment.id);
            (payment, registration)
        })
        .collect())
}

/// One of the user's shown payments.
pub(super) async fn payment(
    connection: &mut AsyncPgConnection,
    user: UserId,
    id: PaymentId,
) -> Result<Option<(Payment, Option<Registration>)>, DependencyError> {
    let rows: Vec<PaymentRow> = crate::prepared::sql_query(
        "SELECT * FROM catalog_payments
         WHERE id = $1 AND user_id = $2 AND status IN ('paid', 'cancelled')",
    )
    .bind::<SqlUuid, _>(id.as_uuid())
    .bind::<SqlUuid, _>(user.as_uuid())
    .load(connection)
    .await
    .map_err(query_error)?;
    Ok(with_registrations(connection, rows).await?.pop())
}

/// A page of the user's shown payments, newest `paid_at` first (the shown-payments index).
pub(super) async fn payments(
    connection: &mut AsyncPgConnection,
    query: &PaymentQuery,
) -> Result<Vec<(Payment, Option<Registration>)>, DependencyError> {
    let rows: Vec<PaymentRow> = crate::prepared::sql_query(
        "SELECT * FROM catalog_payments
         WHERE user_id = $1 AND status IN ('paid', 'cancelled')
           AND ($2::text IS NULL OR status = $2)
           AND ($3::text IS NULL OR kind = $3)
           AND ($4::timestamptz IS NULL OR paid_at >= $4)
           AND ($5::timestamptz IS NULL OR paid_at < $5)
           AND ($6::text IS NULL OR item_title ILIKE $6)
           AND ($7::timestamptz IS NULL OR (paid_at, id) < ($7, $8))
         ORDER BY paid_at DESC, id DESC
         LIMIT $9",
    )
    .bind::<SqlUuid, _>(query.user_id.as_uuid())
    .bind::<Nullable<Text>, _>(query.status.map(|status| status.as_str()))
    .bind::<Nullable<Text>, _>(query.kind.map(|kind| kind.as_str()))
    .bind::<Nullable<Timestamptz>, _>(query.paid_from)
    .bind::<Nullable<Timestamptz>, _>(query.paid_before)
    .bind::<Nullable<Text>, _>(
        query
            .search
            .as_ref()
            .map(|search| like_pattern(search.as_str())),
    )
    .bind::<Nullable<Timestamptz>, _>(query.after.map(|(paid_at, _)| paid_at))
    .bind::<Nullable<SqlUuid>, _>(query.after.map(|(_, id)| id.as_uuid()))
    .bind::<BigInt, _>(i64::from(query.limit.get()) + 1)
    .load(connection)
    .await
    .map_err(query_error)?;
    with_registrations(connection, rows).await
}

/// Pending payments recorded before `before`, oldest first.
pub(super) async fn pending_payments(
    connection: &mut AsyncPgConnection,
    before: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<Payment>, DependencyError> {
    let rows: Vec<PaymentRow> = crate::prepared::sql_query(
        "SELECT * FROM catalog_payments WHERE status = 'pending' AND created_at < $1
         ORDER BY created_at, id LIMIT $2",
    )
    .bind::<Timestamptz, _>(before)
    .bind::<BigInt, _>(i64::from(limit))
    .load(connection)
    .await
    .map_err(query_error)?;
    all(rows, PaymentRow::into_payment)
}

/// Cancelled payments whose refund is pending, oldest first.
pub(super) async fn pending_refunds(
    connection: &mut AsyncPgConnection,
    limit: u32,
) -> Result<Vec<Payment>, DependencyError> {
    let rows: Vec<PaymentRow> = crate::prepared::sql_query(
        "SELECT * FROM catalog_payments WHERE refund = 'pending'
         ORDER BY cancelled_at, id LIMIT $1",
    )
    .bind::<BigInt, _>(i64::from(limit))
    .load(connection)
    .await
    .map_err(query_error)?;
    all(rows, PaymentRow::into_payment)
}
