//! `ExamSlotRepository` and `ReservationRepository` on PostgreSQL.
//!
//! Every capacity change runs in one transaction that first locks the reservation row(s), then the
//! slot rows it touches in ascending order (`FOR UPDATE`), asks the domain whether the change is
//! allowed, and writes. The lock order is the same everywhere, so transactions queue instead of
//! deadlocking. Writes and slot reads that arrive together go together: confirms in one
//! transaction per batch ([`confirms`]), new reservations in one statement per batch
//! ([`inserts`]), slot reads in one query per distinct range ([`slot_reads`]).

mod changes;
mod confirms;
mod inserts;
mod repository;
mod rows;
mod slot_reads;
mod statements;

use crate::PostgresStore;
use crate::store::PoolTiming;
use reserva_application::ports::exams::ReservationWriteError;
use std::sync::Arc;
use std::time::Duration;

/// A transaction of this module that failed.
type TxError = reserva_sql_support::TxError<ReservationWriteError>;

/// How many writes may wait for a batch, per queue; the next one gets a 503 at once. Eight full
/// batches: more would only wait past the acquire timeout anyway.
const MAX_WAITING: usize = 8 * confirms::MAX_CONFIRM_BATCH;

/// The exams module's state in the store: its batch queues and their time limits.
struct ExamQueues {
    confirms: Arc<confirms::ConfirmQueue>,
    inserts: Arc<inserts::InsertQueue>,
    slot_reads: Arc<slot_reads::SlotReadQueue>,
    /// How long a queued write may wait to be taken into a batch before it gives up with a 503:
    /// the pool's acquire timeout, the wait a request had before batching.
    queue_wait: Duration,
    /// How long a batch may take before its callers hear that its outcome is unknown: a safety
    /// net against a database that stops answering without closing the connection, far above
    /// what a healthy batch takes (a connection, then a few statements each bounded by
    /// `statement_timeout` on the server, retried after a deadlock). The URL's
    /// `tcp_user_timeout` notices such a database sooner, on every query.
    batch_time_limit: Duration,
}

impl ExamQueues {
    fn new(timing: PoolTiming) -> Self {
        Self {
            confirms: Arc::new(confirms::ConfirmQueue::new(MAX_WAITING)),
            inserts: Arc::new(inserts::InsertQueue::new(MAX_WAITING)),
            slot_reads: Arc::new(slot_reads::SlotReadQueue::new(MAX_WAITING)),
            queue_wait: timing.acquire_timeout,
            batch_time_limit: timing.acquire_timeout + timing.statement_timeout * 6,
        }
    }
}

impl PostgresStore {
    /// This store's exam queues, shared by its clones.
    fn exam_queues(&self) -> Arc<ExamQueues> {
        let timing = self.timing();
        self.module_state(|| ExamQueues::new(timing))
    }
}
