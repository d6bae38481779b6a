//! Use cases of Reserva and the ports they need.
//!
//! A use case takes a command made of domain values, talks to the outside world only through the
//! traits in [`ports`], and returns either a result or its own error enum. Every error enum says
//! which [`ErrorClass`] it belongs to, so the HTTP adapter maps errors to status codes in one place.

pub mod accounts;
pub mod catalog;
pub mod commerce;
mod error;
pub mod exams;
mod page;
pub mod ports;
pub mod tickets;
pub mod time;
pub mod wallet;

pub use error::{DependencyError, ErrorClass, FieldViolation, OUTCOME_UNKNOWN, UseCaseError};
pub use page::Page;
