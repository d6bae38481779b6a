//! The envelope of a request: its size, its headers, its URL, how its JSON is built and whether
//! its bytes are UTF-8. The limits are actix-web's and ours (docs/HOSTILE-INPUT.md lists them):
//! a body over `server.body_limit_bytes` is a 413 problem+json, a request head over 128 KiB or
//! with more than 96 header lines a 431 and a closed connection, bytes the HTTP parser refuses a
//! bare 400 (no route has seen the request yet), JSON that is not a body of the endpoint a 400
//! problem+json. The server keeps serving others throughout.

use super::document::{Document, Kind, Place, session};
use crate::helpers::{Backend, TestApp, on_both_backends, unique};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

on_both_backends!(
    bodies_over_the_limit_are_413_before_they_are_read,
    huge_heads_are_refused_and_the_connection_closed,
    deep_and_broken_json_is_a_400,
    bytes_that_are_not_utf8_are_refused_everywhere,
);

/// What a raw exchange came back with.
struct Raw {
    /// The whole answer as text (lossy); empty when the server closed without one.
    text: String,
    /// From the first byte sent to the end of the answer.
    took: Duration,
}

impl Raw {
    fn status(&self) -> Option<u16> {
        self.text.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
    }
}

/// Sends `request` as it is on a new connection and reads until the server closes it (a reset
/// counts as closed). Panics when the server neither answers nor closes within 10 s.
async fn exchange(app: &TestApp, request: &[u8]) -> Raw {
    let address = app.base_url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).await.expect("connects");
    let started = Instant::now();
    // The server may answer and close before it has read everything: a failed write is fine.
    let _ = stream.write_all(request).await;
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), async {
        let mut buffer = [0_u8; 16 * 1024];
        while let Ok(read @ 1..) = stream.read(&mut buffer).await {
            answer.extend_from_slice(&buffer[..read]);
        }
    })
    .await;
    assert!(read.is_ok(), "the connection neither answered nor closed");
    Raw {
        text: String::from_utf8_lossy(&answer).into_owned(),
        took: started.elapsed(),
    }
}

/// A request head; `Connection: close` so the server ends the exchange.
fn head(method: &str, target: &str, extra: &str) -> String {
    format!("{method} {target} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n{extra}\r\n")
}

/// A JSON login request with `body`, as bytes.
fn json_post(path: &str, body: &[u8]) -> Vec<u8> {
    let extra = format!(
        "Content-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    let mut request = head("POST", path, &extra).into_bytes();
    request.extend_from_slice(body);
    request
}

fn assert_problem_text(raw: &Raw, status: u16, code: &str) {
    assert_eq!(raw.status(), Some(status), "{:.600}", raw.text);
    let lower = raw.text.to_ascii_lowercase();
    assert!(
        lower.contains("content-type: application/problem+json")
            && raw.text.contains(&format!(r#""code":"{code}""#)),
        "{:.600}",
        raw.text
    );
}

async fn assert_still_serving(app: &TestApp) {
    let health = app.get("/healthz", None).await;
    assert_eq!(health.status, 200, "{:#}", health.body);
}

async fn bodies_over_the_limit_are_413_before_they_are_read(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let limit = app.settings.server.body_limit_bytes;
    // One byte over, announced.
    let padding = " ".repeat(limit - 1);
    let over = format!("{{{padding}}}");
    assert_eq!(over.len(), limit + 1);
    let raw = exchange(&app, &json_post("/api/v1/auth/login", over.as_bytes())).await;
    assert_problem_text(&raw, 413, "payload_too_large");
    // At the limit, the body is read and judged on what it says.
    let at = format!("{{{}}}", " ".repeat(limit - 2));
    let raw = exchange(&app, &json_post("/api/v1/auth/login", at.as_bytes())).await;
    assert_problem_text(&raw, 400, "invalid_body");
    // Ten gigabytes announced and none sent: refused on the announcement, not after a wait.
    let announced = head(
        "POST",
        "/api/v1/auth/login",
        "Content-Type: application/json\r\nContent-Length: 10000000000\r\n",
    );
    let raw = exchange(&app, announced.as_bytes()).await;
    assert_problem_text(&raw, 413, "payload_too_large");
    assert!(raw.took < Duration::from_secs(5), "took {:?}", raw.took);
    // Chunked, so no length is announced: cut off once the limit is passed.
    let mut chunked = head(
        "POST",
        "/api/v1/auth/signup",
        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n",
    )
    .into_bytes();
    let piece = " ".repeat(4096);
    chunked.extend_from_slice(b"1\r\n{\r\n");
    for _ in 0..(limit / piece.len() + 2) {
        chunked.extend_from_slice(format!("{:x}\r\n{piece}\r\n", piece.len()).as_bytes());
    }
    chunked.extend_from_slice(b"1\r\n}\r\n0\r\n\r\n");
    let raw = exchange(&app, &chunked).await;
    assert_problem_text(&raw, 413, "payload_too_large");
    assert_still_serving(&app).await;
}

async fn huge_heads_are_refused_and_the_connection_closed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let refused = |raw: &Raw| matches!(raw.status(), Some(400 | 414 | 431));
    let value = "a".repeat(200 * 1024);
    let raw = exchange(
        &app,
        head("GET", "/healthz", &format!("X-Big: {value}\r\n")).as_bytes(),
    )
    .await;
    assert!(refused(&raw), "a 200 KiB header: {:.300}", raw.text);
    let many: String = (0..200).map(|n| format!("X-Header-{n}: v\r\n")).collect();
    let raw = exchange(&app, head("GET", "/healthz", &many).as_bytes()).await;
    assert!(refused(&raw), "200 headers: {:.300}", raw.text);
    let raw = exchange(
        &app,
        head("GET", &format!("/healthz?{value}"), "").as_bytes(),
    )
    .await;
    assert!(refused(&raw), "a 200 KiB URL: {:.300}", raw.text);
    // A 200 KiB bearer token never reaches the token check.
    let raw = exchange(
        &app,
        head(
            "GET",
            "/api/v1/users/me",
            &format!("Authorization: Bearer {value}\r\n"),
        )
        .as_bytes(),
    )
    .await;
    assert!(refused(&raw), "a 200 KiB token: {:.300}", raw.text);
    // Under the head limit, a long token is simply not a token.
    let token = "a".repeat(60 * 1024);
    let request = app
        .client
        .get(app.url("/api/v1/users/me"))
        .bearer_auth(&token);
    app.send(request).await.assert_problem(401, "invalid_token");

    // Long values in every text query parameter, under the head limit: judged, never a 5xx.
    let document = Document::served(&app).await;
    let admin = unique("longurl");
    app.admin(&admin).await;
    let token = session(&app, &admin).await;
    let long = "a".repeat(60 * 1024);
    let inputs = document.inputs().into_iter().filter(|input| {
        input.kind == Kind::Text && matches!(input.place, Place::Query | Place::Path)
    });
    for input in inputs {
        let answer = app
            .send(document.request(&app, &input, &long).bearer_auth(&token))
            .await;
        document.assert_documented(&input, "60 KiB of a", &answer);
    }
    assert_still_serving(&app).await;
}

async fn deep_and_broken_json_is_a_400(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let limit = app.settings.server.body_limit_bytes;
    // Nesting as deep as the body limit allows: serde_json's recursion limit (128) refuses it
    // long before any stack runs out.
    for deep in [
        "[".repeat(limit - 10),
        "{\"a\":".repeat((limit - 10) / 5),
        format!("{}1{}", "[".repeat(20_000), "]".repeat(20_000)),
        format!(r#"{{"email":{}"#, "[".repeat(limit - 20)),
    ] {
        let raw = exchange(&app, &json_post("/api/v1/auth/login", deep.as_bytes())).await;
        // Refused at the first bracket that is not the body's shape, or at the depth limit.
        assert_eq!(raw.status(), Some(400), "{:.400}", raw.text);
        assert!(
            raw.text.contains(r#""code":"malformed_json""#)
                || raw.text.contains(r#""code":"invalid_body""#),
            "{:.400}",
            raw.text
        );
        assert!(raw.took < Duration::from_secs(5), "took {:?}", raw.took);
    }
    // Deeper than the limit: 413, unread.
    let deeper = "[".repeat(limit * 2);
    let raw = exchange(&app, &json_post("/api/v1/auth/login", deeper.as_bytes())).await;
    assert_problem_text(&raw, 413, "payload_too_large");

    let login = r#"{"email":"ann@example.com","password":"secret123"}"#;
    let broken: [(&str, &str); 14] = [
        ("", "malformed_json"),
        ("{", "malformed_json"),
        (
            r#"{"email":"ann@example.com","password":"secret123""#,
            "malformed_json",
        ),
        (&format!("{login}x"), "malformed_json"),
        (&format!("{login}{login}"), "malformed_json"),
        (&format!("\u{feff}{login}"), "malformed_json"),
        (
            r#"{'email':'ann@example.com','password':'secret123'}"#,
            "malformed_json",
        ),
        (
            r#"{"email":"ann@example.com",/* c */"password":"secret123"}"#,
            "malformed_json",
        ),
        (
            r#"{"email":"ann@example.com","password":NaN}"#,
            "malformed_json",
        ),
        (
            r#"{"email":"ann@example.com","email":"bob@example.com","password":"secret123"}"#,
            "invalid_body",
        ),
        (
            r#"{"email":"ann@example.com","password":"\ud800"}"#,
            "malformed_json",
        ),
        ("null", "invalid_body"),
        (
            r#"[{"email":"ann@example.com","password":"secret123"}]"#,
            "invalid_body",
        ),
        (r#""ann@example.com""#, "invalid_body"),
    ];
    for (body, code) in broken {
        let raw = exchange(&app, &json_post("/api/v1/auth/login", body.as_bytes())).await;
        let context = format!("{body:.60}");
        assert!(raw.status() == Some(400), "{context}: {:.400}", raw.text);
        assert!(
            raw.text.contains(&format!(r#""code":"{code}""#)),
            "{context}: {:.400}",
            raw.text
        );
    }

    // Every body of the API refuses what is not its object.
    let document = Document::served(&app).await;
    let admin = unique("shapes");
    app.admin(&admin).await;
    let token = session(&app, &admin).await;
    let mut seen = std::collections::BTreeSet::new();
    for input in document
        .inputs()
        .into_iter()
        .filter(|input| input.place == Place::Body)
    {
        if !seen.insert((input.method.clone(), input.path.clone())) {
            continue;
        }
        for shape in [
            "null",
            "[]",
            "\"x\"",
            "1",
            "{",
            "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
        ] {
            let request = document.with_body(&app, &input, shape).bearer_auth(&token);
            let answer = app.send(request).await;
            document.assert_documented(&input, shape, &answer);
            assert!(
                answer.status == 400 || answer.status == 404 || answer.status == 403,
                "{} {} with {shape:.20}: {} {:#}",
                input.method,
                input.path,
                answer.status,
                answer.body
            );
        }
    }
}

async fn bytes_that_are_not_utf8_are_refused_everywhere(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // In a body: invalid bytes, an overlong encoding, an encoded surrogate.
    for bad in [
        &b"\xff\xfe"[..],
        b"\xc0\xaf",
        b"\xed\xa0\x80",
        b"\xf8\x88\x80\x80\x80",
    ] {
        let mut body = br#"{"email":"ann"#.to_vec();
        body.extend_from_slice(bad);
        body.extend_from_slice(br#"@example.com","password":"secret123"}"#);
        let raw = exchange(&app, &json_post("/api/v1/auth/login", &body)).await;
        assert_problem_text(&raw, 400, "malformed_json");
    }
    // Raw in the request line: the HTTP parser refuses it before any route.
    for target in [
        &b"/api/v1/tests/\xff\xfe"[..],
        b"/api/v1/tests?q=\xff",
        b"/healthz\x00",
    ] {
        let mut request = b"GET ".to_vec();
        request.extend_from_slice(target);
        request.extend_from_slice(b" HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
        let raw = exchange(&app, &request).await;
        assert_eq!(raw.status(), Some(400), "{:.300}", raw.text);
    }
    // In a header value: not a token, so 401.
    let mut request = head("GET", "/api/v1/users/me", "").into_bytes();
    request.truncate(request.len() - 2);
    request.extend_from_slice(b"Authorization: Bearer \xff\xfe\r\n\r\n");
    let raw = exchange(&app, &request).await;
    assert_eq!(raw.status(), Some(401), "{:.400}", raw.text);
    assert!(
        ["missing_token", "invalid_token"]
            .iter()
            .any(|code| raw.text.contains(&format!(r#""code":"{code}""#))),
        "{:.400}",
        raw.text
    );

    // Percent-encoded in every text query and path parameter: judged, never a 5xx.
    let document = Document::served(&app).await;
    let admin = unique("bytes");
    app.admin(&admin).await;
    let token = session(&app, &admin).await;
    let inputs = document.inputs().into_iter().filter(|input| {
        input.kind == Kind::Text && matches!(input.place, Place::Query | Place::Path)
    });
    for input in inputs {
        for bad in ["%FF%FE", "a%C0%AFb", "%ED%A0%80", "%E2%82"] {
            let answer = app
                .send(document.request(&app, &input, bad).bearer_auth(&token))
                .await;
            document.assert_documented(&input, bad, &answer);
        }
    }
    assert_still_serving(&app).await;
}
