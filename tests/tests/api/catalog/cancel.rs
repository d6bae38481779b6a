//! After paying: completing a registration, the payment history and its filters, cancelling
//! (the wallet refunded at once, the provider's refund recorded), ten cancels at once cancelling
//! once, applying again after a cancel, and nobody reading or cancelling another's payment.

use super::{
    apply_path, balance, charge, course_item, enroll_path, payments, register, test_item, tutor,
};
use crate::helpers::{Backend, TestApp, on_both_backends, unique};
use chrono::Utc;
use futures_util::future::join_all;
use serde_json::json;

on_both_backends!(
    completing_a_registration_ends_its_cancellation,
    the_payment_history_filters_by_status_kind_date_and_title,
    cancelling_refunds_once_however_many_cancels_race,
    payments_of_others_are_not_found,
);

async fn completing_a_registration_ends_its_cancellation(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (admin, _) = app.admin(&unique("root")).await;
    let (member, _, _) = app.member(&unique("ann")).await;
    let test = test_item(&app, &admin, "To complete", 3_000).await;
    let complete = format!("/api/v1/tests/{test}/complete");
    app.post(&complete, &json!({}), Some(&member))
        .await
        .assert_problem(404, "registration_not_found");
    let paid = register(&app, &member, &apply_path(&test), 3_000, "card").await;
    assert_eq!(paid.status, 201, "{:#}", paid.body);
    let done = app.post(&complete, &json!({}), Some(&member)).await;
    assert_eq!(done.status, 200, "{:#}", done.body);
    assert_eq!(done.body["status"], "completed");
    assert!(done.body["completed_at"].is_string());
    app.post(&complete, &json!({}), Some(&member))
        .await
        .assert_problem(409, "already_completed");
    let id = paid.body["payment"]["id"].as_str().expect("id");
    app.post(
        &format!("/api/v1/me/payments/{id}/cancel"),
        &json!({}),
        Some(&member),
    )
    .await
    .assert_problem(409, "registration_completed");
    let one = app
        .get(&format!("/api/v1/me/payments/{id}"), Some(&member))
        .await;
    assert_eq!(one.body["payment"]["status"], "paid");
    assert_eq!(one.body["registration"]["status"], "completed");

    // A cancelled enrolment cannot be completed.
    let (_, tutor_id) = tutor(&app, &admin).await;
    let course = course_item(&app, &admin, &tutor_id, "Cancelled course", 3_000).await;
    let enrolled = register(&app, &member, &enroll_path(&course), 3_000, "card").await;
    let id = enrolled.body["payment"]["id"].as_str().expect("id");
    let cancelled = app
        .post(
            &format!("/api/v1/me/payments/{id}/cancel"),
            &json!({}),
            Some(&member),
        )
        .await;
    assert_eq!(cancelled.status, 200, "{:#}", cancelled.body);
    app.post(
        &format!("/api/v1/courses/{course}/complete"),
        &json!({}),
        Some(&member),
    )
    .await
    .assert_problem(409, "registration_cancelled");
}

async fn the_payment_history_filters_by_status_kind_date_and_title(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (admin, _) = app.admin(&unique("root")).await;
    let (member, _, _) = app.member(&unique("ann")).await;
    let (_, tutor_id) = tutor(&app, &admin).await;
    let grammar = test_item(&app, &admin, "Grammar 100%_test", 2_000).await;
    let speaking = test_item(&app, &admin, "Speaking test", 2_000).await;
    let course = course_item(&app, &admin, &tutor_id, "Grammar course", 2_000).await;
    let mut ids = Vec::new();
    for path in [
        apply_path(&grammar),
        apply_path(&speaking),
        enroll_path(&course),
    ] {
        let paid = register(&app, &member, &path, 2_000, "kakaopay").await;
        assert_eq!(paid.status, 201, "{:#}", paid.body);
        ids.push(paid.body["payment"]["id"].clone());
    }
    let cancelled = app
        .post(
            &format!(
                "/api/v1/me/payments/{}/cancel",
                ids[1].as_str().expect("id")
            ),
            &json!({}),
            Some(&member),
        )
        .await;
    assert_eq!(cancelled.status, 200, "{:#}", cancelled.body);

    let listed = |records: &[serde_json::Value]| -> Vec<serde_json::Value> {
        records
            .iter()
            .map(|record| record["payment"]["id"].clone())
            .collect()
    };
    let newest_first: Vec<_> = ids.iter().rev().cloned().collect();
    assert_eq!(listed(&payments(&app, &member, "").await), newest_first);
    assert_eq!(
        listed(&payments(&app, &member, "&status=cancelled").await),
        [ids[1].clone()]
    );
    assert_eq!(
        listed(&payments(&app, &member, "&status=paid").await),
        [ids[2].clone(), ids[0].clone()]
    );
    assert_eq!(
        listed(&payments(&app, &member, "&kind=course").await),
        [ids[2].clone()]
    );
    assert_eq!(
        listed(&payments(&app, &member, "&kind=test&status=paid").await),
        [ids[0].clone()]
    );
    assert_eq!(
        listed(&payments(&app, &member, "&q=grammar").await),
        [ids[2].clone(), ids[0].clone()]
    );
    assert_eq!(
        listed(&payments(&app, &member, "&q=100%25_").await),
        [ids[0].clone()],
        "% and _ match themselves"
    );
    let today = Utc::now()
        .with_timezone(&chrono_tz::Asia::Seoul)
        .date_naive();
    let tomorrow = today.succ_opt().expect("a tomorrow");
    let yesterday = today.pred_opt().expect("a yesterday");
    assert_eq!(
        payments(&app, &member, &format!("&from={today}&to={today}"))
            .await
            .len(),
        3,
        "dates are inclusive"
    );
    assert!(
        payments(&app, &member, &format!("&from={tomorrow}"))
            .await
            .is_empty()
    );
    assert!(
        payments(&app, &member, &format!("&to={yesterday}"))
            .await
            .is_empty()
    );
    let backwards = app
        .get(
            &format!("/api/v1/me/payments?from={today}&to={yesterday}"),
            Some(&member),
        )
        .await;
    backwards.assert_problem(400, "validation_failed");
    assert_eq!(backwards.body["errors"][0]["field"], "from");
    assert_eq!(backwards.body["errors"][0]["code"], "from_after_to");
    let bad_date = app
        .get("/api/v1/me/payments?from=2026-13-01", Some(&member))
        .await;
    bad_date.assert_problem(400, "validation_failed");
    assert_eq!(bad_date.body["errors"][0]["field"], "from");
    // years no store can bind are refused, not sent to the database (a 500 before)
    for far in ["from=-5000-01-01", "to=+250000-01-01", "from=0000-01-01"] {
        let answer = app
            .get(&format!("/api/v1/me/payments?{far}"), Some(&member))
            .await;
        answer.assert_problem(400, "validation_failed");
        assert_eq!(answer.body["errors"][0]["code"], "invalid_date", "{far}");
    }
    app.get("/api/v1/me/payments?status=pending", Some(&member))
        .await
        .assert_problem(400, "invalid_query");
    app.get("/api/v1/me/payments?cursor=nope", Some(&member))
        .await
        .assert_problem(400, "validation_failed");
}

async fn cancelling_refunds_once_however_many_cancels_race(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (admin, _) = app.admin(&unique("root")).await;
    let (member, _, _) = app.member(&unique("ann")).await;
    let test = test_item(&app, &admin, "Refunded test", 7_000).await;
    charge(&app, &member, 10_000).await;
    let paid = register(&app, &member, &apply_path(&test), 7_000, "wallet").await;
    assert_eq!(paid.status, 201, "{:#}", paid.body);
    assert_eq!(balance(&app, &member).await, 3_000);
    let id = paid.body["payment"]["id"].as_str().expect("id").to_owned();
    let path = format!("/api/v1/me/payments/{id}/cancel");
    let empty = json!({});
    let answers = join_all((0..10).map(|_| app.post(&path, &empty, Some(&member)))).await;
    let mut cancelled = 0;
    for answer in &answers {
        match answer.status {
            200 => {
                cancelled += 1;
                assert_eq!(answer.body["payment"]["status"], "cancelled");
                assert!(answer.body["payment"]["cancelled_at"].is_string());
                assert_eq!(answer.body["payment"]["refund_status"], "not_due");
                assert_eq!(answer.body["registration"]["status"], "cancelled");
            }
            409 => answer.assert_problem(409, "already_cancelled"),
            other => panic!("unexpected {other}: {:#}", answer.body),
        }
    }
    assert_eq!(cancelled, 1, "one cancel wins");
    assert_eq!(balance(&app, &member).await, 10_000, "refunded once");
    let one = app
        .get(&format!("/api/v1/tests/{test}"), Some(&member))
        .await;
    assert_eq!(
        (&one.body["is_registered"], &one.body["registration_count"]),
        (&json!(false), &json!(0))
    );

    // Applying again after a cancel is a new payment; a card refund is the provider's.
    let again = register(&app, &member, &apply_path(&test), 7_000, "card").await;
    assert_eq!(again.status, 201, "{:#}", again.body);
    assert_ne!(again.body["payment"]["id"], json!(id));
    let card = again.body["payment"]["id"].as_str().expect("id");
    let refunded = app
        .post(
            &format!("/api/v1/me/payments/{card}/cancel"),
            &json!({}),
            Some(&member),
        )
        .await;
    assert_eq!(refunded.status, 200, "{:#}", refunded.body);
    let refund = refunded.body["payment"]["refund_status"].as_str();
    assert!(
        matches!(refund, Some("done" | "pending")),
        "{:#}",
        refunded.body
    );
    assert_eq!(
        balance(&app, &member).await,
        10_000,
        "the wallet is not the card"
    );
    assert_eq!(payments(&app, &member, "&status=cancelled").await.len(), 2);
}

async fn payments_of_others_are_not_found(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (admin, _) = app.admin(&unique("root")).await;
    let (owner, _, _) = app.member(&unique("own")).await;
    let (other, _, _) = app.member(&unique("oth")).await;
    let test = test_item(&app, &admin, "Private payment", 5_000).await;
    let paid = register(&app, &owner, &apply_path(&test), 5_000, "card").await;
    let id = paid.body["payment"]["id"].as_str().expect("id");
    for who in [&other, &admin] {
        app.get(&format!("/api/v1/me/payments/{id}"), Some(who))
            .await
            .assert_problem(404, "payment_not_found");
        app.post(
            &format!("/api/v1/me/payments/{id}/cancel"),
            &json!({}),
            Some(who),
        )
        .await
        .assert_problem(404, "payment_not_found");
        assert!(payments(&app, who, "").await.is_empty());
    }
    app.get(
        &format!("/api/v1/me/payments/{}", uuid::Uuid::new_v4()),
        Some(&owner),
    )
    .await
    .assert_problem(404, "payment_not_found");
    let mine = app
        .get(&format!("/api/v1/me/payments/{id}"), Some(&owner))
        .await;
    assert_eq!(mine.status, 200, "{:#}", mine.body);
    assert_eq!(mine.body["payment"]["amount"], 5_000);
    assert_eq!(mine.body["registration"]["status"], "applied");
}
