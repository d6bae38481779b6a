//! Catalog routes: tests and courses (lists, one item, applying or enrolling with a payment,
//! completing), the caller's payments (and cancelling one), and the items' administration.

mod admin;
pub(crate) mod cursor;
pub(crate) mod dto;
mod items;
mod payments;

use utoipa_actix_web::service_config::ServiceConfig;

/// Registers every catalog endpoint.
pub(crate) fn configure(config: &mut ServiceConfig<'_>) {
    config
        .service(items::list_tests)
        .service(items::get_test)
        .service(items::apply)
        .service(items::complete_test)
        .service(items::list_courses)
        .service(items::get_course)
        .service(items::enroll)
        .service(items::complete_course)
        .service(payments::list_payments)
        .service(payments::get_payment)
        .service(payments::cancel_payment)
        .service(admin::create_test)
        .service(admin::update_test)
        .service(admin::delete_test)
        .service(admin::create_course)
        .service(admin::update_course)
        .service(admin::delete_course);
}
