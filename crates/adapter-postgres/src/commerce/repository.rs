//! `CartRepository`, `OrderRepository` and `AccessRepository` on the store: each method one
//! connection and the module's function for it.

use super::{access, cart, orders};
use crate::{PostgresStore, query_error};
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

#[async_trait]
impl CartRepository for PostgresStore {
    async fn add_to_cart(&self, item: NewCartItem) -> Result<CartLine, AddToCartError> {
        let mut connection = self.connection().await?;
        cart::add(&mut connection, &item).await
    }

    async fn cart(&self, user: UserId) -> Result<Vec<CartLine>, DependencyError> {
        let mut connection = self.connection().await?;
        cart::lines(&mut connection, user)
            .await
            .map_err(query_error)
    }

    async fn remove_from_cart(
        &self,
        user: UserId,
        id: CartItemId,
    ) -> Result<bool, DependencyError> {
        let mut connection = self.connection().await?;
        cart::remove(&mut connection, user, id)
            .await
            .map_err(crate::write_outcome_error)
    }
}

#[async_trait]
impl OrderRepository for PostgresStore {
    async fn place_order(&self, order: NewOrder) -> Result<Order, PlaceOrderError> {
        let mut connection = self.connection().await?;
        orders::place(&mut connection, &order).await
    }

    async fn order(&self, user: UserId, id: OrderId) -> Result<Option<Order>, DependencyError> {
        let mut connection = self.connection().await?;
        orders::one(&mut connection, user, id).await
    }

    async fn pending_order(&self, user: UserId) -> Result<Option<Order>, DependencyError> {
        let mut connection = self.connection().await?;
        orders::pending(&mut connection, user).await
    }

    async fn orders(&self, query: OrderQuery) -> Result<Vec<Order>, DependencyError> {
        let mut connection = self.connection().await?;
        orders::page(&mut connection, &query).await
    }
}

#[async_trait]
impl AccessRepository for PostgresStore {
    async fn live_access(
        &self,
        user: UserId,
        now: DateTime<Utc>,
    ) -> Result<Vec<CourseAccess>, DependencyError> {
        let mut connection = self.connection().await?;
        access::live(&mut connection, user, now)
            .await
            .map_err(query_error)
    }

    async fn has_access(
        &self,
        user: UserId,
        course: ItemId,
        now: DateTime<Utc>,
    ) -> Result<bool, DependencyError> {
        let mut connection = self.connection().await?;
        access::has(&mut connection, user, course, now)
            .await
            .map_err(query_error)
    }
}
