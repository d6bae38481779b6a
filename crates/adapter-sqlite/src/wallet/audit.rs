//! `verify_ledger`: the double-entry invariants, checked in SQL over the whole ledger.

use diesel::prelude::*;
use diesel::result::Error as QueryError;
use diesel::sql_types::{BigInt, Text};
use reserva_application::ports::wallet::LedgerAudit;

/// How many offenders of one kind are listed (the rest are counted in the first message).
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

fn number(connection: &mut SqliteConnection, sql: &str) -> Result<i64, QueryError> {
    diesel::sql_query(sql)
        .get_result::<Number>(connection)
        .map(|number| number.value)
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

/// Every kept balance is the sum of its entries and not negative; every transfer has exactly two
/// entries, −amount on its source and +amount on its destination; all entries sum to zero.
pub(super) fn verify(connection: &mut SqliteConnection) -> Result<LedgerAudit, QueryError> {
    let mut violations = Vec::new();
    offenders(
        connection,
        "SELECT id, 'balance ' || COALESCE(balance, 'none') || ', entries sum to ' || total AS detail \
         FROM (SELECT a.id, a.balance, \
                      COALESCE((SELECT SUM(e.amount) FROM ledger_entries e \
                                WHERE e.account_id = a.id), 0) AS total \
               FROM ledger_accounts a WHERE a.kind = 'user_wallet') \
         WHERE balance IS NULL OR balance <> total OR balance < 0",
        "wallet account",
        &mut violations,
    )?;
    offenders(
        connection,
        "SELECT t.id, 'its entries do not move ' || t.amount || ' from its source to its destination' \
                AS detail \
         FROM ledger_transfers t \
         WHERE (SELECT count(*) FROM ledger_entries e WHERE e.transfer_id = t.id) <> 2 \
            OR NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.transfer_id = t.id \
                           AND e.account_id = t.from_account AND e.amount = -t.amount) \
            OR NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.transfer_id = t.id \
                           AND e.account_id = t.to_account AND e.amount = t.amount)",
        "transfer",
        &mut violations,
    )?;
    let total = number(
        connection,
        "SELECT COALESCE(SUM(amount), 0) AS value FROM ledger_entries",
    )?;
    if total != 0 {
        violations.push(format!("all entries sum to {total}, not 0"));
    }
    let count = |value: i64| u64::try_from(value).unwrap_or_default();
    Ok(LedgerAudit {
        accounts_checked: count(number(
            connection,
            "SELECT count(*) AS value FROM ledger_accounts",
        )?),
        transfers_checked: count(number(
            connection,
            "SELECT count(*) AS value FROM ledger_transfers",
        )?),
        violations,
    })
}
