//! The HTTP API on actix-web.
//!
//! Handlers are thin: parse a DTO, validate its shape, build a command, call a use case, map the
//! result to a response DTO. [`errors::ApiError`] is the only place that knows status codes. The
//! OpenAPI document is generated from the handlers' annotations, and Swagger UI is served from
//! assets compiled into the binary. actix types stay inside this crate: the server binary sees
//! [`HttpApi`] and [`StopHandle`] only.

mod auth;
mod body_deadline;
mod client_address;
pub mod errors;
mod idempotency;
mod input;
mod metrics;
mod middleware;
mod openapi;
mod pagination;
mod routes;
mod server;
mod state;

pub use client_address::TrustedProxies;
pub use openapi::openapi_json;
pub use server::{HttpApi, HttpSettings, StopHandle};
pub use state::ApiState;
