//! Instants as people read them: RFC 3339 with the business time zone's offset. One function for
//! the hours named in error details and the timestamps of response bodies, so the same hour reads
//! the same wherever it appears.

use chrono::{DateTime, SecondsFormat, Utc};
use reserva_domain::exams::BusinessZone;

/// `2026-11-25T18:00:00+09:00` for Asia/Seoul; a fraction of a second only when there is one
/// (`…18:00:00.123456+09:00`), so whole hours never show one.
#[must_use]
pub fn format_instant(instant: DateTime<Utc>, zone: BusinessZone) -> String {
    instant
        .with_timezone(&zone.tz())
        .to_rfc3339_opts(SecondsFormat::AutoSi, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    const SEOUL: BusinessZone = BusinessZone::new(chrono_tz::Asia::Seoul);
    const NEW_YORK: BusinessZone = BusinessZone::new(chrono_tz::America::New_York);

    fn utc(year: i32, month: u32, day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(year, month, day, 0, 0, 0)
            .single()
            .unwrap_or_default()
    }

    #[test]
    fn shows_the_zone_offset_including_daylight_saving() {
        let summer = utc(2026, 7, 1);
        assert_eq!(format_instant(summer, SEOUL), "2026-07-01T09:00:00+09:00");
        assert_eq!(
            format_instant(summer, NEW_YORK),
            "2026-06-30T20:00:00-04:00"
        );
        assert_eq!(
            format_instant(utc(2026, 1, 1), NEW_YORK),
            "2025-12-31T19:00:00-05:00"
        );
    }

    #[test]
    fn fractions_only_when_there_are_some() {
        let instant = utc(2026, 7, 1) + Duration::microseconds(123_456);
        assert_eq!(
            format_instant(instant, SEOUL),
            "2026-07-01T09:00:00.123456+09:00"
        );
        assert_eq!(
            format_instant(utc(2026, 7, 1) + Duration::milliseconds(5), SEOUL),
            "2026-07-01T09:00:00.005+09:00"
        );
    }
}
