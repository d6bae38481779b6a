//! Commerce over HTTP on both backends, one module per slice: curricula (their administration
//! by admins and their own tutors, the refusals, the list's search, filters and pages, the
//! detail, and concurrent edits), the cart, orders and course access, and the checkout with
//! its callbacks, refunds and receipts. The request builders the
//! slices share are here.

mod access;
mod billing;
mod cart;
mod checkout;
mod curricula;
mod orders;

use crate::helpers::{TestApp, unique};
use chrono::{Duration, SecondsFormat, Utc};
use serde_json::{Value, json};

/// An instant `hours` from now, as a request carries it.
fn in_hours(hours: i64) -> String {
    (Utc::now() + Duration::hours(hours))
        .with_timezone(&chrono_tz::Asia::Seoul)
        .to_rfc3339_opts(SecondsFormat::Secs, false)
}

/// Creates a catalog course open now, taught by `tutor` (as `admin`); returns its id.
async fn course(app: &TestApp, admin: &str, tutor: &str, title: &str, price: i64) -> String {
    let body = json!({"title": title, "description": "A course", "price": price,
        "starts_at": in_hours(-24), "ends_at": in_hours(24 * 30),
        "category": "Python", "skill_level": "beginner", "tutor_id": tutor});
    let answer = app.post("/api/v1/admin/courses", &body, Some(admin)).await;
    assert_eq!(answer.status, 201, "{:#}", answer.body);
    answer.body["id"].as_str().expect("id").to_owned()
}

/// Creates a catalog test open now (as `admin`); returns its id.
async fn test_item(app: &TestApp, admin: &str) -> String {
    let body = json!({"title": "A test", "price": 1_000,
        "starts_at": in_hours(-24), "ends_at": in_hours(24)});
    let answer = app.post("/api/v1/admin/tests", &body, Some(admin)).await;
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

/// A curriculum body over `courses`.
fn curriculum_body(name: &str, price: i64, courses: &[&str]) -> Value {
    json!({"name": name, "description": "Courses that go together", "price": price,
        "category": "React", "skill_level": "intermediate", "course_ids": courses})
}

/// The (field, code) of a problem's first error.
fn field_code(answer: &crate::helpers::Answer) -> (String, String) {
    let error = &answer.body["errors"][0];
    (
        error["field"].as_str().unwrap_or_default().to_owned(),
        error["code"].as_str().unwrap_or_default().to_owned(),
    )
}
