//! Commerce routes, one file per slice: curricula ([`curricula`]).

mod billing;
mod curricula;

use utoipa_actix_web::service_config::ServiceConfig;

/// Registers every commerce endpoint.
pub(crate) fn configure(config: &mut ServiceConfig<'_>) {
    billing::configure(config);
    config
        .service(curricula::list_curricula)
        .service(curricula::get_curriculum)
        .service(curricula::create_curriculum)
        .service(curricula::update_curriculum)
        .service(curricula::delete_curriculum);
}
