//! The exam tables' rows as PostgreSQL reads them (native `uuid` and `timestamptz`), turned into
//! entities by the conversions shared with SQLite.

use crate::schema::{exam_reservations, exam_slots};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use reserva_application::DependencyError;
use reserva_domain::exams::{Reservation, Slot};
use reserva_sql_support::exams::{StoredReservation, StoredSlot};
use uuid::Uuid;

#[derive(Queryable, Selectable)]
#[diesel(table_name = exam_slots, check_for_backend(diesel::pg::Pg))]
pub(super) struct SlotRow {
    pub(super) starts_at: DateTime<Utc>,
    capacity: i32,
    confirmed: i32,
}

impl SlotRow {
    pub(super) fn into_slot(self) -> Result<Slot, DependencyError> {
        StoredSlot {
            starts_at: self.starts_at,
            capacity: self.capacity,
            confirmed: self.confirmed,
        }
        .into_slot()
    }
}

#[derive(Queryable, QueryableByName, Selectable)]
#[diesel(table_name = exam_reservations, check_for_backend(diesel::pg::Pg))]
pub(super) struct ReservationRow {
    pub(super) id: Uuid,
    user_id: Uuid,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    headcount: i32,
    status: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    confirmed_at: Option<DateTime<Utc>>,
    cancelled_at: Option<DateTime<Utc>>,
}

impl ReservationRow {
    pub(super) fn into_reservation(self) -> Result<Reservation, DependencyError> {
        StoredReservation {
            id: self.id,
            user_id: self.user_id,
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            headcount: self.headcount,
            status: self.status,
            created_at: self.created_at,
            updated_at: self.updated_at,
            confirmed_at: self.confirmed_at,
            cancelled_at: self.cancelled_at,
        }
        .into_reservation()
    }
}
