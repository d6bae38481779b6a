//! Paying for a hold from the wallet: the owner, with their active token. The payment's transfer
//! id is derived from the hold, so a hold is paid at most once whatever retries happen; on
//! success the queue token is finished, letting the next user in.

use super::access::{QueueAccessError, parse_token};
use super::{Tickets, room_update_failed};
use crate::accounts::Principal;
use crate::ports::tickets::{PayError, PayHold};
use crate::{DependencyError, ErrorClass, UseCaseError};
use reserva_domain::tickets::{Booking, BookingId, HoldId, HoldStatus};
use reserva_domain::wallet::TransferId;
use thiserror::Error;

/// Why a hold could not be paid.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PayHoldError {
    /// The queue token does not let the caller through.
    #[error(transparent)]
    Queue(#[from] QueueAccessError),
    /// No such hold, or someone else's.
    #[error("hold not found")]
    NotFound,
    /// The hold expired or was released.
    #[error("hold expired")]
    Expired,
    /// Already paid: this is the booking.
    #[error("hold already paid")]
    AlreadyPaid(Box<Booking>),
    /// The performance was cancelled or has started.
    #[error("performance is not on sale")]
    NotOnSale,
    /// The wallet holds less than the price.
    #[error("insufficient balance")]
    InsufficientBalance,
    /// A dependency failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

impl UseCaseError for PayHoldError {
    fn class(&self) -> ErrorClass {
        match self {
            Self::Queue(error) => error.class(),
            Self::NotFound => ErrorClass::NotFound,
            Self::Expired | Self::AlreadyPaid(_) | Self::NotOnSale | Self::InsufficientBalance => {
                ErrorClass::Conflict
            }
            Self::Dependency(error) => error.class(),
        }
    }
    fn code(&self) -> &'static str {
        match self {
            Self::Queue(error) => error.code(),
            Self::NotFound => "not_found",
            Self::Expired => "hold_expired",
            Self::AlreadyPaid(_) => "hold_already_paid",
            Self::NotOnSale => "not_on_sale",
            Self::InsufficientBalance => "insufficient_balance",
            Self::Dependency(error) => error.code(),
        }
    }
    fn resource_id(&self) -> Option<String> {
        match self {
            Self::AlreadyPaid(booking) => Some(booking.id.to_string()),
            _ => None,
        }
    }
}

/// The id of the payment for `hold`: the same for every attempt, so the ledger refuses a second.
#[must_use]
pub fn payment_transfer_id(hold: HoldId) -> TransferId {
    TransferId::derive("payment", hold.as_uuid(), "")
}

impl Tickets {
    /// Pays for the caller's live hold: the booking is made, the seat sold, the token finished.
    ///
    /// # Errors
    /// `Queue`, `NotFound`, `Expired`, `AlreadyPaid` (with the booking), `NotOnSale`,
    /// `InsufficientBalance`, `Dependency`.
    #[tracing::instrument(skip_all, fields(user_id = %principal.user_id, hold_id = %id))]
    pub async fn pay_hold(
        &self,
        principal: &Principal,
        token: Option<&str>,
        id: HoldId,
    ) -> Result<Booking, PayHoldError> {
        let token = parse_token(token)?;
        let hold = self
            .ports
            .holds
            .find_hold(id)
            .await?
            .filter(|hold| hold.user_id == principal.user_id)
            .ok_or(PayHoldError::NotFound)?;
        // A paid hold needs no admission: the store only answers with its booking, which a
        // client whose first answer was lost (its token already finished) asks for.
        if hold.status != HoldStatus::Paid
            && let Err(refusal) = self
                .require_active(principal, &token, hold.concert_id)
                .await
        {
            // A concurrent payment of this very hold may have finished the token just now:
            // then the answer is that payment's booking, not a token refusal.
            let paid_meanwhile = matches!(refusal, QueueAccessError::TokenInvalid)
                && self
                    .ports
                    .holds
                    .find_hold(id)
                    .await?
                    .is_some_and(|hold| hold.status == HoldStatus::Paid);
            if !paid_meanwhile {
                return Err(refusal.into());
            }
        }
        let payment = PayHold {
            hold_id: id,
            user_id: principal.user_id,
            booking_id: BookingId::from_uuid(uuid::Uuid::now_v7()),
            transfer_id: payment_transfer_id(id),
            now: self.now(),
        };
        let booking = self
            .ports
            .holds
            .pay_hold(payment)
            .await
            .map_err(|error| match error {
                PayError::NotFound => PayHoldError::NotFound,
                PayError::Expired => PayHoldError::Expired,
                PayError::AlreadyPaid(booking) => PayHoldError::AlreadyPaid(booking),
                PayError::NotOnSale => PayHoldError::NotOnSale,
                PayError::InsufficientBalance => PayHoldError::InsufficientBalance,
                PayError::Dependency(error) => error.into(),
            })?;
        let room = &self.ports.room;
        if let Err(error) = room.sale_recorded(booking.concert_id, id).await {
            room_update_failed("sale_recorded", booking.concert_id, &error);
        }
        let finished = room
            .finish(&token, principal.user_id, self.now(), self.room_rules())
            .await;
        if let Err(error) = finished {
            room_update_failed("finish", booking.concert_id, &error);
        }
        Ok(booking)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tickets::test_support::{Fixture, concert_id, hold, now, principal, token};
    use reserva_domain::accounts::Role;
    use reserva_domain::tickets::{BookingStatus, SeatHold};

    #[tokio::test]
    async fn a_repeat_of_a_paid_hold_gets_its_booking_even_with_a_finished_token() {
        let caller = principal(Role::Member);
        let mut held = hold(caller.user_id, concert_id());
        held.status = HoldStatus::Paid;
        let raw = token(held.concert_id);
        let id = held.id;
        let mut fixture = Fixture::new();
        let copy = held.clone();
        fixture
            .holds
            .expect_find_hold()
            .returning(move |_| Ok(Some(copy.clone())));
        fixture.room.expect_poll().never();
        fixture.holds.expect_pay_hold().returning(move |payment| {
            Err(PayError::AlreadyPaid(Box::new(booking_of(&payment, &held))))
        });
        fixture.room.expect_finish().never();
        let error = fixture
            .tickets()
            .pay_hold(&caller, Some(raw.as_str()), id)
            .await
            .expect_err("already paid");
        assert_eq!(error.code(), "hold_already_paid");
        assert!(error.resource_id().is_some());
    }

    #[tokio::test]
    async fn a_payment_racing_its_twin_gets_the_booking_not_a_token_refusal() {
        // The twin paid between this request's read of the hold and its token check, and
        // finished the token: the second read sees the paid hold and the store answers.
        let caller = principal(Role::Member);
        let held = hold(caller.user_id, concert_id());
        let raw = token(held.concert_id);
        let id = held.id;
        let mut fixture = Fixture::new();
        let (first, mut second) = (held.clone(), held.clone());
        second.status = HoldStatus::Paid;
        let mut reads = mockall::Sequence::new();
        fixture
            .holds
            .expect_find_hold()
            .times(1)
            .in_sequence(&mut reads)
            .returning(move |_| Ok(Some(first.clone())));
        fixture
            .holds
            .expect_find_hold()
            .times(1)
            .in_sequence(&mut reads)
            .returning(move |_| Ok(Some(second.clone())));
        fixture.room.expect_poll().returning(|_, _, _, _| Ok(None));
        fixture.holds.expect_pay_hold().returning(move |payment| {
            Err(PayError::AlreadyPaid(Box::new(booking_of(&payment, &held))))
        });
        let error = fixture
            .tickets()
            .pay_hold(&caller, Some(raw.as_str()), id)
            .await
            .expect_err("already paid");
        assert_eq!(error.code(), "hold_already_paid");
    }

    #[tokio::test]
    async fn an_invalid_token_on_an_unpaid_hold_is_refused_and_nothing_is_paid() {
        let caller = principal(Role::Member);
        let held = hold(caller.user_id, concert_id());
        let raw = token(held.concert_id);
        let id = held.id;
        let mut fixture = Fixture::new();
        fixture
            .holds
            .expect_find_hold()
            .times(2)
            .returning(move |_| Ok(Some(held.clone())));
        fixture.room.expect_poll().returning(|_, _, _, _| Ok(None));
        fixture.holds.expect_pay_hold().never();
        let error = fixture
            .tickets()
            .pay_hold(&caller, Some(raw.as_str()), id)
            .await
            .expect_err("refused");
        assert_eq!(error.code(), "queue_token_invalid");
    }

    fn booking_of(payment: &PayHold, held: &SeatHold) -> Booking {
        Booking {
            id: payment.booking_id,
            hold_id: payment.hold_id,
            performance_id: held.performance_id,
            concert_id: held.concert_id,
            seat: held.seat,
            user_id: payment.user_id,
            price: held.price,
            payment_id: payment.transfer_id,
            status: BookingStatus::Confirmed,
            created_at: now(),
            refunded_at: None,
        }
    }

    /// The caller's live hold, found, with their active token for its concert.
    fn holding(caller: &Principal) -> (Fixture, SeatHold, String) {
        let held = hold(caller.user_id, concert_id());
        let mine = token(held.concert_id);
        let mut fixture = Fixture::new();
        let copy = held.clone();
        fixture
            .holds
            .expect_find_hold()
            .returning(move |_| Ok(Some(copy.clone())));
        fixture.active_token(&mine, caller.user_id);
        (fixture, held, mine.as_str().to_owned())
    }

    #[tokio::test]
    async fn pays_with_the_id_derived_from_the_hold_then_records_the_sale_and_finishes_the_token() {
        let caller = principal(Role::Member);
        let (mut fixture, held, raw) = holding(&caller);
        let (id, concert) = (held.id, held.concert_id);
        let expected = TransferId::derive("payment", id.as_uuid(), "");
        let mut order = mockall::Sequence::new();
        fixture
            .holds
            .expect_pay_hold()
            .withf(move |payment| {
                payment.hold_id == id
                    && payment.user_id == caller.user_id
                    && payment.transfer_id == expected
            })
            .times(1)
            .in_sequence(&mut order)
            .returning(move |payment| Ok(booking_of(&payment, &held)));
        fixture
            .room
            .expect_sale_recorded()
            .withf(move |c, h| *c == concert && *h == id)
            .times(1)
            .in_sequence(&mut order)
            .returning(|_, _| Ok(()));
        let finished = raw.clone();
        fixture
            .room
            .expect_finish()
            .withf(move |token, user, _, _| token.as_str() == finished && *user == caller.user_id)
            .times(1)
            .in_sequence(&mut order)
            .returning(|_, _, _, _| Ok(true));
        let booking = fixture
            .tickets()
            .pay_hold(&caller, Some(&raw), id)
            .await
            .expect("paid");
        assert_eq!(booking.payment_id, expected);
        assert_eq!(payment_transfer_id(id), expected);
    }

    #[tokio::test]
    async fn room_failures_after_the_payment_do_not_fail_it() {
        let caller = principal(Role::Member);
        let (mut fixture, held, raw) = holding(&caller);
        let id = held.id;
        fixture
            .holds
            .expect_pay_hold()
            .returning(move |payment| Ok(booking_of(&payment, &held)));
        fixture
            .room
            .expect_sale_recorded()
            .returning(|_, _| Err(DependencyError::Unavailable("redis".into())));
        fixture
            .room
            .expect_finish()
            .times(1)
            .returning(|_, _, _, _| Err(DependencyError::Unavailable("redis".into())));
        assert!(
            fixture
                .tickets()
                .pay_hold(&caller, Some(&raw), id)
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn the_stores_refusals_keep_their_codes_and_finish_nothing() {
        let caller = principal(Role::Member);
        let paid = {
            let held = hold(caller.user_id, concert_id());
            let payment = PayHold {
                hold_id: held.id,
                user_id: caller.user_id,
                booking_id: BookingId::from_uuid(uuid::Uuid::now_v7()),
                transfer_id: payment_transfer_id(held.id),
                now: now(),
            };
            booking_of(&payment, &held)
        };
        let cases = [
            (PayError::NotFound, "not_found"),
            (PayError::Expired, "hold_expired"),
            (PayError::AlreadyPaid(Box::new(paid)), "hold_already_paid"),
            (PayError::NotOnSale, "not_on_sale"),
            (PayError::InsufficientBalance, "insufficient_balance"),
        ];
        for (refusal, code) in cases {
            let (mut fixture, held, raw) = holding(&caller);
            fixture
                .holds
                .expect_pay_hold()
                .return_once(move |_| Err(refusal));
            fixture.room.expect_sale_recorded().never();
            fixture.room.expect_finish().never();
            let error = fixture
                .tickets()
                .pay_hold(&caller, Some(&raw), held.id)
                .await
                .expect_err("refused");
            assert_eq!(error.code(), code);
            if code != "not_found" {
                assert_eq!(error.class(), ErrorClass::Conflict);
            }
        }
    }

    #[tokio::test]
    async fn someone_elses_hold_is_not_found_before_any_token_check() {
        let caller = principal(Role::Member);
        let theirs = hold(principal(Role::Member).user_id, concert_id());
        let raw = token(theirs.concert_id);
        let id = theirs.id;
        let mut fixture = Fixture::new();
        fixture
            .holds
            .expect_find_hold()
            .return_once(move |_| Ok(Some(theirs)));
        fixture.room.expect_poll().never();
        fixture.holds.expect_pay_hold().never();
        let error = fixture
            .tickets()
            .pay_hold(&caller, Some(raw.as_str()), id)
            .await;
        assert_eq!(error.map_err(|e| e.code()), Err("not_found"));
    }

    #[tokio::test]
    async fn a_token_of_another_concert_pays_nothing() {
        let caller = principal(Role::Member);
        let held = hold(caller.user_id, concert_id());
        let elsewhere = token(concert_id());
        let id = held.id;
        let mut fixture = Fixture::new();
        fixture
            .holds
            .expect_find_hold()
            .return_once(move |_| Ok(Some(held)));
        fixture.active_token(&elsewhere, caller.user_id);
        fixture.holds.expect_pay_hold().never();
        let error = fixture
            .tickets()
            .pay_hold(&caller, Some(elsewhere.as_str()), id)
            .await;
        assert_eq!(
            error.map_err(|e| e.code()),
            Err("queue_token_wrong_concert")
        );
    }
}
