//! Route registration. Handlers are registered with `.service(...)` so utoipa-actix-web collects
//! them into the OpenAPI document.

pub(crate) mod accounts;
pub(crate) mod catalog;
pub(crate) mod commerce;
mod dto;
pub(crate) mod exams;
pub(crate) mod operations;
pub(crate) mod tickets;
pub(crate) mod wallet;

use utoipa_actix_web::service_config::ServiceConfig;

/// Everything under `/api/v1`.
pub(crate) fn api_v1(config: &mut ServiceConfig<'_>) {
    accounts::configure(config);
    catalog::configure(config);
    commerce::configure(config);
    exams::configure(config);
    tickets::configure(config);
    wallet::configure(config);
}

pub(crate) use dto::{
    IdempotencyHeader, calendar_date, parse_id, parse_instant, plain_text, prose_text, validated,
    visible_text,
};
