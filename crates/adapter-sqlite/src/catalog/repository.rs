//! `RegistrationRepository` on the store: each method one transaction (writes `BEGIN
//! IMMEDIATE`, reads one snapshot), over the functions of [`super::payments`] and
//! [`super::history`].

use super::history::{entities, page, pending, refunds_due, shown};
use super::payments::{self, BeginTx, CancelTx, CompleteTx, SettleTx, begin_error};
use super::{PaymentRow, audit, with_registration};
use crate::{SqliteStore, micros, query_error};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reserva_application::DependencyError;
use reserva_application::ports::catalog::{
    BeginPaymentError, Begun, CancelPaymentError, Cancelled, CatalogAudit, CompleteError,
    PaymentIntent, PaymentQuery, RegistrationRepository, SettleError, Settled,
};
use reserva_domain::accounts::UserId;
use reserva_domain::catalog::{ItemId, ItemKind, Registration};
use reserva_domain::wallet::{Payment, PaymentId};

fn payments_of(rows: Vec<PaymentRow>) -> Result<Vec<Payment>, DependencyError> {
    rows.into_iter().map(PaymentRow::into_payment).collect()
}

#[async_trait]
impl RegistrationRepository for SqliteStore {
    async fn begin_payment(&self, intent: PaymentIntent) -> Result<Begun, BeginPaymentError> {
        self.write(move |connection| payments::begin(connection, &intent))
            .await
            .map_err(|error: BeginTx| error.into_refusal(begin_error))
    }

    async fn pay_from_wallet(&self, intent: PaymentIntent) -> Result<Settled, BeginPaymentError> {
        self.write(move |connection| payments::pay_from_wallet(connection, &intent))
            .await
            .map_err(|error: BeginTx| error.into_refusal(begin_error))
    }

    async fn settle_payment(
        &self,
        id: PaymentId,
        provider_reference: &str,
        now: DateTime<Utc>,
    ) -> Result<Settled, SettleError> {
        let reference = provider_reference.to_owned();
        self.write(move |connection| payments::settle(connection, id, &reference, micros(now)))
            .await
            .map_err(|error: SettleTx| {
                error.into_refusal(|error| SettleError::Dependency(query_error(error)))
            })
    }

    async fn fail_payment(
        &self,
        id: PaymentId,
        recorded_before: DateTime<Utc>,
    ) -> Result<Payment, SettleError> {
        let before = micros(recorded_before);
        self.write(move |connection| payments::fail(connection, id, before))
            .await
            .map_err(|error: SettleTx| {
                error.into_refusal(|error| SettleError::Dependency(query_error(error)))
            })
    }

    async fn complete(
        &self,
        user: UserId,
        kind: ItemKind,
        item: ItemId,
        now: DateTime<Utc>,
    ) -> Result<Registration, CompleteError> {
        self.write(move |connection| payments::complete(connection, user, kind, item, micros(now)))
            .await
            .map_err(|error: CompleteTx| {
                error.into_refusal(|error| CompleteError::Dependency(query_error(error)))
            })
    }

    async fn cancel_payment(
        &self,
        user: UserId,
        id: PaymentId,
        now: DateTime<Utc>,
    ) -> Result<Cancelled, CancelPaymentError> {
        self.write(move |connection| payments::cancel(connection, user, id, micros(now)))
            .await
            .map_err(|error: CancelTx| {
                error.into_refusal(|error| CancelPaymentError::Dependency(query_error(error)))
            })
    }

    async fn mark_refunded(
        &self,
        id: PaymentId,
        _now: DateTime<Utc>,
    ) -> Result<(), DependencyError> {
        self.write(move |connection| {
            payments::mark_refunded(connection, id)
                .map(|_| ())
                .map_err(reserva_sql_support::TxError::<DependencyError>::Query)
        })
        .await
        .map_err(|error| error.into_refusal(query_error))
    }

    async fn payment(
        &self,
        user: UserId,
        id: PaymentId,
    ) -> Result<Option<(Payment, Option<Registration>)>, DependencyError> {
        let found = self
            .snapshot(move |connection| shown(connection, user, id))
            .await?;
        found
            .map(|(payment, registration)| with_registration(payment, registration))
            .transpose()
    }

    async fn payments(
        &self,
        query: PaymentQuery,
    ) -> Result<Vec<(Payment, Option<Registration>)>, DependencyError> {
        let rows = self
            .snapshot(move |connection| page(connection, &query))
            .await?;
        entities(rows)
    }

    async fn pending_payments(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Payment>, DependencyError> {
        let rows = self
            .read(move |connection| pending(connection, micros(before), limit))
            .await?;
        payments_of(rows)
    }

    async fn pending_refunds(&self, limit: u32) -> Result<Vec<Payment>, DependencyError> {
        let rows = self
            .read(move |connection| refunds_due(connection, limit))
            .await?;
        payments_of(rows)
    }

    async fn verify_catalog(&self) -> Result<CatalogAudit, DependencyError> {
        self.snapshot(audit::verify).await
    }
}
