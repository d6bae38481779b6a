//! Checkout payments on PostgreSQL (`order_payments`): one transaction per method. Whatever
//! touches a payment and its order locks the payment row first (`FOR UPDATE`), then the order
//! row (`FOR NO KEY UPDATE`, so the foreign-key checks of the grants it writes never wait on
//! it). An open has no payment yet: it locks the order's ready payment (if any), then the order,
//! then supersedes whatever is ready under the order's lock; should a callback of a payment
//! opened meanwhile still cross it, PostgreSQL breaks the deadlock and the transaction is run
//! again (at most three times). The partial unique indexes `order_payments_one_ready` and
//! `order_payments_one_paid` are the backstops of "one ready, one paid per order".
//!
//! The decisions are `reserva_sql_support::checkout`'s, the ledger postings the wallet module's
//! [`post`], the access grants and revocations [`super::access`]'s.

use super::access::{grant_order_access, revoke_order_access};
use crate::wallet::posting::{Posting, post};
use crate::{query_error, write_outcome_error};
use chrono::{DateTime, Utc};
use diesel::OptionalExtension;
use diesel::result::{DatabaseErrorKind, Error as QueryError};
use diesel::sql_types::{BigInt, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use reserva_application::DependencyError;
use reserva_application::ports::commerce::checkout::{
    ApplyCallback, ApplyCallbackError, BeginRefundError, CallbackOutcome, CheckoutRecord,
    OpenCheckout, OpenCheckoutError, OpenedCheckout, RefundDue,
};
use reserva_domain::accounts::UserId;
use reserva_domain::commerce::{CheckoutId, OrderId, retry_delay};
use reserva_domain::wallet::Money;
use reserva_sql_support::TxError;
use reserva_sql_support::checkout::{
    Movement, OrderChange, OrderForCheckout, StoredCheckout, check_open, check_refund,
    plan_callback,
};
use uuid::Uuid;

#[derive(diesel::QueryableByName)]
pub(super) struct CheckoutRow {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    order_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    user_id: Uuid,
    #[diesel(sql_type = Text)]
    method: String,
    #[diesel(sql_type = BigInt)]
    amount: i64,
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = Nullable<Text>)]
    provider_reference: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    approval_url: Option<String>,
    #[diesel(sql_type = Text)]
    refund: String,
    #[diesel(sql_type = Nullable<Text>)]
    callback_result: Option<String>,
    #[diesel(sql_type = Timestamptz)]
    created_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    expires_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    paid_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    refunded_at: Option<DateTime<Utc>>,
}

impl CheckoutRow {
    pub(super) fn into_record(self) -> Result<CheckoutRecord, DependencyError> {
        StoredCheckout {
            id: self.id,
            order_id: self.order_id,
            user_id: self.user_id,
            method: self.method,
            amount: self.amount,
            status: self.status,
            provider_reference: self.provider_reference,
            approval_url: self.approval_url,
            refund: self.refund,
            callback_result: self.callback_result,
            created_at: self.created_at,
            expires_at: self.expires_at,
            paid_at: self.paid_at,
            refunded_at: self.refunded_at,
        }
        .into_record()
    }
}

/// The columns of [`CheckoutRow`].
pub(super) const CHECKOUT_COLUMNS: &str = "id, order_id, user_id, method, amount, status, \
     provider_reference, approval_url, refund, callback_result, created_at, expires_at, paid_at, \
     refunded_at";

#[derive(diesel::QueryableByName)]
struct OrderRow {
    #[diesel(sql_type = SqlUuid)]
    user_id: Uuid,
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = BigInt)]
    total: i64,
}

#[derive(diesel::QueryableByName)]
struct IdRow {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
}

/// The columns of a billing address a checkout copies.
#[derive(diesel::QueryableByName)]
struct AddressRow {
    #[diesel(sql_type = Text)]
    country: String,
    #[diesel(sql_type = Text)]
    main_address: String,
    #[diesel(sql_type = Text)]
    detail_address: String,
    #[diesel(sql_type = Text)]
    postal_code: String,
}

const ADDRESS_COLUMNS: &str = "country, main_address, detail_address, postal_code";

#[derive(diesel::QueryableByName)]
struct TitleRow {
    #[diesel(sql_type = Text)]
    title: String,
}

#[derive(diesel::QueryableByName)]
struct DueRow {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    order_id: Uuid,
    #[diesel(sql_type = BigInt)]
    amount: i64,
}

fn dependency<E: From<DependencyError>>(error: DependencyError) -> TxError<E> {
    TxError::Refused(E::from(error))
}

/// Whether a transaction lost a race PostgreSQL resolves by aborting it (then it runs again).
fn worth_retrying<E>(error: &TxError<E>) -> bool {
    match error {
        TxError::Query(QueryError::DatabaseError(DatabaseErrorKind::SerializationFailure, _)) => {
            true
        }
        TxError::Query(QueryError::DatabaseError(_, info)) => {
            info.message().contains("deadlock detected")
        }
        TxError::Query(_) | TxError::Refused(_) => false,
    }
}

/// Runs `$call` (on the connection `$c`) in a transaction, again (at most three times) when
/// PostgreSQL aborted it to break a deadlock; the last error is classified by `$classify`.
macro_rules! retrying {
    ($connection:expr, $classify:expr, |$c:ident| $call:expr) => {{
        let mut attempts = 0;
        loop {
            let result = $connection.transaction(async |$c| $call.await).await;
            match result {
                Ok(value) => break Ok(value),
                Err(error) if attempts < 3 && worth_retrying(&error) => attempts += 1,
                Err(error) => break Err(error.into_refusal($classify)),
            }
        }
    }};
}

/// The payment `id`, locked.
async fn lock_payment(
    connection: &mut AsyncPgConnection,
    id: CheckoutId,
) -> Result<Option<CheckoutRecord>, QueryError> {
    let row: Option<CheckoutRow> = crate::prepared::sql_query(format!(
        "SELECT {CHECKOUT_COLUMNS} FROM order_payments WHERE id = $1 FOR UPDATE"
    ))
    .bind::<SqlUuid, _>(id.as_uuid())
    .get_result(connection)
    .await
    .optional()?;
    row.map(CheckoutRow::into_record)
        .transpose()
        .map_err(super::corrupt)
}

/// The order `id`, locked (after its payment).
async fn lock_order(
    connection: &mut AsyncPgConnection,
    id: OrderId,
) -> Result<Option<OrderForCheckout>, QueryError> {
    let row: Option<OrderRow> = crate::prepared::sql_query(
        "SELECT user_id, status, total FROM orders WHERE id = $1 FOR NO KEY UPDATE",
    )
    .bind::<SqlUuid, _>(id.as_uuid())
    .get_result(connection)
    .await
    .optional()?;
    Ok(row.map(|row| OrderForCheckout {
        user_id: row.user_id,
        status: row.status,
        total: row.total,
    }))
}

/// Posts `movement` at `now`; a transfer already posted means the rows contradict the ledger.
async fn post_movement<E: From<DependencyError>>(
    connection: &mut AsyncPgConnection,
    movement: Movement,
    now: DateTime<Utc>,
) -> Result<(), TxError<E>> {
    let posting = Posting {
        id: movement.id,
        kind: movement.kind,
        from: movement.from,
        to: movement.to,
        amount: movement.amount,
        user: movement.user,
        reference: Some(movement.reference),
        limit: None,
        now,
    };
    match post(connection, &posting).await? {
        Ok(_) => Ok(()),
        Err(refusal) => Err(dependency(DependencyError::Failed(format!(
            "commerce: the {} transfer of checkout {} was refused: {refusal:?}",
            movement.kind.as_str(),
            movement.reference
        )))),
    }
}

async fn open_in(
    connection: &mut AsyncPgConnection,
    checkout: &OpenCheckout,
) -> Result<OpenedCheckout, TxError<OpenCheckoutError>> {
    // payment before order, as everywhere: the ready one there is now
    crate::prepared::sql_query(
        "SELECT id FROM order_payments WHERE order_id = $1 AND status = 'ready' FOR UPDATE",
    )
    .bind::<SqlUuid, _>(checkout.order_id.as_uuid())
    .execute(connection)
    .await?;
    let order = lock_order(connection, checkout.order_id).await?;
    let amount = check_open(order.as_ref(), checkout.user_id).map_err(TxError::Refused)?;
    let user = checkout.user_id.as_uuid();
    // the address's columns are read here and bound into the insert: one read, so an address
    // deleted meanwhile is either copied whole or refused, never copied as nothing
    let copied: Option<AddressRow> = match checkout.billing_address_id {
        Some(address) => {
            let found: Option<AddressRow> = crate::prepared::sql_query(format!(
                "SELECT {ADDRESS_COLUMNS} FROM billing_addresses WHERE id = $1 AND user_id = $2"
            ))
            .bind::<SqlUuid, _>(address)
            .bind::<SqlUuid, _>(user)
            .get_result(connection)
            .await
            .optional()?;
            Some(found.ok_or(TxError::Refused(OpenCheckoutError::UnknownBillingAddress))?)
        }
        None => crate::prepared::sql_query(format!(
            "SELECT {ADDRESS_COLUMNS} FROM billing_addresses WHERE user_id = $1 AND is_default"
        ))
        .bind::<SqlUuid, _>(user)
        .get_result(connection)
        .await
        .optional()?,
    };
    let superseded: Vec<IdRow> = crate::prepared::sql_query(
        "UPDATE order_payments SET status = 'superseded', updated_at = $2
         WHERE order_id = $1 AND status = 'ready' RETURNING id",
    )
    .bind::<SqlUuid, _>(checkout.order_id.as_uuid())
    .bind::<Timestamptz, _>(checkout.now)
    .load(connection)
    .await?;
    crate::prepared::sql_query(
        "INSERT INTO order_payments (id, order_id, user_id, method, amount, status,
                                     billing_country, billing_main_address,
                                     billing_detail_address, billing_postal_code,
                                     created_at, expires_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, 'ready', $6, $7, $8, $9, $10, $11, $10)",
    )
    .bind::<SqlUuid, _>(checkout.id.as_uuid())
    .bind::<SqlUuid, _>(checkout.order_id.as_uuid())
    .bind::<SqlUuid, _>(user)
    .bind::<Text, _>(checkout.method.as_str())
    .bind::<BigInt, _>(amount.get())
    .bind::<Nullable<Text>, _>(copied.as_ref().map(|a| a.country.as_str()))
    .bind::<Nullable<Text>, _>(copied.as_ref().map(|a| a.main_address.as_str()))
    .bind::<Nullable<Text>, _>(copied.as_ref().map(|a| a.detail_address.as_str()))
    .bind::<Nullable<Text>, _>(copied.as_ref().map(|a| a.postal_code.as_str()))
    .bind::<Timestamptz, _>(checkout.now)
    .bind::<Timestamptz, _>(checkout.expires_at)
    .execute(connection)
    .await?;
    let titles: Vec<TitleRow> = crate::prepared::sql_query(
        "SELECT title FROM order_items WHERE order_id = $1 ORDER BY position",
    )
    .bind::<SqlUuid, _>(checkout.order_id.as_uuid())
    .load(connection)
    .await?;
    Ok(OpenedCheckout {
        amount,
        item_titles: titles.into_iter().map(|row| row.title).collect(),
        superseded: superseded
            .into_iter()
            .next()
            .map(|row| CheckoutId::from_uuid(row.id)),
    })
}

/// Opens a checkout (see `CheckoutRepository::open`).
pub(super) async fn open(
    connection: &mut AsyncPgConnection,
    checkout: &OpenCheckout,
) -> Result<OpenedCheckout, OpenCheckoutError> {
    retrying!(connection, open_error, |connection| open_in(
        connection, checkout
    ))
}

fn open_error(error: QueryError) -> OpenCheckoutError {
    {
        {
            let ready_taken = matches!(
                &error,
                QueryError::DatabaseError(DatabaseErrorKind::UniqueViolation, info)
                    if info.constraint_name() == Some("order_payments_one_ready")
            );
            if ready_taken {
                // The locks make this unreachable; should it happen, a retry succeeds.
                OpenCheckoutError::Dependency(DependencyError::Unavailable(
                    "commerce: a concurrent checkout of the same order".into(),
                ))
            } else {
                OpenCheckoutError::Dependency(write_outcome_error(error))
            }
        }
    }
}

/// Stores the provider's reference and approval address of a ready payment.
pub(super) async fn attach(
    connection: &mut AsyncPgConnection,
    id: CheckoutId,
    reference: &str,
    approval_url: &str,
    now: DateTime<Utc>,
) -> Result<bool, DependencyError> {
    let attached = crate::prepared::sql_query(
        "UPDATE order_payments
         SET provider_reference = coalesce(provider_reference, $2), approval_url = $3,
             updated_at = $4
         WHERE id = $1 AND status = 'ready'",
    )
    .bind::<SqlUuid, _>(id.as_uuid())
    .bind::<Text, _>(reference)
    .bind::<Text, _>(approval_url)
    .bind::<Timestamptz, _>(now)
    .execute(connection)
    .await
    .map_err(write_outcome_error)?;
    Ok(attached == 1)
}

/// A payment still ready whose provider refused the ready becomes failed.
pub(super) async fn fail_open(
    connection: &mut AsyncPgConnection,
    id: CheckoutId,
    now: DateTime<Utc>,
) -> Result<(), DependencyError> {
    crate::prepared::sql_query(
        "UPDATE order_payments SET status = 'failed', updated_at = $2
         WHERE id = $1 AND status = 'ready'",
    )
    .bind::<SqlUuid, _>(id.as_uuid())
    .bind::<Timestamptz, _>(now)
    .execute(connection)
    .await
    .map_err(write_outcome_error)?;
    Ok(())
}

async fn apply_in(
    connection: &mut AsyncPgConnection,
    callback: &ApplyCallback,
) -> Result<CallbackOutcome, TxError<ApplyCallbackError>> {
    let record = lock_payment(connection, callback.id)
        .await?
        .ok_or(TxError::Refused(ApplyCallbackError::NotFound))?;
    let order = lock_order(connection, record.order_id)
        .await?
        .ok_or_else(|| {
            dependency::<ApplyCallbackError>(DependencyError::Failed(
                "commerce: a payment without its order".into(),
            ))
        })?;
    let plan = plan_callback(&record, &order.status, callback.result).map_err(dependency)?;
    if !plan.writes() {
        return Ok(plan.outcome(&record));
    }
    let now = callback.now;
    crate::prepared::sql_query(
        "UPDATE order_payments
         SET status = $2, refund = $3, callback_result = $4,
             provider_reference = coalesce(provider_reference, $5),
             paid_at = CASE WHEN $6 THEN $7 ELSE paid_at END, updated_at = $7
         WHERE id = $1",
    )
    .bind::<SqlUuid, _>(record.id.as_uuid())
    .bind::<Text, _>(plan.status.as_str())
    .bind::<Text, _>(plan.refund.as_str())
    .bind::<Text, _>(plan.recorded.as_str())
    .bind::<Nullable<Text>, _>(callback.reference.as_deref())
    .bind::<diesel::sql_types::Bool, _>(plan.pays)
    .bind::<Timestamptz, _>(now)
    .execute(connection)
    .await?;
    match plan.order {
        Some(OrderChange::Paid) => {
            crate::prepared::sql_query(
                "UPDATE orders SET status = 'paid', paid_at = $2, updated_at = $2
                 WHERE id = $1 AND status = 'pending'",
            )
            .bind::<SqlUuid, _>(record.order_id.as_uuid())
            .bind::<Timestamptz, _>(now)
            .execute(connection)
            .await?;
        }
        Some(OrderChange::Cancelled) => {
            crate::prepared::sql_query(
                "UPDATE orders SET status = 'cancelled', cancelled_at = $2, updated_at = $2
                 WHERE id = $1 AND status = 'pending'",
            )
            .bind::<SqlUuid, _>(record.order_id.as_uuid())
            .bind::<Timestamptz, _>(now)
            .execute(connection)
            .await?;
        }
        None => {}
    }
    if plan.grant {
        grant_order_access(connection, record.order_id, now).await?;
    }
    for movement in &plan.movements {
        post_movement(connection, *movement, now).await?;
    }
    Ok(plan.outcome(&record))
}

/// Applies a verified callback (see `CheckoutRepository::apply_callback`).
pub(super) async fn apply_callback(
    connection: &mut AsyncPgConnection,
    callback: &ApplyCallback,
) -> Result<CallbackOutcome, ApplyCallbackError> {
    retrying!(
        connection,
        |error| ApplyCallbackError::Dependency(write_outcome_error(error)),
        |connection| apply_in(connection, callback)
    )
}

/// The order's paid (or refunded) payment, locked.
async fn lock_paid_payment(
    connection: &mut AsyncPgConnection,
    order_id: OrderId,
) -> Result<Option<CheckoutRecord>, TxError<BeginRefundError>> {
    let row: Option<CheckoutRow> = crate::prepared::sql_query(format!(
        "SELECT {CHECKOUT_COLUMNS} FROM order_payments
         WHERE order_id = $1 AND status IN ('paid', 'refunded') FOR UPDATE"
    ))
    .bind::<SqlUuid, _>(order_id.as_uuid())
    .get_result(connection)
    .await
    .optional()?;
    row.map(CheckoutRow::into_record)
        .transpose()
        .map_err(dependency)
}

async fn refund_in(
    connection: &mut AsyncPgConnection,
    order_id: OrderId,
    user: UserId,
    now: DateTime<Utc>,
) -> Result<RefundDue, TxError<BeginRefundError>> {
    // the order's one paid (or refunded) payment first, then the order
    let mut payment = lock_paid_payment(connection, order_id).await?;
    let order = lock_order(connection, order_id).await?;
    if payment.is_none() && order.as_ref().is_some_and(|order| order.status == "paid") {
        // The order was paid while this waited for its lock: the payment read before the wait
        // was still ready. Read again (a new statement sees the committed payment); a replayed
        // callback locking them the other way round is a deadlock PostgreSQL breaks, and the
        // transaction runs again.
        payment = lock_paid_payment(connection, order_id).await?;
    }
    let movement = check_refund(
        payment.as_ref(),
        order
            .as_ref()
            .map(|order| (order.user_id, order.status.as_str())),
        user,
        now,
    )
    .map_err(TxError::Refused)?;
    let Some(payment) = payment else {
        return Err(dependency(DependencyError::Failed(
            "commerce: a refund without its payment".into(),
        )));
    };
    crate::prepared::sql_query(
        "UPDATE order_payments
         SET status = 'refunded', refunded_at = $2, refund = 'pending', updated_at = $2
         WHERE id = $1",
    )
    .bind::<SqlUuid, _>(payment.id.as_uuid())
    .bind::<Timestamptz, _>(now)
    .execute(connection)
    .await?;
    crate::prepared::sql_query(
        "UPDATE orders SET status = 'refunded', refunded_at = $2, updated_at = $2 WHERE id = $1",
    )
    .bind::<SqlUuid, _>(order_id.as_uuid())
    .bind::<Timestamptz, _>(now)
    .execute(connection)
    .await?;
    revoke_order_access(connection, order_id, now).await?;
    if let Some(movement) = movement {
        post_movement(connection, movement, now).await?;
    }
    Ok(RefundDue {
        checkout_id: payment.id,
        order_id,
        amount: payment.amount,
    })
}

/// Begins a refund (see `CheckoutRepository::begin_refund`).
pub(super) async fn begin_refund(
    connection: &mut AsyncPgConnection,
    order_id: OrderId,
    user: UserId,
    now: DateTime<Utc>,
) -> Result<RefundDue, BeginRefundError> {
    retrying!(
        connection,
        |error| BeginRefundError::Dependency(write_outcome_error(error)),
        |connection| refund_in(connection, order_id, user, now)
    )
}

/// Refund pending → done.
pub(super) async fn finish_refund(
    connection: &mut AsyncPgConnection,
    id: CheckoutId,
    now: DateTime<Utc>,
) -> Result<(), DependencyError> {
    crate::prepared::sql_query(
        "UPDATE order_payments SET refund = 'done', updated_at = $2
         WHERE id = $1 AND refund = 'pending'",
    )
    .bind::<SqlUuid, _>(id.as_uuid())
    .bind::<Timestamptz, _>(now)
    .execute(connection)
    .await
    .map_err(write_outcome_error)?;
    Ok(())
}

/// Pending refunds due at `now`, the longest waiting first (the index
/// `order_payments_refund_idx`).
pub(super) async fn due_refunds(
    connection: &mut AsyncPgConnection,
    now: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<RefundDue>, DependencyError> {
    let rows: Vec<DueRow> = crate::prepared::sql_query(
        "SELECT id, order_id, amount FROM order_payments
         WHERE refund = 'pending' AND coalesce(retry_at, updated_at) <= $1
         ORDER BY coalesce(retry_at, updated_at), id LIMIT $2",
    )
    .bind::<Timestamptz, _>(now)
    .bind::<BigInt, _>(i64::from(limit))
    .load(connection)
    .await
    .map_err(query_error)?;
    rows.into_iter()
        .map(|row| {
            Ok(RefundDue {
                checkout_id: CheckoutId::from_uuid(row.id),
                order_id: OrderId::from_uuid(row.order_id),
                amount: Money::new(row.amount).map_err(|_| {
                    DependencyError::Failed("stored checkout row has an invalid amount".into())
                })?,
            })
        })
        .collect()
}

/// Ready payments past their expiry and retry time (a retry is only ever set after the expiry),
/// the oldest first (the index `order_payments_expiry_idx`).
pub(super) async fn overdue_ready(
    connection: &mut AsyncPgConnection,
    now: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<CheckoutId>, DependencyError> {
    let rows: Vec<IdRow> = crate::prepared::sql_query(
        "SELECT id FROM order_payments
         WHERE status = 'ready' AND coalesce(retry_at, expires_at) <= $1
         ORDER BY coalesce(retry_at, expires_at), id LIMIT $2",
    )
    .bind::<Timestamptz, _>(now)
    .bind::<BigInt, _>(i64::from(limit))
    .load(connection)
    .await
    .map_err(query_error)?;
    Ok(rows
        .into_iter()
        .map(|row| CheckoutId::from_uuid(row.id))
        .collect())
}

#[derive(diesel::QueryableByName)]
struct AttemptsRow {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    attempts: i32,
}

/// Puts off the next provider call of a payment (see `CheckoutRepository::retry_later`).
pub(super) async fn retry_later(
    connection: &mut AsyncPgConnection,
    id: CheckoutId,
    now: DateTime<Utc>,
) -> Result<u32, DependencyError> {
    connection
        .transaction(async |connection| {
            let row: Option<AttemptsRow> = crate::prepared::sql_query(
                "SELECT attempts FROM order_payments WHERE id = $1 FOR NO KEY UPDATE",
            )
            .bind::<SqlUuid, _>(id.as_uuid())
            .get_result(connection)
            .await
            .optional()?;
            let Some(row) = row else { return Ok(0) };
            let made = u32::try_from(row.attempts).unwrap_or(0);
            crate::prepared::sql_query(
                "UPDATE order_payments SET attempts = $2, retry_at = $3 WHERE id = $1",
            )
            .bind::<SqlUuid, _>(id.as_uuid())
            .bind::<diesel::sql_types::Integer, _>(row.attempts.saturating_add(1))
            .bind::<Timestamptz, _>(now + retry_delay(made))
            .execute(connection)
            .await?;
            Ok::<_, QueryError>(made.saturating_add(1))
        })
        .await
        .map_err(write_outcome_error)
}

/// Expires the payment if it is still ready and overdue at `now` (one statement: its row lock
/// orders it with a callback of the same payment).
pub(super) async fn expire_ready(
    connection: &mut AsyncPgConnection,
    id: CheckoutId,
    now: DateTime<Utc>,
) -> Result<bool, DependencyError> {
    let expired = crate::prepared::sql_query(
        "UPDATE order_payments SET status = 'expired', updated_at = $2
         WHERE id = $1 AND status = 'ready' AND expires_at <= $2",
    )
    .bind::<SqlUuid, _>(id.as_uuid())
    .bind::<Timestamptz, _>(now)
    .execute(connection)
    .await
    .map_err(write_outcome_error)?;
    Ok(expired == 1)
}

/// One payment, whoever's.
pub(super) async fn one(
    connection: &mut AsyncPgConnection,
    id: CheckoutId,
) -> Result<Option<CheckoutRecord>, DependencyError> {
    let row: Option<CheckoutRow> = crate::prepared::sql_query(format!(
        "SELECT {CHECKOUT_COLUMNS} FROM order_payments WHERE id = $1"
    ))
    .bind::<SqlUuid, _>(id.as_uuid())
    .get_result(connection)
    .await
    .optional()
    .map_err(query_error)?;
    row.map(CheckoutRow::into_record).transpose()
}
