//! Paying for a hold: one transaction that locks, in the order every write here keeps, the
//! performance (shared, so a cancel waits), the hold, the claim and the seat, then the wallet;
//! debits it, credits the concert's revenue, books the seat and marks the hold paid.

use super::holds::find;
use super::rows::{BookingRow, PerformanceRow};
use crate::schema::bookings;
use crate::wallet::posting::{PostRefusal, Posting, post};
use crate::write_outcome_error;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as QueryError};
use diesel::sql_types::{BigInt, Int2, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use reserva_application::DependencyError;
use reserva_application::ports::tickets::{PayError, PayHold};
use reserva_domain::tickets::{Booking, BookingStatus, HoldStatus, SeatHold};
use reserva_domain::wallet::{LedgerAccount, Money, RevenueStream, TransferKind};
use reserva_sql_support::TxError;
use reserva_sql_support::tickets::check_payment;

/// The hold's performance, share-locked.
const LOCK_PERFORMANCE: &str = "\
SELECT p.* FROM performances p
WHERE p.id = (SELECT performance_id FROM seat_holds WHERE id = $1)
FOR KEY SHARE";

/// $1 hold, $2 user, $3 concert, $4 date, $5 booking, $6 performance, $7 seat, $8 now: the claim
/// turns into the booking's, then the seat is sold if the hold still has it.
const SELL_SEAT: &str = "\
WITH claim AS (
    UPDATE ticket_claims SET booking_id = $5, hold_id = NULL, hold_expires_at = NULL
    WHERE user_id = $2 AND concert_id = $3 AND local_date = $4 AND hold_id = $1
    RETURNING 1
), seat AS (
    UPDATE seats SET booking_id = $5, hold_id = NULL, held_by = NULL, hold_expires_at = NULL
    WHERE performance_id = $6 AND seat_number = $7 AND hold_id = $1 AND hold_expires_at > $8
      AND booking_id IS NULL AND EXISTS (SELECT 1 FROM claim)
    RETURNING 1
)
SELECT count(*) AS sold FROM seat";

#[derive(QueryableByName)]
struct Sold {
    #[diesel(sql_type = BigInt)]
    sold: i64,
}

/// Which refusal a named constraint stands for, if it is one of this module's.
fn refusal_of(error: &QueryError) -> Option<PayError> {
    let QueryError::DatabaseError(kind, info) = error else {
        return None;
    };
    match (kind, info.constraint_name()) {
        (DatabaseErrorKind::UniqueViolation, Some("bookings_seat_sold_once")) => {
            Some(PayError::Expired)
        }
        (DatabaseErrorKind::CheckViolation, Some("ledger_accounts_wallet_not_negative")) => {
            Some(PayError::InsufficientBalance)
        }
        _ => None,
    }
}

fn refused<T>(error: PayError) -> Result<T, TxError<PayError>> {
    Err(TxError::Refused(error))
}

async fn booking_of(
    connection: &mut AsyncPgConnection,
    hold: &SeatHold,
) -> Result<Option<Booking>, TxError<PayError>> {
    let row: Option<BookingRow> = bookings::table
        .filter(bookings::hold_id.eq(hold.id.as_uuid()))
        .select(BookingRow::as_select())
        .first(connection)
        .await
        .optional()?;
    Ok(row.map(BookingRow::into_booking).transpose()?)
}

async fn pay_locked(
    connection: &mut AsyncPgConnection,
    payment: &PayHold,
) -> Result<Booking, TxError<PayError>> {
    let performance: Option<PerformanceRow> = diesel::sql_query(LOCK_PERFORMANCE)
        .bind::<SqlUuid, _>(payment.hold_id.as_uuid())
        .get_result(connection)
        .await
        .optional()?;
    let hold = find(connection, payment.hold_id, true).await?;
    let (Some(performance), Some(hold)) = (performance, hold) else {
        return refused(PayError::NotFound);
    };
    let booking = if hold.status == HoldStatus::Paid && hold.user_id == payment.user_id {
        booking_of(connection, &hold).await?
    } else {
        None
    };
    // Off sale: cancelled, or started (a hold made just before the start may outlive it).
    let off_sale = performance.cancelled_at.is_some() || payment.now >= performance.starts_at;
    check_payment(Some(&hold), payment.user_id, booking, off_sale, payment.now)
        .map_err(TxError::Refused)?;
    let seat = i16::try_from(hold.seat.get()).unwrap_or(i16::MAX);
    let sold: Sold = diesel::sql_query(SELL_SEAT)
        .bind::<SqlUuid, _>(hold.id.as_uuid())
        .bind::<SqlUuid, _>(hold.user_id.as_uuid())
        .bind::<SqlUuid, _>(hold.concert_id.as_uuid())
        .bind::<diesel::sql_types::Date, _>(performance.local_date)
        .bind::<SqlUuid, _>(payment.booking_id.as_uuid())
        .bind::<SqlUuid, _>(hold.performance_id.as_uuid())
        .bind::<Int2, _>(seat)
        .bind::<Timestamptz, _>(payment.now)
        .get_result(connection)
        .await?;
    if sold.sold == 0 {
        return refused(PayError::Expired);
    }
    let posting = Posting {
        id: payment.transfer_id,
        kind: TransferKind::Payment,
        from: LedgerAccount::UserWallet(hold.user_id),
        to: LedgerAccount::Revenue(RevenueStream::Concert(hold.concert_id)),
        amount: hold.price,
        user: hold.user_id,
        reference: Some(hold.id.as_uuid()),
        limit: None,
        now: payment.now,
    };
    // A free seat moves no money: a transfer is always of at least 1 (as in the SQLite store).
    let posted = if hold.price > Money::ZERO {
        post(connection, &posting).await?
    } else {
        Ok(Money::ZERO)
    };
    match posted {
        Ok(_) => {}
        Err(PostRefusal::Insufficient) => return refused(PayError::InsufficientBalance),
        Err(PostRefusal::Duplicate | PostRefusal::LimitExceeded) => {
            return Err(TxError::Refused(PayError::Dependency(
                DependencyError::Failed("the payment of an unpaid hold is already posted".into()),
            )));
        }
    }
    let booking: BookingRow = diesel::sql_query(
        "WITH paid AS (UPDATE seat_holds SET status = 'paid' WHERE id = $2)
         INSERT INTO bookings (id, hold_id, performance_id, concert_id, seat_number, user_id,
                               price, payment_id, status, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         RETURNING *",
    )
    .bind::<SqlUuid, _>(payment.booking_id.as_uuid())
    .bind::<SqlUuid, _>(hold.id.as_uuid())
    .bind::<SqlUuid, _>(hold.performance_id.as_uuid())
    .bind::<SqlUuid, _>(hold.concert_id.as_uuid())
    .bind::<Int2, _>(seat)
    .bind::<SqlUuid, _>(hold.user_id.as_uuid())
    .bind::<BigInt, _>(hold.price.get())
    .bind::<SqlUuid, _>(payment.transfer_id.as_uuid())
    .bind::<Text, _>(BookingStatus::Confirmed.as_str())
    .bind::<Timestamptz, _>(payment.now)
    .get_result(connection)
    .await?;
    Ok(booking.into_booking()?)
}

/// Pays for a hold in one transaction.
pub(super) async fn pay(
    connection: &mut AsyncPgConnection,
    payment: &PayHold,
) -> Result<Booking, PayError> {
    connection
        .transaction(async |connection| pay_locked(connection, payment).await)
        .await
        .map_err(|error| {
            error.into_refusal(|error| {
                refusal_of(&error)
                    .unwrap_or_else(|| PayError::Dependency(write_outcome_error(error)))
            })
        })
}
