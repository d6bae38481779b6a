//! Storage of commerce: curricula, the cart, orders, billing addresses, checkout payments and
//! course access, one file per slice.

pub mod access;
pub mod cart;
pub mod orders;
