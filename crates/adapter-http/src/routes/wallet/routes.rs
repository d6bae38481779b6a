//! `/wallet`, `/wallet/charges` and `/wallet/transactions`: the caller's own wallet only.

use super::dto::{
    BalanceResponse, ChargeRequest, ChargeResponse, TransactionPageResponse, TransactionResponse,
};
use crate::auth::Authenticated;
use crate::errors::{ApiError, Problem};
use crate::idempotency;
use crate::input::{Deferred, Query};
use crate::pagination::{PageQuery, decode_sequence_cursor, encode_sequence_cursor, page_limit};
use crate::routes::IdempotencyHeader;
use crate::state::ApiState;
use actix_web::{HttpRequest, HttpResponse, get, post, web};

/// The caller's balance (0 before the first charge).
#[utoipa::path(
    tag = "wallet",
    security(("bearer_auth" = [])),
    responses((status = 200, body = BalanceResponse))
)]
#[get("/wallet")]
pub(crate) async fn balance(
    state: web::Data<ApiState>,
    caller: Authenticated,
) -> Result<web::Json<BalanceResponse>, ApiError> {
    let balance = state.wallet.balance(&caller.0).await?;
    Ok(web::Json(BalanceResponse::new(balance)))
}

/// Add money to the caller's wallet. With an `Idempotency-Key` the charge happens at most once
/// for good: the key also derives the charge's transfer id, so even after the replay record is
/// gone a retry finds the charge instead of making another.
#[utoipa::path(
    tag = "wallet",
    security(("bearer_auth" = [])),
    params(IdempotencyHeader),
    request_body = ChargeRequest,
    responses(
        (status = 201, body = ChargeResponse, headers(("Idempotent-Replayed" = String, description = "`true` when this answers an earlier request with the same Idempotency-Key"))),
        (status = 400, description = "`validation_failed`: `amount_not_positive`, `amount_too_large`, `invalid_idempotency_key`", body = Problem),
        (status = 409, description = "`balance_limit_exceeded`, or `idempotency_key_in_flight`", body = Problem),
        (status = 422, description = "`idempotency_key_reused`: the key was used for a different request", body = Problem),
    )
)]
#[post("/wallet/charges")]
pub(crate) async fn charge(
    state: web::Data<ApiState>,
    request: HttpRequest,
    caller: Authenticated,
    body: Deferred<web::Json<ChargeRequest>>,
) -> Result<HttpResponse, ApiError> {
    let body = body.read()?.into_inner();
    let canonical = serde_json::to_string(&body).unwrap_or_default();
    let key = idempotency::key_of(&request)?;
    let principal = caller.0;
    let handler = {
        let state = state.clone();
        async move {
            let posted = state
                .wallet
                .charge(&principal, body.amount, key.as_deref())
                .await?;
            let mut response = HttpResponse::Created();
            if posted.replayed {
                response.insert_header((idempotency::REPLAYED, "true"));
            }
            Ok(response.json(ChargeResponse::new(&posted, state.time_zone)))
        }
    };
    idempotency::once(&state, &request, &principal, &canonical, handler).await
}

/// The caller's balance changes, newest first.
#[utoipa::path(
    tag = "wallet",
    security(("bearer_auth" = [])),
    params(PageQuery),
    responses((status = 200, body = TransactionPageResponse))
)]
#[get("/wallet/transactions")]
pub(crate) async fn transactions(
    state: web::Data<ApiState>,
    caller: Authenticated,
    query: Deferred<Query<PageQuery>>,
) -> Result<web::Json<TransactionPageResponse>, ApiError> {
    let query = query.read()?.into_inner();
    let before = decode_sequence_cursor(query.cursor.as_deref())?;
    let page = state
        .wallet
        .transactions(&caller.0, before, page_limit(query.limit)?)
        .await?;
    Ok(web::Json(TransactionPageResponse {
        items: page
            .items
            .iter()
            .map(|entry| TransactionResponse::new(entry, state.time_zone))
            .collect(),
        next_cursor: page.next.map(encode_sequence_cursor),
    }))
}
