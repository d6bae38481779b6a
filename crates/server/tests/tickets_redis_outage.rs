//! A `reserva` process whose Redis goes away and comes back: the waiting room answers 503 with
//! `Retry-After` meanwhile (never a 500, never a hang), recovers without a restart, and nothing
//! is oversold.
#![expect(clippy::expect_used)] // a test fails loudly on the unexpected

#[allow(
    dead_code,
    reason = "each test file uses its own part of the shared helpers"
)]
mod support;

use reserva_adapter_postgres::test_support::TemporaryDatabase;
use serde_json::json;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};
use support::tickets::{concert, join, post_queued};
use support::{
    RedisPrefix, client, command, create_admin, login, members, redis_url, send, sql,
    start_command, wallet_verify,
};
use tokio::task::JoinHandle;

/// A TCP proxy on `port` in front of the test Redis. Aborting the task drops the listener and
/// the set of its pipes, which closes every forwarded connection: Redis is gone for the server.
fn proxy(port: u16) -> JoinHandle<()> {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    // The same port again right after the last one closed: TIME_WAIT must not refuse it.
    socket.set_reuseaddr(true).expect("reuseaddr");
    socket
        .bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
        .expect("proxy port");
    let listener = socket.listen(128).expect("listen");
    let target = redis_url()
        .trim_start_matches("redis://")
        .trim_end_matches('/')
        .to_owned();
    tokio::spawn(async move {
        let mut pipes = tokio::task::JoinSet::new();
        while let Ok((mut client, _)) = listener.accept().await {
            let target = target.clone();
            pipes.spawn(async move {
                if let Ok(mut server) = tokio::net::TcpStream::connect(&target).await {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                }
            });
        }
    })
}

/// A port free right now, for the proxy.
fn free_port() -> u16 {
    std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .expect("free port")
        .port()
}

/// Asserts a 503 problem with `Retry-After`.
async fn assert_unavailable(request: reqwest::RequestBuilder) {
    let response = request.send().await.expect("answered in time");
    let status = response.status().as_u16();
    let retry_after = response.headers().get("retry-after").cloned();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    assert_eq!(status, 503, "{body:#}");
    assert!(retry_after.is_some(), "no Retry-After: {body:#}");
    assert!(
        content_type.starts_with("application/problem+json"),
        "{content_type}"
    );
    assert_eq!(body["code"], "service_unavailable", "{body:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_down_is_a_503_and_back_is_served_again_without_a_restart() {
    let database = TemporaryDatabase::create().await;
    let prefix = RedisPrefix::new("tickets-outage");
    let port = free_port();
    let running = proxy(port);
    let mut serve = command(&database.url, &prefix.0);
    serve
        .env("REDIS_URL", format!("redis://127.0.0.1:{port}"))
        .env("RESERVA_REDIS__TIMEOUT_MS", "500");
    let instance = start_command(serve);
    let base = instance.base_url.as_str();
    create_admin(&database.url, &prefix.0);
    let client = client();
    let admin = login(&client, base, "root@example.com", "secret123").await;
    let (concert_id, performance) = concert(base, &admin, 1_000, 5).await;
    let crowd = members(&database.url, 2);
    let ((first, _), (second, _)) = (&crowd[0], &crowd[1]);

    let (status, place) = join(&client, base, first, &concert_id).await;
    assert_eq!(status, 201, "{place:#}");
    let queue = place["token"].as_str().expect("token").to_owned();
    let charge = client
        .post(format!("{base}/api/v1/wallet/charges"))
        .bearer_auth(first)
        .json(&json!({"amount": 5_000}));
    assert_eq!(send(charge).await.0, 201);
    let seat = json!({"performance_id": performance, "seat_number": 1});
    let holds = format!("{base}/api/v1/seat-holds");
    let (status, held) = post_queued(&client, holds.clone(), first, &queue, seat).await;
    assert_eq!(status, 201, "{held:#}");

    running.abort();
    let _ = running.await;
    let join_request = client
        .post(format!("{base}/api/v1/queue/tokens"))
        .bearer_auth(second)
        .json(&json!({"concert_id": concert_id}));
    assert_unavailable(join_request.try_clone().expect("cloneable")).await;
    let poll = client
        .get(format!("{base}/api/v1/queue/tokens/current"))
        .bearer_auth(first)
        .header("Queue-Token", &queue);
    assert_unavailable(poll).await;
    let other_seat = json!({"performance_id": performance, "seat_number": 2});
    let hold_request = client
        .post(&holds)
        .bearer_auth(first)
        .header("Queue-Token", &queue)
        .json(&other_seat);
    assert_unavailable(hold_request).await;

    let _back = proxy(port);
    let deadline = Instant::now() + Duration::from_secs(10);
    let rejoined = loop {
        let (status, place) = send(join_request.try_clone().expect("cloneable")).await;
        if status == 201 {
            break place;
        }
        assert_eq!(status, 503, "{place:#}");
        assert!(Instant::now() < deadline, "still unavailable: {place:#}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(rejoined["token"].is_string(), "{rejoined:#}");
    let pay = format!(
        "{base}/api/v1/seat-holds/{}/pay",
        held["id"].as_str().expect("id")
    );
    let (status, booking) = post_queued(&client, pay, first, &queue, json!({})).await;
    assert_eq!(status, 201, "{booking:#}");

    // Nothing was held while the room was unreachable: the one hold is the one paid.
    assert_eq!(sql(&database.url, "SELECT count(*) FROM seat_holds"), ["1"]);
    let audit = wallet_verify(&database.url, &prefix.0);
    let report = String::from_utf8_lossy(&audit.stdout);
    assert_eq!(audit.status.code(), Some(0), "{report}");
    drop(instance);
}
