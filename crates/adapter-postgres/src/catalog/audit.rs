//! The catalog audit: every invariant of the catalog as one query that lists what breaks it.

use crate::query_error;
use diesel::sql_types::{BigInt, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use reserva_application::DependencyError;
use reserva_application::ports::catalog::CatalogAudit;

#[derive(diesel::QueryableByName)]
struct Violation {
    #[diesel(sql_type = Text)]
    violation: String,
}

#[derive(diesel::QueryableByName)]
struct Items {
    #[diesel(sql_type = BigInt)]
    items: i64,
}

/// Each invariant, as rows describing its violations (at most 1,000).
const VIOLATIONS: &str = "\
SELECT 'item ' || i.id || ' counts ' || i.registration_count || ' registrations but has '
       || coalesce(live.n, 0) || ' live' AS violation
FROM catalog_items i
LEFT JOIN (SELECT item_id, count(*) AS n FROM catalog_registrations
           WHERE status <> 'cancelled' GROUP BY item_id) live ON live.item_id = i.id
WHERE i.registration_count <> coalesce(live.n, 0)
UNION ALL
SELECT 'user ' || user_id || ' has ' || count(*) || ' live registrations for item ' || item_id
FROM catalog_registrations WHERE status <> 'cancelled'
GROUP BY user_id, item_id HAVING count(*) > 1
UNION ALL
SELECT 'paid payment ' || p.id || ' has no live registration'
FROM catalog_payments p
WHERE p.status = 'paid' AND NOT EXISTS (
    SELECT 1 FROM catalog_registrations r WHERE r.payment_id = p.id AND r.status <> 'cancelled')
UNION ALL
SELECT 'registration ' || r.id || ' is ' || r.status || ' but its payment is ' || p.status
FROM catalog_registrations r JOIN catalog_payments p ON p.id = r.payment_id
WHERE (r.status <> 'cancelled') <> (p.status = 'paid')
UNION ALL
SELECT 'index ' || name || ' of catalog_items is not built: a bulk load deferred it at '
       || deferred_at || ' and did not finish (`reserva seed catalog --tests 0 --courses 0 --users 0` builds it)'
FROM catalog_deferred_indexes
LIMIT 1000";

/// Runs the audit in one read-only snapshot, without the statement timeout (it reads every
/// row).
///
/// # Errors
/// [`DependencyError`] when the store fails.
pub(super) async fn verify(
    connection: &mut AsyncPgConnection,
) -> Result<CatalogAudit, DependencyError> {
    connection
        .build_transaction()
        .read_only()
        .repeatable_read()
        .run(async |connection| {
            connection
                .batch_execute("SET LOCAL statement_timeout = 0")
                .await?;
            let items: Items =
                crate::prepared::sql_query("SELECT count(*) AS items FROM catalog_items")
                    .get_result(connection)
                    .await?;
            let violations: Vec<Violation> = crate::prepared::sql_query(VIOLATIONS)
                .load(connection)
                .await?;
            Ok(CatalogAudit {
                items_checked: u64::try_from(items.items).unwrap_or(0),
                violations: violations.into_iter().map(|v| v.violation).collect(),
            })
        })
        .await
        .map_err(query_error)
}
