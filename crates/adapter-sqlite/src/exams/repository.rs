//! The exam ports on the store.

use super::changes::{cancel, confirm, edit, insert, slots};
use super::{ReservationRow, SlotRow, TxError, dependency};
use crate::schema::{exam_reservations, exam_slots};
use crate::{SqliteStore, micros, query_error};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::result::Error as QueryError;
use reserva_application::DependencyError;
use reserva_application::ports::exams::{
    ExamSlotRepository, NewReservation, ReservationQuery, ReservationRepository,
    ReservationWriteError,
};
use reserva_domain::exams::{
    Headcount, HourRange, Reservation, ReservationId, ReservationStatus, Slot,
};
use reserva_sql_support::exams::people;

fn transaction_error(error: QueryError) -> ReservationWriteError {
    ReservationWriteError::Dependency(query_error(error))
}

#[async_trait]
impl ExamSlotRepository for SqliteStore {
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
        let hours: Vec<i64> = hours.iter().copied().map(micros).collect();
        self.write(move |connection| {
            let rows: Vec<_> = hours
                .iter()
                .map(|hour| {
                    (
                        exam_slots::starts_at.eq(*hour),
                        exam_slots::capacity.eq(capacity),
                    )
                })
                .collect();
            let created = diesel::insert_or_ignore_into(exam_slots::table)
                .values(&rows)
                .execute(connection)?;
            Ok::<_, TxError>(created as u64)
        })
        .await
        .map_err(dependency)
    }

    async fn slots_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Slot>, DependencyError> {
        let rows = self
            .read(move |connection| slots(connection, from, to))
            .await?;
        rows.into_iter().map(SlotRow::into_slot).collect()
    }
}

#[async_trait]
impl ReservationRepository for SqliteStore {
    async fn insert_reservation(
        &self,
        new: NewReservation,
    ) -> Result<Reservation, DependencyError> {
        let row: ReservationRow = self
            .write(move |connection| insert(connection, &new).map_err(TxError::Query))
            .await
            .map_err(dependency)?;
        row.into_reservation()
    }

    async fn insert_reservation_if_room(
        &self,
        new: NewReservation,
    ) -> Result<Option<Reservation>, DependencyError> {
        let row: Option<ReservationRow> = self
            .write(move |connection| {
                let hours = i64::try_from(new.range.hours().len()).unwrap_or(i64::MAX);
                let with_room: i64 = exam_slots::table
                    .filter(exam_slots::starts_at.ge(micros(new.range.starts_at())))
                    .filter(exam_slots::starts_at.lt(micros(new.range.ends_at())))
                    .filter(
                        (exam_slots::confirmed + people(new.headcount)).le(exam_slots::capacity),
                    )
                    .count()
                    .get_result(connection)
                    .map_err(TxError::Query)?;
                if with_room != hours {
                    return Ok(None);
                }
                insert(connection, &new).map(Some).map_err(TxError::Query)
            })
            .await
            .map_err(dependency)?;
        row.map(ReservationRow::into_reservation).transpose()
    }

    async fn find_reservation(
        &self,
        id: ReservationId,
    ) -> Result<Option<Reservation>, DependencyError> {
        let id = id.as_uuid().to_string();
        self.read(move |connection| {
            exam_reservations::table
                .find(id)
                .select(ReservationRow::as_select())
                .first(connection)
                .optional()
        })
        .await?
        .map(ReservationRow::into_reservation)
        .transpose()
    }

    async fn list_reservations(
        &self,
        query: &ReservationQuery,
    ) -> Result<Vec<Reservation>, DependencyError> {
        let query = query.clone();
        let rows: Vec<ReservationRow> = self
            .read(move |connection| {
                let mut select = exam_reservations::table
                    .select(ReservationRow::as_select())
                    .order(exam_reservations::id.desc())
                    .limit(i64::from(query.limit.get()) + 1)
                    .into_boxed();
                reserva_sql_support::filter_reservations!(
                    select,
                    exam_reservations,
                    query,
                    instant: micros,
                    id: |id: uuid::Uuid| id.to_string()
                );
                select.load(connection)
            })
            .await?;
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
        let row = self
            .write(move |connection| {
                edit(
                    connection,
                    &id.as_uuid().to_string(),
                    expected,
                    range,
                    headcount,
                    micros(now),
                )
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
        let row = self
            .write(move |connection| confirm(connection, &id.as_uuid().to_string(), micros(now)))
            .await
            .map_err(|error: TxError| error.into_refusal(transaction_error))?;
        Ok(row.into_reservation()?)
    }

    async fn cancel_reservation(
        &self,
        id: ReservationId,
        expected: ReservationStatus,
        now: DateTime<Utc>,
    ) -> Result<Reservation, ReservationWriteError> {
        let row = self
            .write(move |connection| {
                cancel(connection, &id.as_uuid().to_string(), expected, micros(now))
            })
            .await
            .map_err(|error: TxError| error.into_refusal(transaction_error))?;
        Ok(row.into_reservation()?)
    }
}
