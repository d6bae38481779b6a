//! `/cart` and `/cart/items*`: the caller's own cart only. An item is exactly one of a course or
//! a curriculum; the body names it by one id field, and both or neither is a 400 before the
//! store is asked.

use crate::auth::Authenticated;
use crate::errors::{ApiError, Problem};
use crate::input::Deferred;
use crate::routes::{parse_id, plain_text, validated};
use crate::state::ApiState;
use actix_web::{HttpResponse, delete, get, post, web};
use reserva_application::commerce::Cart;
use reserva_domain::catalog::ItemId;
use reserva_domain::commerce::{CartItemId, CartLine, CurriculumId, ItemRef};
use reserva_domain::text;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

/// Exactly one of a course or a curriculum (`POST /cart/items`, and each item of a direct
/// `POST /orders`).
#[derive(Debug, Clone, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ItemRefRequest {
    /// A course (a catalog item of kind `course`). Exactly one of `course_id` and
    /// `curriculum_id`.
    #[schema(format = Uuid)]
    #[validate(
        length(max = 64, code = "invalid_id", message = "must be a UUID"),
        custom(function = "plain_text")
    )]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub course_id: Option<String>,
    /// A curriculum. Exactly one of `course_id` and `curriculum_id`.
    #[schema(format = Uuid)]
    #[validate(
        length(max = 64, code = "invalid_id", message = "must be a UUID"),
        custom(function = "plain_text")
    )]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub curriculum_id: Option<String>,
}

impl ItemRefRequest {
    /// The item, refused as `field` (`item_required` for neither id, `one_item_only` for both,
    /// `invalid_id` for one that is no UUID, `control_character` for one that holds one).
    pub(crate) fn item(&self, field: &str) -> Result<ItemRef, ApiError> {
        let id = |text: &str, name: &str| {
            text::check_plain(text)
                .map_err(|refusal| ApiError::invalid_field(name, refusal.code(), refusal))?;
            parse_id(name, text)
        };
        match (self.course_id.as_deref(), self.curriculum_id.as_deref()) {
            (Some(course), None) => Ok(ItemRef::Course(ItemId::from_uuid(id(
                course,
                &format!("{field}course_id"),
            )?))),
            (None, Some(curriculum)) => Ok(ItemRef::Curriculum(CurriculumId::from_uuid(id(
                curriculum,
                &format!("{field}curriculum_id"),
            )?))),
            (None, None) => Err(ApiError::invalid_field(
                &format!("{field}course_id"),
                "item_required",
                "name a course (course_id) or a curriculum (curriculum_id)",
            )),
            (Some(_), Some(_)) => Err(ApiError::invalid_field(
                &format!("{field}curriculum_id"),
                "one_item_only",
                "name a course (course_id) or a curriculum (curriculum_id), not both",
            )),
        }
    }
}

/// One line of a cart: what it is, with its current title and price.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CartItemResponse {
    /// The line's id (for `DELETE /cart/items/{id}`).
    pub id: Uuid,
    /// A course's id (absent for a curriculum).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub course_id: Option<Uuid>,
    /// A curriculum's id (absent for a course).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub curriculum_id: Option<Uuid>,
    /// The course's title or the curriculum's name, now.
    pub title: String,
    /// Its price now, in KRW.
    pub price: i64,
}

impl CartItemResponse {
    fn new(line: &CartLine) -> Self {
        Self {
            id: line.id.as_uuid(),
            course_id: line.item.course().map(|id| id.as_uuid()),
            curriculum_id: line.item.curriculum().map(|id| id.as_uuid()),
            title: line.title.clone(),
            price: line.price.get(),
        }
    }
}

/// The caller's cart.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CartResponse {
    /// Oldest first; items deleted since they were added are left out.
    pub items: Vec<CartItemResponse>,
    /// The sum of the prices, in KRW (it may pass the order limit of 50,000: the order refuses
    /// it).
    pub total: i64,
}

impl CartResponse {
    fn new(cart: &Cart) -> Self {
        Self {
            items: cart.lines.iter().map(CartItemResponse::new).collect(),
            total: cart.total.get(),
        }
    }
}

/// The caller's cart, with each item's current title and price and the total.
#[utoipa::path(
    tag = "commerce",
    security(("bearer_auth" = [])),
    responses((status = 200, body = CartResponse))
)]
#[get("/cart")]
pub(crate) async fn get_cart(
    state: web::Data<ApiState>,
    caller: Authenticated,
) -> Result<web::Json<CartResponse>, ApiError> {
    let cart = state.shopping.cart(&caller.0).await?;
    Ok(web::Json(CartResponse::new(&cart)))
}

/// Put a course or a curriculum in the caller's cart (at most 50 items, each once).
#[utoipa::path(
    tag = "commerce",
    security(("bearer_auth" = [])),
    request_body = ItemRefRequest,
    responses(
        (status = 201, body = CartItemResponse),
        (status = 400, description = "`validation_failed`: `item_required` (neither id), `one_item_only` (both ids), `invalid_id` (also an id over 64 characters), `control_character`", body = Problem),
        (status = 404, description = "`item_not_found`: no such course or curriculum (a test, deleted, or nothing)", body = Problem),
        (status = 409, description = "`already_in_cart`; `already_owned` (the caller may study it now; a curriculum: every one of its courses); `cart_full` (50 items; lines of deleted items, hidden from the cart, do not count)", body = Problem),
    )
)]
#[post("/cart/items")]
pub(crate) async fn add_cart_item(
    state: web::Data<ApiState>,
    caller: Authenticated,
    body: Deferred<web::Json<ItemRefRequest>>,
) -> Result<HttpResponse, ApiError> {
    let body = validated(body.read()?.into_inner())?;
    let item = body.item("")?;
    let line = state.shopping.add_to_cart(&caller.0, item).await?;
    Ok(HttpResponse::Created().json(CartItemResponse::new(&line)))
}

/// Remove a line of the caller's cart.
#[utoipa::path(
    tag = "commerce",
    security(("bearer_auth" = [])),
    params(("id" = Uuid, Path, description = "Cart item id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "`not_found`: no such line in the caller's cart (another user's included)", body = Problem),
    )
)]
#[delete("/cart/items/{id}")]
pub(crate) async fn remove_cart_item(
    state: web::Data<ApiState>,
    caller: Authenticated,
    id: Deferred<web::Path<Uuid>>,
) -> Result<HttpResponse, ApiError> {
    let id = CartItemId::from_uuid(*id.read()?);
    state.shopping.remove_from_cart(&caller.0, id).await?;
    Ok(HttpResponse::NoContent().finish())
}
