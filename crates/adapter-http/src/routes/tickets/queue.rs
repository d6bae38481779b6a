//! The waiting room: `POST /queue/tokens` (join, or the place one already has) and
//! `GET /queue/tokens/current` (poll), and the `Queue-Token` header the seat routes read.

use crate::auth::Authenticated;
use crate::errors::{ApiError, Problem};
use crate::input::Deferred;
use crate::routes::{parse_id, plain_text, validated};
use crate::state::ApiState;
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, HttpResponse, get, post, web};
use reserva_application::ports::waiting_room::PlaceStatus;
use reserva_application::tickets::QueueTicket;
use reserva_application::time::format_instant;
use reserva_domain::exams::BusinessZone;
use reserva_domain::tickets::{Availability, ConcertId};
use serde::{Deserialize, Serialize};
use std::future::{Ready, ready};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

/// The request header that carries a queue token.
pub(crate) const QUEUE_TOKEN: &str = "Queue-Token";

/// The caller's queue token, if the request carries one. Whether it is missing, malformed,
/// someone else's or not yet active is the use case's to decide (401 / 403), so this never
/// refuses: a value that is not text is passed on as text no token has.
#[derive(Debug, Clone, Default)]
pub(crate) struct QueueTokenHeader(Option<String>);

impl QueueTokenHeader {
    /// The token as sent.
    pub(crate) fn as_deref(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

impl FromRequest for QueueTokenHeader {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = request
            .headers()
            .get(QUEUE_TOKEN)
            .map(|value| value.to_str().unwrap_or_default().trim().to_owned());
        ready(Ok(Self(token)))
    }
}

/// The `Queue-Token` request header, as the OpenAPI document lists it.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Header)]
pub(crate) struct QueueTokenParam {
    /// The `token` of `POST /queue/tokens`: the concert's id, a dot and 32 random characters.
    /// Missing: 401 `queue_token_required`; unknown, lapsed, finished or someone else's: 401
    /// `queue_token_invalid`; still waiting: 403 `queue_token_not_active`; another concert's: 403
    /// `queue_token_wrong_concert`.
    #[serde(rename = "Queue-Token")]
    #[param(rename = "Queue-Token", required = true, max_length = 128)]
    #[expect(dead_code, reason = "read from the request by QueueTokenHeader")]
    queue_token: String,
}

/// `POST /queue/tokens`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct JoinQueueRequest {
    /// The concert whose room to enter.
    #[schema(format = Uuid)]
    #[validate(length(max = 64), custom(function = "plain_text"))]
    pub concert_id: String,
}

/// Waiting in line, or admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum PlaceStatusDto {
    /// In line; poll `GET /queue/tokens/current` to keep the place.
    Waiting,
    /// May list dates and seats, hold and pay, until `active_until`.
    Active,
}

/// Whether waiting may pay off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum AvailabilityDto {
    /// Some seat is neither sold nor held.
    PossiblyAvailable,
    /// Every seat is sold or held; held seats come back if their holds expire.
    SoldOut,
}

impl From<Availability> for AvailabilityDto {
    fn from(availability: Availability) -> Self {
        match availability {
            Availability::PossiblyAvailable => Self::PossiblyAvailable,
            Availability::SoldOut => Self::SoldOut,
        }
    }
}

/// A place in a concert's waiting room.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct QueueTicketResponse {
    /// Send it as the `Queue-Token` header of the dates, seats, hold and pay requests.
    pub token: String,
    /// The concert.
    pub concert_id: Uuid,
    /// Waiting or active.
    pub status: PlaceStatusDto,
    /// 1 is next in line; 0 when active.
    pub position: u64,
    /// Expected wait in seconds; 0 when active.
    pub eta_seconds: u64,
    /// Whether any seat is neither sold nor held.
    pub availability: AvailabilityDto,
    /// When the active period ends; `null` while waiting.
    pub active_until: Option<String>,
}

impl QueueTicketResponse {
    pub(crate) fn new(ticket: &QueueTicket, zone: BusinessZone) -> Self {
        let place = &ticket.place;
        let (status, position, eta_seconds, active_until) = match place.status {
            PlaceStatus::Waiting { position } => {
                (PlaceStatusDto::Waiting, position, ticket.eta_seconds, None)
            }
            PlaceStatus::Active { until } => (
                PlaceStatusDto::Active,
                0,
                0,
                Some(format_instant(until, zone)),
            ),
        };
        Self {
            token: place.token.as_str().to_owned(),
            concert_id: place.token.concert().as_uuid(),
            status,
            position,
            eta_seconds,
            availability: place.availability.into(),
            active_until,
        }
    }
}

/// Enter a concert's waiting room, or get the place already held there (same token). In an
/// empty room with seats left the caller is active at once.
#[utoipa::path(
    tag = "tickets",
    security(("bearer_auth" = [])),
    request_body = JoinQueueRequest,
    responses(
        (status = 201, description = "A new place", body = QueueTicketResponse),
        (status = 200, description = "The place the caller already had", body = QueueTicketResponse),
        (status = 400, description = "`validation_failed`: `invalid_id`, `control_character`", body = Problem),
        (status = 404, description = "`not_found`: no such concert", body = Problem),
        (status = 409, description = "`not_on_sale`: nothing of the concert is on sale", body = Problem),
    )
)]
#[post("/queue/tokens")]
pub(crate) async fn join(
    state: web::Data<ApiState>,
    caller: Authenticated,
    body: Deferred<web::Json<JoinQueueRequest>>,
) -> Result<HttpResponse, ApiError> {
    let body = validated(body.read()?.into_inner())?;
    let concert = ConcertId::from_uuid(parse_id("concert_id", &body.concert_id)?);
    let ticket = state.tickets.join_queue(&caller.0, concert).await?;
    let response = QueueTicketResponse::new(&ticket, state.time_zone);
    Ok(if ticket.created {
        HttpResponse::Created().json(response)
    } else {
        HttpResponse::Ok().json(response)
    })
}

/// Poll a place (keeps a waiting place; a waiting user who stops polling loses it after
/// `tickets.queue_idle_timeout_seconds`).
#[utoipa::path(
    tag = "tickets",
    security(("bearer_auth" = [])),
    params(QueueTokenParam),
    responses(
        (status = 200, body = QueueTicketResponse),
        (status = 401, description = "`queue_token_required`, `queue_token_invalid`, or a bearer refusal", body = Problem),
    )
)]
#[get("/queue/tokens/current")]
pub(crate) async fn current(
    state: web::Data<ApiState>,
    caller: Authenticated,
    token: QueueTokenHeader,
) -> Result<web::Json<QueueTicketResponse>, ApiError> {
    let ticket = state
        .tickets
        .queue_status(&caller.0, token.as_deref())
        .await?;
    Ok(web::Json(QueueTicketResponse::new(
        &ticket,
        state.time_zone,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;
    use chrono::{TimeZone, Utc};
    use reserva_application::ports::waiting_room::{QueuePlace, QueueToken};
    use reserva_domain::accounts::UserId;

    fn header(value: Option<&str>) -> Option<String> {
        let mut request = TestRequest::default();
        if let Some(value) = value {
            request = request.insert_header((QUEUE_TOKEN, value));
        }
        let (request, mut payload) = request.to_http_parts();
        let extracted = QueueTokenHeader::from_request(&request, &mut payload).into_inner();
        extracted
            .ok()
            .and_then(|token| token.as_deref().map(str::to_owned))
    }

    #[test]
    fn the_header_is_passed_on_as_sent_and_never_refused() {
        assert_eq!(header(None), None, "missing: the use case answers 401");
        assert_eq!(header(Some(" abc.def ")), Some("abc.def".to_owned()));
        assert_eq!(
            header(Some("")),
            Some(String::new()),
            "empty is not missing"
        );
    }

    fn ticket(status: PlaceStatus) -> QueueTicket {
        let concert = ConcertId::from_uuid(Uuid::now_v7());
        QueueTicket {
            place: QueuePlace {
                token: QueueToken::new(concert, "0123456789abcdef0123456789abcdef"),
                user_id: UserId::from_uuid(Uuid::now_v7()),
                status,
                availability: Availability::SoldOut,
                admitted_recently: 3,
            },
            created: true,
            eta_seconds: 42,
        }
    }

    #[test]
    fn a_place_reads_as_the_api_shows_it() {
        let zone = BusinessZone::new(chrono_tz::Asia::Seoul);
        let waiting = QueueTicketResponse::new(&ticket(PlaceStatus::Waiting { position: 7 }), zone);
        assert_eq!(
            (waiting.status, waiting.position, waiting.eta_seconds),
            (PlaceStatusDto::Waiting, 7, 42)
        );
        assert_eq!(waiting.active_until, None);
        assert_eq!(waiting.availability, AvailabilityDto::SoldOut);
        assert!(waiting.token.starts_with(&waiting.concert_id.to_string()));

        let until = Utc.with_ymd_and_hms(2026, 12, 1, 5, 0, 0).unwrap();
        let active = QueueTicketResponse::new(&ticket(PlaceStatus::Active { until }), zone);
        assert_eq!((active.position, active.eta_seconds), (0, 0));
        assert_eq!(
            active.active_until.as_deref(),
            Some("2026-12-01T14:00:00+09:00")
        );
        let json = serde_json::to_value(&active).unwrap_or_default();
        assert_eq!(
            (&json["status"], &json["availability"]),
            (&"active".into(), &"sold_out".into())
        );
    }
}
