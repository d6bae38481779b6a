//! Orders: placing one from the cart or from a list of items (cancelling the caller's pending
//! order, the total at most `ORDER_TOTAL_LIMIT` on both paths), reading one, the pending one,
//! and the caller's list.

use super::Shopping;
use crate::accounts::Principal;
use crate::ports::commerce::orders::{NewOrder, OrderQuery, OrderSource, PlaceOrderError};
use crate::{DependencyError, ErrorClass, FieldViolation, Page, UseCaseError};
use chrono::{DateTime, Utc};
use reserva_domain::commerce::{CART_ITEM_LIMIT, ItemRef, Order, OrderId, OrderStatus};
use reserva_domain::paging::PageLimit;
use std::collections::BTreeSet;
use thiserror::Error;

/// What the caller orders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderRequest {
    /// Everything in their cart.
    FromCart,
    /// These items (1 to `CART_ITEM_LIMIT`, each once).
    Items(Vec<ItemRef>),
}

/// Why an order was not placed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PlaceOrderUseCaseError {
    /// A direct order with no items, too many, or one twice (field `items`: `items_empty`,
    /// `too_many_items`, `duplicate_item`).
    #[error("invalid order")]
    Invalid(Vec<FieldViolation>),
    /// From the cart, and nothing in it can be bought.
    #[error("the cart is empty")]
    CartEmpty,
    /// A direct item does not exist.
    #[error("no such course or curriculum")]
    ItemNotFound,
    /// The caller owns an item already.
    #[error("an item is already owned")]
    AlreadyOwned,
    /// The total is over the limit.
    #[error("the order's total {total} is over the limit of {limit}", limit = reserva_domain::commerce::ORDER_TOTAL_LIMIT)]
    TotalExceeded {
        /// The total.
        total: i64,
    },
    /// A dependency failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

impl UseCaseError for PlaceOrderUseCaseError {
    fn class(&self) -> ErrorClass {
        match self {
            Self::Invalid(_) => ErrorClass::InvalidInput,
            Self::ItemNotFound => ErrorClass::NotFound,
            Self::CartEmpty | Self::AlreadyOwned | Self::TotalExceeded { .. } => {
                ErrorClass::Conflict
            }
            Self::Dependency(error) => error.class(),
        }
    }
    fn code(&self) -> &'static str {
        match self {
            Self::Invalid(_) => "validation_failed",
            Self::CartEmpty => "cart_empty",
            Self::ItemNotFound => "item_not_found",
            Self::AlreadyOwned => "already_owned",
            Self::TotalExceeded { .. } => "order_total_exceeded",
            Self::Dependency(error) => error.code(),
        }
    }
    fn violations(&self) -> &[FieldViolation] {
        match self {
            Self::Invalid(violations) => violations,
            _ => &[],
        }
    }
}

/// Why an order could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum GetOrderError {
    /// No such order of the caller's (or, for the current one, none pending).
    #[error("no such order")]
    NotFound,
    /// A dependency failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

impl UseCaseError for GetOrderError {
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

/// Which page of the caller's orders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListOrders {
    /// Only this status.
    pub status: Option<OrderStatus>,
    /// After this row (from the previous page's cursor).
    pub after: Option<(DateTime<Utc>, OrderId)>,
    /// Page size.
    pub limit: PageLimit,
}

/// One page of orders, newest first; the cursor is the last one's `(created_at, id)`.
pub type OrderPage = Page<Order, (DateTime<Utc>, OrderId)>;

/// Why the list failed (only its dependency can fail: the HTTP adapter validates the rest).
pub type ListOrdersError = DependencyError;

/// The direct items, checked: 1 to `CART_ITEM_LIMIT`, none twice.
fn checked_items(items: Vec<ItemRef>) -> Result<Vec<ItemRef>, PlaceOrderUseCaseError> {
    let invalid = |code, rule: &str| {
        PlaceOrderUseCaseError::Invalid(vec![FieldViolation::new("items", code, rule)])
    };
    if items.is_empty() {
        return Err(invalid("items_empty", "an order needs at least one item"));
    }
    if items.len() > CART_ITEM_LIMIT as usize {
        return Err(invalid("too_many_items", "an order holds at most 50 items"));
    }
    let mut seen = BTreeSet::new();
    if items.iter().any(|item| !seen.insert(*item)) {
        return Err(invalid("duplicate_item", "each item may be ordered once"));
    }
    Ok(items)
}

impl Shopping {
    /// Places an order for the caller.
    ///
    /// # Errors
    /// Every [`PlaceOrderUseCaseError`].
    #[tracing::instrument(skip_all, fields(user_id = %principal.user_id))]
    pub async fn place_order(
        &self,
        principal: &Principal,
        request: OrderRequest,
    ) -> Result<Order, PlaceOrderUseCaseError> {
        let source = match request {
            OrderRequest::FromCart => OrderSource::Cart,
            OrderRequest::Items(items) => OrderSource::Items(checked_items(items)?),
        };
        let order = NewOrder {
            id: OrderId::from_uuid(uuid::Uuid::now_v7()),
            user_id: principal.user_id,
            source,
            now: self.now(),
        };
        self.ports
            .orders
            .place_order(order)
            .await
            .map_err(|error| match error {
                PlaceOrderError::CartEmpty => PlaceOrderUseCaseError::CartEmpty,
                PlaceOrderError::ItemNotFound(_) => PlaceOrderUseCaseError::ItemNotFound,
                PlaceOrderError::AlreadyOwned(_) => PlaceOrderUseCaseError::AlreadyOwned,
                PlaceOrderError::TotalExceeded { total } => {
                    PlaceOrderUseCaseError::TotalExceeded { total: total.get() }
                }
                PlaceOrderError::Dependency(error) => error.into(),
            })
    }

    /// One of the caller's orders.
    ///
    /// # Errors
    /// `NotFound` (absent or another user's), `Dependency`.
    #[tracing::instrument(skip_all, fields(user_id = %principal.user_id, order_id = %id))]
    pub async fn order(&self, principal: &Principal, id: OrderId) -> Result<Order, GetOrderError> {
        self.ports
            .orders
            .order(principal.user_id, id)
            .await?
            .ok_or(GetOrderError::NotFound)
    }

    /// The caller's pending order.
    ///
    /// # Errors
    /// `NotFound` when none is pending, `Dependency`.
    #[tracing::instrument(skip_all, fields(user_id = %principal.user_id))]
    pub async fn current_order(&self, principal: &Principal) -> Result<Order, GetOrderError> {
        self.ports
            .orders
            .pending_order(principal.user_id)
            .await?
            .ok_or(GetOrderError::NotFound)
    }

    /// A page of the caller's orders, newest first.
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    #[tracing::instrument(skip_all, fields(user_id = %principal.user_id))]
    pub async fn list_orders(
        &self,
        principal: &Principal,
        request: ListOrders,
    ) -> Result<OrderPage, ListOrdersError> {
        let rows = self
            .ports
            .orders
            .orders(OrderQuery {
                user_id: principal.user_id,
                status: request.status,
                after: request.after,
                limit: request.limit,
            })
            .await?;
        Ok(Page::from_rows(rows, request.limit, |order| {
            (order.created_at, order.id)
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commerce::test_support::{Fixture, course, now, order, principal};
    use reserva_domain::wallet::Money;

    #[tokio::test]
    async fn a_direct_order_reaches_the_store_with_its_items() {
        let caller = principal();
        let items = vec![course(), course()];
        let expected = OrderSource::Items(items.clone());
        let placed = order(caller.user_id);
        let answer = placed.clone();
        let mut fixture = Fixture::new();
        fixture
            .orders
            .expect_place_order()
            .withf(move |new| {
                new.user_id == caller.user_id && new.source == expected && new.now == now()
            })
            .times(1)
            .return_once(move |_| Ok(answer));
        let outcome = fixture
            .shopping()
            .place_order(&caller, OrderRequest::Items(items))
            .await;
        assert_eq!(outcome, Ok(placed));
    }

    #[tokio::test]
    async fn direct_items_are_checked_before_the_store() {
        let item = course();
        let too_many = (0..51).map(|_| course()).collect();
        for (items, code) in [
            (vec![], "items_empty"),
            (vec![item, course(), item], "duplicate_item"),
            (too_many, "too_many_items"),
        ] {
            let fixture = Fixture::new();
            let error = fixture
                .shopping()
                .place_order(&principal(), OrderRequest::Items(items))
                .await
                .expect_err("invalid");
            assert_eq!(error.code(), "validation_failed");
            assert_eq!(error.violations()[0].code, code);
        }
    }

    #[tokio::test]
    async fn refusals_keep_their_codes() {
        let item = course();
        for (refusal, class, code) in [
            (
                PlaceOrderError::CartEmpty,
                ErrorClass::Conflict,
                "cart_empty",
            ),
            (
                PlaceOrderError::ItemNotFound(item),
                ErrorClass::NotFound,
                "item_not_found",
            ),
            (
                PlaceOrderError::AlreadyOwned(item),
                ErrorClass::Conflict,
                "already_owned",
            ),
            (
                PlaceOrderError::TotalExceeded {
                    total: Money::new(50_001).expect("valid"),
                },
                ErrorClass::Conflict,
                "order_total_exceeded",
            ),
        ] {
            let mut fixture = Fixture::new();
            fixture
                .orders
                .expect_place_order()
                .withf(|new| new.source == OrderSource::Cart)
                .return_once(move |_| Err(refusal));
            let error = fixture
                .shopping()
                .place_order(&principal(), OrderRequest::FromCart)
                .await
                .expect_err("refused");
            assert_eq!((error.class(), error.code()), (class, code));
        }
    }

    #[tokio::test]
    async fn reads_are_the_callers_and_absent_is_not_found() {
        let caller = principal();
        let mut fixture = Fixture::new();
        fixture
            .orders
            .expect_order()
            .withf(move |user, _| *user == caller.user_id)
            .return_once(|_, _| Ok(None));
        fixture
            .orders
            .expect_pending_order()
            .withf(move |user| *user == caller.user_id)
            .return_once(|_| Ok(None));
        let shopping = fixture.shopping();
        let id = OrderId::from_uuid(uuid::Uuid::now_v7());
        assert_eq!(
            shopping.order(&caller, id).await,
            Err(GetOrderError::NotFound)
        );
        assert_eq!(
            shopping.current_order(&caller).await,
            Err(GetOrderError::NotFound)
        );
    }

    #[tokio::test]
    async fn a_list_pages_by_its_last_row() {
        let caller = principal();
        let rows: Vec<Order> = (0..3).map(|_| order(caller.user_id)).collect();
        let last_kept = (rows[1].created_at, rows[1].id);
        let mut fixture = Fixture::new();
        fixture
            .orders
            .expect_orders()
            .withf(move |query| {
                query.user_id == caller.user_id && query.status == Some(OrderStatus::Pending)
            })
            .return_once(move |_| Ok(rows));
        let page = fixture
            .shopping()
            .list_orders(
                &caller,
                ListOrders {
                    status: Some(OrderStatus::Pending),
                    after: None,
                    limit: PageLimit::new(2).expect("valid"),
                },
            )
            .await
            .expect("page");
        assert_eq!(page.items.len(), 2);
        assert_eq!(page.next, Some(last_kept));
    }
}
