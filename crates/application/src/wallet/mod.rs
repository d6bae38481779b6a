//! Wallet use cases: the caller's balance, charging it (idempotent through a client key), its
//! ledger entries, and the ledger audit of `reserva wallet verify`.

mod charge;
mod read;

pub use charge::{ChargeWalletError, charge_transfer_id};
pub use read::{BalanceError, EntryPage, TransactionsError};

use crate::DependencyError;
use crate::ports::system::Clock;
use crate::ports::wallet::{LedgerAudit, WalletRepository};
use std::sync::Arc;

/// Everything the wallet use cases talk to.
#[derive(Clone)]
pub struct WalletPorts {
    /// The ledger.
    pub ledger: Arc<dyn WalletRepository>,
    /// Time.
    pub clock: Arc<dyn Clock>,
}

/// The wallet use cases.
#[derive(Clone)]
pub struct Wallet {
    ports: WalletPorts,
}

impl Wallet {
    /// Builds the use cases.
    #[must_use]
    pub const fn new(ports: WalletPorts) -> Self {
        Self { ports }
    }

    /// Checks the whole ledger (balances are the sums of their entries, transfers balance).
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    pub async fn verify(&self) -> Result<LedgerAudit, DependencyError> {
        self.ports.ledger.verify_ledger().await
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    //! A wallet over a mocked ledger and a fixed clock.

    use super::{Wallet, WalletPorts};
    use crate::accounts::Principal;
    use crate::ports::system::MockClock;
    use crate::ports::wallet::MockWalletRepository;
    use chrono::{DateTime, TimeZone, Utc};
    use reserva_domain::accounts::{Role, SessionId, UserId};
    use std::sync::Arc;

    pub(crate) fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 25, 3, 0, 0)
            .single()
            .unwrap_or_default()
    }

    pub(crate) fn member() -> Principal {
        Principal {
            user_id: UserId::from_uuid(uuid::Uuid::now_v7()),
            session_id: SessionId::from_uuid(uuid::Uuid::now_v7()),
            role: Role::Member,
        }
    }

    pub(crate) fn wallet(ledger: MockWalletRepository) -> Wallet {
        let mut clock = MockClock::new();
        clock.expect_now().returning(now);
        Wallet::new(WalletPorts {
            ledger: Arc::new(ledger),
            clock: Arc::new(clock),
        })
    }
}
