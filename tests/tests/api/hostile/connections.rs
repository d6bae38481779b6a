//! Clients that hold connections without finishing a request: headers that trickle in, thousands
//! of connections that send nothing, and more connections than the server's cap. Each is cut off
//! after `server.client_request_timeout_ms` (a 408 and a closed connection), and a normal request
//! is served meanwhile; past the cap, a new connection waits in the listen backlog for a slot
//! instead of being refused. (Bodies that trickle in: `operations::hostile_clients`.)

use crate::helpers::{Backend, TestApp, on_both_backends};
use futures_util::future::join_all;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

on_both_backends!(
    headers_that_trickle_in_are_cut_off_while_others_are_served,
    thousands_of_idle_connections_leave_room_for_a_request,
    at_the_connection_cap_a_new_connection_waits_for_a_slot,
);

/// The header time limit of these test servers.
const HEADER_TIMEOUT_MS: u64 = 3_000;
/// The header time limit of the idle-connections server: long enough to open 3,000 connections
/// and serve a login on a loaded machine before the first is cut off.
const IDLE_TIMEOUT_MS: u64 = 6_000;
/// What a cut-off client may wait past the limit on a loaded machine.
const SLACK: Duration = Duration::from_secs(10);

fn address(app: &TestApp) -> String {
    app.base_url.trim_start_matches("http://").to_owned()
}

/// Reads until the server closes the connection (a reset counts); what it answered.
async fn answer_of(stream: &mut TcpStream) -> String {
    let mut answer = Vec::new();
    let mut buffer = [0_u8; 4096];
    while let Ok(read @ 1..) = stream.read(&mut buffer).await {
        answer.extend_from_slice(&buffer[..read]);
    }
    String::from_utf8_lossy(&answer).into_owned()
}

/// A cut-off client was answered 408 and closed, or closed without an answer.
fn assert_cut_off(answer: &str, which: usize) {
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "client {which} was answered: {answer:.300}"
    );
}

/// A GET of `/healthz` on a new connection, with its time.
async fn timed_health(app: &TestApp) -> (u16, Duration) {
    let client = reqwest::Client::new();
    let started = Instant::now();
    let response = client
        .get(app.url("/healthz"))
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .expect("healthz answered");
    (response.status().as_u16(), started.elapsed())
}

async fn headers_that_trickle_in_are_cut_off_while_others_are_served(backend: Backend) {
    let app = TestApp::spawn_with(backend, |settings| {
        settings.server.client_request_timeout_ms = HEADER_TIMEOUT_MS;
    })
    .await;
    // Signed up first, so that only the login has to fit in the window the slow clients hold.
    let name = crate::helpers::unique("served");
    app.signup(&name).await;
    let address = address(&app);
    let slow: Vec<JoinHandle<(String, Duration)>> = (0..100)
        .map(|_| {
            let address = address.clone();
            tokio::spawn(async move {
                let mut stream = TcpStream::connect(&address).await.expect("connects");
                let started = Instant::now();
                let head = format!("GET /healthz HTTP/1.1\r\nHost: {address}\r\nX-Slow: ");
                let (mut reader, mut writer) = stream.split();
                // One byte a second, for as long as the server keeps the connection.
                let trickle = async {
                    for byte in head.bytes().chain(std::iter::repeat(b'a')) {
                        if writer.write_all(&[byte]).await.is_err() {
                            break;
                        }
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                    std::future::pending::<()>().await;
                };
                let mut answer = Vec::new();
                tokio::select! {
                    _ = reader.read_to_end(&mut answer) => {}
                    () = trickle => {}
                }
                (
                    String::from_utf8_lossy(&answer).into_owned(),
                    started.elapsed(),
                )
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (status, _) = timed_health(&app).await;
    assert_eq!(status, 200);
    assert_eq!(app.login(&name, "secret123").await.status, 200);
    assert!(
        slow.iter().all(|client| !client.is_finished()),
        "the normal requests were served while the slow clients were still connected"
    );
    for (which, client) in slow.into_iter().enumerate() {
        let (answer, took) = client.await.expect("slow client");
        assert_cut_off(&answer, which);
        assert!(
            took >= Duration::from_millis(HEADER_TIMEOUT_MS / 2)
                && took <= Duration::from_millis(HEADER_TIMEOUT_MS) + SLACK,
            "client {which} cut off after {took:?}"
        );
    }
}

/// The soft open-files limit of this process (the server, in the same process, has raised it
/// to the hard one at start-up).
fn open_files_limit() -> usize {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
    limits
        .lines()
        .find(|line| line.starts_with("Max open files"))
        .and_then(|line| line.split_whitespace().nth(3)?.parse().ok())
        .unwrap_or(1024)
}

/// Opens `count` connections that send nothing, a hundred at a time.
async fn idle_connections(address: &str, count: usize) -> Vec<TcpStream> {
    let mut streams = Vec::with_capacity(count);
    while streams.len() < count {
        let batch = (count - streams.len()).min(100);
        let connected = join_all((0..batch).map(|_| TcpStream::connect(address))).await;
        streams.extend(
            connected
                .into_iter()
                .map(|stream| stream.expect("connects")),
        );
    }
    streams
}

/// How long `still_open` waits for a stream to turn readable before calling it open.
const READABLE_WAIT: Duration = Duration::from_millis(10);

/// Whether the server still holds `stream` open (nothing to read, not closed).
///
/// A bare `try_read` is not enough: until the runtime has polled the socket it reports
/// `WouldBlock` even for one the server already closed, so a dropped connection would count as
/// held. Waiting briefly for readiness first makes a close (or an early answer) show: readable
/// with 0 bytes, some bytes or an error is not open; not readable within `READABLE_WAIT` is. A
/// `WouldBlock` after readiness is a spurious wake-up (a closed socket reads 0 bytes, never
/// blocks), so it counts as open.
async fn still_open(stream: &TcpStream) -> bool {
    if tokio::time::timeout(READABLE_WAIT, stream.readable())
        .await
        .is_err()
    {
        return true;
    }
    let mut byte = [0_u8; 1];
    matches!(stream.try_read(&mut byte), Err(error) if error.kind() == std::io::ErrorKind::WouldBlock)
}

async fn thousands_of_idle_connections_leave_room_for_a_request(backend: Backend) {
    let app = TestApp::spawn_with(backend, |settings| {
        settings.server.client_request_timeout_ms = IDLE_TIMEOUT_MS;
    })
    .await;
    let name = crate::helpers::unique("crowded");
    app.signup(&name).await;
    // Each connection costs this process two descriptors, its end and the server's.
    let count = 3_000.min(open_files_limit().saturating_sub(1_000) / 2);
    assert!(
        count >= 500,
        "the open-files limit allows only {count} connections"
    );
    let mut idle = idle_connections(&address(&app), count).await;
    let (status, took) = timed_health(&app).await;
    assert_eq!(status, 200);
    assert_eq!(app.login(&name, "secret123").await.status, 200);
    // All at once: one by one, thousands of 10 ms waits would take most of a minute.
    let open = join_all(idle.iter().map(still_open))
        .await
        .into_iter()
        .filter(|open| *open)
        .count();
    assert_eq!(
        open, count,
        "all {count} idle connections held while healthz took {took:?}"
    );
    let cut_off = join_all(
        idle.iter_mut()
            .map(|stream| tokio::time::timeout(Duration::from_secs(5) + SLACK, answer_of(stream))),
    )
    .await;
    for (which, answer) in cut_off.into_iter().enumerate() {
        let answer = answer.unwrap_or_else(|_| panic!("idle connection {which} never cut off"));
        assert_cut_off(&answer, which);
    }
}

async fn at_the_connection_cap_a_new_connection_waits_for_a_slot(backend: Backend) {
    const CAP: usize = 20;
    let app = TestApp::spawn_with(backend, |settings| {
        settings.server.max_connections = CAP;
        settings.server.client_request_timeout_ms = HEADER_TIMEOUT_MS;
    })
    .await;
    // Five over the cap: the first twenty hold every slot, five more wait in the backlog with the
    // request below.
    let mut idle = idle_connections(&address(&app), CAP + 5).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (status, took) = timed_health(&app).await;
    assert_eq!(status, 200, "served once a slot freed, never refused");
    assert!(
        took >= Duration::from_millis(HEADER_TIMEOUT_MS / 3),
        "healthz took {took:?}: it had to wait for an idle connection to be cut off"
    );
    assert!(
        took <= Duration::from_millis(2 * HEADER_TIMEOUT_MS) + SLACK,
        "healthz took {took:?}"
    );
    let cut_off = join_all(idle.iter_mut().map(|stream| {
        tokio::time::timeout(
            Duration::from_millis(2 * HEADER_TIMEOUT_MS) + SLACK,
            answer_of(stream),
        )
    }))
    .await;
    for (which, answer) in cut_off.into_iter().enumerate() {
        let answer = answer.unwrap_or_else(|_| panic!("idle connection {which} never cut off"));
        assert_cut_off(&answer, which);
    }
}

#[tokio::test]
async fn still_open_tells_a_closed_connection_from_an_idle_one() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let client = TcpStream::connect(listener.local_addr().expect("address"))
        .await
        .expect("connect");
    let (server, _) = listener.accept().await.expect("accept");
    assert!(still_open(&client).await, "an idle connection is open");
    drop(server);
    assert!(
        !still_open(&client).await,
        "a connection the peer closed is not"
    );
}
