//! Commerce routes, one file per slice: curricula ([`curricula`]), the cart ([`cart`]), orders
//! ([`orders`]), course access ([`access`]), billing addresses ([`billing`]) and checkout
//! ([`checkout`], [`receipts`], [`simulated_provider`]).

mod access;
mod billing;
mod cart;
mod checkout;
mod curricula;
mod orders;
mod receipts;
mod simulated_provider;

use utoipa_actix_web::service_config::ServiceConfig;

/// Registers every commerce endpoint.
pub(crate) fn configure(config: &mut ServiceConfig<'_>) {
    billing::configure(config);
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
