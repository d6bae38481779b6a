//! What operators and integrators read: health, readiness, request ids, metrics, the OpenAPI
//! document and the Swagger UI served from the binary.

use crate::helpers::{Backend, TestApp, on_both_backends};
use serde_json::json;

on_both_backends!(operations_endpoints_answer, docs_are_served_from_the_binary,);

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
