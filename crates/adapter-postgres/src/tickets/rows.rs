//! The tickets tables' rows as PostgreSQL reads them (native `uuid`, `timestamptz`, `date`),
//! turned into entities by the conversions shared with SQLite.

use crate::schema::{bookings, concerts, performances, seat_holds};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use reserva_application::DependencyError;
use reserva_domain::tickets::{Booking, Concert, Performance, SeatHold};
use reserva_sql_support::tickets::{StoredBooking, StoredConcert, StoredHold, StoredPerformance};
use uuid::Uuid;

#[derive(Queryable, QueryableByName, Selectable)]
#[diesel(table_name = concerts, check_for_backend(diesel::pg::Pg))]
pub(super) struct ConcertRow {
    pub(super) id: Uuid,
    pub(super) title: String,
    pub(super) price: i64,
    pub(super) created_at: DateTime<Utc>,
}

impl ConcertRow {
    pub(super) fn into_concert(
        self,
        performances: Vec<Performance>,
    ) -> Result<Concert, DependencyError> {
        StoredConcert {
            id: self.id,
            title: self.title,
            price: self.price,
            created_at: self.created_at,
        }
        .into_concert(performances)
    }
}

#[derive(Queryable, QueryableByName, Selectable, Insertable)]
#[diesel(table_name = performances, check_for_backend(diesel::pg::Pg))]
pub(super) struct PerformanceRow {
    pub(super) id: Uuid,
    pub(super) concert_id: Uuid,
    pub(super) starts_at: DateTime<Utc>,
    pub(super) local_date: NaiveDate,
    pub(super) seat_count: i16,
    pub(super) cancelled_at: Option<DateTime<Utc>>,
}

impl PerformanceRow {
    pub(super) fn into_performance(self) -> Result<Performance, DependencyError> {
        StoredPerformance {
            id: self.id,
            concert_id: self.concert_id,
            starts_at: self.starts_at,
            local_date: self.local_date,
            seat_count: i32::from(self.seat_count),
            cancelled_at: self.cancelled_at,
        }
        .into_performance()
    }
}

#[derive(Queryable, QueryableByName, Selectable)]
#[diesel(table_name = seat_holds, check_for_backend(diesel::pg::Pg))]
pub(super) struct HoldRow {
    id: Uuid,
    performance_id: Uuid,
    concert_id: Uuid,
    seat_number: i16,
    user_id: Uuid,
    price: i64,
    status: String,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
}

impl HoldRow {
    pub(super) fn into_hold(self) -> Result<SeatHold, DependencyError> {
        StoredHold {
            id: self.id,
            performance_id: self.performance_id,
            concert_id: self.concert_id,
            seat_number: i32::from(self.seat_number),
            user_id: self.user_id,
            price: self.price,
            status: self.status,
            created_at: self.created_at,
            expires_at: self.expires_at,
        }
        .into_hold()
    }
}

#[derive(Queryable, QueryableByName, Selectable)]
#[diesel(table_name = bookings, check_for_backend(diesel::pg::Pg))]
pub(super) struct BookingRow {
    id: Uuid,
    hold_id: Uuid,
    performance_id: Uuid,
    concert_id: Uuid,
    seat_number: i16,
    user_id: Uuid,
    price: i64,
    payment_id: Uuid,
    status: String,
    created_at: DateTime<Utc>,
    refunded_at: Option<DateTime<Utc>>,
}

impl BookingRow {
    pub(super) fn into_booking(self) -> Result<Booking, DependencyError> {
        StoredBooking {
            id: self.id,
            hold_id: self.hold_id,
            performance_id: self.performance_id,
            concert_id: self.concert_id,
            seat_number: i32::from(self.seat_number),
            user_id: self.user_id,
            price: self.price,
            payment_id: self.payment_id,
            status: self.status,
            created_at: self.created_at,
            refunded_at: self.refunded_at,
        }
        .into_booking()
    }
}

/// Converts every row, failing on the first that does not convert.
pub(super) fn all<Row, Entity>(
    rows: Vec<Row>,
    convert: impl Fn(Row) -> Result<Entity, DependencyError>,
) -> Result<Vec<Entity>, DependencyError> {
    rows.into_iter().map(convert).collect()
}
