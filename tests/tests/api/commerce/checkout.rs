//! Checkout over HTTP through the simulated provider: the whole flow (checkout → approve →
//! access → receipts → refund), a decline and a cancel, one signed callback delivered ten
//! times at once, bad and stale signatures (401, nothing changes), and an approval that arrives
//! after its order was cancelled (refunded automatically). Every case ends with the ledger
//! audit of `reserva wallet verify` clean.
//!
//! The refund window: the server's clock (the harness's [`TestApp::advance`]) is moved to
//! 7 days − 1 minute after one payment (refunded) and 7 days + 1 minute after another (refused,
//! nothing changes).

use super::{course, curriculum_body, tutor};
use crate::helpers::{Answer, Backend, TestApp, on_both_backends, unique};
use futures_util::future::join_all;
use hmac::{Hmac, Mac};
use reserva_server::Secret;
use serde_json::{Value, json};
use sha2::Sha256;

on_both_backends!(
    the_whole_flow_pays_grants_lists_and_refunds,
    a_decline_keeps_the_order_pending_and_a_cancel_cancels_it,
    one_signed_callback_delivered_ten_times_at_once_pays_once,
    bad_and_stale_signatures_are_refused_and_change_nothing,
    an_approval_after_the_order_was_cancelled_is_refunded_automatically,
    a_refund_is_granted_at_seven_days_minus_a_minute_and_refused_at_plus_a_minute,
    a_curriculum_order_buys_the_courses_it_had_when_ordered,
);

/// The provider secret of the cases that sign callbacks themselves.
const PROVIDER_SECRET: &str = "black-box-provider-secret-0123456789abcdef";

fn checkout_path(order: &str) -> String {
    format!("/api/v1/orders/{order}/checkout")
}

fn refund_path(order: &str) -> String {
    format!("/api/v1/orders/{order}/refund")
}

fn simulate(payment: &str, action: &str) -> String {
    format!("/api/v1/simulated-provider/payments/{payment}/{action}")
}

fn text(value: &Value, key: &str) -> String {
    value[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} in {value:#}"))
        .to_owned()
}

/// An app (with the provider secret known to the test) with an admin and a tutor's id.
async fn shop(backend: Backend) -> (TestApp, String, String) {
    let app = TestApp::spawn_with(backend, |settings| {
        settings.commerce.provider_secret = Some(Secret::new(PROVIDER_SECRET.into()));
    })
    .await;
    let (admin, _) = app.admin(&unique("root")).await;
    let (_, tutor_id) = tutor(&app, &admin).await;
    (app, admin, tutor_id)
}

/// `member` orders `courses` directly; returns the order's id.
async fn place(app: &TestApp, member: &str, courses: &[&str]) -> String {
    let items: Vec<Value> = courses.iter().map(|id| json!({"course_id": id})).collect();
    let placed = app
        .post("/api/v1/orders", &json!({"items": items}), Some(member))
        .await;
    assert_eq!(placed.status, 201, "{:#}", placed.body);
    text(&placed.body, "id")
}

/// Checks `order` out with KakaoPay; returns the answer's body (201 asserted).
async fn check_out(app: &TestApp, member: &str, order: &str) -> Value {
    let answer = app
        .post_with_key(
            &checkout_path(order),
            &json!({"payment_method": "kakaopay"}),
            member,
            &unique("key"),
        )
        .await;
    assert_eq!(answer.status, 201, "{:#}", answer.body);
    assert_eq!(answer.body["status"], "ready");
    assert!(answer.body["approval_url"].is_string(), "{:#}", answer.body);
    answer.body
}

async fn order_status(app: &TestApp, member: &str, order: &str) -> String {
    let answer = app
        .get(&format!("/api/v1/orders/{order}"), Some(member))
        .await;
    assert_eq!(answer.status, 200, "{:#}", answer.body);
    text(&answer.body, "status")
}

/// The course ids `member` may study now.
async fn access(app: &TestApp, member: &str) -> Vec<String> {
    let answer = app.get("/api/v1/me/access", Some(member)).await;
    assert_eq!(answer.status, 200, "{:#}", answer.body);
    let mut ids: Vec<String> = answer.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|item| text(item, "course_id"))
        .collect();
    ids.sort();
    ids
}

/// `reserva wallet verify` finds the ledger (and the seats) clean.
async fn ledger_clean(app: &TestApp) {
    let clean = reserva_server::cli::wallet_verify(&app.settings)
        .await
        .unwrap_or_else(|error| panic!("wallet verify: {error}"));
    assert!(clean, "reserva wallet verify found violations");
}

/// The `Reserva-Signature` of `body` at unix time `at` under `secret`:
/// `t=<at>,v1=<hex HMAC-SHA256 of "<at>.<body>">`.
fn signature(secret: &str, at: i64, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length is accepted");
    mac.update(format!("{at}.").as_bytes());
    mac.update(body);
    let digest: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!("t={at},v1={digest}")
}

fn callback_body(payment: &str, result: &str) -> Vec<u8> {
    serde_json::to_vec(
        &json!({"payment_id": payment, "result": result, "reference": "T-black-box"}),
    )
    .expect("json")
}

/// POSTs a raw callback for `payment` with `signature` (none: no header).
async fn deliver(app: &TestApp, payment: &str, body: Vec<u8>, signature: Option<String>) -> Answer {
    let mut request = app
        .client
        .post(app.url(&format!("/api/v1/payments/{payment}/callback")))
        .header("content-type", "application/json")
        .body(body);
    if let Some(signature) = signature {
        request = request.header("Reserva-Signature", signature);
    }
    app.send(request).await
}

fn now_unix() -> i64 {
    chrono::Utc::now().timestamp()
}

async fn the_whole_flow_pays_grants_lists_and_refunds(backend: Backend) {
    let (app, admin, tutor_id) = shop(backend).await;
    let (ann, _, _) = app.member(&unique("ann")).await;
    let (bob, _, _) = app.member(&unique("bob")).await;
    let c1 = course(&app, &admin, &tutor_id, "Hooks", 5_000).await;
    let c2 = course(&app, &admin, &tutor_id, "State", 7_000).await;
    let order = place(&app, &ann, &[&c1, &c2]).await;

    // another user's order is not found; the wallet is no checkout method
    app.post_with_key(
        &checkout_path(&order),
        &json!({"payment_method": "kakaopay"}),
        &bob,
        &unique("key"),
    )
    .await
    .assert_problem(404, "not_found");
    app.post_with_key(
        &checkout_path(&order),
        &json!({"payment_method": "wallet"}),
        &ann,
        &unique("key"),
    )
    .await
    .assert_problem(400, "validation_failed");

    let ready = check_out(&app, &ann, &order).await;
    let payment = text(&ready, "payment_id");
    assert_eq!(ready["amount"], 12_000);
    assert!(access(&app, &ann).await.is_empty());
    // only the payment's owner plays its approval
    let stranger = app
        .post(&simulate(&payment, "approve"), &json!({}), Some(&bob))
        .await;
    assert_eq!(stranger.status, 404, "{:#}", stranger.body);

    let approved = app
        .post(&simulate(&payment, "approve"), &json!({}), Some(&ann))
        .await;
    assert_eq!(approved.status, 200, "{:#}", approved.body);
    assert_eq!(approved.body["status"], "paid");
    assert_eq!(approved.body["order_status"], "paid");
    assert_eq!(approved.body["replayed"], false);
    // the user cannot approve twice at the provider (a replayed callback: see below)
    app.post(&simulate(&payment, "approve"), &json!({}), Some(&ann))
        .await
        .assert_problem(409, "payment_not_ready");
    assert_eq!(order_status(&app, &ann, &order).await, "paid");
    let mut bought = vec![c1.clone(), c2.clone()];
    bought.sort();
    assert_eq!(access(&app, &ann).await, bought);

    let receipts = app.get("/api/v1/receipts", Some(&ann)).await;
    assert_eq!(receipts.status, 200, "{:#}", receipts.body);
    let items = receipts.body["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{:#}", receipts.body);
    let number = format!("REC-{}", payment.replace('-', "").to_uppercase());
    assert_eq!(items[0]["receipt_number"], number.as_str());
    assert_eq!(items[0]["status"], "paid");
    assert_eq!(items[0]["amount"], 12_000);
    assert_eq!(items[0]["order_id"], order.as_str());
    assert!(items[0]["paid_at"].is_string());
    let detail = app
        .get(&format!("/api/v1/receipts/{payment}"), Some(&ann))
        .await;
    assert_eq!(detail.status, 200, "{:#}", detail.body);
    assert_eq!(detail.body["receipt_number"], number.as_str());
    assert_eq!(detail.body["items"].as_array().map(Vec::len), Some(2));
    assert_eq!(detail.body["items"][0]["title"], "Hooks");
    assert_eq!(detail.body["items"][1]["price"], 7_000);
    assert!(
        text(&detail.body, "customer_email").contains('@'),
        "{:#}",
        detail.body
    );
    assert!(
        detail.body["billing_address"].is_null(),
        "ann has no address"
    );
    app.get(&format!("/api/v1/receipts/{payment}"), Some(&bob))
        .await
        .assert_problem(404, "not_found");
    ledger_clean(&app).await;

    app.post_with_key(&refund_path(&order), &json!({}), &bob, &unique("key"))
        .await
        .assert_problem(404, "not_found");
    let refunded = app
        .post_with_key(&refund_path(&order), &json!({}), &ann, &unique("key"))
        .await;
    assert_eq!(refunded.status, 200, "{:#}", refunded.body);
    assert_eq!(refunded.body["status"], "refunded");
    assert_eq!(refunded.body["amount"], 12_000);
    assert_eq!(refunded.body["payment_id"], payment.as_str());
    assert_eq!(order_status(&app, &ann, &order).await, "refunded");
    assert!(
        access(&app, &ann).await.is_empty(),
        "the access is withdrawn"
    );
    let receipts = app.get("/api/v1/receipts", Some(&ann)).await;
    assert_eq!(receipts.body["items"][0]["status"], "refunded");
    app.post_with_key(&refund_path(&order), &json!({}), &ann, &unique("key"))
        .await
        .assert_problem(409, "order_not_paid");
    ledger_clean(&app).await;
}

async fn a_decline_keeps_the_order_pending_and_a_cancel_cancels_it(backend: Backend) {
    let (app, admin, tutor_id) = shop(backend).await;
    let (ann, _, _) = app.member(&unique("ann")).await;
    let c1 = course(&app, &admin, &tutor_id, "Hooks", 5_000).await;
    let order = place(&app, &ann, &[&c1]).await;

    let first = text(&check_out(&app, &ann, &order).await, "payment_id");
    let declined = app
        .post(&simulate(&first, "decline"), &json!({}), Some(&ann))
        .await;
    assert_eq!(declined.status, 200, "{:#}", declined.body);
    assert_eq!(declined.body["status"], "failed");
    assert_eq!(declined.body["order_status"], "pending");
    assert_eq!(order_status(&app, &ann, &order).await, "pending");

    let second = text(&check_out(&app, &ann, &order).await, "payment_id");
    let cancelled = app
        .post(&simulate(&second, "cancel"), &json!({}), Some(&ann))
        .await;
    assert_eq!(cancelled.status, 200, "{:#}", cancelled.body);
    assert_eq!(cancelled.body["status"], "cancelled");
    assert_eq!(cancelled.body["order_status"], "cancelled");
    assert_eq!(order_status(&app, &ann, &order).await, "cancelled");
    app.post_with_key(
        &checkout_path(&order),
        &json!({"payment_method": "kakaopay"}),
        &ann,
        &unique("key"),
    )
    .await
    .assert_problem(409, "order_not_pending");
    app.post_with_key(&refund_path(&order), &json!({}), &ann, &unique("key"))
        .await
        .assert_problem(409, "order_not_paid");
    assert!(access(&app, &ann).await.is_empty());
    let receipts = app.get("/api/v1/receipts", Some(&ann)).await;
    assert_eq!(receipts.body["items"].as_array().map(Vec::len), Some(0));
    ledger_clean(&app).await;
}

async fn one_signed_callback_delivered_ten_times_at_once_pays_once(backend: Backend) {
    let (app, admin, tutor_id) = shop(backend).await;
    let (ann, _, _) = app.member(&unique("ann")).await;
    let c1 = course(&app, &admin, &tutor_id, "Hooks", 5_000).await;
    let c2 = course(&app, &admin, &tutor_id, "State", 6_000).await;
    let order = place(&app, &ann, &[&c1, &c2]).await;
    let payment = text(&check_out(&app, &ann, &order).await, "payment_id");

    let body = callback_body(&payment, "approved");
    let signed = signature(PROVIDER_SECRET, now_unix(), &body);
    let answers =
        join_all((0..10).map(|_| deliver(&app, &payment, body.clone(), Some(signed.clone()))))
            .await;
    let mut first = 0;
    for answer in &answers {
        assert_eq!(answer.status, 200, "{:#}", answer.body);
        assert_eq!(answer.body["status"], "paid", "{:#}", answer.body);
        if answer.body["replayed"] == false {
            first += 1;
        }
    }
    assert_eq!(first, 1, "{answers:#?}");
    assert_eq!(order_status(&app, &ann, &order).await, "paid");
    let mut bought = vec![c1, c2];
    bought.sort();
    assert_eq!(access(&app, &ann).await, bought, "each course granted once");
    let receipts = app.get("/api/v1/receipts", Some(&ann)).await;
    assert_eq!(receipts.body["items"].as_array().map(Vec::len), Some(1));
    // a later cancel of the same payment is a replay of the approval
    let late = callback_body(&payment, "cancelled");
    let answer = deliver(
        &app,
        &payment,
        late.clone(),
        Some(signature(PROVIDER_SECRET, now_unix(), &late)),
    )
    .await;
    assert_eq!(answer.status, 200, "{:#}", answer.body);
    assert_eq!(answer.body["replayed"], true);
    assert_eq!(answer.body["result"], "approved");
    assert_eq!(order_status(&app, &ann, &order).await, "paid");
    ledger_clean(&app).await;
}

async fn bad_and_stale_signatures_are_refused_and_change_nothing(backend: Backend) {
    let (app, admin, tutor_id) = shop(backend).await;
    let (ann, _, _) = app.member(&unique("ann")).await;
    let c1 = course(&app, &admin, &tutor_id, "Hooks", 5_000).await;
    let order = place(&app, &ann, &[&c1]).await;
    let payment = text(&check_out(&app, &ann, &order).await, "payment_id");
    let body = callback_body(&payment, "approved");
    let now = now_unix();

    let tampered = callback_body(&payment, "approved")
        .into_iter()
        .map(|byte| if byte == b'T' { b'X' } else { byte })
        .collect::<Vec<u8>>();
    let refusals = [
        (body.clone(), None, "invalid_signature"),
        (
            body.clone(),
            Some("t=abc,v1=00".to_owned()),
            "invalid_signature",
        ),
        (
            body.clone(),
            Some(signature("another-secret-0123456789abcdef0123", now, &body)),
            "invalid_signature",
        ),
        (
            tampered,
            Some(signature(PROVIDER_SECRET, now, &body)),
            "invalid_signature",
        ),
        (
            body.clone(),
            Some(signature(PROVIDER_SECRET, now - 301 - 60, &body)),
            "stale_signature",
        ),
        (
            body.clone(),
            Some(signature(PROVIDER_SECRET, now + 301 + 60, &body)),
            "stale_signature",
        ),
    ];
    for (sent, signed, code) in refusals {
        deliver(&app, &payment, sent, signed)
            .await
            .assert_problem(401, code);
        assert_eq!(order_status(&app, &ann, &order).await, "pending", "{code}");
        assert!(access(&app, &ann).await.is_empty(), "{code}");
    }
    // a well-signed body naming another payment
    let other = callback_body(&uuid::Uuid::now_v7().to_string(), "approved");
    deliver(
        &app,
        &payment,
        other.clone(),
        Some(signature(PROVIDER_SECRET, now, &other)),
    )
    .await
    .assert_problem(400, "payment_id_mismatch");
    assert_eq!(order_status(&app, &ann, &order).await, "pending");

    let good = deliver(
        &app,
        &payment,
        body.clone(),
        Some(signature(PROVIDER_SECRET, now, &body)),
    )
    .await;
    assert_eq!(good.status, 200, "{:#}", good.body);
    assert_eq!(good.body["status"], "paid");
    assert_eq!(access(&app, &ann).await, [c1]);
    ledger_clean(&app).await;
}

async fn an_approval_after_the_order_was_cancelled_is_refunded_automatically(backend: Backend) {
    let (app, admin, tutor_id) = shop(backend).await;
    let (ann, _, _) = app.member(&unique("ann")).await;
    let c1 = course(&app, &admin, &tutor_id, "Hooks", 5_000).await;
    let c2 = course(&app, &admin, &tutor_id, "State", 6_000).await;
    let first = place(&app, &ann, &[&c1]).await;
    let payment = text(&check_out(&app, &ann, &first).await, "payment_id");
    // a new order cancels the first while its payment waits at the provider
    let second = place(&app, &ann, &[&c2]).await;
    assert_eq!(order_status(&app, &ann, &first).await, "cancelled");

    let approved = app
        .post(&simulate(&payment, "approve"), &json!({}), Some(&ann))
        .await;
    assert_eq!(approved.status, 200, "{:#}", approved.body);
    assert_eq!(approved.body["result"], "approved");
    assert_eq!(approved.body["status"], "cancelled");
    assert_eq!(approved.body["order_status"], "cancelled");
    let refund = text(&approved.body, "refund");
    assert!(
        refund == "pending" || refund == "done",
        "{:#}",
        approved.body
    );
    assert_eq!(order_status(&app, &ann, &first).await, "cancelled");
    assert_eq!(order_status(&app, &ann, &second).await, "pending");
    assert!(access(&app, &ann).await.is_empty(), "nothing granted");
    let receipts = app.get("/api/v1/receipts", Some(&ann)).await;
    assert_eq!(receipts.body["items"].as_array().map(Vec::len), Some(0));
    ledger_clean(&app).await;

    // the second order still checks out and pays
    let paying = text(&check_out(&app, &ann, &second).await, "payment_id");
    let paid = app
        .post(&simulate(&paying, "approve"), &json!({}), Some(&ann))
        .await;
    assert_eq!(paid.status, 200, "{:#}", paid.body);
    assert_eq!(paid.body["status"], "paid");
    assert_eq!(access(&app, &ann).await, [c2]);
    ledger_clean(&app).await;
}

/// `member` (logged in as `name`) pays `course` with the simulated provider's approval; returns
/// the order, the payment and when it was paid (the receipt's `paid_at`).
async fn pay(
    app: &TestApp,
    member: &str,
    course: &str,
) -> (String, String, chrono::DateTime<chrono::Utc>) {
    let order = place(app, member, &[course]).await;
    let payment = text(&check_out(app, member, &order).await, "payment_id");
    let approved = app
        .post(&simulate(&payment, "approve"), &json!({}), Some(member))
        .await;
    assert_eq!(approved.status, 200, "{:#}", approved.body);
    let receipt = app
        .get(&format!("/api/v1/receipts/{payment}"), Some(member))
        .await;
    assert_eq!(receipt.status, 200, "{:#}", receipt.body);
    let paid_at = chrono::DateTime::parse_from_rfc3339(&text(&receipt.body, "paid_at"))
        .expect("paid_at is RFC 3339")
        .with_timezone(&chrono::Utc);
    (order, payment, paid_at)
}

/// Moves the server's clock to `at` and logs `name` in again (the old token expired with the
/// move); returns the new access token.
async fn at(app: &TestApp, at: chrono::DateTime<chrono::Utc>, name: &str) -> String {
    app.advance(at - app.now());
    let login = app.login(name, "secret123").await;
    assert_eq!(login.status, 200, "{:#}", login.body);
    text(&login.body, "access_token")
}

async fn a_refund_is_granted_at_seven_days_minus_a_minute_and_refused_at_plus_a_minute(
    backend: Backend,
) {
    let (app, admin, tutor_id) = shop(backend).await;
    let week = chrono::Duration::days(7);
    let minute = chrono::Duration::minutes(1);

    let ann_name = unique("ann");
    let (ann, _, _) = app.member(&ann_name).await;
    let c1 = course(&app, &admin, &tutor_id, "Inside", 5_000).await;
    // made now: the admin's token expires with the first move
    let c2 = course(&app, &admin, &tutor_id, "Outside", 7_000).await;
    let (order, payment, paid_at) = pay(&app, &ann, &c1).await;
    let ann = at(&app, paid_at + week - minute, &ann_name).await;
    assert_eq!(access(&app, &ann).await, vec![c1.clone()]);
    let refunded = app
        .post_with_key(&refund_path(&order), &json!({}), &ann, &unique("key"))
        .await;
    assert_eq!(refunded.status, 200, "{:#}", refunded.body);
    assert_eq!(refunded.body["status"], "refunded");
    assert_eq!(refunded.body["payment_id"], payment.as_str());
    assert_eq!(order_status(&app, &ann, &order).await, "refunded");
    assert!(access(&app, &ann).await.is_empty());
    ledger_clean(&app).await;

    // A payment made now (the clock stays moved), refunded a minute too late.
    let bob_name = unique("bob");
    let (bob, _, _) = app.member(&bob_name).await;
    let (order, payment, paid_at) = pay(&app, &bob, &c2).await;
    let bob = at(&app, paid_at + week + minute, &bob_name).await;
    app.post_with_key(&refund_path(&order), &json!({}), &bob, &unique("key"))
        .await
        .assert_problem(409, "refund_window_closed");
    // nothing changed: still paid, the access kept, the receipt paid
    assert_eq!(order_status(&app, &bob, &order).await, "paid");
    assert_eq!(access(&app, &bob).await, vec![c2.clone()]);
    let receipt = app
        .get(&format!("/api/v1/receipts/{payment}"), Some(&bob))
        .await;
    assert_eq!(receipt.body["status"], "paid", "{:#}", receipt.body);
    ledger_clean(&app).await;
}

async fn a_curriculum_order_buys_the_courses_it_had_when_ordered(backend: Backend) {
    let (app, admin, tutor_id) = shop(backend).await;
    let (ann, _, _) = app.member(&unique("ann")).await;
    let c1 = course(&app, &admin, &tutor_id, "Hooks", 3_000).await;
    let c2 = course(&app, &admin, &tutor_id, "State", 4_000).await;
    let c3 = course(&app, &admin, &tutor_id, "Testing", 5_000).await;
    let mut body = curriculum_body("React path", 6_000, &[&c1, &c2]);
    body["tutor_id"] = json!(tutor_id);
    let created = app
        .post("/api/v1/admin/curricula", &body, Some(&admin))
        .await;
    assert_eq!(created.status, 201, "{:#}", created.body);
    let path = text(&created.body, "id");
    let placed = app
        .post(
            "/api/v1/orders",
            &json!({"items": [{"curriculum_id": path}]}),
            Some(&ann),
        )
        .await;
    assert_eq!(placed.status, 201, "{:#}", placed.body);
    let order = text(&placed.body, "id");
    // the curriculum's courses change between the order and its payment
    let edited = app
        .patch(
            &format!("/api/v1/admin/curricula/{path}"),
            &json!({"course_ids": [c3]}),
            Some(&admin),
        )
        .await;
    assert_eq!(edited.status, 200, "{:#}", edited.body);
    let payment = text(&check_out(&app, &ann, &order).await, "payment_id");
    let approved = app
        .post(&simulate(&payment, "approve"), &json!({}), Some(&ann))
        .await;
    assert_eq!(approved.status, 200, "{:#}", approved.body);
    assert_eq!(approved.body["status"], "paid");
    let mut bought = vec![c1, c2];
    bought.sort();
    assert_eq!(access(&app, &ann).await, bought, "what the order showed");
    ledger_clean(&app).await;
}
