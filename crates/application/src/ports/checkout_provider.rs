//! The two-phase payment provider of checkout (the payments side of commerce, beside
//! [`super::payments`]): making a payment ready, refunding it, asking what the provider knows
//! of it; the signed callbacks it sends back ([`CallbackCodec`]); and, for the simulated
//! provider only, playing the user's action there ([`ProviderSimulator`]).
//!
//! Every call carries the checkout id, the idempotency key at the provider: making the same id
//! ready twice answers the first time's reference, refunding it twice refunds once.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reserva_domain::accounts::UserId;
use reserva_domain::commerce::{CallbackResult, CheckoutId};
use reserva_domain::wallet::{Money, PaymentMethod};
use thiserror::Error;

/// A payment to make ready at the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadyRequest {
    /// The checkout's id (idempotency key).
    pub checkout_id: CheckoutId,
    /// Card, KakaoPay or bank transfer.
    pub method: PaymentMethod,
    /// The order's total.
    pub amount: Money,
    /// Who pays.
    pub user_id: UserId,
    /// What for, as the provider shows it to the payer.
    pub description: String,
}

/// The provider's answer to [`CheckoutGateway::ready`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadyAnswer {
    /// The provider's reference of the payment (KakaoPay's `tid`).
    pub reference: String,
    /// Where the user approves it.
    pub approval_url: String,
}

/// What the provider knows of a checkout id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderRecord {
    /// Never made ready.
    Unknown,
    /// Ready, the user has not acted.
    Ready {
        /// The provider's reference.
        reference: String,
    },
    /// Approved: the money was taken.
    Approved {
        /// The provider's reference.
        reference: String,
    },
    /// The provider refused it.
    Declined,
    /// The user cancelled.
    Cancelled,
    /// Approved, then refunded.
    Refunded {
        /// The provider's reference.
        reference: String,
    },
}

/// Why a provider call has no (good) answer.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CheckoutGatewayError {
    /// The provider refused to make the payment ready (nothing will be taken).
    #[error("the payment provider declined: {0}")]
    Declined(String),
    /// Sent, and no answer came in time: it may or may not have taken effect.
    #[error("the payment provider did not answer in time")]
    Timeout,
    /// The provider could not be reached or refused before acting (nothing happened).
    #[error("the payment provider is unavailable: {0}")]
    Unavailable(String),
    /// A refund of a checkout id the provider never took money for.
    #[error("the provider has no approved payment to refund")]
    NothingToRefund,
}

/// The two-phase provider.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait CheckoutGateway: Send + Sync {
    /// Makes the payment ready, idempotently by checkout id (a repeat answers the first
    /// reference and address).
    ///
    /// # Errors
    /// `Declined`, `Timeout`, `Unavailable`.
    async fn ready(&self, request: &ReadyRequest) -> Result<ReadyAnswer, CheckoutGatewayError>;

    /// Refunds the whole approved payment, idempotently (a repeat, or a refund of a refunded
    /// payment, succeeds without refunding twice).
    ///
    /// # Errors
    /// `Timeout`, `Unavailable`, `NothingToRefund`.
    async fn refund(
        &self,
        checkout_id: CheckoutId,
        amount: Money,
    ) -> Result<(), CheckoutGatewayError>;

    /// What the provider knows of `checkout_id` (the sweep asks before expiring a payment).
    ///
    /// # Errors
    /// `Timeout`, `Unavailable`.
    async fn lookup(&self, checkout_id: CheckoutId)
    -> Result<ProviderRecord, CheckoutGatewayError>;
}

/// What a provider callback says. On the wire it is the JSON object
/// `{"payment_id": "<uuid>", "result": "approved|cancelled|failed", "reference": "<text>"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackMessage {
    /// The checkout.
    pub checkout_id: CheckoutId,
    /// What happened.
    pub result: CallbackResult,
    /// The provider's reference of the payment.
    pub reference: String,
}

/// Why a callback's signature was refused (nothing is changed by such a callback).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum CallbackSignatureError {
    /// Missing, malformed, or not the signature of this body with our secret.
    #[error("the callback's signature is invalid")]
    Invalid,
    /// A valid signature whose time is more than the tolerance away from now (either way).
    #[error("the callback's signature is too old or from the future")]
    Stale,
}

/// A callback body that is not a callback message.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("malformed callback body: {0}")]
pub struct MalformedCallback(pub String);

/// The callbacks' wire format and their signature (`Reserva-Signature: t=<unix>,v1=<hex>`, an
/// HMAC over `<unix>.<raw body>` with the shared provider secret).
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait CallbackCodec: Send + Sync {
    /// The body of a callback carrying `message`.
    fn encode(&self, message: &CallbackMessage) -> Vec<u8>;

    /// Reads a (verified) body back.
    ///
    /// # Errors
    /// [`MalformedCallback`] when it is not exactly a callback message.
    fn decode(&self, body: &[u8]) -> Result<CallbackMessage, MalformedCallback>;

    /// The signature header value of `body` signed at `at`.
    fn sign(&self, body: &[u8], at: DateTime<Utc>) -> String;

    /// Checks `header` against `body` at `now`. A valid signature verifies every time it is
    /// presented (a replay is the store's to recognise, by the recorded result).
    ///
    /// # Errors
    /// `Invalid` (wrong, malformed, missing parts), `Stale` (outside the tolerance).
    fn verify(
        &self,
        body: &[u8],
        header: &str,
        now: DateTime<Utc>,
    ) -> Result<(), CallbackSignatureError>;
}

/// The user's action at the simulated provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SimulatedAction {
    /// Approve: the money is taken, an `approved` callback follows.
    Approve,
    /// The provider declines: a `failed` callback follows.
    Decline,
    /// The user cancels: a `cancelled` callback follows.
    Cancel,
}

/// A callback exactly as the provider would POST it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCallback {
    /// The raw body.
    pub body: Vec<u8>,
    /// The `Reserva-Signature` header value.
    pub signature: String,
}

/// Why the simulated provider did not act.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SimulatorError {
    /// It never made this id ready.
    #[error("the provider knows no such payment")]
    UnknownPayment,
    /// The user already acted on it.
    #[error("the payment is no longer ready at the provider")]
    NotReady,
}

/// The simulated provider's user side (only when no real provider is configured).
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait ProviderSimulator: Send + Sync {
    /// Plays `action` on a ready payment and returns the callback(s) the provider sends for it
    /// (usually one; two when it is told to deliver twice).
    ///
    /// # Errors
    /// `UnknownPayment`, `NotReady`.
    async fn act(
        &self,
        checkout_id: CheckoutId,
        action: SimulatedAction,
    ) -> Result<Vec<SignedCallback>, SimulatorError>;
}
