//! Cancelling a payment (its owner): the registration is cancelled, the place freed and the money
//! given back in one store transaction — from the wallet at once; for a gateway payment the refund
//! is recorded as owed, then asked of the provider. A refund the provider does not confirm is
//! logged and left owed (`refund_status: pending`) for the reconciler: the cancellation itself has
//! happened, so the request still succeeds.

use super::Catalog;
use crate::accounts::Principal;
use crate::ports::catalog::{CancelPaymentError, Cancelled};
use crate::{DependencyError, ErrorClass, UseCaseError};
use reserva_domain::catalog::CancelRefusal;
use reserva_domain::wallet::{PaymentId, RefundState};
use thiserror::Error;

/// Why cancelling a payment failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CancelPaymentUseCaseError {
    /// No such payment shown to the caller (others', pending and failed ones).
    #[error("payment not found")]
    NotFound,
    /// Its registration is completed, or it is already cancelled.
    #[error(transparent)]
    Refused(#[from] CancelRefusal),
    /// A dependency failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

impl UseCaseError for CancelPaymentUseCaseError {
    fn class(&self) -> ErrorClass {
        match self {
            Self::NotFound => ErrorClass::NotFound,
            Self::Refused(_) => ErrorClass::Conflict,
            Self::Dependency(error) => error.class(),
        }
    }
    fn code(&self) -> &'static str {
        match self {
            Self::NotFound => "payment_not_found",
            Self::Refused(refusal) => refusal.code(),
            Self::Dependency(error) => error.code(),
        }
    }
}

impl Catalog {
    /// Cancels the caller's paid payment and refunds it.
    ///
    /// # Errors
    /// `NotFound`, `Refused` (`registration_completed`, `already_cancelled`), `Dependency` (of
    /// the cancellation; a failed refund is not an error).
    #[tracing::instrument(skip_all, fields(user_id = %principal.user_id, payment_id = %id))]
    pub async fn cancel_payment(
        &self,
        principal: &Principal,
        id: PaymentId,
    ) -> Result<Cancelled, CancelPaymentUseCaseError> {
        let now = self.now();
        let registrations = &self.ports.registrations;
        let mut cancelled = registrations
            .cancel_payment(principal.user_id, id, now)
            .await
            .map_err(|error| match error {
                CancelPaymentError::NotFound => CancelPaymentUseCaseError::NotFound,
                CancelPaymentError::Refused(refusal) => refusal.into(),
                CancelPaymentError::Dependency(error) => error.into(),
            })?;
        let payment = &cancelled.payment;
        if payment.method.uses_gateway() && payment.refund == RefundState::Pending {
            match self.ports.gateway.refund(id, payment.amount).await {
                Ok(()) => match registrations.mark_refunded(id, now).await {
                    Ok(()) => cancelled.payment.refund = RefundState::Done,
                    Err(error) => {
                        tracing::warn!(payment_id = %id, %error, "refund made but not recorded; the reconciler will record it");
                    }
                },
                Err(error) => {
                    tracing::warn!(payment_id = %id, %error, "refund not confirmed; the reconciler will retry it");
                }
            }
        }
        Ok(cancelled)
    }
}
