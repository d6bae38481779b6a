//! Seats: a performance has seats numbered 1..=count, count at most [`SeatCount::MAX`].

use thiserror::Error;

/// How many seats a performance has: 1 to [`SeatCount::MAX`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct SeatCount(u16);

/// A seat count outside 1..=50.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("seats must be between 1 and {max}", max = SeatCount::MAX)]
pub struct InvalidSeatCount;

impl SeatCount {
    /// The most seats a performance may have (PRODUCT.md: seats 1..50).
    pub const MAX: u16 = 50;

    /// Validates a seat count.
    ///
    /// # Errors
    /// [`InvalidSeatCount`] outside 1..=[`SeatCount::MAX`].
    pub fn new(count: i64) -> Result<Self, InvalidSeatCount> {
        u16::try_from(count)
            .ok()
            .filter(|count| (1..=Self::MAX).contains(count))
            .map(Self)
            .ok_or(InvalidSeatCount)
    }

    /// The count.
    #[must_use]
    pub const fn get(self) -> u16 {
        self.0
    }

    /// Every seat number, in order.
    pub fn seats(self) -> impl Iterator<Item = SeatNumber> {
        (1..=self.0).map(SeatNumber)
    }
}

/// A seat number of some performance: at least 1. Whether it exists in a given performance is
/// [`SeatNumber::within`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SeatNumber(u16);

/// A seat number the performance does not have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("seat must be between 1 and {count}")]
pub struct SeatOutOfRange {
    /// The performance's seat count.
    pub count: u16,
}

impl SeatNumber {
    /// Validates a seat number against the largest possible performance; `within` checks it
    /// against an actual one.
    ///
    /// # Errors
    /// [`SeatOutOfRange`] outside 1..=[`SeatCount::MAX`].
    pub fn new(number: i64) -> Result<Self, SeatOutOfRange> {
        u16::try_from(number)
            .ok()
            .filter(|number| (1..=SeatCount::MAX).contains(number))
            .map(Self)
            .ok_or(SeatOutOfRange {
                count: SeatCount::MAX,
            })
    }

    /// The number.
    #[must_use]
    pub const fn get(self) -> u16 {
        self.0
    }

    /// This seat, if a performance of `count` seats has it.
    ///
    /// # Errors
    /// [`SeatOutOfRange`] when the number is above `count`.
    pub const fn within(self, count: SeatCount) -> Result<Self, SeatOutOfRange> {
        if self.0 <= count.0 {
            Ok(self)
        } else {
            Err(SeatOutOfRange { count: count.0 })
        }
    }
}

/// What a seat looks like to someone choosing one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SeatState {
    /// Neither sold nor under a live hold.
    Available,
    /// Under a hold that has not expired.
    Held,
    /// Paid for.
    Sold,
}

impl SeatState {
    /// `available`, `held` or `sold`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Available => "available",
            Self::Held => "held",
            Self::Sold => "sold",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seat_counts_run_from_one_to_fifty() {
        assert_eq!(SeatCount::new(0), Err(InvalidSeatCount));
        assert_eq!(SeatCount::new(51), Err(InvalidSeatCount));
        assert_eq!(SeatCount::new(-1), Err(InvalidSeatCount));
        let fifty = SeatCount::new(50).unwrap();
        let numbers: Vec<u16> = fifty.seats().map(SeatNumber::get).collect();
        assert_eq!(numbers, (1..=50).collect::<Vec<_>>());
    }

    #[test]
    fn a_seat_exists_only_within_its_performance() {
        assert!(SeatNumber::new(0).is_err());
        assert!(SeatNumber::new(51).is_err());
        assert!(SeatNumber::new(i64::from(u16::MAX) + 1).is_err());
        let ten = SeatCount::new(10).unwrap();
        assert_eq!(
            SeatNumber::new(10)
                .unwrap()
                .within(ten)
                .map(SeatNumber::get),
            Ok(10)
        );
        assert_eq!(
            SeatNumber::new(11).unwrap().within(ten),
            Err(SeatOutOfRange { count: 10 })
        );
    }
}
