//! What the tests with real `reserva` processes share: starting instances on one PostgreSQL +
//! Redis, calling them over HTTP, making users without a password hash each, and running SQL
//! and the one-shot commands on the same database.
#![expect(clippy::expect_used)] // a test fails loudly on the unexpected

pub mod tickets;

use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};

pub const JWT_SECRET: &str = "two-instances-test-secret-of-at-least-32-bytes";
const BINARY: &str = env!("CARGO_BIN_EXE_reserva");

/// The Redis the instances share (or reach through a proxy).
pub fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// A key prefix of its own per test, so tests sharing one Redis never see each other's rooms;
/// its keys are deleted on drop.
pub struct RedisPrefix(pub String);

impl RedisPrefix {
    pub fn new(name: &str) -> Self {
        Self(format!("reserva-{name}:{}:", uuid::Uuid::new_v4().simple()))
    }
}

impl Drop for RedisPrefix {
    fn drop(&mut self) {
        // Best effort: a missing redis-cli leaves a few keys behind, which fails nothing.
        let script = "for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end";
        let _ = Command::new("redis-cli")
            .args([
                "-u",
                &redis_url(),
                "EVAL",
                script,
                "0",
                &format!("{}*", self.0),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// A running `reserva serve`, killed on drop.
pub struct Instance {
    child: Child,
    pub base_url: String,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `reserva` with a clean environment pointed at this database, Redis and key prefix.
pub fn command(database_url: &str, redis_prefix: &str) -> Command {
    let mut command = Command::new(BINARY);
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", database_url)
        .env("REDIS_URL", redis_url())
        .env("RESERVA_REDIS__KEY_PREFIX", redis_prefix)
        .env("RESERVA_AUTH__JWT_SECRET", JWT_SECRET)
        .env("RESERVA_SERVER__PORT", "0")
        .env("RESERVA_SERVER__WORKERS", "2")
        .env("RESERVA_LOG__FILTER", "warn");
    command
}

/// Starts an instance and waits for the address it prints.
pub fn start(database_url: &str, redis_prefix: &str) -> Instance {
    start_command(command(database_url, redis_prefix))
}

/// Starts `reserva serve` from a prepared [`command`] and waits for the address it prints.
pub fn start_command(mut command: Command) -> Instance {
    let mut child = command
        .arg("serve")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("reserva starts");
    let stdout = child.stdout.take().expect("stdout piped");
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        // Keep draining stdout so the server never blocks on a full pipe.
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(address) = line.strip_prefix("Reserva listening on ") {
                let _ = sender.send(address.trim().to_owned());
            }
        }
    });
    let base_url = receiver
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("the instance printed its address");
    Instance { child, base_url }
}

/// A client whose every request gives up after a few seconds: a hang fails the test.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .expect("client")
}

/// Sends a request; the status and the JSON body (null when none).
pub async fn send(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.expect("request sent");
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

pub async fn call(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = client.request(method, url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    send(request).await
}

pub async fn login(client: &reqwest::Client, base: &str, email: &str, password: &str) -> String {
    let (status, body) = call(
        client,
        reqwest::Method::POST,
        format!("{base}/api/v1/auth/login"),
        None,
        Some(json!({"email": email, "password": password})),
    )
    .await;
    assert_eq!(status, 200, "{body:#}");
    body["access_token"].as_str().expect("token").to_owned()
}

/// Creates `root@example.com` (password `secret123`) with `reserva admin create`.
pub fn create_admin(database_url: &str, redis_prefix: &str) {
    let status = command(database_url, redis_prefix)
        .args([
            "admin",
            "create",
            "--email",
            "root@example.com",
            "--username",
            "root",
        ])
        .env("RESERVA_ADMIN_PASSWORD", "secret123")
        .stdout(Stdio::null())
        .status()
        .expect("admin create runs");
    assert!(status.success());
}

/// Runs `sql` on the database with `psql`; its rows, one per line, fields separated by `|`.
pub fn sql(database_url: &str, sql: &str) -> Vec<String> {
    let output = Command::new("psql")
        .args([
            database_url,
            "-X",
            "-q",
            "-At",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            sql,
        ])
        .output()
        .expect("psql runs");
    assert!(
        output.status.success(),
        "{sql}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// `count` members inserted straight into the database, each with an access token signed by
/// the instances' secret as login would issue it: no password hash per user, so a crowd of a
/// hundred costs milliseconds. Returns the tokens and user ids, in creation order.
pub fn members(database_url: &str, count: usize) -> Vec<(String, String)> {
    let tag = uuid::Uuid::new_v4().simple().to_string();
    // Each token names a session that exists in storage, of a user whose stored username is
    // valid: without Redis, storage decides whether a token's session is live and the user
    // active, and a made-up session id is refused.
    let rows = sql(
        database_url,
        &format!(
            "WITH fans AS (INSERT INTO users (id, email, username, password_hash, role, \
             created_at, updated_at) \
             SELECT gen_random_uuid(), 'fan' || i || '-{tag}@example.com', \
             'fan' || i || '-' || left('{tag}', 12), 'not-a-hash', 'member', now(), now() \
             FROM generate_series(1, {count}) AS i \
             ORDER BY i RETURNING id, email) \
             INSERT INTO sessions (id, user_id, created_at) \
             SELECT gen_random_uuid(), id, now() FROM fans ORDER BY email \
             RETURNING user_id || ' ' || id"
        ),
    );
    assert_eq!(rows.len(), count);
    rows.into_iter()
        .map(|row| {
            let (user, session) = row.split_once(' ').expect("user and session");
            (access_token(user, session), user.to_owned())
        })
        .collect()
}

/// A member's access token for `user_id` in `session_id`, signed with [`JWT_SECRET`].
fn access_token(user_id: &str, session_id: &str) -> String {
    let now = chrono::Utc::now().timestamp();
    let claims = json!({"sub": user_id, "sid": session_id, "role": "member",
        "iat": now, "exp": now + 900, "iss": "reserva", "aud": "reserva-api",
        "jti": uuid::Uuid::new_v4()});
    let key = jsonwebtoken::EncodingKey::from_secret(JWT_SECRET.as_bytes());
    jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &key).expect("signed")
}

/// Runs `reserva wallet verify` on the database.
pub fn wallet_verify(database_url: &str, redis_prefix: &str) -> Output {
    command(database_url, redis_prefix)
        .args(["wallet", "verify"])
        .output()
        .expect("wallet verify runs")
}
