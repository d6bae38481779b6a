//! Checkout payments on SQLite (`order_payments`): every write is one `BEGIN IMMEDIATE`
//! transaction, so no other writer runs between reading a payment and its order and writing
//! what `reserva_sql_support::checkout` decides (the payment, the order, the access grants or
//! revocations of [`super::access`], the ledger postings of the wallet module's [`post`]). The
//! partial unique indexes `order_payments_one_ready` and `order_payments_one_paid` are the
//! backstops of "one ready, one paid per order".

use super::access::{grant_order_access, revoke_order_access};
use super::{corrupt, stored_instant, stored_uuid};
use crate::micros;
use crate::wallet::{Posting, post};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::result::Error as QueryError;
use diesel::sql_types::{BigInt, Bool, Integer, Nullable, Text};
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

#[derive(QueryableByName)]
pub(super) struct CheckoutRow {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Text)]
    order_id: String,
    #[diesel(sql_type = Text)]
    user_id: String,
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
    #[diesel(sql_type = BigInt)]
    created_at: i64,
    #[diesel(sql_type = BigInt)]
    expires_at: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    paid_at: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    refunded_at: Option<i64>,
}

impl CheckoutRow {
    fn into_record(self) -> Result<CheckoutRecord, QueryError> {
        StoredCheckout {
            id: stored_uuid(&self.id)?,
            order_id: stored_uuid(&self.order_id)?,
            user_id: stored_uuid(&self.user_id)?,
            method: self.method,
            amount: self.amount,
            status: self.status,
            provider_reference: self.provider_reference,
            approval_url: self.approval_url,
            refund: self.refund,
            callback_result: self.callback_result,
            created_at: stored_instant(self.created_at)?,
            expires_at: stored_instant(self.expires_at)?,
            paid_at: self.paid_at.map(stored_instant).transpose()?,
            refunded_at: self.refunded_at.map(stored_instant).transpose()?,
        }
        .into_record()
        .map_err(corrupt)
    }
}

/// The columns of [`CheckoutRow`].
const CHECKOUT_COLUMNS: &str = "id, order_id, user_id, method, amount, status, \
     provider_reference, approval_url, refund, callback_result, created_at, expires_at, paid_at, \
     refunded_at";

#[derive(QueryableByName)]
struct OrderRow {
    #[diesel(sql_type = Text)]
    user_id: String,
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = BigInt)]
    total: i64,
}

#[derive(QueryableByName)]
struct IdRow {
    #[diesel(sql_type = Text)]
    id: String,
}

#[derive(QueryableByName)]
struct TitleRow {
    #[diesel(sql_type = Text)]
    title: String,
}

#[derive(QueryableByName)]
struct DueRow {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Text)]
    order_id: String,
    #[diesel(sql_type = BigInt)]
    amount: i64,
}

fn dependency<E: From<DependencyError>>(error: DependencyError) -> TxError<E> {
    TxError::Refused(E::from(error))
}

fn payment(
    connection: &mut SqliteConnection,
    id: CheckoutId,
) -> Result<Option<CheckoutRecord>, QueryError> {
    let row: Option<CheckoutRow> = diesel::sql_query(format!(
        "SELECT {CHECKOUT_COLUMNS} FROM order_payments WHERE id = ?1"
    ))
    .bind::<Text, _>(id.as_uuid().to_string())
    .get_result(connection)
    .optional()?;
    row.map(CheckoutRow::into_record).transpose()
}

fn order(
    connection: &mut SqliteConnection,
    id: OrderId,
) -> Result<Option<OrderForCheckout>, QueryError> {
    let row: Option<OrderRow> =
        diesel::sql_query("SELECT user_id, status, total FROM orders WHERE id = ?1")
            .bind::<Text, _>(id.as_uuid().to_string())
            .get_result(connection)
            .optional()?;
    row.map(|row| {
        Ok(OrderForCheckout {
            user_id: stored_uuid(&row.user_id)?,
            status: row.status,
            total: row.total,
        })
    })
    .transpose()
}

/// Posts `movement` at `now`; a transfer already posted means the rows contradict the ledger.
fn post_movement<E: From<DependencyError>>(
    connection: &mut SqliteConnection,
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
        now: micros(now),
    };
    match post(connection, &posting)? {
        Ok(_) => Ok(()),
        Err(refusal) => Err(dependency(DependencyError::Failed(format!(
            "commerce: the {} transfer of checkout {} was refused: {refusal:?}",
            movement.kind.as_str(),
            movement.reference
        )))),
    }
}

/// Opens a checkout (see `CheckoutRepository::open`), inside the write transaction.
pub(super) fn open(
    connection: &mut SqliteConnection,
    checkout: &OpenCheckout,
) -> Result<OpenedCheckout, TxError<OpenCheckoutError>> {
    let found = order(connection, checkout.order_id)?;
    let amount = check_open(found.as_ref(), checkout.user_id).map_err(TxError::Refused)?;
    let user = checkout.user_id.as_uuid().to_string();
    let order_id = checkout.order_id.as_uuid().to_string();
    let now = micros(checkout.now);
    let copied = match checkout.billing_address_id {
        Some(address) => {
            let found: Option<IdRow> = diesel::sql_query(
                "SELECT id FROM billing_addresses WHERE id = ?1 AND user_id = ?2",
            )
            .bind::<Text, _>(address.to_string())
            .bind::<Text, _>(&user)
            .get_result(connection)
            .optional()?;
            let found = found.ok_or(TxError::Refused(OpenCheckoutError::UnknownBillingAddress))?;
            Some(found.id)
        }
        None => {
            let default: Option<IdRow> = diesel::sql_query(
                "SELECT id FROM billing_addresses WHERE user_id = ?1 AND is_default",
            )
            .bind::<Text, _>(&user)
            .get_result(connection)
            .optional()?;
            default.map(|row| row.id)
        }
    };
    let superseded: Vec<IdRow> = diesel::sql_query(
        "UPDATE order_payments SET status = 'superseded', updated_at = ?2
         WHERE order_id = ?1 AND status = 'ready' RETURNING id",
    )
    .bind::<Text, _>(&order_id)
    .bind::<BigInt, _>(now)
    .load(connection)?;
    // the address's columns are copied in the insert itself (none: all four null)
    diesel::sql_query(
        "INSERT INTO order_payments (id, order_id, user_id, method, amount, status,
                                     billing_country, billing_main_address,
                                     billing_detail_address, billing_postal_code,
                                     created_at, expires_at, updated_at)
         SELECT ?1, ?2, ?3, ?4, ?5, 'ready', a.country, a.main_address, a.detail_address,
                a.postal_code, ?7, ?8, ?7
         FROM (SELECT 1) one
         LEFT JOIN billing_addresses a ON a.id = ?6 AND a.user_id = ?3",
    )
    .bind::<Text, _>(checkout.id.as_uuid().to_string())
    .bind::<Text, _>(&order_id)
    .bind::<Text, _>(&user)
    .bind::<Text, _>(checkout.method.as_str())
    .bind::<BigInt, _>(amount.get())
    .bind::<Nullable<Text>, _>(copied)
    .bind::<BigInt, _>(now)
    .bind::<BigInt, _>(micros(checkout.expires_at))
    .execute(connection)?;
    let titles: Vec<TitleRow> =
        diesel::sql_query("SELECT title FROM order_items WHERE order_id = ?1 ORDER BY position")
            .bind::<Text, _>(&order_id)
            .load(connection)?;
    let superseded = superseded
        .into_iter()
        .next()
        .map(|row| stored_uuid(&row.id).map(CheckoutId::from_uuid))
        .transpose()?;
    Ok(OpenedCheckout {
        amount,
        item_titles: titles.into_iter().map(|row| row.title).collect(),
        superseded,
    })
}

/// Stores the provider's reference and approval address of a ready payment.
pub(super) fn attach(
    connection: &mut SqliteConnection,
    id: CheckoutId,
    reference: &str,
    approval_url: &str,
    now: DateTime<Utc>,
) -> Result<bool, QueryError> {
    let attached = diesel::sql_query(
        "UPDATE order_payments
         SET provider_reference = coalesce(provider_reference, ?2), approval_url = ?3,
             updated_at = ?4
         WHERE id = ?1 AND status = 'ready'",
    )
    .bind::<Text, _>(id.as_uuid().to_string())
    .bind::<Text, _>(reference)
    .bind::<Text, _>(approval_url)
    .bind::<BigInt, _>(micros(now))
    .execute(connection)?;
    Ok(attached == 1)
}

/// A payment still ready whose provider refused the ready becomes failed.
pub(super) fn fail_open(
    connection: &mut SqliteConnection,
    id: CheckoutId,
    now: DateTime<Utc>,
) -> Result<(), QueryError> {
    diesel::sql_query(
        "UPDATE order_payments SET status = 'failed', updated_at = ?2
         WHERE id = ?1 AND status = 'ready'",
    )
    .bind::<Text, _>(id.as_uuid().to_string())
    .bind::<BigInt, _>(micros(now))
    .execute(connection)?;
    Ok(())
}

/// Applies a verified callback (see `CheckoutRepository::apply_callback`), inside the write
/// transaction.
pub(super) fn apply_callback(
    connection: &mut SqliteConnection,
    callback: &ApplyCallback,
) -> Result<CallbackOutcome, TxError<ApplyCallbackError>> {
    let record =
        payment(connection, callback.id)?.ok_or(TxError::Refused(ApplyCallbackError::NotFound))?;
    let found = order(connection, record.order_id)?.ok_or_else(|| {
        dependency::<ApplyCallbackError>(DependencyError::Failed(
            "commerce: a payment without its order".into(),
        ))
    })?;
    let plan = plan_callback(&record, &found.status, callback.result).map_err(dependency)?;
    if !plan.writes() {
        return Ok(plan.outcome(&record));
    }
    let now = micros(callback.now);
    let order_id = record.order_id.as_uuid().to_string();
    diesel::sql_query(
        "UPDATE order_payments
         SET status = ?2, refund = ?3, callback_result = ?4,
             provider_reference = coalesce(provider_reference, ?5),
             paid_at = CASE WHEN ?6 THEN ?7 ELSE paid_at END, updated_at = ?7
         WHERE id = ?1",
    )
    .bind::<Text, _>(record.id.as_uuid().to_string())
    .bind::<Text, _>(plan.status.as_str())
    .bind::<Text, _>(plan.refund.as_str())
    .bind::<Text, _>(plan.recorded.as_str())
    .bind::<Nullable<Text>, _>(callback.reference.as_deref())
    .bind::<Bool, _>(plan.pays)
    .bind::<BigInt, _>(now)
    .execute(connection)?;
    match plan.order {
        Some(OrderChange::Paid) => {
            diesel::sql_query(
                "UPDATE orders SET status = 'paid', paid_at = ?2, updated_at = ?2
                 WHERE id = ?1 AND status = 'pending'",
            )
            .bind::<Text, _>(&order_id)
            .bind::<BigInt, _>(now)
            .execute(connection)?;
        }
        Some(OrderChange::Cancelled) => {
            diesel::sql_query(
                "UPDATE orders SET status = 'cancelled', cancelled_at = ?2, updated_at = ?2
                 WHERE id = ?1 AND status = 'pending'",
            )
            .bind::<Text, _>(&order_id)
            .bind::<BigInt, _>(now)
            .execute(connection)?;
        }
        None => {}
    }
    if plan.grant {
        grant_order_access(connection, record.order_id, callback.now)?;
    }
    for movement in &plan.movements {
        post_movement(connection, *movement, callback.now)?;
    }
    Ok(plan.outcome(&record))
}

/// Begins a refund (see `CheckoutRepository::begin_refund`), inside the write transaction.
pub(super) fn begin_refund(
    connection: &mut SqliteConnection,
    order_id: OrderId,
    user: UserId,
    now: DateTime<Utc>,
) -> Result<RefundDue, TxError<BeginRefundError>> {
    let order_text = order_id.as_uuid().to_string();
    let row: Option<CheckoutRow> = diesel::sql_query(format!(
        "SELECT {CHECKOUT_COLUMNS} FROM order_payments
         WHERE order_id = ?1 AND status IN ('paid', 'refunded')"
    ))
    .bind::<Text, _>(&order_text)
    .get_result(connection)
    .optional()?;
    let paid = row.map(CheckoutRow::into_record).transpose()?;
    let found = order(connection, order_id)?;
    let movement = check_refund(
        paid.as_ref(),
        found
            .as_ref()
            .map(|order| (order.user_id, order.status.as_str())),
        user,
        now,
    )
    .map_err(TxError::Refused)?;
    let Some(paid) = paid else {
        return Err(dependency(DependencyError::Failed(
            "commerce: a refund without its payment".into(),
        )));
    };
    let at = micros(now);
    diesel::sql_query(
        "UPDATE order_payments
         SET status = 'refunded', refunded_at = ?2, refund = 'pending', updated_at = ?2
         WHERE id = ?1",
    )
    .bind::<Text, _>(paid.id.as_uuid().to_string())
    .bind::<BigInt, _>(at)
    .execute(connection)?;
    diesel::sql_query(
        "UPDATE orders SET status = 'refunded', refunded_at = ?2, updated_at = ?2 WHERE id = ?1",
    )
    .bind::<Text, _>(&order_text)
    .bind::<BigInt, _>(at)
    .execute(connection)?;
    revoke_order_access(connection, order_id, now)?;
    if let Some(movement) = movement {
        post_movement(connection, movement, now)?;
    }
    Ok(RefundDue {
        checkout_id: paid.id,
        order_id,
        amount: paid.amount,
    })
}

/// Refund pending → done.
pub(super) fn finish_refund(
    connection: &mut SqliteConnection,
    id: CheckoutId,
    now: DateTime<Utc>,
) -> Result<(), QueryError> {
    diesel::sql_query(
        "UPDATE order_payments SET refund = 'done', updated_at = ?2
         WHERE id = ?1 AND refund = 'pending'",
    )
    .bind::<Text, _>(id.as_uuid().to_string())
    .bind::<BigInt, _>(micros(now))
    .execute(connection)?;
    Ok(())
}

/// Pending refunds due at `now`, the longest waiting first (the index
/// `order_payments_refund_idx`).
pub(super) fn due_refunds(
    connection: &mut SqliteConnection,
    now: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<RefundDue>, QueryError> {
    let rows: Vec<DueRow> = diesel::sql_query(
        "SELECT id, order_id, amount FROM order_payments
         WHERE refund = 'pending' AND coalesce(retry_at, updated_at) <= ?1
         ORDER BY coalesce(retry_at, updated_at), id LIMIT ?2",
    )
    .bind::<BigInt, _>(micros(now))
    .bind::<BigInt, _>(i64::from(limit))
    .load(connection)?;
    rows.into_iter()
        .map(|row| {
            Ok(RefundDue {
                checkout_id: CheckoutId::from_uuid(stored_uuid(&row.id)?),
                order_id: OrderId::from_uuid(stored_uuid(&row.order_id)?),
                amount: Money::new(row.amount).map_err(|_| {
                    corrupt(DependencyError::Failed(
                        "stored checkout row has an invalid amount".into(),
                    ))
                })?,
            })
        })
        .collect()
}

/// Ready payments past their expiry and retry time (a retry is only ever set after the expiry),
/// the oldest first (the index `order_payments_expiry_idx`).
pub(super) fn overdue_ready(
    connection: &mut SqliteConnection,
    now: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<CheckoutId>, QueryError> {
    let rows: Vec<IdRow> = diesel::sql_query(
        "SELECT id FROM order_payments
         WHERE status = 'ready' AND coalesce(retry_at, expires_at) <= ?1
         ORDER BY coalesce(retry_at, expires_at), id LIMIT ?2",
    )
    .bind::<BigInt, _>(micros(now))
    .bind::<BigInt, _>(i64::from(limit))
    .load(connection)?;
    rows.into_iter()
        .map(|row| stored_uuid(&row.id).map(CheckoutId::from_uuid))
        .collect()
}

#[derive(diesel::QueryableByName)]
struct AttemptsRow {
    #[diesel(sql_type = Integer)]
    attempts: i32,
}

/// Puts off the next provider call of a payment (see `CheckoutRepository::retry_later`),
/// inside the write transaction.
pub(super) fn retry_later(
    connection: &mut SqliteConnection,
    id: CheckoutId,
    now: DateTime<Utc>,
) -> Result<u32, QueryError> {
    let id = id.as_uuid().to_string();
    let row: Option<AttemptsRow> =
        diesel::sql_query("SELECT attempts FROM order_payments WHERE id = ?1")
            .bind::<Text, _>(&id)
            .get_result(connection)
            .optional()?;
    let Some(row) = row else { return Ok(0) };
    let made = u32::try_from(row.attempts).unwrap_or(0);
    diesel::sql_query("UPDATE order_payments SET attempts = ?2, retry_at = ?3 WHERE id = ?1")
        .bind::<Text, _>(&id)
        .bind::<Integer, _>(row.attempts.saturating_add(1))
        .bind::<BigInt, _>(micros(now + retry_delay(made)))
        .execute(connection)?;
    Ok(made.saturating_add(1))
}

/// Expires the payment if it is still ready and overdue at `now`.
pub(super) fn expire_ready(
    connection: &mut SqliteConnection,
    id: CheckoutId,
    now: DateTime<Utc>,
) -> Result<bool, QueryError> {
    let expired = diesel::sql_query(
        "UPDATE order_payments SET status = 'expired', updated_at = ?2
         WHERE id = ?1 AND status = 'ready' AND expires_at <= ?2",
    )
    .bind::<Text, _>(id.as_uuid().to_string())
    .bind::<BigInt, _>(micros(now))
    .execute(connection)?;
    Ok(expired == 1)
}

/// One payment, whoever's.
pub(super) fn one(
    connection: &mut SqliteConnection,
    id: CheckoutId,
) -> Result<Option<CheckoutRecord>, QueryError> {
    payment(connection, id)
}
