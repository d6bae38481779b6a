//! The conformance suite's test-only commerce writes on PostgreSQL, in plain SQL; paying and
//! refunding go through [`grant_order_access`] and [`revoke_order_access`], as the checkout's
//! transactions do.

use super::access::{grant_order_access, revoke_order_access};
use crate::PostgresStore;
use chrono::{DateTime, Utc};
use diesel::sql_types::{Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, RunQueryDsl};
use reserva_conformance::commerce::fixtures::CommerceFixtures;
use reserva_domain::commerce::OrderId;

impl CommerceFixtures for PostgresStore {
    async fn pay_order(&self, order: OrderId, paid_at: DateTime<Utc>) {
        let mut connection = self.connection().await.unwrap_or_else(|e| panic!("{e}"));
        connection
            .transaction(async |connection| {
                crate::prepared::sql_query(
                    "UPDATE orders SET status = 'paid', paid_at = $2, updated_at = $2
                     WHERE id = $1 AND status = 'pending'",
                )
                .bind::<SqlUuid, _>(order.as_uuid())
                .bind::<Timestamptz, _>(paid_at)
                .execute(connection)
                .await?;
                grant_order_access(connection, order, paid_at).await
            })
            .await
            .unwrap_or_else(|e| panic!("pay_order: {e}"));
    }

    async fn refund_order(&self, order: OrderId, now: DateTime<Utc>) {
        let mut connection = self.connection().await.unwrap_or_else(|e| panic!("{e}"));
        connection
            .transaction(async |connection| {
                crate::prepared::sql_query(
                    "UPDATE orders SET status = 'refunded', refunded_at = $2, updated_at = $2
                     WHERE id = $1 AND status = 'paid'",
                )
                .bind::<SqlUuid, _>(order.as_uuid())
                .bind::<Timestamptz, _>(now)
                .execute(connection)
                .await?;
                revoke_order_access(connection, order, now).await
            })
            .await
            .unwrap_or_else(|e| panic!("refund_order: {e}"));
    }
}
