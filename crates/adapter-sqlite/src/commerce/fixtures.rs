//! The conformance suite's test-only commerce writes on SQLite, in plain SQL; paying and
//! refunding go through [`grant_order_access`] and [`revoke_order_access`], as the checkout's
//! transactions do.

use super::access::{grant_order_access, revoke_order_access};
use crate::{SqliteStore, micros};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use reserva_application::DependencyError;
use reserva_conformance::commerce::fixtures::CommerceFixtures;
use reserva_domain::commerce::OrderId;
use reserva_sql_support::TxError;

type Tx = TxError<DependencyError>;

impl SqliteStore {
    async fn fixture<F>(&self, what: &str, task: F)
    where
        F: FnOnce(&mut SqliteConnection) -> Result<(), Tx> + Send + 'static,
    {
        if let Err(error) = self.write(task).await {
            panic!("{what}: {error:?}");
        }
    }
}

impl CommerceFixtures for SqliteStore {
    async fn pay_order(&self, order: OrderId, paid_at: DateTime<Utc>) {
        self.fixture("pay_order", move |connection| {
            diesel::sql_query(
                "UPDATE orders SET status = 'paid', paid_at = ?2, updated_at = ?2
                 WHERE id = ?1 AND status = 'pending'",
            )
            .bind::<Text, _>(order.as_uuid().to_string())
            .bind::<BigInt, _>(micros(paid_at))
            .execute(connection)?;
            grant_order_access(connection, order, paid_at)?;
            Ok(())
        })
        .await;
    }

    async fn refund_order(&self, order: OrderId, now: DateTime<Utc>) {
        self.fixture("refund_order", move |connection| {
            diesel::sql_query(
                "UPDATE orders SET status = 'refunded', refunded_at = ?2, updated_at = ?2
                 WHERE id = ?1 AND status = 'paid'",
            )
            .bind::<Text, _>(order.as_uuid().to_string())
            .bind::<BigInt, _>(micros(now))
            .execute(connection)?;
            revoke_order_access(connection, order, now)?;
            Ok(())
        })
        .await;
    }
}
