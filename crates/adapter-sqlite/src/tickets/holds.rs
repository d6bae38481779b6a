//! Holding and releasing seats, and the seat-hold port on the store.
//!
//! A hold takes the seat and claims the user's (concert, date), in one transaction, each with one
//! guarded statement; zero rows changed is the refusal and rolls both back. The seat goes first
//! so that asking again for one's own held seat is `SeatUnavailable` (the port's contract);
//! SQLite has one writer, so the order cannot deadlock.

use super::{BookingRow, HoldRow, PerformanceRow, date_text, performance_row};
use crate::schema::{bookings, seat_holds, seats, ticket_claims};
use crate::{SqliteStore, micros, query_error};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use reserva_application::DependencyError;
use reserva_application::ports::tickets::{
    CancelPerformanceError, HoldError, NewHold, PayError, PayHold, PerformanceCancellation,
    ReleaseError, SeatAudit, SeatHoldRepository,
};
use reserva_domain::accounts::UserId;
use reserva_domain::paging::PageLimit;
use reserva_domain::tickets::{Booking, BookingId, HoldId, HoldStatus, PerformanceId, SeatHold};
use reserva_sql_support::tickets::check_hold;

type HoldTx = reserva_sql_support::TxError<HoldError>;
type ReleaseTx = reserva_sql_support::TxError<ReleaseError>;

/// Claims the user's one hold on the concert's date: a new claim, or one whose hold has expired
/// or was released and that has no booking. `false` when the user already holds or owns a seat.
pub(super) fn claim(
    connection: &mut SqliteConnection,
    user: &str,
    concert: &str,
    date: &str,
    hold: &str,
    expires_at: i64,
    now: i64,
) -> QueryResult<bool> {
    let claimed = diesel::sql_query(
        "INSERT INTO ticket_claims (user_id, concert_id, local_date, hold_id, hold_expires_at) \
         VALUES (?1, ?2, ?3, ?4, ?5) \
         ON CONFLICT (user_id, concert_id, local_date) DO UPDATE \
         SET hold_id = excluded.hold_id, hold_expires_at = excluded.hold_expires_at \
         WHERE ticket_claims.booking_id IS NULL \
           AND (ticket_claims.hold_expires_at IS NULL OR ticket_claims.hold_expires_at <= ?6)",
    )
    .bind::<Text, _>(user)
    .bind::<Text, _>(concert)
    .bind::<Text, _>(date)
    .bind::<Text, _>(hold)
    .bind::<BigInt, _>(expires_at)
    .bind::<BigInt, _>(now)
    .execute(connection)?;
    Ok(claimed == 1)
}

fn hold(connection: &mut SqliteConnection, new: &NewHold) -> Result<HoldRow, HoldTx> {
    let performance_id = new.performance_id.as_uuid().to_string();
    let performance = performance_row(connection, &performance_id)?
        .map(PerformanceRow::into_performance)
        .transpose()?;
    let performance = check_hold(performance, new.seat, new.now).map_err(HoldTx::Refused)?;
    let seat = new.seat;
    let concert = performance.concert_id.as_uuid().to_string();
    let price: i64 = crate::schema::concerts::table
        .find(&concert)
        .select(crate::schema::concerts::price)
        .first(connection)?;
    let (id, user) = (
        new.id.as_uuid().to_string(),
        new.user_id.as_uuid().to_string(),
    );
    let (now, expires_at) = (micros(new.now), micros(new.expires_at));
    let date = date_text(performance.local_date);
    let number = i32::from(seat.get());
    let taken = diesel::update(
        seats::table
            .filter(seats::performance_id.eq(&performance_id))
            .filter(seats::seat_number.eq(number))
            .filter(seats::booking_id.is_null())
            .filter(
                seats::hold_expires_at
                    .is_null()
                    .or(seats::hold_expires_at.le(now)),
            ),
    )
    .set((
        seats::hold_id.eq(&id),
        seats::held_by.eq(&user),
        seats::hold_expires_at.eq(expires_at),
    ))
    .execute(connection)?;
    if taken != 1 {
        return Err(HoldTx::Refused(HoldError::SeatUnavailable));
    }
    if !claim(connection, &user, &concert, &date, &id, expires_at, now)? {
        return Err(HoldTx::Refused(HoldError::AlreadyHoldingForDate));
    }
    Ok(diesel::insert_into(seat_holds::table)
        .values((
            seat_holds::id.eq(&id),
            seat_holds::performance_id.eq(&performance_id),
            seat_holds::concert_id.eq(&concert),
            seat_holds::seat_number.eq(number),
            seat_holds::user_id.eq(&user),
            seat_holds::price.eq(price),
            seat_holds::status.eq(HoldStatus::Held.as_str()),
            seat_holds::created_at.eq(now),
            seat_holds::expires_at.eq(expires_at),
        ))
        .returning(HoldRow::as_returning())
        .get_result(connection)?)
}

/// The hold with this id, if it is `user`'s.
pub(super) fn own_hold(
    connection: &mut SqliteConnection,
    id: &str,
    user: &str,
) -> QueryResult<Option<HoldRow>> {
    seat_holds::table
        .find(id)
        .filter(seat_holds::user_id.eq(user))
        .select(HoldRow::as_select())
        .first(connection)
        .optional()
}

/// Frees the seat and the claim of a hold that ends unpaid (released or, on cancellation, with
/// its performance), and gives it `status`.
pub(super) fn end_hold(
    connection: &mut SqliteConnection,
    hold: &HoldRow,
    status: HoldStatus,
) -> QueryResult<HoldRow> {
    diesel::update(
        seats::table
            .filter(seats::performance_id.eq(&hold.performance_id))
            .filter(seats::seat_number.eq(hold.seat_number))
            .filter(seats::hold_id.eq(&hold.id)),
    )
    .set((
        seats::hold_id.eq(None::<String>),
        seats::held_by.eq(None::<String>),
        seats::hold_expires_at.eq(None::<i64>),
    ))
    .execute(connection)?;
    diesel::update(
        ticket_claims::table
            .filter(ticket_claims::user_id.eq(&hold.user_id))
            .filter(ticket_claims::concert_id.eq(&hold.concert_id))
            .filter(ticket_claims::hold_id.eq(&hold.id)),
    )
    .set((
        ticket_claims::hold_id.eq(None::<String>),
        ticket_claims::hold_expires_at.eq(None::<i64>),
    ))
    .execute(connection)?;
    diesel::update(seat_holds::table.find(&hold.id))
        .set(seat_holds::status.eq(status.as_str()))
        .returning(HoldRow::as_returning())
        .get_result(connection)
}

fn release(
    connection: &mut SqliteConnection,
    id: &str,
    user: &str,
    now: i64,
) -> Result<HoldRow, ReleaseTx> {
    let Some(hold) = own_hold(connection, id, user)? else {
        return Err(ReleaseTx::Refused(ReleaseError::NotFound));
    };
    if hold.status == HoldStatus::Paid.as_str() {
        return Err(ReleaseTx::Refused(ReleaseError::AlreadyPaid));
    }
    if hold.status != HoldStatus::Held.as_str() || hold.expires_at <= now {
        return Ok(hold);
    }
    Ok(end_hold(connection, &hold, HoldStatus::Released)?)
}

#[async_trait]
impl SeatHoldRepository for SqliteStore {
    async fn hold_seat(&self, new: NewHold) -> Result<SeatHold, HoldError> {
        let row = self
            .write(move |connection| hold(connection, &new))
            .await
            .map_err(|error: HoldTx| {
                error.into_refusal(|error| HoldError::Dependency(query_error(error)))
            })?;
        Ok(row.into_hold()?)
    }

    async fn find_hold(&self, id: HoldId) -> Result<Option<SeatHold>, DependencyError> {
        let id = id.as_uuid().to_string();
        self.read(move |connection| {
            seat_holds::table
                .find(id)
                .select(HoldRow::as_select())
                .first(connection)
                .optional()
        })
        .await?
        .map(HoldRow::into_hold)
        .transpose()
    }

    async fn release_hold(
        &self,
        id: HoldId,
        user: UserId,
        now: DateTime<Utc>,
    ) -> Result<SeatHold, ReleaseError> {
        let (id, user) = (id.as_uuid().to_string(), user.as_uuid().to_string());
        let row = self
            .write(move |connection| release(connection, &id, &user, micros(now)))
            .await
            .map_err(|error: ReleaseTx| {
                error.into_refusal(|error| ReleaseError::Dependency(query_error(error)))
            })?;
        Ok(row.into_hold()?)
    }

    async fn pay_hold(&self, payment: PayHold) -> Result<Booking, PayError> {
        super::payment::pay_hold(self, payment).await
    }

    async fn list_bookings(
        &self,
        user: UserId,
        before: Option<BookingId>,
        limit: PageLimit,
    ) -> Result<Vec<Booking>, DependencyError> {
        let user = user.as_uuid().to_string();
        let rows: Vec<BookingRow> = self
            .read(move |connection| {
                let mut select = bookings::table
                    .filter(bookings::user_id.eq(user))
                    .select(BookingRow::as_select())
                    .order(bookings::id.desc())
                    .limit(i64::from(limit.get()) + 1)
                    .into_boxed();
                if let Some(before) = before {
                    select = select.filter(bookings::id.lt(before.as_uuid().to_string()));
                }
                select.load(connection)
            })
            .await?;
        rows.into_iter().map(BookingRow::into_booking).collect()
    }

    async fn cancel_performance(
        &self,
        id: PerformanceId,
        now: DateTime<Utc>,
    ) -> Result<PerformanceCancellation, CancelPerformanceError> {
        super::cancel::cancel_performance(self, id, now).await
    }

    async fn sweep_expired_holds(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<u64, DependencyError> {
        super::cancel::sweep(self, now, limit).await
    }

    async fn verify_seats(&self, now: DateTime<Utc>) -> Result<SeatAudit, DependencyError> {
        let now = micros(now);
        self.snapshot(move |connection| super::audit::verify(connection, now))
            .await
    }
}
