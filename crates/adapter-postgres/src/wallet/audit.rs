//! The ledger audit: every rule of the ledger as one query that lists what breaks it.

use crate::query_error;
use diesel::sql_types::{BigInt, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use reserva_application::DependencyError;
use reserva_application::ports::wallet::LedgerAudit;

#[derive(diesel::QueryableByName)]
struct Violation {
    #[diesel(sql_type = Text)]
    violation: String,
}

#[derive(diesel::QueryableByName)]
struct Counts {
    #[diesel(sql_type = BigInt)]
    accounts: i64,
    #[diesel(sql_type = BigInt)]
    transfers: i64,
}

/// Each rule, as rows describing its violations.
const VIOLATIONS: &str = "\
SELECT 'wallet ' || a.owner || ' holds ' || coalesce(a.balance::text, 'nothing')
       || ' but its entries sum to ' || coalesce(s.total, 0) AS violation
FROM ledger_accounts a
LEFT JOIN (SELECT account_id, sum(amount) AS total FROM ledger_entries GROUP BY account_id) s
       ON s.account_id = a.id
WHERE a.kind = 'user_wallet' AND a.balance IS DISTINCT FROM coalesce(s.total, 0)
UNION ALL
SELECT 'wallet ' || owner || ' is negative: ' || balance
FROM ledger_accounts WHERE kind = 'user_wallet' AND balance < 0
UNION ALL
SELECT 'transfer ' || t.id || ' has ' || count(e.sequence) || ' entries summing to '
       || coalesce(sum(e.amount), 0)
FROM ledger_transfers t LEFT JOIN ledger_entries e ON e.transfer_id = t.id
GROUP BY t.id, t.from_account, t.to_account, t.amount
HAVING count(e.sequence) <> 2
    OR coalesce(sum(e.amount), 0) <> 0
    OR count(*) FILTER (WHERE e.account_id = t.from_account AND e.amount = -t.amount) <> 1
    OR count(*) FILTER (WHERE e.account_id = t.to_account AND e.amount = t.amount) <> 1
UNION ALL
SELECT 'all entries sum to ' || sum(amount) FROM ledger_entries HAVING sum(amount) <> 0";

/// Runs the audit.
///
/// # Errors
/// [`DependencyError`] when the store fails.
pub(super) async fn verify(
    connection: &mut AsyncPgConnection,
) -> Result<LedgerAudit, DependencyError> {
    let counts: Counts = diesel::sql_query(
        "SELECT (SELECT count(*) FROM ledger_accounts) AS accounts,
                (SELECT count(*) FROM ledger_transfers) AS transfers",
    )
    .get_result(connection)
    .await
    .map_err(query_error)?;
    let violations: Vec<Violation> = diesel::sql_query(VIOLATIONS)
        .load(connection)
        .await
        .map_err(query_error)?;
    Ok(LedgerAudit {
        accounts_checked: u64::try_from(counts.accounts).unwrap_or(0),
        transfers_checked: u64::try_from(counts.transfers).unwrap_or(0),
        violations: violations.into_iter().map(|v| v.violation).collect(),
    })
}
