//! `/admin/tests*` and `/admin/courses*`: creating, editing and deleting items. Tests are the
//! administrators'; courses are theirs and, for their own courses, their tutors'. The use cases
//! decide who may; a caller who may not touch the kind at all hears 403 before the body is read.

use super::dto::{CourseResponse, CreateItemRequest, TestResponse, UpdateItemRequest};
use crate::auth::Authenticated;
use crate::errors::{ApiError, Problem};
use crate::input::Deferred;
use crate::routes::{parse_id, parse_instant, validated};
use crate::state::ApiState;
use actix_web::http::header;
use actix_web::{HttpResponse, HttpResponseBuilder, delete, patch, post, web};
use reserva_application::accounts::Principal;
use reserva_application::catalog::{ItemChanges, ItemCommand, ItemEditError};
use reserva_application::ports::catalog::ListedItem;
use reserva_domain::accounts::{Role, UserId};
use reserva_domain::catalog::{CatalogItem, ItemId, ItemKind};
use reserva_domain::text;
use uuid::Uuid;

/// The item as its editor sees it (`is_registered` is the editor's, who does not register for
/// what they edit).
fn listed(item: CatalogItem) -> ListedItem {
    ListedItem {
        item,
        is_registered: false,
    }
}

/// Tests are the administrators', courses also their tutors': anyone else hears 403 before the
/// body or the id is read (the use case checks again, and decides which courses are whose).
fn may_edit(caller: &Principal, kind: ItemKind) -> Result<(), ApiError> {
    match (kind, caller.role) {
        (_, Role::Admin) | (ItemKind::Course, Role::Tutor) => Ok(()),
        (ItemKind::Test, _) => Err(ItemEditError::AdminOnly.into()),
        (ItemKind::Course, _) => Err(ItemEditError::Forbidden.into()),
    }
}

fn tutor(text: Option<&str>) -> Result<Option<UserId>, ApiError> {
    text.map(|text| parse_id("tutor_id", text).map(UserId::from_uuid))
        .transpose()
}

/// The answer with the item as its kind shows it.
fn item_response(
    mut answer: HttpResponseBuilder,
    item: CatalogItem,
    state: &ApiState,
) -> HttpResponse {
    let listed = listed(item);
    let zone = state.time_zone;
    // A course always has its details; without them it is shown as a test would be.
    match CourseResponse::new(&listed, zone) {
        Some(course) if listed.item.kind == ItemKind::Course => answer.json(course),
        _ => answer.json(TestResponse::new(&listed, zone)),
    }
}

async fn create(
    state: &ApiState,
    caller: &Principal,
    kind: ItemKind,
    body: Deferred<web::Json<CreateItemRequest>>,
) -> Result<HttpResponse, ApiError> {
    may_edit(caller, kind)?;
    let body = validated(body.read()?.into_inner())?;
    let command = ItemCommand {
        kind,
        title: body.title,
        description: body.description,
        price: body.price,
        starts_at: parse_instant("starts_at", &body.starts_at)?,
        ends_at: parse_instant("ends_at", &body.ends_at)?,
        category: body.category.map(Into::into),
        skill_level: body.skill_level.map(Into::into),
        tutor_id: tutor(body.tutor_id.as_deref())?,
    };
    let item = state.catalog.create_item(caller, command).await?;
    let location = format!("/api/v1/{}s/{}", kind.as_str(), item.id);
    let mut answer = HttpResponse::Created();
    answer.insert_header((header::LOCATION, location));
    Ok(item_response(answer, item, state))
}

async fn update(
    state: &ApiState,
    caller: &Principal,
    kind: ItemKind,
    id: Deferred<web::Path<Uuid>>,
    body: Deferred<web::Json<UpdateItemRequest>>,
) -> Result<HttpResponse, ApiError> {
    may_edit(caller, kind)?;
    let id = ItemId::from_uuid(*id.read()?);
    let body = validated(body.read()?.into_inner())?;
    if let Some(Some(description)) = &body.description {
        text::check_prose(description)
            .map_err(|refusal| ApiError::invalid_field("description", refusal.code(), refusal))?;
    }
    let changes = ItemChanges {
        title: body.title,
        description: body.description,
        price: body.price,
        starts_at: body
            .starts_at
            .as_deref()
            .map(|text| parse_instant("starts_at", text))
            .transpose()?,
        ends_at: body
            .ends_at
            .as_deref()
            .map(|text| parse_instant("ends_at", text))
            .transpose()?,
        category: body.category.map(Into::into),
        skill_level: body.skill_level.map(Into::into),
        tutor_id: tutor(body.tutor_id.as_deref())?,
    };
    let item = state.catalog.update_item(caller, kind, id, changes).await?;
    Ok(item_response(HttpResponse::Ok(), item, state))
}

async fn remove(
    state: &ApiState,
    caller: &Principal,
    kind: ItemKind,
    id: Deferred<web::Path<Uuid>>,
) -> Result<HttpResponse, ApiError> {
    may_edit(caller, kind)?;
    let id = ItemId::from_uuid(*id.read()?);
    state.catalog.delete_item(caller, kind, id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Create a test (admins).
#[utoipa::path(
    tag = "catalog",
    security(("bearer_auth" = [])),
    request_body = CreateItemRequest,
    responses(
        (status = 201, body = TestResponse, headers(("Location" = String, description = "The new test's URL"))),
        (status = 400, description = "`validation_failed`: `title_empty`, `title_too_long`, `description_too_long`, `price_negative`, `price_too_high`, `starts_after_ends`, `invalid_datetime`, `not_for_tests` (category, skill_level or tutor_id), `control_character`, `invisible_character`", body = Problem),
        (status = 403, description = "`admin_only`", body = Problem),
    )
)]
#[post("/admin/tests")]
pub(crate) async fn create_test(
    state: web::Data<ApiState>,
    caller: Authenticated,
    body: Deferred<web::Json<CreateItemRequest>>,
) -> Result<HttpResponse, ApiError> {
    create(&state, &caller.0, ItemKind::Test, body).await
}

/// Create a course (admins, naming its tutor; tutors, for themselves).
#[utoipa::path(
    tag = "catalog",
    security(("bearer_auth" = [])),
    request_body = CreateItemRequest,
    responses(
        (status = 201, body = CourseResponse, headers(("Location" = String, description = "The new course's URL"))),
        (status = 400, description = "`validation_failed`: `title_empty`, `title_too_long`, `description_too_long`, `price_negative`, `price_too_high`, `starts_after_ends`, `invalid_datetime`, `required` (category, skill_level, and tutor_id from an admin), `tutor_not_found`, `invalid_id`, `control_character`, `invisible_character`", body = Problem),
        (status = 403, description = "`forbidden` (members), or `not_your_course` (a tutor naming another tutor)", body = Problem),
    )
)]
#[post("/admin/courses")]
pub(crate) async fn create_course(
    state: web::Data<ApiState>,
    caller: Authenticated,
    body: Deferred<web::Json<CreateItemRequest>>,
) -> Result<HttpResponse, ApiError> {
    create(&state, &caller.0, ItemKind::Course, body).await
}

/// Change a test (admins): only the fields sent.
#[utoipa::path(
    tag = "catalog",
    security(("bearer_auth" = [])),
    params(("id" = Uuid, Path, description = "Test id")),
    request_body = UpdateItemRequest,
    responses(
        (status = 200, body = TestResponse),
        (status = 400, description = "`validation_failed`: the rules of creation", body = Problem),
        (status = 403, description = "`admin_only`", body = Problem),
        (status = 404, description = "`item_not_found`", body = Problem),
        (status = 409, description = "`edit_conflict`: a concurrent edit made the result invalid", body = Problem),
    )
)]
#[patch("/admin/tests/{id}")]
pub(crate) async fn update_test(
    state: web::Data<ApiState>,
    caller: Authenticated,
    id: Deferred<web::Path<Uuid>>,
    body: Deferred<web::Json<UpdateItemRequest>>,
) -> Result<HttpResponse, ApiError> {
    update(&state, &caller.0, ItemKind::Test, id, body).await
}

/// Change a course (admins; tutors, their own, without changing its tutor): only the fields
/// sent.
#[utoipa::path(
    tag = "catalog",
    security(("bearer_auth" = [])),
    params(("id" = Uuid, Path, description = "Course id")),
    request_body = UpdateItemRequest,
    responses(
        (status = 200, body = CourseResponse),
        (status = 400, description = "`validation_failed`: the rules of creation", body = Problem),
        (status = 403, description = "`forbidden` (members), or `not_your_course` (a tutor changing `tutor_id`)", body = Problem),
        (status = 404, description = "`item_not_found` (also another tutor's course)", body = Problem),
        (status = 409, description = "`edit_conflict`: a concurrent edit made the result invalid", body = Problem),
    )
)]
#[patch("/admin/courses/{id}")]
pub(crate) async fn update_course(
    state: web::Data<ApiState>,
    caller: Authenticated,
    id: Deferred<web::Path<Uuid>>,
    body: Deferred<web::Json<UpdateItemRequest>>,
) -> Result<HttpResponse, ApiError> {
    update(&state, &caller.0, ItemKind::Course, id, body).await
}

/// Delete a test (admins): hidden and closed; its registrations and payments stay.
#[utoipa::path(
    tag = "catalog",
    security(("bearer_auth" = [])),
    params(("id" = Uuid, Path, description = "Test id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "`admin_only`", body = Problem),
        (status = 404, description = "`item_not_found`", body = Problem),
    )
)]
#[delete("/admin/tests/{id}")]
pub(crate) async fn delete_test(
    state: web::Data<ApiState>,
    caller: Authenticated,
    id: Deferred<web::Path<Uuid>>,
) -> Result<HttpResponse, ApiError> {
    remove(&state, &caller.0, ItemKind::Test, id).await
}

/// Delete a course (admins; tutors, their own): hidden and closed; its registrations and
/// payments stay.
#[utoipa::path(
    tag = "catalog",
    security(("bearer_auth" = [])),
    params(("id" = Uuid, Path, description = "Course id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "`forbidden` (members)", body = Problem),
        (status = 404, description = "`item_not_found` (also another tutor's course)", body = Problem),
    )
)]
#[delete("/admin/courses/{id}")]
pub(crate) async fn delete_course(
    state: web::Data<ApiState>,
    caller: Authenticated,
    id: Deferred<web::Path<Uuid>>,
) -> Result<HttpResponse, ApiError> {
    remove(&state, &caller.0, ItemKind::Course, id).await
}
