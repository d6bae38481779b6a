//! Catalog use cases: tests and courses, registrations and their payments.

pub mod seed;
