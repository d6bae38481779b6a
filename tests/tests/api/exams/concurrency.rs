//! Bookings under concurrency and retries: racing confirms on one hour never oversell, and
//! `Idempotency-Key` makes booking posts safe to retry, also concurrently.

use super::{create, hour, remaining, request};
use crate::helpers::{Backend, TestApp, on_both_backends, unique};
use serde_json::json;

on_both_backends!(
    concurrent_confirms_over_http_never_oversell,
    idempotency_keys_make_booking_posts_safe_to_retry,
    concurrent_retries_with_one_key_book_once,
);

async fn concurrent_confirms_over_http_never_oversell(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (admin, _) = app.admin(&unique("root")).await;
    let (member, _, _) = app.member(&unique("race")).await;
    let start = hour(20, 3);
    let mut ids = Vec::new();
    for _ in 0..30 {
        ids.push(create(&app, &member, start, 1, 30_000).await);
    }
    let body = json!({});
    let confirms = ids.iter().map(|id| {
        let (app, body, admin) = (&app, &body, &admin);
        async move {
            let path = format!("/api/v1/exam-reservations/{id}/confirm");
            app.post(&path, body, Some(admin)).await
        }
    });
    let answers = futures_util::future::join_all(confirms).await;
    let statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        29,
        "{statuses:?}"
    );
    assert_eq!(remaining(&app, &member, start).await, Some(20_000));
}

async fn own_reservation_count(app: &TestApp, token: &str) -> usize {
    let answer = app
        .get("/api/v1/exam-reservations?limit=100", Some(token))
        .await;
    assert_eq!(answer.status, 200, "{:#}", answer.body);
    answer.body["items"].as_array().expect("items").len()
}

async fn idempotency_keys_make_booking_posts_safe_to_retry(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (admin, _) = app.admin(&unique("root")).await;
    let (member, _, _) = app.member(&unique("ida")).await;
    let (other, _, _) = app.member(&unique("ivo")).await;
    let start = hour(12, 2);
    let create_path = "/api/v1/exam-reservations";
    let body = request(start, 1, 10_000);
    let key = uuid::Uuid::new_v4().to_string();

    let first = app.post_with_key(create_path, &body, &member, &key).await;
    assert_eq!(first.status, 201, "{:#}", first.body);
    let id = first.body["id"].as_str().expect("id").to_owned();
    assert_eq!(
        first.header("location"),
        Some(format!("/api/v1/exam-reservations/{id}").as_str())
    );
    assert_eq!(first.header("idempotent-replayed"), None);
    let again = app.post_with_key(create_path, &body, &member, &key).await;
    assert_eq!((again.status, &again.body), (201, &first.body));
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.header("location"), first.header("location"));
    assert_eq!(own_reservation_count(&app, &member).await, 1);

    app.post_with_key(create_path, &request(start, 1, 10_001), &member, &key)
        .await
        .assert_problem(422, "idempotency_key_reused");
    let others = app.post_with_key(create_path, &body, &other, &key).await;
    assert_eq!(
        others.status, 201,
        "keys belong to their user: {:#}",
        others.body
    );
    assert_ne!(others.body["id"], first.body["id"]);
    assert_eq!(others.header("idempotent-replayed"), None);

    for bad in ["k".repeat(256), "with space".to_owned()] {
        let answer = app.post_with_key(create_path, &body, &member, &bad).await;
        answer.assert_problem(400, "validation_failed");
        assert_eq!(answer.body["errors"][0]["code"], "invalid_idempotency_key");
    }
    assert_eq!(own_reservation_count(&app, &member).await, 1);

    let confirm_path = format!("/api/v1/exam-reservations/{id}/confirm");
    let confirm_key = uuid::Uuid::new_v4().to_string();
    let confirmed = app
        .post_with_key(&confirm_path, &json!({}), &admin, &confirm_key)
        .await;
    assert_eq!(confirmed.status, 200, "{:#}", confirmed.body);
    let replayed = app
        .post_with_key(&confirm_path, &json!({}), &admin, &confirm_key)
        .await;
    assert_eq!((replayed.status, &replayed.body), (200, &confirmed.body));
    assert_eq!(replayed.header("idempotent-replayed"), Some("true"));
    assert_eq!(remaining(&app, &member, start).await, Some(40_000));

    let late_key = uuid::Uuid::new_v4().to_string();
    app.post_with_key(&confirm_path, &json!({}), &admin, &late_key)
        .await
        .assert_problem(409, "not_pending");
    let late_again = app
        .post_with_key(&confirm_path, &json!({}), &admin, &late_key)
        .await;
    late_again.assert_problem(409, "not_pending");
    assert_eq!(
        late_again.header("idempotent-replayed"),
        Some("true"),
        "a 4xx outcome is replayed too"
    );
    app.post_with_key(create_path, &body, &admin, &confirm_key)
        .await
        .assert_problem(422, "idempotency_key_reused");
}

async fn concurrent_retries_with_one_key_book_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (member, _, _) = app.member(&unique("rex")).await;
    let body = request(hour(15, 5), 2, 5);
    let key = uuid::Uuid::new_v4().to_string();
    let retries =
        (0..12).map(|_| app.post_with_key("/api/v1/exam-reservations", &body, &member, &key));
    let answers = futures_util::future::join_all(retries).await;
    let mut ids = std::collections::BTreeSet::new();
    for answer in &answers {
        match answer.status {
            201 => {
                ids.insert(answer.body["id"].as_str().expect("id").to_owned());
            }
            409 => {
                answer.assert_problem(409, "idempotency_key_in_flight");
                assert_eq!(answer.header("retry-after"), Some("1"));
            }
            other => panic!("unexpected {other}: {:#}", answer.body),
        }
    }
    assert_eq!(ids.len(), 1, "every 201 names the same reservation");
    assert_eq!(own_reservation_count(&app, &member).await, 1);
}
