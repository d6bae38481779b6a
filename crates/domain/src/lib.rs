//! Pure business rules of Reserva.
//!
//! Everything here is a value or a function over values: no I/O, no async, no clock. Constructors
//! validate and return `Result`, so a value of a domain type is always a legal one.

#[macro_use]
mod ids;

pub mod accounts;
pub mod catalog;
pub mod commerce;
pub mod exams;
pub mod paging;
pub mod text;
pub mod tickets;
pub mod wallet;
