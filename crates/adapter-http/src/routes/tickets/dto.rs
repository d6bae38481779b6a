//! Request and response bodies of the concert, performance and booking endpoints. The queue's
//! are in `queue.rs`, next to the `Queue-Token` header they travel with.

use crate::routes::plain_text;
use reserva_application::ports::tickets::{PerformanceAvailability, PerformanceCancellation};
use reserva_application::time::format_instant;
use reserva_domain::exams::BusinessZone;
use reserva_domain::tickets::{
    Booking, BookingStatus, Concert, Performance, SeatHold, SeatNumber, SeatState,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

/// One performance of a new concert. Its text is checked by the handler (`validator` would
/// report a nested field without its name).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewPerformanceRequest {
    /// When it starts, RFC 3339 with offset; in the future.
    #[schema(example = "2026-12-24T19:00:00+09:00")]
    pub starts_at: String,
}

/// `POST /admin/concerts`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateConcertRequest {
    /// 1–200 characters after trimming; no control or invisible characters.
    #[schema(example = "Winter Gala")]
    #[validate(custom(function = "plain_text"))]
    pub title: String,
    /// Price of one seat in KRW, at least 0.
    #[schema(example = 50000)]
    pub price: i64,
    /// 1–100 distinct performances.
    #[schema(example = json!([{"starts_at": "2026-12-24T19:00:00+09:00"}]))]
    pub performances: Vec<NewPerformanceRequest>,
    /// Seats of each performance, 1–50 (default `tickets.default_seats`, 50).
    #[schema(example = 50)]
    pub seats: Option<i64>,
}

/// A performance of a concert.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PerformanceResponse {
    /// Id.
    pub id: Uuid,
    /// When it starts.
    pub starts_at: String,
    /// Its date in the business time zone (one hold per user per concert per date).
    #[schema(example = "2026-12-24")]
    pub date: String,
    /// Seats, numbered 1 to this.
    pub seats: u16,
    /// When it was cancelled (its bookings refunded); `null` while on.
    pub cancelled_at: Option<String>,
}

impl PerformanceResponse {
    pub(crate) fn new(performance: &Performance, zone: BusinessZone) -> Self {
        Self {
            id: performance.id.as_uuid(),
            starts_at: format_instant(performance.starts_at, zone),
            date: performance.local_date.to_string(),
            seats: performance.seats.get(),
            cancelled_at: performance.cancelled_at.map(|at| format_instant(at, zone)),
        }
    }
}

/// A concert with its performances.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ConcertResponse {
    /// Id (also its waiting room's).
    pub id: Uuid,
    /// Title.
    pub title: String,
    /// Price of one seat in KRW.
    pub price: i64,
    /// Created.
    pub created_at: String,
    /// Earliest first.
    pub performances: Vec<PerformanceResponse>,
}

impl ConcertResponse {
    pub(crate) fn new(concert: &Concert, zone: BusinessZone) -> Self {
        Self {
            id: concert.id.as_uuid(),
            title: concert.title.as_str().to_owned(),
            price: concert.price.get(),
            created_at: format_instant(concert.created_at, zone),
            performances: concert
                .performances
                .iter()
                .map(|performance| PerformanceResponse::new(performance, zone))
                .collect(),
        }
    }
}

/// A page of concerts.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ConcertPageResponse {
    /// Newest first.
    pub items: Vec<ConcertResponse>,
    /// Pass as `?cursor=` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

/// A performance on sale and its free seats.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DateResponse {
    /// The performance.
    pub performance_id: Uuid,
    /// When it starts.
    pub starts_at: String,
    /// Its date in the business time zone.
    #[schema(example = "2026-12-24")]
    pub date: String,
    /// Seats neither sold nor under a live hold.
    pub free_seats: u32,
}

impl DateResponse {
    pub(crate) fn new(available: &PerformanceAvailability, zone: BusinessZone) -> Self {
        let performance = &available.performance;
        Self {
            performance_id: performance.id.as_uuid(),
            starts_at: format_instant(performance.starts_at, zone),
            date: performance.local_date.to_string(),
            free_seats: available.free_seats,
        }
    }
}

/// `GET /concerts/{id}/dates`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DatesResponse {
    /// The concert.
    pub concert_id: Uuid,
    /// Performances on sale, earliest first.
    pub dates: Vec<DateResponse>,
}

/// A seat as someone choosing one sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum SeatStatusDto {
    /// Neither sold nor under a live hold.
    Available,
    /// Under a hold that has not expired.
    Held,
    /// Paid for.
    Sold,
}

impl From<SeatState> for SeatStatusDto {
    fn from(state: SeatState) -> Self {
        match state {
            SeatState::Available => Self::Available,
            SeatState::Held => Self::Held,
            SeatState::Sold => Self::Sold,
        }
    }
}

/// One seat of the map.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SeatResponse {
    /// 1 to the performance's seat count.
    pub number: u16,
    /// Its state now.
    pub status: SeatStatusDto,
}

impl SeatResponse {
    pub(crate) fn new((number, state): (SeatNumber, SeatState)) -> Self {
        Self {
            number: number.get(),
            status: state.into(),
        }
    }
}

/// `GET /performances/{id}/seats`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SeatMapResponse {
    /// The performance.
    pub performance_id: Uuid,
    /// When it starts.
    pub starts_at: String,
    /// Every seat, by number.
    pub seats: Vec<SeatResponse>,
}

/// `POST /admin/performances/{id}/cancel`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CancellationResponse {
    /// The performance.
    pub performance_id: Uuid,
    /// When it was cancelled.
    pub cancelled_at: Option<String>,
    /// Bookings refunded to their buyers' wallets.
    pub refunded_bookings: u32,
    /// Live holds released.
    pub released_holds: usize,
}

impl CancellationResponse {
    pub(crate) fn new(cancellation: &PerformanceCancellation, zone: BusinessZone) -> Self {
        let performance = &cancellation.performance;
        Self {
            performance_id: performance.id.as_uuid(),
            cancelled_at: performance.cancelled_at.map(|at| format_instant(at, zone)),
            refunded_bookings: cancellation.refunded,
            released_holds: cancellation.released.len(),
        }
    }
}

/// `POST /seat-holds`. Serialize gives the canonical form an idempotency key is bound to.
#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct HoldRequest {
    /// The performance.
    #[schema(format = Uuid)]
    #[validate(length(max = 64), custom(function = "plain_text"))]
    pub performance_id: String,
    /// 1 to the performance's seat count.
    #[schema(example = 7)]
    pub seat_number: i64,
}

/// A seat hold: the seat is the caller's until `expires_at`, unless paid for before.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct HoldResponse {
    /// Id; pay with `POST /seat-holds/{id}/pay`.
    pub id: Uuid,
    /// The performance.
    pub performance_id: Uuid,
    /// The seat.
    pub seat_number: u16,
    /// What paying costs, in KRW.
    pub price: i64,
    /// When the seat is free again if not paid for.
    pub expires_at: String,
}

impl HoldResponse {
    pub(crate) fn new(hold: &SeatHold, zone: BusinessZone) -> Self {
        Self {
            id: hold.id.as_uuid(),
            performance_id: hold.performance_id.as_uuid(),
            seat_number: hold.seat.get(),
            price: hold.price.get(),
            expires_at: format_instant(hold.expires_at, zone),
        }
    }
}

/// A booking's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum BookingStatusDto {
    /// Paid; the seat is the buyer's.
    Confirmed,
    /// The performance was cancelled and the price went back to the wallet.
    Refunded,
}

impl From<BookingStatus> for BookingStatusDto {
    fn from(status: BookingStatus) -> Self {
        match status {
            BookingStatus::Confirmed => Self::Confirmed,
            BookingStatus::Refunded => Self::Refunded,
        }
    }
}

/// A paid seat.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct BookingResponse {
    /// Id.
    pub id: Uuid,
    /// The hold it was paid from.
    pub hold_id: Uuid,
    /// The concert.
    pub concert_id: Uuid,
    /// The performance.
    pub performance_id: Uuid,
    /// The seat.
    pub seat_number: u16,
    /// What was paid, in KRW.
    pub price: i64,
    /// Status.
    pub status: BookingStatusDto,
    /// When it was paid.
    pub created_at: String,
    /// When it was refunded.
    pub refunded_at: Option<String>,
}

impl BookingResponse {
    pub(crate) fn new(booking: &Booking, zone: BusinessZone) -> Self {
        Self {
            id: booking.id.as_uuid(),
            hold_id: booking.hold_id.as_uuid(),
            concert_id: booking.concert_id.as_uuid(),
            performance_id: booking.performance_id.as_uuid(),
            seat_number: booking.seat.get(),
            price: booking.price.get(),
            status: booking.status.into(),
            created_at: format_instant(booking.created_at, zone),
            refunded_at: booking.refunded_at.map(|at| format_instant(at, zone)),
        }
    }
}

/// A page of bookings.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct BookingPageResponse {
    /// Newest first.
    pub items: Vec<BookingResponse>,
    /// Pass as `?cursor=` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}
