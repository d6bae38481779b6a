//! The HTTP envelope: every bad body gets its 4xx problem+json answer, never a 500, and
//! validation names every failing field.

use crate::helpers::{Backend, TestApp, on_both_backends, unique};
use serde_json::json;

on_both_backends!(bad_bodies_get_their_4xx, validation_names_every_field,);

async fn bad_bodies_get_their_4xx(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let signup = app.url("/api/v1/auth/signup");
    let raw = |body: &'static str, content_type: Option<&'static str>| {
        let mut request = app.client.post(&signup).body(body);
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        request
    };
    app.send(raw("{not json", Some("application/json")))
        .await
        .assert_problem(400, "malformed_json");
    let unknown = r#"{"email":"a@b.co","username":"abc","password":"secret123","password_confirm":"secret123","role":"admin"}"#;
    let answer = app.send(raw(unknown, Some("application/json"))).await;
    answer.assert_problem(400, "invalid_body");
    assert!(
        answer.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("role")),
        "{:#}",
        answer.body
    );
    let wrong_type =
        r#"{"email":5,"username":"abc","password":"secret123","password_confirm":"secret123"}"#;
    app.send(raw(wrong_type, Some("application/json")))
        .await
        .assert_problem(400, "invalid_body");
    app.send(raw(r#"{"email":"a@b.co"}"#, Some("application/json")))
        .await
        .assert_problem(400, "invalid_body");
    app.send(raw(r#"{"email":"a@b.co"}"#, Some("text/plain")))
        .await
        .assert_problem(415, "unsupported_media_type");
    app.send(raw(r#"{"email":"a@b.co"}"#, None))
        .await
        .assert_problem(415, "unsupported_media_type");
    let huge = format!(
        r#"{{"email":"{}@b.co","username":"abc","password":"x","password_confirm":"x"}}"#,
        "a".repeat(70_000)
    );
    let request = app
        .client
        .post(&signup)
        .header("content-type", "application/json")
        .body(huge);
    app.send(request)
        .await
        .assert_problem(413, "payload_too_large");
    app.get("/api/v1/nowhere", None)
        .await
        .assert_problem(404, "not_found");
    app.send(app.client.put(app.url("/api/v1/users/me")))
        .await
        .assert_problem(404, "not_found");
    let (token, _, _) = app.member(&unique("ivy")).await;
    let bad_patch = app
        .patch("/api/v1/users/me", &json!({"username": 42}), Some(&token))
        .await;
    bad_patch.assert_problem(400, "invalid_body");
    app.patch("/api/v1/users/me", &json!({}), Some(&token))
        .await
        .assert_problem(400, "validation_failed");
}

async fn validation_names_every_field(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let body = json!({"email": "not-an-email", "username": "x", "password": "letters-only", "password_confirm": "different1"});
    let answer = app.post("/api/v1/auth/signup", &body, None).await;
    answer.assert_problem(400, "validation_failed");
    let fields: Vec<(String, String)> = answer.body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap_or("").to_owned(),
                e["code"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    let expected = [
        ("email", "invalid_email"),
        ("username", "invalid_username"),
        ("password", "password_too_weak"),
        ("password_confirm", "password_mismatch"),
    ];
    assert_eq!(fields, expected.map(|(f, c)| (f.to_owned(), c.to_owned())));
    let long = json!({"email": format!("{}@b.co", "a".repeat(300)), "username": "abc", "password": "secret123", "password_confirm": "secret123"});
    let answer = app.post("/api/v1/auth/signup", &long, None).await;
    assert_eq!(
        answer.body["errors"][0]["field"], "email",
        "{:#}",
        answer.body
    );
    let empty_login = app
        .post(
            "/api/v1/auth/login",
            &json!({"email": "", "password": ""}),
            None,
        )
        .await;
    empty_login.assert_problem(400, "validation_failed");
}
