//! Posting a transfer: the shared helper of charges, payments and refunds.

use crate::schema::{ledger_accounts, ledger_entries, ledger_transfers};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as QueryError};
use reserva_domain::wallet::{LedgerAccount, Money};
use uuid::Uuid;

/// A transfer to post, with SQLite instants (microseconds since the epoch).
pub(crate) type Posting = reserva_sql_support::wallet::Posting<i64>;
pub(crate) use reserva_sql_support::wallet::PostRefusal;

/// The account's id, creating the account on first use.
pub(crate) fn account_id(
    connection: &mut SqliteConnection,
    account: LedgerAccount,
) -> Result<String, QueryError> {
    let owner = account.owner().to_string();
    let balance = account.keeps_balance().then_some(0_i64);
    diesel::insert_into(ledger_accounts::table)
        .values((
            ledger_accounts::id.eq(Uuid::now_v7().to_string()),
            ledger_accounts::kind.eq(account.kind()),
            ledger_accounts::owner.eq(&owner),
            ledger_accounts::balance.eq(balance),
        ))
        .on_conflict((ledger_accounts::kind, ledger_accounts::owner))
        .do_nothing()
        .execute(connection)?;
    ledger_accounts::table
        .filter(ledger_accounts::kind.eq(account.kind()))
        .filter(ledger_accounts::owner.eq(owner))
        .select(ledger_accounts::id)
        .first(connection)
}

/// Changes a kept balance by `delta` if it stays within `0..=limit`; `None` when it would not.
fn shift_balance(
    connection: &mut SqliteConnection,
    account: &str,
    delta: i64,
    limit: Option<Money>,
) -> Result<Option<i64>, QueryError> {
    let target = ledger_accounts::table
        .filter(ledger_accounts::id.eq(account))
        .filter((ledger_accounts::balance + delta).ge(0_i64))
        .filter((ledger_accounts::balance + delta).le(limit.map_or(i64::MAX, Money::get)));
    let balance: Option<Option<i64>> = diesel::update(target)
        .set(ledger_accounts::balance.eq(ledger_accounts::balance + delta))
        .returning(ledger_accounts::balance)
        .get_result(connection)
        .optional()?;
    Ok(balance.flatten())
}

/// Posts `posting` inside the caller's transaction; returns the balance of the user wallet it
/// touched right after it (zero when it touched none: a gateway payment moves money between two
/// system accounts, provider and revenue, which keep no balance and get entries with no
/// `balance_after`). A refusal leaves writes behind: the caller must roll back.
pub(crate) fn post(
    connection: &mut SqliteConnection,
    posting: &Posting,
) -> Result<Result<Money, PostRefusal>, QueryError> {
    let from = account_id(connection, posting.from)?;
    let to = account_id(connection, posting.to)?;
    let amount = posting.amount.get();
    let inserted = diesel::insert_into(ledger_transfers::table)
        .values((
            ledger_transfers::id.eq(posting.id.as_uuid().to_string()),
            ledger_transfers::kind.eq(posting.kind.as_str()),
            ledger_transfers::from_account.eq(&from),
            ledger_transfers::to_account.eq(&to),
            ledger_transfers::amount.eq(amount),
            ledger_transfers::user_id.eq(posting.user.as_uuid().to_string()),
            ledger_transfers::reference.eq(posting.reference.map(|id| id.to_string())),
            ledger_transfers::created_at.eq(posting.now),
        ))
        .execute(connection);
    match inserted {
        Err(QueryError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
            return Ok(Err(PostRefusal::Duplicate));
        }
        other => other?,
    };
    let mut wallet_after = None;
    let mut after = |account: LedgerAccount, id: &str, delta: i64, limit| {
        if !account.keeps_balance() {
            return Ok(Some(None));
        }
        let balance = shift_balance(connection, id, delta, limit)?;
        if let Some(balance) = balance {
            wallet_after = Some(balance);
        }
        Ok::<_, QueryError>(balance.map(Some))
    };
    let Some(from_after) = after(posting.from, &from, -amount, None)? else {
        return Ok(Err(PostRefusal::Insufficient));
    };
    let Some(to_after) = after(posting.to, &to, amount, posting.limit)? else {
        return Ok(Err(PostRefusal::LimitExceeded));
    };
    let entry = |account: &str, amount: i64, balance_after: Option<i64>| {
        (
            ledger_entries::transfer_id.eq(posting.id.as_uuid().to_string()),
            ledger_entries::account_id.eq(account.to_owned()),
            ledger_entries::amount.eq(amount),
            ledger_entries::balance_after.eq(balance_after),
            ledger_entries::created_at.eq(posting.now),
        )
    };
    diesel::insert_into(ledger_entries::table)
        .values(&vec![
            entry(&from, -amount, from_after),
            entry(&to, amount, to_after),
        ])
        .execute(connection)?;
    // A transfer touches at most one user wallet; the guards keep its balance non-negative.
    Ok(Ok(wallet_after
        .and_then(|balance| Money::new(balance).ok())
        .unwrap_or(Money::ZERO)))
}
