//! Charging the caller's wallet. With an `Idempotency-Key` the transfer id is derived from the
//! user and the key, so a retry — even after the idempotency record is gone, or on another
//! instance — finds the first charge instead of charging twice.

use super::Wallet;
use crate::accounts::Principal;
use crate::ports::wallet::{ChargeError, NewCharge, PostedCharge};
use crate::{DependencyError, ErrorClass, FieldViolation, UseCaseError};
use reserva_domain::accounts::UserId;
use reserva_domain::wallet::{ChargeAmount, MAX_BALANCE, Money, TransferId};
use thiserror::Error;

/// Why a charge failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ChargeWalletError {
    /// The amount is not 1..=1,000,000 (`amount`: `amount_not_positive` / `amount_too_large`).
    #[error("invalid charge")]
    Invalid(Vec<FieldViolation>),
    /// The balance would pass its limit.
    #[error("the balance may be at most {limit}")]
    BalanceLimitExceeded {
        /// The limit.
        limit: Money,
    },
    /// The idempotency key was used for a charge of another amount.
    #[error("the idempotency key was used for a different charge")]
    KeyReused,
    /// A dependency failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

impl UseCaseError for ChargeWalletError {
    fn class(&self) -> ErrorClass {
        match self {
            Self::Invalid(_) => ErrorClass::InvalidInput,
            Self::BalanceLimitExceeded { .. } => ErrorClass::Conflict,
            Self::KeyReused => ErrorClass::Unprocessable,
            Self::Dependency(error) => error.class(),
        }
    }
    fn code(&self) -> &'static str {
        match self {
            Self::Invalid(_) => "validation_failed",
            Self::BalanceLimitExceeded { .. } => "balance_limit_exceeded",
            Self::KeyReused => "idempotency_key_reused",
            Self::Dependency(error) => error.code(),
        }
    }
    fn violations(&self) -> &[FieldViolation] {
        match self {
            Self::Invalid(violations) => violations,
            _ => &[],
        }
    }
}

/// The transfer id of `user`'s charge under `key`: the same key always names the same charge.
#[must_use]
pub fn charge_transfer_id(user: UserId, key: &str) -> TransferId {
    TransferId::derive("charge", user.as_uuid(), key)
}

impl Wallet {
    /// Charges the caller's wallet by `amount`. A repeat with the same key and amount returns
    /// the first charge (`replayed`) and posts nothing.
    ///
    /// # Errors
    /// `Invalid`, `BalanceLimitExceeded`, `KeyReused`, `Dependency`.
    #[tracing::instrument(skip_all, fields(user_id = %principal.user_id))]
    pub async fn charge(
        &self,
        principal: &Principal,
        amount: i64,
        idempotency_key: Option<&str>,
    ) -> Result<PostedCharge, ChargeWalletError> {
        let amount = ChargeAmount::new(amount).map_err(|rule| {
            ChargeWalletError::Invalid(vec![FieldViolation::new("amount", rule.code(), rule)])
        })?;
        let transfer_id = idempotency_key.map_or_else(
            || TransferId::from_uuid(uuid::Uuid::now_v7()),
            |key| charge_transfer_id(principal.user_id, key),
        );
        let charge = NewCharge {
            transfer_id,
            user_id: principal.user_id,
            amount,
            max_balance: MAX_BALANCE,
            now: self.ports.clock.now(),
        };
        self.ports
            .ledger
            .charge(charge)
            .await
            .map_err(|error| match error {
                ChargeError::BalanceLimitExceeded { limit } => {
                    ChargeWalletError::BalanceLimitExceeded { limit }
                }
                ChargeError::IdReused => ChargeWalletError::KeyReused,
                ChargeError::Dependency(error) => error.into(),
            })
    }
}
