//! The HTTP envelope on both backends: every bad input gets its 4xx problem+json answer, never a
//! 500; operations endpoints; the OpenAPI document and Swagger UI.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly on the unexpected

mod support;

use serde_json::json;
use support::{Backend, TestApp, unique};

on_both_backends!(
    bad_bodies_get_their_4xx,
    validation_names_every_field,
    operations_endpoints_answer,
    docs_are_served_from_the_binary,
);

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

async fn operations_endpoints_answer(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let health = app.get("/healthz", None).await;
    assert_eq!((health.status, &health.body["status"]), (200, &json!("ok")));
    let ready = app.get("/readyz", None).await;
    assert_eq!(ready.status, 200, "{:#}", ready.body);
    assert_eq!(
        ready.body["checks"],
        json!({"database": "up", "shared_state": "up"})
    );
    assert!(
        ready
            .header("x-request-id")
            .is_some_and(|id| !id.is_empty())
    );
    assert_eq!(ready.header("x-content-type-options"), Some("nosniff"));
    let traced = app
        .send(
            app.client
                .get(app.url("/healthz"))
                .header("x-request-id", "trace-me-42"),
        )
        .await;
    assert_eq!(traced.header("x-request-id"), Some("trace-me-42"));
    let metrics = app.get("/metrics", None).await;
    assert_eq!(metrics.status, 200);
    let text = metrics.body.as_str().expect("text");
    assert!(
        text.contains(r#"reserva_http_requests_total{method="GET",route="/readyz",status="200"}"#),
        "{text}"
    );
}

async fn docs_are_served_from_the_binary(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let spec = app.get("/api/openapi.json", None).await;
    assert_eq!(spec.status, 200);
    assert!(
        spec.body["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1")),
        "{}",
        spec.body["openapi"]
    );
    for path in [
        "/api/v1/auth/signup",
        "/api/v1/auth/login",
        "/api/v1/auth/refresh",
        "/api/v1/auth/logout",
        "/api/v1/users/me",
        "/api/v1/admin/users",
        "/api/v1/admin/users/{id}",
        "/healthz",
        "/readyz",
        "/metrics",
    ] {
        assert!(
            spec.body["paths"][path].is_object(),
            "{path} missing from the OpenAPI document"
        );
    }
    assert_eq!(
        spec.body["components"]["securitySchemes"]["bearer_auth"]["scheme"],
        "bearer"
    );
    let redirect = app.get("/docs", None).await;
    assert!(matches!(redirect.status, 301..=308), "{}", redirect.status);
    let page = app.get("/docs/", None).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body
            .as_str()
            .is_some_and(|html| html.contains("swagger-ui")),
        "Swagger UI page"
    );
    let bundle = app.get("/docs/swagger-ui-bundle.js", None).await;
    assert_eq!(bundle.status, 200, "assets are vendored into the binary");
}
