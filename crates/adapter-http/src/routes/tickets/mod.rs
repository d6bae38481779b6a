//! Tickets routes: concerts and their performances, the waiting room (`/queue/tokens*`), seat
//! holds, payment and bookings. The seat routes need an active queue token (`Queue-Token`).

mod concerts;
mod dto;
mod holds;
mod queue;
mod seats;

use utoipa_actix_web::service_config::ServiceConfig;

/// Registers every tickets endpoint.
pub(crate) fn configure(config: &mut ServiceConfig<'_>) {
    config
        .service(concerts::create)
        .service(concerts::list)
        .service(concerts::get_one)
        .service(concerts::cancel_performance)
        .service(queue::join)
        .service(queue::current)
        .service(seats::dates)
        .service(seats::seat_map)
        .service(holds::create)
        .service(holds::release)
        .service(holds::pay)
        .service(holds::bookings);
}
