//! The ledger's rows as PostgreSQL reads them, turned into entities by the conversions shared
//! with SQLite.

use chrono::{DateTime, Utc};
use diesel::sql_types::{BigInt, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use reserva_application::DependencyError;
use reserva_domain::wallet::{LedgerEntry, Transfer};
use reserva_sql_support::wallet::{StoredEntry, StoredTransfer};
use uuid::Uuid;

/// A transfer with its accounts' kinds and owners ([`TRANSFER_COLUMNS`]).
#[derive(diesel::QueryableByName)]
pub(super) struct TransferRow {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    from_kind: String,
    #[diesel(sql_type = SqlUuid)]
    from_owner: Uuid,
    #[diesel(sql_type = Text)]
    to_kind: String,
    #[diesel(sql_type = SqlUuid)]
    to_owner: Uuid,
    #[diesel(sql_type = BigInt)]
    amount: i64,
    #[diesel(sql_type = Timestamptz)]
    created_at: DateTime<Utc>,
    /// The entry's balance after, on the account asked about.
    #[diesel(sql_type = Nullable<BigInt>)]
    pub(super) balance_after: Option<i64>,
}

/// The transfer `$1` with the balance after it of the account `$2`.
pub(super) const FIND_TRANSFER: &str = "\
SELECT t.id, t.kind, f.kind AS from_kind, f.owner AS from_owner, o.kind AS to_kind,
       o.owner AS to_owner, t.amount, t.created_at,
       (SELECT e.balance_after FROM ledger_entries e
         WHERE e.transfer_id = t.id AND e.account_id = $2) AS balance_after
FROM ledger_transfers t
JOIN ledger_accounts f ON f.id = t.from_account
JOIN ledger_accounts o ON o.id = t.to_account
WHERE t.id = $1";

impl TransferRow {
    pub(super) fn into_transfer(self) -> Result<Transfer, DependencyError> {
        StoredTransfer {
            id: self.id,
            kind: self.kind,
            from_kind: self.from_kind,
            from_owner: self.from_owner,
            to_kind: self.to_kind,
            to_owner: self.to_owner,
            amount: self.amount,
            created_at: self.created_at,
        }
        .into_transfer()
    }
}

/// A wallet's entry with its transfer's kind.
#[derive(diesel::QueryableByName)]
pub(super) struct EntryRow {
    #[diesel(sql_type = BigInt)]
    sequence: i64,
    #[diesel(sql_type = SqlUuid)]
    transfer_id: Uuid,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = BigInt)]
    amount: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    balance_after: Option<i64>,
    #[diesel(sql_type = Timestamptz)]
    created_at: DateTime<Utc>,
}

impl EntryRow {
    pub(super) fn into_entry(self) -> Result<LedgerEntry, DependencyError> {
        StoredEntry {
            sequence: self.sequence,
            transfer_id: self.transfer_id,
            kind: self.kind,
            amount: self.amount,
            balance_after: self.balance_after,
            created_at: self.created_at,
        }
        .into_entry()
    }
}
