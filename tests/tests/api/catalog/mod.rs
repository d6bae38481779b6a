//! The catalog over HTTP on both backends: tests and courses listed, searched and paged,
//! applied for and enrolled in with every payment method (the simulated provider declining,
//! losing answers), completed and cancelled with their refunds, the payment history, the items'
//! administration by admins and tutors, and the races (identical applies, concurrent cancels).
//! The request builders shared by the submodules are here.

mod admin;
mod browse;
mod cancel;
mod register;

use crate::helpers::{Answer, TestApp, unique};
use chrono::{Duration, SecondsFormat, Utc};
use serde_json::{Value, json};

/// An instant `hours` from now, as a request carries it.
fn in_hours(hours: i64) -> String {
    (Utc::now() + Duration::hours(hours))
        .with_timezone(&chrono_tz::Asia::Seoul)
        .to_rfc3339_opts(SecondsFormat::Secs, false)
}

/// The body of an item open from a day ago for a week, at `price`.
fn open_item(title: &str, price: i64) -> Value {
    json!({"title": title, "description": "A friendly item", "price": price,
        "starts_at": in_hours(-24), "ends_at": in_hours(24 * 7)})
}

/// Creates a test open now (as `admin`); returns its id.
async fn test_item(app: &TestApp, admin: &str, title: &str, price: i64) -> String {
    let answer = app
        .post("/api/v1/admin/tests", &open_item(title, price), Some(admin))
        .await;
    assert_eq!(answer.status, 201, "{:#}", answer.body);
    answer.body["id"].as_str().expect("id").to_owned()
}

/// Creates a course open now, taught by `tutor` (as `admin`); returns its id.
async fn course_item(app: &TestApp, admin: &str, tutor: &str, title: &str, price: i64) -> String {
    let mut body = open_item(title, price);
    body["category"] = json!("Python");
    body["skill_level"] = json!("beginner");
    body["tutor_id"] = json!(tutor);
    let answer = app.post("/api/v1/admin/courses", &body, Some(admin)).await;
    assert_eq!(answer.status, 201, "{:#}", answer.body);
    answer.body["id"].as_str().expect("id").to_owned()
}

/// A member promoted to tutor by `admin`; returns (token, id).
async fn tutor(app: &TestApp, admin: &str) -> (String, String) {
    let (token, _, id) = app.member(&unique("tut")).await;
    let promoted = app
        .patch(
            &format!("/api/v1/admin/users/{id}"),
            &json!({"role": "tutor"}),
            Some(admin),
        )
        .await;
    assert_eq!(promoted.status, 200, "{:#}", promoted.body);
    (token, id)
}

/// `POST /tests/{id}/apply` (or a course's enroll) with a fresh `Idempotency-Key`.
async fn register(app: &TestApp, member: &str, path: &str, amount: i64, method: &str) -> Answer {
    let body = json!({"amount": amount, "payment_method": method});
    app.post_with_key(path, &body, member, &uuid::Uuid::new_v4().to_string())
        .await
}

/// The apply path of a test.
fn apply_path(test: &str) -> String {
    format!("/api/v1/tests/{test}/apply")
}

/// The enroll path of a course.
fn enroll_path(course: &str) -> String {
    format!("/api/v1/courses/{course}/enroll")
}

/// Charges the caller's wallet and asserts it worked.
async fn charge(app: &TestApp, member: &str, amount: i64) {
    let answer = app
        .post(
            "/api/v1/wallet/charges",
            &json!({"amount": amount}),
            Some(member),
        )
        .await;
    assert_eq!(answer.status, 201, "{:#}", answer.body);
}

/// The caller's balance.
async fn balance(app: &TestApp, member: &str) -> i64 {
    let answer = app.get("/api/v1/wallet", Some(member)).await;
    assert_eq!(answer.status, 200, "{:#}", answer.body);
    answer.body["balance"].as_i64().expect("balance")
}

/// Every payment of the caller's history (all pages).
async fn payments(app: &TestApp, member: &str, filter: &str) -> Vec<Value> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/api/v1/me/payments?limit=2{filter}");
        if let Some(cursor) = &cursor {
            path.push_str("&cursor=");
            path.push_str(cursor);
        }
        let page = app.get(&path, Some(member)).await;
        assert_eq!(page.status, 200, "{:#}", page.body);
        all.extend(
            page.body["items"]
                .as_array()
                .expect("items")
                .iter()
                .cloned(),
        );
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return all,
        }
    }
}
