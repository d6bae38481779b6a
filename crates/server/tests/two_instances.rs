//! Two `reserva` processes on one PostgreSQL + Redis, racing confirms for one hour over HTTP:
//! capacity must hold across processes, not just across threads of one.
#![expect(clippy::expect_used)] // a test fails loudly on the unexpected

use chrono::{Duration, DurationRound, SecondsFormat, Utc};
use reserva_adapter_postgres::test_support::TemporaryDatabase;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

const JWT_SECRET: &str = "two-instances-test-secret-of-at-least-32-bytes";
const BINARY: &str = env!("CARGO_BIN_EXE_reserva");

/// A running `reserva serve`, killed on drop.
struct Instance {
    child: Child,
    base_url: String,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn command(database_url: &str, redis_prefix: &str) -> Command {
    let redis = std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let mut command = Command::new(BINARY);
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", database_url)
        .env("REDIS_URL", redis)
        .env("RESERVA_REDIS__KEY_PREFIX", redis_prefix)
        .env("RESERVA_AUTH__JWT_SECRET", JWT_SECRET)
        .env("RESERVA_SERVER__PORT", "0")
        .env("RESERVA_SERVER__WORKERS", "2")
        .env("RESERVA_LOG__FILTER", "warn");
    command
}

/// Starts an instance and waits for the address it prints.
fn start(database_url: &str, redis_prefix: &str) -> Instance {
    let mut child = command(database_url, redis_prefix)
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

async fn call(
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
    let response = request.send().await.expect("request sent");
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

async fn login(client: &reqwest::Client, base: &str, email: &str, password: &str) -> String {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_racing_confirms_never_oversell_an_hour() {
    let database = TemporaryDatabase::create().await;
    let prefix = format!("reserva-two:{}:", uuid::Uuid::new_v4().simple());
    let first = start(&database.url, &prefix);
    let second = start(&database.url, &prefix);
    let instances = [first.base_url.clone(), second.base_url.clone()];

    let status = command(&database.url, &prefix)
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

    let client = reqwest::Client::new();
    let (status, body) = call(
        &client,
        reqwest::Method::POST,
        format!("{}/api/v1/auth/signup", instances[1]),
        None,
        Some(json!({"email": "member@example.com", "username": "member",
                    "password": "secret123", "password_confirm": "secret123"})),
    )
    .await;
    assert_eq!(status, 201, "{body:#}");
    // Tokens from one instance work on the other: same secret, shared revocations.
    let member = login(&client, &instances[0], "member@example.com", "secret123").await;
    let admin = login(&client, &instances[1], "root@example.com", "secret123").await;

    let start_at = Utc::now().duration_trunc(Duration::hours(1)).unwrap() + Duration::days(5);
    let stamp = |at: chrono::DateTime<Utc>| at.to_rfc3339_opts(SecondsFormat::Secs, true);
    let mut ids = Vec::new();
    for index in 0..40 {
        let (status, body) = call(
            &client,
            reqwest::Method::POST,
            format!("{}/api/v1/exam-reservations", instances[index % 2]),
            Some(&member),
            Some(json!({"starts_at": stamp(start_at), "ends_at": stamp(start_at + Duration::hours(2)),
                        "headcount": 30_000})),
        )
        .await;
        assert_eq!(status, 201, "{body:#}");
        ids.push(body["id"].as_str().expect("id").to_owned());
    }

    let confirms = ids.iter().enumerate().map(|(index, id)| {
        let url = format!(
            "{}/api/v1/exam-reservations/{id}/confirm",
            instances[index % 2]
        );
        let (client, admin) = (&client, &admin);
        async move {
            call(
                client,
                reqwest::Method::POST,
                url,
                Some(admin),
                Some(json!({})),
            )
            .await
        }
    });
    let answers = futures_util::future::join_all(confirms).await;
    let statuses: Vec<u16> = answers.iter().map(|(status, _)| *status).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        39,
        "{statuses:?}"
    );

    // Both instances see the same counts in both hours.
    let date = start_at.with_timezone(&chrono_tz::Asia::Seoul).date_naive();
    for base in &instances {
        let (status, body) = call(
            &client,
            reqwest::Method::GET,
            format!("{base}/api/v1/exam-slots?date={date}"),
            Some(&member),
            None,
        )
        .await;
        assert_eq!(status, 200, "{body:#}");
        let slots = body["slots"].as_array().expect("slots");
        for hour in [start_at, start_at + Duration::hours(1)] {
            let slot = slots
                .iter()
                .find(|slot| {
                    slot["starts_at"]
                        .as_str()
                        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
                        .is_some_and(|s| s == hour)
                })
                .unwrap_or_else(|| panic!("no slot at {hour} in {body:#}"));
            assert_eq!(slot["confirmed"], 30_000, "{slot:#}");
            assert_eq!(slot["remaining"], 20_000, "{slot:#}");
        }
    }
    drop((first, second));
}
