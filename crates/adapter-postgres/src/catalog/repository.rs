//! `CatalogRepository` and `RegistrationRepository` on the store: each method one connection
//! and the module's function for it.

use super::{audit, changes, items, payments, reads};
use crate::PostgresStore;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reserva_application::DependencyError;
use reserva_application::ports::catalog::{
    BeginPaymentError, Begun, CancelPaymentError, Cancelled, CatalogAudit, CatalogQuery,
    CatalogRepository, CompleteError, ItemScope, ItemUpdate, ListedItem, NewItem, PaymentIntent,
    PaymentQuery, RegistrationRepository, SettleError, Settled, UpdateItemError,
};
use reserva_domain::accounts::UserId;
use reserva_domain::catalog::{CatalogItem, ItemId, ItemKind, Registration};
use reserva_domain::wallet::{Payment, PaymentId};

#[async_trait]
impl CatalogRepository for PostgresStore {
    async fn create_item(&self, item: NewItem) -> Result<CatalogItem, DependencyError> {
        let mut connection = self.connection().await?;
        items::create(&mut connection, &item).await
    }

    async fn item(
        &self,
        kind: ItemKind,
        id: ItemId,
        viewer: UserId,
    ) -> Result<Option<ListedItem>, DependencyError> {
        let mut connection = self.connection().await?;
        items::find(&mut connection, kind, id, viewer).await
    }

    async fn update_item(
        &self,
        kind: ItemKind,
        id: ItemId,
        scope: ItemScope,
        update: ItemUpdate,
    ) -> Result<CatalogItem, UpdateItemError> {
        let mut connection = self.connection().await?;
        items::update(&mut connection, kind, id, scope, &update).await
    }

    async fn delete_item(
        &self,
        kind: ItemKind,
        id: ItemId,
        scope: ItemScope,
        now: DateTime<Utc>,
    ) -> Result<bool, DependencyError> {
        let mut connection = self.connection().await?;
        items::delete(&mut connection, kind, id, scope, now).await
    }

    async fn list_items(&self, query: CatalogQuery) -> Result<Vec<ListedItem>, DependencyError> {
        let (_turn, mut connection) = self.list_connection().await?;
        items::list(&mut connection, &query).await
    }
}

#[async_trait]
impl RegistrationRepository for PostgresStore {
    async fn begin_payment(&self, intent: PaymentIntent) -> Result<Begun, BeginPaymentError> {
        self.begin_queued(intent).await
    }

    async fn pay_from_wallet(&self, intent: PaymentIntent) -> Result<Settled, BeginPaymentError> {
        let mut connection = self.connection().await?;
        payments::pay_from_wallet(&mut connection, &intent).await
    }

    async fn settle_payment(
        &self,
        id: PaymentId,
        provider_reference: &str,
        now: DateTime<Utc>,
    ) -> Result<Settled, SettleError> {
        self.settle_queued(id, provider_reference, now).await
    }

    async fn fail_payment(
        &self,
        id: PaymentId,
        recorded_before: DateTime<Utc>,
    ) -> Result<Payment, SettleError> {
        let mut connection = self.connection().await?;
        payments::fail(&mut connection, id, recorded_before).await
    }

    async fn complete(
        &self,
        user: UserId,
        kind: ItemKind,
        item: ItemId,
        now: DateTime<Utc>,
    ) -> Result<Registration, CompleteError> {
        let mut connection = self.connection().await?;
        changes::complete(&mut connection, user, kind, item, now).await
    }

    async fn cancel_payment(
        &self,
        user: UserId,
        id: PaymentId,
        now: DateTime<Utc>,
    ) -> Result<Cancelled, CancelPaymentError> {
        let mut connection = self.connection().await?;
        changes::cancel(&mut connection, user, id, now).await
    }

    async fn mark_refunded(
        &self,
        id: PaymentId,
        _now: DateTime<Utc>,
    ) -> Result<(), DependencyError> {
        let mut connection = self.connection().await?;
        changes::mark_refunded(&mut connection, id).await
    }

    async fn payment(
        &self,
        user: UserId,
        id: PaymentId,
    ) -> Result<Option<(Payment, Option<Registration>)>, DependencyError> {
        let mut connection = self.connection().await?;
        reads::payment(&mut connection, user, id).await
    }

    async fn payments(
        &self,
        query: PaymentQuery,
    ) -> Result<Vec<(Payment, Option<Registration>)>, DependencyError> {
        let mut connection = self.connection().await?;
        reads::payments(&mut connection, &query).await
    }

    async fn pending_payments(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Payment>, DependencyError> {
        let mut connection = self.connection().await?;
        reads::pending_payments(&mut connection, before, limit).await
    }

    async fn pending_refunds(&self, limit: u32) -> Result<Vec<Payment>, DependencyError> {
        let mut connection = self.connection().await?;
        reads::pending_refunds(&mut connection, limit).await
    }

    async fn verify_catalog(&self) -> Result<CatalogAudit, DependencyError> {
        let mut connection = self.connection().await?;
        audit::verify(&mut connection).await
    }
}
