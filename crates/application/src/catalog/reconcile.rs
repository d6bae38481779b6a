//! The reconciler (a background job, one instance at a time under the jobs lock): it asks the
//! provider about every payment left pending longer than a request waits (an answer lost to a
//! timeout) and settles or fails it, then repeats every refund the provider has not confirmed.

use super::Catalog;
use crate::DependencyError;
use crate::ports::catalog::SettleError;
use crate::ports::payments::{GatewayError, GatewayRecord};
use chrono::{DateTime, TimeDelta, Utc};

/// What one reconciliation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReconcileReport {
    /// Pending payments the provider had charged: now paid and registered.
    pub settled: u32,
    /// Pending payments the provider declined or never received: now failed.
    pub failed: u32,
    /// Owed refunds the provider confirmed (or had nothing to refund): now done.
    pub refunded: u32,
    /// Payments and refunds the provider could not tell about: left for the next run.
    pub left: u32,
}

impl Catalog {
    /// Resolves up to `limit` pending payments older than the policy's `reconcile_after`, then up
    /// to `limit` owed refunds.
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails; the provider failing on one payment only leaves
    /// it (counted in `left`).
    #[tracing::instrument(skip_all)]
    pub async fn reconcile(&self, limit: u32) -> Result<ReconcileReport, DependencyError> {
        let now = self.now();
        let mut report = ReconcileReport::default();
        let registrations = &self.ports.registrations;
        let gateway = &self.ports.gateway;
        let before = pending_before(now, self.policy.reconcile_after);
        for payment in registrations.pending_payments(before, limit).await? {
            let id = payment.id;
            let record = match gateway.lookup(id).await {
                Ok(record) => record,
                Err(error) => {
                    tracing::warn!(payment_id = %id, %error, "provider could not tell; left pending");
                    report.left += 1;
                    continue;
                }
            };
            if let GatewayRecord::Approved { reference } = record {
                match registrations.settle_payment(id, &reference, now).await {
                    Ok(_) => report.settled += 1,
                    Err(SettleError::Dependency(error)) => return Err(error),
                    Err(error @ (SettleError::NotFound | SettleError::NotPending(_))) => {
                        // Resolved meanwhile (failed by a request that learnt otherwise): the
                        // provider holds a charge the store does not; an operator must look.
                        tracing::error!(payment_id = %id, %error, "provider charged a payment the store did not settle");
                    }
                }
            } else {
                // Declined, never received, or (never expected) refunded: nothing is charged.
                match registrations.fail_payment(id, now).await {
                    Ok(_) => report.failed += 1,
                    Err(SettleError::Dependency(error)) => return Err(error),
                    Err(error) => {
                        tracing::warn!(payment_id = %id, %error, "pending payment vanished");
                    }
                }
            }
        }
        for payment in registrations.pending_refunds(limit).await? {
            let id = payment.id;
            match gateway.refund(id, payment.amount).await {
                Ok(()) => {}
                Err(GatewayError::NothingToRefund) => {
                    tracing::error!(payment_id = %id, "the provider has no charge to refund; marked refunded");
                }
                Err(error) => {
                    tracing::warn!(payment_id = %id, %error, "refund not confirmed; left owed");
                    report.left += 1;
                    continue;
                }
            }
            registrations.mark_refunded(id, now).await?;
            report.refunded += 1;
        }
        Ok(report)
    }
}

/// The instant before which a pending payment is the reconciler's: `reconcile_after` ago.
fn pending_before(now: DateTime<Utc>, reconcile_after: std::time::Duration) -> DateTime<Utc> {
    TimeDelta::from_std(reconcile_after)
        .ok()
        .and_then(|age| now.checked_sub_signed(age))
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}
