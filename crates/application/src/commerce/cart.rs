//! The cart: the caller's lines with current titles and prices, adding a course or a curriculum
//! (once, not when owned, at most `CART_ITEM_LIMIT`), and removing a line.

use super::Shopping;
use crate::accounts::Principal;
use crate::ports::commerce::cart::{AddToCartError, NewCartItem};
use crate::{DependencyError, ErrorClass, UseCaseError};
use reserva_domain::commerce::{CART_ITEM_LIMIT, CartItemId, CartLine, ItemRef};
use reserva_domain::wallet::Money;
use thiserror::Error;

/// A cart: its lines and what they cost together now (which may pass the order limit: the cart
/// is a shortlist; the order refuses it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cart {
    /// Oldest first.
    pub lines: Vec<CartLine>,
    /// The sum of the lines' prices.
    pub total: Money,
}

/// Why an item was not added to the cart.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AddToCartUseCaseError {
    /// No such course or curriculum (or deleted).
    #[error("no such course or curriculum")]
    ItemNotFound,
    /// It is in the cart already.
    #[error("the item is already in the cart")]
    AlreadyInCart,
    /// The caller may study it already (a curriculum: every one of its courses).
    #[error("the item is already owned")]
    AlreadyOwned,
    /// The cart holds `CART_ITEM_LIMIT` items.
    #[error("the cart holds {CART_ITEM_LIMIT} items already")]
    CartFull,
    /// A dependency failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

impl UseCaseError for AddToCartUseCaseError {
    fn class(&self) -> ErrorClass {
        match self {
            Self::ItemNotFound => ErrorClass::NotFound,
            Self::AlreadyInCart | Self::AlreadyOwned | Self::CartFull => ErrorClass::Conflict,
            Self::Dependency(error) => error.class(),
        }
    }
    fn code(&self) -> &'static str {
        match self {
            Self::ItemNotFound => "item_not_found",
            Self::AlreadyInCart => "already_in_cart",
            Self::AlreadyOwned => "already_owned",
            Self::CartFull => "cart_full",
            Self::Dependency(error) => error.code(),
        }
    }
}

/// Why a line was not removed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RemoveFromCartError {
    /// The caller's cart has no such line.
    #[error("no such cart item")]
    NotFound,
    /// A dependency failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

impl UseCaseError for RemoveFromCartError {
    fn class(&self) -> ErrorClass {
        match self {
            Self::NotFound => ErrorClass::NotFound,
            Self::Dependency(error) => error.class(),
        }
    }
    fn code(&self) -> &'static str {
        match self {
            Self::NotFound => "not_found",
            Self::Dependency(error) => error.code(),
        }
    }
}

impl Shopping {
    /// The caller's cart.
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    #[tracing::instrument(skip_all, fields(user_id = %principal.user_id))]
    pub async fn cart(&self, principal: &Principal) -> Result<Cart, DependencyError> {
        let lines = self.ports.carts.cart(principal.user_id).await?;
        let total = lines
            .iter()
            .try_fold(Money::ZERO, |sum, line| sum.checked_add(line.price))
            .ok_or_else(|| DependencyError::Failed("cart total overflows".into()))?;
        Ok(Cart { lines, total })
    }

    /// Puts a course or a curriculum in the caller's cart.
    ///
    /// # Errors
    /// Every [`AddToCartUseCaseError`].
    #[tracing::instrument(skip_all, fields(user_id = %principal.user_id))]
    pub async fn add_to_cart(
        &self,
        principal: &Principal,
        item: ItemRef,
    ) -> Result<CartLine, AddToCartUseCaseError> {
        let new = NewCartItem {
            id: CartItemId::from_uuid(uuid::Uuid::now_v7()),
            user_id: principal.user_id,
            item,
            limit: CART_ITEM_LIMIT,
            now: self.now(),
        };
        self.ports
            .carts
            .add_to_cart(new)
            .await
            .map_err(|error| match error {
                AddToCartError::NotFound => AddToCartUseCaseError::ItemNotFound,
                AddToCartError::AlreadyInCart => AddToCartUseCaseError::AlreadyInCart,
                AddToCartError::AlreadyOwned => AddToCartUseCaseError::AlreadyOwned,
                AddToCartError::CartFull => AddToCartUseCaseError::CartFull,
                AddToCartError::Dependency(error) => error.into(),
            })
    }

    /// Removes a line of the caller's cart (another user's line is not found).
    ///
    /// # Errors
    /// `NotFound`, `Dependency`.
    #[tracing::instrument(skip_all, fields(user_id = %principal.user_id, cart_item_id = %id))]
    pub async fn remove_from_cart(
        &self,
        principal: &Principal,
        id: CartItemId,
    ) -> Result<(), RemoveFromCartError> {
        if self
            .ports
            .carts
            .remove_from_cart(principal.user_id, id)
            .await?
        {
            Ok(())
        } else {
            Err(RemoveFromCartError::NotFound)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commerce::test_support::{Fixture, course, line, now, principal};

    #[tokio::test]
    async fn the_cart_totals_its_lines() {
        let caller = principal();
        let lines = vec![line(course(), 10_000), line(course(), 25_000)];
        let mut fixture = Fixture::new();
        let stored = lines.clone();
        fixture
            .carts
            .expect_cart()
            .withf(move |user| *user == caller.user_id)
            .return_once(move |_| Ok(stored));
        let cart = fixture.shopping().cart(&caller).await.expect("cart");
        assert_eq!(cart.lines, lines);
        assert_eq!(cart.total.get(), 35_000);
    }

    #[tokio::test]
    async fn an_add_asks_the_store_with_the_cap_and_now() {
        let caller = principal();
        let item = course();
        let mut fixture = Fixture::new();
        fixture
            .carts
            .expect_add_to_cart()
            .withf(move |new| {
                new.user_id == caller.user_id
                    && new.item == item
                    && new.limit == 50
                    && new.now == now()
            })
            .times(1)
            .return_once(move |new| {
                Ok(CartLine {
                    id: new.id,
                    ..line(item, 10_000)
                })
            });
        let added = fixture.shopping().add_to_cart(&caller, item).await;
        assert_eq!(added.map(|line| line.item), Ok(item));
    }

    #[tokio::test]
    async fn add_refusals_keep_their_codes() {
        for (refusal, class, code) in [
            (
                AddToCartError::NotFound,
                ErrorClass::NotFound,
                "item_not_found",
            ),
            (
                AddToCartError::AlreadyInCart,
                ErrorClass::Conflict,
                "already_in_cart",
            ),
            (
                AddToCartError::AlreadyOwned,
                ErrorClass::Conflict,
                "already_owned",
            ),
            (AddToCartError::CartFull, ErrorClass::Conflict, "cart_full"),
            (
                AddToCartError::Dependency(DependencyError::Unavailable("db".into())),
                ErrorClass::Unavailable,
                "service_unavailable",
            ),
        ] {
            let mut fixture = Fixture::new();
            fixture
                .carts
                .expect_add_to_cart()
                .return_once(move |_| Err(refusal));
            let error = fixture
                .shopping()
                .add_to_cart(&principal(), course())
                .await
                .expect_err("refused");
            assert_eq!((error.class(), error.code()), (class, code));
        }
    }

    #[tokio::test]
    async fn removing_an_absent_line_is_not_found() {
        let caller = principal();
        let mut fixture = Fixture::new();
        fixture
            .carts
            .expect_remove_from_cart()
            .withf(move |user, _| *user == caller.user_id)
            .return_once(|_, _| Ok(false));
        let error = fixture
            .shopping()
            .remove_from_cart(&caller, CartItemId::from_uuid(uuid::Uuid::now_v7()))
            .await
            .expect_err("absent");
        assert_eq!(
            (error.class(), error.code()),
            (ErrorClass::NotFound, "not_found")
        );
    }
}
