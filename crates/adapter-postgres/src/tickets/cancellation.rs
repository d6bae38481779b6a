//! Cancelling a performance: one transaction that locks the performance (so holds and payments
//! of it wait), marks it cancelled, refunds and frees every booking, releases every live hold,
//! clears their claims and seats, then posts each refund to its wallet.

use super::rows::{BookingRow, PerformanceRow};
use crate::wallet::posting::{Posting, post};
use crate::write_outcome_error;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Date, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use reserva_application::DependencyError;
use reserva_application::ports::tickets::{CancelPerformanceError, PerformanceCancellation};
use reserva_domain::tickets::{HoldId, PerformanceId};
use reserva_domain::wallet::{LedgerAccount, Money, RevenueStream, TransferId, TransferKind};
use reserva_sql_support::TxError;
use reserva_sql_support::wallet::account_id;
use uuid::Uuid;

type Refusal = TxError<CancelPerformanceError>;

/// $1 performance, $2 now, $3 concert, $4 date, $5 refunded bookings, $6 their owners.
const FREE_PERFORMANCE: &str = "\
WITH ended AS (
    UPDATE seat_holds SET status = 'released'
    WHERE performance_id = $1 AND status = 'held' AND expires_at > $2
    RETURNING id, user_id
), claims AS (
    UPDATE ticket_claims c SET hold_id = NULL, hold_expires_at = NULL, booking_id = NULL
    FROM (SELECT user_id FROM ended UNION SELECT unnest($6::uuid[])) owners
    WHERE c.user_id = owners.user_id AND c.concert_id = $3 AND c.local_date = $4
      AND (c.hold_id IN (SELECT id FROM ended) OR c.booking_id = ANY($5))
), seats AS (
    UPDATE seats SET hold_id = NULL, held_by = NULL, hold_expires_at = NULL, booking_id = NULL
    WHERE performance_id = $1
)
SELECT id FROM ended ORDER BY id";

#[derive(QueryableByName)]
struct Released {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
}

async fn cancel_locked(
    connection: &mut AsyncPgConnection,
    id: PerformanceId,
    now: DateTime<Utc>,
) -> Result<PerformanceCancellation, Refusal> {
    let found: Option<PerformanceRow> =
        diesel::sql_query("SELECT * FROM performances WHERE id = $1 FOR UPDATE")
            .bind::<SqlUuid, _>(id.as_uuid())
            .get_result(connection)
            .await
            .optional()?;
    let Some(mut performance) = found else {
        return Err(TxError::Refused(CancelPerformanceError::NotFound));
    };
    if performance.cancelled_at.is_some() {
        return Err(TxError::Refused(CancelPerformanceError::AlreadyCancelled));
    }
    diesel::sql_query("UPDATE performances SET cancelled_at = $2 WHERE id = $1")
        .bind::<SqlUuid, _>(id.as_uuid())
        .bind::<Timestamptz, _>(now)
        .execute(connection)
        .await?;
    performance.cancelled_at = Some(now);
    let refunded: Vec<BookingRow> = diesel::sql_query(
        "UPDATE bookings SET status = 'refunded', refunded_at = $2
         WHERE performance_id = $1 AND status = 'confirmed' RETURNING *",
    )
    .bind::<SqlUuid, _>(id.as_uuid())
    .bind::<Timestamptz, _>(now)
    .load(connection)
    .await?;
    let mut refunded = refunded
        .into_iter()
        .map(BookingRow::into_booking)
        .collect::<Result<Vec<_>, DependencyError>>()?;
    refunded.sort_by_key(|booking| booking.id.as_uuid());
    let bookings: Vec<Uuid> = refunded.iter().map(|b| b.id.as_uuid()).collect();
    let owners: Vec<Uuid> = refunded.iter().map(|b| b.user_id.as_uuid()).collect();
    let released: Vec<Released> = diesel::sql_query(FREE_PERFORMANCE)
        .bind::<SqlUuid, _>(id.as_uuid())
        .bind::<Timestamptz, _>(now)
        .bind::<SqlUuid, _>(performance.concert_id)
        .bind::<Date, _>(performance.local_date)
        .bind::<Array<SqlUuid>, _>(&bookings)
        .bind::<Array<SqlUuid>, _>(&owners)
        .load(connection)
        .await?;
    // Refunds lock their wallets: in wallet order, so two cancellations whose buyers overlap
    // queue instead of deadlocking.
    let mut by_wallet: Vec<&_> = refunded.iter().collect();
    by_wallet.sort_by_key(|booking| account_id(LedgerAccount::UserWallet(booking.user_id)));
    for booking in by_wallet {
        let posting = Posting {
            id: TransferId::derive("refund", booking.id.as_uuid(), ""),
            kind: TransferKind::Refund,
            from: LedgerAccount::Revenue(RevenueStream::Concert(booking.concert_id)),
            to: LedgerAccount::UserWallet(booking.user_id),
            amount: booking.price,
            user: booking.user_id,
            reference: Some(booking.id.as_uuid()),
            limit: None,
            now,
        };
        if booking.price == Money::ZERO {
            continue; // a free seat was paid with no transfer, so none goes back
        }
        if let Err(refusal) = post(connection, &posting).await? {
            return Err(TxError::Refused(CancelPerformanceError::Dependency(
                DependencyError::Failed(format!(
                    "refund of {} not posted: {refusal:?}",
                    booking.id
                )),
            )));
        }
    }
    Ok(PerformanceCancellation {
        performance: performance.into_performance()?,
        refunded: u32::try_from(refunded.len()).unwrap_or(u32::MAX),
        released: released
            .into_iter()
            .map(|row| HoldId::from_uuid(row.id))
            .collect(),
    })
}

/// Cancels a performance in one transaction.
pub(super) async fn cancel(
    connection: &mut AsyncPgConnection,
    id: PerformanceId,
    now: DateTime<Utc>,
) -> Result<PerformanceCancellation, CancelPerformanceError> {
    connection
        .transaction(async |connection| cancel_locked(connection, id, now).await)
        .await
        .map_err(|error| {
            error.into_refusal(|error| {
                CancelPerformanceError::Dependency(write_outcome_error(error))
            })
        })
}
