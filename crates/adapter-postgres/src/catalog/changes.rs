//! Cancelling a paid registration (payment row, registration, the refund's transfer, then the
//! item's count: the lock order of [`super::payments`]), completing one, and recording a
//! provider's refund.

use super::payments::{count, find_payment, payer, refund_transfer};
use super::rows::{PaymentRow, RegistrationRow};
use crate::wallet::posting::{Posting, post};
use crate::write_outcome_error;
use chrono::{DateTime, Utc};
use diesel::OptionalExtension;
use diesel::sql_types::{Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use reserva_application::DependencyError;
use reserva_application::ports::catalog::{CancelPaymentError, Cancelled, CompleteError};
use reserva_domain::accounts::UserId;
use reserva_domain::catalog::{ItemId, ItemKind, Registration};
use reserva_domain::wallet::{LedgerAccount, Money, PaymentId, RevenueStream, TransferKind};
use reserva_sql_support::TxError;
use reserva_sql_support::catalog::{check_cancel, refund_on_cancel};

async fn cancel_in(
    connection: &mut AsyncPgConnection,
    user: UserId,
    id: PaymentId,
    now: DateTime<Utc>,
) -> Result<Cancelled, TxError<CancelPaymentError>> {
    let payment = find_payment(connection, id, true)
        .await?
        .ok_or(TxError::Refused(CancelPaymentError::NotFound))?;
    let registration: Option<Registration> =
        super::payments::registration_of(connection, id, true).await?;
    match check_cancel(&payment, registration.as_ref(), user) {
        Ok(Ok(_)) => {}
        Ok(Err(refusal)) => return Err(TxError::Refused(refusal.into())),
        Err(None) => return Err(TxError::Refused(CancelPaymentError::NotFound)),
        Err(Some(error)) => return Err(TxError::Refused(error.into())),
    }
    let cancelled: PaymentRow = crate::prepared::sql_query(
        "UPDATE catalog_payments SET status = 'cancelled', cancelled_at = $2, refund = $3
         WHERE id = $1 RETURNING *",
    )
    .bind::<SqlUuid, _>(id.as_uuid())
    .bind::<Timestamptz, _>(now)
    .bind::<Text, _>(refund_on_cancel(payment.method).as_str())
    .get_result(connection)
    .await?;
    let registration: RegistrationRow = crate::prepared::sql_query(
        "UPDATE catalog_registrations SET status = 'cancelled', cancelled_at = $2
         WHERE payment_id = $1 RETURNING *",
    )
    .bind::<SqlUuid, _>(id.as_uuid())
    .bind::<Timestamptz, _>(now)
    .get_result(connection)
    .await?;
    if payment.amount > Money::ZERO {
        let posting = Posting {
            id: refund_transfer(id),
            kind: TransferKind::Refund,
            from: LedgerAccount::Revenue(RevenueStream::CatalogItem(payment.item_id)),
            to: payer(&payment),
            amount: payment.amount,
            user: payment.user_id,
            reference: Some(id.as_uuid()),
            limit: None,
            now,
        };
        if post(connection, &posting).await?.is_err() {
            return Err(TxError::Refused(CancelPaymentError::Dependency(
                DependencyError::Failed(
                    "catalog: the refund of a paid payment is already posted".into(),
                ),
            )));
        }
    }
    // The item's row last: it is the one many users share, so it stays locked only until commit.
    count(connection, payment.item_id, -1).await?;
    Ok(Cancelled {
        payment: cancelled.into_payment()?,
        registration: Some(registration.into_registration()?),
    })
}

/// Cancels the user's paid payment in one transaction.
pub(super) async fn cancel(
    connection: &mut AsyncPgConnection,
    user: UserId,
    id: PaymentId,
    now: DateTime<Utc>,
) -> Result<Cancelled, CancelPaymentError> {
    connection
        .transaction(async |connection| cancel_in(connection, user, id, now).await)
        .await
        .map_err(|error| {
            error.into_refusal(|error| CancelPaymentError::Dependency(write_outcome_error(error)))
        })
}

async fn complete_in(
    connection: &mut AsyncPgConnection,
    user: UserId,
    kind: ItemKind,
    item: ItemId,
    now: DateTime<Utc>,
) -> Result<Registration, TxError<CompleteError>> {
    let latest: Option<RegistrationRow> = crate::prepared::sql_query(
        "SELECT * FROM catalog_registrations
         WHERE user_id = $1 AND item_id = $2 AND kind = $3
         ORDER BY registered_at DESC, id DESC LIMIT 1 FOR UPDATE",
    )
    .bind::<SqlUuid, _>(user.as_uuid())
    .bind::<SqlUuid, _>(item.as_uuid())
    .bind::<Text, _>(kind.as_str())
    .get_result(connection)
    .await
    .optional()?;
    let latest = latest
        .ok_or(TxError::Refused(CompleteError::NotFound))?
        .into_registration()?;
    let completed = latest
        .status
        .complete()
        .map_err(|refusal| TxError::Refused(refusal.into()))?;
    let row: RegistrationRow = crate::prepared::sql_query(
        "UPDATE catalog_registrations SET status = $2, completed_at = $3 WHERE id = $1 RETURNING *",
    )
    .bind::<SqlUuid, _>(latest.id.as_uuid())
    .bind::<Text, _>(completed.as_str())
    .bind::<Timestamptz, _>(now)
    .get_result(connection)
    .await?;
    Ok(row.into_registration()?)
}

/// Completes the user's latest registration for the item.
pub(super) async fn complete(
    connection: &mut AsyncPgConnection,
    user: UserId,
    kind: ItemKind,
    item: ItemId,
    now: DateTime<Utc>,
) -> Result<Registration, CompleteError> {
    connection
        .transaction(async |connection| complete_in(connection, user, kind, item, now).await)
        .await
        .map_err(|error| {
            error.into_refusal(|error| CompleteError::Dependency(write_outcome_error(error)))
        })
}

/// The provider confirmed the refund.
pub(super) async fn mark_refunded(
    connection: &mut AsyncPgConnection,
    id: PaymentId,
) -> Result<(), DependencyError> {
    crate::prepared::sql_query(
        "UPDATE catalog_payments SET refund = 'done' WHERE id = $1 AND refund = 'pending'",
    )
    .bind::<SqlUuid, _>(id.as_uuid())
    .execute(connection)
    .await
    .map_err(write_outcome_error)?;
    Ok(())
}
