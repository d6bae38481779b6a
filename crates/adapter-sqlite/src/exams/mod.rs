//! `ExamSlotRepository` and `ReservationRepository` on SQLite.
//!
//! Capacity changes run in one `BEGIN IMMEDIATE` transaction: no other writer can run between the
//! capacity check (the domain's) and the write, and the `CHECK` constraint on `confirmed` backs
//! the rule up.

mod changes;
mod repository;

use crate::schema::{exam_reservations, exam_slots};
use crate::{instant, uuid};
use diesel::prelude::*;
use reserva_application::DependencyError;
use reserva_application::ports::exams::ReservationWriteError;
use reserva_domain::exams::{Reservation, Slot};
use reserva_sql_support::exams::{StoredReservation, StoredSlot};

/// A transaction of this module that failed.
type TxError = reserva_sql_support::TxError<ReservationWriteError>;

/// The dependency failure a failed write is: a refusal here can only be the store's own.
fn dependency(error: TxError) -> DependencyError {
    match error.into_refusal(|error| ReservationWriteError::Dependency(crate::query_error(error))) {
        ReservationWriteError::Dependency(error) => error,
        other => DependencyError::Failed(other.to_string()),
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = exam_slots, check_for_backend(diesel::sqlite::Sqlite))]
struct SlotRow {
    starts_at: i64,
    capacity: i32,
    confirmed: i32,
}

impl SlotRow {
    fn into_slot(self) -> Result<Slot, DependencyError> {
        StoredSlot {
            starts_at: instant(self.starts_at)?,
            capacity: self.capacity,
            confirmed: self.confirmed,
        }
        .into_slot()
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
        StoredReservation {
            id: uuid(&self.id)?,
            user_id: uuid(&self.user_id)?,
            starts_at: instant(self.starts_at)?,
            ends_at: instant(self.ends_at)?,
            headcount: self.headcount,
            status: self.status,
            created_at: instant(self.created_at)?,
            updated_at: instant(self.updated_at)?,
            confirmed_at: self.confirmed_at.map(instant).transpose()?,
            cancelled_at: self.cancelled_at.map(instant).transpose()?,
        }
        .into_reservation()
    }
}
