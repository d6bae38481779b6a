//! The writes of one reservation, each inside the caller's `BEGIN IMMEDIATE` transaction.

use super::{ReservationRow, SlotRow, TxError};
use crate::micros;
use crate::schema::{exam_reservations, exam_slots};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::result::Error as QueryError;
use reserva_application::ports::exams::{NewReservation, ReservationWriteError};
use reserva_domain::exams::{
    Headcount, HourRange, Reservation, ReservationStatus, Slot, check_capacity_change,
};
use reserva_sql_support::exams::{expect_status, people, status_after_confirm};

/// The reservation, if it is still `expected`.
fn current(
    connection: &mut SqliteConnection,
    id: &str,
    expected: ReservationStatus,
) -> Result<Reservation, TxError> {
    let found = read(connection, id)?;
    expect_status(found, expected).map_err(TxError::Refused)
}

fn read(connection: &mut SqliteConnection, id: &str) -> Result<Option<Reservation>, TxError> {
    let row: Option<ReservationRow> = exam_reservations::table
        .find(id)
        .select(ReservationRow::as_select())
        .first(connection)
        .optional()?;
    Ok(row.map(ReservationRow::into_reservation).transpose()?)
}

pub(super) fn slots(
    connection: &mut SqliteConnection,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<SlotRow>, QueryError> {
    exam_slots::table
        .filter(exam_slots::starts_at.ge(micros(from)))
        .filter(exam_slots::starts_at.lt(micros(to)))
        .order(exam_slots::starts_at.asc())
        .select(SlotRow::as_select())
        .load(connection)
}

pub(super) fn slots_in(
    connection: &mut SqliteConnection,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Slot>, TxError> {
    Ok(slots(connection, from, to)?
        .into_iter()
        .map(SlotRow::into_slot)
        .collect::<Result<_, _>>()?)
}

pub(super) fn insert(
    connection: &mut SqliteConnection,
    new: &NewReservation,
) -> Result<ReservationRow, QueryError> {
    diesel::insert_into(exam_reservations::table)
        .values((
            exam_reservations::id.eq(new.id.as_uuid().to_string()),
            exam_reservations::user_id.eq(new.user_id.as_uuid().to_string()),
            exam_reservations::starts_at.eq(micros(new.range.starts_at())),
            exam_reservations::ends_at.eq(micros(new.range.ends_at())),
            exam_reservations::headcount.eq(people(new.headcount)),
            exam_reservations::status.eq(ReservationStatus::Pending.as_str()),
            exam_reservations::created_at.eq(micros(new.now)),
            exam_reservations::updated_at.eq(micros(new.now)),
        ))
        .returning(ReservationRow::as_returning())
        .get_result(connection)
}

pub(super) fn shift_counts(
    connection: &mut SqliteConnection,
    range: &HourRange,
    delta: i32,
) -> Result<(), TxError> {
    diesel::update(
        exam_slots::table
            .filter(exam_slots::starts_at.ge(micros(range.starts_at())))
            .filter(exam_slots::starts_at.lt(micros(range.ends_at()))),
    )
    .set(exam_slots::confirmed.eq(exam_slots::confirmed + delta))
    .execute(connection)?;
    Ok(())
}

pub(super) fn confirm(
    connection: &mut SqliteConnection,
    id: &str,
    now: i64,
) -> Result<ReservationRow, TxError> {
    let reservation =
        read(connection, id)?.ok_or(TxError::Refused(ReservationWriteError::NotFound))?;
    let status = status_after_confirm(&reservation).map_err(TxError::Refused)?;
    let range = reservation.range;
    let slots = slots_in(connection, range.starts_at(), range.ends_at())?;
    check_capacity_change(&slots, None, (&range, reservation.headcount))?;
    shift_counts(connection, &range, people(reservation.headcount))?;
    Ok(diesel::update(exam_reservations::table.find(id))
        .set((
            exam_reservations::status.eq(status.as_str()),
            exam_reservations::confirmed_at.eq(now),
            exam_reservations::updated_at.eq(now),
        ))
        .returning(ReservationRow::as_returning())
        .get_result(connection)?)
}

pub(super) fn cancel(
    connection: &mut SqliteConnection,
    id: &str,
    expected: ReservationStatus,
    now: i64,
) -> Result<ReservationRow, TxError> {
    let reservation = current(connection, id, expected)?;
    if reservation.status == ReservationStatus::Confirmed {
        shift_counts(
            connection,
            &reservation.range,
            -people(reservation.headcount),
        )?;
    }
    Ok(diesel::update(exam_reservations::table.find(id))
        .set((
            exam_reservations::status.eq(ReservationStatus::Cancelled.as_str()),
            exam_reservations::cancelled_at.eq(now),
            exam_reservations::updated_at.eq(now),
        ))
        .returning(ReservationRow::as_returning())
        .get_result(connection)?)
}

pub(super) fn edit(
    connection: &mut SqliteConnection,
    id: &str,
    expected: ReservationStatus,
    range: HourRange,
    headcount: Headcount,
    now: i64,
) -> Result<ReservationRow, TxError> {
    let existing = current(connection, id, expected)?;
    if existing.status == ReservationStatus::Confirmed {
        let old = existing.range;
        let from = old.starts_at().min(range.starts_at());
        let to = old.ends_at().max(range.ends_at());
        let slots = slots_in(connection, from, to)?;
        check_capacity_change(
            &slots,
            Some((&old, existing.headcount)),
            (&range, headcount),
        )?;
        shift_counts(connection, &old, -people(existing.headcount))?;
        shift_counts(connection, &range, people(headcount))?;
    }
    Ok(diesel::update(exam_reservations::table.find(id))
        .set((
            exam_reservations::starts_at.eq(micros(range.starts_at())),
            exam_reservations::ends_at.eq(micros(range.ends_at())),
            exam_reservations::headcount.eq(people(headcount)),
            exam_reservations::updated_at.eq(now),
        ))
        .returning(ReservationRow::as_returning())
        .get_result(connection)?)
}
