//! The seat audit: every seat rule as one query that lists what breaks it.

use crate::query_error;
use chrono::{DateTime, Utc};
use diesel::sql_types::{BigInt, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use reserva_application::DependencyError;
use reserva_application::ports::tickets::SeatAudit;

#[derive(diesel::QueryableByName)]
struct Violation {
    #[diesel(sql_type = Text)]
    violation: String,
}

#[derive(diesel::QueryableByName)]
struct Checked {
    #[diesel(sql_type = BigInt)]
    seats: i64,
}

/// Each rule at `$1`, as rows describing its violations. A hold is live from its creation to
/// its expiry.
const VIOLATIONS: &str = "\
SELECT 'seat ' || performance_id || '/' || seat_number || ' sold ' || count(*) || ' times'
       AS violation
FROM bookings WHERE status = 'confirmed' GROUP BY performance_id, seat_number
HAVING count(*) > 1
UNION ALL
SELECT 'seat ' || s.performance_id || '/' || s.seat_number || ' carries booking '
       || s.booking_id || ' that is not a confirmed booking of it'
FROM seats s LEFT JOIN bookings b ON b.id = s.booking_id
WHERE s.booking_id IS NOT NULL
  AND (b.id IS NULL OR b.status <> 'confirmed' OR b.performance_id <> s.performance_id
       OR b.seat_number <> s.seat_number)
UNION ALL
SELECT 'booking ' || b.id || ' is confirmed but its seat does not carry it'
FROM bookings b LEFT JOIN seats s
       ON s.performance_id = b.performance_id AND s.seat_number = b.seat_number
WHERE b.status = 'confirmed' AND s.booking_id IS DISTINCT FROM b.id
UNION ALL
SELECT 'seat ' || performance_id || '/' || seat_number || ' is sold and held'
FROM seats WHERE booking_id IS NOT NULL AND hold_expires_at > $1
UNION ALL
SELECT 'seat ' || h.performance_id || '/' || h.seat_number || ' is sold but hold ' || h.id
       || ' is live on it'
FROM seat_holds h JOIN seats s
       ON s.performance_id = h.performance_id AND s.seat_number = h.seat_number
WHERE h.status = 'held' AND h.created_at <= $1 AND h.expires_at > $1
  AND s.booking_id IS NOT NULL
UNION ALL
SELECT 'seat ' || performance_id || '/' || seat_number || ' has ' || count(*) || ' live holds'
FROM seat_holds WHERE status = 'held' AND created_at <= $1 AND expires_at > $1
GROUP BY performance_id, seat_number HAVING count(*) > 1
UNION ALL
SELECT 'booking ' || b.id || ' has no payment of its price'
FROM bookings b LEFT JOIN ledger_transfers t ON t.id = b.payment_id
WHERE t.id IS NULL OR t.kind <> 'payment' OR t.amount <> b.price";

/// Runs the audit at `now`.
///
/// # Errors
/// [`DependencyError`] when the store fails.
pub(super) async fn verify(
    connection: &mut AsyncPgConnection,
    now: DateTime<Utc>,
) -> Result<SeatAudit, DependencyError> {
    let checked: Checked = diesel::sql_query("SELECT count(*) AS seats FROM seats")
        .get_result(connection)
        .await
        .map_err(query_error)?;
    let violations: Vec<Violation> = diesel::sql_query(VIOLATIONS)
        .bind::<Timestamptz, _>(now)
        .load(connection)
        .await
        .map_err(query_error)?;
    Ok(SeatAudit {
        seats_checked: u64::try_from(checked.seats).unwrap_or(0),
        violations: violations.into_iter().map(|v| v.violation).collect(),
    })
}
