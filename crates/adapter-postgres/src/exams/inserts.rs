//! New reservations, inserted in batches: every create that arrives while a batch is being
//! written goes in the next one, one statement for all ([`super::statements`]).

use super::rows::ReservationRow;
use super::statements::InsertIfRoomStatement;
use crate::{PostgresStore, write_outcome_error};
use diesel_async::RunQueryDsl;
use reserva_application::DependencyError;
use reserva_application::ports::exams::NewReservation;
use reserva_domain::exams::Reservation;
use reserva_sql_support::batch::{BatchQueue, Drainer, write_isolating};
use reserva_sql_support::exams::unreadable_after_write;
use std::collections::HashMap;
use uuid::Uuid;

/// How many reservations go in one insert at most.
const MAX_INSERT_BATCH: usize = 256;

/// What became of a reservation to insert if its hours have room.
type InsertOutcome = Result<Option<Reservation>, DependencyError>;

/// Reservations waiting to be inserted together.
pub(super) type InsertQueue = BatchQueue<NewReservation, InsertOutcome>;

impl PostgresStore {
    /// Queues a reservation for the next insert batch.
    pub(super) async fn insert_queued(&self, new: NewReservation) -> InsertOutcome {
        let queues = self.exam_queues();
        let store = self.clone();
        queues
            .inserts
            .submit(new, queues.queue_wait, |drainer| {
                tokio::spawn(store.drain_inserts(drainer));
            })
            .await
            .unwrap_or_else(|unwritten| Err(unwritten.into()))
    }

    /// Inserts queued reservations, batch after batch, until none wait. One bad row (a user
    /// deleted meanwhile) fails only itself; a transient failure (pool or statement timeout, an
    /// outage) would fail each row again, so it answers the whole batch at once.
    async fn drain_inserts(self, drainer: Drainer<NewReservation, InsertOutcome>) {
        let batch_time_limit = self.exam_queues().batch_time_limit;
        drainer
            .drain(MAX_INSERT_BATCH, batch_time_limit, |requests| {
                let store = self.clone();
                async move {
                    write_isolating(
                        &requests,
                        |batch: Vec<NewReservation>| {
                            let store = store.clone();
                            async move { store.insert_batch(&batch).await }
                        },
                        |error| matches!(error, DependencyError::Failed(_)),
                        Err,
                    )
                    .await
                }
            })
            .await;
    }

    /// [`INSERT_IF_ROOM`] for `batch`: for each request, its stored reservation, or `None` when an
    /// hour lacked a slot or room. The statement commits on its own, so a row that comes back
    /// unreadable fails only its own request, never the batch (whose rows are written).
    async fn insert_batch(
        &self,
        batch: &[NewReservation],
    ) -> Result<Vec<InsertOutcome>, DependencyError> {
        let mut connection = self.connection().await?;
        let rows: Vec<ReservationRow> = InsertIfRoomStatement::new(batch)
            .load(&mut connection)
            .await
            .map_err(write_outcome_error)?;
        let mut stored: HashMap<Uuid, ReservationRow> =
            rows.into_iter().map(|row| (row.id, row)).collect();
        Ok(batch
            .iter()
            .map(|new| {
                stored
                    .remove(&new.id.as_uuid())
                    .map(|row| row.into_reservation().map_err(unreadable_after_write))
                    .transpose()
            })
            .collect())
    }
}
