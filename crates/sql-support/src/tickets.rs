//! Stored concerts, performances, holds and bookings as entities, and the checks a hold or a
//! payment is decided on, the same for both stores.

use chrono::{DateTime, NaiveDate, Utc};
use reserva_application::DependencyError;
use reserva_application::ports::tickets::{HoldError, PayError};
use reserva_domain::accounts::UserId;
use reserva_domain::tickets::{
    Booking, BookingId, BookingStatus, Concert, ConcertId, ConcertTitle, HoldId, HoldStatus,
    Performance, PerformanceId, SeatCount, SeatHold, SeatNumber, SeatState,
};
use reserva_domain::wallet::{Money, TransferId};
use uuid::Uuid;

fn corrupt(what: &str) -> DependencyError {
    DependencyError::Failed(format!("stored tickets row has an invalid {what}"))
}

fn money(amount: i64) -> Result<Money, DependencyError> {
    Money::new(amount).map_err(|_| corrupt("price"))
}

fn seat_number(number: i32) -> Result<SeatNumber, DependencyError> {
    SeatNumber::new(i64::from(number)).map_err(|_| corrupt("seat number"))
}

/// A `concerts` row as plain values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredConcert {
    /// `id`.
    pub id: Uuid,
    /// `title`.
    pub title: String,
    /// `price`.
    pub price: i64,
    /// `created_at`.
    pub created_at: DateTime<Utc>,
}

impl StoredConcert {
    /// The concert with these performances (sorted here, earliest first).
    ///
    /// # Errors
    /// [`DependencyError::Failed`] for a negative price.
    pub fn into_concert(
        self,
        mut performances: Vec<Performance>,
    ) -> Result<Concert, DependencyError> {
        performances.sort_by_key(|p| (p.starts_at, p.id.as_uuid()));
        Ok(Concert {
            id: ConcertId::from_uuid(self.id),
            title: ConcertTitle::from_stored(self.title),
            price: money(self.price)?,
            performances,
            created_at: self.created_at,
        })
    }
}

/// A `performances` row as plain values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPerformance {
    /// `id`.
    pub id: Uuid,
    /// `concert_id`.
    pub concert_id: Uuid,
    /// `starts_at`.
    pub starts_at: DateTime<Utc>,
    /// `local_date`.
    pub local_date: NaiveDate,
    /// `seat_count`.
    pub seat_count: i32,
    /// `cancelled_at`.
    pub cancelled_at: Option<DateTime<Utc>>,
}

impl StoredPerformance {
    /// The performance.
    ///
    /// # Errors
    /// [`DependencyError::Failed`] for a seat count outside 1..=50.
    pub fn into_performance(self) -> Result<Performance, DependencyError> {
        Ok(Performance {
            id: PerformanceId::from_uuid(self.id),
            concert_id: ConcertId::from_uuid(self.concert_id),
            starts_at: self.starts_at,
            local_date: self.local_date,
            seats: SeatCount::new(i64::from(self.seat_count)).map_err(|_| corrupt("seat count"))?,
            cancelled_at: self.cancelled_at,
        })
    }
}

/// A `seat_holds` row as plain values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredHold {
    /// `id`.
    pub id: Uuid,
    /// `performance_id`.
    pub performance_id: Uuid,
    /// `concert_id`.
    pub concert_id: Uuid,
    /// `seat_number`.
    pub seat_number: i32,
    /// `user_id`.
    pub user_id: Uuid,
    /// `price`.
    pub price: i64,
    /// `status`.
    pub status: String,
    /// `created_at`.
    pub created_at: DateTime<Utc>,
    /// `expires_at`.
    pub expires_at: DateTime<Utc>,
}

impl StoredHold {
    /// The hold.
    ///
    /// # Errors
    /// [`DependencyError::Failed`] when a stored value breaks a rule it was written under.
    pub fn into_hold(self) -> Result<SeatHold, DependencyError> {
        Ok(SeatHold {
            id: HoldId::from_uuid(self.id),
            performance_id: PerformanceId::from_uuid(self.performance_id),
            concert_id: ConcertId::from_uuid(self.concert_id),
            seat: seat_number(self.seat_number)?,
            user_id: UserId::from_uuid(self.user_id),
            price: money(self.price)?,
            status: HoldStatus::parse(&self.status).ok_or_else(|| corrupt("hold status"))?,
            created_at: self.created_at,
            expires_at: self.expires_at,
        })
    }
}

/// A `bookings` row as plain values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBooking {
    /// `id`.
    pub id: Uuid,
    /// `hold_id`.
    pub hold_id: Uuid,
    /// `performance_id`.
    pub performance_id: Uuid,
    /// `concert_id`.
    pub concert_id: Uuid,
    /// `seat_number`.
    pub seat_number: i32,
    /// `user_id`.
    pub user_id: Uuid,
    /// `price`.
    pub price: i64,
    /// `payment_id`.
    pub payment_id: Uuid,
    /// `status`.
    pub status: String,
    /// `created_at`.
    pub created_at: DateTime<Utc>,
    /// `refunded_at`.
    pub refunded_at: Option<DateTime<Utc>>,
}

impl StoredBooking {
    /// The booking.
    ///
    /// # Errors
    /// [`DependencyError::Failed`] when a stored value breaks a rule it was written under.
    pub fn into_booking(self) -> Result<Booking, DependencyError> {
        Ok(Booking {
            id: BookingId::from_uuid(self.id),
            hold_id: HoldId::from_uuid(self.hold_id),
            performance_id: PerformanceId::from_uuid(self.performance_id),
            concert_id: ConcertId::from_uuid(self.concert_id),
            seat: seat_number(self.seat_number)?,
            user_id: UserId::from_uuid(self.user_id),
            price: money(self.price)?,
            payment_id: TransferId::from_uuid(self.payment_id),
            status: BookingStatus::parse(&self.status).ok_or_else(|| corrupt("booking status"))?,
            created_at: self.created_at,
            refunded_at: self.refunded_at,
        })
    }
}

/// A seat's state at `now` from its row: sold when it carries a booking, held when its hold has
/// not yet expired.
#[must_use]
pub fn seat_state(
    booking_id: Option<Uuid>,
    hold_expires_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> SeatState {
    if booking_id.is_some() {
        SeatState::Sold
    } else if hold_expires_at.is_some_and(|expires_at| now < expires_at) {
        SeatState::Held
    } else {
        SeatState::Available
    }
}

/// The checks a hold request passes before any write: the performance exists, is on sale at
/// `now`, and has the seat. Returns the performance.
///
/// # Errors
/// `PerformanceNotFound`, `NotOnSale`, `NoSuchSeat`.
pub fn check_hold(
    performance: Option<Performance>,
    seat: SeatNumber,
    now: DateTime<Utc>,
) -> Result<Performance, HoldError> {
    let performance = performance.ok_or(HoldError::PerformanceNotFound)?;
    if !performance.is_on_sale(now) {
        return Err(HoldError::NotOnSale);
    }
    seat.within(performance.seats)
        .map_err(|refusal| HoldError::NoSuchSeat {
            seat: seat.get(),
            count: refusal.count,
        })?;
    Ok(performance)
}

/// The checks a payment of the (locked) hold passes before money moves: the caller owns it, it
/// is not paid (else its booking), it is live at `now`, and its performance is on sale
/// (`off_sale`: cancelled, or started by `now`).
///
/// # Errors
/// `NotFound`, `AlreadyPaid` (with `booking`, which the caller reads for a paid hold), `Expired`,
/// `NotOnSale`.
pub fn check_payment(
    hold: Option<&SeatHold>,
    user: UserId,
    booking: Option<Booking>,
    off_sale: bool,
    now: DateTime<Utc>,
) -> Result<(), PayError> {
    let hold = hold
        .filter(|hold| hold.user_id == user)
        .ok_or(PayError::NotFound)?;
    if hold.status == HoldStatus::Paid {
        return Err(booking.map_or_else(
            || PayError::Dependency(corrupt("paid hold without its booking")),
            |booking| PayError::AlreadyPaid(Box::new(booking)),
        ));
    }
    if !hold.is_live(now) {
        return Err(PayError::Expired);
    }
    if off_sale {
        return Err(PayError::NotOnSale);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn hold(expires_at: DateTime<Utc>, status: HoldStatus) -> SeatHold {
        SeatHold {
            id: HoldId::from_uuid(Uuid::now_v7()),
            performance_id: PerformanceId::from_uuid(Uuid::now_v7()),
            concert_id: ConcertId::from_uuid(Uuid::now_v7()),
            seat: SeatNumber::new(1).unwrap(),
            user_id: UserId::from_uuid(Uuid::now_v7()),
            price: Money::new(10).unwrap(),
            status,
            created_at: expires_at - Duration::minutes(5),
            expires_at,
        }
    }

    #[test]
    fn a_seat_is_sold_held_until_its_instant_or_available() {
        let now = Utc::now();
        assert_eq!(seat_state(Some(Uuid::nil()), None, now), SeatState::Sold);
        assert_eq!(
            seat_state(None, Some(now + Duration::microseconds(1)), now),
            SeatState::Held
        );
        assert_eq!(seat_state(None, Some(now), now), SeatState::Available);
        assert_eq!(seat_state(None, None, now), SeatState::Available);
    }

    #[test]
    fn a_payment_needs_the_owner_a_live_hold_and_a_performance_on_sale() {
        let now = Utc::now();
        let live = hold(now + Duration::minutes(1), HoldStatus::Held);
        let owner = live.user_id;
        assert_eq!(check_payment(Some(&live), owner, None, false, now), Ok(()));
        let stranger = UserId::from_uuid(Uuid::now_v7());
        assert_eq!(
            check_payment(Some(&live), stranger, None, false, now),
            Err(PayError::NotFound)
        );
        assert_eq!(
            check_payment(None, owner, None, false, now),
            Err(PayError::NotFound)
        );
        assert_eq!(
            check_payment(Some(&live), owner, None, false, live.expires_at),
            Err(PayError::Expired)
        );
        assert_eq!(
            check_payment(Some(&live), owner, None, true, now),
            Err(PayError::NotOnSale)
        );
        let released = SeatHold {
            status: HoldStatus::Released,
            ..live.clone()
        };
        assert_eq!(
            check_payment(Some(&released), owner, None, false, now),
            Err(PayError::Expired)
        );
        let paid = SeatHold {
            status: HoldStatus::Paid,
            ..live
        };
        assert!(matches!(
            check_payment(Some(&paid), owner, None, false, now),
            Err(PayError::Dependency(_))
        ));
    }
}
