//! Applying and enrolling: every method (the wallet charged first), their limits, the price,
//! closed items, the simulated provider declining or losing its answer, `Idempotency-Key`
//! replays, and ten identical applies at once making one registration and one payment.

use super::{
    apply_path, balance, charge, course_item, enroll_path, in_hours, payments, register, test_item,
    tutor,
};
use crate::helpers::{Backend, TestApp, on_both_backends, unique};
use futures_util::future::join_all;
use serde_json::json;

on_both_backends!(
    every_method_pays_and_the_answer_names_payment_and_registration,
    amounts_outside_the_method_or_the_price_and_closed_items_are_refused,
    a_declined_card_registers_nothing_and_a_retry_of_its_key_repeats_the_refusal,
    a_lost_answer_is_resolved_without_charging_twice,
    ten_identical_applies_at_once_make_one_registration_and_one_payment,
    one_key_sent_ten_times_at_once_pays_once,
);

const DECLINED: i64 = 4_404;
const ANSWER_LOST: i64 = 7_707;
const NEVER_ARRIVES: i64 = 8_808;

fn field_code(answer: &crate::helpers::Answer) -> (&str, &str) {
    let error = &answer.body["errors"][0];
    (
        error["field"].as_str().unwrap_or_default(),
        error["code"].as_str().unwrap_or_default(),
    )
}

async fn every_method_pays_and_the_answer_names_payment_and_registration(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (admin, _) = app.admin(&unique("root")).await;
    let (member, _, _) = app.member(&unique("ann")).await;
    let (_, tutor_id) = tutor(&app, &admin).await;

    for method in ["card", "kakaopay", "bank_transfer"] {
        let test = test_item(&app, &admin, &format!("Test by {method}"), 12_000).await;
        let answer = register(&app, &member, &apply_path(&test), 12_000, method).await;
        assert_eq!(answer.status, 201, "{method}: {:#}", answer.body);
        let payment = &answer.body["payment"];
        let id = payment["id"].as_str().expect("id");
        assert_eq!(
            answer.header("location"),
            Some(format!("/api/v1/me/payments/{id}").as_str())
        );
        assert_eq!(payment["payment_method"], method);
        assert_eq!(payment["status"], "paid");
        assert_eq!(payment["amount"], 12_000);
        assert_eq!(payment["kind"], "test");
        assert_eq!(payment["item_id"], json!(test));
        assert_eq!(payment["item_title"], format!("Test by {method}"));
        assert_eq!(payment["refund_status"], "not_due");
        assert_eq!(payment["cancelled_at"], serde_json::Value::Null);
        assert!(payment["paid_at"].is_string());
        let registration = &answer.body["registration"];
        assert_eq!(registration["status"], "applied");
        assert_eq!(registration["item_id"], json!(test));
        assert_eq!(registration["completed_at"], serde_json::Value::Null);
    }
    let fees = payments(&app, &member, "").await;
    let fee_of = |method: &str| {
        fees.iter()
            .find(|record| record["payment"]["payment_method"] == method)
            .map(|record| record["payment"]["estimated_fee"].clone())
    };
    assert_eq!(fee_of("card"), Some(json!(384)), "3.2 % of 12,000");
    assert_eq!(fee_of("kakaopay"), Some(json!(348)));
    assert_eq!(fee_of("bank_transfer"), Some(json!(60)));

    // The wallet: charged first, then paid from; too little is refused.
    let course = course_item(&app, &admin, &tutor_id, "Wallet course", 30_000).await;
    let poor = register(&app, &member, &enroll_path(&course), 30_000, "wallet").await;
    poor.assert_problem(409, "insufficient_balance");
    charge(&app, &member, 50_000).await;
    let paid = register(&app, &member, &enroll_path(&course), 30_000, "wallet").await;
    assert_eq!(paid.status, 201, "{:#}", paid.body);
    assert_eq!(paid.body["registration"]["status"], "enrolled");
    assert_eq!(paid.body["payment"]["estimated_fee"], 0);
    assert_eq!(balance(&app, &member).await, 20_000);
    let again = register(&app, &member, &enroll_path(&course), 30_000, "card").await;
    again.assert_problem(409, "already_registered");
    assert_eq!(balance(&app, &member).await, 20_000, "nothing moved");

    // A free test is taken with the wallet only, which moves no money.
    let free = test_item(&app, &admin, "Free test", 0).await;
    let by_card = register(&app, &member, &apply_path(&free), 0, "card").await;
    by_card.assert_problem(400, "validation_failed");
    assert_eq!(
        field_code(&by_card),
        ("amount", "amount_outside_method_limits")
    );
    let taken = register(&app, &member, &apply_path(&free), 0, "wallet").await;
    assert_eq!(taken.status, 201, "{:#}", taken.body);
    assert_eq!(balance(&app, &member).await, 20_000);
}

async fn amounts_outside_the_method_or_the_price_and_closed_items_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (admin, _) = app.admin(&unique("root")).await;
    let (member, _, _) = app.member(&unique("ann")).await;
    let cheap = test_item(&app, &admin, "Cheap test", 500).await;

    let by_card = register(&app, &member, &apply_path(&cheap), 500, "card").await;
    by_card.assert_problem(400, "validation_failed");
    assert_eq!(
        field_code(&by_card),
        ("amount", "amount_outside_method_limits")
    );
    let by_transfer = register(&app, &member, &apply_path(&cheap), 500, "bank_transfer").await;
    assert_eq!(
        field_code(&by_transfer),
        ("amount", "amount_outside_method_limits")
    );
    let negative = register(&app, &member, &apply_path(&cheap), -1, "kakaopay").await;
    negative.assert_problem(400, "validation_failed");
    assert_eq!(field_code(&negative), ("amount", "amount_negative"));
    let wrong = register(&app, &member, &apply_path(&cheap), 600, "kakaopay").await;
    wrong.assert_problem(400, "validation_failed");
    assert_eq!(field_code(&wrong), ("amount", "amount_not_price"));
    let unknown = app
        .post(
            &apply_path(&cheap),
            &json!({"amount": 500, "payment_method": "cash"}),
            Some(&member),
        )
        .await;
    unknown.assert_problem(400, "invalid_body");
    let extra = app
        .post(
            &apply_path(&cheap),
            &json!({"amount": 500, "payment_method": "kakaopay", "coupon": "x"}),
            Some(&member),
        )
        .await;
    extra.assert_problem(400, "invalid_body");
    let kakao = register(&app, &member, &apply_path(&cheap), 500, "kakaopay").await;
    assert_eq!(kakao.status, 201, "{:#}", kakao.body);

    let later = json!({"title": "Not yet open", "price": 5_000,
        "starts_at": in_hours(24), "ends_at": in_hours(48)});
    let later = app.post("/api/v1/admin/tests", &later, Some(&admin)).await;
    let later = later.body["id"].as_str().expect("id").to_owned();
    register(&app, &member, &apply_path(&later), 5_000, "card")
        .await
        .assert_problem(409, "registration_closed");
    let missing = uuid::Uuid::new_v4().to_string();
    register(&app, &member, &apply_path(&missing), 5_000, "card")
        .await
        .assert_problem(404, "item_not_found");
    register(&app, &member, &enroll_path(&cheap), 500, "kakaopay")
        .await
        .assert_problem(404, "item_not_found");
    assert_eq!(
        payments(&app, &member, "").await.len(),
        1,
        "only the one paid"
    );
}

async fn a_declined_card_registers_nothing_and_a_retry_of_its_key_repeats_the_refusal(
    backend: Backend,
) {
    let app = TestApp::spawn_with(backend, |settings| {
        settings.payments.simulator.decline_amounts = vec![DECLINED];
    })
    .await;
    let (admin, _) = app.admin(&unique("root")).await;
    let (member, _, _) = app.member(&unique("ann")).await;
    let test = test_item(&app, &admin, "Declined test", DECLINED).await;
    let body = json!({"amount": DECLINED, "payment_method": "card"});
    let declined = app
        .post_with_key(&apply_path(&test), &body, &member, "decline-1")
        .await;
    declined.assert_problem(402, "payment_declined");
    assert!(
        declined.body["detail"]
            .as_str()
            .is_some_and(|detail| detail.contains("card declined")),
        "{:#}",
        declined.body
    );
    let again = app
        .post_with_key(&apply_path(&test), &body, &member, "decline-1")
        .await;
    again.assert_problem(402, "payment_declined");
    assert!(
        payments(&app, &member, "").await.is_empty(),
        "no payment shown"
    );
    let one = app
        .get(&format!("/api/v1/tests/{test}"), Some(&member))
        .await;
    assert_eq!(one.body["is_registered"], false);
    assert_eq!(one.body["registration_count"], 0);
    // The place is free again: the wallet pays.
    charge(&app, &member, DECLINED).await;
    let paid = register(&app, &member, &apply_path(&test), DECLINED, "wallet").await;
    assert_eq!(paid.status, 201, "{:#}", paid.body);
}

async fn a_lost_answer_is_resolved_without_charging_twice(backend: Backend) {
    let app = TestApp::spawn_with(backend, |settings| {
        settings.payments.timeout_ms = 300;
        settings.payments.simulator.timeout_amounts = vec![ANSWER_LOST];
        settings.payments.simulator.lost_amounts = vec![NEVER_ARRIVES];
    })
    .await;
    let (admin, _) = app.admin(&unique("root")).await;
    let (member, _, _) = app.member(&unique("ann")).await;
    let test = test_item(&app, &admin, "Lost answer", ANSWER_LOST).await;
    let body = json!({"amount": ANSWER_LOST, "payment_method": "card"});
    let first = app
        .post_with_key(&apply_path(&test), &body, &member, "lost-answer")
        .await;
    match first.status {
        201 => {}
        503 => {
            first.assert_problem(503, "outcome_unknown");
            assert!(first.body["resource_id"].is_string(), "{:#}", first.body);
        }
        other => panic!("unexpected {other}: {:#}", first.body),
    }
    let retry = app
        .post_with_key(&apply_path(&test), &body, &member, "lost-answer")
        .await;
    assert_eq!(retry.status, 201, "{:#}", retry.body);
    let id = retry.body["payment"]["id"].clone();
    if first.status == 201 {
        assert_eq!(first.body["payment"]["id"], id, "the same payment");
    } else {
        assert_eq!(first.body["resource_id"], id, "the payment it named");
    }
    let shown = payments(&app, &member, "").await;
    assert_eq!(shown.len(), 1, "{shown:#?}");
    assert_eq!(shown[0]["payment"]["id"], id);
    let one = app
        .get(&format!("/api/v1/tests/{test}"), Some(&member))
        .await;
    assert_eq!(one.body["registration_count"], 1);

    // A charge that never reached the provider: nothing charged, nothing registered.
    let never = test_item(&app, &admin, "Never arrives", NEVER_ARRIVES).await;
    let lost = register(&app, &member, &apply_path(&never), NEVER_ARRIVES, "card").await;
    lost.assert_problem(503, "payment_provider_unavailable");
    assert_eq!(payments(&app, &member, "").await.len(), 1);
    let one = app
        .get(&format!("/api/v1/tests/{never}"), Some(&member))
        .await;
    assert_eq!(one.body["is_registered"], false);
}

async fn ten_identical_applies_at_once_make_one_registration_and_one_payment(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (admin, _) = app.admin(&unique("root")).await;
    let (member, _, _) = app.member(&unique("ann")).await;
    let test = test_item(&app, &admin, "Raced test", 9_000).await;
    let body = json!({"amount": 9_000, "payment_method": "card"});
    let path = apply_path(&test);
    let answers = join_all((0..10).map(|_| app.post(&path, &body, Some(&member)))).await;
    let mut created = 0;
    for answer in &answers {
        match answer.status {
            201 => created += 1,
            409 => answer.assert_problem(409, "already_registered"),
            other => panic!("unexpected {other}: {:#}", answer.body),
        }
    }
    assert_eq!(created, 1, "exactly one registration");
    assert_eq!(
        payments(&app, &member, "").await.len(),
        1,
        "exactly one payment"
    );
    let one = app
        .get(&format!("/api/v1/tests/{test}"), Some(&member))
        .await;
    assert_eq!(one.body["registration_count"], 1);
}

async fn one_key_sent_ten_times_at_once_pays_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (admin, _) = app.admin(&unique("root")).await;
    let (member, _, _) = app.member(&unique("ann")).await;
    let test = test_item(&app, &admin, "Keyed race", 9_000).await;
    charge(&app, &member, 20_000).await;
    let body = json!({"amount": 9_000, "payment_method": "wallet"});
    let path = apply_path(&test);
    // Half carry one key, half none: the keyless ones race in the store itself.
    let requests = (0..10).map(|index| {
        let mut request = app
            .client
            .post(app.url(&path))
            .json(&body)
            .bearer_auth(&member);
        if index % 2 == 0 {
            request = request.header("Idempotency-Key", "same-key");
        }
        app.send(request)
    });
    let answers = join_all(requests).await;
    let mut ids = std::collections::HashSet::new();
    for answer in &answers {
        match answer.status {
            201 => {
                ids.insert(answer.body["payment"]["id"].to_string());
            }
            409 => assert!(
                ["already_registered", "idempotency_key_in_flight"]
                    .contains(&answer.body["code"].as_str().unwrap_or_default()),
                "{:#}",
                answer.body
            ),
            other => panic!("unexpected {other}: {:#}", answer.body),
        }
    }
    assert_eq!(ids.len(), 1, "one payment answered: {ids:?}");
    assert_eq!(balance(&app, &member).await, 11_000, "paid once");
    assert_eq!(payments(&app, &member, "").await.len(), 1);
    let replay = app.post_with_key(&path, &body, &member, "same-key").await;
    if replay.status == 201 {
        assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    } else {
        // The keyless request won the place; the keyed ones were refused.
        replay.assert_problem(409, "already_registered");
    }
}
