//! `ConcertRepository` and `SeatHoldRepository` on SQLite.
//!
//! Every write runs in one `BEGIN IMMEDIATE` transaction, but the guards are the statements
//! themselves, as on PostgreSQL: a hold is a conditional `UPDATE` of the seat's row (free only if
//! unsold and its hold expired) and a guarded upsert of the user's claim on the concert's date;
//! zero rows changed is the refusal, and the transaction is rolled back.

mod audit;
mod cancel;
mod concerts;
mod holds;
mod payment;
mod seats;

use crate::schema::{bookings, performances, seat_holds};
use crate::{instant, uuid};
use chrono::NaiveDate;
use diesel::prelude::*;
use reserva_application::DependencyError;
use reserva_domain::tickets::{Booking, Concert, Performance, SeatHold};
use reserva_sql_support::tickets::{StoredBooking, StoredConcert, StoredHold, StoredPerformance};

fn corrupt(what: &str) -> DependencyError {
    DependencyError::Failed(format!("stored {what} is corrupt"))
}

/// A date as stored: `YYYY-MM-DD`.
fn date_text(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = crate::schema::concerts, check_for_backend(diesel::sqlite::Sqlite))]
struct ConcertRow {
    id: String,
    title: String,
    price: i64,
    created_at: i64,
}

impl ConcertRow {
    fn into_concert(self, performances: Vec<Performance>) -> Result<Concert, DependencyError> {
        StoredConcert {
            id: uuid(&self.id)?,
            title: self.title,
            price: self.price,
            created_at: instant(self.created_at)?,
        }
        .into_concert(performances)
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = performances, check_for_backend(diesel::sqlite::Sqlite))]
struct PerformanceRow {
    id: String,
    concert_id: String,
    starts_at: i64,
    local_date: String,
    seat_count: i32,
    cancelled_at: Option<i64>,
}

impl PerformanceRow {
    fn into_performance(self) -> Result<Performance, DependencyError> {
        StoredPerformance {
            id: uuid(&self.id)?,
            concert_id: uuid(&self.concert_id)?,
            starts_at: instant(self.starts_at)?,
            local_date: NaiveDate::parse_from_str(&self.local_date, "%Y-%m-%d")
                .map_err(|_| corrupt("date"))?,
            seat_count: self.seat_count,
            cancelled_at: self.cancelled_at.map(instant).transpose()?,
        }
        .into_performance()
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = seat_holds, check_for_backend(diesel::sqlite::Sqlite))]
struct HoldRow {
    id: String,
    performance_id: String,
    concert_id: String,
    seat_number: i32,
    user_id: String,
    price: i64,
    status: String,
    created_at: i64,
    expires_at: i64,
}

impl HoldRow {
    fn into_hold(self) -> Result<SeatHold, DependencyError> {
        StoredHold {
            id: uuid(&self.id)?,
            performance_id: uuid(&self.performance_id)?,
            concert_id: uuid(&self.concert_id)?,
            seat_number: self.seat_number,
            user_id: uuid(&self.user_id)?,
            price: self.price,
            status: self.status,
            created_at: instant(self.created_at)?,
            expires_at: instant(self.expires_at)?,
        }
        .into_hold()
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = bookings, check_for_backend(diesel::sqlite::Sqlite))]
struct BookingRow {
    id: String,
    hold_id: String,
    performance_id: String,
    concert_id: String,
    seat_number: i32,
    user_id: String,
    price: i64,
    payment_id: String,
    status: String,
    created_at: i64,
    refunded_at: Option<i64>,
}

impl BookingRow {
    fn into_booking(self) -> Result<Booking, DependencyError> {
        StoredBooking {
            id: uuid(&self.id)?,
            hold_id: uuid(&self.hold_id)?,
            performance_id: uuid(&self.performance_id)?,
            concert_id: uuid(&self.concert_id)?,
            seat_number: self.seat_number,
            user_id: uuid(&self.user_id)?,
            price: self.price,
            payment_id: uuid(&self.payment_id)?,
            status: self.status,
            created_at: instant(self.created_at)?,
            refunded_at: self.refunded_at.map(instant).transpose()?,
        }
        .into_booking()
    }
}

/// The performance with this id, as stored.
fn performance_row(
    connection: &mut SqliteConnection,
    id: &str,
) -> QueryResult<Option<PerformanceRow>> {
    performances::table
        .find(id)
        .select(PerformanceRow::as_select())
        .first(connection)
        .optional()
}

/// The booking of a hold.
fn booking_of(connection: &mut SqliteConnection, hold: &str) -> QueryResult<Option<BookingRow>> {
    bookings::table
        .filter(bookings::hold_id.eq(hold))
        .select(BookingRow::as_select())
        .first(connection)
        .optional()
}
