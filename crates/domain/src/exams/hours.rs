//! Hours in the business time zone. A slot is one real hour `[start, start + 1 h)`, identified by
//! its UTC start, so daylight-saving days simply have 23 or 25 slots and no hour is counted twice.

use chrono::{DateTime, Duration, LocalResult, NaiveDate, NaiveTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use std::fmt;
use thiserror::Error;

/// The zone that defines what "a date" and "an hour" mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BusinessZone(Tz);

impl BusinessZone {
    /// Wraps an IANA zone.
    #[must_use]
    pub const fn new(zone: Tz) -> Self {
        Self(zone)
    }

    /// The zone.
    #[must_use]
    pub const fn tz(self) -> Tz {
        self.0
    }

    /// Whether `instant` is exactly on a local hour boundary.
    #[must_use]
    pub fn is_on_the_hour(self, instant: DateTime<Utc>) -> bool {
        let local = instant.with_timezone(&self.0);
        local.minute() == 0 && local.second() == 0 && local.nanosecond() == 0
    }

    /// The local date of `instant`.
    #[must_use]
    pub fn date_of(self, instant: DateTime<Utc>) -> NaiveDate {
        instant.with_timezone(&self.0).date_naive()
    }

    /// The first instant of a local date (the earliest, if midnight is ambiguous; the first valid
    /// local time, if midnight falls in a daylight-saving gap).
    #[must_use]
    pub fn start_of(self, date: NaiveDate) -> DateTime<Utc> {
        let mut time = NaiveTime::MIN;
        loop {
            match self.0.from_local_datetime(&date.and_time(time)) {
                LocalResult::Single(local) | LocalResult::Ambiguous(local, _) => {
                    return local.with_timezone(&Utc);
                }
                LocalResult::None => time += Duration::minutes(30),
            }
        }
    }
}

impl fmt::Display for BusinessZone {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.0.name())
    }
}

/// The UTC starts of every local hour of `date`, in order: 24 on ordinary days, 23 or 25 on
/// daylight-saving changes.
#[must_use]
pub fn hours_of_date(date: NaiveDate, zone: BusinessZone) -> Vec<DateTime<Utc>> {
    let start = zone.start_of(date);
    let end = date
        .succ_opt()
        .map_or(start + Duration::hours(24), |next| zone.start_of(next));
    let mut hours = Vec::with_capacity(25);
    let mut hour = start;
    while hour < end {
        if zone.is_on_the_hour(hour) {
            hours.push(hour);
        }
        hour += Duration::hours(1);
    }
    hours
}

/// `[starts_at, ends_at)`: whole local hours, at least one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HourRange {
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
}

/// Why two instants do not make an hour range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum HourRangeError {
    /// `starts_at` is not on a local hour.
    #[error("starts_at must be on the hour (minute and second 0)")]
    StartNotOnTheHour,
    /// `ends_at` is not on a local hour.
    #[error("ends_at must be on the hour (minute and second 0)")]
    EndNotOnTheHour,
    /// `ends_at` is not after `starts_at`.
    #[error("ends_at must be after starts_at")]
    EndsBeforeStart,
}

impl HourRange {
    /// Validates a range in `zone`.
    ///
    /// # Errors
    /// [`HourRangeError`].
    pub fn new(
        starts_at: DateTime<Utc>,
        ends_at: DateTime<Utc>,
        zone: BusinessZone,
    ) -> Result<Self, HourRangeError> {
        if !zone.is_on_the_hour(starts_at) {
            return Err(HourRangeError::StartNotOnTheHour);
        }
        if !zone.is_on_the_hour(ends_at) {
            return Err(HourRangeError::EndNotOnTheHour);
        }
        if ends_at <= starts_at {
            return Err(HourRangeError::EndsBeforeStart);
        }
        Ok(Self { starts_at, ends_at })
    }

    /// Rebuilds a range read back from storage, where it was validated when written. Checks only
    /// what holds in every zone: it is non-empty and a whole number of hours long.
    ///
    /// # Errors
    /// [`HourRangeError::EndsBeforeStart`] or [`HourRangeError::EndNotOnTheHour`].
    pub fn from_stored(
        starts_at: DateTime<Utc>,
        ends_at: DateTime<Utc>,
    ) -> Result<Self, HourRangeError> {
        if ends_at <= starts_at {
            return Err(HourRangeError::EndsBeforeStart);
        }
        if (ends_at - starts_at).num_seconds() % 3_600 != 0 {
            return Err(HourRangeError::EndNotOnTheHour);
        }
        Ok(Self { starts_at, ends_at })
    }

    /// First instant.
    #[must_use]
    pub const fn starts_at(&self) -> DateTime<Utc> {
        self.starts_at
    }

    /// First instant after the range.
    #[must_use]
    pub const fn ends_at(&self) -> DateTime<Utc> {
        self.ends_at
    }

    /// The UTC start of every hour slot the range covers, in order.
    #[must_use]
    pub fn hours(&self) -> Vec<DateTime<Utc>> {
        let mut hours = Vec::new();
        let mut hour = self.starts_at;
        while hour < self.ends_at {
            hours.push(hour);
            hour += Duration::hours(1);
        }
        hours
    }

    /// The start of the last covered hour.
    #[must_use]
    pub fn last_hour(&self) -> DateTime<Utc> {
        self.ends_at - Duration::hours(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SEOUL: BusinessZone = BusinessZone::new(chrono_tz::Asia::Seoul);
    const NEW_YORK: BusinessZone = BusinessZone::new(chrono_tz::America::New_York);

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
    }

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0)
            .single()
            .expect("valid instant")
    }

    #[test]
    fn ordinary_and_daylight_saving_days() {
        assert_eq!(hours_of_date(date(2026, 12, 1), SEOUL).len(), 24);
        assert_eq!(
            hours_of_date(date(2026, 12, 1), SEOUL)[0],
            utc(2026, 11, 30, 15, 0)
        );
        assert_eq!(
            hours_of_date(date(2026, 3, 8), NEW_YORK).len(),
            23,
            "spring forward"
        );
        assert_eq!(
            hours_of_date(date(2026, 11, 1), NEW_YORK).len(),
            25,
            "fall back"
        );
        let fall = hours_of_date(date(2026, 11, 1), NEW_YORK);
        let one_am: Vec<_> = fall
            .iter()
            .filter(|h| h.with_timezone(&NEW_YORK.tz()).hour() == 1)
            .collect();
        assert_eq!(one_am.len(), 2, "the repeated hour is two distinct slots");
    }

    #[test]
    fn ranges_cover_whole_hours_across_midnight() {
        let range =
            HourRange::new(utc(2026, 12, 1, 14, 0), utc(2026, 12, 1, 17, 0), SEOUL).expect("valid");
        assert_eq!(
            range.hours(),
            [
                utc(2026, 12, 1, 14, 0),
                utc(2026, 12, 1, 15, 0),
                utc(2026, 12, 1, 16, 0)
            ]
        );
        // 23:00 to 01:00 Seoul time crosses local midnight (14:00–16:00 UTC).
        assert_eq!(SEOUL.date_of(range.hours()[0]), date(2026, 12, 1));
        assert_eq!(SEOUL.date_of(range.hours()[1]), date(2026, 12, 2));
        assert_eq!(range.last_hour(), utc(2026, 12, 1, 16, 0));
    }

    #[test]
    fn ranges_across_a_daylight_saving_change_count_real_hours() {
        // 00:00 to 04:00 New York time on the spring-forward day is three real hours.
        let start = NEW_YORK.start_of(date(2026, 3, 8));
        let end = utc(2026, 3, 8, 8, 0);
        let range = HourRange::new(start, end, NEW_YORK).expect("valid");
        assert_eq!(range.hours().len(), 3);
    }

    #[test]
    fn rejects_off_hour_and_backwards_ranges() {
        let on = utc(2026, 12, 1, 14, 0);
        assert_eq!(
            HourRange::new(utc(2026, 12, 1, 14, 30), on, SEOUL),
            Err(HourRangeError::StartNotOnTheHour)
        );
        assert_eq!(
            HourRange::new(on, utc(2026, 12, 1, 15, 1), SEOUL),
            Err(HourRangeError::EndNotOnTheHour)
        );
        assert_eq!(
            HourRange::new(on, on, SEOUL),
            Err(HourRangeError::EndsBeforeStart)
        );
        let earlier = on - Duration::hours(1);
        assert_eq!(
            HourRange::new(on, earlier, SEOUL),
            Err(HourRangeError::EndsBeforeStart)
        );
        let india = BusinessZone::new(chrono_tz::Asia::Kolkata);
        assert_eq!(
            HourRange::new(on, on + Duration::hours(1), india),
            Err(HourRangeError::StartNotOnTheHour),
            "+05:30"
        );
    }

    proptest! {
        #[test]
        fn every_local_date_is_tiled_by_its_hours(days in 0_i64..3650, zone in prop::sample::select(vec![
            chrono_tz::Asia::Seoul, chrono_tz::America::New_York, chrono_tz::Europe::London,
            chrono_tz::Australia::Sydney, chrono_tz::America::Santiago,
        ])) {
            let zone = BusinessZone::new(zone);
            let day = date(2024, 1, 1) + Duration::days(days);
            let hours = hours_of_date(day, zone);
            prop_assert!((23..=25).contains(&hours.len()));
            for pair in hours.windows(2) {
                prop_assert_eq!(pair[1] - pair[0], Duration::hours(1));
            }
            for hour in &hours {
                prop_assert_eq!(zone.date_of(*hour), day);
                prop_assert!(zone.is_on_the_hour(*hour));
            }
            let next = hours_of_date(day + Duration::days(1), zone);
            prop_assert_eq!(hours[hours.len() - 1] + Duration::hours(1), next[0]);
        }

        #[test]
        fn a_range_covers_one_slot_per_real_hour(start_hour in 0_i64..100_000, length in 1_i64..72) {
            let start = utc(2024, 1, 1, 0, 0) + Duration::hours(start_hour);
            let range = HourRange::new(start, start + Duration::hours(length), NEW_YORK).expect("whole hours");
            let hours = range.hours();
            prop_assert_eq!(hours.len(), usize::try_from(length).unwrap_or_default());
            prop_assert_eq!(hours[0], start);
            prop_assert_eq!(range.last_hour(), hours[hours.len() - 1]);
        }
    }
}
