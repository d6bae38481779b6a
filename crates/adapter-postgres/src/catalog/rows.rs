//! The catalog tables' rows as PostgreSQL reads them (native `uuid`, `timestamptz`), turned into
//! entities by the conversions shared with SQLite.

use crate::schema::{catalog_items, catalog_payments, catalog_registrations};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::Bool;
use reserva_application::DependencyError;
use reserva_application::ports::catalog::ListedItem;
use reserva_domain::catalog::{CatalogItem, Registration};
use reserva_domain::wallet::Payment;
use reserva_sql_support::catalog::{StoredItem, StoredPayment, StoredRegistration};
use uuid::Uuid;

/// The columns of [`ItemRow`], for raw SQL (`i` is the items table's alias).
pub(super) const ITEM_COLUMNS: &str = "i.id, i.kind, i.title, i.description, i.price, \
     i.starts_at, i.ends_at, i.category, i.skill_level, i.tutor_id, i.registration_count, \
     i.created_at, i.updated_at";

#[derive(Queryable, QueryableByName, Selectable)]
#[diesel(table_name = catalog_items, check_for_backend(diesel::pg::Pg))]
pub(super) struct ItemRow {
    id: Uuid,
    kind: String,
    title: String,
    description: Option<String>,
    price: i64,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    category: Option<String>,
    skill_level: Option<String>,
    tutor_id: Option<Uuid>,
    registration_count: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl ItemRow {
    pub(super) fn into_item(self) -> Result<CatalogItem, DependencyError> {
        StoredItem {
            id: self.id,
            kind: self.kind,
            title: self.title,
            description: self.description,
            price: self.price,
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            category: self.category,
            skill_level: self.skill_level,
            tutor_id: self.tutor_id,
            registration_count: self.registration_count,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
        .into_item()
    }
}

/// An item with its viewer's `is_registered`.
#[derive(QueryableByName)]
pub(super) struct ListedRow {
    #[diesel(embed)]
    item: ItemRow,
    #[diesel(sql_type = Bool)]
    is_registered: bool,
}

impl ListedRow {
    pub(super) fn into_listed(self) -> Result<ListedItem, DependencyError> {
        Ok(ListedItem {
            item: self.item.into_item()?,
            is_registered: self.is_registered,
        })
    }
}

#[derive(Queryable, QueryableByName, Selectable)]
#[diesel(table_name = catalog_payments, check_for_backend(diesel::pg::Pg))]
pub(super) struct PaymentRow {
    id: Uuid,
    user_id: Uuid,
    kind: String,
    item_id: Uuid,
    item_title: String,
    amount: i64,
    method: String,
    status: String,
    provider_reference: Option<String>,
    refund: String,
    created_at: DateTime<Utc>,
    paid_at: Option<DateTime<Utc>>,
    cancelled_at: Option<DateTime<Utc>>,
}

impl PaymentRow {
    pub(super) fn into_payment(self) -> Result<Payment, DependencyError> {
        StoredPayment {
            id: self.id,
            user_id: self.user_id,
            kind: self.kind,
            item_id: self.item_id,
            item_title: self.item_title,
            amount: self.amount,
            method: self.method,
            status: self.status,
            provider_reference: self.provider_reference,
            refund: self.refund,
            created_at: self.created_at,
            paid_at: self.paid_at,
            cancelled_at: self.cancelled_at,
        }
        .into_payment()
    }
}

#[derive(Queryable, QueryableByName, Selectable)]
#[diesel(table_name = catalog_registrations, check_for_backend(diesel::pg::Pg))]
pub(super) struct RegistrationRow {
    id: Uuid,
    payment_id: Uuid,
    user_id: Uuid,
    kind: String,
    item_id: Uuid,
    status: String,
    registered_at: DateTime<Utc>,
    completed_at: Option<DateTime<Utc>>,
    cancelled_at: Option<DateTime<Utc>>,
}

impl RegistrationRow {
    pub(super) fn into_registration(self) -> Result<Registration, DependencyError> {
        StoredRegistration {
            id: self.id,
            payment_id: self.payment_id,
            user_id: self.user_id,
            kind: self.kind,
            item_id: self.item_id,
            status: self.status,
            registered_at: self.registered_at,
            completed_at: self.completed_at,
            cancelled_at: self.cancelled_at,
        }
        .into_registration()
    }
}

/// Converts every row, failing on the first that does not convert.
pub(super) fn all<Row, Entity>(
    rows: Vec<Row>,
    convert: impl Fn(Row) -> Result<Entity, DependencyError>,
) -> Result<Vec<Entity>, DependencyError> {
    rows.into_iter().map(convert).collect()
}
