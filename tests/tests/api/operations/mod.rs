//! What every module shares and no module owns, on both backends: the HTTP envelope, the
//! operations endpoints and the API documentation.

mod contract;
mod endpoints;
mod hostile_clients;
mod hostile_input;
mod http;
mod postgres_pause;
mod redis_outage;
