//! `/orders*`: placing an order (from the cart or from a list of items), the caller's orders
//! newest first, one of them, and the pending one. Only the caller's own orders are ever read:
//! another user's is a 404.

use super::cart::ItemRefRequest;
use crate::auth::Authenticated;
use crate::errors::{ApiError, Problem};
use crate::idempotency;
use crate::input::{Deferred, Query};
use crate::pagination::page_limit;
use crate::routes::catalog::cursor::{ORDER, decode_instant_id, encode_instant_id};
use crate::routes::{IdempotencyHeader, validated};
use crate::state::ApiState;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use reserva_application::commerce::{ListOrders, OrderRequest};
use reserva_application::time::format_instant;
use reserva_domain::commerce::{Order, OrderId, OrderItem, OrderStatus};
use reserva_domain::exams::BusinessZone;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

/// `POST /orders`: `{"from_cart": true}`, or `{"items": [...]}`.
#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PlaceOrderRequest {
    /// `true`: order everything in the cart (which is then emptied). Not with `items`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_cart: Option<bool>,
    /// Order these instead: 1–50 items, each once, each exactly one of `course_id` and
    /// `curriculum_id`. Not with `from_cart: true`. The cart is left as it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[validate(length(max = 1_000, code = "too_many_items", message = "at most 50 items"))]
    pub items: Option<Vec<ItemRefRequest>>,
}

impl PlaceOrderRequest {
    fn request(&self) -> Result<OrderRequest, ApiError> {
        match (self.from_cart, &self.items) {
            (Some(true), None) => Ok(OrderRequest::FromCart),
            (None | Some(false), Some(items)) => items
                .iter()
                .enumerate()
                .map(|(index, item)| item.item(&format!("items[{index}].")))
                .collect::<Result<_, _>>()
                .map(OrderRequest::Items),
            (Some(true), Some(_)) => Err(ApiError::invalid_field(
                "items",
                "cart_or_items",
                "order from the cart or a list of items, not both",
            )),
            (None | Some(false), None) => Err(ApiError::invalid_field(
                "from_cart",
                "cart_or_items",
                "send from_cart: true, or the items to order",
            )),
        }
    }
}

/// Where an order stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum OrderStatusDto {
    /// Made, not paid yet: at most one per user.
    Pending,
    /// Paid: its courses are open to the buyer.
    Paid,
    /// Replaced by a newer order, or cancelled before payment.
    Cancelled,
    /// Paid, then refunded: its access is withdrawn.
    Refunded,
    /// Its payment failed.
    Failed,
}

impl From<OrderStatusDto> for OrderStatus {
    fn from(status: OrderStatusDto) -> Self {
        match status {
            OrderStatusDto::Pending => Self::Pending,
            OrderStatusDto::Paid => Self::Paid,
            OrderStatusDto::Cancelled => Self::Cancelled,
            OrderStatusDto::Refunded => Self::Refunded,
            OrderStatusDto::Failed => Self::Failed,
        }
    }
}

impl From<OrderStatus> for OrderStatusDto {
    fn from(status: OrderStatus) -> Self {
        match status {
            OrderStatus::Pending => Self::Pending,
            OrderStatus::Paid => Self::Paid,
            OrderStatus::Cancelled => Self::Cancelled,
            OrderStatus::Refunded => Self::Refunded,
            OrderStatus::Failed => Self::Failed,
        }
    }
}

/// One line of an order, with the title and price it was ordered at.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct OrderItemResponse {
    /// Id.
    pub id: Uuid,
    /// A course's id (absent for a curriculum).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub course_id: Option<Uuid>,
    /// A curriculum's id (absent for a course).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub curriculum_id: Option<Uuid>,
    /// Its title when ordered.
    pub title: String,
    /// Its price when ordered, in KRW.
    pub price: i64,
}

impl OrderItemResponse {
    fn new(item: &OrderItem) -> Self {
        Self {
            id: item.id.as_uuid(),
            course_id: item.item.course().map(|id| id.as_uuid()),
            curriculum_id: item.item.curriculum().map(|id| id.as_uuid()),
            title: item.title.clone(),
            price: item.price.get(),
        }
    }
}

/// An order.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct OrderResponse {
    /// Id.
    pub id: Uuid,
    /// Where it stands.
    pub status: OrderStatusDto,
    /// Its lines, in the order they were ordered.
    pub items: Vec<OrderItemResponse>,
    /// The sum of the lines' prices, in KRW (at most 50,000).
    pub total: i64,
    /// Made.
    pub created_at: String,
    /// Last changed.
    pub updated_at: String,
    /// Paid (paid and refunded orders).
    pub paid_at: Option<String>,
    /// Cancelled.
    pub cancelled_at: Option<String>,
    /// Refunded.
    pub refunded_at: Option<String>,
}

impl OrderResponse {
    fn new(order: &Order, zone: BusinessZone) -> Self {
        let instant = |at: Option<chrono::DateTime<chrono::Utc>>| {
            at.map(|instant| format_instant(instant, zone))
        };
        Self {
            id: order.id.as_uuid(),
            status: order.status.into(),
            items: order.items.iter().map(OrderItemResponse::new).collect(),
            total: order.total.get(),
            created_at: format_instant(order.created_at, zone),
            updated_at: format_instant(order.updated_at, zone),
            paid_at: instant(order.paid_at),
            cancelled_at: instant(order.cancelled_at),
            refunded_at: instant(order.refunded_at),
        }
    }
}

/// A page of orders.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct OrderPageResponse {
    /// Newest first.
    pub items: Vec<OrderResponse>,
    /// Pass as `?cursor=` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

/// Filters of `GET /orders`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListOrdersQuery {
    /// Only orders in this status.
    pub status: Option<OrderStatusDto>,
    /// Page size, 1–100 (default 20).
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Place an order, from the cart (`{"from_cart": true}`, which empties it) or from a list of
/// items. The caller's pending order, if any, is cancelled in the same step: a user has at most
/// one pending order. The total may be at most 50,000 KRW on both paths. With an
/// `Idempotency-Key` a retry answers the first order instead of placing (and cancelling) again.
#[utoipa::path(
    tag = "commerce",
    security(("bearer_auth" = [])),
    params(IdempotencyHeader),
    request_body = PlaceOrderRequest,
    responses(
        (status = 201, body = OrderResponse, headers(
            ("Location" = String, description = "The new order's URL"),
            ("Idempotent-Replayed" = String, description = "`true` when this is the recorded response of an earlier request with the same Idempotency-Key"),
        )),
        (status = 400, description = "`validation_failed`: `cart_or_items` (neither or both of from_cart and items), `items_empty`, `too_many_items` (over 50), `duplicate_item`, `item_required`, `one_item_only`, `invalid_id` (items[i].course_id, items[i].curriculum_id), `control_character`, `invalid_idempotency_key`", body = Problem),
        (status = 404, description = "`item_not_found`: a listed course or curriculum does not exist (or was deleted)", body = Problem),
        (status = 409, description = "`cart_empty`; `order_total_exceeded` (over 50,000 KRW); `already_owned` (an item the caller may study now); `idempotency_key_in_flight`", body = Problem),
        (status = 422, description = "`idempotency_key_reused`: the key was used for a different request", body = Problem),
    )
)]
#[post("/orders")]
pub(crate) async fn place_order(
    state: web::Data<ApiState>,
    request: HttpRequest,
    caller: Authenticated,
    body: Deferred<web::Json<PlaceOrderRequest>>,
) -> Result<HttpResponse, ApiError> {
    let body = validated(body.read()?.into_inner())?;
    let order_request = body.request()?;
    let canonical = serde_json::to_string(&body).unwrap_or_default();
    let principal = caller.0;
    let handler = {
        let state = state.clone();
        async move {
            let order = state
                .shopping
                .place_order(&principal, order_request)
                .await?;
            Ok(HttpResponse::Created()
                .insert_header((header::LOCATION, format!("/api/v1/orders/{}", order.id)))
                .json(OrderResponse::new(&order, state.time_zone)))
        }
    };
    idempotency::once(&state, &request, &principal, &canonical, handler).await
}

/// The caller's orders, newest first, optionally of one status.
#[utoipa::path(
    tag = "commerce",
    security(("bearer_auth" = [])),
    params(ListOrdersQuery),
    responses(
        (status = 200, body = OrderPageResponse),
        (status = 400, description = "`validation_failed`: `invalid_cursor`, `invalid_limit`, `control_character`; `invalid_query` for an unknown status", body = Problem),
    )
)]
#[get("/orders")]
pub(crate) async fn list_orders(
    state: web::Data<ApiState>,
    caller: Authenticated,
    query: Deferred<Query<ListOrdersQuery>>,
) -> Result<web::Json<OrderPageResponse>, ApiError> {
    let query = query.read()?.into_inner();
    let after = decode_instant_id(query.cursor.as_deref(), ORDER)?
        .map(|(created_at, id)| (created_at, OrderId::from_uuid(id)));
    let request = ListOrders {
        status: query.status.map(Into::into),
        after,
        limit: page_limit(query.limit)?,
    };
    let page = state.shopping.list_orders(&caller.0, request).await?;
    Ok(web::Json(OrderPageResponse {
        items: page
            .items
            .iter()
            .map(|order| OrderResponse::new(order, state.time_zone))
            .collect(),
        next_cursor: page
            .next
            .map(|(created_at, id)| encode_instant_id(ORDER, created_at, id.as_uuid())),
    }))
}

/// The caller's pending order (the one to check out).
#[utoipa::path(
    tag = "commerce",
    security(("bearer_auth" = [])),
    responses(
        (status = 200, body = OrderResponse),
        (status = 404, description = "`not_found`: the caller has no pending order", body = Problem),
    )
)]
#[get("/orders/current")]
pub(crate) async fn current_order(
    state: web::Data<ApiState>,
    caller: Authenticated,
) -> Result<web::Json<OrderResponse>, ApiError> {
    let order = state.shopping.current_order(&caller.0).await?;
    Ok(web::Json(OrderResponse::new(&order, state.time_zone)))
}

/// One of the caller's orders.
#[utoipa::path(
    tag = "commerce",
    security(("bearer_auth" = [])),
    params(("id" = Uuid, Path, description = "Order id")),
    responses(
        (status = 200, body = OrderResponse),
        (status = 404, description = "`not_found`: no such order of the caller's (another user's included)", body = Problem),
    )
)]
#[get("/orders/{id}")]
pub(crate) async fn get_order(
    state: web::Data<ApiState>,
    caller: Authenticated,
    id: Deferred<web::Path<Uuid>>,
) -> Result<web::Json<OrderResponse>, ApiError> {
    let id = OrderId::from_uuid(*id.read()?);
    let order = state.shopping.order(&caller.0, id).await?;
    Ok(web::Json(OrderResponse::new(&order, state.time_zone)))
}
