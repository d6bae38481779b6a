//! Billing addresses on PostgreSQL. Every write is one transaction under the user's lock
//! ([`lock_user`], the one their cart and order writes take): the count under the cap, "the
//! first address is the default", clearing the previous default before another becomes it, and
//! promoting the newest remaining address when the default is deleted all run with no other
//! write of that user in between. `billing_addresses_one_default` is the backstop of "at most
//! one default".

use super::lock_user;
use crate::{PostgresStore, query_error, write_outcome_error};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::result::{DatabaseErrorKind, Error as QueryError};
use diesel::sql_types::{BigInt, Bool, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
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
use uuid::Uuid;

#[derive(diesel::QueryableByName)]
struct AddressRow {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    user_id: Uuid,
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
    #[diesel(sql_type = Timestamptz)]
    created_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    updated_at: DateTime<Utc>,
}

impl AddressRow {
    fn into_address(self) -> BillingAddress {
        StoredBillingAddress {
            id: self.id,
            user_id: self.user_id,
            country: self.country,
            main_address: self.main_address,
            detail_address: self.detail_address,
            postal_code: self.postal_code,
            is_default: self.is_default,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
        .into_address()
    }
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    value: i64,
}

#[derive(diesel::QueryableByName)]
struct Remaining {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = Timestamptz)]
    created_at: DateTime<Utc>,
}

#[derive(diesel::QueryableByName)]
struct Deleted {
    #[diesel(sql_type = Bool)]
    is_default: bool,
}

/// Whether `error` is a second default of one user (the lock makes it unreachable).
fn is_second_default(error: &QueryError) -> bool {
    matches!(
        error,
        QueryError::DatabaseError(DatabaseErrorKind::UniqueViolation, info)
            if info.constraint_name() == Some("billing_addresses_one_default")
    )
}

/// A database error of a write: a second default (which a retry resolves) or the usual outcome.
fn write_error(error: QueryError) -> DependencyError {
    if is_second_default(&error) {
        DependencyError::Unavailable("commerce: a concurrent default address of one user".into())
    } else {
        write_outcome_error(error)
    }
}

fn missing_user<E: From<DependencyError>>() -> TxError<E> {
    TxError::Refused(E::from(DependencyError::Failed(
        "commerce: the address's user does not exist".into(),
    )))
}

/// Clears the user's default, except on `keep`.
async fn clear_default(
    connection: &mut AsyncPgConnection,
    user: UserId,
    keep: Uuid,
    now: DateTime<Utc>,
) -> Result<(), QueryError> {
    crate::prepared::sql_query(
        "UPDATE billing_addresses SET is_default = false, updated_at = $3
         WHERE user_id = $1 AND is_default AND id <> $2",
    )
    .bind::<SqlUuid, _>(user.as_uuid())
    .bind::<SqlUuid, _>(keep)
    .bind::<Timestamptz, _>(now)
    .execute(connection)
    .await?;
    Ok(())
}

async fn create_locked(
    connection: &mut AsyncPgConnection,
    new: &NewBillingAddress,
) -> Result<BillingAddress, TxError<CreateBillingAddressError>> {
    if !lock_user(connection, new.user_id).await? {
        return Err(missing_user());
    }
    let held: Count = crate::prepared::sql_query(
        "SELECT count(*) AS value FROM billing_addresses WHERE user_id = $1",
    )
    .bind::<SqlUuid, _>(new.user_id.as_uuid())
    .get_result(connection)
    .await?;
    let held = u32::try_from(held.value).unwrap_or(u32::MAX);
    if held >= new.limit {
        return Err(TxError::Refused(CreateBillingAddressError::TooMany));
    }
    let is_default = new_address_is_default(new.is_default, held);
    if is_default {
        clear_default(connection, new.user_id, new.id.as_uuid(), new.now).await?;
    }
    let row: AddressRow = crate::prepared::sql_query(format!(
        "INSERT INTO billing_addresses (id, user_id, country, main_address, detail_address,
                                        postal_code, is_default, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING {BILLING_ADDRESS_COLUMNS}"
    ))
    .bind::<SqlUuid, _>(new.id.as_uuid())
    .bind::<SqlUuid, _>(new.user_id.as_uuid())
    .bind::<Text, _>(new.fields.country.as_str())
    .bind::<Text, _>(new.fields.main_address.as_str())
    .bind::<Text, _>(new.fields.detail_address.as_str())
    .bind::<Text, _>(new.fields.postal_code.as_str())
    .bind::<Bool, _>(is_default)
    .bind::<Timestamptz, _>(new.now)
    .get_result(connection)
    .await?;
    Ok(row.into_address())
}

async fn one(
    connection: &mut AsyncPgConnection,
    user: UserId,
    id: Uuid,
) -> Result<Option<AddressRow>, QueryError> {
    let mut rows: Vec<AddressRow> = crate::prepared::sql_query(format!(
        "SELECT {BILLING_ADDRESS_COLUMNS} FROM billing_addresses WHERE id = $1 AND user_id = $2"
    ))
    .bind::<SqlUuid, _>(id)
    .bind::<SqlUuid, _>(user.as_uuid())
    .load(connection)
    .await?;
    Ok(rows.pop())
}

async fn update_locked(
    connection: &mut AsyncPgConnection,
    user: UserId,
    id: BillingAddressId,
    changes: &BillingAddressChanges,
) -> Result<BillingAddress, TxError<UpdateBillingAddressError>> {
    if !lock_user(connection, user).await? {
        return Err(TxError::Refused(UpdateBillingAddressError::NotFound));
    }
    let stored = one(connection, user, id.as_uuid())
        .await?
        .ok_or(TxError::Refused(UpdateBillingAddressError::NotFound))?;
    let edit = default_edit(stored.is_default, changes.is_default)
        .map_err(|_| TxError::Refused(UpdateBillingAddressError::DefaultRequired))?;
    if edit == DefaultEdit::MakeDefault {
        clear_default(connection, user, id.as_uuid(), changes.now).await?;
    }
    let row: AddressRow = crate::prepared::sql_query(format!(
        "UPDATE billing_addresses
         SET country = coalesce($3, country), main_address = coalesce($4, main_address),
             detail_address = coalesce($5, detail_address),
             postal_code = coalesce($6, postal_code), is_default = is_default OR $7,
             updated_at = $8
         WHERE id = $1 AND user_id = $2 RETURNING {BILLING_ADDRESS_COLUMNS}"
    ))
    .bind::<SqlUuid, _>(id.as_uuid())
    .bind::<SqlUuid, _>(user.as_uuid())
    .bind::<Nullable<Text>, _>(changes.country.as_ref().map(|text| text.as_str()))
    .bind::<Nullable<Text>, _>(changes.main_address.as_ref().map(|text| text.as_str()))
    .bind::<Nullable<Text>, _>(changes.detail_address.as_ref().map(|text| text.as_str()))
    .bind::<Nullable<Text>, _>(changes.postal_code.as_ref().map(|text| text.as_str()))
    .bind::<Bool, _>(edit == DefaultEdit::MakeDefault)
    .bind::<Timestamptz, _>(changes.now)
    .get_result(connection)
    .await?;
    Ok(row.into_address())
}

async fn delete_locked(
    connection: &mut AsyncPgConnection,
    user: UserId,
    id: BillingAddressId,
    now: DateTime<Utc>,
) -> Result<bool, TxError<DependencyError>> {
    if !lock_user(connection, user).await? {
        return Ok(false);
    }
    let mut deleted: Vec<Deleted> = crate::prepared::sql_query(
        "DELETE FROM billing_addresses WHERE id = $1 AND user_id = $2 RETURNING is_default",
    )
    .bind::<SqlUuid, _>(id.as_uuid())
    .bind::<SqlUuid, _>(user.as_uuid())
    .load(connection)
    .await?;
    let Some(deleted) = deleted.pop() else {
        return Ok(false);
    };
    if deleted.is_default {
        let remaining: Vec<Remaining> = crate::prepared::sql_query(
            "SELECT id, created_at FROM billing_addresses WHERE user_id = $1",
        )
        .bind::<SqlUuid, _>(user.as_uuid())
        .load(connection)
        .await?;
        let remaining: Vec<_> = remaining
            .into_iter()
            .map(|row| (row.created_at, row.id))
            .collect();
        if let Some(next) = default_successor(&remaining) {
            crate::prepared::sql_query(
                "UPDATE billing_addresses SET is_default = true, updated_at = $2 WHERE id = $1",
            )
            .bind::<SqlUuid, _>(next)
            .bind::<Timestamptz, _>(now)
            .execute(connection)
            .await?;
        }
    }
    Ok(true)
}

#[async_trait]
impl BillingAddressRepository for PostgresStore {
    async fn create_billing_address(
        &self,
        address: NewBillingAddress,
    ) -> Result<BillingAddress, CreateBillingAddressError> {
        let mut pooled = self.connection().await?;
        let connection: &mut AsyncPgConnection = &mut pooled;
        connection
            .transaction(async |connection| create_locked(connection, &address).await)
            .await
            .map_err(|error| {
                error
                    .into_refusal(|error| CreateBillingAddressError::Dependency(write_error(error)))
            })
    }

    async fn billing_addresses(
        &self,
        query: BillingAddressQuery,
    ) -> Result<Vec<BillingAddress>, DependencyError> {
        let mut connection = self.connection().await?;
        let rows: Vec<AddressRow> = crate::prepared::sql_query(format!(
            "SELECT {BILLING_ADDRESS_COLUMNS} FROM billing_addresses
             WHERE user_id = $1 AND ($2::timestamptz IS NULL OR (created_at, id) < ($2, $3))
             ORDER BY created_at DESC, id DESC LIMIT $4"
        ))
        .bind::<SqlUuid, _>(query.user_id.as_uuid())
        .bind::<Nullable<Timestamptz>, _>(query.after.map(|cursor| cursor.created_at))
        .bind::<Nullable<SqlUuid>, _>(query.after.map(|cursor| cursor.id.as_uuid()))
        .bind::<BigInt, _>(i64::from(query.limit.get()) + 1)
        .load(&mut connection)
        .await
        .map_err(query_error)?;
        Ok(rows.into_iter().map(AddressRow::into_address).collect())
    }

    async fn billing_address(
        &self,
        user: UserId,
        id: BillingAddressId,
    ) -> Result<Option<BillingAddress>, DependencyError> {
        let mut connection = self.connection().await?;
        Ok(one(&mut connection, user, id.as_uuid())
            .await
            .map_err(query_error)?
            .map(AddressRow::into_address))
    }

    async fn update_billing_address(
        &self,
        user: UserId,
        id: BillingAddressId,
        changes: BillingAddressChanges,
    ) -> Result<BillingAddress, UpdateBillingAddressError> {
        let mut pooled = self.connection().await?;
        let connection: &mut AsyncPgConnection = &mut pooled;
        connection
            .transaction(async |connection| update_locked(connection, user, id, &changes).await)
            .await
            .map_err(|error| {
                error
                    .into_refusal(|error| UpdateBillingAddressError::Dependency(write_error(error)))
            })
    }

    async fn delete_billing_address(
        &self,
        user: UserId,
        id: BillingAddressId,
        now: DateTime<Utc>,
    ) -> Result<bool, DependencyError> {
        let mut pooled = self.connection().await?;
        let connection: &mut AsyncPgConnection = &mut pooled;
        connection
            .transaction(async |connection| delete_locked(connection, user, id, now).await)
            .await
            .map_err(|error| error.into_refusal(write_error))
    }

    async fn checkout_billing_address(
        &self,
        user: UserId,
        named: Option<BillingAddressId>,
    ) -> Result<Option<BillingAddress>, DependencyError> {
        let mut connection = self.connection().await?;
        let mut rows: Vec<AddressRow> = crate::prepared::sql_query(format!(
            "SELECT {BILLING_ADDRESS_COLUMNS} FROM billing_addresses
             WHERE user_id = $1 AND (CASE WHEN $2::uuid IS NULL THEN is_default ELSE id = $2 END)"
        ))
        .bind::<SqlUuid, _>(user.as_uuid())
        .bind::<Nullable<SqlUuid>, _>(named.map(|id| id.as_uuid()))
        .load(&mut connection)
        .await
        .map_err(query_error)?;
        Ok(rows.pop().map(AddressRow::into_address))
    }
}
