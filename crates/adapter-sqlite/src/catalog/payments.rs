//! The writes of a registration, each one `BEGIN IMMEDIATE` transaction: beginning a gateway
//! payment, paying from the wallet, settling, failing, completing, cancelling and marking a
//! refund done. Each reads what it decides on and writes inside the transaction, so no other
//! writer comes between; the partial unique indexes are the backstop ([`begin_error`]).

use super::{PaymentRow, RegistrationRow, corrupt, payment_row, registration_of};
use crate::schema::{catalog_items, catalog_payments, catalog_registrations};
use crate::wallet::{PostRefusal, Posting, post};
use crate::{instant, micros, query_error};
use diesel::prelude::*;
use diesel::result::Error as QueryError;
use reserva_application::ports::catalog::{
    BeginPaymentError, Begun, CancelPaymentError, Cancelled, CompleteError, PaymentIntent,
    SettleError, Settled,
};
use reserva_domain::accounts::UserId;
use reserva_domain::catalog::{ItemId, ItemKind, Registration, RegistrationId, RegistrationStatus};
use reserva_domain::wallet::{
    LedgerAccount, Money, Payment, PaymentId, PaymentMethod, PaymentStatus, RefundState,
    RevenueStream, TransferId, TransferKind,
};
use reserva_sql_support::catalog::{
    ItemTerms, SettleStep, check_cancel, check_existing, check_settle, check_terms,
    refund_on_cancel,
};
use uuid::Uuid;

pub(super) type BeginTx = reserva_sql_support::TxError<BeginPaymentError>;
pub(super) type SettleTx = reserva_sql_support::TxError<SettleError>;
pub(super) type CompleteTx = reserva_sql_support::TxError<CompleteError>;
pub(super) type CancelTx = reserva_sql_support::TxError<CancelPaymentError>;

/// The id of the ledger transfer that pays for a registration.
fn payment_transfer(id: PaymentId) -> TransferId {
    TransferId::derive("catalog-payment", id.as_uuid(), "")
}

/// The id of the ledger transfer that refunds it.
fn refund_transfer(id: PaymentId) -> TransferId {
    TransferId::derive("catalog-refund", id.as_uuid(), "")
}

fn revenue(item: ItemId) -> LedgerAccount {
    LedgerAccount::Revenue(RevenueStream::CatalogItem(item))
}

/// Where a payment's money comes from: the user's wallet or the method's provider.
fn payer(payment: &Payment) -> LedgerAccount {
    if payment.method == PaymentMethod::Wallet {
        LedgerAccount::UserWallet(payment.user_id)
    } else {
        LedgerAccount::Provider(payment.method)
    }
}

/// Posts `amount` from `from` to `to` (nothing for a free item: a transfer's amount is positive).
#[expect(
    clippy::too_many_arguments,
    reason = "one transfer's fields, named at each call"
)]
fn transfer(
    connection: &mut SqliteConnection,
    id: TransferId,
    kind: TransferKind,
    from: LedgerAccount,
    to: LedgerAccount,
    amount: Money,
    payment: &Payment,
    now: i64,
) -> Result<Result<(), PostRefusal>, QueryError> {
    if amount.get() == 0 {
        return Ok(Ok(()));
    }
    let posting = Posting {
        id,
        kind,
        from,
        to,
        amount,
        user: payment.user_id,
        reference: Some(payment.id.as_uuid()),
        limit: None,
        now,
    };
    Ok(post(connection, &posting)?.map(|_| ()))
}

/// The terms and title of the live item an intent names.
fn terms(
    connection: &mut SqliteConnection,
    intent: &PaymentIntent,
) -> Result<Option<(ItemTerms, String)>, BeginTx> {
    let row: Option<(i64, i64, i64, String)> = catalog_items::table
        .filter(catalog_items::id.eq(intent.item_id.as_uuid().to_string()))
        .filter(catalog_items::kind.eq(intent.kind.as_str()))
        .filter(catalog_items::deleted_at.is_null())
        .select((
            catalog_items::price,
            catalog_items::starts_at,
            catalog_items::ends_at,
            catalog_items::title,
        ))
        .first(connection)
        .optional()?;
    let Some((price, starts_at, ends_at, title)) = row else {
        return Ok(None);
    };
    let terms = ItemTerms {
        price,
        starts_at: instant(starts_at)?,
        ends_at: instant(ends_at)?,
    };
    Ok(Some((terms, title)))
}

/// Checks the item and the user's place; returns the item's title.
fn check_new(connection: &mut SqliteConnection, intent: &PaymentIntent) -> Result<String, BeginTx> {
    let found = terms(connection, intent)?;
    check_terms(found.as_ref().map(|(terms, _)| *terms), intent).map_err(BeginTx::Refused)?;
    let held: bool = diesel::select(diesel::dsl::exists(
        catalog_payments::table
            .filter(catalog_payments::user_id.eq(intent.user_id.as_uuid().to_string()))
            .filter(catalog_payments::item_id.eq(intent.item_id.as_uuid().to_string()))
            // A literal, as in the one-live-place index's own condition.
            .filter(diesel::dsl::sql::<diesel::sql_types::Bool>(
                "catalog_payments.status IN ('pending', 'paid')",
            )),
    ))
    .get_result(connection)?;
    if held {
        return Err(BeginTx::Refused(BeginPaymentError::AlreadyRegistered));
    }
    Ok(found.map(|(_, title)| title).unwrap_or_default())
}

/// A new payment row of `intent` in `status`.
fn insert_payment(
    connection: &mut SqliteConnection,
    intent: &PaymentIntent,
    title: &str,
    status: PaymentStatus,
) -> QueryResult<PaymentRow> {
    let now = micros(intent.now);
    let paid_at = (status == PaymentStatus::Paid).then_some(now);
    diesel::insert_into(catalog_payments::table)
        .values((
            catalog_payments::id.eq(intent.payment_id.as_uuid().to_string()),
            catalog_payments::user_id.eq(intent.user_id.as_uuid().to_string()),
            catalog_payments::kind.eq(intent.kind.as_str()),
            catalog_payments::item_id.eq(intent.item_id.as_uuid().to_string()),
            catalog_payments::item_title.eq(title),
            catalog_payments::amount.eq(intent.amount.get()),
            catalog_payments::method.eq(intent.method.as_str()),
            catalog_payments::status.eq(status.as_str()),
            catalog_payments::refund.eq(RefundState::NotDue.as_str()),
            catalog_payments::created_at.eq(now),
            catalog_payments::paid_at.eq(paid_at),
        ))
        .returning(PaymentRow::as_returning())
        .get_result(connection)
}

/// The registration of a paid payment, counted on its item.
fn register(
    connection: &mut SqliteConnection,
    payment: &Payment,
    now: i64,
) -> QueryResult<RegistrationRow> {
    let item = payment.item_id.as_uuid().to_string();
    diesel::update(catalog_items::table.filter(catalog_items::id.eq(&item)))
        .set(catalog_items::registration_count.eq(catalog_items::registration_count + 1))
        .execute(connection)?;
    diesel::insert_into(catalog_registrations::table)
        .values((
            catalog_registrations::id.eq(RegistrationId::from_uuid(Uuid::now_v7())
                .as_uuid()
                .to_string()),
            catalog_registrations::payment_id.eq(payment.id.as_uuid().to_string()),
            catalog_registrations::user_id.eq(payment.user_id.as_uuid().to_string()),
            catalog_registrations::kind.eq(payment.kind.as_str()),
            catalog_registrations::item_id.eq(&item),
            catalog_registrations::status.eq(RegistrationStatus::initial(payment.kind).as_str()),
            catalog_registrations::registered_at.eq(now),
        ))
        .returning(RegistrationRow::as_returning())
        .get_result(connection)
}

/// The registration a settled payment must have.
fn settled_registration(
    connection: &mut SqliteConnection,
    payment: &Payment,
) -> Result<Registration, reserva_application::DependencyError> {
    registration_of(connection, payment.id)
        .map_err(query_error)?
        .ok_or_else(|| corrupt("paid payment without its registration"))?
        .into_registration()
}

pub(super) fn begin(
    connection: &mut SqliteConnection,
    intent: &PaymentIntent,
) -> Result<Begun, BeginTx> {
    if let Some(row) = payment_row(connection, intent.payment_id)? {
        let payment = row.into_payment()?;
        check_existing(&payment, intent).map_err(BeginTx::Refused)?;
        if payment.status == PaymentStatus::Pending {
            // Resumed by a retry: recorded again at the retry's instant (never earlier), so the
            // reconciler, which fails only what is old and unknown, leaves it to this retry.
            let resumed =
                diesel::update(catalog_payments::table.find(payment.id.as_uuid().to_string()))
                    .set(
                        catalog_payments::created_at
                            .eq(micros(intent.now).max(micros(payment.created_at))),
                    )
                    .returning(PaymentRow::as_returning())
                    .get_result(connection)?
                    .into_payment()?;
            return Ok(Begun::Existing(resumed, None));
        }
        let registration = registration_of(connection, payment.id)?
            .map(RegistrationRow::into_registration)
            .transpose()?;
        return Ok(Begun::Existing(payment, registration));
    }
    let title = check_new(connection, intent)?;
    let row = insert_payment(connection, intent, &title, PaymentStatus::Pending)?;
    Ok(Begun::New(row.into_payment()?))
}

pub(super) fn pay_from_wallet(
    connection: &mut SqliteConnection,
    intent: &PaymentIntent,
) -> Result<Settled, BeginTx> {
    if let Some(row) = payment_row(connection, intent.payment_id)? {
        let payment = row.into_payment()?;
        check_existing(&payment, intent).map_err(BeginTx::Refused)?;
        let registration = settled_registration(connection, &payment)?;
        return Ok(Settled {
            payment,
            registration,
        });
    }
    let title = check_new(connection, intent)?;
    let payment =
        insert_payment(connection, intent, &title, PaymentStatus::Paid)?.into_payment()?;
    let now = micros(intent.now);
    let posted = transfer(
        connection,
        payment_transfer(payment.id),
        TransferKind::Payment,
        LedgerAccount::UserWallet(intent.user_id),
        revenue(intent.item_id),
        intent.amount,
        &payment,
        now,
    )?;
    match posted {
        Ok(()) => {}
        Err(PostRefusal::Insufficient) => {
            return Err(BeginTx::Refused(BeginPaymentError::InsufficientBalance));
        }
        Err(PostRefusal::Duplicate | PostRefusal::LimitExceeded) => {
            return Err(corrupt("catalog payment transfer").into());
        }
    }
    let registration = register(connection, &payment, now)?.into_registration()?;
    Ok(Settled {
        payment,
        registration,
    })
}

pub(super) fn settle(
    connection: &mut SqliteConnection,
    id: PaymentId,
    reference: &str,
    now: i64,
) -> Result<Settled, SettleTx> {
    let payment = payment_row(connection, id)?
        .ok_or(SettleTx::Refused(SettleError::NotFound))?
        .into_payment()?;
    if check_settle(payment.status).map_err(SettleTx::Refused)? == SettleStep::Unchanged {
        let registration = settled_registration(connection, &payment)?;
        return Ok(Settled {
            payment,
            registration,
        });
    }
    let payment = diesel::update(catalog_payments::table.find(id.as_uuid().to_string()))
        .set((
            catalog_payments::status.eq(PaymentStatus::Paid.as_str()),
            catalog_payments::provider_reference.eq(reference),
            catalog_payments::paid_at.eq(now),
        ))
        .returning(PaymentRow::as_returning())
        .get_result(connection)?
        .into_payment()?;
    let registration = register(connection, &payment, now)?.into_registration()?;
    let posted = transfer(
        connection,
        payment_transfer(id),
        TransferKind::Payment,
        payer(&payment),
        revenue(payment.item_id),
        payment.amount,
        &payment,
        now,
    )?;
    if posted.is_err() {
        return Err(corrupt("catalog payment transfer").into());
    }
    Ok(Settled {
        payment,
        registration,
    })
}

pub(super) fn fail(
    connection: &mut SqliteConnection,
    id: PaymentId,
    recorded_before: i64,
) -> Result<Payment, SettleTx> {
    let row = payment_row(connection, id)?.ok_or(SettleTx::Refused(SettleError::NotFound))?;
    if row.status != PaymentStatus::Pending.as_str() || row.created_at > recorded_before {
        return Ok(row.into_payment()?);
    }
    Ok(
        diesel::update(catalog_payments::table.find(id.as_uuid().to_string()))
            .set(catalog_payments::status.eq(PaymentStatus::Failed.as_str()))
            .returning(PaymentRow::as_returning())
            .get_result(connection)?
            .into_payment()?,
    )
}

pub(super) fn complete(
    connection: &mut SqliteConnection,
    user: UserId,
    kind: ItemKind,
    item: ItemId,
    now: i64,
) -> Result<Registration, CompleteTx> {
    let latest = catalog_registrations::table
        .filter(catalog_registrations::user_id.eq(user.as_uuid().to_string()))
        .filter(catalog_registrations::item_id.eq(item.as_uuid().to_string()))
        .filter(catalog_registrations::kind.eq(kind.as_str()))
        .order((
            catalog_registrations::registered_at.desc(),
            catalog_registrations::id.desc(),
        ))
        .select(RegistrationRow::as_select())
        .first(connection)
        .optional()?
        .ok_or(CompleteTx::Refused(CompleteError::NotFound))?
        .into_registration()?;
    let next = latest
        .status
        .complete()
        .map_err(|refusal| CompleteTx::Refused(refusal.into()))?;
    Ok(
        diesel::update(catalog_registrations::table.find(latest.id.as_uuid().to_string()))
            .set((
                catalog_registrations::status.eq(next.as_str()),
                catalog_registrations::completed_at.eq(now),
            ))
            .returning(RegistrationRow::as_returning())
            .get_result(connection)?
            .into_registration()?,
    )
}

pub(super) fn cancel(
    connection: &mut SqliteConnection,
    user: UserId,
    id: PaymentId,
    now: i64,
) -> Result<Cancelled, CancelTx> {
    let payment = payment_row(connection, id)?
        .ok_or(CancelTx::Refused(CancelPaymentError::NotFound))?
        .into_payment()?;
    let registration = registration_of(connection, id)?
        .map(RegistrationRow::into_registration)
        .transpose()?;
    let next = match check_cancel(&payment, registration.as_ref(), user) {
        Ok(Ok(next)) => next,
        Ok(Err(refusal)) => return Err(CancelTx::Refused(refusal.into())),
        Err(None) => return Err(CancelTx::Refused(CancelPaymentError::NotFound)),
        Err(Some(error)) => return Err(error.into()),
    };
    let cancelled = diesel::update(catalog_payments::table.find(id.as_uuid().to_string()))
        .set((
            catalog_payments::status.eq(PaymentStatus::Cancelled.as_str()),
            catalog_payments::cancelled_at.eq(now),
            catalog_payments::refund.eq(refund_on_cancel(payment.method).as_str()),
        ))
        .returning(PaymentRow::as_returning())
        .get_result(connection)?
        .into_payment()?;
    let registration = diesel::update(
        catalog_registrations::table
            .filter(catalog_registrations::payment_id.eq(id.as_uuid().to_string())),
    )
    .set((
        catalog_registrations::status.eq(next.as_str()),
        catalog_registrations::cancelled_at.eq(now),
    ))
    .returning(RegistrationRow::as_returning())
    .get_result(connection)?
    .into_registration()?;
    diesel::update(
        catalog_items::table.filter(catalog_items::id.eq(payment.item_id.as_uuid().to_string())),
    )
    .set(catalog_items::registration_count.eq(catalog_items::registration_count - 1))
    .execute(connection)?;
    let posted = transfer(
        connection,
        refund_transfer(id),
        TransferKind::Refund,
        revenue(payment.item_id),
        payer(&payment),
        payment.amount,
        &payment,
        now,
    )?;
    if posted.is_err() {
        return Err(corrupt("catalog refund transfer").into());
    }
    Ok(Cancelled {
        payment: cancelled,
        registration: Some(registration),
    })
}

pub(super) fn mark_refunded(
    connection: &mut SqliteConnection,
    id: PaymentId,
) -> QueryResult<usize> {
    diesel::update(
        catalog_payments::table
            .filter(catalog_payments::id.eq(id.as_uuid().to_string()))
            .filter(catalog_payments::refund.eq(RefundState::Pending.as_str())),
    )
    .set(catalog_payments::refund.eq(RefundState::Done.as_str()))
    .execute(connection)
}

/// The refusal a broken constraint stands for, behind the transaction's own checks: a second
/// live place, a wallet that would go negative.
pub(super) fn begin_error(error: QueryError) -> BeginPaymentError {
    match crate::errors::violated(&error) {
        Some(message)
            if message.contains("catalog_payments.user_id, catalog_payments.item_id")
                || message.contains("catalog_registrations.user_id") =>
        {
            BeginPaymentError::AlreadyRegistered
        }
        Some(message) if message.contains("catalog_payments.id") => BeginPaymentError::IdReused,
        Some(message) if message.contains("ledger_accounts_wallet_balance_check") => {
            BeginPaymentError::InsufficientBalance
        }
        _ => BeginPaymentError::Dependency(query_error(error)),
    }
}
