//! What a hostile client cannot do to everyone else: grow `/metrics` with made-up methods and
//! paths, or have markup echoed back as its request id.

use crate::helpers::{Backend, TestApp, on_both_backends, unique};

on_both_backends!(
    metrics_labels_come_from_a_closed_set,
    only_plain_request_ids_are_echoed,
);

/// The `method` label values of the request counters.
fn methods_in(metrics: &str) -> Vec<String> {
    metrics
        .lines()
        .filter(|line| line.starts_with("reserva_http_requests_total{"))
        .filter_map(|line| line.split("method=\"").nth(1)?.split('"').next())
        .map(str::to_owned)
        .collect()
}

async fn metrics_labels_come_from_a_closed_set(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for _ in 0..20 {
        let method = reqwest::Method::from_bytes(unique("ZZ").as_bytes()).expect("a method");
        let path = format!("/nothing/{}", unique("p"));
        let answer = app.send(app.client.request(method, app.url(&path))).await;
        answer.assert_problem(404, "not_found");
    }
    app.get("/healthz", None).await;
    let scraped = app.get("/metrics", None).await;
    let text = scraped.body.as_str().expect("metrics text");
    assert!(!text.contains("ZZ") && !text.contains("/nothing"), "{text}");
    let series: Vec<&str> = text
        .lines()
        .filter(|line| line.starts_with("reserva_http_requests_total{"))
        .collect();
    assert_eq!(series.len(), 2, "{text}");
    assert!(
        text.contains(
            r#"reserva_http_requests_total{method="other",route="unmatched",status="404"} 20"#
        ),
        "{text}"
    );
    let known = [
        "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "other",
    ];
    assert!(
        methods_in(text)
            .iter()
            .all(|method| known.contains(&method.as_str())),
        "{text}"
    );
}

async fn only_plain_request_ids_are_echoed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let answered_id = |sent: String| {
        let app = &app;
        async move {
            let request = app
                .client
                .get(app.url("/healthz"))
                .header("x-request-id", &sent);
            let answer = app.send(request).await;
            answer.header("x-request-id").map(str::to_owned)
        }
    };
    let uuid = uuid::Uuid::new_v4().to_string();
    for kept in [
        "trace-me-42".to_owned(),
        "a.b_c-D".to_owned(),
        uuid,
        "x".repeat(64),
    ] {
        assert_eq!(answered_id(kept.clone()).await, Some(kept));
    }
    for hostile in [
        "<script>alert(1)</script>".to_owned(),
        "a b".to_owned(),
        r#"x"y"#.to_owned(),
        "x".repeat(65),
    ] {
        let id = answered_id(hostile.clone()).await.expect("an id");
        assert_ne!(id, hostile);
        assert!(uuid::Uuid::parse_str(&id).is_ok(), "{hostile} → {id}");
    }
}
