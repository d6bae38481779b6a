//! Timestamps leave the API as RFC 3339 strings carrying the business time zone's offset.

use chrono::{DateTime, SecondsFormat, Utc};
use chrono_tz::Tz;

/// `2026-11-25T18:00:00.123456+09:00` for Asia/Seoul.
pub(crate) fn format_instant(instant: DateTime<Utc>, zone: Tz) -> String {
    instant
        .with_timezone(&zone)
        .to_rfc3339_opts(SecondsFormat::AutoSi, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn shows_the_zone_offset_including_daylight_saving() {
        let instant = Utc
            .with_ymd_and_hms(2026, 7, 1, 0, 0, 0)
            .single()
            .expect("valid");
        assert_eq!(
            format_instant(instant, chrono_tz::Asia::Seoul),
            "2026-07-01T09:00:00+09:00"
        );
        assert_eq!(
            format_instant(instant, chrono_tz::America::New_York),
            "2026-06-30T20:00:00-04:00"
        );
        let winter = Utc
            .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
            .single()
            .expect("valid");
        assert_eq!(
            format_instant(winter, chrono_tz::America::New_York),
            "2025-12-31T19:00:00-05:00"
        );
    }
}
