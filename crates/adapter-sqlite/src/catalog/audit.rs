//! `verify_catalog`: the catalog's invariants, checked in SQL over every item and payment.

use diesel::prelude::*;
use diesel::result::Error as QueryError;
use diesel::sql_types::{BigInt, Text};
use reserva_application::ports::catalog::CatalogAudit;

/// How many offenders of one kind are listed.
const LISTED: i64 = 100;

#[derive(QueryableByName)]
struct Offender {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Text)]
    detail: String,
}

#[derive(QueryableByName)]
struct Number {
    #[diesel(sql_type = BigInt)]
    value: i64,
}

fn offenders(
    connection: &mut SqliteConnection,
    sql: &str,
    what: &str,
    violations: &mut Vec<String>,
) -> Result<(), QueryError> {
    let rows: Vec<Offender> =
        diesel::sql_query(format!("{sql} LIMIT {LISTED}")).load(connection)?;
    violations.extend(
        rows.into_iter()
            .map(|row| format!("{what} {}: {}", row.id, row.detail)),
    );
    Ok(())
}

/// Every count equals its item's live registrations; one live registration per user and item;
/// a paid payment has a live registration and a cancelled one a cancelled registration.
pub(super) fn verify(connection: &mut SqliteConnection) -> Result<CatalogAudit, QueryError> {
    let mut violations = Vec::new();
    offenders(
        connection,
        "SELECT id, 'registration_count ' || registration_count || ', live registrations ' \
                || live AS detail \
         FROM (SELECT i.id, i.registration_count, \
                      (SELECT count(*) FROM catalog_registrations r \
                       WHERE r.item_id = i.id AND r.status <> 'cancelled') AS live \
               FROM catalog_items i) \
         WHERE registration_count <> live",
        "item",
        &mut violations,
    )?;
    offenders(
        connection,
        "SELECT item_id AS id, 'user ' || user_id || ' holds ' || count(*) \
                || ' live registrations' AS detail \
         FROM catalog_registrations WHERE status <> 'cancelled' \
         GROUP BY user_id, item_id HAVING count(*) > 1",
        "item",
        &mut violations,
    )?;
    offenders(
        connection,
        "SELECT p.id, 'status ' || p.status || ', registration ' \
                || COALESCE(r.status, 'none') AS detail \
         FROM catalog_payments p \
         LEFT JOIN catalog_registrations r ON r.payment_id = p.id \
         WHERE (p.status = 'paid' AND (r.status IS NULL OR r.status = 'cancelled')) \
            OR (p.status = 'cancelled' AND (r.status IS NULL OR r.status <> 'cancelled')) \
            OR (p.status IN ('pending', 'failed') AND r.id IS NOT NULL)",
        "payment",
        &mut violations,
    )?;
    let items: Number =
        diesel::sql_query("SELECT count(*) AS value FROM catalog_items").get_result(connection)?;
    Ok(CatalogAudit {
        items_checked: u64::try_from(items.value).unwrap_or_default(),
        violations,
    })
}
