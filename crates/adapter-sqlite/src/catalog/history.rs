//! Reads of payments: the user's shown ones (one, or a filtered keyset page, each with its
//! registration) and the reconciler's queues.

use super::{PaymentRow, RegistrationRow, payment_row, registration_of, with_registration};
use crate::micros;
use crate::schema::{catalog_payments, catalog_registrations};
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Text};
use diesel::sqlite::Sqlite;
use reserva_application::DependencyError;
use reserva_application::ports::catalog::PaymentQuery;
use reserva_domain::accounts::UserId;
use reserva_domain::catalog::Registration;
use reserva_domain::wallet::{Payment, PaymentId};
use reserva_sql_support::like_pattern;
use std::collections::HashMap;

/// The statuses a user is shown.
const SHOWN: [&str; 2] = ["paid", "cancelled"];

/// [`SHOWN`] as SQL: a literal, as in the partial index's own condition (SQLite matches a
/// partial index's condition only against the query's literal terms).
const SHOWN_SQL: &str = "catalog_payments.status IN ('paid', 'cancelled')";

/// A page's rows as entities, each with its registration (read in one query).
type Rows = Vec<(PaymentRow, Option<RegistrationRow>)>;

pub(super) fn entities(
    rows: Rows,
) -> Result<Vec<(Payment, Option<Registration>)>, DependencyError> {
    rows.into_iter()
        .map(|(payment, registration)| with_registration(payment, registration))
        .collect()
}

/// `payments` with their registrations.
fn with_registrations(
    connection: &mut SqliteConnection,
    payments: Vec<PaymentRow>,
) -> QueryResult<Rows> {
    let ids: Vec<&str> = payments.iter().map(|p| p.id.as_str()).collect();
    let registrations: Vec<RegistrationRow> = catalog_registrations::table
        .filter(catalog_registrations::payment_id.eq_any(&ids))
        .select(RegistrationRow::as_select())
        .load(connection)?;
    let mut by_payment: HashMap<String, RegistrationRow> = registrations
        .into_iter()
        .map(|registration| (registration.payment_id.clone(), registration))
        .collect();
    Ok(payments
        .into_iter()
        .map(|payment| {
            let registration = by_payment.remove(&payment.id);
            (payment, registration)
        })
        .collect())
}

pub(super) fn shown(
    connection: &mut SqliteConnection,
    user: UserId,
    id: PaymentId,
) -> QueryResult<Option<(PaymentRow, Option<RegistrationRow>)>> {
    let Some(payment) = payment_row(connection, id)? else {
        return Ok(None);
    };
    if payment.user_id != user.as_uuid().to_string() || !SHOWN.contains(&payment.status.as_str()) {
        return Ok(None);
    }
    let registration = registration_of(connection, id)?;
    Ok(Some((payment, registration)))
}

pub(super) fn page(connection: &mut SqliteConnection, query: &PaymentQuery) -> QueryResult<Rows> {
    let mut rows = catalog_payments::table
        .filter(catalog_payments::user_id.eq(query.user_id.as_uuid().to_string()))
        .filter(sql::<Bool>(SHOWN_SQL))
        .select(PaymentRow::as_select())
        .into_boxed::<Sqlite>();
    if let Some(status) = query.status {
        rows = rows.filter(catalog_payments::status.eq(status.as_str()));
    }
    if let Some(kind) = query.kind {
        rows = rows.filter(catalog_payments::kind.eq(kind.as_str()));
    }
    if let Some(from) = query.paid_from {
        rows = rows.filter(catalog_payments::paid_at.ge(micros(from)));
    }
    if let Some(before) = query.paid_before {
        rows = rows.filter(catalog_payments::paid_at.lt(micros(before)));
    }
    if let Some(search) = &query.search {
        // SQLite's LIKE folds ASCII case; the pattern's own % and _ are escaped.
        rows = rows.filter(
            catalog_payments::item_title
                .like(like_pattern(search.as_str()))
                .escape('\\'),
        );
    }
    if let Some((paid_at, id)) = query.after {
        // A row value, so the keyset is a range seek in the index.
        rows = rows.filter(
            sql::<Bool>("(catalog_payments.paid_at, catalog_payments.id) < (")
                .bind::<BigInt, _>(micros(paid_at))
                .sql(", ")
                .bind::<Text, _>(id.as_uuid().to_string())
                .sql(")"),
        );
    }
    let payments = rows
        .order((
            catalog_payments::paid_at.desc(),
            catalog_payments::id.desc(),
        ))
        .limit(i64::from(query.limit.get()) + 1)
        .load(connection)?;
    with_registrations(connection, payments)
}

pub(super) fn pending(
    connection: &mut SqliteConnection,
    before: i64,
    limit: u32,
) -> QueryResult<Vec<PaymentRow>> {
    catalog_payments::table
        .filter(sql::<Bool>("catalog_payments.status = 'pending'"))
        .filter(catalog_payments::created_at.lt(before))
        .order((
            catalog_payments::created_at.asc(),
            catalog_payments::id.asc(),
        ))
        .limit(i64::from(limit))
        .select(PaymentRow::as_select())
        .load(connection)
}

pub(super) fn refunds_due(
    connection: &mut SqliteConnection,
    limit: u32,
) -> QueryResult<Vec<PaymentRow>> {
    catalog_payments::table
        .filter(sql::<Bool>("catalog_payments.refund = 'pending'"))
        .order((
            catalog_payments::cancelled_at.asc(),
            catalog_payments::id.asc(),
        ))
        .limit(i64::from(limit))
        .select(PaymentRow::as_select())
        .load(connection)
}
