//! The reconciler (a background job, one instance at a time under the jobs lock): it asks the
//! provider about every payment left pending longer than a request waits (an answer lost to a
//! timeout) and settles or fails it, then repeats every refund the provider has not confirmed.

use super::Catalog;
use crate::DependencyError;
use crate::ports::catalog::SettleError;
use crate::ports::payments::{GatewayError, GatewayRecord};
use chrono::{DateTime, TimeDelta, Utc};
use reserva_domain::wallet::PaymentStatus;

/// The most pending payments, and owed refunds, one reconciliation takes (the job's `limit`).
pub const RECONCILE_BATCH: u32 = 100;

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
                    Err(SettleError::NotPending(_)) => {
                        // Failed meanwhile by a request that learnt otherwise: the provider holds
                        // a charge no registration stands for, so it is given back.
                        self.refund_unsettled(&payment).await;
                    }
                    Err(SettleError::NotFound) => {
                        tracing::error!(payment_id = %id, "provider charged a payment the store no longer has");
                    }
                }
            } else {
                // Declined, never received, or (never expected) refunded: nothing is charged.
                // Only if no retry has resumed it since it was listed (a resume records it
                // again, after `before`): that retry is charging it now.
                match registrations.fail_payment(id, before).await {
                    Ok(stands) if stands.status == PaymentStatus::Pending => report.left += 1,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::test_support::{Fixture, RECONCILE_AFTER, now, payment, settled};
    use crate::ports::catalog::SettleError;
    use chrono::Duration;
    use reserva_domain::accounts::UserId;
    use reserva_domain::wallet::{Payment, PaymentId, PaymentMethod, PaymentStatus};
    use std::collections::HashMap;

    fn of_status(status: PaymentStatus) -> Payment {
        payment(
            UserId::from_uuid(uuid::Uuid::now_v7()),
            PaymentMethod::Card,
            status,
        )
    }

    /// The provider's lookups, by payment.
    fn lookups(
        fixture: &mut Fixture,
        answers: HashMap<PaymentId, Result<GatewayRecord, GatewayError>>,
    ) {
        fixture
            .gateway
            .expect_lookup()
            .times(answers.len())
            .returning(move |id| {
                answers
                    .get(&id)
                    .cloned()
                    .unwrap_or(Err(GatewayError::Timeout))
            });
    }

    #[tokio::test]
    async fn settles_fails_or_leaves_each_old_pending_payment_by_the_providers_record() {
        let [approved, declined, unknown, silent] =
            [(); 4].map(|()| of_status(PaymentStatus::Pending));
        let mut fixture = Fixture::new();
        let pending = vec![
            approved.clone(),
            declined.clone(),
            unknown.clone(),
            silent.clone(),
        ];
        fixture
            .registrations
            .expect_pending_payments()
            .withf(|before, limit| {
                *before == now() - Duration::seconds(30) && *limit == RECONCILE_BATCH
            })
            .times(1)
            .return_once(move |_, _| Ok(pending));
        lookups(
            &mut fixture,
            HashMap::from([
                (
                    approved.id,
                    Ok(GatewayRecord::Approved {
                        reference: "ref-a".into(),
                    }),
                ),
                (
                    declined.id,
                    Ok(GatewayRecord::Declined {
                        reason: "no".into(),
                    }),
                ),
                (unknown.id, Ok(GatewayRecord::Unknown)),
                (silent.id, Err(GatewayError::Unavailable("down".into()))),
            ]),
        );
        let (settle_id, copy) = (approved.id, approved.clone());
        fixture
            .registrations
            .expect_settle_payment()
            .withf(move |id, reference, at| {
                *id == settle_id && reference == "ref-a" && *at == now()
            })
            .times(1)
            .return_once(move |_, reference, _| Ok(settled(copy, reference)));
        let failing = [declined.id, unknown.id];
        fixture
            .registrations
            .expect_fail_payment()
            .withf(move |id, at| failing.contains(id) && *at == now() - Duration::seconds(30))
            .times(2)
            .returning(|id, _| {
                let mut failed = of_status(PaymentStatus::Failed);
                failed.id = id;
                Ok(failed)
            });
        fixture
            .registrations
            .expect_pending_refunds()
            .returning(|_| Ok(vec![]));
        let report = fixture.catalog().reconcile(RECONCILE_BATCH).await;
        assert_eq!(
            report,
            Ok(ReconcileReport {
                settled: 1,
                failed: 2,
                refunded: 0,
                left: 1,
            })
        );
        assert_eq!(RECONCILE_AFTER.as_secs(), 30);
    }

    #[tokio::test]
    async fn repeats_owed_refunds_and_marks_those_the_provider_confirms() {
        let [confirmed, nothing, silent] = [(); 3].map(|()| of_status(PaymentStatus::Cancelled));
        let mut fixture = Fixture::new();
        fixture
            .registrations
            .expect_pending_payments()
            .returning(|_, _| Ok(vec![]));
        let owed = vec![confirmed.clone(), nothing.clone(), silent.clone()];
        fixture
            .registrations
            .expect_pending_refunds()
            .withf(|limit| *limit == 50)
            .times(1)
            .return_once(move |_| Ok(owed));
        let (nothing_id, silent_id) = (nothing.id, silent.id);
        fixture
            .gateway
            .expect_refund()
            .times(3)
            .returning(move |id, amount| {
                assert_eq!(amount.get(), 30_000);
                if id == nothing_id {
                    Err(GatewayError::NothingToRefund)
                } else if id == silent_id {
                    Err(GatewayError::Timeout)
                } else {
                    Ok(())
                }
            });
        let marked = [confirmed.id, nothing.id];
        fixture
            .registrations
            .expect_mark_refunded()
            .withf(move |id, at| marked.contains(id) && *at == now())
            .times(2)
            .returning(|_, _| Ok(()));
        let report = fixture.catalog().reconcile(50).await;
        assert_eq!(
            report,
            Ok(ReconcileReport {
                settled: 0,
                failed: 0,
                refunded: 2,
                left: 1,
            })
        );
    }

    #[tokio::test]
    async fn a_payment_failed_meanwhile_gets_its_charge_back_and_the_run_goes_on() {
        let (raced, next) = (
            of_status(PaymentStatus::Pending),
            of_status(PaymentStatus::Pending),
        );
        let mut fixture = Fixture::new();
        let pending = vec![raced.clone(), next.clone()];
        fixture
            .registrations
            .expect_pending_payments()
            .return_once(move |_, _| Ok(pending));
        fixture.gateway.expect_lookup().times(2).returning(|_| {
            Ok(GatewayRecord::Approved {
                reference: "ref".into(),
            })
        });
        let raced_id = raced.id;
        fixture
            .registrations
            .expect_settle_payment()
            .times(2)
            .returning(move |id, reference, _| {
                if id == raced_id {
                    Err(SettleError::NotPending(PaymentStatus::Failed))
                } else {
                    Ok(settled(of_status(PaymentStatus::Pending), reference))
                }
            });
        fixture
            .gateway
            .expect_refund()
            .withf(move |id, _| *id == raced_id)
            .times(1)
            .returning(|_, _| Ok(()));
        fixture
            .registrations
            .expect_pending_refunds()
            .returning(|_| Ok(vec![]));
        let report = fixture.catalog().reconcile(100).await;
        assert_eq!(report.map(|r| (r.settled, r.left)), Ok((1, 0)));
    }

    #[tokio::test]
    async fn the_store_failing_stops_the_run() {
        let mut fixture = Fixture::new();
        fixture
            .registrations
            .expect_pending_payments()
            .returning(|_, _| Err(DependencyError::Unavailable("db".into())));
        fixture.gateway.expect_lookup().never();
        assert!(fixture.catalog().reconcile(100).await.is_err());

        let mut fixture = Fixture::new();
        let pending = vec![of_status(PaymentStatus::Pending)];
        fixture
            .registrations
            .expect_pending_payments()
            .return_once(move |_, _| Ok(pending));
        fixture
            .gateway
            .expect_lookup()
            .returning(|_| Ok(GatewayRecord::Unknown));
        fixture
            .registrations
            .expect_fail_payment()
            .returning(|_, _| Err(DependencyError::Unavailable("db".into()).into()));
        fixture.registrations.expect_pending_refunds().never();
        assert!(fixture.catalog().reconcile(100).await.is_err());
    }

    #[test]
    fn an_age_beyond_the_calendar_reaches_back_to_its_start() {
        let huge = std::time::Duration::from_secs(u64::MAX);
        assert_eq!(pending_before(now(), huge), DateTime::<Utc>::MIN_UTC);
        assert_eq!(
            pending_before(now(), std::time::Duration::from_secs(30)),
            now() - Duration::seconds(30)
        );
    }

    #[tokio::test]
    async fn a_payment_resumed_since_it_was_listed_is_left_to_its_retry() {
        let mut fixture = Fixture::new();
        let pending = vec![of_status(PaymentStatus::Pending)];
        fixture
            .registrations
            .expect_pending_payments()
            .return_once(move |_, _| Ok(pending));
        fixture
            .gateway
            .expect_lookup()
            .returning(|_| Ok(GatewayRecord::Unknown));
        // recorded again by a retry after the cutoff: the store leaves it pending
        fixture
            .registrations
            .expect_fail_payment()
            .times(1)
            .returning(|id, _| {
                let mut stands = of_status(PaymentStatus::Pending);
                stands.id = id;
                Ok(stands)
            });
        fixture
            .registrations
            .expect_pending_refunds()
            .returning(|_| Ok(vec![]));
        let report = fixture.catalog().reconcile(100).await.expect("report");
        assert_eq!((report.failed, report.left), (0, 1));
    }
}
