//! Redis is an accelerator, not a single point of failure: the real server on PostgreSQL and a
//! private `redis-server` that the test kills and starts again.
//!
//! While Redis is down: authenticated reads, an exam reservation and a wallet charge without an
//! `Idempotency-Key` succeed; the same with a key answer 503 + `Retry-After` (their record cannot
//! be checked); the waiting room, which lives in Redis alone, answers 503; logging in still works
//! (limits counted in the instance); a logout succeeds and its token is refused from then on,
//! also after Redis is back. When Redis is back the server uses it again without a restart.

use crate::helpers::{Answer, Backend, TestApp, unique};
use chrono::{Duration, DurationRound, SecondsFormat, Utc};
use reserva_server::Secret;
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

/// A `redis-server` of this test alone, on a free port, killed when dropped (also on a panic).
struct PrivateRedis {
    port: u16,
    process: Option<Child>,
}

impl PrivateRedis {
    fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let mut redis = Self {
            port,
            process: None,
        };
        redis.restart();
        redis
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Starts it (again, empty: no persistence) and waits until it answers `PING`.
    fn restart(&mut self) {
        let process = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server runs (is it installed?)");
        self.process = Some(process);
        let started = Instant::now();
        while !self.answers() {
            assert!(
                started.elapsed() < std::time::Duration::from_secs(10),
                "the private redis-server did not start"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    fn answers(&self) -> bool {
        let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let mut reply = [0_u8; 7];
        stream.write_all(b"PING\r\n").is_ok()
            && stream.read_exact(&mut reply).is_ok()
            && &reply == b"+PONG\r\n"
    }

    /// Whether `key` exists (`EXISTS`, spoken by hand: the test needs no Redis client).
    fn has_key(&self, key: &str) -> bool {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("redis answers");
        let command = format!("*2\r\n$6\r\nEXISTS\r\n${}\r\n{key}\r\n", key.len());
        stream.write_all(command.as_bytes()).expect("sent");
        let mut reply = [0_u8; 4];
        stream.read_exact(&mut reply).expect("a reply");
        &reply == b":1\r\n"
    }

    /// SIGKILL: no goodbye to the server's connections.
    fn kill(&mut self) {
        if let Some(mut process) = self.process.take() {
            let _ = process.kill();
            let _ = process.wait();
        }
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.kill();
    }
}

fn stamp(instant: chrono::DateTime<Utc>) -> String {
    instant
        .with_timezone(&chrono_tz::Asia::Seoul)
        .to_rfc3339_opts(SecondsFormat::Secs, false)
}

/// An hour-long exam for 10 people, `days` ahead.
fn exam(days: i64) -> Value {
    let start = Utc::now()
        .duration_trunc(Duration::hours(1))
        .expect("truncates")
        + Duration::days(days);
    json!({"starts_at": stamp(start), "ends_at": stamp(start + Duration::hours(1)), "headcount": 10})
}

fn assert_unavailable(answer: &Answer) {
    assert_eq!(answer.status, 503, "{:#}", answer.body);
    assert_eq!(
        answer.header("content-type"),
        Some("application/problem+json")
    );
    assert!(
        answer.header("retry-after").is_some(),
        "{:?}",
        answer.headers
    );
}

async fn concert(app: &TestApp, admin: &str) -> String {
    let starts_at = stamp(Utc::now() + Duration::days(3));
    let body = json!({"title": unique("Outage "), "price": 1000,
        "performances": [{"starts_at": starts_at}], "seats": 5});
    let answer = app.post("/api/v1/admin/concerts", &body, Some(admin)).await;
    assert_eq!(answer.status, 201, "{:#}", answer.body);
    answer.body["id"].as_str().expect("id").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn production_serves_through_a_redis_outage_and_uses_redis_again_after() {
    // Declared first, dropped last: the server's key clean-up still finds it.
    let mut redis = PrivateRedis::start();
    let url = redis.url();
    let app = TestApp::spawn_with(Backend::Production, |settings| {
        settings.redis.url = Some(Secret::new(url));
        settings.redis.timeout_ms = 300;
    })
    .await;
    let (admin, _) = app.admin(&unique("rda")).await;
    let concert = concert(&app, &admin).await;
    let name = unique("rdm");
    let (member, _, _) = app.member(&name).await;
    let second = app.login(&name, "secret123").await;
    let text = |key: &str| second.body[key].as_str().expect("token").to_owned();
    let (leaving, leaving_refresh) = (text("access_token"), text("refresh_token"));

    redis.kill();

    for path in [
        "/api/v1/users/me",
        "/api/v1/wallet",
        "/api/v1/exam-reservations",
    ] {
        let answer = app.get(path, Some(&member)).await;
        assert_eq!(answer.status, 200, "{path}: {:#}", answer.body);
    }
    let admin_view = app.get("/api/v1/admin/users", Some(&admin)).await;
    assert_eq!(admin_view.status, 200, "{:#}", admin_view.body);
    let reservations = "/api/v1/exam-reservations";
    let booked = app.post(reservations, &exam(10), Some(&member)).await;
    assert_eq!(booked.status, 201, "{:#}", booked.body);
    assert_unavailable(
        &app.post_with_key(reservations, &exam(11), &member, "k-exam")
            .await,
    );
    let charges = "/api/v1/wallet/charges";
    let charged = app
        .post(charges, &json!({"amount": 700}), Some(&member))
        .await;
    assert_eq!(charged.status, 201, "{:#}", charged.body);
    let keyed = app
        .post_with_key(charges, &json!({"amount": 5}), &member, "k-charge")
        .await;
    assert_unavailable(&keyed);
    let join = json!({"concert_id": concert});
    assert_unavailable(&app.post("/api/v1/queue/tokens", &join, Some(&member)).await);
    let wallet = app.get("/api/v1/wallet", Some(&member)).await;
    assert_eq!(wallet.body["balance"], 700, "the keyed charge did not run");
    // Logging in still works: its limits are counted in the instance meanwhile.
    assert_eq!(app.login(&name, "secret123").await.status, 200);
    let logout = app
        .post(
            "/api/v1/auth/logout",
            &json!({"refresh_token": leaving_refresh}),
            Some(&leaving),
        )
        .await;
    assert_eq!(logout.status, 204, "{:#}", logout.body);
    app.get("/api/v1/users/me", Some(&leaving))
        .await
        .assert_problem(401, "token_revoked");

    redis.restart();

    // No server restart: the next commands open a new connection. Allow the reconnect a moment.
    let started = Instant::now();
    let replayable = loop {
        let answer = app
            .post_with_key(charges, &json!({"amount": 11}), &member, "k-after")
            .await;
        if answer.status != 503 || started.elapsed() > std::time::Duration::from_secs(5) {
            break answer;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(replayable.status, 201, "{:#}", replayable.body);
    let replayed = app
        .post_with_key(charges, &json!({"amount": 11}), &member, "k-after")
        .await;
    assert_eq!(replayed.status, 201, "{:#}", replayed.body);
    assert_eq!(replayed.header("idempotent-replayed"), Some("true"));
    assert_eq!(
        app.get("/api/v1/wallet", Some(&member)).await.body["balance"],
        711
    );
    let joined = app.post("/api/v1/queue/tokens", &join, Some(&member)).await;
    assert!(matches!(joined.status, 200 | 201), "{:#}", joined.body);
    // The restarted Redis has no mark of the logout; the token stays refused all the same.
    app.get("/api/v1/users/me", Some(&leaving))
        .await
        .assert_problem(401, "token_revoked");
    assert_eq!(app.get("/api/v1/users/me", Some(&member)).await.status, 200);
    drop(app);
}

/// A Redis that restarts empty while only health probes talk to it: no bearer check and no mark
/// write of this server sees it fail, so nothing local says its marks are gone. The missing marks
/// epoch does: a token logged out before the restart stays refused (storage decides until one
/// instance has rebuilt the marks, and the rebuilt mark refuses it after), while a live token
/// keeps working throughout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_logout_stays_refused_after_redis_restarts_empty_behind_health_probes() {
    let mut redis = PrivateRedis::start();
    let url = redis.url();
    let app = TestApp::spawn_with(Backend::Production, |settings| {
        settings.redis.url = Some(Secret::new(url));
        settings.redis.timeout_ms = 300;
    })
    .await;
    let name = unique("rre");
    let (member, _, _) = app.member(&name).await;
    let second = app.login(&name, "secret123").await;
    let text = |key: &str| second.body[key].as_str().expect("token").to_owned();
    let (leaving, leaving_refresh) = (text("access_token"), text("refresh_token"));
    let logout = app
        .post(
            "/api/v1/auth/logout",
            &json!({"refresh_token": leaving_refresh}),
            Some(&leaving),
        )
        .await;
    assert_eq!(logout.status, 204, "{:#}", logout.body);
    app.get("/api/v1/users/me", Some(&leaving))
        .await
        .assert_problem(401, "token_revoked");

    redis.kill();
    redis.restart();

    // Only the readiness probe until it sees Redis again (it reconnects the shared client).
    let started = Instant::now();
    while app.get("/readyz", None).await.status != 200 {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "the server never saw Redis again"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    app.get("/api/v1/users/me", Some(&leaving))
        .await
        .assert_problem(401, "token_revoked");
    assert_eq!(app.get("/api/v1/users/me", Some(&member)).await.status, 200);
    // After an upkeep period the marks are rebuilt and the epoch set: still refused.
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let epoch = format!("{}marks:epoch", app.settings.redis.key_prefix);
    assert!(redis.has_key(&epoch), "the marks were rebuilt");
    app.get("/api/v1/users/me", Some(&leaving))
        .await
        .assert_problem(401, "token_revoked");
    assert_eq!(app.get("/api/v1/users/me", Some(&member)).await.status, 200);
    drop(app);
}
