//! The conformance suite's test-only commerce writes on PostgreSQL, in plain SQL; paying and
//! refunding go through [`grant_order_access`] and [`revoke_order_access`], as the checkout's
//! transactions do.

use super::access::{grant_order_access, revoke_order_access};
use crate::PostgresStore;
use chrono::{DateTime, Utc};
use diesel::sql_types::{BigInt, Bool, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, RunQueryDsl};
use reserva_conformance::commerce::fixtures::CommerceFixtures;
use reserva_domain::accounts::UserId;
use reserva_domain::commerce::OrderId;
use uuid::Uuid;

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

    async fn billing_address(&self, user: UserId, main: &str, default: bool) -> Uuid {
        let id = Uuid::now_v7();
        let mut connection = self.connection().await.unwrap_or_else(|e| panic!("{e}"));
        connection
            .transaction(async |connection| {
                if default {
                    crate::prepared::sql_query(
                        "UPDATE billing_addresses SET is_default = false
                         WHERE user_id = $1 AND is_default",
                    )
                    .bind::<SqlUuid, _>(user.as_uuid())
                    .execute(connection)
                    .await?;
                }
                crate::prepared::sql_query(
                    "INSERT INTO billing_addresses (id, user_id, country, main_address,
                                                    detail_address, postal_code, is_default,
                                                    created_at, updated_at)
                     VALUES ($1, $2, 'KR', $3, '101', '04524', $4, now(), now())",
                )
                .bind::<SqlUuid, _>(id)
                .bind::<SqlUuid, _>(user.as_uuid())
                .bind::<Text, _>(main)
                .bind::<Bool, _>(default)
                .execute(connection)
                .await
            })
            .await
            .unwrap_or_else(|e| panic!("billing_address: {e}"));
        id
    }

    async fn edit_billing_address(&self, id: Uuid, main: &str) {
        let mut connection = self.connection().await.unwrap_or_else(|e| panic!("{e}"));
        crate::prepared::sql_query("UPDATE billing_addresses SET main_address = $2 WHERE id = $1")
            .bind::<SqlUuid, _>(id)
            .bind::<Text, _>(main)
            .execute(&mut connection)
            .await
            .unwrap_or_else(|e| panic!("edit_billing_address: {e}"));
    }

    async fn force_order_total(&self, order: OrderId, total: i64) {
        let mut connection = self.connection().await.unwrap_or_else(|e| panic!("{e}"));
        crate::prepared::sql_query("UPDATE orders SET total = $2 WHERE id = $1")
            .bind::<SqlUuid, _>(order.as_uuid())
            .bind::<BigInt, _>(total)
            .execute(&mut connection)
            .await
            .unwrap_or_else(|e| panic!("force_order_total: {e}"));
    }
}
