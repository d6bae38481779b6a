//! Commerce routes, one file per slice: curricula ([`curricula`]), the cart ([`cart`]), orders
//! ([`orders`]) and course access ([`access`]).

mod access;
mod cart;
mod curricula;
mod orders;

use utoipa_actix_web::service_config::ServiceConfig;

/// Registers every commerce endpoint.
pub(crate) fn configure(config: &mut ServiceConfig<'_>) {
    config
        .service(curricula::list_curricula)
        .service(curricula::get_curriculum)
        .service(curricula::create_curriculum)
        .service(curricula::update_curriculum)
        .service(curricula::delete_curriculum);
    config
        .service(cart::get_cart)
        .service(cart::add_cart_item)
        .service(cart::remove_cart_item)
        .service(orders::place_order)
        .service(orders::list_orders)
        // Before `/orders/{id}`, which would otherwise take "current" for an id.
        .service(orders::current_order)
        .service(orders::get_order)
        .service(access::my_access);
}
