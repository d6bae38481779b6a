//! The tickets policy (PRODUCT.md defaults): holds last 5 minutes, a performance has 50 seats
//! unless its concert says otherwise, the waiting room keeps 100 users active, an active user
//! stays active 10 minutes at most, a waiting user who has not polled for 2 minutes loses the
//! place, and the room lets in at most 10 seekers more than there are free seats.

use super::SeatCount;
use std::time::Duration;
use thiserror::Error;

/// Policy values, validated on construction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TicketPolicy {
    /// How long a hold keeps its seat.
    pub hold_ttl: Duration,
    /// Seats of a performance when the concert does not say.
    pub default_seats: SeatCount,
    /// Users active at once in one concert's room.
    pub max_active: u32,
    /// How long an admitted user stays active at most.
    pub active_ttl: Duration,
    /// How long a waiting user keeps the place without polling.
    pub idle_timeout: Duration,
    /// Seekers admitted beyond the free seats.
    pub admission_margin: u32,
}

/// A policy that makes no sense.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid tickets policy: {0}")]
pub struct InvalidTicketPolicy(&'static str);

impl TicketPolicy {
    /// Validates the values.
    ///
    /// # Errors
    /// [`InvalidTicketPolicy`] for a zero duration or a room that admits nobody.
    pub fn new(
        hold_ttl: Duration,
        default_seats: SeatCount,
        max_active: u32,
        active_ttl: Duration,
        idle_timeout: Duration,
        admission_margin: u32,
    ) -> Result<Self, InvalidTicketPolicy> {
        if hold_ttl.is_zero() || active_ttl.is_zero() || idle_timeout.is_zero() {
            return Err(InvalidTicketPolicy("durations must be positive"));
        }
        if max_active == 0 {
            return Err(InvalidTicketPolicy("max_active must be at least 1"));
        }
        Ok(Self {
            hold_ttl,
            default_seats,
            max_active,
            active_ttl,
            idle_timeout,
            admission_margin,
        })
    }
}

impl Default for TicketPolicy {
    fn default() -> Self {
        Self {
            hold_ttl: Duration::from_secs(5 * 60),
            default_seats: SeatCount::new(50).unwrap_or_else(|_| unreachable!()),
            max_active: 100,
            active_ttl: Duration::from_secs(10 * 60),
            idle_timeout: Duration::from_secs(2 * 60),
            admission_margin: 10,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_products() {
        let policy = TicketPolicy::default();
        assert_eq!(policy.hold_ttl, Duration::from_secs(300));
        assert_eq!(policy.default_seats.get(), 50);
        assert_eq!(policy.max_active, 100);
        assert_eq!(policy.active_ttl, Duration::from_secs(600));
        assert_eq!(policy.idle_timeout, Duration::from_secs(120));
    }

    #[test]
    fn nonsense_is_refused() {
        let seats = SeatCount::new(50).unwrap();
        let minute = Duration::from_secs(60);
        assert!(TicketPolicy::new(Duration::ZERO, seats, 1, minute, minute, 0).is_err());
        assert!(TicketPolicy::new(minute, seats, 0, minute, minute, 0).is_err());
        assert!(TicketPolicy::new(minute, seats, 1, minute, minute, 0).is_ok());
    }
}
