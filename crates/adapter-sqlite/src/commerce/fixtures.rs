//! The conformance suite's test-only commerce writes on SQLite, in plain SQL; paying and
//! refunding go through [`grant_order_access`] and [`revoke_order_access`], as the checkout's
//! transactions do.

use super::access::{grant_order_access, revoke_order_access};
use crate::{SqliteStore, micros};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Text};
use reserva_application::DependencyError;
use reserva_conformance::commerce::fixtures::CommerceFixtures;
use reserva_domain::accounts::UserId;
use reserva_domain::commerce::OrderId;
use reserva_sql_support::TxError;
use uuid::Uuid;

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

    async fn billing_address(&self, user: UserId, main: &str, default: bool) -> Uuid {
        let id = Uuid::now_v7();
        let main = main.to_owned();
        self.fixture("billing_address", move |connection| {
            let user = user.as_uuid().to_string();
            if default {
                diesel::sql_query(
                    "UPDATE billing_addresses SET is_default = 0 WHERE user_id = ?1 AND is_default",
                )
                .bind::<Text, _>(&user)
                .execute(connection)?;
            }
            let now = micros(chrono::Utc::now());
            diesel::sql_query(
                "INSERT INTO billing_addresses (id, user_id, country, main_address, detail_address,
                                                postal_code, is_default, created_at, updated_at)
                 VALUES (?1, ?2, 'KR', ?3, '101', '04524', ?4, ?5, ?5)",
            )
            .bind::<Text, _>(id.to_string())
            .bind::<Text, _>(&user)
            .bind::<Text, _>(&main)
            .bind::<Bool, _>(default)
            .bind::<BigInt, _>(now)
            .execute(connection)?;
            Ok(())
        })
        .await;
        id
    }

    async fn edit_billing_address(&self, id: Uuid, main: &str) {
        let main = main.to_owned();
        self.fixture("edit_billing_address", move |connection| {
            diesel::sql_query("UPDATE billing_addresses SET main_address = ?2 WHERE id = ?1")
                .bind::<Text, _>(id.to_string())
                .bind::<Text, _>(&main)
                .execute(connection)?;
            Ok(())
        })
        .await;
    }

    async fn force_order_total(&self, order: OrderId, total: i64) {
        self.fixture("force_order_total", move |connection| {
            diesel::sql_query("UPDATE orders SET total = ?2 WHERE id = ?1")
                .bind::<Text, _>(order.as_uuid().to_string())
                .bind::<BigInt, _>(total)
                .execute(connection)?;
            Ok(())
        })
        .await;
    }
}
