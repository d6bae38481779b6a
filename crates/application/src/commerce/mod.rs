//! Commerce use cases: curricula (managed by admins and their own tutors, read by every user),
//! the cart ([`cart`]), orders ([`orders`]) and the caller's course access ([`access`]) over
//! [`Shopping`]'s ports, and, in their own files, billing addresses and checkout.

mod access;
pub mod billing;
mod cart;
mod checkout;
mod curricula;
mod orders;
mod shopping;
#[cfg(test)]
mod test_support;

pub use cart::{AddToCartUseCaseError, Cart, RemoveFromCartError};
pub use checkout::{
    CallbackError, CheckOutError, CheckOutRequest, Checkout, CheckoutPorts, GetReceiptError,
    ListReceipts, ListReceiptsError, ReadyCheckout, ReceiptPage, RefundUseCaseError, RefundedOrder,
    SWEEP_BATCH, SimulateError, SweepError, SweepReport,
};
pub use curricula::{
    Curricula, CurriculaPorts, CurriculumChanges, CurriculumCommand, CurriculumEditError,
    CurriculumPage, GetCurriculumError, ListCurricula, ListCurriculaError,
};
pub use orders::{
    GetOrderError, ListOrders, ListOrdersError, OrderPage, OrderRequest, PlaceOrderUseCaseError,
};
pub use shopping::{Shopping, ShoppingPorts};
