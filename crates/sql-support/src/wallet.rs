//! Stored transfers and entries as entities, and the replay check of a charge whose id is
//! already taken, the same for both stores.

use chrono::{DateTime, Utc};
use reserva_application::DependencyError;
use reserva_application::ports::wallet::{ChargeError, NewCharge};
use reserva_domain::wallet::{
    LedgerAccount, LedgerEntry, Money, Transfer, TransferId, TransferKind,
};
use uuid::Uuid;

fn corrupt(what: &str) -> DependencyError {
    DependencyError::Failed(format!("stored ledger row has an invalid {what}"))
}

fn kind(name: &str) -> Result<TransferKind, DependencyError> {
    TransferKind::parse(name).ok_or_else(|| corrupt("transfer kind"))
}

/// An account as its stored `(kind, owner)`.
///
/// # Errors
/// [`DependencyError::Failed`] for an unknown kind.
pub fn account(kind: &str, owner: Uuid) -> Result<LedgerAccount, DependencyError> {
    LedgerAccount::from_parts(kind, owner).ok_or_else(|| corrupt("account kind"))
}

/// A `ledger_transfers` row joined with its two accounts' `(kind, owner)`, as plain values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredTransfer {
    /// `id`.
    pub id: Uuid,
    /// `kind`.
    pub kind: String,
    /// The from account's `kind`.
    pub from_kind: String,
    /// The from account's `owner`.
    pub from_owner: Uuid,
    /// The to account's `kind`.
    pub to_kind: String,
    /// The to account's `owner`.
    pub to_owner: Uuid,
    /// `amount`.
    pub amount: i64,
    /// `created_at`.
    pub created_at: DateTime<Utc>,
}

impl StoredTransfer {
    /// The transfer.
    ///
    /// # Errors
    /// [`DependencyError::Failed`] when a stored value breaks a rule it was written under.
    pub fn into_transfer(self) -> Result<Transfer, DependencyError> {
        Ok(Transfer {
            id: TransferId::from_uuid(self.id),
            from: account(&self.from_kind, self.from_owner)?,
            to: account(&self.to_kind, self.to_owner)?,
            amount: Money::new(self.amount).map_err(|_| corrupt("amount"))?,
            kind: kind(&self.kind)?,
            created_at: self.created_at,
        })
    }
}

/// A `ledger_entries` row joined with its transfer's kind, as plain values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEntry {
    /// `sequence`.
    pub sequence: i64,
    /// `transfer_id`.
    pub transfer_id: Uuid,
    /// The transfer's `kind`.
    pub kind: String,
    /// `amount` (signed).
    pub amount: i64,
    /// `balance_after` (kept for user wallets only).
    pub balance_after: Option<i64>,
    /// `created_at`.
    pub created_at: DateTime<Utc>,
}

impl StoredEntry {
    /// The entry of a user wallet.
    ///
    /// # Errors
    /// [`DependencyError::Failed`] when a stored value breaks a rule it was written under.
    pub fn into_entry(self) -> Result<LedgerEntry, DependencyError> {
        let balance_after = self
            .balance_after
            .and_then(|balance| Money::new(balance).ok())
            .ok_or_else(|| corrupt("balance after"))?;
        Ok(LedgerEntry {
            sequence: self.sequence,
            transfer_id: TransferId::from_uuid(self.transfer_id),
            kind: kind(&self.kind)?,
            amount: self.amount,
            balance_after,
            created_at: self.created_at,
        })
    }
}

/// Whether the stored transfer with a charge's id is that charge (a retry, to replay) or
/// something else.
///
/// # Errors
/// `IdReused` unless it is a charge of the same amount to the same wallet.
pub fn check_replay(stored: &Transfer, charge: &NewCharge) -> Result<(), ChargeError> {
    let same = stored.kind == TransferKind::Charge
        && stored.to == LedgerAccount::UserWallet(charge.user_id)
        && stored.amount == charge.amount.money();
    if same {
        Ok(())
    } else {
        Err(ChargeError::IdReused)
    }
}
