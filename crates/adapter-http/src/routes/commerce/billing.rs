//! `/billing-addresses*`: every signed-in user's own billing addresses (another user's are not
//! found). Bodies, their shape, and the answers; the field rules and the default's are the use
//! cases'.

use crate::auth::Authenticated;
use crate::errors::{ApiError, FieldError, Problem};
use crate::input::{Deferred, Query};
use crate::pagination::page_limit;
use crate::routes::catalog::cursor::{BILLING_ADDRESS, decode_instant_id, encode_instant_id};
use crate::routes::catalog::dto::present;
use crate::state::ApiState;
use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use reserva_application::commerce::billing::{BillingAddressCommand, BillingAddressEdit};
use reserva_application::time::format_instant;
use reserva_domain::commerce::billing::{BillingAddress, BillingAddressCursor, BillingAddressId};
use reserva_domain::exams::BusinessZone;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

/// `POST /billing-addresses`. Every text rule (control and invisible characters included) is the
/// domain's, so every broken field is listed at once.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateBillingAddressRequest {
    /// 1–50 characters after trimming; no control or invisible characters.
    #[schema(example = "대한민국")]
    pub country: String,
    /// Street and building: 1–200 characters after trimming.
    #[schema(example = "서울특별시 강남구 테헤란로 152")]
    pub main_address: String,
    /// Flat, floor: 0–200 characters after trimming (absent: empty).
    #[schema(example = "12층")]
    pub detail_address: Option<String>,
    /// 1–20 ASCII letters, digits, spaces and hyphens, at least one letter or digit.
    #[schema(example = "06236")]
    pub postal_code: String,
    /// Make it the default (the previous default stops being it). The first address is the
    /// default whatever is sent. Absent: `false`.
    pub is_default: Option<bool>,
}

/// `PATCH /billing-addresses/{id}`: only the fields sent change. `null` is refused
/// (`invalid_value`) on every field but `detail_address`, where it empties it like `""`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateBillingAddressRequest {
    /// 1–50 characters after trimming.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = String, required = false)]
    pub country: Option<Option<String>>,
    /// 1–200 characters after trimming.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = String, required = false)]
    pub main_address: Option<Option<String>>,
    /// 0–200 characters after trimming (`""` or `null` empties it).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub detail_address: Option<Option<String>>,
    /// 1–20 ASCII letters, digits, spaces and hyphens, at least one letter or digit.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = String, required = false)]
    pub postal_code: Option<Option<String>>,
    /// `true` makes it the default (the previous default stops being it); `false` on the
    /// default is a 409 `default_required`: make another address the default instead.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = bool, required = false)]
    pub is_default: Option<Option<bool>>,
}

impl UpdateBillingAddressRequest {
    /// The fields sent as `null` that may not be, every one listed.
    fn nulls(&self) -> Vec<FieldError> {
        [
            ("country", matches!(self.country, Some(None))),
            ("main_address", matches!(self.main_address, Some(None))),
            ("postal_code", matches!(self.postal_code, Some(None))),
            ("is_default", matches!(self.is_default, Some(None))),
        ]
        .into_iter()
        .filter(|(_, null)| *null)
        .map(|(field, _)| FieldError {
            field: field.to_owned(),
            code: "invalid_value".to_owned(),
            message: "may not be null: leave it out to keep it".to_owned(),
        })
        .collect()
    }
}

/// Paging of `GET /billing-addresses`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListBillingAddressesQuery {
    /// Page size, 1–100 (default 20).
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A billing address.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct BillingAddressResponse {
    /// Id.
    pub id: Uuid,
    /// Country.
    pub country: String,
    /// Street and building.
    pub main_address: String,
    /// Flat, floor (may be empty).
    pub detail_address: String,
    /// Postal code.
    pub postal_code: String,
    /// Whether it is the default: the one a checkout copies when it names none. A user with
    /// addresses has exactly one.
    pub is_default: bool,
    /// Created.
    pub created_at: String,
    /// Last changed (also when it became the default because the default was deleted).
    pub updated_at: String,
}

impl BillingAddressResponse {
    fn new(address: &BillingAddress, zone: BusinessZone) -> Self {
        Self {
            id: address.id.as_uuid(),
            country: address.fields.country.as_str().to_owned(),
            main_address: address.fields.main_address.as_str().to_owned(),
            detail_address: address.fields.detail_address.as_str().to_owned(),
            postal_code: address.fields.postal_code.as_str().to_owned(),
            is_default: address.is_default,
            created_at: format_instant(address.created_at, zone),
            updated_at: format_instant(address.updated_at, zone),
        }
    }
}

/// A page of billing addresses.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct BillingAddressPageResponse {
    /// Newest first.
    pub items: Vec<BillingAddressResponse>,
    /// Pass as `?cursor=` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

/// The caller's billing addresses, newest first (each says whether it is the default).
#[utoipa::path(
    tag = "commerce",
    security(("bearer_auth" = [])),
    params(ListBillingAddressesQuery),
    responses(
        (status = 200, body = BillingAddressPageResponse),
        (status = 400, description = "`validation_failed`: `invalid_cursor`, `invalid_limit`, `control_character`", body = Problem),
    )
)]
#[get("/billing-addresses")]
pub(crate) async fn list_billing_addresses(
    state: web::Data<ApiState>,
    caller: Authenticated,
    query: Deferred<Query<ListBillingAddressesQuery>>,
) -> Result<web::Json<BillingAddressPageResponse>, ApiError> {
    let query = query.read()?.into_inner();
    let after =
        decode_instant_id(query.cursor.as_deref(), BILLING_ADDRESS)?.map(|(created_at, id)| {
            BillingAddressCursor {
                created_at,
                id: BillingAddressId::from_uuid(id),
            }
        });
    let limit = page_limit(query.limit)?;
    let page = state.billing.list(&caller.0, after, limit).await?;
    Ok(web::Json(BillingAddressPageResponse {
        items: page
            .items
            .iter()
            .map(|address| BillingAddressResponse::new(address, state.time_zone))
            .collect(),
        next_cursor: page.next.map(|cursor| {
            encode_instant_id(BILLING_ADDRESS, cursor.created_at, cursor.id.as_uuid())
        }),
    }))
}

/// Add a billing address. The first one, or one sent with `is_default: true`, becomes the only
/// default.
#[utoipa::path(
    tag = "commerce",
    security(("bearer_auth" = [])),
    request_body = CreateBillingAddressRequest,
    responses(
        (status = 201, body = BillingAddressResponse, headers(("Location" = String, description = "The new address's URL"))),
        (status = 400, description = "`validation_failed`: `country_empty`, `country_too_long`, `main_address_empty`, `main_address_too_long`, `detail_address_too_long`, `postal_code_empty`, `postal_code_too_long`, `postal_code_invalid` (a character other than ASCII letters, digits, spaces and hyphens, or no letter or digit), `control_character`, `invisible_character` (every broken field listed at once), `required`, `unknown_field`", body = Problem),
        (status = 409, description = "`too_many_addresses`: the caller keeps 20 addresses already", body = Problem),
    )
)]
#[post("/billing-addresses")]
pub(crate) async fn create_billing_address(
    state: web::Data<ApiState>,
    caller: Authenticated,
    body: Deferred<web::Json<CreateBillingAddressRequest>>,
) -> Result<HttpResponse, ApiError> {
    let body = body.read()?.into_inner();
    let command = BillingAddressCommand {
        country: body.country,
        main_address: body.main_address,
        detail_address: body.detail_address,
        postal_code: body.postal_code,
        is_default: body.is_default,
    };
    let address = state.billing.create(&caller.0, command).await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/api/v1/billing-addresses/{}", address.id),
        ))
        .json(BillingAddressResponse::new(&address, state.time_zone)))
}

/// One of the caller's billing addresses.
#[utoipa::path(
    tag = "commerce",
    security(("bearer_auth" = [])),
    params(("id" = Uuid, Path, description = "Billing address id")),
    responses(
        (status = 200, body = BillingAddressResponse),
        (status = 404, description = "`not_found`: no such address of the caller's (another user's included)", body = Problem),
    )
)]
#[get("/billing-addresses/{id}")]
pub(crate) async fn get_billing_address(
    state: web::Data<ApiState>,
    caller: Authenticated,
    id: Deferred<web::Path<Uuid>>,
) -> Result<web::Json<BillingAddressResponse>, ApiError> {
    let id = BillingAddressId::from_uuid(*id.read()?);
    let address = state.billing.get(&caller.0, id).await?;
    Ok(web::Json(BillingAddressResponse::new(
        &address,
        state.time_zone,
    )))
}

/// Change one of the caller's billing addresses: only the fields sent. `is_default: true` moves
/// the default to it.
#[utoipa::path(
    tag = "commerce",
    security(("bearer_auth" = [])),
    params(("id" = Uuid, Path, description = "Billing address id")),
    request_body = UpdateBillingAddressRequest,
    responses(
        (status = 200, body = BillingAddressResponse),
        (status = 400, description = "`validation_failed`: the rules of creation (every broken field listed); `invalid_value` for `null` on `country`, `main_address`, `postal_code` or `is_default` (every such field listed, before the other rules); `null` on `detail_address` empties it", body = Problem),
        (status = 404, description = "`not_found`: no such address of the caller's", body = Problem),
        (status = 409, description = "`default_required`: `is_default: false` on the default; nothing is changed", body = Problem),
    )
)]
#[patch("/billing-addresses/{id}")]
pub(crate) async fn update_billing_address(
    state: web::Data<ApiState>,
    caller: Authenticated,
    id: Deferred<web::Path<Uuid>>,
    body: Deferred<web::Json<UpdateBillingAddressRequest>>,
) -> Result<web::Json<BillingAddressResponse>, ApiError> {
    let id = BillingAddressId::from_uuid(*id.read()?);
    let body = body.read()?.into_inner();
    let nulls = body.nulls();
    if !nulls.is_empty() {
        return Err(ApiError::invalid_fields(nulls));
    }
    let edit = BillingAddressEdit {
        country: body.country.flatten(),
        main_address: body.main_address.flatten(),
        // `null` empties it, as `""` does.
        detail_address: body.detail_address.map(Option::unwrap_or_default),
        postal_code: body.postal_code.flatten(),
        is_default: body.is_default.flatten(),
    };
    let address = state.billing.update(&caller.0, id, edit).await?;
    Ok(web::Json(BillingAddressResponse::new(
        &address,
        state.time_zone,
    )))
}

/// Delete one of the caller's billing addresses. When it was the default, the newest remaining
/// address becomes the default. Orders already paid keep the copy they made.
#[utoipa::path(
    tag = "commerce",
    security(("bearer_auth" = [])),
    params(("id" = Uuid, Path, description = "Billing address id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "`not_found`: no such address of the caller's", body = Problem),
    )
)]
#[delete("/billing-addresses/{id}")]
pub(crate) async fn delete_billing_address(
    state: web::Data<ApiState>,
    caller: Authenticated,
    id: Deferred<web::Path<Uuid>>,
) -> Result<HttpResponse, ApiError> {
    let id = BillingAddressId::from_uuid(*id.read()?);
    state.billing.delete(&caller.0, id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Registers the billing-address endpoints.
pub(super) fn configure(config: &mut ServiceConfig<'_>) {
    config
        .service(list_billing_addresses)
        .service(create_billing_address)
        .service(get_billing_address)
        .service(update_billing_address)
        .service(delete_billing_address);
}
