//! Exam reservations over HTTP on both backends. The request builders and slot readers here are
//! shared by the submodules.

mod concurrency;
mod reservations;

use crate::helpers::TestApp;
use chrono::{DateTime, Duration, DurationRound, SecondsFormat, Utc};
use serde_json::{Value, json};

/// A Seoul hour `days` ahead (UTC hours are Seoul hours: the offset is whole).
fn hour(days: i64, plus_hours: i64) -> DateTime<Utc> {
    Utc::now()
        .duration_trunc(Duration::hours(1))
        .expect("truncates")
        + Duration::days(days)
        + Duration::hours(plus_hours)
}

fn stamp(instant: DateTime<Utc>) -> String {
    instant
        .with_timezone(&chrono_tz::Asia::Seoul)
        .to_rfc3339_opts(SecondsFormat::Secs, false)
}

fn request(start: DateTime<Utc>, hours: i64, headcount: i64) -> Value {
    json!({"starts_at": stamp(start), "ends_at": stamp(start + Duration::hours(hours)), "headcount": headcount})
}

async fn create(
    app: &TestApp,
    token: &str,
    start: DateTime<Utc>,
    hours: i64,
    headcount: i64,
) -> String {
    let answer = app
        .post(
            "/api/v1/exam-reservations",
            &request(start, hours, headcount),
            Some(token),
        )
        .await;
    assert_eq!(answer.status, 201, "{:#}", answer.body);
    answer.body["id"].as_str().expect("id").to_owned()
}

async fn remaining(app: &TestApp, token: &str, at: DateTime<Utc>) -> Option<u64> {
    let date = at.with_timezone(&chrono_tz::Asia::Seoul).date_naive();
    let answer = app
        .get(&format!("/api/v1/exam-slots?date={date}"), Some(token))
        .await;
    assert_eq!(answer.status, 200, "{:#}", answer.body);
    let slots = answer.body["slots"].as_array().expect("slots").clone();
    slots
        .iter()
        .find(|slot| slot["starts_at"] == stamp(at))
        .and_then(|slot| slot["remaining"].as_u64())
}
