//! `/receipts` and `/receipts/{payment_id}`: the caller's paid and refunded payments.

use crate::auth::Authenticated;
use crate::errors::{ApiError, Problem};
use crate::input::{Deferred, Query};
use crate::pagination::{PageQuery, page_limit};
use crate::routes::catalog::cursor::{decode_instant_id, encode_instant_id};
use crate::routes::catalog::dto::PaymentMethodDto;
use crate::state::ApiState;
use actix_web::{get, web};
use reserva_application::commerce::ListReceipts;
use reserva_application::ports::commerce::checkout::{ReceiptDetail, ReceiptSummary};
use reserva_application::time::format_instant;
use reserva_domain::commerce::{CheckoutId, ItemRef, ReceiptNumber};
use reserva_domain::exams::BusinessZone;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// The tag of the receipts list's cursors (13: issue #12, beside the billing addresses' 12).
const RECEIPT_CURSOR: u8 = 13;

/// A receipt.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ReceiptResponse {
    /// `REC-` and the payment id as 32 upper-case hex digits.
    #[schema(example = "REC-0193A4F27C1E7D3A9B2C1F2E3D4C5B6A")]
    pub receipt_number: String,
    /// The payment.
    pub payment_id: Uuid,
    /// `paid` or `refunded`.
    pub status: &'static str,
    /// KRW.
    pub amount: i64,
    /// Paid.
    pub paid_at: String,
    /// Refunded (refunded receipts).
    pub refunded_at: Option<String>,
    /// The order.
    pub order_id: Uuid,
}

impl ReceiptResponse {
    fn new(receipt: &ReceiptSummary, zone: BusinessZone) -> Self {
        Self {
            receipt_number: ReceiptNumber::of(receipt.checkout_id).to_string(),
            payment_id: receipt.checkout_id.as_uuid(),
            status: receipt.status.as_str(),
            amount: receipt.amount.get(),
            paid_at: format_instant(receipt.paid_at, zone),
            refunded_at: receipt.refunded_at.map(|at| format_instant(at, zone)),
            order_id: receipt.order_id.as_uuid(),
        }
    }
}

/// One line of a receipt, as ordered.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ReceiptItemResponse {
    /// A course (or null).
    pub course_id: Option<Uuid>,
    /// A curriculum (or null).
    pub curriculum_id: Option<Uuid>,
    /// Its title when ordered.
    pub title: String,
    /// Its price when ordered, KRW.
    pub price: i64,
}

/// The billing address as it was at checkout.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ReceiptAddressResponse {
    /// Country.
    pub country: String,
    /// Main address.
    pub main_address: String,
    /// Detail address.
    pub detail_address: String,
    /// Postal code.
    pub postal_code: String,
}

/// A receipt in full.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ReceiptDetailResponse {
    /// The list's fields.
    #[serde(flatten)]
    pub receipt: ReceiptResponse,
    /// How it was paid.
    pub payment_method: PaymentMethodDto,
    /// What was bought.
    pub items: Vec<ReceiptItemResponse>,
    /// The billing address copied at checkout; null when the customer had none.
    pub billing_address: Option<ReceiptAddressResponse>,
    /// The customer's e-mail.
    pub customer_email: String,
    /// For a refunded receipt: `pending` until the provider confirms, then `done`.
    pub refund: &'static str,
}

impl ReceiptDetailResponse {
    fn new(detail: &ReceiptDetail, zone: BusinessZone) -> Self {
        Self {
            receipt: ReceiptResponse::new(&detail.summary, zone),
            payment_method: detail.method.into(),
            items: detail
                .items
                .iter()
                .map(|item| {
                    let (course_id, curriculum_id) = match item.item {
                        ItemRef::Course(id) => (Some(id.as_uuid()), None),
                        ItemRef::Curriculum(id) => (None, Some(id.as_uuid())),
                    };
                    ReceiptItemResponse {
                        course_id,
                        curriculum_id,
                        title: item.title.clone(),
                        price: item.price.get(),
                    }
                })
                .collect(),
            billing_address: detail
                .billing
                .as_ref()
                .map(|address| ReceiptAddressResponse {
                    country: address.country.clone(),
                    main_address: address.main_address.clone(),
                    detail_address: address.detail_address.clone(),
                    postal_code: address.postal_code.clone(),
                }),
            customer_email: detail.customer_email.clone(),
            refund: detail.refund.as_str(),
        }
    }
}

/// A page of receipts.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ReceiptPageResponse {
    /// Newest paid first.
    pub items: Vec<ReceiptResponse>,
    /// Pass as `?cursor=` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

/// The caller's receipts: paid and refunded payments, newest paid first.
#[utoipa::path(
    tag = "commerce",
    security(("bearer_auth" = [])),
    params(PageQuery),
    responses(
        (status = 200, body = ReceiptPageResponse),
        (status = 400, description = "`validation_failed`: `invalid_cursor`, `invalid_limit`", body = Problem),
    )
)]
#[get("/receipts")]
pub(crate) async fn list_receipts(
    state: web::Data<ApiState>,
    caller: Authenticated,
    query: Deferred<Query<PageQuery>>,
) -> Result<web::Json<ReceiptPageResponse>, ApiError> {
    let query = query.read()?.into_inner();
    let after = decode_instant_id(query.cursor.as_deref(), RECEIPT_CURSOR)?
        .map(|(paid_at, id)| (paid_at, CheckoutId::from_uuid(id)));
    let request = ListReceipts {
        after,
        limit: page_limit(query.limit)?,
    };
    let page = state.checkout.receipts(&caller.0, request).await?;
    Ok(web::Json(ReceiptPageResponse {
        items: page
            .items
            .iter()
            .map(|receipt| ReceiptResponse::new(receipt, state.time_zone))
            .collect(),
        next_cursor: page
            .next
            .map(|(paid_at, id)| encode_instant_id(RECEIPT_CURSOR, paid_at, id.as_uuid())),
    }))
}

/// One of the caller's receipts, with its items, billing address and the customer's e-mail.
#[utoipa::path(
    tag = "commerce",
    security(("bearer_auth" = [])),
    params(("payment_id" = Uuid, Path, description = "Payment id")),
    responses(
        (status = 200, body = ReceiptDetailResponse),
        (status = 404, description = "`not_found`: no such receipt of the caller's (or never paid)", body = Problem),
    )
)]
#[get("/receipts/{payment_id}")]
pub(crate) async fn get_receipt(
    state: web::Data<ApiState>,
    caller: Authenticated,
    id: Deferred<web::Path<Uuid>>,
) -> Result<web::Json<ReceiptDetailResponse>, ApiError> {
    let id = CheckoutId::from_uuid(*id.read()?);
    let detail = state.checkout.receipt(&caller.0, id).await?;
    Ok(web::Json(ReceiptDetailResponse::new(
        &detail,
        state.time_zone,
    )))
}
