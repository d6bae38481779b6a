//! `WalletRepository` on the store: balances, charges (one transaction of two posting
//! statements), entries by keyset, and the ledger audit.

use super::posting::{PostRefusal, Posting, post};
use super::rows::{EntryRow, FIND_TRANSFER, TransferRow};
use crate::{PostgresStore, query_error, write_outcome_error};
use async_trait::async_trait;
use diesel::sql_types::{BigInt, Nullable, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use reserva_application::DependencyError;
use reserva_application::ports::wallet::{
    ChargeError, LedgerAudit, NewCharge, PostedCharge, WalletRepository,
};
use reserva_domain::accounts::UserId;
use reserva_domain::paging::PageLimit;
use reserva_domain::wallet::{LedgerAccount, LedgerEntry, Money, TransferKind};
use reserva_sql_support::TxError;
use reserva_sql_support::wallet::{account_id, check_replay};

#[derive(diesel::QueryableByName)]
struct BalanceRow {
    #[diesel(sql_type = Nullable<BigInt>)]
    balance: Option<i64>,
}

/// The charge posted now, or the stored transfer with its id (to replay or refuse).
async fn post_charge(
    connection: &mut AsyncPgConnection,
    charge: &NewCharge,
) -> Result<Option<PostedCharge>, TxError<ChargeError>> {
    let posting = Posting {
        id: charge.transfer_id,
        kind: TransferKind::Charge,
        from: LedgerAccount::Funding,
        to: LedgerAccount::UserWallet(charge.user_id),
        amount: charge.amount.money(),
        user: charge.user_id,
        reference: None,
        limit: Some(charge.max_balance),
        now: charge.now,
    };
    match post(connection, &posting).await? {
        Ok(balance_after) => Ok(Some(PostedCharge {
            transfer: reserva_domain::wallet::Transfer {
                id: posting.id,
                from: posting.from,
                to: posting.to,
                amount: posting.amount,
                kind: posting.kind,
                created_at: posting.now,
            },
            balance_after,
            replayed: false,
        })),
        Err(PostRefusal::Duplicate) => Ok(None),
        Err(PostRefusal::LimitExceeded | PostRefusal::Insufficient) => {
            Err(TxError::Refused(ChargeError::BalanceLimitExceeded {
                limit: charge.max_balance,
            }))
        }
    }
}

/// The stored transfer with the charge's id, as a replay of it if it is the same charge.
async fn replay(
    connection: &mut AsyncPgConnection,
    charge: &NewCharge,
) -> Result<PostedCharge, ChargeError> {
    let wallet = account_id(LedgerAccount::UserWallet(charge.user_id));
    let row: Option<TransferRow> = diesel::sql_query(FIND_TRANSFER)
        .bind::<SqlUuid, _>(charge.transfer_id.as_uuid())
        .bind::<SqlUuid, _>(wallet)
        .get_result(connection)
        .await
        .map(Some)
        .or_else(|error| match error {
            diesel::result::Error::NotFound => Ok(None),
            other => Err(query_error(other)),
        })?;
    let row =
        row.ok_or_else(|| DependencyError::Failed("a conflicting transfer vanished".into()))?;
    let balance_after = row.balance_after;
    let transfer = row.into_transfer()?;
    check_replay(&transfer, charge)?;
    let balance_after = balance_after
        .and_then(|b| Money::new(b).ok())
        .ok_or_else(|| DependencyError::Failed("charge entry without its balance".into()))?;
    Ok(PostedCharge {
        transfer,
        balance_after,
        replayed: true,
    })
}

#[async_trait]
impl WalletRepository for PostgresStore {
    async fn balance(&self, user: UserId) -> Result<Money, DependencyError> {
        let mut connection = self.connection().await?;
        let rows: Vec<BalanceRow> =
            diesel::sql_query("SELECT balance FROM ledger_accounts WHERE id = $1")
                .bind::<SqlUuid, _>(account_id(LedgerAccount::UserWallet(user)))
                .load(&mut connection)
                .await
                .map_err(query_error)?;
        let balance = rows
            .into_iter()
            .next()
            .and_then(|row| row.balance)
            .unwrap_or(0);
        Money::new(balance).map_err(|_| DependencyError::Failed("negative wallet".into()))
    }

    async fn charge(&self, charge: NewCharge) -> Result<PostedCharge, ChargeError> {
        let mut connection = self.connection().await?;
        let posted = connection
            .transaction(async |connection| post_charge(connection, &charge).await)
            .await
            .map_err(|error| {
                error.into_refusal(|error| ChargeError::Dependency(write_outcome_error(error)))
            })?;
        match posted {
            Some(posted) => Ok(posted),
            None => replay(&mut connection, &charge).await,
        }
    }

    async fn entries(
        &self,
        user: UserId,
        before: Option<i64>,
        limit: PageLimit,
    ) -> Result<Vec<LedgerEntry>, DependencyError> {
        let mut connection = self.connection().await?;
        let rows: Vec<EntryRow> = diesel::sql_query(
            "SELECT e.sequence, e.transfer_id, t.kind, e.amount, e.balance_after, e.created_at
             FROM ledger_entries e JOIN ledger_transfers t ON t.id = e.transfer_id
             WHERE e.account_id = $1 AND ($2::bigint IS NULL OR e.sequence < $2)
             ORDER BY e.sequence DESC LIMIT $3",
        )
        .bind::<SqlUuid, _>(account_id(LedgerAccount::UserWallet(user)))
        .bind::<Nullable<BigInt>, _>(before)
        .bind::<BigInt, _>(i64::from(limit.get()) + 1)
        .load(&mut connection)
        .await
        .map_err(query_error)?;
        rows.into_iter().map(EntryRow::into_entry).collect()
    }

    async fn verify_ledger(&self) -> Result<LedgerAudit, DependencyError> {
        let mut connection = self.connection().await?;
        super::audit::verify(&mut connection).await
    }
}
