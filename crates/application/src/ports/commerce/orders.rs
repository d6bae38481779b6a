//! Storage of orders. At most one order per user is pending (the partial unique index
//! `orders_one_pending`): placing an order cancels the user's pending one in the same
//! transaction, which also snapshots each item's title and price and, from the cart, empties it.

use crate::DependencyError;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reserva_domain::accounts::UserId;
use reserva_domain::commerce::{ItemRef, Order, OrderId, OrderStatus};
use reserva_domain::paging::PageLimit;
use reserva_domain::wallet::Money;
use thiserror::Error;

/// What an order is made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderSource {
    /// Everything in the user's cart (whose items still exist), which is then emptied.
    Cart,
    /// These items, in this order, each once.
    Items(Vec<ItemRef>),
}

/// An order to place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrder {
    /// Pre-generated id (UUID v7).
    pub id: OrderId,
    /// Whose.
    pub user_id: UserId,
    /// What.
    pub source: OrderSource,
    /// The instant: "owned" means live access at it.
    pub now: DateTime<Utc>,
}

/// Why an order was not placed (nothing was written: the pending order stays pending).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PlaceOrderError {
    /// From the cart, and the cart holds nothing that can be bought.
    #[error("the cart is empty")]
    CartEmpty,
    /// A direct item does not exist (or was deleted).
    #[error("item not found")]
    ItemNotFound(ItemRef),
    /// The user has live access to an item (a curriculum: to every one of its courses).
    #[error("already owned")]
    AlreadyOwned(ItemRef),
    /// The items cost more than `ORDER_TOTAL_LIMIT` together.
    #[error("the order's total {total} is over the limit")]
    TotalExceeded {
        /// Their total.
        total: Money,
    },
    /// The store failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

/// Which of a user's orders to list, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderQuery {
    /// Whose.
    pub user_id: UserId,
    /// Only this status.
    pub status: Option<OrderStatus>,
    /// After this row (created_at descending, then id descending).
    pub after: Option<(DateTime<Utc>, OrderId)>,
    /// Page size: the store returns at most `limit + 1` rows.
    pub limit: PageLimit,
}

/// Orders.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait OrderRepository: Send + Sync {
    /// Places an order in one transaction: reads its items' current titles and prices, refuses
    /// owned items and a total over the limit, cancels the user's pending order, inserts the
    /// new one (`pending`) and its items, and, from the cart, empties the cart. Of concurrent
    /// orders by one user each either is placed (cancelling the one before) or refused: exactly
    /// one is pending afterwards.
    ///
    /// # Errors
    /// Every [`PlaceOrderError`].
    async fn place_order(&self, order: NewOrder) -> Result<Order, PlaceOrderError>;

    /// One of the user's orders.
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    async fn order(&self, user: UserId, id: OrderId) -> Result<Option<Order>, DependencyError>;

    /// The user's pending order, if any.
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    async fn pending_order(&self, user: UserId) -> Result<Option<Order>, DependencyError>;

    /// A page of the user's orders, newest first, at most `limit + 1`.
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    async fn orders(&self, query: OrderQuery) -> Result<Vec<Order>, DependencyError>;
}
