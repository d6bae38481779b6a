//! `verify_seats`: the seat invariants, checked in SQL over every performance.

use diesel::prelude::*;
use diesel::result::Error as QueryError;
use diesel::sql_types::{BigInt, Text};
use reserva_application::ports::tickets::SeatAudit;

/// How many offenders of one kind are listed.
const LISTED: i64 = 100;

#[derive(QueryableByName)]
struct Offender {
    #[diesel(sql_type = Text)]
    what: String,
}

/// Each check selects one `what` per offender.
const CHECKS: [&str; 4] = [
    // Sold at most once.
    "SELECT 'seat ' || performance_id || '#' || seat_number || ' is sold ' || count(*) || ' times' \
     AS what FROM bookings WHERE status = 'confirmed' \
     GROUP BY performance_id, seat_number HAVING count(*) > 1",
    // A sold seat points to a confirmed booking of that very seat.
    "SELECT 'seat ' || s.performance_id || '#' || s.seat_number || ' is sold by booking ' || \
     s.booking_id || ', which is not a confirmed booking of it' AS what FROM seats s \
     LEFT JOIN bookings b ON b.id = s.booking_id AND b.status = 'confirmed' \
       AND b.performance_id = s.performance_id AND b.seat_number = s.seat_number \
     WHERE s.booking_id IS NOT NULL AND b.id IS NULL",
    // A confirmed booking's seat is marked sold by it.
    "SELECT 'booking ' || b.id || ' is confirmed but its seat is not sold by it' AS what \
     FROM bookings b LEFT JOIN seats s ON s.performance_id = b.performance_id \
       AND s.seat_number = b.seat_number AND s.booking_id = b.id \
     WHERE b.status = 'confirmed' AND s.performance_id IS NULL",
    // Every booking of a priced seat has its payment.
    "SELECT 'booking ' || b.id || ' has no payment transfer of ' || b.price AS what \
     FROM bookings b LEFT JOIN ledger_transfers t ON t.id = b.payment_id \
       AND t.kind = 'payment' AND t.amount = b.price \
     WHERE b.price > 0 AND t.id IS NULL",
];

/// No live hold (at `?1`) on a sold seat.
const HELD_AND_SOLD: &str = "SELECT 'seat ' || performance_id || '#' || seat_number || \
     ' is sold and under hold ' || hold_id AS what FROM seats \
     WHERE booking_id IS NOT NULL AND hold_id IS NOT NULL AND hold_expires_at > ?1";

#[derive(QueryableByName)]
struct Number {
    #[diesel(sql_type = BigInt)]
    value: i64,
}

pub(super) fn verify(connection: &mut SqliteConnection, now: i64) -> Result<SeatAudit, QueryError> {
    let mut violations = Vec::new();
    for check in CHECKS {
        let found: Vec<Offender> =
            diesel::sql_query(format!("{check} LIMIT {LISTED}")).load(connection)?;
        violations.extend(found.into_iter().map(|offender| offender.what));
    }
    let found: Vec<Offender> = diesel::sql_query(format!("{HELD_AND_SOLD} LIMIT {LISTED}"))
        .bind::<BigInt, _>(now)
        .load(connection)?;
    violations.extend(found.into_iter().map(|offender| offender.what));
    let seats = diesel::sql_query("SELECT count(*) AS value FROM seats")
        .get_result::<Number>(connection)?
        .value;
    Ok(SeatAudit {
        seats_checked: u64::try_from(seats).unwrap_or_default(),
        violations,
    })
}
