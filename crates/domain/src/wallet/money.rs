//! Money: whole units of the currency's minor unit (KRW has no minor unit: whole won), never floats.

use std::fmt;
use thiserror::Error;

/// A non-negative amount of money in the minor unit (won).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(i64);

/// An amount below zero where only zero or more makes sense.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("amount must not be negative")]
pub struct NegativeAmount;

impl Money {
    /// Nothing.
    pub const ZERO: Self = Self(0);

    /// Validates an amount.
    ///
    /// # Errors
    /// [`NegativeAmount`] below zero.
    pub const fn new(amount: i64) -> Result<Self, NegativeAmount> {
        if amount < 0 {
            Err(NegativeAmount)
        } else {
            Ok(Self(amount))
        }
    }

    /// The amount in the minor unit.
    #[must_use]
    pub const fn get(self) -> i64 {
        self.0
    }

    /// `self + other`, `None` on overflow.
    #[must_use]
    pub const fn checked_add(self, other: Self) -> Option<Self> {
        match self.0.checked_add(other.0) {
            Some(sum) => Some(Self(sum)),
            None => None,
        }
    }

    /// `self - other`, `None` if it would go below zero.
    #[must_use]
    pub const fn checked_sub(self, other: Self) -> Option<Self> {
        if other.0 > self.0 {
            None
        } else {
            Some(Self(self.0 - other.0))
        }
    }
}

impl fmt::Display for Money {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(formatter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_never_negative() {
        assert_eq!(Money::new(-1), Err(NegativeAmount));
        assert_eq!(Money::new(0).map(Money::get), Ok(0));
        let five = Money::new(5).unwrap();
        let three = Money::new(3).unwrap();
        assert_eq!(five.checked_sub(three), Some(Money::new(2).unwrap()));
        assert_eq!(three.checked_sub(five), None);
        assert_eq!(Money::new(i64::MAX).unwrap().checked_add(five), None);
    }
}
