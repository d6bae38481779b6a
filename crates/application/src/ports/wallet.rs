//! Storage of the ledger: accounts, immutable transfers and their entries.
//!
//! A user wallet's balance is kept in its account row, changed only together with the entry
//! that explains it, and guarded by the store (it never goes below zero). Transfer ids are
//! idempotency keys: the store refuses a second transfer with an id it has.

use crate::DependencyError;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reserva_domain::accounts::UserId;
use reserva_domain::wallet::{ChargeAmount, LedgerEntry, Money, Transfer, TransferId};
use thiserror::Error;

/// A charge to post: funding → the user's wallet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewCharge {
    /// Its id: random, or derived from the client's `Idempotency-Key`.
    pub transfer_id: TransferId,
    /// Whose wallet.
    pub user_id: UserId,
    /// How much.
    pub amount: ChargeAmount,
    /// The largest balance the charge may lead to.
    pub max_balance: Money,
    /// The instant of the request.
    pub now: DateTime<Utc>,
}

/// A posted charge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PostedCharge {
    /// The transfer.
    pub transfer: Transfer,
    /// The wallet's balance right after it.
    pub balance_after: Money,
    /// `true` when a transfer with this id already existed (a retry): nothing was posted now.
    pub replayed: bool,
}

/// Why a charge was not posted.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ChargeError {
    /// The balance would pass `max_balance`.
    #[error("the balance may be at most {limit}")]
    BalanceLimitExceeded {
        /// The limit.
        limit: Money,
    },
    /// A transfer with this id exists and is not this charge (another amount, user or kind).
    #[error("transfer id already used for another transfer")]
    IdReused,
    /// The store failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

/// Ledger-level problems found by [`WalletRepository::verify_ledger`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LedgerAudit {
    /// Accounts checked.
    pub accounts_checked: u64,
    /// Transfers checked.
    pub transfers_checked: u64,
    /// Each violation, described (a balance that is not the sum of its entries, a transfer whose
    /// entries do not cancel out, a negative wallet).
    pub violations: Vec<String>,
}

/// Wallets and the ledger.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait WalletRepository: Send + Sync {
    /// The user's balance (zero for a wallet never charged).
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    async fn balance(&self, user: UserId) -> Result<Money, DependencyError>;

    /// Posts a charge, creating the wallet on first use. Concurrent charges and payments on one
    /// wallet leave it exact. A charge whose id exists with the same user and amount is not
    /// posted again: the first one is returned with `replayed`.
    ///
    /// # Errors
    /// `BalanceLimitExceeded` (nothing posted), `IdReused`, `Dependency`.
    async fn charge(&self, charge: NewCharge) -> Result<PostedCharge, ChargeError>;

    /// The wallet's entries, newest first, with a sequence below `before` if given, at most
    /// `limit + 1`.
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    async fn entries(
        &self,
        user: UserId,
        before: Option<i64>,
        limit: reserva_domain::paging::PageLimit,
    ) -> Result<Vec<LedgerEntry>, DependencyError>;

    /// Checks the whole ledger: every kept balance equals the sum of its entries and is not
    /// negative, every transfer has exactly two entries that cancel out, and all entries sum to
    /// zero.
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    async fn verify_ledger(&self) -> Result<LedgerAudit, DependencyError>;
}
