//! `/tests*` and `/courses*`: the lists, one item, applying for a test or enrolling in a course
//! (paid by card, KakaoPay, bank transfer or the wallet), and completing it. The two kinds share
//! every step; each has its own routes so the document names them.

use super::cursor::{decode_catalog, encode_catalog};
use super::dto::{
    CoursePageResponse, CourseResponse, ListItemsQuery, PaymentRecordResponse, RegisterRequest,
    RegistrationResponse, TestPageResponse, TestResponse,
};
use crate::auth::Authenticated;
use crate::errors::{ApiError, OutcomeUnknown, Problem};
use crate::idempotency;
use crate::input::{Deferred, Query};
use crate::pagination::page_limit;
use crate::routes::IdempotencyHeader;
use crate::state::ApiState;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, ResponseError, get, post, web};
use reserva_application::accounts::Principal;
use reserva_application::catalog::{self, ItemPage, ListItems};
use reserva_application::ports::catalog::ListedItem;
use reserva_domain::catalog::{ItemId, ItemKind};
use uuid::Uuid;

/// One page of `kind`'s list.
async fn page_of(
    state: &ApiState,
    caller: &Principal,
    kind: ItemKind,
    query: ListItemsQuery,
) -> Result<ItemPage, ApiError> {
    let sort = query.sort.unwrap_or_default().into();
    let request = ListItems {
        kind,
        available: query.status.is_some(),
        q: query.q,
        sort,
        after: decode_catalog(query.cursor.as_deref(), sort)?,
        limit: page_limit(query.limit)?,
    };
    Ok(state.catalog.list_items(caller, request).await?)
}

/// Tests, newest first or most popular first; `status=available` for those open now, `q` to
/// search.
#[utoipa::path(
    tag = "catalog",
    security(("bearer_auth" = [])),
    params(ListItemsQuery),
    responses(
        (status = 200, body = TestPageResponse),
        (status = 400, description = "`validation_failed`: `invalid_cursor` (also a cursor of the other sort), `invalid_limit`, `search_too_long` (over 200 characters or 10 words), `control_character`, `invisible_character` (`q`)", body = Problem),
    )
)]
#[get("/tests")]
pub(crate) async fn list_tests(
    state: web::Data<ApiState>,
    caller: Authenticated,
    query: Deferred<Query<ListItemsQuery>>,
) -> Result<web::Json<TestPageResponse>, ApiError> {
    let query = query.read()?.into_inner();
    let page = page_of(&state, &caller.0, ItemKind::Test, query).await?;
    Ok(web::Json(TestPageResponse {
        items: page
            .items
            .iter()
            .map(|listed| TestResponse::new(listed, state.time_zone))
            .collect(),
        next_cursor: page.next.map(encode_catalog),
    }))
}

/// Courses, newest first or most popular first; `status=available` for those open now, `q` to
/// search.
#[utoipa::path(
    tag = "catalog",
    security(("bearer_auth" = [])),
    params(ListItemsQuery),
    responses(
        (status = 200, body = CoursePageResponse),
        (status = 400, description = "`validation_failed`: `invalid_cursor` (also a cursor of the other sort), `invalid_limit`, `search_too_long` (over 200 characters or 10 words), `control_character`, `invisible_character` (`q`)", body = Problem),
    )
)]
#[get("/courses")]
pub(crate) async fn list_courses(
    state: web::Data<ApiState>,
    caller: Authenticated,
    query: Deferred<Query<ListItemsQuery>>,
) -> Result<web::Json<CoursePageResponse>, ApiError> {
    let query = query.read()?.into_inner();
    let page = page_of(&state, &caller.0, ItemKind::Course, query).await?;
    Ok(web::Json(CoursePageResponse {
        items: page
            .items
            .iter()
            .filter_map(|listed| CourseResponse::new(listed, state.time_zone))
            .collect(),
        next_cursor: page.next.map(encode_catalog),
    }))
}

async fn one(
    state: &ApiState,
    caller: &Principal,
    kind: ItemKind,
    id: Deferred<web::Path<Uuid>>,
) -> Result<ListedItem, ApiError> {
    let id = ItemId::from_uuid(*id.read()?);
    Ok(state.catalog.get_item(caller, kind, id).await?)
}

/// One test.
#[utoipa::path(
    tag = "catalog",
    security(("bearer_auth" = [])),
    params(("id" = Uuid, Path, description = "Test id")),
    responses(
        (status = 200, body = TestResponse),
        (status = 404, description = "`item_not_found`: no such test (or deleted)", body = Problem),
    )
)]
#[get("/tests/{id}")]
pub(crate) async fn get_test(
    state: web::Data<ApiState>,
    caller: Authenticated,
    id: Deferred<web::Path<Uuid>>,
) -> Result<web::Json<TestResponse>, ApiError> {
    let listed = one(&state, &caller.0, ItemKind::Test, id).await?;
    Ok(web::Json(TestResponse::new(&listed, state.time_zone)))
}

/// One course.
#[utoipa::path(
    tag = "catalog",
    security(("bearer_auth" = [])),
    params(("id" = Uuid, Path, description = "Course id")),
    responses(
        (status = 200, body = CourseResponse),
        (status = 404, description = "`item_not_found`: no such course (or deleted)", body = Problem),
    )
)]
#[get("/courses/{id}")]
pub(crate) async fn get_course(
    state: web::Data<ApiState>,
    caller: Authenticated,
    id: Deferred<web::Path<Uuid>>,
) -> Result<web::Json<CourseResponse>, ApiError> {
    let listed = one(&state, &caller.0, ItemKind::Course, id).await?;
    CourseResponse::new(&listed, state.time_zone)
        .map(web::Json)
        .ok_or_else(ApiError::not_found)
}

/// The answer of an apply or enroll. An unknown outcome frees the `Idempotency-Key` instead of
/// being kept for it (as other writes' are): the key derives the payment's id, so a retry with
/// it resumes that same payment — the provider charges a payment id at most once — and learns
/// how it ended, where a replay would repeat "unknown" for a day.
async fn register(
    state: web::Data<ApiState>,
    request: &HttpRequest,
    caller: Authenticated,
    kind: ItemKind,
    id: Deferred<web::Path<Uuid>>,
    body: Deferred<web::Json<RegisterRequest>>,
) -> Result<HttpResponse, ApiError> {
    let id = ItemId::from_uuid(*id.read()?);
    let body = body.read()?.into_inner();
    let canonical = serde_json::to_string(&body).unwrap_or_default();
    let key = idempotency::key_of(request)?;
    let principal = caller.0;
    let handler = {
        let state = state.clone();
        async move {
            let command = catalog::RegisterRequest {
                amount: body.amount,
                method: body.payment_method.into(),
            };
            let registered = state
                .catalog
                .register(&principal, kind, id, command, key.as_deref())
                .await;
            let registered = match registered {
                Ok(registered) => registered,
                Err(error) => {
                    let mut response = ApiError::from(error).error_response();
                    response.extensions_mut().remove::<OutcomeUnknown>();
                    return Ok(response);
                }
            };
            let settled = &registered.settled;
            let mut response = HttpResponse::Created();
            response.insert_header((
                header::LOCATION,
                format!("/api/v1/me/payments/{}", settled.payment.id),
            ));
            if registered.replayed {
                response.insert_header((idempotency::REPLAYED, "true"));
            }
            Ok(response.json(PaymentRecordResponse::new(
                &settled.payment,
                Some(&settled.registration),
                state.time_zone,
            )))
        }
    };
    idempotency::once(&state, request, &principal, &canonical, handler).await
}

/// Apply for a test, paying its price. With an `Idempotency-Key` the payment happens at most
/// once for good: the key derives the payment's id, so a retry — even after an unknown outcome
/// — finds that payment instead of making another. One live registration per user and test.
#[utoipa::path(
    tag = "catalog",
    security(("bearer_auth" = [])),
    params(("id" = Uuid, Path, description = "Test id"), IdempotencyHeader),
    request_body = RegisterRequest,
    responses(
        (status = 201, body = PaymentRecordResponse, headers(
            ("Location" = String, description = "The payment's URL"),
            ("Idempotent-Replayed" = String, description = "`true` when this answers an earlier request with the same Idempotency-Key"),
        )),
        (status = 400, description = "`validation_failed`: `amount_negative`, `amount_outside_method_limits`, `amount_not_price`, `invalid_idempotency_key`", body = Problem),
        (status = 402, description = "`payment_declined`: the provider refused; nothing was charged", body = Problem),
        (status = 404, description = "`item_not_found`", body = Problem),
        (status = 409, description = "`registration_closed`, `already_registered`, `insufficient_balance`, `payment_not_pending`, `payment_attempt_failed` (an earlier attempt with this key failed: use a new key), or `idempotency_key_in_flight`", body = Problem),
        (status = 422, description = "`idempotency_key_reused`: the key was used for a different request", body = Problem),
        (status = 503, description = "`payment_provider_unavailable` (nothing charged; retry after `Retry-After`), or `outcome_unknown` (the provider did not answer: retry with the same Idempotency-Key, or look up `resource_id`, the payment)", body = Problem),
    )
)]
#[post("/tests/{id}/apply")]
pub(crate) async fn apply(
    state: web::Data<ApiState>,
    request: HttpRequest,
    caller: Authenticated,
    id: Deferred<web::Path<Uuid>>,
    body: Deferred<web::Json<RegisterRequest>>,
) -> Result<HttpResponse, ApiError> {
    register(state, &request, caller, ItemKind::Test, id, body).await
}

/// Enroll in a course, paying its price. With an `Idempotency-Key` the payment happens at most
/// once for good: the key derives the payment's id, so a retry — even after an unknown outcome
/// — finds that payment instead of making another. One live registration per user and course.
#[utoipa::path(
    tag = "catalog",
    security(("bearer_auth" = [])),
    params(("id" = Uuid, Path, description = "Course id"), IdempotencyHeader),
    request_body = RegisterRequest,
    responses(
        (status = 201, body = PaymentRecordResponse, headers(
            ("Location" = String, description = "The payment's URL"),
            ("Idempotent-Replayed" = String, description = "`true` when this answers an earlier request with the same Idempotency-Key"),
        )),
        (status = 400, description = "`validation_failed`: `amount_negative`, `amount_outside_method_limits`, `amount_not_price`, `invalid_idempotency_key`", body = Problem),
        (status = 402, description = "`payment_declined`: the provider refused; nothing was charged", body = Problem),
        (status = 404, description = "`item_not_found`", body = Problem),
        (status = 409, description = "`registration_closed`, `already_registered`, `insufficient_balance`, `payment_not_pending`, `payment_attempt_failed` (an earlier attempt with this key failed: use a new key), or `idempotency_key_in_flight`", body = Problem),
        (status = 422, description = "`idempotency_key_reused`: the key was used for a different request", body = Problem),
        (status = 503, description = "`payment_provider_unavailable` (nothing charged; retry after `Retry-After`), or `outcome_unknown` (the provider did not answer: retry with the same Idempotency-Key, or look up `resource_id`, the payment)", body = Problem),
    )
)]
#[post("/courses/{id}/enroll")]
pub(crate) async fn enroll(
    state: web::Data<ApiState>,
    request: HttpRequest,
    caller: Authenticated,
    id: Deferred<web::Path<Uuid>>,
    body: Deferred<web::Json<RegisterRequest>>,
) -> Result<HttpResponse, ApiError> {
    register(state, &request, caller, ItemKind::Course, id, body).await
}

async fn complete(
    state: &ApiState,
    caller: &Principal,
    kind: ItemKind,
    id: Deferred<web::Path<Uuid>>,
) -> Result<web::Json<RegistrationResponse>, ApiError> {
    let id = ItemId::from_uuid(*id.read()?);
    let registration = state.catalog.complete(caller, kind, id).await?;
    Ok(web::Json(RegistrationResponse::new(
        &registration,
        state.time_zone,
    )))
}

/// Mark the caller's registration for a test as taken. A completed registration can no longer
/// be cancelled.
#[utoipa::path(
    tag = "catalog",
    security(("bearer_auth" = [])),
    params(("id" = Uuid, Path, description = "Test id")),
    responses(
        (status = 200, body = RegistrationResponse),
        (status = 404, description = "`registration_not_found`: the caller never applied", body = Problem),
        (status = 409, description = "`already_completed` or `registration_cancelled`", body = Problem),
    )
)]
#[post("/tests/{id}/complete")]
pub(crate) async fn complete_test(
    state: web::Data<ApiState>,
    caller: Authenticated,
    id: Deferred<web::Path<Uuid>>,
) -> Result<web::Json<RegistrationResponse>, ApiError> {
    complete(&state, &caller.0, ItemKind::Test, id).await
}

/// Mark the caller's enrolment in a course as finished. A completed registration can no longer
/// be cancelled.
#[utoipa::path(
    tag = "catalog",
    security(("bearer_auth" = [])),
    params(("id" = Uuid, Path, description = "Course id")),
    responses(
        (status = 200, body = RegistrationResponse),
        (status = 404, description = "`registration_not_found`: the caller never enrolled", body = Problem),
        (status = 409, description = "`already_completed` or `registration_cancelled`", body = Problem),
    )
)]
#[post("/courses/{id}/complete")]
pub(crate) async fn complete_course(
    state: web::Data<ApiState>,
    caller: Authenticated,
    id: Deferred<web::Path<Uuid>>,
) -> Result<web::Json<RegistrationResponse>, ApiError> {
    complete(&state, &caller.0, ItemKind::Course, id).await
}
