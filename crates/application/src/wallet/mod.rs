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
