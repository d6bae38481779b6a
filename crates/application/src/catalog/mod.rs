//! Catalog use cases: tests and courses (created by admins; courses also by their tutors), the
//! lists and reads every user sees, registering for an item with a payment (through the payment
//! gateway or from the wallet), completing a registration, the caller's payments and cancelling
//! one (with its refund), the reconciler that resolves what the gateway left open, and the
//! catalog audit of `reserva catalog verify`; and the deterministic seed of `reserva seed
//! catalog` ([`seed`]).
//!
//! The store decides every place: one live registration per user and item, held from the moment
//! a gateway payment is recorded `pending`, so a retry or a racing twin reaches the gateway with
//! the same payment id and the provider charges it once. A gateway answer that is lost leaves the
//! payment pending, and the reconciler asks the provider later; a refund the provider does not
//! confirm at once stays owed in the payment row, and the reconciler repeats it.

mod browse;
mod cancel;
mod complete;
pub(crate) mod items;
mod payments;
mod reconcile;
mod register;
pub mod seed;
#[cfg(test)]
mod test_support;

pub use browse::{GetItemError, ItemPage, ListItems, ListItemsError};
pub use cancel::CancelPaymentUseCaseError;
pub use complete::CompleteRegistrationError;
pub use items::{ItemChanges, ItemCommand, ItemEditError};
pub use payments::{GetPaymentError, ListPayments, ListPaymentsError, PaymentPage};
pub use reconcile::{RECONCILE_BATCH, ReconcileReport};
pub use register::{RegisterError, RegisterRequest, Registered};

use crate::DependencyError;
use crate::ports::accounts::UserRepository;
use crate::ports::catalog::{CatalogAudit, CatalogRepository, RegistrationRepository};
use crate::ports::payments::PaymentGateway;
use crate::ports::system::Clock;
use chrono::{DateTime, Utc};
use reserva_domain::exams::BusinessZone;
use reserva_domain::wallet::Payment;
use std::sync::Arc;
use std::time::Duration;

/// Everything the catalog use cases talk to.
#[derive(Clone)]
pub struct CatalogPorts {
    /// Tests and courses.
    pub items: Arc<dyn CatalogRepository>,
    /// Registrations and their payments.
    pub registrations: Arc<dyn RegistrationRepository>,
    /// The payment provider.
    pub gateway: Arc<dyn PaymentGateway>,
    /// Users (an admin naming a course's tutor: the user must be an active tutor).
    pub users: Arc<dyn UserRepository>,
    /// Time.
    pub clock: Arc<dyn Clock>,
}

/// How the catalog use cases are set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CatalogPolicy {
    /// The business time zone: what the `from` and `to` dates of a payment list mean.
    pub zone: BusinessZone,
    /// How old a pending payment must be before the reconciler asks the provider about it
    /// (`payments.reconcile_after_seconds`): longer than a request waits for the gateway, so the
    /// reconciler never races a request that is still charging.
    pub reconcile_after: Duration,
}

/// The catalog use cases.
#[derive(Clone)]
pub struct Catalog {
    ports: CatalogPorts,
    policy: CatalogPolicy,
}

impl Catalog {
    /// Builds the use cases.
    #[must_use]
    pub const fn new(ports: CatalogPorts, policy: CatalogPolicy) -> Self {
        Self { ports, policy }
    }

    /// The policy in force.
    #[must_use]
    pub const fn policy(&self) -> CatalogPolicy {
        self.policy
    }

    /// Checks every item's `registration_count` against its live registrations, one live
    /// registration per user and item, and one registration per paid payment.
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    pub async fn verify(&self) -> Result<CatalogAudit, DependencyError> {
        self.ports.registrations.verify_catalog().await
    }

    fn now(&self) -> DateTime<Utc> {
        self.ports.clock.now()
    }

    /// Gives back a charge the provider approved for a payment the store had already failed (no
    /// registration stands for it). Best effort: a refund that fails is logged for an operator,
    /// since a failed payment owes no refund the reconciler would repeat.
    async fn refund_unsettled(&self, payment: &Payment) {
        match self.ports.gateway.refund(payment.id, payment.amount).await {
            Ok(()) => {
                tracing::warn!(payment_id = %payment.id, "charge of a failed payment refunded");
            }
            Err(error) => {
                tracing::error!(payment_id = %payment.id, %error, "charge of a failed payment NOT refunded; refund it by hand");
            }
        }
    }
}
