//! What a hostile client cannot do to everyone else: hold connections open by sending a body
//! slowly, grow `/metrics` with made-up methods and paths, or have markup echoed back as its
//! request id.

use crate::helpers::{Backend, TestApp, on_both_backends, unique};
use std::time::Duration;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

on_both_backends!(
    slow_bodies_are_cut_off_while_others_are_served,
    metrics_labels_come_from_a_closed_set,
    only_plain_request_ids_are_echoed,
);

/// Slow clients per test. The issue's figure is 1,000; each costs the test process two file
/// descriptors (its end and the server's), and a CI runner's limit may be 1,024, so the test
/// uses fewer. `scripts/probe-slow-clients` measures 1,000 against a separate server process.
const SLOW_CLIENTS: usize = 200;
/// One in this many sends its body chunked rather than with a `Content-Length`.
const CHUNKED_EVERY: usize = 10;
/// The body time limit of the test server.
const BODY_TIMEOUT_MS: u64 = 3_000;

/// Opens a connection and sends the headers of a login whose body will come slowly.
async fn slow_login(address: &str, chunked: bool) -> TcpStream {
    let length = if chunked {
        "Transfer-Encoding: chunked"
    } else {
        "Content-Length: 60000"
    };
    let head = format!(
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: {address}\r\n\
         Content-Type: application/json\r\n{length}\r\n\r\n"
    );
    let mut stream = TcpStream::connect(address).await.expect("connects");
    stream
        .write_all(head.as_bytes())
        .await
        .expect("headers sent");
    stream
}

/// Sends a byte of body every 200 ms until the server closes the connection; what it answered.
async fn dribble(stream: TcpStream, chunked: bool) -> String {
    let (mut reader, mut writer) = stream.into_split();
    let piece: &[u8] = if chunked { b"1\r\n \r\n" } else { b" " };
    let writing = async move {
        while writer.write_all(piece).await.is_ok() {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        std::future::pending::<()>().await;
    };
    let reading = async move {
        let mut answer = Vec::new();
        // A reset after the answer counts as closed, like an end of stream.
        reader.read_to_end(&mut answer).await.ok();
        String::from_utf8_lossy(&answer).into_owned()
    };
    tokio::select! {
        answer = reading => answer,
        () = writing => String::new(),
    }
}

async fn slow_bodies_are_cut_off_while_others_are_served(backend: Backend) {
    let app = TestApp::spawn_with(backend, |settings| {
        settings.server.body_timeout_ms = BODY_TIMEOUT_MS;
    })
    .await;
    let name = unique("patient");
    app.signup(&name).await;
    let address = app.base_url.trim_start_matches("http://").to_owned();
    let mut slow = Vec::new();
    for n in 0..SLOW_CLIENTS {
        let chunked = n % CHUNKED_EVERY == 0;
        let stream = slow_login(&address, chunked).await;
        let patience = Duration::from_millis(BODY_TIMEOUT_MS) + Duration::from_secs(10);
        slow.push(tokio::spawn(tokio::time::timeout(
            patience,
            dribble(stream, chunked),
        )));
    }

    let health = app.get("/healthz", None).await;
    assert_eq!(
        health.status, 200,
        "healthz while slow clients are connected"
    );
    let login = app.login(&name, "secret123").await;
    assert_eq!(
        login.status, 200,
        "a login while slow clients are connected"
    );

    for (n, client) in slow.into_iter().enumerate() {
        let answer = client
            .await
            .expect("client task")
            .unwrap_or_else(|_| panic!("slow client {n} still connected long after the limit"));
        let lower = answer.to_ascii_lowercase();
        assert!(
            answer.starts_with("HTTP/1.1 408")
                && answer.contains(r#""code":"request_timeout""#)
                && lower.contains("content-type: application/problem+json")
                && lower.contains("connection: close"),
            "slow client {n} was answered: {answer}"
        );
    }
}

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
