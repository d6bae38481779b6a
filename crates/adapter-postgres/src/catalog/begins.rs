//! Pending gateway payments, inserted in batches (group commit): every begin that arrives while
//! a batch is being written goes in the next one, all of them one `INSERT … SELECT … ON CONFLICT
//! DO NOTHING` that commits once.
//!
//! Each begin was one statement and one commit of its own, so every gateway apply waited for two
//! commits (this one, then its settle's batch) and PostgreSQL spent a statement and a commit on
//! every pending row. Batched, a row is inserted exactly as the single statement would have: the
//! item checked in the same statement (it exists, is not deleted, is open and costs the amount),
//! the user's one live place held by the partial unique index `catalog_payments_one_live`.
//!
//! A begin the batch did not insert — its id or its place is taken (also by an earlier begin of
//! the same batch: ten identical applies at once), or its item refused it — is explained alone
//! afterwards, by its caller on a connection of its own: what holds its id (a retry, resumed or
//! answered), whether its place is taken (409), or why the item refused it. Only when none of
//! these explains it (the item or the place changed meanwhile) is it begun again the single way.

use super::payments::{self, explain_unbatched};
use super::rows::PaymentRow;
use crate::prepared::column;
use crate::store::PoolTiming;
use crate::{PostgresStore, write_outcome_error};
use diesel::result::{DatabaseErrorKind, Error as QueryError};
use diesel::sql_types::{Array, BigInt, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use reserva_application::ports::catalog::{BeginPaymentError, Begun, PaymentIntent};
use reserva_domain::wallet::{Payment, PaymentId};
use reserva_sql_support::batch::{BatchQueue, Drainer, write_isolating};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

/// How many begins go in one statement at most.
const MAX_BEGIN_BATCH: usize = 64;

/// How many begins may wait for a batch; the next one gets a 503 at once (nothing was written).
const MAX_WAITING: usize = 8 * MAX_BEGIN_BATCH;

/// Every pending payment of a batch, each with its item checked as the single insert checks it
/// (`payments::INSERT_PAYMENT`). Rows go in in (user, item, id) order, the order of the unique
/// indexes they can clash on, so two instances' batches wait on each other in one direction only.
/// A clash on any unique index — the id, or the user's live place — inserts nothing for that row.
/// $1 ids, $2 users, $3 kinds, $4 items, $5 amounts, $6 methods, $7 instants.
const INSERT_PENDING: &str = "\
INSERT INTO catalog_payments (id, user_id, kind, item_id, item_title, amount, method, status,
                              created_at, paid_at)
SELECT v.id, v.user_id, i.kind, i.id, i.title, v.amount, v.method, 'pending', v.now, NULL
FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::uuid[], $5::bigint[], $6::text[],
            $7::timestamptz[]) AS v (id, user_id, kind, item_id, amount, method, now)
JOIN catalog_items i ON i.id = v.item_id AND i.kind = v.kind AND i.deleted_at IS NULL
 AND i.starts_at <= v.now AND v.now <= i.ends_at AND i.price = v.amount
ORDER BY v.user_id, v.item_id, v.id
ON CONFLICT DO NOTHING
RETURNING *";

/// What the batch made of a begin: its new pending payment, or `None` (not inserted: explain it).
type BatchOutcome = Result<Option<Payment>, BeginPaymentError>;

/// The queue of begins waiting for a batch, and its time limits (as the settles': a batch may
/// be written up to four times after deadlocks, and then row by row after a bad row, so it gets
/// several statements' time before its callers hear "outcome unknown").
struct BeginQueue {
    begins: Arc<BatchQueue<PaymentIntent, BatchOutcome>>,
    queue_wait: Duration,
    batch_time_limit: Duration,
}

impl BeginQueue {
    fn new(timing: PoolTiming) -> Self {
        Self {
            begins: Arc::new(BatchQueue::new(MAX_WAITING)),
            queue_wait: timing.acquire_timeout,
            batch_time_limit: timing.acquire_timeout + timing.statement_timeout * 6,
        }
    }
}

/// A batch that failed as a whole, and whether one of its rows could have caused it (then each
/// is written alone, so only that one fails).
#[derive(Debug, Clone)]
struct BatchFailure {
    error: BeginPaymentError,
    isolable: bool,
}

impl std::fmt::Display for BatchFailure {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(formatter)
    }
}

/// Inserts the batch's pending payments in one statement; each begin gets its row, or `None`.
/// Of begins sharing one id only the first in arrival order is sent: the statement would keep
/// whichever row sorts first, and that may be another intent's (another item, the same key).
/// The others get `None`, and are explained alone as they would be after it (a retry of it, or
/// the key reused).
async fn insert_all(
    connection: &mut diesel_async::AsyncPgConnection,
    intents: &[PaymentIntent],
) -> Result<Vec<BatchOutcome>, QueryError> {
    let mut ids = HashSet::with_capacity(intents.len());
    let sent: Vec<&PaymentIntent> = intents
        .iter()
        .filter(|intent| ids.insert(intent.payment_id))
        .collect();
    let rows: Vec<PaymentRow> = crate::prepared::sql_query(INSERT_PENDING)
        .bind::<Array<SqlUuid>, _>(column(&sent, |i| i.payment_id.as_uuid()))
        .bind::<Array<SqlUuid>, _>(column(&sent, |i| i.user_id.as_uuid()))
        .bind::<Array<Text>, _>(column(&sent, |i| i.kind.as_str()))
        .bind::<Array<SqlUuid>, _>(column(&sent, |i| i.item_id.as_uuid()))
        .bind::<Array<BigInt>, _>(column(&sent, |i| i.amount.get()))
        .bind::<Array<Text>, _>(column(&sent, |i| i.method.as_str()))
        .bind::<Array<Timestamptz>, _>(column(&sent, |i| i.now))
        .load(connection)
        .await?;
    let mut inserted: HashMap<PaymentId, Payment> = HashMap::with_capacity(rows.len());
    for row in rows {
        let payment = row
            .into_payment()
            .map_err(|error| QueryError::DeserializationError(error.to_string().into()))?;
        inserted.insert(payment.id, payment);
    }
    // The first begin with an id takes its row (removed, so a later one with the id gets none).
    Ok(intents
        .iter()
        .map(|intent| Ok(inserted.remove(&intent.payment_id)))
        .collect())
}

/// Whether a clash of the batch's rows made PostgreSQL abort it (then it is written again).
fn worth_retrying(error: &QueryError) -> bool {
    match error {
        QueryError::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => true,
        QueryError::DatabaseError(_, info) => info.message().contains("deadlock detected"),
        _ => false,
    }
}

/// Whether one row of the batch could have caused `error`: then each is written alone.
/// (A row that does not convert is not: the statement committed, so its outcome is unknown.)
fn isolable(error: &QueryError) -> bool {
    matches!(
        error,
        QueryError::DatabaseError(
            DatabaseErrorKind::CheckViolation
                | DatabaseErrorKind::ForeignKeyViolation
                | DatabaseErrorKind::NotNullViolation
                | DatabaseErrorKind::UniqueViolation,
            _
        )
    )
}

impl PostgresStore {
    /// This store's begin queue, shared by its clones.
    fn begin_queue(&self) -> Arc<BeginQueue> {
        let timing = self.timing();
        self.module_state(|| BeginQueue::new(timing))
    }

    /// Records a pending gateway payment with the next batch, or explains why the batch did not
    /// (see `RegistrationRepository::begin_payment`).
    pub(super) async fn begin_queued(
        &self,
        intent: PaymentIntent,
    ) -> Result<Begun, BeginPaymentError> {
        let queue = self.begin_queue();
        let store = self.clone();
        let outcome = queue
            .begins
            .submit(intent.clone(), queue.queue_wait, |drainer| {
                tokio::spawn(store.drain_begins(drainer));
            })
            .await
            .unwrap_or_else(|unwritten| Err(BeginPaymentError::Dependency(unwritten.into())))?;
        if let Some(payment) = outcome {
            return Ok(Begun::New(payment));
        }
        let mut connection = self.connection().await?;
        match explain_unbatched(&mut connection, &intent).await? {
            Some(begun) => Ok(begun),
            // Nothing holds its id or its place and the item takes it: something changed since
            // the batch. Begin it alone.
            None => payments::begin(&mut connection, &intent).await,
        }
    }

    /// Writes queued begins, batch after batch, until none wait.
    async fn drain_begins(self, drainer: Drainer<PaymentIntent, BatchOutcome>) {
        let batch_time_limit = self.begin_queue().batch_time_limit;
        drainer
            .drain(MAX_BEGIN_BATCH, batch_time_limit, |intents| {
                let store = self.clone();
                async move {
                    write_isolating(
                        &intents,
                        |batch: Vec<PaymentIntent>| {
                            let store = store.clone();
                            async move { store.begin_batch(&batch).await }
                        },
                        |failure: &BatchFailure| failure.isolable,
                        |failure| Err(failure.error),
                    )
                    .await
                }
            })
            .await;
    }

    /// [`insert_all`], written again when PostgreSQL aborted it to break a deadlock.
    async fn begin_batch(
        &self,
        intents: &[PaymentIntent],
    ) -> Result<Vec<BatchOutcome>, BatchFailure> {
        let mut attempts = 0;
        loop {
            let mut connection = self.connection().await.map_err(|error| BatchFailure {
                error: BeginPaymentError::Dependency(error),
                isolable: false,
            })?;
            match insert_all(&mut connection, intents).await {
                Ok(outcomes) => return Ok(outcomes),
                Err(error) if attempts < 3 && worth_retrying(&error) => attempts += 1,
                Err(error) => {
                    let isolable = isolable(&error);
                    let error = BeginPaymentError::Dependency(write_outcome_error(error));
                    return Err(BatchFailure { error, isolable });
                }
            }
        }
    }
}
