//! Slot reads, answered in batches: reads that arrive while a batch of reads runs go together in
//! the next batch, one query per distinct range. A read never joins a query that started before
//! it arrived, so it sees every write committed before it.

use super::rows::SlotRow;
use crate::schema::exam_slots;
use crate::{PostgresStore, query_error};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use reserva_application::DependencyError;
use reserva_domain::exams::Slot;
use reserva_sql_support::batch::{BatchQueue, Drainer};

/// How many slot reads go in one batch at most.
const MAX_READ_BATCH: usize = 1024;

/// A slot read: the hours from, to.
type SlotRange = (DateTime<Utc>, DateTime<Utc>);

/// Slot reads waiting to be answered together.
pub(super) type SlotReadQueue = BatchQueue<SlotRange, Result<Vec<Slot>, DependencyError>>;

impl PostgresStore {
    /// Queues a slot read for the next batch of reads.
    pub(super) async fn read_queued(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Slot>, DependencyError> {
        let queues = self.exam_queues();
        let store = self.clone();
        queues
            .slot_reads
            .submit((from, to), queues.queue_wait, |drainer| {
                tokio::spawn(store.drain_slot_reads(drainer));
            })
            .await
            .unwrap_or_else(|unread| {
                Err(DependencyError::Unavailable(format!(
                    "database: slot read not answered ({unread:?})"
                )))
            })
    }

    /// Answers queued slot reads, batch after batch, with one query per distinct range.
    async fn drain_slot_reads(
        self,
        drainer: Drainer<SlotRange, Result<Vec<Slot>, DependencyError>>,
    ) {
        let batch_time_limit = self.exam_queues().batch_time_limit;
        drainer
            .drain(MAX_READ_BATCH, batch_time_limit, |ranges| {
                let store = self.clone();
                async move {
                    let mut distinct = ranges.clone();
                    distinct.sort_unstable();
                    distinct.dedup();
                    let answers = store.read_ranges(&distinct).await;
                    ranges
                        .iter()
                        .map(|range| {
                            distinct.binary_search(range).map_or_else(
                                |_| {
                                    Err(DependencyError::Failed(
                                        "a batched slot read lost its range".into(),
                                    ))
                                },
                                |index| answers[index].clone(),
                            )
                        })
                        .collect()
                }
            })
            .await;
    }

    /// The slots of each range, one query each: the first here, the others in tasks of their own,
    /// so a batch of many dates runs on several pooled connections at once.
    async fn read_ranges(&self, ranges: &[SlotRange]) -> Vec<Result<Vec<Slot>, DependencyError>> {
        let mut others = tokio::task::JoinSet::new();
        for (index, &(from, to)) in ranges.iter().enumerate().skip(1) {
            let store = self.clone();
            others.spawn(async move { (index, store.read_range(from, to).await) });
        }
        let lost = || Err(DependencyError::Failed("a slot read task failed".into()));
        let mut answers: Vec<_> = ranges.iter().map(|_| lost()).collect();
        if let (Some(&(from, to)), Some(first)) = (ranges.first(), answers.first_mut()) {
            *first = self.read_range(from, to).await;
        }
        while let Some(joined) = others.join_next().await {
            match joined {
                Ok((index, answer)) => answers[index] = answer,
                Err(error) => tracing::error!(%error, "slot read task failed"),
            }
        }
        answers
    }

    /// The slots starting in `[from, to)`, in order.
    async fn read_range(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Slot>, DependencyError> {
        let mut connection = self.connection().await?;
        let rows: Vec<SlotRow> = exam_slots::table
            .filter(exam_slots::starts_at.ge(from))
            .filter(exam_slots::starts_at.lt(to))
            .order(exam_slots::starts_at.asc())
            .select(SlotRow::as_select())
            .load(&mut connection)
            .await
            .map_err(query_error)?;
        rows.into_iter().map(SlotRow::into_slot).collect()
    }
}
