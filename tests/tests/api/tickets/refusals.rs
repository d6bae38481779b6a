//! Every refusal of the tickets routes over HTTP: queue tokens missing, waiting, spent or of
//! another concert; holds on unknown seats, taken seats, a second seat for a date, someone
//! else's hold, an expired hold, a hold paid without the money; and the admin-only concert
//! creation with its validation.

use super::{active_token, charge, concert, hold, in_days, join};
use crate::helpers::{Backend, TestApp, on_both_backends, unique};
use serde_json::json;
use std::time::Duration;

on_both_backends!(
    seat_routes_need_an_active_token_of_their_concert,
    holds_are_refused_by_seat_date_and_owner,
    an_expired_hold_cannot_be_paid,
    only_admins_create_valid_concerts,
);

async fn seat_routes_need_an_active_token_of_their_concert(backend: Backend) {
    // One active user at a time: the second to join waits.
    let app = TestApp::spawn_with(backend, |settings| settings.tickets.queue_max_active = 1).await;
    let (admin, _) = app.admin(&unique("root")).await;
    let (first, _, _) = app.member(&unique("fay")).await;
    let (second, _, _) = app.member(&unique("sid")).await;
    let (concert_id, performances) = concert(&app, &admin, 1_000, &[2], 5).await;
    let (other_concert, _) = concert(&app, &admin, 1_000, &[2], 5).await;
    let dates = format!("/api/v1/concerts/{concert_id}/dates");

    app.get_queued(&dates, &first, None)
        .await
        .assert_problem(401, "queue_token_required");
    app.get_queued("/api/v1/queue/tokens/current", &first, None)
        .await
        .assert_problem(401, "queue_token_required");
    for garbage in ["nonsense", &format!("{concert_id}.0123456789abcdef0123")] {
        app.get_queued(&dates, &first, Some(garbage))
            .await
            .assert_problem(401, "queue_token_invalid");
    }

    let active = active_token(&app, &first, &concert_id).await;
    let waiting = join(&app, &second, &concert_id).await;
    assert_eq!(waiting["status"], "waiting", "{waiting:#}");
    assert_eq!(waiting["position"], 1);
    assert!(waiting["active_until"].is_null());
    let waiting = waiting["token"].as_str().expect("token").to_owned();
    app.get_queued(&dates, &second, Some(&waiting))
        .await
        .assert_problem(403, "queue_token_not_active");
    let seats = format!("/api/v1/performances/{}/seats", performances[0]);
    app.get_queued(&seats, &second, Some(&waiting))
        .await
        .assert_problem(403, "queue_token_not_active");
    hold(&app, &second, &waiting, &performances[0], 1)
        .await
        .assert_problem(403, "queue_token_not_active");
    // Someone else's token is as good as none.
    app.get_queued(&dates, &second, Some(&active))
        .await
        .assert_problem(401, "queue_token_invalid");
    let other_dates = format!("/api/v1/concerts/{other_concert}/dates");
    app.get_queued(&other_dates, &first, Some(&active))
        .await
        .assert_problem(403, "queue_token_wrong_concert");
    let polled = app
        .get_queued("/api/v1/queue/tokens/current", &second, Some(&waiting))
        .await;
    assert_eq!(polled.status, 200, "{:#}", polled.body);
    assert_eq!(polled.body["status"], "waiting");

    let unknown = uuid::Uuid::now_v7();
    app.post(
        "/api/v1/queue/tokens",
        &json!({"concert_id": unknown}),
        Some(&first),
    )
    .await
    .assert_problem(404, "not_found");
    app.post(
        "/api/v1/queue/tokens",
        &json!({"concert_id": "not-an-id"}),
        Some(&first),
    )
    .await
    .assert_problem(400, "validation_failed");
}

async fn holds_are_refused_by_seat_date_and_owner(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (admin, _) = app.admin(&unique("root")).await;
    let (ann, _, _) = app.member(&unique("ann")).await;
    let (bob, _, _) = app.member(&unique("bob")).await;
    let (concert_id, performances) = concert(&app, &admin, 25_000, &[2], 10).await;
    let ann_queue = active_token(&app, &ann, &concert_id).await;
    let bob_queue = active_token(&app, &bob, &concert_id).await;

    let out_of_range = hold(&app, &ann, &ann_queue, &performances[0], 11).await;
    out_of_range.assert_problem(400, "validation_failed");
    assert_eq!(out_of_range.body["errors"][0]["field"], "seat_number");
    assert_eq!(out_of_range.body["errors"][0]["code"], "seat_out_of_range");
    hold(&app, &ann, &ann_queue, &performances[0], 0)
        .await
        .assert_problem(400, "validation_failed");
    let unknown = uuid::Uuid::now_v7().to_string();
    hold(&app, &ann, &ann_queue, &unknown, 1)
        .await
        .assert_problem(404, "not_found");

    let held = hold(&app, &ann, &ann_queue, &performances[0], 4).await;
    assert_eq!(held.status, 201, "{:#}", held.body);
    let hold_id = held.body["id"].as_str().expect("id").to_owned();
    hold(&app, &bob, &bob_queue, &performances[0], 4)
        .await
        .assert_problem(409, "seat_unavailable");
    hold(&app, &ann, &ann_queue, &performances[0], 5)
        .await
        .assert_problem(409, "already_holding_for_date");

    let pay = format!("/api/v1/seat-holds/{hold_id}/pay");
    app.post_queued(&pay, &json!({}), &bob, Some(&bob_queue))
        .await
        .assert_problem(404, "not_found");
    app.delete(&format!("/api/v1/seat-holds/{hold_id}"), Some(&bob))
        .await
        .assert_problem(404, "not_found");
    app.post_queued(&pay, &json!({}), &ann, Some(&ann_queue))
        .await
        .assert_problem(409, "insufficient_balance");

    // Released, the seat is free for the next one at once; releasing again is still a 204.
    let released = app
        .delete(&format!("/api/v1/seat-holds/{hold_id}"), Some(&ann))
        .await;
    assert_eq!(released.status, 204, "{:#}", released.body);
    let again = app
        .delete(&format!("/api/v1/seat-holds/{hold_id}"), Some(&ann))
        .await;
    assert_eq!(again.status, 204, "{:#}", again.body);
    let taken = hold(&app, &bob, &bob_queue, &performances[0], 4).await;
    assert_eq!(taken.status, 201, "{:#}", taken.body);
    charge(&app, &bob, 25_000).await;
    let bob_pay = format!(
        "/api/v1/seat-holds/{}/pay",
        taken.body["id"].as_str().expect("id")
    );
    let paid = app
        .post_queued(&bob_pay, &json!({}), &bob, Some(&bob_queue))
        .await;
    assert_eq!(paid.status, 201, "{:#}", paid.body);
    app.delete(
        &format!(
            "/api/v1/seat-holds/{}",
            taken.body["id"].as_str().expect("id")
        ),
        Some(&bob),
    )
    .await
    .assert_problem(409, "hold_already_paid");
}

async fn an_expired_hold_cannot_be_paid(backend: Backend) {
    let app = TestApp::spawn_with(backend, |settings| settings.tickets.hold_ttl_seconds = 1).await;
    let (admin, _) = app.admin(&unique("root")).await;
    let (member, _, _) = app.member(&unique("eve")).await;
    let (concert_id, performances) = concert(&app, &admin, 5_000, &[2], 3).await;
    charge(&app, &member, 10_000).await;
    let queue = active_token(&app, &member, &concert_id).await;
    let held = hold(&app, &member, &queue, &performances[0], 1).await;
    assert_eq!(held.status, 201, "{:#}", held.body);
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let pay = format!(
        "/api/v1/seat-holds/{}/pay",
        held.body["id"].as_str().expect("id")
    );
    app.post_queued(&pay, &json!({}), &member, Some(&queue))
        .await
        .assert_problem(409, "hold_expired");
    let wallet = app.get("/api/v1/wallet", Some(&member)).await;
    assert_eq!(wallet.body["balance"], 10_000, "nothing was taken");
    // The expired hold freed the seat and the date: the same member may hold it again.
    let again = hold(&app, &member, &queue, &performances[0], 1).await;
    assert_eq!(again.status, 201, "{:#}", again.body);
}

async fn only_admins_create_valid_concerts(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (admin, _) = app.admin(&unique("root")).await;
    let (member, _, _) = app.member(&unique("max")).await;
    let body = |title: &str, starts_at: String| json!({"title": title, "price": 10_000, "performances": [{"starts_at": starts_at}]});
    let path = "/api/v1/admin/concerts";
    app.post(path, &body("Gala", in_days(2)), Some(&member))
        .await
        .assert_problem(403, "forbidden");
    let refusals = [
        (
            body("Gala\u{7}Night", in_days(2)),
            "title",
            "control_character",
        ),
        (body("Gala\u{0}", in_days(2)), "title", "control_character"),
        (body("   ", in_days(2)), "title", "title_empty"),
        (
            body("Gala", in_days(-1)),
            "performances",
            "performance_in_past",
        ),
        (
            json!({"title": "Gala", "price": -1, "performances": [{"starts_at": in_days(2)}]}),
            "price",
            "negative_amount",
        ),
        (
            json!({"title": "Gala", "price": 1, "performances": []}),
            "performances",
            "no_performances",
        ),
        (
            json!({"title": "Gala", "price": 1, "performances": [{"starts_at": in_days(2)}],
                "seats": 51}),
            "seats",
            "invalid_seat_count",
        ),
    ];
    for (request, field, code) in refusals {
        let answer = app.post(path, &request, Some(&admin)).await;
        answer.assert_problem(400, "validation_failed");
        let errors = answer.body["errors"].as_array().expect("errors").clone();
        assert!(
            errors
                .iter()
                .any(|error| error["field"] == field && error["code"] == code),
            "{field}/{code}: {:#}",
            answer.body
        );
    }
    let created = app
        .post(path, &body("  Winter Gala ", in_days(2)), Some(&admin))
        .await;
    assert_eq!(created.status, 201, "{:#}", created.body);
    assert_eq!(created.body["title"], "Winter Gala");
    assert_eq!(created.body["performances"][0]["seats"], 50, "the default");
}
