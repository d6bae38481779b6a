//! Commerce routes, one file per slice: curricula ([`curricula`]), checkout ([`checkout`],
//! [`receipts`], [`simulated_provider`]).

mod checkout;
mod curricula;
mod receipts;
mod simulated_provider;

use utoipa_actix_web::service_config::ServiceConfig;

/// Registers every commerce endpoint.
pub(crate) fn configure(config: &mut ServiceConfig<'_>) {
    config
        .service(curricula::list_curricula)
        .service(curricula::get_curriculum)
        .service(curricula::create_curriculum)
        .service(curricula::update_curriculum)
        .service(curricula::delete_curriculum)
        .service(checkout::check_out)
        .service(checkout::callback)
        .service(checkout::refund)
        .service(receipts::list_receipts)
        .service(receipts::get_receipt)
        .service(simulated_provider::approve)
        .service(simulated_provider::decline)
        .service(simulated_provider::cancel);
}
