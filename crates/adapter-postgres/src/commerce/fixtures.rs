//! The conformance suite's test-only commerce writes on PostgreSQL, in plain SQL; paying and
//! refunding go through [`grant_order_access`] and [`revoke_order_access`], as the checkout's
//! transactions do.

use super::access::{grant_order_access, revoke_order_access};
use crate::PostgresStore;
use chrono::{DateTime, Utc};
use diesel::sql_types::{BigInt, Integer, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, RunQueryDsl};
use reserva_conformance::commerce::fixtures::{CommerceFixtures, TestCurriculum};
use reserva_domain::commerce::{CurriculumId, OrderId};

impl CommerceFixtures for PostgresStore {
    async fn insert_curriculum(&self, curriculum: TestCurriculum) {
        let mut connection = self.connection().await.unwrap_or_else(|e| panic!("{e}"));
        connection
            .transaction(async |connection| {
                crate::prepared::sql_query(
                    "INSERT INTO curricula (id, name, price, category, skill_level, tutor_id,
                                            created_at, updated_at)
                     VALUES ($1, $2, $3, 'Python', 'beginner', $4, $5, $5)",
                )
                .bind::<SqlUuid, _>(curriculum.id.as_uuid())
                .bind::<Text, _>(&curriculum.name)
                .bind::<BigInt, _>(curriculum.price)
                .bind::<SqlUuid, _>(curriculum.tutor.as_uuid())
                .bind::<Timestamptz, _>(curriculum.now)
                .execute(connection)
                .await?;
                for (position, course) in (0_i32..).zip(&curriculum.courses) {
                    crate::prepared::sql_query(
                        "INSERT INTO curriculum_courses (curriculum_id, course_id, position)
                         VALUES ($1, $2, $3)",
                    )
                    .bind::<SqlUuid, _>(curriculum.id.as_uuid())
                    .bind::<SqlUuid, _>(course.as_uuid())
                    .bind::<Integer, _>(position)
                    .execute(connection)
                    .await?;
                }
                Ok::<_, diesel::result::Error>(())
            })
            .await
            .unwrap_or_else(|e| panic!("insert_curriculum: {e}"));
    }

    async fn delete_curriculum(&self, id: CurriculumId, now: DateTime<Utc>) {
        let mut connection = self.connection().await.unwrap_or_else(|e| panic!("{e}"));
        crate::prepared::sql_query("UPDATE curricula SET deleted_at = $2 WHERE id = $1")
            .bind::<SqlUuid, _>(id.as_uuid())
            .bind::<Timestamptz, _>(now)
            .execute(&mut connection)
            .await
            .unwrap_or_else(|e| panic!("delete_curriculum: {e}"));
    }

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
