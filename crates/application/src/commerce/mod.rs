//! Commerce use cases, one file per use case: the cart ([`cart`]), orders ([`orders`]) and the
//! caller's course access ([`access`]), over [`Shopping`]'s ports.

mod access;
mod cart;
mod orders;
mod shopping;
#[cfg(test)]
mod test_support;

pub use cart::{AddToCartUseCaseError, Cart, RemoveFromCartError};
pub use orders::{
    GetOrderError, ListOrders, ListOrdersError, OrderPage, OrderRequest, PlaceOrderUseCaseError,
};
pub use shopping::{Shopping, ShoppingPorts};
