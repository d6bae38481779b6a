//! The payment gateway: card, KakaoPay and bank transfer payments at an outside provider.
//!
//! Every call carries the payment id, which is the idempotency key at the provider: charging the
//! same id twice returns the first outcome and moves money once, and refunding it twice refunds
//! once. So a call whose answer was lost (a timeout) is resolved by asking the provider
//! ([`PaymentGateway::lookup`]) or by repeating it, never by charging a new id.

use async_trait::async_trait;
use reserva_domain::accounts::UserId;
use reserva_domain::wallet::{Money, PaymentId, PaymentMethod};
use thiserror::Error;

/// A charge to make at the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayCharge {
    /// The payment's id (idempotency key).
    pub payment_id: PaymentId,
    /// Card, KakaoPay or bank transfer (never the wallet).
    pub method: PaymentMethod,
    /// The amount.
    pub amount: Money,
    /// Who pays.
    pub user_id: UserId,
    /// What for, as the provider shows it to the payer.
    pub description: String,
}

/// The provider's answer to a charge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChargeOutcome {
    /// Charged; the provider's reference for it.
    Approved {
        /// The provider's transaction reference.
        reference: String,
    },
    /// Refused (card declined, limit, fraud check); nothing charged.
    Declined {
        /// The provider's reason.
        reason: String,
    },
}

/// What the provider knows of a payment id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GatewayRecord {
    /// Never received: nothing was charged.
    Unknown,
    /// Charged (and not refunded).
    Approved {
        /// The provider's reference.
        reference: String,
    },
    /// Refused.
    Declined {
        /// The provider's reason.
        reason: String,
    },
    /// Charged, then refunded.
    Refunded {
        /// The provider's reference.
        reference: String,
    },
}

/// Why a gateway call has no answer.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum GatewayError {
    /// The call was sent and no answer came in time: it may or may not have taken effect.
    #[error("the payment provider did not answer in time")]
    Timeout,
    /// The provider could not be reached or refused the call before acting (nothing happened).
    #[error("the payment provider is unavailable: {0}")]
    Unavailable(String),
    /// A refund for a payment id the provider never charged.
    #[error("the provider has no charge to refund")]
    NothingToRefund,
}

/// A payment provider.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait PaymentGateway: Send + Sync {
    /// Charges, idempotently by payment id: a repeat returns the first outcome.
    ///
    /// # Errors
    /// `Timeout` (outcome unknown), `Unavailable` (nothing charged).
    async fn charge(&self, charge: &GatewayCharge) -> Result<ChargeOutcome, GatewayError>;

    /// What the provider knows of `payment_id`.
    ///
    /// # Errors
    /// `Timeout`, `Unavailable`.
    async fn lookup(&self, payment_id: PaymentId) -> Result<GatewayRecord, GatewayError>;

    /// Refunds the whole charge, idempotently: a repeat (or a refund of a refunded payment)
    /// succeeds without refunding twice.
    ///
    /// # Errors
    /// `Timeout`, `Unavailable`, `NothingToRefund`.
    async fn refund(&self, payment_id: PaymentId, amount: Money) -> Result<(), GatewayError>;
}
