//! Two `reserva` processes on one PostgreSQL + Redis, racing confirms for one hour over HTTP:
//! capacity must hold across processes, not just across threads of one.

#[allow(
    dead_code,
    reason = "each test file uses its own part of the shared helpers"
)]
mod support;

use chrono::{Duration, DurationRound, SecondsFormat, Utc};
use reserva_adapter_postgres::test_support::TemporaryDatabase;
use serde_json::json;
use support::{RedisPrefix, call, create_admin, login, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_racing_confirms_never_oversell_an_hour() {
    let database = TemporaryDatabase::create().await;
    let redis = RedisPrefix::new("two");
    let prefix = &redis.0;
    let first = start(&database.url, prefix);
    let second = start(&database.url, prefix);
    let instances = [first.base_url.clone(), second.base_url.clone()];

    create_admin(&database.url, prefix);

    let client = reqwest::Client::new();
    let (status, body) = call(
        &client,
        reqwest::Method::POST,
        format!("{}/api/v1/auth/signup", instances[1]),
        None,
        Some(json!({"email": "member@example.com", "username": "member",
                    "password": "secret123", "password_confirm": "secret123"})),
    )
    .await;
    assert_eq!(status, 201, "{body:#}");
    // Tokens from one instance work on the other: same secret, shared revocations.
    let member = login(&client, &instances[0], "member@example.com", "secret123").await;
    let admin = login(&client, &instances[1], "root@example.com", "secret123").await;

    let start_at = Utc::now().duration_trunc(Duration::hours(1)).unwrap() + Duration::days(5);
    let stamp = |at: chrono::DateTime<Utc>| at.to_rfc3339_opts(SecondsFormat::Secs, true);
    let mut ids = Vec::new();
    for index in 0..40 {
        let (status, body) = call(
            &client,
            reqwest::Method::POST,
            format!("{}/api/v1/exam-reservations", instances[index % 2]),
            Some(&member),
            Some(json!({"starts_at": stamp(start_at), "ends_at": stamp(start_at + Duration::hours(2)),
                        "headcount": 30_000})),
        )
        .await;
        assert_eq!(status, 201, "{body:#}");
        ids.push(body["id"].as_str().expect("id").to_owned());
    }

    let confirms = ids.iter().enumerate().map(|(index, id)| {
        let url = format!(
            "{}/api/v1/exam-reservations/{id}/confirm",
            instances[index % 2]
        );
        let (client, admin) = (&client, &admin);
        async move {
            call(
                client,
                reqwest::Method::POST,
                url,
                Some(admin),
                Some(json!({})),
            )
            .await
        }
    });
    let answers = futures_util::future::join_all(confirms).await;
    let statuses: Vec<u16> = answers.iter().map(|(status, _)| *status).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        39,
        "{statuses:?}"
    );

    // Both instances see the same counts in both hours (each read on its own date in Seoul: the
    // second hour is on the next day when the first is 23:00 there).
    for base in &instances {
        for hour in [start_at, start_at + Duration::hours(1)] {
            let date = hour.with_timezone(&chrono_tz::Asia::Seoul).date_naive();
            let (status, body) = call(
                &client,
                reqwest::Method::GET,
                format!("{base}/api/v1/exam-slots?date={date}"),
                Some(&member),
                None,
            )
            .await;
            assert_eq!(status, 200, "{body:#}");
            let slots = body["slots"].as_array().expect("slots");
            let slot = slots
                .iter()
                .find(|slot| {
                    slot["starts_at"]
                        .as_str()
                        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
                        .is_some_and(|s| s == hour)
                })
                .unwrap_or_else(|| panic!("no slot at {hour} in {body:#}"));
            assert_eq!(slot["confirmed"], 30_000, "{slot:#}");
            assert_eq!(slot["remaining"], 20_000, "{slot:#}");
        }
    }
    drop((first, second));
}
