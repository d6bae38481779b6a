//! Paying for a hold: the debit, the revenue credit, the booking, the sold seat and the paid
//! hold, all in one `BEGIN IMMEDIATE` transaction. The seat is sold by a conditional `UPDATE`
//! that needs the hold to still be the seat's and live, so a hold expiring while it is paid ends
//! either paid or expired, never both.

use super::{BookingRow, booking_of, corrupt, money, performance_row};
use crate::schema::{bookings, seat_holds, seats, ticket_claims};
use crate::wallet::{PostRefusal, Posting, post};
use crate::{SqliteStore, micros, query_error};
use diesel::prelude::*;
use reserva_application::ports::tickets::{PayError, PayHold};
use reserva_domain::tickets::{Booking, BookingStatus, ConcertId, HoldStatus};
use reserva_domain::wallet::{LedgerAccount, RevenueStream, TransferKind};

type PayTx = reserva_sql_support::TxError<PayError>;

fn pay(connection: &mut SqliteConnection, payment: &PayHold) -> Result<BookingRow, PayTx> {
    let (id, user) = (
        payment.hold_id.as_uuid().to_string(),
        payment.user_id.as_uuid().to_string(),
    );
    let now = micros(payment.now);
    let Some(hold) = super::holds::own_hold(connection, &id, &user)? else {
        return Err(PayTx::Refused(PayError::NotFound));
    };
    if hold.status == HoldStatus::Paid.as_str() {
        let booking = booking_of(connection, &id)?.ok_or_else(|| corrupt("paid hold"))?;
        return Err(PayTx::Refused(PayError::AlreadyPaid(Box::new(
            booking.into_booking()?,
        ))));
    }
    if hold.status != HoldStatus::Held.as_str() || hold.expires_at <= now {
        return Err(PayTx::Refused(PayError::Expired));
    }
    let performance =
        performance_row(connection, &hold.performance_id)?.ok_or_else(|| corrupt("hold"))?;
    if performance.cancelled_at.is_some() {
        return Err(PayTx::Refused(PayError::NotOnSale));
    }
    let concert = ConcertId::from_uuid(crate::uuid(&hold.concert_id)?);
    let price = money(hold.price)?;
    // A free seat moves no money: a transfer's amount is positive.
    if price.get() > 0 {
        let posting = Posting {
            id: payment.transfer_id,
            kind: TransferKind::Payment,
            from: LedgerAccount::UserWallet(payment.user_id),
            to: LedgerAccount::Revenue(RevenueStream::Concert(concert)),
            amount: price,
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
            Err(PostRefusal::IdTaken | PostRefusal::LimitExceeded) => {
                return Err(PayTx::Refused(PayError::Dependency(corrupt(
                    "payment transfer",
                ))));
            }
        }
    }
    let booking_id = payment.booking_id.as_uuid().to_string();
    let sold = diesel::update(
        seats::table
            .filter(seats::performance_id.eq(&hold.performance_id))
            .filter(seats::seat_number.eq(hold.seat_number))
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
            .filter(ticket_claims::concert_id.eq(&hold.concert_id))
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
            bookings::performance_id.eq(&hold.performance_id),
            bookings::concert_id.eq(&hold.concert_id),
            bookings::seat_number.eq(hold.seat_number),
            bookings::user_id.eq(&user),
            bookings::price.eq(hold.price),
            bookings::payment_id.eq(payment.transfer_id.as_uuid().to_string()),
            bookings::status.eq(BookingStatus::Confirmed.as_str()),
            bookings::created_at.eq(now),
        ))
        .returning(BookingRow::as_returning())
        .get_result(connection)?)
}

pub(super) async fn pay_hold(store: &SqliteStore, payment: PayHold) -> Result<Booking, PayError> {
    let row = store
        .write(move |connection| pay(connection, &payment))
        .await
        .map_err(|error: PayTx| {
            error.into_refusal(|error| PayError::Dependency(query_error(error)))
        })?;
    Ok(row.into_booking()?)
}
