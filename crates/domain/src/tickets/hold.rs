//! Seat holds and bookings. A hold lapses at an exact instant: at `expires_at` it is over, so a
//! seat is free again the instant its hold expires, whatever any sweeper has done.

use super::{BookingId, ConcertId, HoldId, PerformanceId, SeatNumber};
use crate::accounts::UserId;
use crate::wallet::{Money, TransferId};
use chrono::{DateTime, Utc};

/// Where a hold stands, as stored. `Held` with `expires_at` passed is an expired hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HoldStatus {
    /// Holding its seat until `expires_at`.
    Held,
    /// Released by its owner (or by an admin cancelling the performance).
    Released,
    /// Paid: a booking exists.
    Paid,
    /// Tidied by the sweeper after it expired (an expired `Held` hold means the same).
    Expired,
}

impl HoldStatus {
    /// The stored name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Held => "held",
            Self::Released => "released",
            Self::Paid => "paid",
            Self::Expired => "expired",
        }
    }

    /// Reads a stored name back.
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        [Self::Held, Self::Released, Self::Paid, Self::Expired]
            .into_iter()
            .find(|status| status.as_str() == name)
    }
}

/// A user's hold on one seat of one performance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatHold {
    /// Its id.
    pub id: HoldId,
    /// The performance.
    pub performance_id: PerformanceId,
    /// The performance's concert.
    pub concert_id: ConcertId,
    /// The seat.
    pub seat: SeatNumber,
    /// Who holds it.
    pub user_id: UserId,
    /// The price to pay (the concert's price when the hold was made).
    pub price: Money,
    /// The stored status.
    pub status: HoldStatus,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// The first instant at which it no longer holds the seat.
    pub expires_at: DateTime<Utc>,
}

impl SeatHold {
    /// Whether the hold still holds its seat at `now`: held, and `now` before `expires_at`.
    #[must_use]
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.status == HoldStatus::Held && now < self.expires_at
    }

    /// The status as the owner sees it at `now`: an expired `Held` hold is `Expired`.
    #[must_use]
    pub fn status_at(&self, now: DateTime<Utc>) -> HoldStatus {
        if self.status == HoldStatus::Held && now >= self.expires_at {
            HoldStatus::Expired
        } else {
            self.status
        }
    }
}

/// Where a booking stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BookingStatus {
    /// Paid; the seat is the user's.
    Confirmed,
    /// The performance was cancelled and the price went back to the wallet.
    Refunded,
}

impl BookingStatus {
    /// The stored name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Confirmed => "confirmed",
            Self::Refunded => "refunded",
        }
    }

    /// Reads a stored name back.
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        [Self::Confirmed, Self::Refunded]
            .into_iter()
            .find(|status| status.as_str() == name)
    }
}

/// A paid seat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Booking {
    /// Its id.
    pub id: BookingId,
    /// The hold it was paid from.
    pub hold_id: HoldId,
    /// The performance.
    pub performance_id: PerformanceId,
    /// The concert.
    pub concert_id: ConcertId,
    /// The seat.
    pub seat: SeatNumber,
    /// The owner.
    pub user_id: UserId,
    /// What was paid.
    pub price: Money,
    /// The payment's transfer.
    pub payment_id: TransferId,
    /// Where it stands.
    pub status: BookingStatus,
    /// When it was paid.
    pub created_at: DateTime<Utc>,
    /// When it was refunded, if it was.
    pub refunded_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;
    use uuid::Uuid;

    fn hold(expires_at: DateTime<Utc>) -> SeatHold {
        SeatHold {
            id: HoldId::from_uuid(Uuid::now_v7()),
            performance_id: PerformanceId::from_uuid(Uuid::now_v7()),
            concert_id: ConcertId::from_uuid(Uuid::now_v7()),
            seat: SeatNumber::new(7).unwrap(),
            user_id: UserId::from_uuid(Uuid::now_v7()),
            price: Money::new(50_000).unwrap(),
            status: HoldStatus::Held,
            created_at: expires_at - Duration::minutes(5),
            expires_at,
        }
    }

    #[test]
    fn a_hold_expires_at_its_exact_instant() {
        let expires_at = Utc::now();
        let hold = hold(expires_at);
        let just_before = expires_at - Duration::microseconds(1);
        assert!(hold.is_live(just_before));
        assert_eq!(hold.status_at(just_before), HoldStatus::Held);
        assert!(!hold.is_live(expires_at));
        assert_eq!(hold.status_at(expires_at), HoldStatus::Expired);
        assert!(!hold.is_live(expires_at + Duration::microseconds(1)));
    }

    #[test]
    fn only_a_held_hold_is_live() {
        let expires_at = Utc::now() + Duration::minutes(5);
        for status in [HoldStatus::Released, HoldStatus::Paid, HoldStatus::Expired] {
            let hold = SeatHold {
                status,
                ..hold(expires_at)
            };
            assert!(!hold.is_live(Utc::now()));
            assert_eq!(hold.status_at(expires_at), status);
        }
    }

    #[test]
    fn statuses_round_trip() {
        for status in [
            HoldStatus::Held,
            HoldStatus::Released,
            HoldStatus::Paid,
            HoldStatus::Expired,
        ] {
            assert_eq!(HoldStatus::parse(status.as_str()), Some(status));
        }
        for status in [BookingStatus::Confirmed, BookingStatus::Refunded] {
            assert_eq!(BookingStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(HoldStatus::parse("gone"), None);
    }
}
