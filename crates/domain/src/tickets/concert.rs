//! Concerts and their performances.

use super::{ConcertId, PerformanceId, SeatCount};
use crate::text::{TextRefusal, check_visible};
use crate::wallet::Money;
use chrono::{DateTime, NaiveDate, Utc};
use thiserror::Error;

/// A concert's title: 1 to [`ConcertTitle::MAX_CHARS`] characters after trimming, no control
/// or invisible characters (a title is read and compared by people, as an e-mail address is).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConcertTitle(String);

/// Why a title was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum InvalidTitle {
    /// Nothing but spaces.
    #[error("title must not be empty")]
    Empty,
    /// Longer than [`ConcertTitle::MAX_CHARS`].
    #[error("title must be at most {max} characters", max = ConcertTitle::MAX_CHARS)]
    TooLong,
    /// A control or invisible character.
    #[error(transparent)]
    Text(#[from] TextRefusal),
}

impl InvalidTitle {
    /// Stable code for clients.
    #[must_use]
    pub const fn code(self) -> &'static str {
        match self {
            Self::Empty => "title_empty",
            Self::TooLong => "title_too_long",
            Self::Text(refusal) => refusal.code(),
        }
    }
}

impl ConcertTitle {
    /// The longest title, in characters.
    pub const MAX_CHARS: usize = 200;

    /// Validates a title; surrounding whitespace is dropped.
    ///
    /// # Errors
    /// [`InvalidTitle`] when empty, too long, or holding a control character.
    pub fn parse(raw: &str) -> Result<Self, InvalidTitle> {
        check_visible(raw)?;
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(InvalidTitle::Empty);
        }
        if trimmed.chars().count() > Self::MAX_CHARS {
            return Err(InvalidTitle::TooLong);
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// A title read back from storage (validated when it was written).
    #[must_use]
    pub const fn from_stored(title: String) -> Self {
        Self(title)
    }

    /// The text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One date and time a concert is played.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Performance {
    /// Its id.
    pub id: PerformanceId,
    /// Its concert.
    pub concert_id: ConcertId,
    /// When it starts.
    pub starts_at: DateTime<Utc>,
    /// Its date in the business time zone: "one hold or booking per user per date" means this.
    pub local_date: NaiveDate,
    /// How many seats it has (numbered 1..=seats).
    pub seats: SeatCount,
    /// When an admin cancelled it, if they did.
    pub cancelled_at: Option<DateTime<Utc>>,
}

impl Performance {
    /// Whether seats of it can be held and paid for at `now`: not cancelled and not yet started.
    #[must_use]
    pub fn is_on_sale(&self, now: DateTime<Utc>) -> bool {
        self.cancelled_at.is_none() && now < self.starts_at
    }
}

/// A concert: a title, one price for every seat, and its performances.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Concert {
    /// Its id.
    pub id: ConcertId,
    /// Its title.
    pub title: ConcertTitle,
    /// The price of one seat.
    pub price: Money,
    /// Its performances, earliest first.
    pub performances: Vec<Performance>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;
    use uuid::Uuid;

    #[test]
    fn titles_are_trimmed_bounded_and_plain() {
        assert_eq!(
            ConcertTitle::parse("  IU Live  ").map(|t| t.as_str().to_owned()),
            Ok("IU Live".to_owned())
        );
        assert_eq!(ConcertTitle::parse("   "), Err(InvalidTitle::Empty));
        assert_eq!(
            ConcertTitle::parse(&"가".repeat(200)).map(|t| t.as_str().chars().count()),
            Ok(200)
        );
        assert_eq!(
            ConcertTitle::parse(&"가".repeat(201)),
            Err(InvalidTitle::TooLong)
        );
        assert_eq!(
            ConcertTitle::parse("a\u{0}b").map_err(InvalidTitle::code),
            Err("control_character")
        );
    }

    #[test]
    fn a_performance_is_on_sale_until_it_starts_unless_cancelled() {
        let starts_at = Utc::now() + Duration::days(1);
        let mut performance = Performance {
            id: PerformanceId::from_uuid(Uuid::now_v7()),
            concert_id: ConcertId::from_uuid(Uuid::now_v7()),
            starts_at,
            local_date: starts_at.date_naive(),
            seats: SeatCount::new(50).unwrap(),
            cancelled_at: None,
        };
        assert!(performance.is_on_sale(starts_at - Duration::microseconds(1)));
        assert!(!performance.is_on_sale(starts_at));
        performance.cancelled_at = Some(Utc::now());
        assert!(!performance.is_on_sale(starts_at - Duration::days(1)));
    }
}
