//! Reading the caller's wallet: the balance, and its ledger entries newest first.

use super::Wallet;
use crate::accounts::Principal;
use reserva_domain::paging::PageLimit;
use reserva_domain::wallet::{LedgerEntry, Money};

crate::error::dependency_only_error!(
    /// Why the balance could not be read.
    BalanceError
);

/// One page of ledger entries, newest first; the cursor is the sequence to continue below.
pub type EntryPage = crate::Page<LedgerEntry, i64>;

crate::error::dependency_only_error!(
    /// Why the entries could not be read.
    TransactionsError
);

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
        let rows = self
            .ports
            .ledger
            .entries(principal.user_id, before, limit)
            .await?;
        Ok(EntryPage::from_rows(rows, limit, |entry| entry.sequence))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::wallet::{LedgerAudit, MockWalletRepository};
    use crate::wallet::test_support::{member, now, wallet};
    use crate::{DependencyError, ErrorClass, UseCaseError};
    use reserva_domain::wallet::{TransferId, TransferKind};

    fn entry(sequence: i64) -> LedgerEntry {
        LedgerEntry {
            sequence,
            transfer_id: TransferId::from_uuid(uuid::Uuid::now_v7()),
            kind: TransferKind::Charge,
            amount: 100,
            balance_after: Money::new(100 * sequence).unwrap_or_default(),
            created_at: now(),
        }
    }

    #[tokio::test]
    async fn the_callers_balance_and_entries_in_pages() {
        let caller = member();
        let mut ledger = MockWalletRepository::new();
        ledger
            .expect_balance()
            .withf(move |user| *user == caller.user_id)
            .returning(|_| Ok(Money::new(1_500).unwrap_or_default()));
        ledger
            .expect_entries()
            .withf(move |user, before, limit| {
                *user == caller.user_id && *before == Some(9) && limit.get() == 2
            })
            .returning(|_, _, _| Ok(vec![entry(8), entry(7), entry(6)]));
        ledger.expect_verify_ledger().returning(|| {
            Ok(LedgerAudit {
                accounts_checked: 3,
                ..LedgerAudit::default()
            })
        });
        let wallet = wallet(ledger);
        assert_eq!(wallet.balance(&caller).await.map(Money::get), Ok(1_500));
        let page = wallet
            .transactions(&caller, Some(9), PageLimit::new(2).unwrap_or_default())
            .await
            .expect("listed");
        assert_eq!((page.items.len(), page.next), (2, Some(7)));
        assert_eq!(wallet.verify().await.map(|a| a.accounts_checked), Ok(3));
    }

    #[tokio::test]
    async fn a_failing_ledger_is_a_dependency_error() {
        let mut ledger = MockWalletRepository::new();
        ledger
            .expect_balance()
            .returning(|_| Err(DependencyError::Unavailable("db".into())));
        let error = wallet(ledger).balance(&member()).await.expect_err("down");
        assert_eq!(error.class(), ErrorClass::Unavailable);
    }
}
