//! Settles of approved gateway payments, committed in batches (group commit): every settle that
//! arrives while a batch is being written goes in the next one, decided one by one in arrival
//! order, in one transaction.
//!
//! Without batching every settle held its item's row — which all of the item's buyers share —
//! from its count update to its commit, so one item's applies settled one commit at a time (the
//! hot-row limit of `scripts/bench-catalog-pgbench`). A batch locks its payments (in id order),
//! decides each settle on its own (settle, as it stands, refused), writes all the settles in
//! three statements — every payment paid, every registration, every ledger transfer with its
//! entries (`payments::settle_all_rows`), not three statements per settle — then
//! updates each touched item's count once, last and in id order — the lock order of every other
//! catalog write (payment, registration, wallet, item) — and commits once.

use super::payments::{ToSettle, corrupt, count, registration_of, settle_all_rows};
use super::rows::PaymentRow;
use crate::{PostgresStore, write_outcome_error};
use chrono::{DateTime, Utc};
use diesel::result::{DatabaseErrorKind, Error as QueryError};
use diesel::sql_types::{Array, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use reserva_application::DependencyError;
use reserva_application::ports::catalog::{SettleError, Settled};
use reserva_domain::catalog::ItemId;
use reserva_domain::wallet::{Payment, PaymentId};
use reserva_sql_support::TxError;
use reserva_sql_support::batch::{BatchQueue, Drainer, write_isolating};
use reserva_sql_support::catalog::{SettleStep, check_settle};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

use crate::store::PoolTiming;

/// How many settles go in one transaction at most.
const MAX_SETTLE_BATCH: usize = 64;

/// How many settles may wait for a batch; the next one gets a 503 at once (its payment stays
/// pending at the provider's approval: the reconciler settles it). Eight full batches.
const MAX_WAITING: usize = 8 * MAX_SETTLE_BATCH;

/// A settle waiting for its batch.
#[derive(Debug, Clone)]
struct SettleRequest {
    id: PaymentId,
    provider_reference: String,
    now: DateTime<Utc>,
}

/// What became of a settle.
type SettleOutcome = Result<Settled, SettleError>;

/// The catalog's state in the store: its settle queue and its time limits (as the exams' queues:
/// a queued settle waits at most the acquire timeout to be taken; a batch that overruns its
/// limit answers "outcome unknown").
struct CatalogQueues {
    settles: Arc<BatchQueue<SettleRequest, SettleOutcome>>,
    queue_wait: Duration,
    batch_time_limit: Duration,
}

impl CatalogQueues {
    fn new(timing: PoolTiming) -> Self {
        Self {
            settles: Arc::new(BatchQueue::new(MAX_WAITING)),
            queue_wait: timing.acquire_timeout,
            batch_time_limit: timing.acquire_timeout + timing.statement_timeout * 6,
        }
    }
}

/// A batch that failed as a whole, and whether one of its settles could have caused it (then
/// each is written alone, so only that one fails).
#[derive(Debug, Clone)]
struct BatchFailure {
    error: SettleError,
    isolable: bool,
}

impl std::fmt::Display for BatchFailure {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(formatter)
    }
}

/// Settles `requests` in one transaction, in order, as if one after another: each is settled,
/// found already settled (also by an earlier request of the batch: the same registration), or
/// refused on its own (not found, failed). The counts are added last, once per item.
async fn settle_all(
    connection: &mut AsyncPgConnection,
    requests: &[SettleRequest],
) -> Result<Vec<SettleOutcome>, TxError<SettleError>> {
    let mut ids: Vec<Uuid> = requests.iter().map(|r| r.id.as_uuid()).collect();
    ids.sort_unstable();
    ids.dedup();
    let rows: Vec<PaymentRow> = crate::prepared::sql_query(
        "SELECT * FROM catalog_payments WHERE id = ANY($1) ORDER BY id FOR UPDATE",
    )
    .bind::<Array<SqlUuid>, _>(ids)
    .load(connection)
    .await?;
    let mut payments: HashMap<PaymentId, Payment> = HashMap::with_capacity(rows.len());
    for row in rows {
        let payment = row.into_payment()?;
        payments.insert(payment.id, payment);
    }
    // What each request comes to: refused, as it stands (paid before), or settled by this
    // batch; a repeat of an id settled or found earlier in the batch is answered the same.
    let mut plans: Vec<Result<PaymentId, SettleError>> = Vec::with_capacity(requests.len());
    let mut done: HashMap<PaymentId, Settled> = HashMap::new();
    let mut to_settle: Vec<ToSettle<'_>> = Vec::new();
    let mut settling: HashSet<PaymentId> = HashSet::new();
    for request in requests {
        if done.contains_key(&request.id) || settling.contains(&request.id) {
            plans.push(Ok(request.id));
            continue;
        }
        let Some(payment) = payments.get(&request.id) else {
            plans.push(Err(SettleError::NotFound));
            continue;
        };
        match check_settle(payment.status) {
            Err(refusal) => plans.push(Err(refusal)),
            Ok(SettleStep::Unchanged) => {
                match registration_of(connection, payment.id, false).await? {
                    Some(registration) => {
                        let settled = Settled {
                            payment: payment.clone(),
                            registration,
                        };
                        done.insert(payment.id, settled);
                        plans.push(Ok(payment.id));
                    }
                    None => plans.push(Err(SettleError::Dependency(corrupt(
                        "a settled payment without its registration",
                    )))),
                }
            }
            Ok(SettleStep::Settle) => {
                settling.insert(payment.id);
                to_settle.push(ToSettle {
                    payment,
                    provider_reference: &request.provider_reference,
                    now: request.now,
                });
                plans.push(Ok(payment.id));
            }
        }
    }
    // item → registrations to count; a BTreeMap, so the item rows are locked in id order
    let mut counts: BTreeMap<Uuid, i64> = BTreeMap::new();
    match settle_all_rows(connection, &to_settle).await {
        Ok(settled) => {
            for settled in settled {
                *counts.entry(settled.payment.item_id.as_uuid()).or_default() += 1;
                done.insert(settled.payment.id, settled);
            }
        }
        Err(TxError::Query(error)) => return Err(TxError::Query(error)),
        // A transfer already posted: some payment's data is wrong, not the batch's.
        Err(TxError::Refused(_)) => {
            return Err(TxError::Refused(SettleError::Dependency(corrupt(
                "the transfer of a pending payment is already posted",
            ))));
        }
    }
    for (item, delta) in counts {
        count(connection, ItemId::from_uuid(item), delta).await?;
    }
    Ok(plans
        .into_iter()
        .map(|plan| {
            plan.and_then(|id| {
                done.get(&id).cloned().ok_or_else(|| {
                    SettleError::Dependency(corrupt("a settle of the batch has no outcome"))
                })
            })
        })
        .collect())
}

/// Whether the batch lost a race PostgreSQL resolves by aborting it (then it is written again).
fn worth_retrying(error: &TxError<SettleError>) -> bool {
    match error {
        TxError::Query(QueryError::DatabaseError(DatabaseErrorKind::SerializationFailure, _)) => {
            true
        }
        TxError::Query(QueryError::DatabaseError(_, info)) => {
            info.message().contains("deadlock detected")
        }
        TxError::Query(_) | TxError::Refused(_) => false,
    }
}

/// Whether one settle of the batch could have caused `error` (a row that breaks a constraint or
/// does not convert): then each is written alone. An outage is no one settle's fault.
fn isolable(error: &TxError<SettleError>) -> bool {
    match error {
        TxError::Refused(SettleError::Dependency(DependencyError::Failed(_))) => true,
        TxError::Query(QueryError::DeserializationError(_)) => true,
        TxError::Query(QueryError::DatabaseError(kind, _)) => matches!(
            kind,
            DatabaseErrorKind::UniqueViolation
                | DatabaseErrorKind::CheckViolation
                | DatabaseErrorKind::ForeignKeyViolation
                | DatabaseErrorKind::NotNullViolation
        ),
        TxError::Query(_) | TxError::Refused(_) => false,
    }
}

impl PostgresStore {
    /// This store's catalog queues, shared by its clones.
    fn catalog_queues(&self) -> Arc<CatalogQueues> {
        let timing = self.timing();
        self.module_state(|| CatalogQueues::new(timing))
    }

    /// Settles an approved payment with the next batch (see `RegistrationRepository::settle_payment`).
    pub(super) async fn settle_queued(
        &self,
        id: PaymentId,
        provider_reference: &str,
        now: DateTime<Utc>,
    ) -> SettleOutcome {
        let queues = self.catalog_queues();
        let store = self.clone();
        let request = SettleRequest {
            id,
            provider_reference: provider_reference.to_owned(),
            now,
        };
        queues
            .settles
            .submit(request, queues.queue_wait, |drainer| {
                tokio::spawn(store.drain_settles(drainer));
            })
            .await
            .unwrap_or_else(|unwritten| Err(SettleError::Dependency(unwritten.into())))
    }

    /// Writes queued settles, batch after batch, until none wait.
    async fn drain_settles(self, drainer: Drainer<SettleRequest, SettleOutcome>) {
        let batch_time_limit = self.catalog_queues().batch_time_limit;
        drainer
            .drain(MAX_SETTLE_BATCH, batch_time_limit, |requests| {
                let store = self.clone();
                async move {
                    write_isolating(
                        &requests,
                        |batch: Vec<SettleRequest>| {
                            let store = store.clone();
                            async move { store.settle_batch(&batch).await }
                        },
                        |failure: &BatchFailure| failure.isolable,
                        |failure| Err(failure.error),
                    )
                    .await
                }
            })
            .await;
    }

    /// [`settle_all`] in a transaction, retried when PostgreSQL aborted it to break a deadlock.
    async fn settle_batch(
        &self,
        requests: &[SettleRequest],
    ) -> Result<Vec<SettleOutcome>, BatchFailure> {
        let mut attempts = 0;
        loop {
            let mut connection = self.connection().await.map_err(|error| BatchFailure {
                error: SettleError::Dependency(error),
                isolable: false,
            })?;
            let result = connection
                .transaction(async |connection| settle_all(connection, requests).await)
                .await;
            match result {
                Ok(outcomes) => return Ok(outcomes),
                Err(error) if attempts < 3 && worth_retrying(&error) => attempts += 1,
                Err(error) => {
                    let isolable = isolable(&error);
                    let error = error
                        .into_refusal(|error| SettleError::Dependency(write_outcome_error(error)));
                    return Err(BatchFailure { error, isolable });
                }
            }
        }
    }
}
