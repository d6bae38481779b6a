//! `CartRepository`, `OrderRepository` and `AccessRepository` on the store: writes one `BEGIN
//! IMMEDIATE` transaction each, reads one snapshot.

use super::cart::{AddTx, is_in_cart};
use super::orders::PlaceTx;
use super::{access, cart, orders};
use crate::{SqliteStore, query_error};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reserva_application::DependencyError;
use reserva_application::ports::commerce::access::{AccessRepository, CourseAccess};
use reserva_application::ports::commerce::cart::{AddToCartError, CartRepository, NewCartItem};
use reserva_application::ports::commerce::orders::{
    NewOrder, OrderQuery, OrderRepository, PlaceOrderError,
};
use reserva_domain::accounts::UserId;
use reserva_domain::catalog::ItemId;
use reserva_domain::commerce::{CartItemId, CartLine, Order, OrderId};
use reserva_sql_support::TxError;

#[async_trait]
impl CartRepository for SqliteStore {
    async fn add_to_cart(&self, item: NewCartItem) -> Result<CartLine, AddToCartError> {
        self.write(move |connection| cart::add(connection, &item))
            .await
            .map_err(|error: AddTx| {
                error.into_refusal(|error| {
                    if is_in_cart(&error) {
                        AddToCartError::AlreadyInCart
                    } else {
                        AddToCartError::Dependency(query_error(error))
                    }
                })
            })
    }

    async fn cart(&self, user: UserId) -> Result<Vec<CartLine>, DependencyError> {
        self.snapshot(move |connection| cart::lines(connection, user))
            .await
    }

    async fn remove_from_cart(
        &self,
        user: UserId,
        id: CartItemId,
    ) -> Result<bool, DependencyError> {
        self.write(move |connection| {
            Ok::<_, TxError<DependencyError>>(cart::remove(connection, user, id)?)
        })
        .await
        .map_err(|error| error.into_refusal(query_error))
    }
}

#[async_trait]
impl OrderRepository for SqliteStore {
    async fn place_order(&self, order: NewOrder) -> Result<Order, PlaceOrderError> {
        self.write(move |connection| orders::place(connection, &order))
            .await
            .map_err(|error: PlaceTx| {
                error.into_refusal(|error| PlaceOrderError::Dependency(query_error(error)))
            })
    }

    async fn order(&self, user: UserId, id: OrderId) -> Result<Option<Order>, DependencyError> {
        self.snapshot(move |connection| orders::one(connection, user, id))
            .await
    }

    async fn pending_order(&self, user: UserId) -> Result<Option<Order>, DependencyError> {
        self.snapshot(move |connection| orders::pending(connection, user))
            .await
    }

    async fn orders(&self, query: OrderQuery) -> Result<Vec<Order>, DependencyError> {
        self.snapshot(move |connection| orders::page(connection, &query))
            .await
    }
}

#[async_trait]
impl AccessRepository for SqliteStore {
    async fn live_access(
        &self,
        user: UserId,
        now: DateTime<Utc>,
    ) -> Result<Vec<CourseAccess>, DependencyError> {
        self.read(move |connection| access::live(connection, user, now))
            .await
    }

    async fn has_access(
        &self,
        user: UserId,
        course: ItemId,
        now: DateTime<Utc>,
    ) -> Result<bool, DependencyError> {
        self.read(move |connection| access::has(connection, user, course, now))
            .await
    }
}
