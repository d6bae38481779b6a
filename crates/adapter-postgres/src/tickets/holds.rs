//! Holding and releasing seats. A hold is one statement in autocommit: claim the user's date,
//! take the seat, insert the hold; when the seat is taken after the claim succeeded, the
//! statement aborts itself so the claim is not left behind.

use super::rows::HoldRow;
use crate::schema::seat_holds;
use crate::{query_error, write_outcome_error};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as QueryError};
use diesel::sql_types::{BigInt, Int2, Nullable, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use reserva_application::DependencyError;
use reserva_application::ports::tickets::{HoldError, NewHold, ReleaseError};
use reserva_domain::accounts::UserId;
use reserva_domain::tickets::{HoldId, HoldStatus, SeatHold};
use reserva_sql_support::TxError;
use uuid::Uuid;

/// The reason the hold statement aborts with when the seat was not free.
const SEAT_TAKEN: &str = "reserva:seat_unavailable";

/// $1 hold, $2 performance, $3 seat, $4 user, $5 now, $6 expires at. The performance row is
/// share-locked so a concurrent cancel either sees this hold or makes it `NotOnSale`; the claim
/// comes before the seat, the lock order of every write here.
const HOLD: &str = "\
WITH perf AS (
    SELECT p.concert_id, p.local_date, p.seat_count, p.starts_at, p.cancelled_at, c.price
    FROM performances p JOIN concerts c ON c.id = p.concert_id
    WHERE p.id = $2
    FOR KEY SHARE OF p
), open AS (
    SELECT * FROM perf WHERE cancelled_at IS NULL AND starts_at > $5 AND $3 <= seat_count
), claim AS (
    INSERT INTO ticket_claims (user_id, concert_id, local_date, hold_id, hold_expires_at)
    SELECT $4, concert_id, local_date, $1, $6 FROM open
    ON CONFLICT (user_id, concert_id, local_date) DO UPDATE
        SET hold_id = EXCLUDED.hold_id, hold_expires_at = EXCLUDED.hold_expires_at
        WHERE ticket_claims.booking_id IS NULL
          AND (ticket_claims.hold_expires_at IS NULL OR ticket_claims.hold_expires_at <= $5)
    RETURNING 1
), seat AS (
    UPDATE seats SET hold_id = $1, held_by = $4, hold_expires_at = $6
    WHERE performance_id = $2 AND seat_number = $3 AND booking_id IS NULL
      AND (hold_expires_at IS NULL OR hold_expires_at <= $5)
      AND EXISTS (SELECT 1 FROM claim)
    RETURNING 1
), hold AS (
    INSERT INTO seat_holds (id, performance_id, concert_id, seat_number, user_id, price, status,
                            created_at, expires_at)
    SELECT $1, $2, concert_id, $3, $4, price, 'held', $5, $6 FROM open
    WHERE EXISTS (SELECT 1 FROM seat)
    RETURNING 1
)
SELECT (SELECT seat_count FROM perf) AS seat_count,
       (SELECT count(*) FROM perf WHERE cancelled_at IS NULL AND starts_at > $5) AS on_sale,
       (SELECT price FROM perf) AS price,
       (SELECT concert_id FROM perf) AS concert_id,
       (SELECT count(*) FROM claim) AS claimed,
       (SELECT count(*) FROM seats
         WHERE performance_id = $2 AND seat_number = $3 AND booking_id IS NULL
           AND (hold_expires_at IS NULL OR hold_expires_at <= $5)) AS seat_free,
       CASE WHEN (SELECT count(*) FROM claim) > 0 AND (SELECT count(*) FROM hold) = 0
            THEN reserva_tickets_abort('reserva:seat_unavailable') ELSE 0 END AS checked";

#[derive(QueryableByName)]
struct HoldOutcome {
    #[diesel(sql_type = Nullable<Int2>)]
    seat_count: Option<i16>,
    #[diesel(sql_type = BigInt)]
    on_sale: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    price: Option<i64>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    concert_id: Option<Uuid>,
    #[diesel(sql_type = BigInt)]
    claimed: i64,
    #[diesel(sql_type = BigInt)]
    seat_free: i64,
}

/// Whether the hold statement aborted itself because the seat was taken.
fn seat_taken(error: &QueryError) -> bool {
    matches!(error, QueryError::DatabaseError(DatabaseErrorKind::Unknown, info)
        if info.message() == SEAT_TAKEN)
}

/// Holds a seat in one statement.
pub(super) async fn hold(
    connection: &mut AsyncPgConnection,
    new: &NewHold,
) -> Result<SeatHold, HoldError> {
    let seat = i16::try_from(new.seat.get()).unwrap_or(i16::MAX);
    let outcome: HoldOutcome = match diesel::sql_query(HOLD)
        .bind::<SqlUuid, _>(new.id.as_uuid())
        .bind::<SqlUuid, _>(new.performance_id.as_uuid())
        .bind::<Int2, _>(seat)
        .bind::<SqlUuid, _>(new.user_id.as_uuid())
        .bind::<Timestamptz, _>(new.now)
        .bind::<Timestamptz, _>(new.expires_at)
        .get_result(connection)
        .await
    {
        Ok(outcome) => outcome,
        Err(error) if seat_taken(&error) => return Err(HoldError::SeatUnavailable),
        Err(error) => return Err(HoldError::Dependency(write_outcome_error(error))),
    };
    let (Some(count), Some(price), Some(concert)) =
        (outcome.seat_count, outcome.price, outcome.concert_id)
    else {
        return Err(HoldError::PerformanceNotFound);
    };
    if outcome.on_sale == 0 {
        return Err(HoldError::NotOnSale);
    }
    if seat > count {
        return Err(HoldError::NoSuchSeat {
            seat: new.seat.get(),
            count: u16::try_from(count).unwrap_or(0),
        });
    }
    if outcome.claimed == 0 {
        return Err(if outcome.seat_free == 0 {
            HoldError::SeatUnavailable
        } else {
            HoldError::AlreadyHoldingForDate
        });
    }
    Ok(SeatHold {
        id: new.id,
        performance_id: new.performance_id,
        concert_id: reserva_domain::tickets::ConcertId::from_uuid(concert),
        seat: new.seat,
        user_id: new.user_id,
        price: reserva_domain::wallet::Money::new(price)
            .map_err(|_| DependencyError::Failed("negative stored price".into()))?,
        status: HoldStatus::Held,
        created_at: new.now,
        expires_at: new.expires_at,
    })
}

/// The hold, locked for a change when `lock`.
pub(super) async fn find<Refusal: From<DependencyError>>(
    connection: &mut AsyncPgConnection,
    id: HoldId,
    lock: bool,
) -> Result<Option<SeatHold>, TxError<Refusal>> {
    let query = seat_holds::table
        .find(id.as_uuid())
        .select(HoldRow::as_select());
    let row: Option<HoldRow> = if lock {
        query.for_update().first(connection).await.optional()?
    } else {
        query.first(connection).await.optional()?
    };
    Ok(row.map(HoldRow::into_hold).transpose()?)
}

/// Ends a live hold `$1` (status `$2`): its claim and its seat are cleared.
const END_HOLD: &str = "\
WITH ended AS (
    UPDATE seat_holds SET status = $2 WHERE id = $1 RETURNING *
), claim AS (
    UPDATE ticket_claims c SET hold_id = NULL, hold_expires_at = NULL
    FROM ended JOIN performances p ON p.id = ended.performance_id
    WHERE c.user_id = ended.user_id AND c.concert_id = ended.concert_id
      AND c.local_date = p.local_date AND c.hold_id = ended.id
)
UPDATE seats s SET hold_id = NULL, held_by = NULL, hold_expires_at = NULL
FROM ended
WHERE s.performance_id = ended.performance_id AND s.seat_number = ended.seat_number
  AND s.hold_id = ended.id";

async fn release_locked(
    connection: &mut AsyncPgConnection,
    id: HoldId,
    user: UserId,
    now: DateTime<Utc>,
) -> Result<SeatHold, TxError<ReleaseError>> {
    let hold = find(connection, id, true)
        .await?
        .filter(|hold| hold.user_id == user)
        .ok_or(TxError::Refused(ReleaseError::NotFound))?;
    if hold.status == HoldStatus::Paid {
        return Err(TxError::Refused(ReleaseError::AlreadyPaid));
    }
    if !hold.is_live(now) {
        return Ok(hold);
    }
    diesel::sql_query(END_HOLD)
        .bind::<SqlUuid, _>(id.as_uuid())
        .bind::<diesel::sql_types::Text, _>(HoldStatus::Released.as_str())
        .execute(connection)
        .await?;
    Ok(SeatHold {
        status: HoldStatus::Released,
        ..hold
    })
}

/// Releases the user's hold in one short transaction (the hold row locked first).
pub(super) async fn release(
    connection: &mut AsyncPgConnection,
    id: HoldId,
    user: UserId,
    now: DateTime<Utc>,
) -> Result<SeatHold, ReleaseError> {
    connection
        .transaction(async |connection| release_locked(connection, id, user, now).await)
        .await
        .map_err(|error| {
            error.into_refusal(|error| ReleaseError::Dependency(write_outcome_error(error)))
        })
}

/// Marks up to `$2` holds expired before `$1` as expired, clearing their seats and claims;
/// holds locked by a payment in flight are skipped.
const SWEEP: &str = "\
WITH due AS (
    SELECT id FROM seat_holds WHERE status = 'held' AND expires_at <= $1
    ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED
), ended AS (
    UPDATE seat_holds h SET status = 'expired' FROM due WHERE h.id = due.id RETURNING h.*
), claim AS (
    UPDATE ticket_claims c SET hold_id = NULL, hold_expires_at = NULL
    FROM ended JOIN performances p ON p.id = ended.performance_id
    WHERE c.user_id = ended.user_id AND c.concert_id = ended.concert_id
      AND c.local_date = p.local_date AND c.hold_id = ended.id
), seat AS (
    UPDATE seats s SET hold_id = NULL, held_by = NULL, hold_expires_at = NULL
    FROM ended
    WHERE s.performance_id = ended.performance_id AND s.seat_number = ended.seat_number
      AND s.hold_id = ended.id
)
SELECT count(*) AS tidied FROM ended";

#[derive(QueryableByName)]
struct Tidied {
    #[diesel(sql_type = BigInt)]
    tidied: i64,
}

/// Tidies expired holds.
pub(super) async fn sweep(
    connection: &mut AsyncPgConnection,
    now: DateTime<Utc>,
    limit: u32,
) -> Result<u64, DependencyError> {
    let tidied: Tidied = diesel::sql_query(SWEEP)
        .bind::<Timestamptz, _>(now)
        .bind::<BigInt, _>(i64::from(limit))
        .get_result(connection)
        .await
        .map_err(write_outcome_error)?;
    Ok(u64::try_from(tidied.tidied).unwrap_or(0))
}

/// Reads a hold.
pub(super) async fn find_hold(
    connection: &mut AsyncPgConnection,
    id: HoldId,
) -> Result<Option<SeatHold>, DependencyError> {
    find::<DependencyError>(connection, id, false)
        .await
        .map_err(|error| error.into_refusal(query_error))
}
