//! Posting one transfer inside the caller's transaction: used by charges here, by payments and
//! refunds in the tickets and catalog modules, so money moves the same way everywhere. A transfer
//! has a user wallet on one side, or (a gateway payment: provider → revenue and back) two system
//! accounts that keep no balance.

use crate::prepared::column;
use chrono::{DateTime, Utc};
use diesel::result::Error as QueryError;
use diesel::sql_types::{Array, BigInt, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use reserva_domain::wallet::Money;
use reserva_sql_support::wallet::account_id;
use uuid::Uuid;

/// A transfer to post, with PostgreSQL instants.
pub(crate) type Posting = reserva_sql_support::wallet::Posting<DateTime<Utc>>;
pub(crate) use reserva_sql_support::wallet::PostRefusal;

#[derive(diesel::QueryableByName)]
struct Posted {
    #[diesel(sql_type = SqlUuid)]
    _id: Uuid,
}

#[derive(diesel::QueryableByName)]
struct Balance {
    #[diesel(sql_type = Nullable<BigInt>)]
    balance_after: Option<i64>,
}

/// The transfer row and the system side's account (made on first use), in one statement.
/// The account's id is derived from its kind and owner, so a clash on either unique index is
/// that same account: both must be arbiters, or two first payments into one concert's revenue,
/// racing, fail one of them on `ledger_accounts_one_per_owner`.
const INSERT_TRANSFER: &str = "\
WITH account AS (
    INSERT INTO ledger_accounts (id, kind, owner, balance) VALUES ($1, $2, $3, NULL)
    ON CONFLICT DO NOTHING
)
INSERT INTO ledger_transfers (id, kind, from_account, to_account, amount, user_id, reference,
                              created_at)
VALUES ($4, $5, $6, $7, $8, $9, $10, $11)
ON CONFLICT (id) DO NOTHING
RETURNING id AS _id";

/// Both entries after the wallet statement `wallet` (returning its new `balance`): nothing is
/// inserted when the wallet refused. $1 transfer, $2 from, $3 to, $4 amount, $5 now.
macro_rules! with_entries {
    ($wallet:literal, $from_balance:literal, $to_balance:literal) => {
        concat!(
            "WITH wallet AS (",
            $wallet,
            ")
INSERT INTO ledger_entries (transfer_id, account_id, amount, balance_after, created_at)
SELECT $1, side.account_id, side.amount, side.balance_after, $5
FROM wallet CROSS JOIN LATERAL (VALUES
    ($2::uuid, -$4::bigint, ",
            $from_balance,
            "),
    ($3::uuid, $4::bigint, ",
            $to_balance,
            ")
) AS side (account_id, amount, balance_after)
RETURNING balance_after"
        )
    };
}

/// Debits the wallet `$2` if it holds `$4`.
const DEBIT: &str = with_entries!(
    "UPDATE ledger_accounts SET balance = balance - $4 WHERE id = $2 AND balance >= $4 \
     RETURNING balance",
    "wallet.balance",
    "NULL::bigint"
);

/// Credits the wallet `$3` (owned by `$6`), made on first use, if it stays within `$7`.
const CREDIT: &str = with_entries!(
    "INSERT INTO ledger_accounts (id, kind, owner, balance) \
     SELECT $3, 'user_wallet', $6, $4 WHERE $4 <= $7 \
     ON CONFLICT (id) DO UPDATE SET balance = ledger_accounts.balance + EXCLUDED.balance \
     WHERE ledger_accounts.balance + EXCLUDED.balance <= $7 \
     RETURNING balance",
    "NULL::bigint",
    "wallet.balance"
);

/// A transfer between two system accounts (both made on first use), with its two entries, which
/// carry no balance: one statement, nothing at all when the id is taken.
/// $1 from, $2 from's kind, $3 from's owner, $4 to, $5 to's kind, $6 to's owner, $7 transfer,
/// $8 its kind, $9 amount, $10 user, $11 reference, $12 now.
const BETWEEN_SYSTEMS: &str = "\
WITH accounts AS (
    INSERT INTO ledger_accounts (id, kind, owner, balance)
    VALUES ($1, $2, $3, NULL), ($4, $5, $6, NULL)
    ON CONFLICT DO NOTHING
), transfer AS (
    INSERT INTO ledger_transfers (id, kind, from_account, to_account, amount, user_id, reference,
                                  created_at)
    VALUES ($7, $8, $1, $4, $9, $10, $11, $12)
    ON CONFLICT (id) DO NOTHING
    RETURNING id
)
INSERT INTO ledger_entries (transfer_id, account_id, amount, balance_after, created_at)
SELECT transfer.id, side.account_id, side.amount, NULL, $12
FROM transfer CROSS JOIN LATERAL (VALUES ($1::uuid, -$9::bigint), ($4::uuid, $9::bigint))
    AS side (account_id, amount)
RETURNING transfer_id AS _id";

async fn post_between_systems(
    connection: &mut AsyncPgConnection,
    posting: &Posting,
) -> Result<Result<Money, PostRefusal>, QueryError> {
    let entries: Vec<Posted> = crate::prepared::sql_query(BETWEEN_SYSTEMS)
        .bind::<SqlUuid, _>(account_id(posting.from))
        .bind::<Text, _>(posting.from.kind())
        .bind::<SqlUuid, _>(posting.from.owner())
        .bind::<SqlUuid, _>(account_id(posting.to))
        .bind::<Text, _>(posting.to.kind())
        .bind::<SqlUuid, _>(posting.to.owner())
        .bind::<SqlUuid, _>(posting.id.as_uuid())
        .bind::<Text, _>(posting.kind.as_str())
        .bind::<BigInt, _>(posting.amount.get())
        .bind::<Nullable<SqlUuid>, _>(Some(posting.user.as_uuid()))
        .bind::<Nullable<SqlUuid>, _>(posting.reference)
        .bind::<Timestamptz, _>(posting.now)
        .load(connection)
        .await?;
    Ok(if entries.is_empty() {
        Err(PostRefusal::Duplicate)
    } else {
        Ok(Money::ZERO)
    })
}

/// Every transfer of a batch between system accounts (made on first use), with their entries,
/// in three statements as one: what [`BETWEEN_SYSTEMS`] writes for one, for all of them.
/// $1–$3 the accounts' ids, kinds and owners (each once), $4 transfer ids, $5 kinds, $6 from,
/// $7 to, $8 amounts, $9 users, $10 references, $11 instants.
const ALL_BETWEEN_SYSTEMS: &str = "\
WITH accounts AS (
    INSERT INTO ledger_accounts (id, kind, owner, balance)
    SELECT a.id, a.kind, a.owner, NULL FROM unnest($1::uuid[], $2::text[], $3::uuid[])
        AS a (id, kind, owner)
    ORDER BY a.id
    ON CONFLICT DO NOTHING
), transfer AS (
    INSERT INTO ledger_transfers (id, kind, from_account, to_account, amount, user_id, reference,
                                  created_at)
    SELECT * FROM unnest($4::uuid[], $5::text[], $6::uuid[], $7::uuid[], $8::bigint[],
                         $9::uuid[], $10::uuid[], $11::timestamptz[])
    ON CONFLICT (id) DO NOTHING
    RETURNING id, from_account, to_account, amount, created_at
)
INSERT INTO ledger_entries (transfer_id, account_id, amount, balance_after, created_at)
SELECT transfer.id, side.account_id, side.amount, NULL, transfer.created_at
FROM transfer CROSS JOIN LATERAL (VALUES (transfer.from_account, -transfer.amount),
                                         (transfer.to_account, transfer.amount))
    AS side (account_id, amount)
RETURNING transfer_id AS _id";

/// Posts `postings`, all between two system accounts (see [`post_between_systems`]), in one
/// statement. Returns `PostRefusal::Duplicate` if any transfer id was already posted (then the
/// caller must roll back: the others are written).
///
/// # Errors
/// The database's.
pub(crate) async fn post_all_between_systems(
    connection: &mut AsyncPgConnection,
    postings: &[Posting],
) -> Result<Result<(), PostRefusal>, QueryError> {
    if postings.is_empty() {
        return Ok(Ok(()));
    }
    if postings
        .iter()
        .any(|p| p.from.keeps_balance() || p.to.keeps_balance())
    {
        return Err(QueryError::QueryBuilderError(
            "a batch of system postings holds a wallet transfer".into(),
        ));
    }
    let mut accounts: Vec<(Uuid, &'static str, Uuid)> = postings
        .iter()
        .flat_map(|p| [p.from, p.to])
        .map(|account| (account_id(account), account.kind(), account.owner()))
        .collect();
    accounts.sort_unstable();
    accounts.dedup();
    let entries: Vec<Posted> = crate::prepared::sql_query(ALL_BETWEEN_SYSTEMS)
        .bind::<Array<SqlUuid>, _>(column(&accounts, |a| a.0))
        .bind::<Array<Text>, _>(column(&accounts, |a| a.1))
        .bind::<Array<SqlUuid>, _>(column(&accounts, |a| a.2))
        .bind::<Array<SqlUuid>, _>(column(postings, |p| p.id.as_uuid()))
        .bind::<Array<Text>, _>(column(postings, |p| p.kind.as_str()))
        .bind::<Array<SqlUuid>, _>(column(postings, |p| account_id(p.from)))
        .bind::<Array<SqlUuid>, _>(column(postings, |p| account_id(p.to)))
        .bind::<Array<BigInt>, _>(column(postings, |p| p.amount.get()))
        .bind::<Array<SqlUuid>, _>(column(postings, |p| p.user.as_uuid()))
        .bind::<Array<Nullable<SqlUuid>>, _>(column(postings, |p| p.reference))
        .bind::<Array<Timestamptz>, _>(column(postings, |p| p.now))
        .load(connection)
        .await?;
    Ok(if entries.len() == 2 * postings.len() {
        Ok(())
    } else {
        Err(PostRefusal::Duplicate)
    })
}

/// Posts `posting`: the transfer, the wallet's balance and both entries. Returns the wallet's
/// balance after it ([`Money::ZERO`] between two system accounts, which keep none), or why
/// nothing could be posted (the caller must roll back: the transfer row may already be written).
///
/// # Errors
/// The database's.
pub(crate) async fn post(
    connection: &mut AsyncPgConnection,
    posting: &Posting,
) -> Result<Result<Money, PostRefusal>, QueryError> {
    if !posting.from.keeps_balance() && !posting.to.keeps_balance() {
        return post_between_systems(connection, posting).await;
    }
    let debit = posting.from.keeps_balance();
    let system = if debit { posting.to } else { posting.from };
    let (from, to) = (account_id(posting.from), account_id(posting.to));
    let inserted: Vec<Posted> = crate::prepared::sql_query(INSERT_TRANSFER)
        .bind::<SqlUuid, _>(account_id(system))
        .bind::<Text, _>(system.kind())
        .bind::<SqlUuid, _>(system.owner())
        .bind::<SqlUuid, _>(posting.id.as_uuid())
        .bind::<Text, _>(posting.kind.as_str())
        .bind::<SqlUuid, _>(from)
        .bind::<SqlUuid, _>(to)
        .bind::<BigInt, _>(posting.amount.get())
        .bind::<Nullable<SqlUuid>, _>(Some(posting.user.as_uuid()))
        .bind::<Nullable<SqlUuid>, _>(posting.reference)
        .bind::<Timestamptz, _>(posting.now)
        .load(connection)
        .await?;
    if inserted.is_empty() {
        return Ok(Err(PostRefusal::Duplicate));
    }
    let query = crate::prepared::sql_query(if debit { DEBIT } else { CREDIT })
        .bind::<SqlUuid, _>(posting.id.as_uuid())
        .bind::<SqlUuid, _>(from)
        .bind::<SqlUuid, _>(to)
        .bind::<BigInt, _>(posting.amount.get())
        .bind::<Timestamptz, _>(posting.now);
    let entries: Vec<Balance> = if debit {
        query.load(connection).await?
    } else {
        let limit = posting.limit.map_or(i64::MAX, Money::get);
        query
            .bind::<SqlUuid, _>(posting.to.owner())
            .bind::<BigInt, _>(limit)
            .load(connection)
            .await?
    };
    let balance = entries.iter().find_map(|entry| entry.balance_after);
    Ok(match balance.map(Money::new) {
        Some(Ok(balance)) => Ok(balance),
        _ if debit => Err(PostRefusal::Insufficient),
        _ => Err(PostRefusal::LimitExceeded),
    })
}
