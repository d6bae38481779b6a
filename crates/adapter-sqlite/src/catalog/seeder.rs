//! Bulk loading for `reserva seed catalog`: multi-row inserts, each batch one `BEGIN IMMEDIATE`
//! transaction, and one recount at the end (which also merges the search index's segments, one
//! per batch, into one, and refreshes the planner's statistics). Seeded payments are rows only:
//! like PostgreSQL's, they post no ledger transfers (the seed is for the lists, not the ledger).

use super::items::course_columns;
use crate::schema::{catalog_items, catalog_payments, catalog_registrations, users};
use crate::{SqliteStore, micros, query_error};
use async_trait::async_trait;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use reserva_application::DependencyError;
use reserva_application::ports::catalog::{CatalogSeeder, NewItem, SeedRegistration, SeedUser};
use reserva_domain::accounts::Role;
use reserva_domain::catalog::RegistrationStatus;
use reserva_domain::wallet::{PaymentMethod, PaymentStatus, RefundState};

type SeedTx = reserva_sql_support::TxError<DependencyError>;

/// Rows per statement: SQLite binds at most 32,766 values in one statement, and the widest row
/// here has 12.
const CHUNK: usize = 2_000;

fn rows(count: usize) -> u64 {
    u64::try_from(count).unwrap_or(u64::MAX)
}

fn insert_items(connection: &mut SqliteConnection, items: &[NewItem]) -> QueryResult<usize> {
    let mut written = 0;
    for chunk in items.chunks(CHUNK) {
        let values: Vec<_> = chunk
            .iter()
            .map(|item| {
                let (category, skill_level, tutor_id) = course_columns(item.course);
                let now = micros(item.now);
                (
                    catalog_items::id.eq(item.id.as_uuid().to_string()),
                    catalog_items::kind.eq(item.kind.as_str()),
                    catalog_items::title.eq(item.title.as_str().to_owned()),
                    catalog_items::description
                        .eq(item.description.as_ref().map(|d| d.as_str().to_owned())),
                    catalog_items::price.eq(item.price.get()),
                    catalog_items::starts_at.eq(micros(item.schedule.starts_at())),
                    catalog_items::ends_at.eq(micros(item.schedule.ends_at())),
                    catalog_items::category.eq(category),
                    catalog_items::skill_level.eq(skill_level),
                    catalog_items::tutor_id.eq(tutor_id),
                    catalog_items::created_at.eq(now),
                    catalog_items::updated_at.eq(now),
                )
            })
            .collect();
        written += diesel::insert_into(catalog_items::table)
            .values(&values)
            .execute(connection)?;
    }
    Ok(written)
}

fn insert_users(connection: &mut SqliteConnection, seeded: &[SeedUser]) -> QueryResult<usize> {
    let mut written = 0;
    for chunk in seeded.chunks(CHUNK) {
        let values: Vec<_> = chunk
            .iter()
            .map(|user| {
                let now = micros(user.now);
                (
                    users::id.eq(user.id.as_uuid().to_string()),
                    users::email.eq(user.email.clone()),
                    users::username.eq(user.username.clone()),
                    users::password_hash.eq(user.password_hash.clone()),
                    users::role.eq(Role::Member.as_str()),
                    users::is_active.eq(true),
                    users::created_at.eq(now),
                    users::updated_at.eq(now),
                )
            })
            .collect();
        written += diesel::insert_into(users::table)
            .values(&values)
            .execute(connection)?;
    }
    Ok(written)
}

fn insert_registrations(
    connection: &mut SqliteConnection,
    seeded: &[SeedRegistration],
) -> QueryResult<usize> {
    let mut written = 0;
    for chunk in seeded.chunks(CHUNK) {
        let payments: Vec<_> = chunk
            .iter()
            .map(|seed| {
                let paid_at = micros(seed.paid_at);
                (
                    catalog_payments::id.eq(seed.payment_id.as_uuid().to_string()),
                    catalog_payments::user_id.eq(seed.user_id.as_uuid().to_string()),
                    catalog_payments::kind.eq(seed.kind.as_str()),
                    catalog_payments::item_id.eq(seed.item_id.as_uuid().to_string()),
                    catalog_payments::item_title.eq(seed.item_title.clone()),
                    catalog_payments::amount.eq(seed.amount.get()),
                    catalog_payments::method.eq(PaymentMethod::Card.as_str()),
                    catalog_payments::status.eq(PaymentStatus::Paid.as_str()),
                    catalog_payments::provider_reference.eq(Some("seed")),
                    catalog_payments::refund.eq(RefundState::NotDue.as_str()),
                    catalog_payments::created_at.eq(paid_at),
                    catalog_payments::paid_at.eq(Some(paid_at)),
                )
            })
            .collect();
        diesel::insert_into(catalog_payments::table)
            .values(&payments)
            .execute(connection)?;
        let registrations: Vec<_> = chunk
            .iter()
            .map(|seed| {
                (
                    catalog_registrations::id.eq(seed.registration_id.as_uuid().to_string()),
                    catalog_registrations::payment_id.eq(seed.payment_id.as_uuid().to_string()),
                    catalog_registrations::user_id.eq(seed.user_id.as_uuid().to_string()),
                    catalog_registrations::kind.eq(seed.kind.as_str()),
                    catalog_registrations::item_id.eq(seed.item_id.as_uuid().to_string()),
                    catalog_registrations::status
                        .eq(RegistrationStatus::initial(seed.kind).as_str()),
                    catalog_registrations::registered_at.eq(micros(seed.paid_at)),
                )
            })
            .collect();
        written += diesel::insert_into(catalog_registrations::table)
            .values(&registrations)
            .execute(connection)?;
    }
    Ok(written)
}

#[async_trait]
impl CatalogSeeder for SqliteStore {
    async fn insert_items(&self, items: &[NewItem]) -> Result<u64, DependencyError> {
        let items = items.to_vec();
        self.write(move |connection| insert_items(connection, &items).map_err(SeedTx::Query))
            .await
            .map(rows)
            .map_err(|error: SeedTx| error.into_refusal(query_error))
    }

    async fn insert_users(&self, users: &[SeedUser]) -> Result<u64, DependencyError> {
        let users = users.to_vec();
        self.write(move |connection| insert_users(connection, &users).map_err(SeedTx::Query))
            .await
            .map(rows)
            .map_err(|error: SeedTx| error.into_refusal(query_error))
    }

    async fn insert_registrations(
        &self,
        registrations: &[SeedRegistration],
    ) -> Result<u64, DependencyError> {
        let registrations = registrations.to_vec();
        self.write(move |connection| {
            insert_registrations(connection, &registrations).map_err(SeedTx::Query)
        })
        .await
        .map(rows)
        .map_err(|error: SeedTx| error.into_refusal(query_error))
    }

    /// Nothing is set aside: SQLite's single writer inserts into its indexes as it goes, which
    /// is the embedded default's load (not the one the one-minute target is for).
    async fn defer_item_indexes(&self) -> Result<u64, DependencyError> {
        Ok(0)
    }

    /// Nothing is ever set aside (see [`Self::defer_item_indexes`]).
    async fn deferred_item_indexes(&self) -> Result<Vec<String>, DependencyError> {
        Ok(Vec::new())
    }

    /// Nothing was set aside (see [`Self::defer_item_indexes`]).
    async fn build_item_indexes(&self) -> Result<u64, DependencyError> {
        Ok(0)
    }

    async fn recount(&self) -> Result<(), DependencyError> {
        self.write(move |connection| {
            connection
                .batch_execute(
                    "UPDATE catalog_items SET registration_count = \
                         (SELECT count(*) FROM catalog_registrations r \
                          WHERE r.item_id = catalog_items.id AND r.status <> 'cancelled'); \
                     INSERT INTO catalog_items_search (catalog_items_search) VALUES ('optimize'); \
                     ANALYZE;",
                )
                .map_err(SeedTx::Query)
        })
        .await
        .map_err(|error: SeedTx| error.into_refusal(query_error))
    }
}
