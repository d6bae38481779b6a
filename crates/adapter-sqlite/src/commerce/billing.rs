//! Billing addresses on SQLite. Every write is one `BEGIN IMMEDIATE` transaction, so no other
//! writer runs between the count under the cap (or the read of the default) and the write:
//! "the first address is the default", clearing the previous default before another becomes it,
//! and promoting the newest remaining address when the default is deleted hold under any burst.
//! `billing_addresses_one_default` is the backstop of "at most one default". Ids are UUID text,
//! instants microseconds.

use super::{stored_instant, stored_uuid};
use crate::{SqliteStore, micros, query_error};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::result::Error as QueryError;
use diesel::sql_types::{BigInt, Bool, Nullable, Text};
use reserva_application::DependencyError;
use reserva_application::ports::commerce::billing::{
    BillingAddressChanges, BillingAddressQuery, BillingAddressRepository,
    CreateBillingAddressError, NewBillingAddress, UpdateBillingAddressError,
};
use reserva_domain::accounts::UserId;
use reserva_domain::commerce::billing::{
    BillingAddress, BillingAddressId, DefaultEdit, default_edit, new_address_is_default,
};
use reserva_sql_support::TxError;
use reserva_sql_support::billing::{
    BILLING_ADDRESS_COLUMNS, StoredBillingAddress, default_successor,
};

#[derive(QueryableByName)]
struct AddressRow {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Text)]
    user_id: String,
    #[diesel(sql_type = Text)]
    country: String,
    #[diesel(sql_type = Text)]
    main_address: String,
    #[diesel(sql_type = Text)]
    detail_address: String,
    #[diesel(sql_type = Text)]
    postal_code: String,
    #[diesel(sql_type = Bool)]
    is_default: bool,
    #[diesel(sql_type = BigInt)]
    created_at: i64,
    #[diesel(sql_type = BigInt)]
    updated_at: i64,
}

impl AddressRow {
    fn into_address(self) -> Result<BillingAddress, QueryError> {
        Ok(StoredBillingAddress {
            id: stored_uuid(&self.id)?,
            user_id: stored_uuid(&self.user_id)?,
            country: self.country,
            main_address: self.main_address,
            detail_address: self.detail_address,
            postal_code: self.postal_code,
            is_default: self.is_default,
            created_at: stored_instant(self.created_at)?,
            updated_at: stored_instant(self.updated_at)?,
        }
        .into_address())
    }
}

fn addresses(rows: Vec<AddressRow>) -> Result<Vec<BillingAddress>, QueryError> {
    rows.into_iter().map(AddressRow::into_address).collect()
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    value: i64,
}

#[derive(QueryableByName)]
struct Remaining {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = BigInt)]
    created_at: i64,
}

#[derive(QueryableByName)]
struct Deleted {
    #[diesel(sql_type = Bool)]
    is_default: bool,
}

/// Clears the user's default, except on `keep`.
fn clear_default(
    connection: &mut SqliteConnection,
    user: UserId,
    keep: BillingAddressId,
    now: DateTime<Utc>,
) -> Result<(), QueryError> {
    diesel::sql_query(
        "UPDATE billing_addresses SET is_default = 0, updated_at = ?3
         WHERE user_id = ?1 AND is_default AND id <> ?2",
    )
    .bind::<Text, _>(user.as_uuid().to_string())
    .bind::<Text, _>(keep.as_uuid().to_string())
    .bind::<BigInt, _>(micros(now))
    .execute(connection)?;
    Ok(())
}

fn one(
    connection: &mut SqliteConnection,
    user: UserId,
    id: BillingAddressId,
) -> Result<Option<AddressRow>, QueryError> {
    let mut rows: Vec<AddressRow> = diesel::sql_query(format!(
        "SELECT {BILLING_ADDRESS_COLUMNS} FROM billing_addresses WHERE id = ?1 AND user_id = ?2"
    ))
    .bind::<Text, _>(id.as_uuid().to_string())
    .bind::<Text, _>(user.as_uuid().to_string())
    .load(connection)?;
    Ok(rows.pop())
}

fn create(
    connection: &mut SqliteConnection,
    new: &NewBillingAddress,
) -> Result<BillingAddress, TxError<CreateBillingAddressError>> {
    let held: Count =
        diesel::sql_query("SELECT count(*) AS value FROM billing_addresses WHERE user_id = ?1")
            .bind::<Text, _>(new.user_id.as_uuid().to_string())
            .get_result(connection)?;
    let held = u32::try_from(held.value).unwrap_or(u32::MAX);
    if held >= new.limit {
        return Err(TxError::Refused(CreateBillingAddressError::TooMany));
    }
    let is_default = new_address_is_default(new.is_default, held);
    if is_default {
        clear_default(connection, new.user_id, new.id, new.now)?;
    }
    let row: AddressRow = diesel::sql_query(format!(
        "INSERT INTO billing_addresses (id, user_id, country, main_address, detail_address,
                                        postal_code, is_default, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8) RETURNING {BILLING_ADDRESS_COLUMNS}"
    ))
    .bind::<Text, _>(new.id.as_uuid().to_string())
    .bind::<Text, _>(new.user_id.as_uuid().to_string())
    .bind::<Text, _>(new.fields.country.as_str())
    .bind::<Text, _>(new.fields.main_address.as_str())
    .bind::<Text, _>(new.fields.detail_address.as_str())
    .bind::<Text, _>(new.fields.postal_code.as_str())
    .bind::<Bool, _>(is_default)
    .bind::<BigInt, _>(micros(new.now))
    .get_result(connection)?;
    Ok(row.into_address()?)
}

fn update(
    connection: &mut SqliteConnection,
    user: UserId,
    id: BillingAddressId,
    changes: &BillingAddressChanges,
) -> Result<BillingAddress, TxError<UpdateBillingAddressError>> {
    let stored =
        one(connection, user, id)?.ok_or(TxError::Refused(UpdateBillingAddressError::NotFound))?;
    let edit = default_edit(stored.is_default, changes.is_default)
        .map_err(|_| TxError::Refused(UpdateBillingAddressError::DefaultRequired))?;
    if edit == DefaultEdit::MakeDefault {
        clear_default(connection, user, id, changes.now)?;
    }
    let row: AddressRow = diesel::sql_query(format!(
        "UPDATE billing_addresses
         SET country = coalesce(?3, country), main_address = coalesce(?4, main_address),
             detail_address = coalesce(?5, detail_address),
             postal_code = coalesce(?6, postal_code), is_default = (is_default OR ?7),
             updated_at = ?8
         WHERE id = ?1 AND user_id = ?2 RETURNING {BILLING_ADDRESS_COLUMNS}"
    ))
    .bind::<Text, _>(id.as_uuid().to_string())
    .bind::<Text, _>(user.as_uuid().to_string())
    .bind::<Nullable<Text>, _>(changes.country.as_ref().map(|text| text.as_str()))
    .bind::<Nullable<Text>, _>(changes.main_address.as_ref().map(|text| text.as_str()))
    .bind::<Nullable<Text>, _>(changes.detail_address.as_ref().map(|text| text.as_str()))
    .bind::<Nullable<Text>, _>(changes.postal_code.as_ref().map(|text| text.as_str()))
    .bind::<Bool, _>(edit == DefaultEdit::MakeDefault)
    .bind::<BigInt, _>(micros(changes.now))
    .get_result(connection)?;
    Ok(row.into_address()?)
}

fn delete(
    connection: &mut SqliteConnection,
    user: UserId,
    id: BillingAddressId,
    now: DateTime<Utc>,
) -> Result<bool, QueryError> {
    let mut deleted: Vec<Deleted> = diesel::sql_query(
        "DELETE FROM billing_addresses WHERE id = ?1 AND user_id = ?2 RETURNING is_default",
    )
    .bind::<Text, _>(id.as_uuid().to_string())
    .bind::<Text, _>(user.as_uuid().to_string())
    .load(connection)?;
    let Some(deleted) = deleted.pop() else {
        return Ok(false);
    };
    if deleted.is_default {
        let remaining: Vec<Remaining> =
            diesel::sql_query("SELECT id, created_at FROM billing_addresses WHERE user_id = ?1")
                .bind::<Text, _>(user.as_uuid().to_string())
                .load(connection)?;
        let remaining = remaining
            .into_iter()
            .map(|row| Ok((stored_instant(row.created_at)?, stored_uuid(&row.id)?)))
            .collect::<Result<Vec<_>, QueryError>>()?;
        if let Some(next) = default_successor(&remaining) {
            diesel::sql_query(
                "UPDATE billing_addresses SET is_default = 1, updated_at = ?2 WHERE id = ?1",
            )
            .bind::<Text, _>(next.to_string())
            .bind::<BigInt, _>(micros(now))
            .execute(connection)?;
        }
    }
    Ok(true)
}

#[async_trait]
impl BillingAddressRepository for SqliteStore {
    async fn create_billing_address(
        &self,
        address: NewBillingAddress,
    ) -> Result<BillingAddress, CreateBillingAddressError> {
        self.write(move |connection| create(connection, &address))
            .await
            .map_err(|error: TxError<CreateBillingAddressError>| {
                error
                    .into_refusal(|error| CreateBillingAddressError::Dependency(query_error(error)))
            })
    }

    async fn billing_addresses(
        &self,
        query: BillingAddressQuery,
    ) -> Result<Vec<BillingAddress>, DependencyError> {
        self.read(move |connection| {
            let rows: Vec<AddressRow> = diesel::sql_query(format!(
                "SELECT {BILLING_ADDRESS_COLUMNS} FROM billing_addresses
                 WHERE user_id = ?1 AND (?2 IS NULL OR (created_at, id) < (?2, ?3))
                 ORDER BY created_at DESC, id DESC LIMIT ?4"
            ))
            .bind::<Text, _>(query.user_id.as_uuid().to_string())
            .bind::<Nullable<BigInt>, _>(query.after.map(|cursor| micros(cursor.created_at)))
            .bind::<Nullable<Text>, _>(query.after.map(|cursor| cursor.id.as_uuid().to_string()))
            .bind::<BigInt, _>(i64::from(query.limit.get()) + 1)
            .load(connection)?;
            addresses(rows)
        })
        .await
    }

    async fn billing_address(
        &self,
        user: UserId,
        id: BillingAddressId,
    ) -> Result<Option<BillingAddress>, DependencyError> {
        self.read(move |connection| {
            one(connection, user, id)?
                .map(AddressRow::into_address)
                .transpose()
        })
        .await
    }

    async fn update_billing_address(
        &self,
        user: UserId,
        id: BillingAddressId,
        changes: BillingAddressChanges,
    ) -> Result<BillingAddress, UpdateBillingAddressError> {
        self.write(move |connection| update(connection, user, id, &changes))
            .await
            .map_err(|error: TxError<UpdateBillingAddressError>| {
                error
                    .into_refusal(|error| UpdateBillingAddressError::Dependency(query_error(error)))
            })
    }

    async fn delete_billing_address(
        &self,
        user: UserId,
        id: BillingAddressId,
        now: DateTime<Utc>,
    ) -> Result<bool, DependencyError> {
        self.write(move |connection| {
            Ok::<_, TxError<DependencyError>>(delete(connection, user, id, now)?)
        })
        .await
        .map_err(|error| error.into_refusal(query_error))
    }

    async fn checkout_billing_address(
        &self,
        user: UserId,
        named: Option<BillingAddressId>,
    ) -> Result<Option<BillingAddress>, DependencyError> {
        self.read(move |connection| {
            let rows: Vec<AddressRow> = diesel::sql_query(format!(
                "SELECT {BILLING_ADDRESS_COLUMNS} FROM billing_addresses
                 WHERE user_id = ?1 AND (CASE WHEN ?2 IS NULL THEN is_default ELSE id = ?2 END)"
            ))
            .bind::<Text, _>(user.as_uuid().to_string())
            .bind::<Nullable<Text>, _>(named.map(|id| id.as_uuid().to_string()))
            .load(connection)?;
            Ok(addresses(rows)?.pop())
        })
        .await
    }
}
