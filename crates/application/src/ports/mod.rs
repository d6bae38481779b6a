//! The traits use cases need from the outside world. Adapters implement them.
//!
//! Each port method is a unit of atomicity: when a method's contract says several things happen,
//! the adapter makes them happen together or not at all.

pub mod accounts;
pub mod catalog;
pub mod checkout_provider;
pub mod commerce;
pub mod exams;
pub mod payments;
pub mod security;
pub mod shared_state;
pub mod system;
pub mod tickets;
pub mod waiting_room;
pub mod wallet;
