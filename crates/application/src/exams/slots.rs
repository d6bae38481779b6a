//! The slot query for a date, the operators' fill-level report, and slot generation.

use super::Exams;
use crate::ports::exams::Slot;
use crate::{DependencyError, ErrorClass, UseCaseError};
use chrono::{DateTime, Duration, DurationRound, NaiveDate, Utc};
use reserva_domain::exams::hours_of_date;
use thiserror::Error;

/// Why the slot query failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SlotQueryError {
    /// No hour of the date can be booked now.
    #[error(
        "no hour of {date} is inside the booking window (from {lead_hours} hours to {horizon_days} days ahead)"
    )]
    DateOutOfWindow {
        /// The date asked for.
        date: String,
        /// Lead time.
        lead_hours: i64,
        /// Horizon.
        horizon_days: i64,
    },
    /// A dependency failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

impl UseCaseError for SlotQueryError {
    fn class(&self) -> ErrorClass {
        match self {
            Self::DateOutOfWindow { .. } => ErrorClass::InvalidInput,
            Self::Dependency(error) => error.class(),
        }
    }
    fn code(&self) -> &'static str {
        match self {
            Self::DateOutOfWindow { .. } => "date_out_of_window",
            Self::Dependency(error) => error.code(),
        }
    }
}

/// The bookable hours of one date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaySlots {
    /// The date asked for.
    pub date: NaiveDate,
    /// Hours inside the booking window with room left, in order.
    pub slots: Vec<Slot>,
}

impl Exams {
    /// Every bookable hour of `date` (business time zone) with room left. Hours failing the
    /// window and full hours are left out.
    ///
    /// # Errors
    /// `DateOutOfWindow` when no hour of the date is inside the window; `Dependency`.
    pub async fn day_slots(&self, date: NaiveDate) -> Result<DaySlots, SlotQueryError> {
        let now = self.now();
        let hours: Vec<DateTime<Utc>> = hours_of_date(date, self.zone)
            .into_iter()
            .filter(|hour| self.policy.is_bookable(*hour, now))
            .collect();
        let (Some(first), Some(last)) = (hours.first(), hours.last()) else {
            return Err(SlotQueryError::DateOutOfWindow {
                date: date.to_string(),
                lead_hours: self.policy.lead_time().num_hours(),
                horizon_days: self.policy.horizon().num_days(),
            });
        };
        let stored = self
            .ports
            .slots
            .slots_between(*first, *last + Duration::hours(1))
            .await?;
        let slots = stored
            .into_iter()
            .filter(|slot| hours.contains(&slot.starts_at) && slot.remaining() > 0)
            .collect();
        Ok(DaySlots { date, slots })
    }

    /// Every stored slot of `date`, whatever the window: what operators look at.
    ///
    /// # Errors
    /// `Dependency`.
    pub async fn fill_levels(&self, date: NaiveDate) -> Result<Vec<Slot>, DependencyError> {
        let hours = hours_of_date(date, self.zone);
        let (Some(first), Some(last)) = (hours.first(), hours.last()) else {
            return Ok(Vec::new());
        };
        self.ports
            .slots
            .slots_between(*first, *last + Duration::hours(1))
            .await
    }

    /// Creates any missing slot from the current hour to one day past the horizon. Idempotent and
    /// safe to run from several instances at once; never touches existing slots.
    ///
    /// # Errors
    /// `Dependency`.
    pub async fn ensure_slots(&self) -> Result<u64, DependencyError> {
        let now = self.now();
        let first = now.duration_trunc(Duration::hours(1)).unwrap_or(now);
        let end = now + self.policy.horizon() + Duration::days(1);
        let mut hours = Vec::new();
        let mut hour = first;
        while hour <= end {
            if self.zone.is_on_the_hour(hour) {
                hours.push(hour);
            }
            hour += Duration::hours(1);
        }
        let mut created = 0;
        for batch in hours.chunks(500) {
            created += self
                .ports
                .slots
                .ensure_slots(batch, self.policy.capacity_per_hour())
                .await?;
        }
        Ok(created)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exams::test_support::{Fixture, now};

    fn slot(starts_at: DateTime<Utc>, confirmed: u32) -> Slot {
        Slot {
            starts_at,
            capacity: 50_000,
            confirmed,
        }
    }

    #[tokio::test]
    async fn lists_bookable_hours_with_room_only() {
        // now = 2026-11-25 12:00 Seoul; +72 h = 2026-11-28 12:00 Seoul.
        let boundary_date = NaiveDate::from_ymd_opt(2026, 11, 28).expect("date");
        let mut fixture = Fixture::new();
        fixture.slots.expect_slots_between().returning(|from, to| {
            let mut all = Vec::new();
            let mut hour = from;
            while hour < to {
                all.push(slot(hour, 0));
                hour += Duration::hours(1);
            }
            all[1].confirmed = 50_000;
            Ok(all)
        });
        let day = fixture
            .exams()
            .day_slots(boundary_date)
            .await
            .expect("in window");
        assert_eq!(
            day.slots.len(),
            11,
            "12:00..23:00 are bookable; 13:00 is full"
        );
        assert_eq!(day.slots[0].starts_at, now() + Duration::hours(72));
        assert!(day.slots.iter().all(|slot| slot.remaining() > 0));
    }

    #[tokio::test]
    async fn dates_outside_the_window_are_refused() {
        for date in [
            NaiveDate::from_ymd_opt(2026, 11, 27),
            NaiveDate::from_ymd_opt(2027, 2, 24),
        ] {
            let result = Fixture::new().exams().day_slots(date.expect("date")).await;
            assert!(
                matches!(result, Err(SlotQueryError::DateOutOfWindow { .. })),
                "{result:?}"
            );
        }
        let last_day = NaiveDate::from_ymd_opt(2027, 2, 23).expect("date");
        let mut fixture = Fixture::new();
        fixture
            .slots
            .expect_slots_between()
            .returning(|_, _| Ok(vec![]));
        assert!(
            fixture.exams().day_slots(last_day).await.is_ok(),
            "the horizon's last date has hours"
        );
    }

    #[tokio::test]
    async fn generation_covers_the_horizon_plus_a_day_in_batches() {
        let mut fixture = Fixture::new();
        fixture
            .slots
            .expect_ensure_slots()
            .withf(|hours, capacity| *capacity == 50_000 && hours.len() <= 500)
            .times(5)
            .returning(|hours, _| Ok(hours.len() as u64));
        let created = fixture.exams().ensure_slots().await;
        assert_eq!(created, Ok(91 * 24 + 1));
    }
}
