//! `ExamSlotRepository` and `ReservationRepository` on SQLite.
//!
//! Capacity changes run in one `BEGIN IMMEDIATE` transaction: no other writer can run between the
//! capacity check and the write, and the `CHECK` constraint on `confirmed` backs the rule up.

use crate::schema::{exam_reservations, exam_slots};
use crate::{SqliteStore, instant, micros, query_error, uuid};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::result::Error as QueryError;
use reserva_application::DependencyError;
use reserva_application::ports::exams::{
    ExamSlotRepository, NewReservation, ReservationQuery, ReservationRepository,
    ReservationWriteError, Slot, check_capacity_change,
};
use reserva_domain::accounts::UserId;
use reserva_domain::exams::{Headcount, HourRange, Reservation, ReservationId, ReservationStatus};

#[derive(Queryable, Selectable)]
#[diesel(table_name = exam_slots, check_for_backend(diesel::sqlite::Sqlite))]
struct SlotRow {
    starts_at: i64,
    capacity: i32,
    confirmed: i32,
}

impl SlotRow {
    fn into_slot(self) -> Result<Slot, DependencyError> {
        let corrupt = |_| DependencyError::Failed("stored slot has a negative count".into());
        Ok(Slot {
            starts_at: instant(self.starts_at)?,
            capacity: u32::try_from(self.capacity).map_err(corrupt)?,
            confirmed: u32::try_from(self.confirmed).map_err(corrupt)?,
        })
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = exam_reservations, check_for_backend(diesel::sqlite::Sqlite))]
struct ReservationRow {
    id: String,
    user_id: String,
    starts_at: i64,
    ends_at: i64,
    headcount: i32,
    status: String,
    created_at: i64,
    updated_at: i64,
    confirmed_at: Option<i64>,
    cancelled_at: Option<i64>,
}

impl ReservationRow {
    fn into_reservation(self) -> Result<Reservation, DependencyError> {
        let corrupt = |what: &str| {
            DependencyError::Failed(format!("stored reservation has an invalid {what}"))
        };
        Ok(Reservation {
            id: ReservationId::from_uuid(uuid(&self.id)?),
            user_id: UserId::from_uuid(uuid(&self.user_id)?),
            range: HourRange::from_stored(instant(self.starts_at)?, instant(self.ends_at)?)
                .map_err(|_| corrupt("range"))?,
            headcount: Headcount::new(i64::from(self.headcount))
                .map_err(|_| corrupt("headcount"))?,
            status: self.status.parse().map_err(|()| corrupt("status"))?,
            created_at: instant(self.created_at)?,
            updated_at: instant(self.updated_at)?,
            confirmed_at: self.confirmed_at.map(instant).transpose()?,
            cancelled_at: self.cancelled_at.map(instant).transpose()?,
        })
    }
}

/// Failures inside a write: a refusal, or the database itself.
enum TxError {
    Refused(ReservationWriteError),
    Query(QueryError),
}

impl From<QueryError> for TxError {
    fn from(error: QueryError) -> Self {
        Self::Query(error)
    }
}

impl From<DependencyError> for TxError {
    fn from(error: DependencyError) -> Self {
        Self::Refused(ReservationWriteError::Dependency(error))
    }
}

impl From<TxError> for ReservationWriteError {
    fn from(error: TxError) -> Self {
        match error {
            TxError::Refused(error) => error,
            TxError::Query(error) => Self::Dependency(query_error(error)),
        }
    }
}

fn dependency(error: TxError) -> DependencyError {
    match ReservationWriteError::from(error) {
        ReservationWriteError::Dependency(error) => error,
        other => DependencyError::Failed(other.to_string()),
    }
}

fn people(headcount: Headcount) -> i32 {
    i32::try_from(headcount.get()).unwrap_or(i32::MAX)
}

fn current(
    connection: &mut SqliteConnection,
    id: &str,
    expected: ReservationStatus,
) -> Result<Reservation, TxError> {
    let row: Option<ReservationRow> = exam_reservations::table
        .find(id)
        .select(ReservationRow::as_select())
        .first(connection)
        .optional()?;
    let Some(row) = row else {
        return Err(TxError::Refused(ReservationWriteError::NotFound));
    };
    let reservation = row.into_reservation()?;
    if reservation.status != expected {
        return Err(TxError::Refused(ReservationWriteError::StatusChanged {
            current: reservation.status,
        }));
    }
    Ok(reservation)
}

fn slots(
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

fn slots_in(
    connection: &mut SqliteConnection,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Slot>, TxError> {
    Ok(slots(connection, from, to)?
        .into_iter()
        .map(SlotRow::into_slot)
        .collect::<Result<_, _>>()?)
}

fn insert(
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

fn shift_counts(
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

fn confirm(
    connection: &mut SqliteConnection,
    id: &str,
    now: i64,
) -> Result<ReservationRow, TxError> {
    let reservation = current(connection, id, ReservationStatus::Pending)?;
    let range = reservation.range;
    let slots = slots_in(connection, range.starts_at(), range.ends_at())?;
    check_capacity_change(&slots, None, (&range, reservation.headcount))
        .map_err(TxError::Refused)?;
    shift_counts(connection, &range, people(reservation.headcount))?;
    Ok(diesel::update(exam_reservations::table.find(id))
        .set((
            exam_reservations::status.eq(ReservationStatus::Confirmed.as_str()),
            exam_reservations::confirmed_at.eq(now),
            exam_reservations::updated_at.eq(now),
        ))
        .returning(ReservationRow::as_returning())
        .get_result(connection)?)
}

fn cancel(
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

fn edit(
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
        )
        .map_err(TxError::Refused)?;
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
                if let Some(user) = query.user_id {
                    select =
                        select.filter(exam_reservations::user_id.eq(user.as_uuid().to_string()));
                }
                if let Some(status) = query.status {
                    select = select.filter(exam_reservations::status.eq(status.as_str()));
                }
                if let Some(from) = query.from {
                    select = select.filter(exam_reservations::ends_at.gt(micros(from)));
                }
                if let Some(to) = query.to {
                    select = select.filter(exam_reservations::starts_at.lt(micros(to)));
                }
                if let Some(before) = query.before {
                    select = select.filter(exam_reservations::id.lt(before.as_uuid().to_string()));
                }
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
            .map_err(ReservationWriteError::from)?;
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
            .map_err(ReservationWriteError::from)?;
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
            .map_err(ReservationWriteError::from)?;
        Ok(row.into_reservation()?)
    }
}
