//! `CartRepository`, `OrderRepository`, `AccessRepository` and `CheckoutRepository` on the store: writes one `BEGIN
//! IMMEDIATE` transaction each, reads one snapshot.

use super::cart::{AddTx, is_in_cart};
use super::orders::PlaceTx;
use super::{access, cart, checkout, orders, receipts};
use crate::{SqliteStore, query_error};
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

/// A write that only the store can refuse.
type PlainTx = TxError<DependencyError>;

#[async_trait]
impl CheckoutRepository for SqliteStore {
    async fn open(&self, checkout: OpenCheckout) -> Result<OpenedCheckout, OpenCheckoutError> {
        self.write(move |connection| checkout::open(connection, &checkout))
            .await
            .map_err(|error: TxError<OpenCheckoutError>| {
                error.into_refusal(|error| OpenCheckoutError::Dependency(query_error(error)))
            })
    }

    async fn attach(
        &self,
        id: CheckoutId,
        reference: String,
        approval_url: String,
        now: DateTime<Utc>,
    ) -> Result<bool, DependencyError> {
        self.write(move |connection| {
            Ok::<_, PlainTx>(checkout::attach(
                connection,
                id,
                &reference,
                &approval_url,
                now,
            )?)
        })
        .await
        .map_err(|error| error.into_refusal(query_error))
    }

    async fn fail_open(&self, id: CheckoutId, now: DateTime<Utc>) -> Result<(), DependencyError> {
        self.write(move |connection| Ok::<_, PlainTx>(checkout::fail_open(connection, id, now)?))
            .await
            .map_err(|error| error.into_refusal(query_error))
    }

    async fn apply_callback(
        &self,
        callback: ApplyCallback,
    ) -> Result<CallbackOutcome, ApplyCallbackError> {
        self.write(move |connection| checkout::apply_callback(connection, &callback))
            .await
            .map_err(|error: TxError<ApplyCallbackError>| {
                error.into_refusal(|error| ApplyCallbackError::Dependency(query_error(error)))
            })
    }

    async fn begin_refund(
        &self,
        order_id: OrderId,
        user_id: UserId,
        now: DateTime<Utc>,
    ) -> Result<RefundDue, BeginRefundError> {
        self.write(move |connection| checkout::begin_refund(connection, order_id, user_id, now))
            .await
            .map_err(|error: TxError<BeginRefundError>| {
                error.into_refusal(|error| BeginRefundError::Dependency(query_error(error)))
            })
    }

    async fn finish_refund(
        &self,
        id: CheckoutId,
        now: DateTime<Utc>,
    ) -> Result<(), DependencyError> {
        self.write(move |connection| {
            Ok::<_, PlainTx>(checkout::finish_refund(connection, id, now)?)
        })
        .await
        .map_err(|error| error.into_refusal(query_error))
    }

    async fn due_refunds(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<RefundDue>, DependencyError> {
        self.read(move |connection| checkout::due_refunds(connection, now, limit))
            .await
    }

    async fn retry_later(
        &self,
        id: CheckoutId,
        now: DateTime<Utc>,
    ) -> Result<u32, DependencyError> {
        self.write(move |connection| Ok::<_, PlainTx>(checkout::retry_later(connection, id, now)?))
            .await
            .map_err(|error| error.into_refusal(query_error))
    }

    async fn overdue_ready(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<CheckoutId>, DependencyError> {
        self.read(move |connection| checkout::overdue_ready(connection, now, limit))
            .await
    }

    async fn expire_ready(
        &self,
        id: CheckoutId,
        now: DateTime<Utc>,
    ) -> Result<bool, DependencyError> {
        self.write(move |connection| Ok::<_, PlainTx>(checkout::expire_ready(connection, id, now)?))
            .await
            .map_err(|error| error.into_refusal(query_error))
    }

    async fn checkout(&self, id: CheckoutId) -> Result<Option<CheckoutRecord>, DependencyError> {
        self.read(move |connection| checkout::one(connection, id))
            .await
    }

    async fn receipts(&self, query: ReceiptQuery) -> Result<Vec<ReceiptSummary>, DependencyError> {
        self.read(move |connection| receipts::page(connection, &query))
            .await
    }

    async fn receipt(
        &self,
        user_id: UserId,
        id: CheckoutId,
    ) -> Result<Option<ReceiptDetail>, DependencyError> {
        self.snapshot(move |connection| receipts::detail(connection, user_id, id))
            .await
    }
}
