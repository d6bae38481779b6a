//! `/curricula*` (every user reads) and `/admin/curricula*` (admins manage every curriculum,
//! tutors their own): bodies, their validation, and the answers. A member hears 403 before the
//! body or the id is read; the use cases decide which curricula are whose.

use crate::auth::Authenticated;
use crate::errors::{ApiError, FieldError, Problem};
use crate::input::{Deferred, Query};
use crate::pagination::page_limit;
use crate::routes::catalog::cursor::{CURRICULUM, decode_instant_id, encode_instant_id};
use crate::routes::catalog::dto::{CategoryDto, SkillLevelDto, present};
use crate::routes::{parse_id, plain_text, prose_text, validated};
use crate::state::ApiState;
use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use reserva_application::accounts::Principal;
use reserva_application::commerce::{
    CurriculumChanges, CurriculumCommand, CurriculumEditError, ListCurricula,
};
use reserva_application::ports::commerce::CurriculumDetail;
use reserva_application::time::format_instant;
use reserva_domain::accounts::{Role, UserId};
use reserva_domain::catalog::ItemId;
use reserva_domain::commerce::{Curriculum, CurriculumCursor, CurriculumId};
use reserva_domain::exams::BusinessZone;
use reserva_domain::text;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

/// `POST /admin/curricula`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateCurriculumRequest {
    /// 1–255 characters after trimming; no control or invisible characters.
    #[schema(example = "Full-stack JavaScript")]
    #[validate(custom(function = "plain_text"))]
    pub name: String,
    /// Up to 5,000 characters; line breaks and tabs are allowed, other control characters are
    /// not.
    #[validate(custom(function = "prose_text"))]
    pub description: Option<String>,
    /// 0–100,000,000 KRW.
    #[schema(example = 45_000)]
    pub price: i64,
    /// Subject.
    pub category: CategoryDto,
    /// Level.
    pub skill_level: SkillLevelDto,
    /// Who manages it with the admins: an active tutor. Required from an admin; a tutor may
    /// omit it (it is then the tutor) or name themselves.
    #[schema(format = Uuid)]
    #[validate(
        length(max = 64, code = "invalid_id", message = "must be a UUID"),
        custom(function = "plain_text")
    )]
    pub tutor_id: Option<String>,
    /// 1–50 distinct courses, in order: each an existing course that is not deleted (from a
    /// tutor, one they teach).
    #[schema(value_type = Vec<String>, format = Uuid)]
    #[validate(length(max = 1_000, code = "too_many_courses", message = "at most 50 courses"))]
    pub course_ids: Vec<String>,
}

/// `PATCH /admin/curricula/{id}`: only the fields sent change; `course_ids` replaces the list.
/// `null` is refused (`invalid_value`) on every field but `description`, where it removes it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateCurriculumRequest {
    /// 1–255 characters after trimming.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = String, required = false)]
    pub name: Option<Option<String>>,
    /// Up to 5,000 characters; `null` removes it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    /// 0–100,000,000 KRW (orders already made keep theirs).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = i64, required = false)]
    pub price: Option<Option<i64>>,
    /// Subject.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = CategoryDto, required = false)]
    pub category: Option<Option<CategoryDto>>,
    /// Level.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = SkillLevelDto, required = false)]
    pub skill_level: Option<Option<SkillLevelDto>>,
    /// Admins only: another active tutor.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = String, required = false, format = Uuid)]
    pub tutor_id: Option<Option<String>>,
    /// 1–50 distinct courses, in order, replacing the list.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Vec<String>, required = false, format = Uuid)]
    pub course_ids: Option<Option<Vec<String>>>,
}

impl UpdateCurriculumRequest {
    /// The fields sent as `null` that may not be (every one but `description`), and the text
    /// rules the handler applies itself (`validator` cannot see into a nested option), listed
    /// together.
    fn violations(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let mut refuse = |field: &str, code: &str, message: &str| {
            errors.push(FieldError {
                field: field.to_owned(),
                code: code.to_owned(),
                message: message.to_owned(),
            });
        };
        for (field, null) in [
            ("name", matches!(self.name, Some(None))),
            ("price", matches!(self.price, Some(None))),
            ("category", matches!(self.category, Some(None))),
            ("skill_level", matches!(self.skill_level, Some(None))),
            ("tutor_id", matches!(self.tutor_id, Some(None))),
            ("course_ids", matches!(self.course_ids, Some(None))),
        ] {
            if null {
                refuse(
                    field,
                    "invalid_value",
                    "may not be null: leave it out to keep it",
                );
            }
        }
        if let Some(Some(name)) = &self.name
            && let Err(refusal) = text::check_plain(name)
        {
            refuse("name", refusal.code(), &refusal.to_string());
        }
        if let Some(Some(description)) = &self.description
            && let Err(refusal) = text::check_prose(description)
        {
            refuse("description", refusal.code(), &refusal.to_string());
        }
        if let Some(Some(tutor)) = &self.tutor_id {
            if tutor.len() > 64 {
                refuse("tutor_id", "invalid_id", "must be a UUID");
            } else if let Err(refusal) = text::check_plain(tutor) {
                refuse("tutor_id", refusal.code(), &refusal.to_string());
            }
        }
        if let Some(Some(ids)) = &self.course_ids
            && ids.len() > 1_000
        {
            refuse("course_ids", "too_many_courses", "at most 50 courses");
        }
        errors
    }
}

/// Filters of `GET /curricula`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListCurriculaQuery {
    /// Full-text search in the name and description: every word must match (at most 200
    /// characters and 10 words; blank: no search).
    pub q: Option<String>,
    /// Only this subject.
    pub category: Option<CategoryDto>,
    /// Only this level.
    pub skill_level: Option<SkillLevelDto>,
    /// Only prices at or above this (KRW).
    pub min_price: Option<i64>,
    /// Only prices at or below this (KRW); not below `min_price`.
    pub max_price: Option<i64>,
    /// Page size, 1–100 (default 20).
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A curriculum.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CurriculumResponse {
    /// Id.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Price in KRW (the price of the whole curriculum).
    pub price: i64,
    /// Subject.
    pub category: CategoryDto,
    /// Level.
    pub skill_level: SkillLevelDto,
    /// The tutor who manages it.
    pub tutor_id: Uuid,
    /// Its courses, in order.
    pub course_ids: Vec<Uuid>,
    /// Created.
    pub created_at: String,
    /// Last changed.
    pub updated_at: String,
}

impl CurriculumResponse {
    fn new(curriculum: &Curriculum, zone: BusinessZone) -> Self {
        Self {
            id: curriculum.id.as_uuid(),
            name: curriculum.name.as_str().to_owned(),
            description: curriculum
                .description
                .as_ref()
                .map(|text| text.as_str().to_owned()),
            price: curriculum.price.get(),
            category: curriculum.category.into(),
            skill_level: curriculum.skill_level.into(),
            tutor_id: curriculum.tutor_id.as_uuid(),
            course_ids: curriculum
                .courses
                .ids()
                .iter()
                .map(ItemId::as_uuid)
                .collect(),
            created_at: format_instant(curriculum.created_at, zone),
            updated_at: format_instant(curriculum.updated_at, zone),
        }
    }
}

/// One course of a curriculum.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CurriculumCourseResponse {
    /// The course.
    pub id: Uuid,
    /// Its title.
    pub title: String,
    /// Its own price in KRW (the curriculum is sold at its own price).
    pub price: i64,
}

/// A curriculum with its courses.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CurriculumDetailResponse {
    /// The curriculum.
    #[serde(flatten)]
    pub curriculum: CurriculumResponse,
    /// Its courses, in order.
    pub courses: Vec<CurriculumCourseResponse>,
}

impl CurriculumDetailResponse {
    fn new(detail: &CurriculumDetail, zone: BusinessZone) -> Self {
        Self {
            curriculum: CurriculumResponse::new(&detail.curriculum, zone),
            courses: detail
                .courses
                .iter()
                .map(|course| CurriculumCourseResponse {
                    id: course.id.as_uuid(),
                    title: course.title.as_str().to_owned(),
                    price: course.price.get(),
                })
                .collect(),
        }
    }
}

/// A page of curricula.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CurriculumPageResponse {
    /// Newest first.
    pub items: Vec<CurriculumResponse>,
    /// Pass as `?cursor=` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

/// Admins and tutors manage curricula: a member hears 403 before the body or the id is read.
fn may_edit(caller: &Principal) -> Result<(), ApiError> {
    match caller.role {
        Role::Admin | Role::Tutor => Ok(()),
        Role::Member => Err(CurriculumEditError::Forbidden.into()),
    }
}

fn tutor(text: Option<&str>) -> Result<Option<UserId>, ApiError> {
    text.map(|text| parse_id("tutor_id", text).map(UserId::from_uuid))
        .transpose()
}

fn course_ids(texts: &[String]) -> Result<Vec<ItemId>, ApiError> {
    texts
        .iter()
        .map(|text| parse_id("course_ids", text).map(ItemId::from_uuid))
        .collect()
}

/// Curricula, newest first; `q` to search, filters by subject, level and price (inclusive).
#[utoipa::path(
    tag = "commerce",
    security(("bearer_auth" = [])),
    params(ListCurriculaQuery),
    responses(
        (status = 200, body = CurriculumPageResponse),
        (status = 400, description = "`validation_failed`: `min_above_max` (min_price), `price_negative` (min_price, max_price), `search_too_long` (over 200 characters or 10 words), `invalid_cursor`, `invalid_limit`, `control_character`, `invisible_character` (`q`); `invalid_query` for an unknown category or level", body = Problem),
    )
)]
#[get("/curricula")]
pub(crate) async fn list_curricula(
    state: web::Data<ApiState>,
    caller: Authenticated,
    query: Deferred<Query<ListCurriculaQuery>>,
) -> Result<web::Json<CurriculumPageResponse>, ApiError> {
    let query = query.read()?.into_inner();
    let after = decode_instant_id(query.cursor.as_deref(), CURRICULUM)?.map(|(created_at, id)| {
        CurriculumCursor {
            created_at,
            id: CurriculumId::from_uuid(id),
        }
    });
    let request = ListCurricula {
        q: query.q,
        category: query.category.map(Into::into),
        skill_level: query.skill_level.map(Into::into),
        min_price: query.min_price,
        max_price: query.max_price,
        after,
        limit: page_limit(query.limit)?,
    };
    let page = state.curricula.list(&caller.0, request).await?;
    Ok(web::Json(CurriculumPageResponse {
        items: page
            .items
            .iter()
            .map(|curriculum| CurriculumResponse::new(curriculum, state.time_zone))
            .collect(),
        next_cursor: page
            .next
            .map(|cursor| encode_instant_id(CURRICULUM, cursor.created_at, cursor.id.as_uuid())),
    }))
}

/// One curriculum with its courses (id, title, price, in order).
#[utoipa::path(
    tag = "commerce",
    security(("bearer_auth" = [])),
    params(("id" = Uuid, Path, description = "Curriculum id")),
    responses(
        (status = 200, body = CurriculumDetailResponse),
        (status = 404, description = "`not_found`: no such curriculum (or deleted)", body = Problem),
    )
)]
#[get("/curricula/{id}")]
pub(crate) async fn get_curriculum(
    state: web::Data<ApiState>,
    caller: Authenticated,
    id: Deferred<web::Path<Uuid>>,
) -> Result<web::Json<CurriculumDetailResponse>, ApiError> {
    let id = CurriculumId::from_uuid(*id.read()?);
    let detail = state.curricula.get(&caller.0, id).await?;
    Ok(web::Json(CurriculumDetailResponse::new(
        &detail,
        state.time_zone,
    )))
}

/// Create a curriculum (admins, naming its tutor; tutors, for themselves).
#[utoipa::path(
    tag = "commerce",
    security(("bearer_auth" = [])),
    request_body = CreateCurriculumRequest,
    responses(
        (status = 201, body = CurriculumResponse, headers(("Location" = String, description = "The new curriculum's URL"))),
        (status = 400, description = "`validation_failed`: `name_empty`, `name_too_long`, `description_too_long`, `price_negative`, `price_too_high`, `courses_empty`, `too_many_courses`, `duplicate_course`, `invalid_id` (course_ids, tutor_id; also an id over 64 characters), `required` (tutor_id from an admin), `tutor_not_found` (also a tutor demoted or deactivated meanwhile), `control_character`, `invisible_character`", body = Problem),
        (status = 403, description = "`forbidden` (members), or `not_your_curriculum` (a tutor naming another tutor)", body = Problem),
        (status = 409, description = "`unknown_course`: a listed id is no existing course (a test, deleted, or nothing): `errors` names them (`course_ids`, `course_not_found`); or, from a tutor, a listed course is taught by another tutor: `errors` names those (`course_ids`, `course_not_yours`). Nothing is written", body = Problem),
    )
)]
#[post("/admin/curricula")]
pub(crate) async fn create_curriculum(
    state: web::Data<ApiState>,
    caller: Authenticated,
    body: Deferred<web::Json<CreateCurriculumRequest>>,
) -> Result<HttpResponse, ApiError> {
    may_edit(&caller.0)?;
    let body = validated(body.read()?.into_inner())?;
    let command = CurriculumCommand {
        name: body.name,
        description: body.description,
        price: body.price,
        category: body.category.into(),
        skill_level: body.skill_level.into(),
        tutor_id: tutor(body.tutor_id.as_deref())?,
        course_ids: course_ids(&body.course_ids)?,
    };
    let curriculum = state.curricula.create(&caller.0, command).await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/api/v1/curricula/{}", curriculum.id),
        ))
        .json(CurriculumResponse::new(&curriculum, state.time_zone)))
}

/// Change a curriculum (admins; tutors, their own, without changing its tutor): only the fields
/// sent; `course_ids` replaces the list.
#[utoipa::path(
    tag = "commerce",
    security(("bearer_auth" = [])),
    params(("id" = Uuid, Path, description = "Curriculum id")),
    request_body = UpdateCurriculumRequest,
    responses(
        (status = 200, body = CurriculumResponse),
        (status = 400, description = "`validation_failed`: the rules of creation; `invalid_value` for `null` on any field but `description` (where `null` removes it), every such field listed", body = Problem),
        (status = 403, description = "`forbidden` (members), or `not_your_curriculum` (a tutor changing `tutor_id`)", body = Problem),
        (status = 404, description = "`not_found` (also deleted, or another tutor's)", body = Problem),
        (status = 409, description = "`unknown_course`: a listed id is no existing course (`course_ids`, `course_not_found`), or, from a tutor, a course of another tutor (`course_ids`, `course_not_yours`). Nothing is written", body = Problem),
    )
)]
#[patch("/admin/curricula/{id}")]
pub(crate) async fn update_curriculum(
    state: web::Data<ApiState>,
    caller: Authenticated,
    id: Deferred<web::Path<Uuid>>,
    body: Deferred<web::Json<UpdateCurriculumRequest>>,
) -> Result<HttpResponse, ApiError> {
    may_edit(&caller.0)?;
    let id = CurriculumId::from_uuid(*id.read()?);
    let body = body.read()?.into_inner();
    let violations = body.violations();
    if !violations.is_empty() {
        return Err(ApiError::invalid_fields(violations));
    }
    let changes = CurriculumChanges {
        name: body.name.flatten(),
        description: body.description,
        price: body.price.flatten(),
        category: body.category.flatten().map(Into::into),
        skill_level: body.skill_level.flatten().map(Into::into),
        tutor_id: tutor(body.tutor_id.flatten().as_deref())?,
        course_ids: body
            .course_ids
            .flatten()
            .as_deref()
            .map(course_ids)
            .transpose()?,
    };
    let curriculum = state.curricula.update(&caller.0, id, changes).await?;
    Ok(HttpResponse::Ok().json(CurriculumResponse::new(&curriculum, state.time_zone)))
}

/// Delete a curriculum (admins; tutors, their own): hidden from the list and the detail; kept
/// for the orders that name it.
#[utoipa::path(
    tag = "commerce",
    security(("bearer_auth" = [])),
    params(("id" = Uuid, Path, description = "Curriculum id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "`forbidden` (members)", body = Problem),
        (status = 404, description = "`not_found` (also already deleted, or another tutor's)", body = Problem),
    )
)]
#[delete("/admin/curricula/{id}")]
pub(crate) async fn delete_curriculum(
    state: web::Data<ApiState>,
    caller: Authenticated,
    id: Deferred<web::Path<Uuid>>,
) -> Result<HttpResponse, ApiError> {
    may_edit(&caller.0)?;
    let id = CurriculumId::from_uuid(*id.read()?);
    state.curricula.delete(&caller.0, id).await?;
    Ok(HttpResponse::NoContent().finish())
}
