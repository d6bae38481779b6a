//! Exams routes: `/exam-slots` and `/exam-reservations*`.

mod dto;
mod reservations;
mod slots;

use utoipa_actix_web::service_config::ServiceConfig;

/// Registers every exams endpoint.
pub(crate) fn configure(config: &mut ServiceConfig<'_>) {
    config
        .service(slots::list_slots)
        .service(reservations::create)
        .service(reservations::list)
        .service(reservations::get_one)
        .service(reservations::update)
        .service(reservations::cancel)
        .service(reservations::confirm);
}
