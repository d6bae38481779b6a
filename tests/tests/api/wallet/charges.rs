//! Charging a wallet: the amount rules, the balance limit, paging through transactions, and one
//! effect per idempotency key.

use crate::helpers::{Backend, TestApp, on_both_backends, unique};
use futures_util::future::join_all;
use serde_json::json;

on_both_backends!(
    charges_are_bounded_and_listed_newest_first,
    one_key_sent_twenty_times_at_once_charges_once,
);

async fn balance(app: &TestApp, member: &str) -> i64 {
    let answer = app.get("/api/v1/wallet", Some(member)).await;
    assert_eq!(answer.status, 200, "{:#}", answer.body);
    answer.body["balance"].as_i64().expect("balance")
}

async fn charges_are_bounded_and_listed_newest_first(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (member, _, _) = app.member(&unique("wal")).await;
    let path = "/api/v1/wallet/charges";
    assert_eq!(balance(&app, &member).await, 0);
    app.post(path, &json!({"amount": 1}), None)
        .await
        .assert_problem(401, "missing_token");
    for (amount, code) in [
        (0, "amount_not_positive"),
        (-5, "amount_not_positive"),
        (1_000_001, "amount_too_large"),
    ] {
        let answer = app
            .post(path, &json!({"amount": amount}), Some(&member))
            .await;
        answer.assert_problem(400, "validation_failed");
        assert_eq!(answer.body["errors"][0]["field"], "amount");
        assert_eq!(answer.body["errors"][0]["code"], code);
    }
    app.post(
        path,
        &json!({"amount": 5, "currency": "USD"}),
        Some(&member),
    )
    .await
    .assert_problem(400, "invalid_body");

    // Ten of the largest charge reach the balance limit exactly; one more is refused.
    for round in 1..=10 {
        let answer = app
            .post(path, &json!({"amount": 1_000_000}), Some(&member))
            .await;
        assert_eq!(answer.status, 201, "{:#}", answer.body);
        assert_eq!(answer.body["amount"], 1_000_000);
        assert_eq!(answer.body["balance"], round * 1_000_000);
        assert!(answer.body["transfer_id"].is_string());
    }
    app.post(path, &json!({"amount": 1}), Some(&member))
        .await
        .assert_problem(409, "balance_limit_exceeded");
    assert_eq!(balance(&app, &member).await, 10_000_000);

    let first = app
        .get("/api/v1/wallet/transactions?limit=4", Some(&member))
        .await;
    assert_eq!(first.status, 200, "{:#}", first.body);
    let items = first.body["items"].as_array().expect("items").clone();
    let balances: Vec<i64> = items
        .iter()
        .map(|item| item["balance_after"].as_i64().expect("balance"))
        .collect();
    assert_eq!(balances, [10_000_000, 9_000_000, 8_000_000, 7_000_000]);
    assert!(items.iter().all(|item| item["kind"] == "charge"));
    let cursor = first.body["next_cursor"].as_str().expect("more").to_owned();
    let second = app
        .get(
            &format!("/api/v1/wallet/transactions?limit=4&cursor={cursor}"),
            Some(&member),
        )
        .await;
    assert_eq!(second.body["items"][0]["balance_after"], 6_000_000);
    app.get("/api/v1/wallet/transactions?cursor=junk", Some(&member))
        .await
        .assert_problem(400, "validation_failed");

    // Each wallet is its owner's.
    let (other, _, _) = app.member(&unique("oth")).await;
    assert_eq!(balance(&app, &other).await, 0);
    let theirs = app.get("/api/v1/wallet/transactions", Some(&other)).await;
    assert_eq!(theirs.body["items"], json!([]));
    assert!(theirs.body["next_cursor"].is_null());
}

async fn one_key_sent_twenty_times_at_once_charges_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (member, _, _) = app.member(&unique("idk")).await;
    let path = "/api/v1/wallet/charges";
    let key = uuid::Uuid::new_v4().to_string();
    let body = json!({"amount": 12_345});
    let answers = join_all((0..20).map(|_| app.post_with_key(path, &body, &member, &key))).await;
    let created: Vec<_> = answers
        .iter()
        .filter(|answer| answer.status == 201)
        .collect();
    for answer in &answers {
        if answer.status != 201 {
            answer.assert_problem(409, "idempotency_key_in_flight");
        }
    }
    assert!(!created.is_empty());
    let transfer = &created[0].body["transfer_id"];
    assert!(
        created
            .iter()
            .all(|answer| &answer.body["transfer_id"] == transfer)
    );
    assert_eq!(balance(&app, &member).await, 12_345, "charged once");

    let again = app.post_with_key(path, &body, &member, &key).await;
    assert_eq!(again.status, 201, "{:#}", again.body);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(&again.body["transfer_id"], transfer);
    app.post_with_key(path, &json!({"amount": 1}), &member, &key)
        .await
        .assert_problem(422, "idempotency_key_reused");
    let transactions = app.get("/api/v1/wallet/transactions", Some(&member)).await;
    assert_eq!(transactions.body["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(balance(&app, &member).await, 12_345);
}
