//! Edits and cancellations: one transaction each, locking the reservation, then (for a confirmed
//! one) its hours in ascending order, then writing the counts and the row.

use super::TxError;
use super::rows::{ReservationRow, SlotRow};
use crate::schema::{exam_reservations, exam_slots};
use crate::write_outcome_error;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::result::Error as QueryError;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use reserva_application::ports::exams::ReservationWriteError;
use reserva_domain::exams::{
    Headcount, HourRange, Reservation, ReservationId, ReservationStatus, Slot,
    check_capacity_change,
};
use reserva_sql_support::exams::{expect_status, people};

/// A database error of a transaction here. Every transaction here writes: an answer lost on the
/// way may hide a COMMIT.
pub(super) fn transaction_error(error: QueryError) -> ReservationWriteError {
    ReservationWriteError::Dependency(write_outcome_error(error))
}

/// Locks the reservation row and checks its status.
async fn lock_reservation(
    connection: &mut AsyncPgConnection,
    id: ReservationId,
    expected: ReservationStatus,
) -> Result<Reservation, TxError> {
    let row: Option<ReservationRow> = exam_reservations::table
        .find(id.as_uuid())
        .select(ReservationRow::as_select())
        .for_update()
        .first(connection)
        .await
        .optional()?;
    let found = row.map(ReservationRow::into_reservation).transpose()?;
    expect_status(found, expected).map_err(TxError::Refused)
}

/// Locks the slots starting in `[from, to)`, in ascending order.
async fn lock_slots(
    connection: &mut AsyncPgConnection,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Slot>, TxError> {
    let rows: Vec<SlotRow> = exam_slots::table
        .filter(exam_slots::starts_at.ge(from))
        .filter(exam_slots::starts_at.lt(to))
        .order(exam_slots::starts_at.asc())
        .select(SlotRow::as_select())
        .for_update()
        .load(connection)
        .await?;
    Ok(rows
        .into_iter()
        .map(SlotRow::into_slot)
        .collect::<Result<_, _>>()?)
}

/// Adds `delta` people to every slot of `range` (negative to give places back).
async fn shift_counts(
    connection: &mut AsyncPgConnection,
    range: &HourRange,
    delta: i32,
) -> Result<(), TxError> {
    diesel::update(
        exam_slots::table
            .filter(exam_slots::starts_at.ge(range.starts_at()))
            .filter(exam_slots::starts_at.lt(range.ends_at())),
    )
    .set(exam_slots::confirmed.eq(exam_slots::confirmed + delta))
    .execute(connection)
    .await?;
    Ok(())
}

pub(super) async fn cancel(
    connection: &mut AsyncPgConnection,
    id: ReservationId,
    expected: ReservationStatus,
    now: DateTime<Utc>,
) -> Result<ReservationRow, TxError> {
    let reservation = lock_reservation(connection, id, expected).await?;
    if reservation.status == ReservationStatus::Confirmed {
        let range = reservation.range;
        lock_slots(connection, range.starts_at(), range.ends_at()).await?;
        shift_counts(connection, &range, -people(reservation.headcount)).await?;
    }
    Ok(diesel::update(exam_reservations::table.find(id.as_uuid()))
        .set((
            exam_reservations::status.eq(ReservationStatus::Cancelled.as_str()),
            exam_reservations::cancelled_at.eq(now),
            exam_reservations::updated_at.eq(now),
        ))
        .returning(ReservationRow::as_returning())
        .get_result(connection)
        .await?)
}

pub(super) async fn edit(
    connection: &mut AsyncPgConnection,
    id: ReservationId,
    expected: ReservationStatus,
    range: HourRange,
    headcount: Headcount,
    now: DateTime<Utc>,
) -> Result<ReservationRow, TxError> {
    let current = lock_reservation(connection, id, expected).await?;
    if current.status == ReservationStatus::Confirmed {
        let old = current.range;
        let from = old.starts_at().min(range.starts_at());
        let to = old.ends_at().max(range.ends_at());
        let slots = lock_slots(connection, from, to).await?;
        check_capacity_change(&slots, Some((&old, current.headcount)), (&range, headcount))?;
        shift_counts(connection, &old, -people(current.headcount)).await?;
        shift_counts(connection, &range, people(headcount)).await?;
    }
    Ok(diesel::update(exam_reservations::table.find(id.as_uuid()))
        .set((
            exam_reservations::starts_at.eq(range.starts_at()),
            exam_reservations::ends_at.eq(range.ends_at()),
            exam_reservations::headcount.eq(people(headcount)),
            exam_reservations::updated_at.eq(now),
        ))
        .returning(ReservationRow::as_returning())
        .get_result(connection)
        .await?)
}
