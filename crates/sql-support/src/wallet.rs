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

/// Namespace of the derived account ids.
const ACCOUNT_NAMESPACE: Uuid = Uuid::from_u128(0x3b8e_51d2_7c4f_4a06_b1e9_58d0_2f6a_c713);

/// The stored id of an account, derived from its kind and owner: a store knows the row of any
/// account without reading it first, and creating it on first use is one idempotent insert.
#[must_use]
pub fn account_id(account: LedgerAccount) -> Uuid {
    let name = format!("{}\u{1f}{}", account.kind(), account.owner());
    Uuid::new_v5(&ACCOUNT_NAMESPACE, name.as_bytes())
}

/// A transfer to post, as both stores' posting helpers take it: at most one side is a user
/// wallet (a charge or refund credits one, a payment debits one), the other a system account;
/// or both are system accounts that keep no balance (a gateway payment: provider → revenue, and
/// its refund back).
/// `Instant` is the store's representation of a time (PostgreSQL: `DateTime<Utc>`; SQLite:
/// microseconds since the epoch).
#[derive(Debug, Clone, Copy)]
pub struct Posting<Instant> {
    /// Its id (the idempotency key).
    pub id: TransferId,
    /// Charge, payment or refund.
    pub kind: TransferKind,
    /// Where the money leaves (debited).
    pub from: LedgerAccount,
    /// Where it arrives (credited).
    pub to: LedgerAccount,
    /// A positive amount.
    pub amount: Money,
    /// The user it concerns.
    pub user: reserva_domain::accounts::UserId,
    /// What it pays or refunds (a hold, a booking, a catalog payment).
    pub reference: Option<Uuid>,
    /// The largest balance a credited wallet may reach (`None`: no limit, as for refunds).
    pub limit: Option<Money>,
    /// The instant of the request.
    pub now: Instant,
}

/// Why a transfer was not posted; the caller rolls its transaction back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostRefusal {
    /// A transfer with this id exists.
    Duplicate,
    /// The debited wallet holds less than the amount.
    Insufficient,
    /// The credited wallet would pass its limit.
    LimitExceeded,
}

#[cfg(test)]
mod tests {
    use super::*;
    use reserva_domain::accounts::UserId;
    use reserva_domain::tickets::ConcertId;
    use reserva_domain::wallet::{ChargeAmount, MAX_BALANCE, RevenueStream};

    #[test]
    fn account_ids_are_stable_and_distinct() {
        let user = UserId::from_uuid(Uuid::now_v7());
        let wallet = LedgerAccount::UserWallet(user);
        assert_eq!(account_id(wallet), account_id(wallet));
        let revenue =
            LedgerAccount::Revenue(RevenueStream::Concert(ConcertId::from_uuid(user.as_uuid())));
        assert_ne!(account_id(wallet), account_id(revenue));
        assert_ne!(account_id(wallet), account_id(LedgerAccount::Funding));
    }

    #[test]
    fn only_the_same_charge_replays() {
        let user = UserId::from_uuid(Uuid::now_v7());
        let charge = NewCharge {
            transfer_id: TransferId::from_uuid(Uuid::now_v7()),
            user_id: user,
            amount: ChargeAmount::new(500).unwrap(),
            max_balance: MAX_BALANCE,
            now: chrono::Utc::now(),
        };
        let stored = Transfer {
            id: charge.transfer_id,
            from: LedgerAccount::Funding,
            to: LedgerAccount::UserWallet(user),
            amount: charge.amount.money(),
            kind: TransferKind::Charge,
            created_at: charge.now,
        };
        assert_eq!(check_replay(&stored, &charge), Ok(()));
        let other_amount = Transfer {
            amount: Money::new(501).unwrap(),
            ..stored
        };
        assert_eq!(
            check_replay(&other_amount, &charge),
            Err(ChargeError::IdReused)
        );
        let payment = Transfer {
            kind: TransferKind::Payment,
            ..stored
        };
        assert_eq!(check_replay(&payment, &charge), Err(ChargeError::IdReused));
        let other_user = NewCharge {
            user_id: UserId::from_uuid(Uuid::now_v7()),
            ..charge
        };
        assert_eq!(
            check_replay(&stored, &other_user),
            Err(ChargeError::IdReused)
        );
    }
}
