//! Confirms, committed in batches (group commit): every confirm that arrives while a batch is
//! being written goes in the next one, decided one by one in arrival order, in one transaction.

use super::rows::{ReservationRow, SlotRow};
use super::statements::MarkConfirmedStatement;
use super::{TxError, changes::transaction_error};
use crate::PostgresStore;
use crate::schema::{exam_reservations, exam_slots};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as QueryError};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use reserva_application::DependencyError;
use reserva_application::ports::exams::ReservationWriteError;
use reserva_domain::exams::{
    Reservation, ReservationId, Slot, check_capacity_change, take_capacity,
};
use reserva_sql_support::batch::{BatchQueue, Drainer, write_isolating};
use reserva_sql_support::exams::{people, status_after_confirm};
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

/// How many confirms go in one transaction at most.
pub(super) const MAX_CONFIRM_BATCH: usize = 256;

/// A confirm waiting for its batch.
#[derive(Debug, Clone, Copy)]
pub(super) struct ConfirmRequest {
    id: ReservationId,
    now: DateTime<Utc>,
}

/// What became of a confirm.
type ConfirmOutcome = Result<Reservation, ReservationWriteError>;

/// Confirms waiting to be written together (group commit).
pub(super) type ConfirmQueue = BatchQueue<ConfirmRequest, ConfirmOutcome>;

/// Confirms `requests` in one transaction, in order, as if one after another: each one takes its
/// headcount in every covered hour or fails on its own (not found, not pending — also when an
/// earlier request of the batch confirmed it —, a missing slot or a full hour, naming it).
///
/// Locks are taken as everywhere else: the reservation rows first (in id order), then the slots of
/// every covered hour, in ascending order. The rule is checked against
/// the locked counts, which the batch updates as it goes; then each touched hour is updated
/// once, and the confirmed reservations in one statement (each with its own request's time). A hot hour thus costs one row lock,
/// one update and one commit per batch instead of per confirm.
async fn confirm_all(
    connection: &mut AsyncPgConnection,
    requests: &[ConfirmRequest],
) -> Result<Vec<Result<Reservation, ReservationWriteError>>, TxError> {
    let mut ids: Vec<Uuid> = requests.iter().map(|r| r.id.as_uuid()).collect();
    ids.sort_unstable();
    ids.dedup();
    let rows: Vec<ReservationRow> = exam_reservations::table
        .filter(exam_reservations::id.eq_any(&ids))
        .order(exam_reservations::id.asc())
        .select(ReservationRow::as_select())
        .for_update()
        .load(connection)
        .await?;
    let mut found = HashMap::with_capacity(rows.len());
    for row in rows {
        let reservation = row.into_reservation()?;
        found.insert(reservation.id, reservation);
    }
    // Only the hours the pending ones cover (not everything between the earliest and the latest),
    // in ascending order like every other capacity change.
    let mut hours: Vec<DateTime<Utc>> = found
        .values()
        .filter(|r| status_after_confirm(r).is_ok())
        .flat_map(|r| r.range.hours())
        .collect();
    hours.sort_unstable();
    hours.dedup();
    let rows: Vec<SlotRow> = exam_slots::table
        .filter(exam_slots::starts_at.eq_any(&hours))
        .order(exam_slots::starts_at.asc())
        .select(SlotRow::as_select())
        .for_update()
        .load(connection)
        .await?;
    let mut slots: Vec<Slot> = rows
        .into_iter()
        .map(SlotRow::into_slot)
        .collect::<Result<_, _>>()?;
    let mut taken: BTreeMap<DateTime<Utc>, i32> = BTreeMap::new();
    let mut confirmed = MarkConfirmedStatement::default();
    let mut outcomes = Vec::with_capacity(requests.len());
    for request in requests {
        let outcome = found
            .get_mut(&request.id)
            .ok_or(ReservationWriteError::NotFound)
            .and_then(|r| {
                let status = status_after_confirm(r)?;
                check_capacity_change(&slots, None, (&r.range, r.headcount))?;
                take_capacity(&mut slots, &r.range, r.headcount);
                // Every locked slot the range covers, as `shift_counts` counts them on a cancel.
                let covered = slots.iter().filter(|slot| {
                    r.range.starts_at() <= slot.starts_at && slot.starts_at < r.range.ends_at()
                });
                for slot in covered {
                    *taken.entry(slot.starts_at).or_default() += people(r.headcount);
                }
                r.status = status;
                confirmed.ids.push(r.id.as_uuid());
                confirmed.at.push(request.now);
                Ok(())
            });
        outcomes.push(outcome);
    }
    for (hour, people) in taken {
        diesel::update(exam_slots::table.find(hour))
            .set(exam_slots::confirmed.eq(exam_slots::confirmed + people))
            .execute(connection)
            .await?;
    }
    let written: Vec<ReservationRow> = confirmed.load(connection).await?;
    let mut written: HashMap<ReservationId, Reservation> = written
        .into_iter()
        .map(|row| row.into_reservation().map(|r| (r.id, r)))
        .collect::<Result<_, _>>()?;
    Ok(requests
        .iter()
        .zip(outcomes)
        .map(|(request, outcome)| {
            outcome.and_then(|()| {
                written.remove(&request.id).ok_or_else(|| {
                    ReservationWriteError::Dependency(DependencyError::Failed(
                        "a confirmed reservation was not written".into(),
                    ))
                })
            })
        })
        .collect())
}

/// Whether a transaction failed only because it lost a race PostgreSQL resolves by aborting it.
fn worth_retrying(error: &TxError) -> bool {
    match error {
        TxError::Query(QueryError::DatabaseError(DatabaseErrorKind::SerializationFailure, _)) => {
            true
        }
        TxError::Query(QueryError::DatabaseError(_, info)) => {
            info.message().contains("deadlock detected")
        }
        _ => false,
    }
}

impl PostgresStore {
    /// Queues a confirm for the next batch.
    pub(super) async fn confirm_queued(
        &self,
        id: ReservationId,
        now: DateTime<Utc>,
    ) -> ConfirmOutcome {
        let queues = self.exam_queues();
        let store = self.clone();
        queues
            .confirms
            .submit(ConfirmRequest { id, now }, queues.queue_wait, |drainer| {
                tokio::spawn(store.drain_confirms(drainer));
            })
            .await
            .unwrap_or_else(|unwritten| Err(DependencyError::from(unwritten).into()))
    }

    /// Writes queued confirms, batch after batch, until none wait. If a batch fails on something
    /// one confirm can cause (a row that does not convert), each confirm is retried alone.
    async fn drain_confirms(self, drainer: Drainer<ConfirmRequest, ConfirmOutcome>) {
        let batch_time_limit = self.exam_queues().batch_time_limit;
        drainer
            .drain(MAX_CONFIRM_BATCH, batch_time_limit, |requests| {
                let store = self.clone();
                async move {
                    write_isolating(
                        &requests,
                        |batch: Vec<ConfirmRequest>| {
                            let store = store.clone();
                            async move { store.confirm_batch(&batch).await }
                        },
                        |error| {
                            matches!(
                                error,
                                ReservationWriteError::Dependency(DependencyError::Failed(_))
                            )
                        },
                        Err,
                    )
                    .await
                }
            })
            .await;
    }

    /// [`confirm_all`] in a transaction, retried when PostgreSQL aborted it to break a deadlock.
    async fn confirm_batch(
        &self,
        requests: &[ConfirmRequest],
    ) -> Result<Vec<Result<Reservation, ReservationWriteError>>, ReservationWriteError> {
        let mut attempts = 0;
        loop {
            let mut connection = self.connection().await?;
            let result = connection
                .transaction(async |connection| confirm_all(connection, requests).await)
                .await;
            match result {
                Err(error) if attempts < 3 && worth_retrying(&error) => attempts += 1,
                other => return other.map_err(|error| error.into_refusal(transaction_error)),
            }
        }
    }
}
