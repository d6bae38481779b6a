//! `CatalogRepository`, `RegistrationRepository` and `CatalogSeeder` on SQLite.
//!
//! Every write is one `BEGIN IMMEDIATE` transaction, so no other writer runs between a check and
//! its write; the partial unique indexes (one pending or paid payment, one live registration per
//! user and item) and the table checks are the backstops, mapped to the port's refusals. Money
//! moves through the wallet's [`post`](crate::wallet::post) in the same transaction. Search is
//! the FTS5 table `catalog_items_search`, queried with each word quoted ([`search`]).

mod audit;
mod history;
mod items;
mod payments;
mod repository;
mod search;
pub(crate) use search::match_query;
mod seeder;

use crate::schema::{catalog_items, catalog_payments, catalog_registrations};
use crate::{instant, uuid};
use diesel::prelude::*;
use reserva_application::DependencyError;
use reserva_domain::catalog::{CatalogItem, Registration};
use reserva_domain::wallet::{Payment, PaymentId};
use reserva_sql_support::catalog::{StoredItem, StoredPayment, StoredRegistration};

fn corrupt(what: &str) -> DependencyError {
    DependencyError::Failed(format!("stored {what} is corrupt"))
}

/// A `catalog_items` row (without `seq` and `deleted_at`).
#[derive(Queryable, Selectable)]
#[diesel(table_name = catalog_items, check_for_backend(diesel::sqlite::Sqlite))]
struct ItemRow {
    id: String,
    kind: String,
    title: String,
    description: Option<String>,
    price: i64,
    starts_at: i64,
    ends_at: i64,
    category: Option<String>,
    skill_level: Option<String>,
    tutor_id: Option<String>,
    registration_count: i64,
    created_at: i64,
    updated_at: i64,
}

impl ItemRow {
    fn into_item(self) -> Result<CatalogItem, DependencyError> {
        StoredItem {
            id: uuid(&self.id)?,
            kind: self.kind,
            title: self.title,
            description: self.description,
            price: self.price,
            starts_at: instant(self.starts_at)?,
            ends_at: instant(self.ends_at)?,
            category: self.category,
            skill_level: self.skill_level,
            tutor_id: self.tutor_id.as_deref().map(uuid).transpose()?,
            registration_count: self.registration_count,
            created_at: instant(self.created_at)?,
            updated_at: instant(self.updated_at)?,
        }
        .into_item()
    }
}

/// A `catalog_payments` row.
#[derive(Queryable, Selectable)]
#[diesel(table_name = catalog_payments, check_for_backend(diesel::sqlite::Sqlite))]
struct PaymentRow {
    id: String,
    user_id: String,
    kind: String,
    item_id: String,
    item_title: String,
    amount: i64,
    method: String,
    status: String,
    provider_reference: Option<String>,
    refund: String,
    created_at: i64,
    paid_at: Option<i64>,
    cancelled_at: Option<i64>,
}

impl PaymentRow {
    fn into_payment(self) -> Result<Payment, DependencyError> {
        StoredPayment {
            id: uuid(&self.id)?,
            user_id: uuid(&self.user_id)?,
            kind: self.kind,
            item_id: uuid(&self.item_id)?,
            item_title: self.item_title,
            amount: self.amount,
            method: self.method,
            status: self.status,
            provider_reference: self.provider_reference,
            refund: self.refund,
            created_at: instant(self.created_at)?,
            paid_at: self.paid_at.map(instant).transpose()?,
            cancelled_at: self.cancelled_at.map(instant).transpose()?,
        }
        .into_payment()
    }
}

/// A `catalog_registrations` row.
#[derive(Queryable, Selectable)]
#[diesel(table_name = catalog_registrations, check_for_backend(diesel::sqlite::Sqlite))]
struct RegistrationRow {
    id: String,
    payment_id: String,
    user_id: String,
    kind: String,
    item_id: String,
    status: String,
    registered_at: i64,
    completed_at: Option<i64>,
    cancelled_at: Option<i64>,
}

impl RegistrationRow {
    fn into_registration(self) -> Result<Registration, DependencyError> {
        StoredRegistration {
            id: uuid(&self.id)?,
            payment_id: uuid(&self.payment_id)?,
            user_id: uuid(&self.user_id)?,
            kind: self.kind,
            item_id: uuid(&self.item_id)?,
            status: self.status,
            registered_at: instant(self.registered_at)?,
            completed_at: self.completed_at.map(instant).transpose()?,
            cancelled_at: self.cancelled_at.map(instant).transpose()?,
        }
        .into_registration()
    }
}

/// The payment with this id, as stored.
fn payment_row(
    connection: &mut SqliteConnection,
    id: PaymentId,
) -> QueryResult<Option<PaymentRow>> {
    catalog_payments::table
        .find(id.as_uuid().to_string())
        .select(PaymentRow::as_select())
        .first(connection)
        .optional()
}

/// The registration of a payment, if it was settled.
fn registration_of(
    connection: &mut SqliteConnection,
    payment: PaymentId,
) -> QueryResult<Option<RegistrationRow>> {
    catalog_registrations::table
        .filter(catalog_registrations::payment_id.eq(payment.as_uuid().to_string()))
        .select(RegistrationRow::as_select())
        .first(connection)
        .optional()
}

/// A payment and its registration as entities.
fn with_registration(
    payment: PaymentRow,
    registration: Option<RegistrationRow>,
) -> Result<(Payment, Option<Registration>), DependencyError> {
    Ok((
        payment.into_payment()?,
        registration
            .map(RegistrationRow::into_registration)
            .transpose()?,
    ))
}
