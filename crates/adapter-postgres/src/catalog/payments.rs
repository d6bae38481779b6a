//! Beginning, paying and settling a registration's payment. The item is checked in the insert
//! itself (`INSERT … SELECT … WHERE` it exists, is not deleted, is open and costs the amount),
//! and the user's one live place is the partial unique index `catalog_payments_one_live`, so of
//! racing applies exactly one inserts. Every write locks in one order — the payment row, the
//! registration, the wallet, then the item row (its count) — so applies, settles and cancels
//! queue instead of deadlocking, and the item's row, which all its buyers share, is held only
//! from the transaction's last statement to its commit.

use super::rows::{PaymentRow, RegistrationRow};
use crate::prepared::column;
use crate::wallet::posting::{PostRefusal, Posting, post, post_all_between_systems};
use crate::{query_error, write_outcome_error};
use chrono::{DateTime, Utc};
use diesel::OptionalExtension;
use diesel::pg::Pg;
use diesel::result::{DatabaseErrorKind, Error as QueryError};
use diesel::sql_types::{Array, BigInt, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use reserva_application::DependencyError;
use reserva_application::ports::catalog::{
    BeginPaymentError, Begun, PaymentIntent, SettleError, Settled,
};
use reserva_domain::catalog::{ItemId, ItemKind, Registration, RegistrationStatus};
use reserva_domain::wallet::{
    LedgerAccount, Money, Payment, PaymentId, PaymentMethod, PaymentStatus, RevenueStream,
    TransferId, TransferKind,
};
use reserva_sql_support::TxError;
use reserva_sql_support::catalog::{ItemTerms, check_existing, check_terms};
use std::collections::HashMap;
use uuid::Uuid;

/// How many times a payment whose item changed between its insert and the read of why the insert
/// did nothing is tried again (an edit made it refusable, then acceptable again).
const ATTEMPTS: usize = 3;

/// $1 id, $2 user, $3 kind, $4 item, $5 amount, $6 method, $7 status, $8 now, $9 paid at.
const INSERT_PAYMENT: &str = "\
INSERT INTO catalog_payments (id, user_id, kind, item_id, item_title, amount, method, status,
                              created_at, paid_at)
SELECT $1, $2, i.kind, i.id, i.title, $5, $6, $7, $8, $9
FROM catalog_items i
WHERE i.id = $4 AND i.kind = $3 AND i.deleted_at IS NULL
  AND i.starts_at <= $8 AND $8 <= i.ends_at AND i.price = $5
ON CONFLICT (id) DO NOTHING
RETURNING *";

#[derive(diesel::QueryableByName)]
struct TermsRow {
    #[diesel(sql_type = BigInt)]
    price: i64,
    #[diesel(sql_type = Timestamptz)]
    starts_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    ends_at: DateTime<Utc>,
}

/// Whether `error` is the user's one live place taken (by a payment or a registration).
pub(super) fn is_place_taken(error: &QueryError) -> bool {
    matches!(
        error,
        QueryError::DatabaseError(DatabaseErrorKind::UniqueViolation, info)
            if matches!(
                info.constraint_name(),
                Some("catalog_payments_one_live" | "catalog_registrations_one_live")
            )
    )
}

pub(super) fn corrupt(what: &str) -> DependencyError {
    DependencyError::Failed(format!("catalog: {what}"))
}

/// The transfer id of a payment's settlement (wallet or provider → revenue).
pub(super) fn payment_transfer(id: PaymentId) -> TransferId {
    TransferId::derive("catalog-payment", id.as_uuid(), "")
}

/// The transfer id of a payment's refund (revenue → wallet or provider).
pub(super) fn refund_transfer(id: PaymentId) -> TransferId {
    TransferId::derive("catalog-refund", id.as_uuid(), "")
}

/// Where a payment's money comes from: the wallet, or the gateway's provider of its method.
pub(super) const fn payer(payment: &Payment) -> LedgerAccount {
    match payment.method {
        PaymentMethod::Wallet => LedgerAccount::UserWallet(payment.user_id),
        method => LedgerAccount::Provider(method),
    }
}

/// The one row `sql` selects by the id `$1`, locked `FOR UPDATE` when `lock`, as an entity.
async fn one_row<R, T>(
    connection: &mut AsyncPgConnection,
    sql: &str,
    id: Uuid,
    lock: bool,
    into: fn(R) -> Result<T, DependencyError>,
) -> Result<Option<T>, QueryError>
where
    R: diesel::QueryableByName<Pg> + Send + 'static,
{
    let sql = if lock {
        format!("{sql} FOR UPDATE")
    } else {
        sql.to_owned()
    };
    let row: Option<R> = crate::prepared::sql_query(sql)
        .bind::<SqlUuid, _>(id)
        .get_result(connection)
        .await
        .optional()?;
    row.map(into)
        .transpose()
        .map_err(|error| QueryError::DeserializationError(error.to_string().into()))
}

/// A payment row, locked `FOR UPDATE` when `lock`.
pub(super) async fn find_payment(
    connection: &mut AsyncPgConnection,
    id: PaymentId,
    lock: bool,
) -> Result<Option<Payment>, QueryError> {
    let sql = "SELECT * FROM catalog_payments WHERE id = $1";
    one_row(
        connection,
        sql,
        id.as_uuid(),
        lock,
        PaymentRow::into_payment,
    )
    .await
}

/// A payment's registration, locked `FOR UPDATE` when `lock`.
pub(super) async fn registration_of(
    connection: &mut AsyncPgConnection,
    payment: PaymentId,
    lock: bool,
) -> Result<Option<Registration>, QueryError> {
    let sql = "SELECT * FROM catalog_registrations WHERE payment_id = $1";
    let into = RegistrationRow::into_registration;
    one_row(connection, sql, payment.as_uuid(), lock, into).await
}

async fn terms(
    connection: &mut AsyncPgConnection,
    kind: ItemKind,
    item: ItemId,
) -> Result<Option<ItemTerms>, QueryError> {
    let row: Option<TermsRow> = crate::prepared::sql_query(
        "SELECT price, starts_at, ends_at FROM catalog_items
         WHERE id = $1 AND kind = $2 AND deleted_at IS NULL",
    )
    .bind::<SqlUuid, _>(item.as_uuid())
    .bind::<Text, _>(kind.as_str())
    .get_result(connection)
    .await
    .optional()?;
    Ok(row.map(|row| ItemTerms {
        price: row.price,
        starts_at: row.starts_at,
        ends_at: row.ends_at,
    }))
}

async fn insert_payment(
    connection: &mut AsyncPgConnection,
    intent: &PaymentIntent,
    status: PaymentStatus,
) -> Result<Option<Payment>, QueryError> {
    let paid_at = (status == PaymentStatus::Paid).then_some(intent.now);
    let row: Option<PaymentRow> = crate::prepared::sql_query(INSERT_PAYMENT)
        .bind::<SqlUuid, _>(intent.payment_id.as_uuid())
        .bind::<SqlUuid, _>(intent.user_id.as_uuid())
        .bind::<Text, _>(intent.kind.as_str())
        .bind::<SqlUuid, _>(intent.item_id.as_uuid())
        .bind::<BigInt, _>(intent.amount.get())
        .bind::<Text, _>(intent.method.as_str())
        .bind::<Text, _>(status.as_str())
        .bind::<Timestamptz, _>(intent.now)
        .bind::<Nullable<Timestamptz>, _>(paid_at)
        .get_result(connection)
        .await
        .optional()?;
    row.map(PaymentRow::into_payment)
        .transpose()
        .map_err(|error| QueryError::DeserializationError(error.to_string().into()))
}

/// What an attempt that inserted nothing found: the same-id payment with its registration,
/// or (`None`) nothing that explains it (the item changed meanwhile): try again.
type Found = Option<(Payment, Option<Registration>)>;

/// Why the insert of `intent` did nothing (or hit the user's place, `place_taken`).
async fn explain(
    connection: &mut AsyncPgConnection,
    intent: &PaymentIntent,
    place_taken: bool,
) -> Result<Found, BeginPaymentError> {
    let classify = |error| BeginPaymentError::Dependency(query_error(error));
    if let Some(existing) = find_payment(connection, intent.payment_id, false)
        .await
        .map_err(classify)?
    {
        check_existing(&existing, intent)?;
        let registration = registration_of(connection, existing.id, false)
            .await
            .map_err(classify)?;
        return Ok(Some((existing, registration)));
    }
    if place_taken {
        return Err(BeginPaymentError::AlreadyRegistered);
    }
    let terms = terms(connection, intent.kind, intent.item_id)
        .await
        .map_err(classify)?;
    check_terms(terms, intent)?;
    Ok(None)
}

/// Why a batch of begins did not insert `intent` (see `begins`), in the single insert's order:
/// what holds its id (a retry, resumed when still pending), why its item refuses it, or its
/// place taken (`AlreadyRegistered`); the id and the place are read in one statement. `None`
/// when nothing explains it (the item or the place changed since the batch): begin it alone.
pub(super) async fn explain_unbatched(
    connection: &mut AsyncPgConnection,
    intent: &PaymentIntent,
) -> Result<Option<Begun>, BeginPaymentError> {
    let classify = |error| BeginPaymentError::Dependency(query_error(error));
    let rows: Vec<PaymentRow> = crate::prepared::sql_query(
        "SELECT * FROM catalog_payments
         WHERE id = $1 OR (user_id = $2 AND item_id = $3 AND status IN ('pending', 'paid'))",
    )
    .bind::<SqlUuid, _>(intent.payment_id.as_uuid())
    .bind::<SqlUuid, _>(intent.user_id.as_uuid())
    .bind::<SqlUuid, _>(intent.item_id.as_uuid())
    .load(connection)
    .await
    .map_err(classify)?;
    let found = rows
        .into_iter()
        .map(PaymentRow::into_payment)
        .collect::<Result<Vec<_>, _>>()
        .map_err(BeginPaymentError::Dependency)?;
    if let Some(existing) = found.iter().find(|p| p.id == intent.payment_id) {
        check_existing(existing, intent)?;
        if existing.status == PaymentStatus::Pending {
            return resume(connection, existing.clone(), intent.now)
                .await
                .map(Some);
        }
        let registration = registration_of(connection, existing.id, false)
            .await
            .map_err(classify)?;
        return Ok(Some(Begun::Existing(existing.clone(), registration)));
    }
    // The item's refusal first, as the single insert's `WHERE` comes before its conflict.
    let terms = terms(connection, intent.kind, intent.item_id)
        .await
        .map_err(classify)?;
    check_terms(terms, intent)?;
    if found.is_empty() {
        Ok(None)
    } else {
        Err(BeginPaymentError::AlreadyRegistered)
    }
}

/// A pending payment resumed by a retry: recorded again at the retry's instant (never earlier),
/// so the reconciler, which fails only what is old and unknown to the provider, leaves it to
/// the retry now charging it.
async fn resume(
    connection: &mut AsyncPgConnection,
    payment: Payment,
    now: DateTime<Utc>,
) -> Result<Begun, BeginPaymentError> {
    let row: Option<PaymentRow> = crate::prepared::sql_query(
        "UPDATE catalog_payments SET created_at = GREATEST(created_at, $2)
         WHERE id = $1 AND status = 'pending' RETURNING *",
    )
    .bind::<SqlUuid, _>(payment.id.as_uuid())
    .bind::<Timestamptz, _>(now)
    .get_result(connection)
    .await
    .optional()
    .map_err(|error| BeginPaymentError::Dependency(write_outcome_error(error)))?;
    let resumed = row
        .map(PaymentRow::into_payment)
        .transpose()
        .map_err(BeginPaymentError::Dependency)?;
    // Settled or failed meanwhile: as it stands now.
    let payment = match resumed {
        Some(payment) => payment,
        None => find_payment(connection, payment.id, false)
            .await
            .map_err(|error| BeginPaymentError::Dependency(query_error(error)))?
            .ok_or_else(|| BeginPaymentError::Dependency(corrupt("a payment vanished")))?,
    };
    let registration = registration_of(connection, payment.id, false)
        .await
        .map_err(|error| BeginPaymentError::Dependency(query_error(error)))?;
    Ok(Begun::Existing(payment, registration))
}

/// Records a pending gateway payment (see `RegistrationRepository::begin_payment`).
pub(super) async fn begin(
    connection: &mut AsyncPgConnection,
    intent: &PaymentIntent,
) -> Result<Begun, BeginPaymentError> {
    for _ in 0..ATTEMPTS {
        let place_taken = match insert_payment(connection, intent, PaymentStatus::Pending).await {
            Ok(Some(payment)) => return Ok(Begun::New(payment)),
            Ok(None) => false,
            Err(error) if is_place_taken(&error) => true,
            Err(error) => return Err(BeginPaymentError::Dependency(write_outcome_error(error))),
        };
        if let Some((payment, registration)) = explain(connection, intent, place_taken).await? {
            if payment.status == PaymentStatus::Pending {
                return resume(connection, payment, intent.now).await;
            }
            return Ok(Begun::Existing(payment, registration));
        }
    }
    Err(BeginPaymentError::Dependency(DependencyError::Unavailable(
        "catalog: the item kept changing during the payment".into(),
    )))
}

/// A pending payment (locked) to settle in a batch: the provider's reference and the instant.
pub(super) struct ToSettle<'a> {
    pub(super) payment: &'a Payment,
    pub(super) provider_reference: &'a str,
    pub(super) now: DateTime<Utc>,
}

/// Settles a batch of locked, pending gateway payments in three statements, not three per
/// payment: every payment marked paid, every registration, every transfer (provider → the
/// item's revenue) with its entries. The ids must be distinct. Everything but the counts, which
/// the caller adds last (see the lock order above), once per item for the whole batch.
pub(super) async fn settle_all_rows(
    connection: &mut AsyncPgConnection,
    batch: &[ToSettle<'_>],
) -> Result<Vec<Settled>, TxError<PostRefusal>> {
    if batch.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = column(batch, |s| s.payment.id.as_uuid());
    let paid: Vec<PaymentRow> = crate::prepared::sql_query(
        "UPDATE catalog_payments p
         SET status = 'paid', provider_reference = v.reference, paid_at = v.now
         FROM unnest($1::uuid[], $2::text[], $3::timestamptz[]) AS v (id, reference, now)
         WHERE p.id = v.id RETURNING p.*",
    )
    .bind::<Array<SqlUuid>, _>(&ids)
    .bind::<Array<Text>, _>(column(batch, |s| s.provider_reference))
    .bind::<Array<Timestamptz>, _>(column(batch, |s| s.now))
    .load(connection)
    .await?;
    let mut payments: HashMap<PaymentId, Payment> = HashMap::with_capacity(paid.len());
    for row in paid {
        let payment = row.into_payment().map_err(dependency)?;
        payments.insert(payment.id, payment);
    }
    let registrations: Vec<RegistrationRow> = crate::prepared::sql_query(
        "INSERT INTO catalog_registrations (id, payment_id, user_id, kind, item_id, status,
                                            registered_at)
         SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::uuid[],
                              $6::text[], $7::timestamptz[])
         RETURNING *",
    )
    .bind::<Array<SqlUuid>, _>(column(batch, |_| Uuid::now_v7()))
    .bind::<Array<SqlUuid>, _>(&ids)
    .bind::<Array<SqlUuid>, _>(column(batch, |s| s.payment.user_id.as_uuid()))
    .bind::<Array<Text>, _>(column(batch, |s| s.payment.kind.as_str()))
    .bind::<Array<SqlUuid>, _>(column(batch, |s| s.payment.item_id.as_uuid()))
    .bind::<Array<Text>, _>(column(batch, |s| {
        RegistrationStatus::initial(s.payment.kind).as_str()
    }))
    .bind::<Array<Timestamptz>, _>(column(batch, |s| s.now))
    .load(connection)
    .await?;
    let mut registered: HashMap<PaymentId, Registration> = HashMap::with_capacity(batch.len());
    for row in registrations {
        let registration = row.into_registration().map_err(dependency)?;
        registered.insert(registration.payment_id, registration);
    }
    let postings: Vec<Posting> = batch
        .iter()
        .filter(|s| s.payment.amount > Money::ZERO)
        .map(|s| Posting {
            id: payment_transfer(s.payment.id),
            kind: TransferKind::Payment,
            from: payer(s.payment),
            to: LedgerAccount::Revenue(RevenueStream::CatalogItem(s.payment.item_id)),
            amount: s.payment.amount,
            user: s.payment.user_id,
            reference: Some(s.payment.id.as_uuid()),
            limit: None,
            now: s.now,
        })
        .collect();
    post_all_between_systems(connection, &postings)
        .await?
        .map_err(TxError::Refused)?;
    batch
        .iter()
        .map(|s| {
            let id = s.payment.id;
            match (payments.remove(&id), registered.remove(&id)) {
                (Some(payment), Some(registration)) => Ok(Settled {
                    payment,
                    registration,
                }),
                _ => Err(TxError::Query(dependency(corrupt(
                    "a settled payment or its registration was not written",
                )))),
            }
        })
        .collect()
}

/// Registers the user for the paid `payment` and posts its transfer from `payer` to the item's
/// revenue (not the count, which the caller adds last).
async fn register_and_post(
    connection: &mut AsyncPgConnection,
    payment: Payment,
    now: DateTime<Utc>,
) -> Result<Settled, TxError<PostRefusal>> {
    let registration: RegistrationRow = crate::prepared::sql_query(
        "INSERT INTO catalog_registrations (id, payment_id, user_id, kind, item_id, status,
                                            registered_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *",
    )
    .bind::<SqlUuid, _>(Uuid::now_v7())
    .bind::<SqlUuid, _>(payment.id.as_uuid())
    .bind::<SqlUuid, _>(payment.user_id.as_uuid())
    .bind::<Text, _>(payment.kind.as_str())
    .bind::<SqlUuid, _>(payment.item_id.as_uuid())
    .bind::<Text, _>(RegistrationStatus::initial(payment.kind).as_str())
    .bind::<Timestamptz, _>(now)
    .get_result(connection)
    .await?;
    if payment.amount > Money::ZERO {
        let posting = Posting {
            id: payment_transfer(payment.id),
            kind: TransferKind::Payment,
            from: payer(&payment),
            to: LedgerAccount::Revenue(RevenueStream::CatalogItem(payment.item_id)),
            amount: payment.amount,
            user: payment.user_id,
            reference: Some(payment.id.as_uuid()),
            limit: None,
            now,
        };
        post(connection, &posting)
            .await?
            .map_err(TxError::Refused)?;
    }
    Ok(Settled {
        payment,
        registration: registration.into_registration().map_err(dependency)?,
    })
}

pub(super) fn dependency(error: DependencyError) -> QueryError {
    QueryError::DeserializationError(error.to_string().into())
}

/// Adds `delta` to the item's `registration_count` (locking its row).
pub(super) async fn count(
    connection: &mut AsyncPgConnection,
    item: ItemId,
    delta: i64,
) -> Result<(), QueryError> {
    crate::prepared::sql_query(
        "UPDATE catalog_items SET registration_count = registration_count + $2 WHERE id = $1",
    )
    .bind::<SqlUuid, _>(item.as_uuid())
    .bind::<BigInt, _>(delta)
    .execute(connection)
    .await?;
    Ok(())
}

async fn pay_locked(
    connection: &mut AsyncPgConnection,
    intent: &PaymentIntent,
) -> Result<Option<Settled>, TxError<BeginPaymentError>> {
    // Inserted paid at once, never updated in this transaction: an update of the row would add
    // an entry to the one-live index and wait there on a racing twin's speculative insert, which
    // itself waits on this transaction — a deadlock PostgreSQL breaks by failing one of them.
    let Some(payment) = insert_payment(connection, intent, PaymentStatus::Paid).await? else {
        return match explain(connection, intent, false)
            .await
            .map_err(TxError::Refused)?
        {
            Some((payment, Some(registration))) if payment.status.is_shown() => Ok(Some(Settled {
                payment,
                registration,
            })),
            Some(_) => Err(TxError::Refused(BeginPaymentError::Dependency(corrupt(
                "a wallet payment that is not settled",
            )))),
            None => Ok(None),
        };
    };
    match register_and_post(connection, payment, intent.now).await {
        Ok(settled) => {
            // The item's row last: all its buyers share it, so it stays locked only until commit.
            count(connection, settled.payment.item_id, 1).await?;
            Ok(Some(settled))
        }
        Err(TxError::Query(error)) => Err(TxError::Query(error)),
        Err(TxError::Refused(PostRefusal::Insufficient)) => {
            Err(TxError::Refused(BeginPaymentError::InsufficientBalance))
        }
        Err(TxError::Refused(PostRefusal::Duplicate | PostRefusal::LimitExceeded)) => {
            Err(TxError::Refused(BeginPaymentError::Dependency(corrupt(
                "the transfer of a new payment is already posted",
            ))))
        }
    }
}

/// Pays from the wallet in one transaction (see `RegistrationRepository::pay_from_wallet`).
pub(super) async fn pay_from_wallet(
    connection: &mut AsyncPgConnection,
    intent: &PaymentIntent,
) -> Result<Settled, BeginPaymentError> {
    for _ in 0..ATTEMPTS {
        let attempt = connection
            .transaction(async |connection| pay_locked(connection, intent).await)
            .await;
        match attempt {
            Ok(Some(settled)) => return Ok(settled),
            Ok(None) => {}
            Err(TxError::Refused(refusal)) => return Err(refusal),
            Err(TxError::Query(error)) if is_place_taken(&error) => {
                // A racing twin of this payment, or another live place of the user.
                return match explain(connection, intent, true).await? {
                    Some((payment, Some(registration))) => Ok(Settled {
                        payment,
                        registration,
                    }),
                    Some(_) | None => Err(BeginPaymentError::AlreadyRegistered),
                };
            }
            Err(TxError::Query(error)) => {
                return Err(BeginPaymentError::Dependency(write_outcome_error(error)));
            }
        }
    }
    Err(BeginPaymentError::Dependency(DependencyError::Unavailable(
        "catalog: the item kept changing during the payment".into(),
    )))
}

async fn fail_in(
    connection: &mut AsyncPgConnection,
    id: PaymentId,
    recorded_before: DateTime<Utc>,
) -> Result<Payment, TxError<SettleError>> {
    let payment = find_payment(connection, id, true)
        .await?
        .ok_or(TxError::Refused(SettleError::NotFound))?;
    if payment.status != PaymentStatus::Pending || payment.created_at > recorded_before {
        return Ok(payment);
    }
    let failed: PaymentRow = crate::prepared::sql_query(
        "UPDATE catalog_payments SET status = 'failed' WHERE id = $1 RETURNING *",
    )
    .bind::<SqlUuid, _>(id.as_uuid())
    .get_result(connection)
    .await?;
    Ok(failed.into_payment()?)
}

/// The gateway declined: `pending` → `failed` (the row locked first, so a settle racing it is
/// seen as it committed); returns the payment as it stands.
pub(super) async fn fail(
    connection: &mut AsyncPgConnection,
    id: PaymentId,
    recorded_before: DateTime<Utc>,
) -> Result<Payment, SettleError> {
    connection
        .transaction(async |connection| fail_in(connection, id, recorded_before).await)
        .await
        .map_err(|error| {
            error.into_refusal(|error| SettleError::Dependency(write_outcome_error(error)))
        })
}
