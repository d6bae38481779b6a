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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::test_support::{Fixture, now, payment, principal, registration};
    use crate::ports::payments::GatewayError;
    use reserva_domain::accounts::{Role, UserId};
    use reserva_domain::wallet::{PaymentMethod, PaymentStatus};

    /// The store cancels `user`'s payment by `method` (once, at `now`).
    fn cancelling(user: UserId, method: PaymentMethod) -> (Fixture, PaymentId) {
        let cancelled = payment(user, method, PaymentStatus::Cancelled);
        let id = cancelled.id;
        let registration = registration(&cancelled);
        let mut fixture = Fixture::new();
        fixture
            .registrations
            .expect_cancel_payment()
            .withf(move |who, wanted, at| *who == user && *wanted == id && *at == now())
            .times(1)
            .return_once(move |_, _, _| {
                Ok(Cancelled {
                    payment: cancelled,
                    registration: Some(registration),
                })
            });
        (fixture, id)
    }

    #[tokio::test]
    async fn a_wallet_payment_is_refunded_by_the_store_alone() {
        let caller = principal(Role::Member);
        let (mut fixture, id) = cancelling(caller.user_id, PaymentMethod::Wallet);
        fixture.gateway.expect_refund().never();
        fixture.registrations.expect_mark_refunded().never();
        let cancelled = fixture
            .catalog()
            .cancel_payment(&caller, id)
            .await
            .expect("cancelled");
        assert_eq!(cancelled.payment.refund, RefundState::NotDue);
        assert!(cancelled.registration.is_some());
    }

    #[tokio::test]
    async fn a_gateway_refund_confirmed_is_marked_done() {
        let caller = principal(Role::Member);
        let (mut fixture, id) = cancelling(caller.user_id, PaymentMethod::Kakaopay);
        let mut order = mockall::Sequence::new();
        fixture
            .gateway
            .expect_refund()
            .withf(move |refunded, amount| *refunded == id && amount.get() == 30_000)
            .times(1)
            .in_sequence(&mut order)
            .returning(|_, _| Ok(()));
        fixture
            .registrations
            .expect_mark_refunded()
            .withf(move |marked, at| *marked == id && *at == now())
            .times(1)
            .in_sequence(&mut order)
            .returning(|_, _| Ok(()));
        let cancelled = fixture
            .catalog()
            .cancel_payment(&caller, id)
            .await
            .expect("cancelled");
        assert_eq!(cancelled.payment.refund, RefundState::Done);
    }

    #[tokio::test]
    async fn a_refund_the_provider_does_not_confirm_stays_owed_and_the_cancel_succeeds() {
        let caller = principal(Role::Member);
        for failure in [
            GatewayError::Timeout,
            GatewayError::Unavailable("down".into()),
            GatewayError::NothingToRefund,
        ] {
            let (mut fixture, id) = cancelling(caller.user_id, PaymentMethod::Card);
            fixture
                .gateway
                .expect_refund()
                .times(1)
                .return_once(move |_, _| Err(failure));
            fixture.registrations.expect_mark_refunded().never();
            let cancelled = fixture
                .catalog()
                .cancel_payment(&caller, id)
                .await
                .expect("cancelled anyway");
            assert_eq!(cancelled.payment.refund, RefundState::Pending);
        }
        // refunded, but the store could not record it: still owed (the repeat is idempotent)
        let (mut fixture, id) = cancelling(caller.user_id, PaymentMethod::BankTransfer);
        fixture.gateway.expect_refund().returning(|_, _| Ok(()));
        fixture
            .registrations
            .expect_mark_refunded()
            .returning(|_, _| Err(DependencyError::Unavailable("db".into())));
        let cancelled = fixture
            .catalog()
            .cancel_payment(&caller, id)
            .await
            .expect("cancelled anyway");
        assert_eq!(cancelled.payment.refund, RefundState::Pending);
    }

    #[tokio::test]
    async fn the_stores_refusals_keep_their_codes_and_refund_nothing() {
        for (refusal, class, code) in [
            (
                CancelPaymentError::NotFound,
                ErrorClass::NotFound,
                "payment_not_found",
            ),
            (
                CancelPaymentError::Refused(CancelRefusal::Completed),
                ErrorClass::Conflict,
                "registration_completed",
            ),
            (
                CancelPaymentError::Refused(CancelRefusal::AlreadyCancelled),
                ErrorClass::Conflict,
                "already_cancelled",
            ),
            (
                CancelPaymentError::Dependency(DependencyError::Indeterminate("lost".into())),
                ErrorClass::OutcomeUnknown,
                crate::OUTCOME_UNKNOWN,
            ),
        ] {
            let mut fixture = Fixture::new();
            fixture
                .registrations
                .expect_cancel_payment()
                .return_once(move |_, _, _| Err(refusal));
            fixture.gateway.expect_refund().never();
            let error = fixture
                .catalog()
                .cancel_payment(
                    &principal(Role::Member),
                    PaymentId::from_uuid(uuid::Uuid::now_v7()),
                )
                .await
                .expect_err("refused");
            assert_eq!((error.class(), error.code()), (class, code));
        }
    }
}
