//! Races for seats over HTTP: many active users holding at once never hold a seat twice, and a
//! hold paid with one `Idempotency-Key` many times at once is paid once.

use super::{active_token, charge, concert, hold};
use crate::helpers::{Backend, TestApp, on_both_backends, unique};
use futures_util::future::join_all;
use serde_json::json;
use std::collections::HashSet;

on_both_backends!(
    a_hundred_users_racing_for_fifty_seats_hold_exactly_fifty,
    paying_one_hold_many_times_at_once_charges_once,
);

const USERS: usize = 100;
const SEATS: i64 = 50;

async fn a_hundred_users_racing_for_fifty_seats_hold_exactly_fifty(backend: Backend) {
    // Everyone is let in at once: a margin as large as the crowd lifts the inventory cap.
    let app = TestApp::spawn_with(backend, |settings| {
        settings.tickets.queue_max_active = 1_000;
        settings.tickets.queue_admission_margin = 1_000;
    })
    .await;
    let (admin, _) = app.admin(&unique("root")).await;
    let (concert_id, performances) = concert(&app, &admin, 1_000, &[2], SEATS).await;
    let members = join_all((0..USERS).map(|_| {
        let (app, name) = (&app, unique("fan"));
        async move { app.quick_member(&name).await }
    }))
    .await;
    let tokens = join_all(
        members
            .iter()
            .map(|(bearer, _)| active_token(&app, bearer, &concert_id)),
    )
    .await;

    // Each user wants a seat; two users for every seat, so every seat is contested.
    let attempts = members
        .iter()
        .zip(&tokens)
        .enumerate()
        .map(|(i, ((bearer, _), queue))| {
            let seat = i64::try_from(i).expect("small") % SEATS + 1;
            let (app, performance) = (&app, &performances[0]);
            async move { (seat, hold(app, bearer, queue, performance, seat).await) }
        });
    let answers = join_all(attempts).await;
    let mut held = HashSet::new();
    for (seat, answer) in &answers {
        match answer.status {
            201 => assert!(held.insert(*seat), "seat {seat} held twice"),
            409 => answer.assert_problem(409, "seat_unavailable"),
            other => panic!("unexpected {other}: {:#}", answer.body),
        }
    }
    assert_eq!(held.len(), 50, "every seat held once");

    let seats_path = format!("/api/v1/performances/{}/seats", performances[0]);
    let map = app
        .get_queued(&seats_path, &members[0].0, Some(&tokens[0]))
        .await;
    assert_eq!(map.status, 200, "{:#}", map.body);
    let seats = map.body["seats"].as_array().expect("seats").clone();
    assert!(
        seats.iter().all(|seat| seat["status"] == "held"),
        "{seats:?}"
    );
    // The room knows: a newcomer is told nothing is left.
    let (late, _) = app.quick_member(&unique("late")).await;
    let place = app
        .post(
            "/api/v1/queue/tokens",
            &json!({"concert_id": concert_id}),
            Some(&late),
        )
        .await;
    assert_eq!(place.body["availability"], "sold_out", "{:#}", place.body);
}

async fn paying_one_hold_many_times_at_once_charges_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (admin, _) = app.admin(&unique("root")).await;
    let (member, _, _) = app.member(&unique("pat")).await;
    let (concert_id, performances) = concert(&app, &admin, 7_000, &[2], 5).await;
    charge(&app, &member, 10_000).await;
    let queue = active_token(&app, &member, &concert_id).await;
    let held = hold(&app, &member, &queue, &performances[0], 2).await;
    assert_eq!(held.status, 201, "{:#}", held.body);
    let path = format!(
        "/api/v1/seat-holds/{}/pay",
        held.body["id"].as_str().expect("id")
    );
    // Half carry one Idempotency-Key, half none: the keyless ones race in the store itself, not
    // only in the idempotency layer.
    let key = uuid::Uuid::new_v4().to_string();
    let payments = (0..10).map(|index| {
        let mut request = app
            .client
            .post(app.url(&path))
            .json(&json!({}))
            .bearer_auth(&member)
            .header("Queue-Token", &queue);
        if index % 2 == 0 {
            request = request.header("Idempotency-Key", &key);
        }
        app.send(request)
    });
    let answers = join_all(payments).await;
    let statuses: Vec<u16> = answers.iter().map(|answer| answer.status).collect();
    assert!(
        statuses
            .iter()
            .all(|status| *status == 201 || *status == 409),
        "{statuses:?}"
    );
    assert!(statuses.contains(&201), "{statuses:?}");
    let wallet = app.get("/api/v1/wallet", Some(&member)).await;
    assert_eq!(wallet.body["balance"], 3_000, "paid once");
    let bookings = app.get("/api/v1/bookings", Some(&member)).await;
    assert_eq!(bookings.body["items"].as_array().map(Vec::len), Some(1));
}
