//! The conformance suite's test-only commerce writes on SQLite, in plain SQL; paying and
//! refunding go through [`grant_order_access`] and [`revoke_order_access`], as the checkout's
//! transactions do.

use super::access::{grant_order_access, revoke_order_access};
use crate::{SqliteStore, micros};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Text};
use reserva_application::DependencyError;
use reserva_conformance::commerce::fixtures::{CommerceFixtures, TestCurriculum};
use reserva_domain::commerce::{CurriculumId, OrderId};
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
    async fn insert_curriculum(&self, curriculum: TestCurriculum) {
        self.fixture("insert_curriculum", move |connection| {
            let id = curriculum.id.as_uuid().to_string();
            diesel::sql_query(
                "INSERT INTO curricula (id, name, price, category, skill_level, tutor_id,
                                        created_at, updated_at)
                 VALUES (?1, ?2, ?3, 'Python', 'beginner', ?4, ?5, ?5)",
            )
            .bind::<Text, _>(&id)
            .bind::<Text, _>(&curriculum.name)
            .bind::<BigInt, _>(curriculum.price)
            .bind::<Text, _>(curriculum.tutor.as_uuid().to_string())
            .bind::<BigInt, _>(micros(curriculum.now))
            .execute(connection)?;
            for (position, course) in (0_i32..).zip(&curriculum.courses) {
                diesel::sql_query(
                    "INSERT INTO curriculum_courses (curriculum_id, course_id, position)
                     VALUES (?1, ?2, ?3)",
                )
                .bind::<Text, _>(&id)
                .bind::<Text, _>(course.as_uuid().to_string())
                .bind::<Integer, _>(position)
                .execute(connection)?;
            }
            Ok(())
        })
        .await;
    }

    async fn delete_curriculum(&self, id: CurriculumId, now: DateTime<Utc>) {
        self.fixture("delete_curriculum", move |connection| {
            diesel::sql_query("UPDATE curricula SET deleted_at = ?2 WHERE id = ?1")
                .bind::<Text, _>(id.as_uuid().to_string())
                .bind::<BigInt, _>(micros(now))
                .execute(connection)?;
            Ok(())
        })
        .await;
    }

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
