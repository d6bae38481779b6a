//! Reading the caller's wallet: the balance, and its ledger entries newest first.

use super::Wallet;
use crate::accounts::Principal;
use crate::{DependencyError, ErrorClass, UseCaseError};
use reserva_domain::paging::PageLimit;
use reserva_domain::wallet::{LedgerEntry, Money};
use thiserror::Error;

/// Why the balance could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BalanceError {
    /// A dependency failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

impl UseCaseError for BalanceError {
    fn class(&self) -> ErrorClass {
        match self {
            Self::Dependency(error) => error.class(),
        }
    }
    fn code(&self) -> &'static str {
        match self {
            Self::Dependency(error) => error.code(),
        }
    }
}

/// One page of ledger entries, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryPage {
    /// Entries.
    pub items: Vec<LedgerEntry>,
    /// The sequence to continue below, if there is more.
    pub next: Option<i64>,
}

/// Why the entries could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TransactionsError {
    /// A dependency failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

impl UseCaseError for TransactionsError {
    fn class(&self) -> ErrorClass {
        match self {
            Self::Dependency(error) => error.class(),
        }
    }
    fn code(&self) -> &'static str {
        match self {
            Self::Dependency(error) => error.code(),
        }
    }
}

impl Wallet {
    /// The caller's balance (zero before the first charge).
    ///
    /// # Errors
    /// `Dependency`.
    pub async fn balance(&self, principal: &Principal) -> Result<Money, BalanceError> {
        Ok(self.ports.ledger.balance(principal.user_id).await?)
    }

    /// The caller's ledger entries, newest first, below the sequence `before` if given.
    ///
    /// # Errors
    /// `Dependency`.
    pub async fn transactions(
        &self,
        principal: &Principal,
        before: Option<i64>,
        limit: PageLimit,
    ) -> Result<EntryPage, TransactionsError> {
        let mut items = self
            .ports
            .ledger
            .entries(principal.user_id, before, limit)
            .await?;
        let page = usize::from(limit.get());
        let next = if items.len() > page {
            items.truncate(page);
            items.last().map(|entry| entry.sequence)
        } else {
            None
        };
        Ok(EntryPage { items, next })
    }
}
