//! `CartRepository`, `OrderRepository`, `AccessRepository` and `CheckoutRepository` on the store: each method one
//! connection and the module's function for it.

use super::{access, cart, checkout, orders, receipts};
use crate::{PostgresStore, query_error};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reserva_application::DependencyError;
use reserva_application::ports::commerce::access::{AccessRepository, CourseAccess};
use reserva_application::ports::commerce::cart::{AddToCartError, CartRepository, NewCartItem};
use reserva_application::ports::commerce::checkout::{
    ApplyCallback, ApplyCallbackError, BeginRefundError, CallbackOutcome, CheckoutRecord,
    CheckoutRepository, OpenCheckout, OpenCheckoutError, OpenedCheckout, ReceiptDetail,
    ReceiptQuery, ReceiptSummary, RefundDue,
};
use reserva_application::ports::commerce::orders::{
    NewOrder, OrderQuery, OrderRepository, PlaceOrderError,
};
use reserva_domain::accounts::UserId;
use reserva_domain::catalog::ItemId;
use reserva_domain::commerce::{CartItemId, CartLine, CheckoutId, Order, OrderId};

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

#[async_trait]
impl CheckoutRepository for PostgresStore {
    async fn open(&self, checkout: OpenCheckout) -> Result<OpenedCheckout, OpenCheckoutError> {
        let mut connection = self.connection().await?;
        checkout::open(&mut connection, &checkout).await
    }

    async fn attach(
        &self,
        id: CheckoutId,
        reference: String,
        approval_url: String,
        now: DateTime<Utc>,
    ) -> Result<bool, DependencyError> {
        let mut connection = self.connection().await?;
        checkout::attach(&mut connection, id, &reference, &approval_url, now).await
    }

    async fn fail_open(&self, id: CheckoutId, now: DateTime<Utc>) -> Result<(), DependencyError> {
        let mut connection = self.connection().await?;
        checkout::fail_open(&mut connection, id, now).await
    }

    async fn apply_callback(
        &self,
        callback: ApplyCallback,
    ) -> Result<CallbackOutcome, ApplyCallbackError> {
        let mut connection = self.connection().await?;
        checkout::apply_callback(&mut connection, &callback).await
    }

    async fn begin_refund(
        &self,
        order_id: OrderId,
        user_id: UserId,
        now: DateTime<Utc>,
    ) -> Result<RefundDue, BeginRefundError> {
        let mut connection = self.connection().await?;
        checkout::begin_refund(&mut connection, order_id, user_id, now).await
    }

    async fn finish_refund(
        &self,
        id: CheckoutId,
        now: DateTime<Utc>,
    ) -> Result<(), DependencyError> {
        let mut connection = self.connection().await?;
        checkout::finish_refund(&mut connection, id, now).await
    }

    async fn due_refunds(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<RefundDue>, DependencyError> {
        let mut connection = self.connection().await?;
        checkout::due_refunds(&mut connection, now, limit).await
    }

    async fn retry_later(
        &self,
        id: CheckoutId,
        now: DateTime<Utc>,
    ) -> Result<u32, DependencyError> {
        let mut connection = self.connection().await?;
        checkout::retry_later(&mut connection, id, now).await
    }

    async fn overdue_ready(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<CheckoutId>, DependencyError> {
        let mut connection = self.connection().await?;
        checkout::overdue_ready(&mut connection, now, limit).await
    }

    async fn expire_ready(
        &self,
        id: CheckoutId,
        now: DateTime<Utc>,
    ) -> Result<bool, DependencyError> {
        let mut connection = self.connection().await?;
        checkout::expire_ready(&mut connection, id, now).await
    }

    async fn checkout(&self, id: CheckoutId) -> Result<Option<CheckoutRecord>, DependencyError> {
        let mut connection = self.connection().await?;
        checkout::one(&mut connection, id).await
    }

    async fn receipts(&self, query: ReceiptQuery) -> Result<Vec<ReceiptSummary>, DependencyError> {
        let mut connection = self.connection().await?;
        receipts::page(&mut connection, &query).await
    }

    async fn receipt(
        &self,
        user_id: UserId,
        id: CheckoutId,
    ) -> Result<Option<ReceiptDetail>, DependencyError> {
        let mut connection = self.connection().await?;
        receipts::detail(&mut connection, user_id, id).await
    }
}
