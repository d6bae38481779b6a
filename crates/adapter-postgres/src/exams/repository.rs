//! The exam ports on the store: plain reads and writes here, the batched ones in their modules.

use super::TxError;
use super::changes::{cancel, edit, transaction_error};
use super::rows::ReservationRow;
use crate::schema::{exam_reservations, exam_slots};
use crate::{PostgresStore, query_error, write_outcome_error};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use reserva_application::DependencyError;
use reserva_application::ports::exams::{
    ExamSlotRepository, NewReservation, ReservationQuery, ReservationRepository,
    ReservationWriteError,
};
use reserva_domain::exams::{
    Headcount, HourRange, Reservation, ReservationId, ReservationStatus, Slot,
};
use reserva_sql_support::exams::{people, unreadable_after_write};

#[async_trait]
impl ExamSlotRepository for PostgresStore {
    async fn ensure_slots(
        &self,
        hours: &[DateTime<Utc>],
        capacity: u32,
    ) -> Result<u64, DependencyError> {
        if hours.is_empty() {
            return Ok(0);
        }
        let capacity = i32::try_from(capacity)
            .map_err(|_| DependencyError::Failed("capacity too large".into()))?;
        let rows: Vec<_> = hours
            .iter()
            .map(|hour| {
                (
                    exam_slots::starts_at.eq(*hour),
                    exam_slots::capacity.eq(capacity),
                )
            })
            .collect();
        let mut connection = self.connection().await?;
        let created = diesel::insert_into(exam_slots::table)
            .values(&rows)
            .on_conflict_do_nothing()
            .execute(&mut connection)
            .await
            .map_err(query_error)?;
        Ok(created as u64)
    }

    /// Read in batches ([`super::slot_reads`]): under load, one query answers many requests.
    async fn slots_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Slot>, DependencyError> {
        self.read_queued(from, to).await
    }
}

#[async_trait]
impl ReservationRepository for PostgresStore {
    async fn insert_reservation(
        &self,
        new: NewReservation,
    ) -> Result<Reservation, DependencyError> {
        let mut connection = self.connection().await?;
        let row = diesel::insert_into(exam_reservations::table)
            .values((
                exam_reservations::id.eq(new.id.as_uuid()),
                exam_reservations::user_id.eq(new.user_id.as_uuid()),
                exam_reservations::starts_at.eq(new.range.starts_at()),
                exam_reservations::ends_at.eq(new.range.ends_at()),
                exam_reservations::headcount.eq(people(new.headcount)),
                exam_reservations::status.eq(ReservationStatus::Pending.as_str()),
                exam_reservations::created_at.eq(new.now),
                exam_reservations::updated_at.eq(new.now),
            ))
            .returning(ReservationRow::as_returning())
            .get_result(&mut connection)
            .await
            .map_err(write_outcome_error)?;
        row.into_reservation().map_err(unreadable_after_write)
    }

    async fn insert_reservation_if_room(
        &self,
        new: NewReservation,
    ) -> Result<Option<Reservation>, DependencyError> {
        self.insert_queued(new).await
    }

    async fn find_reservation(
        &self,
        id: ReservationId,
    ) -> Result<Option<Reservation>, DependencyError> {
        let mut connection = self.connection().await?;
        exam_reservations::table
            .find(id.as_uuid())
            .select(ReservationRow::as_select())
            .first(&mut connection)
            .await
            .optional()
            .map_err(query_error)?
            .map(ReservationRow::into_reservation)
            .transpose()
    }

    async fn list_reservations(
        &self,
        query: &ReservationQuery,
    ) -> Result<Vec<Reservation>, DependencyError> {
        let mut connection = self.connection().await?;
        let mut select = exam_reservations::table
            .select(ReservationRow::as_select())
            .order(exam_reservations::id.desc())
            .limit(i64::from(query.limit.get()) + 1)
            .into_boxed();
        reserva_sql_support::filter_reservations!(
            select,
            exam_reservations,
            query,
            instant: |at| at,
            id: |id| id
        );
        let rows: Vec<ReservationRow> = select.load(&mut connection).await.map_err(query_error)?;
        rows.into_iter()
            .map(ReservationRow::into_reservation)
            .collect()
    }

    async fn update_reservation(
        &self,
        id: ReservationId,
        expected: ReservationStatus,
        range: HourRange,
        headcount: Headcount,
        now: DateTime<Utc>,
    ) -> Result<Reservation, ReservationWriteError> {
        let mut connection = self.connection().await?;
        let row = connection
            .transaction(async |connection| {
                edit(connection, id, expected, range, headcount, now).await
            })
            .await
            .map_err(|error: TxError| error.into_refusal(transaction_error))?;
        Ok(row.into_reservation()?)
    }

    async fn confirm_reservation(
        &self,
        id: ReservationId,
        now: DateTime<Utc>,
    ) -> Result<Reservation, ReservationWriteError> {
        self.confirm_queued(id, now).await
    }

    async fn cancel_reservation(
        &self,
        id: ReservationId,
        expected: ReservationStatus,
        now: DateTime<Utc>,
    ) -> Result<Reservation, ReservationWriteError> {
        let mut connection = self.connection().await?;
        let row = connection
            .transaction(async |connection| cancel(connection, id, expected, now).await)
            .await
            .map_err(|error: TxError| error.into_refusal(transaction_error))?;
        Ok(row.into_reservation()?)
    }
}
