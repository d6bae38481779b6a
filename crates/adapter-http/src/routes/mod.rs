//! Route registration. Handlers are registered with `.service(...)` so utoipa-actix-web collects
//! them into the OpenAPI document.

pub(crate) mod accounts;
mod dto;
pub(crate) mod exams;
pub(crate) mod operations;

use utoipa_actix_web::service_config::ServiceConfig;

/// Everything under `/api/v1`.
pub(crate) fn api_v1(config: &mut ServiceConfig<'_>) {
    accounts::configure(config);
    exams::configure(config);
}

pub(crate) use dto::{plain_text, validated, visible_text};
