//! The wallet port on the store: balances, charges (with their replays) and the entry list.

use super::ledger::{PostRefusal, Posting, account_id, post};
use crate::schema::{ledger_accounts, ledger_entries, ledger_transfers};
use crate::{SqliteStore, instant, micros, query_error, uuid};
use async_trait::async_trait;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use reserva_application::DependencyError;
use reserva_application::ports::wallet::{
    ChargeError, LedgerAudit, NewCharge, PostedCharge, WalletRepository,
};
use reserva_domain::accounts::UserId;
use reserva_domain::paging::PageLimit;
use reserva_domain::wallet::{
    LedgerAccount, LedgerEntry, Money, Transfer, TransferId, TransferKind,
};
use reserva_sql_support::wallet::{StoredEntry, StoredTransfer, check_replay};

/// A transaction of the wallet that failed.
type TxError = reserva_sql_support::TxError<ChargeError>;

fn corrupt(what: &str) -> DependencyError {
    DependencyError::Failed(format!("stored {what} is corrupt"))
}

fn money(amount: i64) -> Result<Money, DependencyError> {
    Money::new(amount).map_err(|_| corrupt("amount"))
}

/// A `ledger_transfers` row with its accounts' `(kind, owner)`.
#[derive(QueryableByName)]
struct TransferRow {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    from_kind: String,
    #[diesel(sql_type = Text)]
    from_owner: String,
    #[diesel(sql_type = Text)]
    to_kind: String,
    #[diesel(sql_type = Text)]
    to_owner: String,
    #[diesel(sql_type = BigInt)]
    amount: i64,
    #[diesel(sql_type = BigInt)]
    created_at: i64,
}

impl TransferRow {
    fn into_transfer(self) -> Result<Transfer, DependencyError> {
        StoredTransfer {
            id: uuid(&self.id)?,
            kind: self.kind,
            from_kind: self.from_kind,
            from_owner: uuid(&self.from_owner)?,
            to_kind: self.to_kind,
            to_owner: uuid(&self.to_owner)?,
            amount: self.amount,
            created_at: instant(self.created_at)?,
        }
        .into_transfer()
    }
}

fn stored_transfer(
    connection: &mut SqliteConnection,
    id: TransferId,
) -> Result<Option<Transfer>, TxError> {
    let row: Option<TransferRow> = diesel::sql_query(
        "SELECT t.id, t.kind, f.kind AS from_kind, f.owner AS from_owner, \
                d.kind AS to_kind, d.owner AS to_owner, t.amount, t.created_at \
         FROM ledger_transfers t \
         JOIN ledger_accounts f ON f.id = t.from_account \
         JOIN ledger_accounts d ON d.id = t.to_account \
         WHERE t.id = ?",
    )
    .bind::<Text, _>(id.as_uuid().to_string())
    .get_result(connection)
    .optional()?;
    Ok(row.map(TransferRow::into_transfer).transpose()?)
}

/// The transfer posted before with the charge's id, returned if it is this very charge.
fn replay(
    connection: &mut SqliteConnection,
    charge: &NewCharge,
    stored: Transfer,
) -> Result<PostedCharge, TxError> {
    check_replay(&stored, charge).map_err(TxError::Refused)?;
    let wallet = account_id(connection, LedgerAccount::UserWallet(charge.user_id))?;
    let balance_after: Option<i64> = ledger_entries::table
        .filter(ledger_entries::transfer_id.eq(charge.transfer_id.as_uuid().to_string()))
        .filter(ledger_entries::account_id.eq(wallet))
        .select(ledger_entries::balance_after)
        .first(connection)?;
    Ok(PostedCharge {
        transfer: stored,
        balance_after: money(balance_after.ok_or_else(|| corrupt("wallet entry"))?)?,
        replayed: true,
    })
}

fn charge_transfer(charge: &NewCharge, created_at: chrono::DateTime<chrono::Utc>) -> Transfer {
    Transfer {
        id: charge.transfer_id,
        from: LedgerAccount::Funding,
        to: LedgerAccount::UserWallet(charge.user_id),
        amount: charge.amount.money(),
        kind: TransferKind::Charge,
        created_at,
    }
}

fn post_charge(
    connection: &mut SqliteConnection,
    charge: &NewCharge,
) -> Result<PostedCharge, TxError> {
    let stored = stored_transfer(connection, charge.transfer_id)?;
    if let Some(stored) = stored {
        return replay(connection, charge, stored);
    }
    let transfer = charge_transfer(charge, instant(micros(charge.now))?);
    let posting = Posting {
        id: charge.transfer_id,
        kind: TransferKind::Charge,
        from: transfer.from,
        to: transfer.to,
        amount: transfer.amount,
        user: charge.user_id,
        reference: None,
        limit: Some(charge.max_balance),
        now: micros(charge.now),
    };
    match post(connection, &posting)? {
        Ok(balance_after) => Ok(PostedCharge {
            transfer,
            balance_after,
            replayed: false,
        }),
        Err(PostRefusal::LimitExceeded) => {
            Err(TxError::Refused(ChargeError::BalanceLimitExceeded {
                limit: charge.max_balance,
            }))
        }
        Err(PostRefusal::Duplicate) => Err(TxError::Refused(ChargeError::IdReused)),
        Err(PostRefusal::Insufficient) => Err(TxError::Refused(ChargeError::Dependency(corrupt(
            "funding account",
        )))),
    }
}

#[derive(Queryable)]
struct EntryRow {
    sequence: i64,
    transfer_id: String,
    kind: String,
    amount: i64,
    balance_after: Option<i64>,
    created_at: i64,
}

impl EntryRow {
    fn into_entry(self) -> Result<LedgerEntry, DependencyError> {
        StoredEntry {
            sequence: self.sequence,
            transfer_id: uuid(&self.transfer_id)?,
            kind: self.kind,
            amount: self.amount,
            balance_after: self.balance_after,
            created_at: instant(self.created_at)?,
        }
        .into_entry()
    }
}

#[async_trait]
impl WalletRepository for SqliteStore {
    async fn balance(&self, user: UserId) -> Result<Money, DependencyError> {
        let account = LedgerAccount::UserWallet(user);
        let balance: Option<Option<i64>> = self
            .read(move |connection| {
                ledger_accounts::table
                    .filter(ledger_accounts::kind.eq(account.kind()))
                    .filter(ledger_accounts::owner.eq(account.owner().to_string()))
                    .select(ledger_accounts::balance)
                    .first(connection)
                    .optional()
            })
            .await?;
        money(balance.flatten().unwrap_or(0))
    }

    async fn charge(&self, charge: NewCharge) -> Result<PostedCharge, ChargeError> {
        self.write(move |connection| post_charge(connection, &charge))
            .await
            .map_err(|error: TxError| {
                error.into_refusal(|error| match crate::errors::violated(&error) {
                    // The id was checked first; the primary key is the backstop.
                    Some(message) if message.contains("ledger_transfers.id") => {
                        ChargeError::IdReused
                    }
                    _ => ChargeError::Dependency(query_error(error)),
                })
            })
    }

    async fn entries(
        &self,
        user: UserId,
        before: Option<i64>,
        limit: PageLimit,
    ) -> Result<Vec<LedgerEntry>, DependencyError> {
        let account = LedgerAccount::UserWallet(user);
        let rows: Vec<EntryRow> = self
            .read(move |connection| {
                let mut select = ledger_entries::table
                    .inner_join(ledger_transfers::table)
                    .inner_join(ledger_accounts::table)
                    .filter(ledger_accounts::kind.eq(account.kind()))
                    .filter(ledger_accounts::owner.eq(account.owner().to_string()))
                    .order(ledger_entries::sequence.desc())
                    .limit(i64::from(limit.get()) + 1)
                    .select((
                        ledger_entries::sequence,
                        ledger_entries::transfer_id,
                        ledger_transfers::kind,
                        ledger_entries::amount,
                        ledger_entries::balance_after,
                        ledger_entries::created_at,
                    ))
                    .into_boxed();
                if let Some(before) = before {
                    select = select.filter(ledger_entries::sequence.lt(before));
                }
                select.load(connection)
            })
            .await?;
        rows.into_iter().map(EntryRow::into_entry).collect()
    }

    async fn verify_ledger(&self) -> Result<LedgerAudit, DependencyError> {
        self.snapshot(super::audit::verify).await
    }
}
