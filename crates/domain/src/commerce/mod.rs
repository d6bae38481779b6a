//! Commerce: curricula (courses sold together as one item), the cart, orders, two-phase
//! checkout, receipts and the course access a paid order gives.
//!
//! A curriculum is a named, priced, ordered list of catalog courses; its category and skill level
//! are the catalog's own ([`crate::catalog::Category`], [`crate::catalog::SkillLevel`]), its
//! description and price follow the catalog items' rules.
//!
//! The numbers of the product live here once: an order's total is at most
//! [`ORDER_TOTAL_LIMIT`] (checked when the order is made, on both of its paths, and again at
//! checkout), access lasts [`ACCESS_DAYS`] from payment, and a cart holds at most
//! [`CART_ITEM_LIMIT`] items.

mod access;
pub mod billing;
mod cart;
mod checkout;
mod curricula;
mod orders;

pub use access::{ACCESS_DAYS, AccessGrant, access_expires_at, has_access, live_courses};
pub use cart::{CART_ITEM_LIMIT, CartLine, ItemRef, owns_all};
pub use checkout::{
    CHECKOUT_TTL, CallbackEffect, CallbackResult, CheckoutStatus, CheckoutTransition,
    NotACheckoutMethod, REFUND_WINDOW, ReceiptNumber, RefundState, checkout_expires_at,
    checkout_method, may_refund, on_callback, retry_delay,
};
pub use curricula::{
    CourseList, Curriculum, CurriculumCursor, CurriculumName, InvalidCourseList,
    InvalidCurriculumName, InvalidPriceRange, PriceRange,
};
pub use orders::{
    ORDER_TOTAL_LIMIT, Order, OrderItem, OrderStatus, OrderTotalExceeded, OrderTransition,
    order_total,
};

typed_id!(
    /// Identifies a curriculum.
    CurriculumId
);
typed_id!(
    /// Identifies one line of a user's cart.
    CartItemId
);
typed_id!(
    /// Identifies an order.
    OrderId
);
typed_id!(
    /// Identifies one line of an order.
    OrderItemId
);
typed_id!(
    /// Identifies a checkout payment (`order_payments.id`); it is the idempotency key at the
    /// provider.
    CheckoutId
);
