//! Request and response bodies of the exams endpoints.

use crate::errors::ApiError;
pub(crate) use crate::routes::parse_instant;
use crate::routes::{calendar_date, plain_text};
use chrono::{DateTime, Duration, Utc};
use reserva_application::ports::exams::Slot;
use reserva_application::time::format_instant;
use reserva_domain::exams::{BusinessZone, Reservation, ReservationStatus};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

/// A reservation status as the API spells it (`accepted` is read as `confirmed`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum StatusDto {
    /// Requested; uses no capacity.
    Pending,
    /// Accepted by an admin; counted in every covered hour.
    #[serde(alias = "accepted")]
    Confirmed,
    /// Withdrawn.
    Cancelled,
}

impl From<StatusDto> for ReservationStatus {
    fn from(status: StatusDto) -> Self {
        match status {
            StatusDto::Pending => Self::Pending,
            StatusDto::Confirmed => Self::Confirmed,
            StatusDto::Cancelled => Self::Cancelled,
        }
    }
}

impl From<ReservationStatus> for StatusDto {
    fn from(status: ReservationStatus) -> Self {
        match status {
            ReservationStatus::Pending => Self::Pending,
            ReservationStatus::Confirmed => Self::Confirmed,
            ReservationStatus::Cancelled => Self::Cancelled,
        }
    }
}

/// Parses a list bound: an RFC 3339 instant, or a date meaning its start (`from`) or the start of
/// the next day (`to`, so dates are inclusive) in the business time zone.
pub(crate) fn parse_bound(
    field: &str,
    text: &str,
    zone: BusinessZone,
    inclusive_end: bool,
) -> Result<DateTime<Utc>, ApiError> {
    if let Some(date) = calendar_date(text) {
        let date = if inclusive_end {
            date + Duration::days(1)
        } else {
            date
        };
        return Ok(zone.start_of(date));
    }
    parse_instant(field, text)
}

/// `POST /exam-reservations`. Serialize gives the canonical form an idempotency key is bound to.
#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateReservationRequest {
    /// First hour, on the hour, RFC 3339 with offset.
    #[schema(example = "2026-12-10T14:00:00+09:00")]
    #[validate(length(max = 64), custom(function = "plain_text"))]
    pub starts_at: String,
    /// End (exclusive), on the hour.
    #[schema(example = "2026-12-10T16:00:00+09:00")]
    #[validate(length(max = 64), custom(function = "plain_text"))]
    pub ends_at: String,
    /// Examinees, 1–50,000.
    #[schema(example = 120)]
    pub headcount: i64,
}

/// `PATCH /exam-reservations/{id}`; absent fields keep their value.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateReservationRequest {
    /// New first hour.
    #[validate(length(max = 64), custom(function = "plain_text"))]
    pub starts_at: Option<String>,
    /// New end.
    #[validate(length(max = 64), custom(function = "plain_text"))]
    pub ends_at: Option<String>,
    /// New headcount.
    pub headcount: Option<i64>,
}

/// A reservation.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ReservationResponse {
    /// Id.
    pub id: Uuid,
    /// Owner.
    pub user_id: Uuid,
    /// First hour.
    pub starts_at: String,
    /// End (exclusive).
    pub ends_at: String,
    /// Examinees.
    pub headcount: u32,
    /// Status.
    pub status: StatusDto,
    /// Created.
    pub created_at: String,
    /// Last changed.
    pub updated_at: String,
    /// When confirmed.
    pub confirmed_at: Option<String>,
    /// When cancelled.
    pub cancelled_at: Option<String>,
}

impl ReservationResponse {
    pub(crate) fn new(reservation: &Reservation, zone: BusinessZone) -> Self {
        Self {
            id: reservation.id.as_uuid(),
            user_id: reservation.user_id.as_uuid(),
            starts_at: format_instant(reservation.range.starts_at(), zone),
            ends_at: format_instant(reservation.range.ends_at(), zone),
            headcount: reservation.headcount.get(),
            status: reservation.status.into(),
            created_at: format_instant(reservation.created_at, zone),
            updated_at: format_instant(reservation.updated_at, zone),
            confirmed_at: reservation.confirmed_at.map(|at| format_instant(at, zone)),
            cancelled_at: reservation.cancelled_at.map(|at| format_instant(at, zone)),
        }
    }
}

/// A page of reservations.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ReservationPageResponse {
    /// Newest first.
    pub items: Vec<ReservationResponse>,
    /// Pass as `?cursor=` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

/// One bookable hour.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SlotResponse {
    /// Start of the hour.
    #[schema(example = "2026-12-10T14:00:00+09:00")]
    pub starts_at: String,
    /// End of the hour.
    pub ends_at: String,
    /// People the hour holds.
    #[schema(example = 50000)]
    pub capacity: u32,
    /// People confirmed.
    pub confirmed: u32,
    /// Places left.
    pub remaining: u32,
}

impl SlotResponse {
    pub(crate) fn new(slot: &Slot, zone: BusinessZone) -> Self {
        Self {
            starts_at: format_instant(slot.starts_at, zone),
            ends_at: format_instant(slot.starts_at + Duration::hours(1), zone),
            capacity: slot.capacity,
            confirmed: slot.confirmed,
            remaining: slot.remaining(),
        }
    }
}

/// The bookable hours of a date.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DaySlotsResponse {
    /// The date (business time zone).
    #[schema(example = "2026-12-10")]
    pub date: String,
    /// Hours inside the booking window with room left.
    pub slots: Vec<SlotResponse>,
}
