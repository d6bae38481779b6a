//! Storage of carts. A user's cart is their `cart_items` rows; an item is in a cart at most once
//! (a partial unique index per kind, so it holds under any race) and a cart holds at most
//! `limit` items (the add counts under a lock on the user's commerce writes).

use crate::DependencyError;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reserva_domain::accounts::UserId;
use reserva_domain::commerce::{CartItemId, CartLine, ItemRef};
use thiserror::Error;

/// An item to put in a cart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewCartItem {
    /// Pre-generated id (UUID v7).
    pub id: CartItemId,
    /// Whose cart.
    pub user_id: UserId,
    /// What.
    pub item: ItemRef,
    /// The most items the cart may hold after the add.
    pub limit: u32,
    /// The instant of the add: "owned" means live access at it.
    pub now: DateTime<Utc>,
}

/// Why an item was not added.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AddToCartError {
    /// No such course (not deleted, of kind `course`) or curriculum (not deleted).
    #[error("item not found")]
    NotFound,
    /// It is in the cart already.
    #[error("already in the cart")]
    AlreadyInCart,
    /// The user has live access to it (a curriculum: to every one of its courses).
    #[error("already owned")]
    AlreadyOwned,
    /// The cart holds `limit` items already.
    #[error("the cart is full")]
    CartFull,
    /// The store failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

/// Carts.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait CartRepository: Send + Sync {
    /// Adds an item to the user's cart, in one transaction that checks it exists, is not in the
    /// cart, is not owned at `now` and fits under `limit`. Of concurrent adds of one item exactly
    /// one succeeds; the others get `AlreadyInCart`.
    ///
    /// # Errors
    /// Every [`AddToCartError`].
    async fn add_to_cart(&self, item: NewCartItem) -> Result<CartLine, AddToCartError>;

    /// The user's cart, oldest line first, with each item's current title and price. Lines whose
    /// item was deleted since are left out (they cannot be bought).
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    async fn cart(&self, user: UserId) -> Result<Vec<CartLine>, DependencyError>;

    /// Removes a line of the user's cart; `false` when the user has no such line (another
    /// user's included).
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    async fn remove_from_cart(&self, user: UserId, id: CartItemId)
    -> Result<bool, DependencyError>;
}
