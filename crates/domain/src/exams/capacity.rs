//! Headcounts and the capacity arithmetic: only confirmed people use a slot's capacity.

use thiserror::Error;

/// How many examinees a reservation is for: at least one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Headcount(u32);

/// A headcount of zero or a negative number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("must be at least 1")]
pub struct InvalidHeadcount;

impl Headcount {
    /// Validates a requested headcount (the policy's maximum is checked by [`super::BookingPolicy`]).
    ///
    /// # Errors
    /// [`InvalidHeadcount`] below 1 or beyond `u32`.
    pub fn new(requested: i64) -> Result<Self, InvalidHeadcount> {
        u32::try_from(requested)
            .ok()
            .filter(|count| *count >= 1)
            .map(Self)
            .ok_or(InvalidHeadcount)
    }

    /// The number of people.
    #[must_use]
    pub const fn get(self) -> u32 {
        self.0
    }
}

/// Whether `headcount` more people fit in a slot that has `confirmed` of `capacity` taken.
/// Computed in 64 bits so no input can overflow into a false "fits".
#[must_use]
pub fn fits(confirmed: u32, headcount: Headcount, capacity: u32) -> bool {
    u64::from(confirmed) + u64::from(headcount.get()) <= u64::from(capacity)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn people(count: i64) -> Headcount {
        Headcount::new(count).expect("valid headcount")
    }

    #[test]
    fn the_assignment_example() {
        assert!(fits(30_000, people(20_000), 50_000));
        assert!(!fits(30_000, people(20_001), 50_000));
        assert!(fits(0, people(50_000), 50_000));
        assert!(!fits(50_000, people(1), 50_000));
    }

    #[test]
    fn headcount_is_positive() {
        assert_eq!(Headcount::new(0), Err(InvalidHeadcount));
        assert_eq!(Headcount::new(-3), Err(InvalidHeadcount));
        assert_eq!(
            Headcount::new(i64::from(u32::MAX) + 1),
            Err(InvalidHeadcount)
        );
        assert_eq!(Headcount::new(1).map(Headcount::get), Ok(1));
    }

    proptest! {
        #[test]
        fn fits_exactly_when_the_sum_stays_within_capacity(
            confirmed in 0_u32..=u32::MAX, count in 1_u32..=u32::MAX, capacity in 0_u32..=u32::MAX
        ) {
            let expected = u64::from(confirmed) + u64::from(count) <= u64::from(capacity);
            prop_assert_eq!(fits(confirmed, people(i64::from(count)), capacity), expected);
        }
    }
}
