//! The booking policy: capacity per hour, how far ahead a reservation must and may start, the
//! largest headcount and the longest reservation. Defaults are the source system's (50,000
//! people, 72 hours, 90 days) and 24 hours, so one request cannot lock and count thousands of
//! hourly slots.

use super::{Headcount, HourRange};
use chrono::{DateTime, Duration, Utc};
use thiserror::Error;

/// Policy values, validated on construction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BookingPolicy {
    capacity_per_hour: u32,
    lead_time: Duration,
    horizon: Duration,
    max_headcount: u32,
    max_duration: Duration,
}

/// A policy that makes no sense.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid booking policy: {0}")]
pub struct InvalidPolicy(&'static str);

/// A reservation request outside what the policy allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum WindowViolation {
    /// Starts sooner than the lead time.
    #[error("must start at least {lead_hours} hours from now")]
    TooSoon {
        /// The lead time in hours.
        lead_hours: i64,
    },
    /// Starts, or covers an hour, beyond the horizon.
    #[error("must start and end within {horizon_days} days from now")]
    BeyondHorizon {
        /// The horizon in days.
        horizon_days: i64,
    },
    /// More people than one reservation may hold.
    #[error("must be at most {max} people")]
    HeadcountTooLarge {
        /// The maximum.
        max: u32,
    },
    /// Covers more hours than one reservation may.
    #[error("must last at most {max_hours} hours")]
    TooLong {
        /// The longest reservation, in hours.
        max_hours: i64,
    },
}

impl WindowViolation {
    /// Stable code for clients.
    #[must_use]
    pub const fn code(self) -> &'static str {
        match self {
            Self::TooSoon { .. } | Self::BeyondHorizon { .. } => "outside_booking_window",
            Self::HeadcountTooLarge { .. } => "headcount_too_large",
            Self::TooLong { .. } => "duration_too_long",
        }
    }
}

impl Default for BookingPolicy {
    fn default() -> Self {
        Self {
            capacity_per_hour: 50_000,
            lead_time: Duration::hours(72),
            horizon: Duration::days(90),
            max_headcount: 50_000,
            max_duration: Duration::hours(24),
        }
    }
}

impl BookingPolicy {
    /// Builds a policy.
    ///
    /// # Errors
    /// [`InvalidPolicy`] for a zero capacity or headcount, a negative lead time, a horizon not
    /// beyond the lead time, or a maximum duration under one hour.
    pub fn new(
        capacity_per_hour: u32,
        lead_time: Duration,
        horizon: Duration,
        max_headcount: u32,
        max_duration: Duration,
    ) -> Result<Self, InvalidPolicy> {
        if capacity_per_hour == 0 || max_headcount == 0 {
            return Err(InvalidPolicy(
                "capacity and maximum headcount must be positive",
            ));
        }
        if lead_time < Duration::zero() || horizon <= lead_time {
            return Err(InvalidPolicy(
                "the horizon must lie beyond a non-negative lead time",
            ));
        }
        if max_duration < Duration::hours(1) {
            return Err(InvalidPolicy(
                "the maximum duration must be at least one hour",
            ));
        }
        Ok(Self {
            capacity_per_hour,
            lead_time,
            horizon,
            max_headcount,
            max_duration,
        })
    }

    /// People per hourly slot.
    #[must_use]
    pub const fn capacity_per_hour(&self) -> u32 {
        self.capacity_per_hour
    }

    /// How far ahead the earliest bookable hour lies.
    #[must_use]
    pub const fn lead_time(&self) -> Duration {
        self.lead_time
    }

    /// How far ahead the latest bookable hour lies.
    #[must_use]
    pub const fn horizon(&self) -> Duration {
        self.horizon
    }

    /// The longest reservation.
    #[must_use]
    pub const fn max_duration(&self) -> Duration {
        self.max_duration
    }

    /// Whether an hour starting at `hour` may be booked at `now`.
    #[must_use]
    pub fn is_bookable(&self, hour: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        hour >= now + self.lead_time && hour <= now + self.horizon
    }

    /// Checks a requested range and headcount at `now`, in this order: the headcount within the
    /// maximum, the range no longer than the maximum duration, the start at least the lead time
    /// ahead, every covered hour within the horizon.
    ///
    /// # Errors
    /// The first [`WindowViolation`].
    pub fn check(
        &self,
        range: &HourRange,
        headcount: Headcount,
        now: DateTime<Utc>,
    ) -> Result<(), WindowViolation> {
        if headcount.get() > self.max_headcount {
            return Err(WindowViolation::HeadcountTooLarge {
                max: self.max_headcount,
            });
        }
        if range.ends_at() - range.starts_at() > self.max_duration {
            return Err(WindowViolation::TooLong {
                max_hours: self.max_duration.num_hours(),
            });
        }
        if range.starts_at() < now + self.lead_time {
            return Err(WindowViolation::TooSoon {
                lead_hours: self.lead_time.num_hours(),
            });
        }
        if range.last_hour() > now + self.horizon {
            return Err(WindowViolation::BeyondHorizon {
                horizon_days: self.horizon.num_days(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exams::BusinessZone;
    use chrono::TimeZone;

    const SEOUL: BusinessZone = BusinessZone::new(chrono_tz::Asia::Seoul);

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 25, 3, 0, 0)
            .single()
            .expect("valid")
    }

    fn range(start: DateTime<Utc>, hours: i64) -> HourRange {
        HourRange::new(start, start + Duration::hours(hours), SEOUL).expect("whole hours")
    }

    fn people(count: i64) -> Headcount {
        Headcount::new(count).expect("valid")
    }

    #[test]
    fn lead_time_boundary_is_exact() {
        let policy = BookingPolicy::default();
        assert_eq!(
            policy.check(&range(now() + Duration::hours(72), 1), people(1), now()),
            Ok(())
        );
        let a_minute_less = now() - Duration::minutes(1);
        let result = policy.check(
            &range(now() + Duration::hours(72), 1),
            people(1),
            a_minute_less + Duration::minutes(2),
        );
        assert_eq!(
            result,
            Err(WindowViolation::TooSoon { lead_hours: 72 }),
            "starts 71 h 59 min ahead"
        );
        assert!(policy.is_bookable(now() + Duration::hours(72), now()));
        assert!(!policy.is_bookable(now() + Duration::hours(72), now() + Duration::minutes(1)));
    }

    #[test]
    fn horizon_boundary_applies_to_every_covered_hour() {
        let policy = BookingPolicy::default();
        let last = now() + Duration::days(90);
        assert_eq!(policy.check(&range(last, 1), people(1), now()), Ok(()));
        assert_eq!(
            policy.check(&range(last - Duration::hours(1), 2), people(1), now()),
            Ok(())
        );
        let over = range(last, 2);
        assert_eq!(
            policy.check(&over, people(1), now()),
            Err(WindowViolation::BeyondHorizon { horizon_days: 90 })
        );
        assert_eq!(
            policy.check(&range(last + Duration::hours(1), 1), people(1), now()),
            Err(WindowViolation::BeyondHorizon { horizon_days: 90 })
        );
    }

    #[test]
    fn headcount_maximum() {
        let policy = BookingPolicy::default();
        let ok = range(now() + Duration::days(10), 1);
        assert_eq!(policy.check(&ok, people(50_000), now()), Ok(()));
        assert_eq!(
            policy.check(&ok, people(50_001), now()),
            Err(WindowViolation::HeadcountTooLarge { max: 50_000 })
        );
        assert_eq!(
            WindowViolation::HeadcountTooLarge { max: 1 }.code(),
            "headcount_too_large"
        );
    }

    #[test]
    fn duration_maximum() {
        let policy = BookingPolicy::default();
        let start = now() + Duration::days(10);
        assert_eq!(policy.check(&range(start, 24), people(1), now()), Ok(()));
        for hours in [25, 2_086] {
            assert_eq!(
                policy.check(&range(start, hours), people(1), now()),
                Err(WindowViolation::TooLong { max_hours: 24 }),
                "{hours} hours"
            );
        }
        assert_eq!(
            WindowViolation::TooLong { max_hours: 24 }.code(),
            "duration_too_long"
        );
        let longer = BookingPolicy::new(
            1,
            Duration::hours(1),
            Duration::days(5),
            1,
            Duration::hours(48),
        );
        assert_eq!(
            longer.map(|policy| policy.check(
                &range(start - Duration::days(8), 48),
                people(1),
                now()
            )),
            Ok(Ok(()))
        );
    }

    #[test]
    fn nonsense_policies_are_refused() {
        let day = Duration::hours(24);
        assert!(BookingPolicy::new(0, Duration::hours(1), Duration::days(1), 1, day).is_err());
        assert!(BookingPolicy::new(1, Duration::hours(-1), Duration::days(1), 1, day).is_err());
        assert!(BookingPolicy::new(1, Duration::days(2), Duration::days(1), 1, day).is_err());
        let under_an_hour = Duration::minutes(59);
        assert!(
            BookingPolicy::new(1, Duration::zero(), Duration::days(1), 1, under_an_hour).is_err()
        );
        assert!(BookingPolicy::new(10, Duration::zero(), Duration::days(1), 5, day).is_ok());
    }
}
