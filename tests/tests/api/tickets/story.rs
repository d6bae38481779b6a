//! A concert's whole story over HTTP: an admin creates it, a member joins the line (active at
//! once in an empty room), picks a date and a seat, holds it, charges the wallet, pays; the
//! queue token is then spent, the booking listed and the ledger right. Then the admin cancels
//! the performance and the price goes back to the wallet.

use super::{active_token, balance, charge, concert, hold};
use crate::helpers::{Backend, TestApp, on_both_backends, unique};
use serde_json::json;

on_both_backends!(
    a_member_buys_a_seat_from_queue_to_booking,
    cancelling_a_performance_refunds_its_bookings,
);

async fn a_member_buys_a_seat_from_queue_to_booking(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (admin, _) = app.admin(&unique("root")).await;
    let (member, _, _) = app.member(&unique("mia")).await;
    let (concert_id, performances) = concert(&app, &admin, 30_000, &[3, 4], 10).await;

    let listed = app.get("/api/v1/concerts", Some(&member)).await;
    assert_eq!(listed.status, 200, "{:#}", listed.body);
    assert_eq!(listed.body["items"][0]["id"], concert_id.as_str());
    let read = app
        .get(&format!("/api/v1/concerts/{concert_id}"), Some(&member))
        .await;
    assert_eq!(read.status, 200, "{:#}", read.body);
    assert_eq!(read.body["price"], 30_000);
    assert_eq!(read.body["performances"][0]["seats"], 10);
    assert!(read.body["performances"][0]["cancelled_at"].is_null());

    let first = app
        .post(
            "/api/v1/queue/tokens",
            &json!({"concert_id": concert_id}),
            Some(&member),
        )
        .await;
    assert_eq!(first.status, 201, "{:#}", first.body);
    assert_eq!(first.body["status"], "active");
    assert_eq!(
        (&first.body["position"], &first.body["eta_seconds"]),
        (&json!(0), &json!(0))
    );
    assert_eq!(first.body["availability"], "possibly_available");
    assert!(first.body["active_until"].is_string());
    let again = app
        .post(
            "/api/v1/queue/tokens",
            &json!({"concert_id": concert_id}),
            Some(&member),
        )
        .await;
    assert_eq!(again.status, 200, "{:#}", again.body);
    assert_eq!(again.body["token"], first.body["token"]);
    let queue = active_token(&app, &member, &concert_id).await;
    let polled = app
        .get_queued("/api/v1/queue/tokens/current", &member, Some(&queue))
        .await;
    assert_eq!(polled.status, 200, "{:#}", polled.body);
    assert_eq!(polled.body["status"], "active");

    let dates_path = format!("/api/v1/concerts/{concert_id}/dates");
    let dates = app.get_queued(&dates_path, &member, Some(&queue)).await;
    assert_eq!(dates.status, 200, "{:#}", dates.body);
    let listed: Vec<_> = dates.body["dates"].as_array().expect("dates").clone();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0]["performance_id"], performances[0].as_str());
    assert_eq!(listed[0]["free_seats"], 10);
    let seats_path = format!("/api/v1/performances/{}/seats", performances[0]);
    let seats = app.get_queued(&seats_path, &member, Some(&queue)).await;
    assert_eq!(seats.status, 200, "{:#}", seats.body);
    let map = seats.body["seats"].as_array().expect("seats").clone();
    assert_eq!(map.len(), 10);
    assert!(map.iter().all(|seat| seat["status"] == "available"));

    let held = hold(&app, &member, &queue, &performances[0], 3).await;
    assert_eq!(held.status, 201, "{:#}", held.body);
    assert_eq!(
        (&held.body["seat_number"], &held.body["price"]),
        (&json!(3), &json!(30_000))
    );
    let hold_id = held.body["id"].as_str().expect("id").to_owned();
    let seats = app.get_queued(&seats_path, &member, Some(&queue)).await;
    assert_eq!(seats.body["seats"][2]["status"], "held");

    charge(&app, &member, 50_000).await;
    let paid = app
        .post_queued(
            &format!("/api/v1/seat-holds/{hold_id}/pay"),
            &json!({}),
            &member,
            Some(&queue),
        )
        .await;
    assert_eq!(paid.status, 201, "{:#}", paid.body);
    assert_eq!(paid.body["status"], "confirmed");
    assert_eq!(paid.body["hold_id"], hold_id.as_str());
    assert_eq!(paid.body["concert_id"], concert_id.as_str());

    // Paying spends the queue token: the next buyer's turn.
    app.get_queued(&dates_path, &member, Some(&queue))
        .await
        .assert_problem(401, "queue_token_invalid");
    let bookings = app.get("/api/v1/bookings", Some(&member)).await;
    assert_eq!(bookings.status, 200, "{:#}", bookings.body);
    assert_eq!(bookings.body["items"][0]["id"], paid.body["id"]);
    assert_eq!(bookings.body["items"][0]["seat_number"], 3);

    assert_eq!(balance(&app, &member).await, 20_000);
    let wallet = app.get("/api/v1/wallet", Some(&member)).await;
    assert_eq!(wallet.body["currency"], "KRW");
    let transactions = app.get("/api/v1/wallet/transactions", Some(&member)).await;
    assert_eq!(transactions.status, 200, "{:#}", transactions.body);
    let items = transactions.body["items"]
        .as_array()
        .expect("items")
        .clone();
    let shown: Vec<_> = items
        .iter()
        .map(|item| {
            (
                item["kind"].clone(),
                item["amount"].clone(),
                item["balance_after"].clone(),
            )
        })
        .collect();
    assert_eq!(
        shown,
        [
            (json!("payment"), json!(-30_000), json!(20_000)),
            (json!("charge"), json!(50_000), json!(50_000)),
        ]
    );

    // A new token in the emptied room: the seat is sold now.
    let queue = active_token(&app, &member, &concert_id).await;
    let seats = app.get_queued(&seats_path, &member, Some(&queue)).await;
    assert_eq!(seats.body["seats"][2]["status"], "sold");
}

async fn cancelling_a_performance_refunds_its_bookings(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (admin, _) = app.admin(&unique("root")).await;
    let (buyer, _, _) = app.member(&unique("bo")).await;
    let (holder, _, _) = app.member(&unique("hal")).await;
    let (concert_id, performances) = concert(&app, &admin, 40_000, &[5], 5).await;
    charge(&app, &buyer, 100_000).await;

    let queue = active_token(&app, &buyer, &concert_id).await;
    let held = hold(&app, &buyer, &queue, &performances[0], 1).await;
    assert_eq!(held.status, 201, "{:#}", held.body);
    let pay_path = format!(
        "/api/v1/seat-holds/{}/pay",
        held.body["id"].as_str().expect("id")
    );
    let paid = app
        .post_queued(&pay_path, &json!({}), &buyer, Some(&queue))
        .await;
    assert_eq!(paid.status, 201, "{:#}", paid.body);
    assert_eq!(balance(&app, &buyer).await, 60_000);
    let other_queue = active_token(&app, &holder, &concert_id).await;
    let other_hold = hold(&app, &holder, &other_queue, &performances[0], 2).await;
    assert_eq!(other_hold.status, 201, "{:#}", other_hold.body);

    let cancel_path = format!("/api/v1/admin/performances/{}/cancel", performances[0]);
    app.post(&cancel_path, &json!({}), Some(&buyer))
        .await
        .assert_problem(403, "forbidden");
    let cancelled = app.post(&cancel_path, &json!({}), Some(&admin)).await;
    assert_eq!(cancelled.status, 200, "{:#}", cancelled.body);
    assert_eq!(cancelled.body["performance_id"], performances[0].as_str());
    assert_eq!(cancelled.body["refunded_bookings"], 1);
    assert_eq!(cancelled.body["released_holds"], 1);
    assert!(cancelled.body["cancelled_at"].is_string());
    app.post(&cancel_path, &json!({}), Some(&admin))
        .await
        .assert_problem(409, "already_cancelled");

    assert_eq!(balance(&app, &buyer).await, 100_000);
    let bookings = app.get("/api/v1/bookings", Some(&buyer)).await;
    assert_eq!(bookings.body["items"][0]["status"], "refunded");
    let transactions = app.get("/api/v1/wallet/transactions", Some(&buyer)).await;
    assert_eq!(transactions.body["items"][0]["kind"], "refund");
    assert_eq!(transactions.body["items"][0]["amount"], 40_000);
    // Nothing of the concert is on sale any more: its line is closed.
    app.post(
        "/api/v1/queue/tokens",
        &json!({"concert_id": concert_id}),
        Some(&holder),
    )
    .await
    .assert_problem(409, "not_on_sale");
    let unknown = uuid::Uuid::now_v7();
    app.post(
        &format!("/api/v1/admin/performances/{unknown}/cancel"),
        &json!({}),
        Some(&admin),
    )
    .await
    .assert_problem(404, "not_found");
}
