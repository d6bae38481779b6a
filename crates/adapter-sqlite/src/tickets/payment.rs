//! Paying for a hold: the debit, the revenue credit, the booking, the sold seat and the paid
//! hold, all in one `BEGIN IMMEDIATE` transaction. The seat is sold by a conditional `UPDATE`
//! that needs the hold to still be the seat's and live, so a hold expiring while it is paid ends
//! either paid or expired, never both.

use super::{BookingRow, HoldRow, booking_of, corrupt, performance_row};
use crate::schema::{bookings, seat_holds, seats, ticket_claims};
use crate::wallet::{PostRefusal, Posting, post};
use crate::{SqliteStore, micros, query_error};
use diesel::prelude::*;
use reserva_application::ports::tickets::{PayError, PayHold};
use reserva_domain::tickets::{Booking, BookingStatus, HoldStatus};
use reserva_domain::wallet::{LedgerAccount, RevenueStream, TransferKind};
use reserva_sql_support::tickets::check_payment;

type PayTx = reserva_sql_support::TxError<PayError>;

fn pay(connection: &mut SqliteConnection, payment: &PayHold) -> Result<BookingRow, PayTx> {
    let (id, user) = (
        payment.hold_id.as_uuid().to_string(),
        payment.user_id.as_uuid().to_string(),
    );
    let now = micros(payment.now);
    let hold = seat_holds::table
        .find(&id)
        .select(HoldRow::as_select())
        .first(connection)
        .optional()?
        .map(HoldRow::into_hold)
        .transpose()?;
    let paid = hold
        .as_ref()
        .is_some_and(|hold| hold.status == HoldStatus::Paid);
    let booking = if paid {
        booking_of(connection, &id)?
            .map(BookingRow::into_booking)
            .transpose()?
    } else {
        None
    };
    let performance = match &hold {
        Some(hold) => performance_row(connection, &hold.performance_id.as_uuid().to_string())?,
        None => None,
    };
    // Off sale: cancelled, or started (a hold made just before the start may outlive it).
    let off_sale = performance.as_ref().is_some_and(|performance| {
        performance.cancelled_at.is_some() || now >= performance.starts_at
    });
    check_payment(
        hold.as_ref(),
        payment.user_id,
        booking,
        off_sale,
        payment.now,
    )
    .map_err(PayTx::Refused)?;
    let (Some(hold), Some(performance)) = (hold, performance) else {
        return Err(PayTx::Refused(PayError::Dependency(corrupt("hold"))));
    };
    let performance_id = hold.performance_id.as_uuid().to_string();
    let concert_id = hold.concert_id.as_uuid().to_string();
    let seat_number = i32::from(hold.seat.get());
    // A free seat moves no money: a transfer's amount is positive.
    if hold.price.get() > 0 {
        let posting = Posting {
            id: payment.transfer_id,
            kind: TransferKind::Payment,
            from: LedgerAccount::UserWallet(payment.user_id),
            to: LedgerAccount::Revenue(RevenueStream::Concert(hold.concert_id)),
            amount: hold.price,
            user: payment.user_id,
            reference: Some(payment.hold_id.as_uuid()),
            limit: None,
            now,
        };
        match post(connection, &posting)? {
            Ok(_) => {}
            Err(PostRefusal::Insufficient) => {
                return Err(PayTx::Refused(PayError::InsufficientBalance));
            }
            // The id is derived from the hold, which is unpaid: a stray transfer is corruption.
            Err(PostRefusal::Duplicate | PostRefusal::LimitExceeded) => {
                return Err(PayTx::Refused(PayError::Dependency(corrupt(
                    "payment transfer",
                ))));
            }
        }
    }
    let booking_id = payment.booking_id.as_uuid().to_string();
    let sold = diesel::update(
        seats::table
            .filter(seats::performance_id.eq(&&performance_id))
            .filter(seats::seat_number.eq(seat_number))
            .filter(seats::hold_id.eq(&id))
            .filter(seats::booking_id.is_null())
            .filter(seats::hold_expires_at.gt(now)),
    )
    .set((
        seats::booking_id.eq(&booking_id),
        seats::hold_id.eq(None::<String>),
        seats::held_by.eq(None::<String>),
        seats::hold_expires_at.eq(None::<i64>),
    ))
    .execute(connection)?;
    if sold != 1 {
        return Err(PayTx::Refused(PayError::Expired));
    }
    diesel::update(seat_holds::table.find(&id))
        .set(seat_holds::status.eq(HoldStatus::Paid.as_str()))
        .execute(connection)?;
    diesel::update(
        ticket_claims::table
            .filter(ticket_claims::user_id.eq(&user))
            .filter(ticket_claims::concert_id.eq(&concert_id))
            .filter(ticket_claims::local_date.eq(&performance.local_date)),
    )
    .set((
        ticket_claims::booking_id.eq(&booking_id),
        ticket_claims::hold_id.eq(None::<String>),
        ticket_claims::hold_expires_at.eq(None::<i64>),
    ))
    .execute(connection)?;
    Ok(diesel::insert_into(bookings::table)
        .values((
            bookings::id.eq(&booking_id),
            bookings::hold_id.eq(&id),
            bookings::performance_id.eq(&&performance_id),
            bookings::concert_id.eq(&concert_id),
            bookings::seat_number.eq(seat_number),
            bookings::user_id.eq(&user),
            bookings::price.eq(hold.price.get()),
            bookings::payment_id.eq(payment.transfer_id.as_uuid().to_string()),
            bookings::status.eq(BookingStatus::Confirmed.as_str()),
            bookings::created_at.eq(now),
        ))
        .returning(BookingRow::as_returning())
        .get_result(connection)?)
}

/// The refusal a broken constraint stands for. The statements' own guards come first, so these
/// are the database's backstop: a wallet that would go negative, a seat sold twice.
fn pay_error(error: diesel::result::Error) -> PayError {
    match crate::errors::violated(&error) {
        Some(message) if message.contains("ledger_accounts_wallet_balance_check") => {
            PayError::InsufficientBalance
        }
        Some(message) if message.contains("bookings.performance_id, bookings.seat_number") => {
            PayError::Expired
        }
        _ => PayError::Dependency(query_error(error)),
    }
}

pub(super) async fn pay_hold(store: &SqliteStore, payment: PayHold) -> Result<Booking, PayError> {
    let row = store
        .write(move |connection| pay(connection, &payment))
        .await
        .map_err(|error: PayTx| error.into_refusal(pay_error))?;
    Ok(row.into_booking()?)
}
