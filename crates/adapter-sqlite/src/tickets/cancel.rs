//! Cancelling a performance (refunds, released holds) and tidying expired holds.

use super::{BookingRow, HoldRow, PerformanceRow, corrupt, performance_row};
use crate::schema::{bookings, performances, seat_holds, seats, ticket_claims};
use crate::wallet::{Posting, post};
use crate::{SqliteStore, micros, query_error, uuid};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use reserva_application::DependencyError;
use reserva_application::ports::tickets::{CancelPerformanceError, PerformanceCancellation};
use reserva_domain::tickets::{BookingStatus, HoldId, HoldStatus, PerformanceId};
use reserva_domain::wallet::{LedgerAccount, RevenueStream, TransferId, TransferKind};

type CancelTx = reserva_sql_support::TxError<CancelPerformanceError>;

/// Refunds a confirmed booking to its owner's wallet (no balance limit: the money was theirs)
/// and frees its seat and its claim.
fn refund(connection: &mut SqliteConnection, row: BookingRow, now: i64) -> Result<(), CancelTx> {
    let booking = row.into_booking()?;
    let id = booking.id.as_uuid();
    if booking.price.get() > 0 {
        let posting = Posting {
            id: TransferId::derive("refund", id, ""),
            kind: TransferKind::Refund,
            from: LedgerAccount::Revenue(RevenueStream::Concert(booking.concert_id)),
            to: LedgerAccount::UserWallet(booking.user_id),
            amount: booking.price,
            user: booking.user_id,
            reference: Some(id),
            limit: None,
            now,
        };
        if post(connection, &posting)?.is_err() {
            return Err(CancelTx::Refused(CancelPerformanceError::Dependency(
                corrupt("refund"),
            )));
        }
    }
    let (id, user) = (id.to_string(), booking.user_id.as_uuid().to_string());
    diesel::update(bookings::table.find(&id))
        .set((
            bookings::status.eq(BookingStatus::Refunded.as_str()),
            bookings::refunded_at.eq(now),
        ))
        .execute(connection)?;
    diesel::update(
        seats::table
            .filter(seats::performance_id.eq(booking.performance_id.as_uuid().to_string()))
            .filter(seats::booking_id.eq(&id)),
    )
    .set(seats::booking_id.eq(None::<String>))
    .execute(connection)?;
    diesel::update(
        ticket_claims::table
            .filter(ticket_claims::user_id.eq(&user))
            .filter(ticket_claims::concert_id.eq(booking.concert_id.as_uuid().to_string()))
            .filter(ticket_claims::booking_id.eq(&id)),
    )
    .set(ticket_claims::booking_id.eq(None::<String>))
    .execute(connection)?;
    Ok(())
}

fn cancel(
    connection: &mut SqliteConnection,
    id: &str,
    now: i64,
) -> Result<(PerformanceRow, u32, Vec<String>), CancelTx> {
    let Some(performance) = performance_row(connection, id)? else {
        return Err(CancelTx::Refused(CancelPerformanceError::NotFound));
    };
    if performance.cancelled_at.is_some() {
        return Err(CancelTx::Refused(CancelPerformanceError::AlreadyCancelled));
    }
    let confirmed: Vec<BookingRow> = bookings::table
        .filter(bookings::performance_id.eq(id))
        .filter(bookings::status.eq(BookingStatus::Confirmed.as_str()))
        .order(bookings::id.asc())
        .select(BookingRow::as_select())
        .load(connection)?;
    let refunded = u32::try_from(confirmed.len()).unwrap_or(u32::MAX);
    for booking in confirmed {
        refund(connection, booking, now)?;
    }
    let live: Vec<HoldRow> = seat_holds::table
        .filter(seat_holds::performance_id.eq(id))
        .filter(seat_holds::status.eq(HoldStatus::Held.as_str()))
        .filter(seat_holds::expires_at.gt(now))
        .order(seat_holds::id.asc())
        .select(HoldRow::as_select())
        .load(connection)?;
    let mut released = Vec::with_capacity(live.len());
    for hold in &live {
        super::holds::end_hold(connection, hold, HoldStatus::Released)?;
        released.push(hold.id.clone());
    }
    let performance = diesel::update(performances::table.find(id))
        .set(performances::cancelled_at.eq(now))
        .returning(PerformanceRow::as_returning())
        .get_result(connection)?;
    Ok((performance, refunded, released))
}

pub(super) async fn cancel_performance(
    store: &SqliteStore,
    id: PerformanceId,
    now: DateTime<Utc>,
) -> Result<PerformanceCancellation, CancelPerformanceError> {
    let id = id.as_uuid().to_string();
    let (performance, refunded, released) = store
        .write(move |connection| cancel(connection, &id, micros(now)))
        .await
        .map_err(|error: CancelTx| {
            error.into_refusal(|error| CancelPerformanceError::Dependency(query_error(error)))
        })?;
    Ok(PerformanceCancellation {
        performance: performance.into_performance()?,
        refunded,
        released: released
            .iter()
            .map(|id| uuid(id).map(HoldId::from_uuid))
            .collect::<Result<_, _>>()?,
    })
}

/// Marks up to `limit` holds that lapsed before `now` expired. Their seats and claims are free
/// already (expiry is a condition of every guard); only the status is tidied.
pub(super) async fn sweep(
    store: &SqliteStore,
    now: DateTime<Utc>,
    limit: u32,
) -> Result<u64, DependencyError> {
    let now = micros(now);
    store
        .write(move |connection| {
            let tidied = diesel::sql_query(
                "UPDATE seat_holds SET status = 'expired' WHERE id IN \
                 (SELECT id FROM seat_holds WHERE status = 'held' AND expires_at <= ?1 \
                  ORDER BY expires_at LIMIT ?2)",
            )
            .bind::<diesel::sql_types::BigInt, _>(now)
            .bind::<diesel::sql_types::BigInt, _>(i64::from(limit))
            .execute(connection)?;
            Ok::<_, reserva_sql_support::TxError<DependencyError>>(tidied as u64)
        })
        .await
        .map_err(|error| error.into_refusal(query_error))
}
