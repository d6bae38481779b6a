//! Wallet routes: the caller's balance, charging it, and its transactions.

mod dto;
mod routes;

use utoipa_actix_web::service_config::ServiceConfig;

/// Registers every wallet endpoint.
pub(crate) fn configure(config: &mut ServiceConfig<'_>) {
    config
        .service(routes::balance)
        .service(routes::charge)
        .service(routes::transactions);
}
