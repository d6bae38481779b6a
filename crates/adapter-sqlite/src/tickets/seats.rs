//! The seat rows behind availability, seat maps and the waiting room's inventory.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};

/// A `seats` row.
#[derive(QueryableByName)]
pub(super) struct SeatRow {
    #[diesel(sql_type = BigInt)]
    pub seat_number: i64,
    #[diesel(sql_type = Nullable<Text>)]
    pub hold_id: Option<String>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub hold_expires_at: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    pub booking_id: Option<String>,
}

#[derive(QueryableByName)]
struct FreeCount {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = BigInt)]
    free: i64,
}

/// Seats of concert `?1`'s performances on sale (not cancelled, not started) at `?2`.
const ON_SALE_SEATS: &str = "FROM seats s JOIN performances p ON p.id = s.performance_id \
     WHERE p.concert_id = ?1 AND p.cancelled_at IS NULL AND p.starts_at > ?2";

/// Free seats (unsold, hold expired or none) at `now` per performance on sale of `concert`.
pub(super) fn free_counts(
    connection: &mut SqliteConnection,
    concert: &str,
    now: i64,
) -> QueryResult<Vec<(String, i64)>> {
    let counts: Vec<FreeCount> = diesel::sql_query(format!(
        "SELECT p.id AS id, count(*) AS free {ON_SALE_SEATS} AND s.booking_id IS NULL \
         AND (s.hold_expires_at IS NULL OR s.hold_expires_at <= ?2) GROUP BY p.id"
    ))
    .bind::<Text, _>(concert)
    .bind::<BigInt, _>(now)
    .load(connection)?;
    Ok(counts
        .into_iter()
        .map(|count| (count.id, count.free))
        .collect())
}

/// Every seat of a performance, in order.
pub(super) fn seats_of(
    connection: &mut SqliteConnection,
    performance: &str,
) -> QueryResult<Vec<SeatRow>> {
    diesel::sql_query(
        "SELECT seat_number, hold_id, hold_expires_at, booking_id FROM seats \
         WHERE performance_id = ? ORDER BY seat_number",
    )
    .bind::<Text, _>(performance)
    .load(connection)
}

/// The unsold seats of `concert`'s performances on sale at `now`.
pub(super) fn unsold_seats(
    connection: &mut SqliteConnection,
    concert: &str,
    now: i64,
) -> QueryResult<Vec<SeatRow>> {
    diesel::sql_query(format!(
        "SELECT s.seat_number, s.hold_id, s.hold_expires_at, s.booking_id \
         {ON_SALE_SEATS} AND s.booking_id IS NULL"
    ))
    .bind::<Text, _>(concert)
    .bind::<BigInt, _>(now)
    .load(connection)
}
