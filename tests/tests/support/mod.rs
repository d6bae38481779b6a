//! The black-box harness: start the real server on a free port over a fresh store, and talk to
//! it over HTTP.

#![allow(
    dead_code,
    reason = "each test binary uses a different part of the harness"
)]

use reserva_adapter_postgres::test_support::TemporaryDatabase;
use reserva_server::{Application, Secret, Settings};
use serde_json::{Value, json};
use std::path::PathBuf;

/// The HS256 secret every test server signs with, so tests can forge tokens.
pub const JWT_SECRET: &str = "black-box-test-secret-0123456789abcdef";

/// Which adapters the server runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite file + in-process shared state (the default `cargo run`).
    Embedded,
    /// PostgreSQL + Redis (production).
    Production,
}

/// A running server and what it needs to stay alive.
pub struct TestApp {
    pub base_url: String,
    pub client: reqwest::Client,
    pub settings: Settings,
    _database: Option<TemporaryDatabase>,
    sqlite_file: Option<PathBuf>,
}

/// A response, read fully.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    /// Asserts a problem+json answer with this status and code.
    pub fn assert_problem(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "{:#}", self.body);
        assert_eq!(self.body["code"], code, "{:#}", self.body);
        assert_eq!(self.body["status"], status);
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json")
        );
        for field in ["type", "title", "detail"] {
            assert!(
                self.body[field].is_string(),
                "problem lacks {field}: {:#}",
                self.body
            );
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(file) = &self.sqlite_file {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
            }
        }
    }
}

fn base_settings() -> Settings {
    let mut settings = Settings::default();
    settings.server.port = 0;
    settings.server.workers = 2;
    settings.auth.jwt_secret = Some(Secret::new(JWT_SECRET.into()));
    settings.log.filter = "warn".into();
    settings
}

impl TestApp {
    /// Starts a server over a fresh, empty store.
    pub async fn spawn(backend: Backend) -> Self {
        let mut settings = base_settings();
        let mut database = None;
        let mut sqlite_file = None;
        match backend {
            Backend::Embedded => {
                let file =
                    std::env::temp_dir().join(format!("reserva-test-{}.db", uuid::Uuid::new_v4()));
                settings.database.url = Secret::new(format!("sqlite://{}", file.display()));
                sqlite_file = Some(file);
            }
            Backend::Production => {
                let temporary = TemporaryDatabase::create().await;
                settings.database.url = Secret::new(temporary.url.clone());
                database = Some(temporary);
                let redis = std::env::var("TEST_REDIS_URL")
                    .unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
                settings.redis.url = Some(Secret::new(redis));
                settings.redis.key_prefix =
                    format!("reserva-test:{}:", uuid::Uuid::new_v4().simple());
            }
        }
        Self::start(settings, database, sqlite_file).await
    }

    async fn start(
        settings: Settings,
        database: Option<TemporaryDatabase>,
        sqlite_file: Option<PathBuf>,
    ) -> Self {
        let application = Application::build(&settings).await.unwrap_or_else(|error| {
            panic!("the server must start (is PostgreSQL/Redis up?): {error}")
        });
        let base_url = format!("http://{}", application.local_addr());
        tokio::spawn(application.run_until_stopped());
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Self {
            base_url,
            client,
            settings,
            _database: database,
            sqlite_file,
        }
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> Answer {
        let response = request.send().await.expect("request sent");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body read");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Answer {
            status,
            headers,
            body,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    fn with_token(
        &self,
        request: reqwest::RequestBuilder,
        token: Option<&str>,
    ) -> reqwest::RequestBuilder {
        match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Answer {
        self.send(self.with_token(self.client.get(self.url(path)), token))
            .await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Answer {
        self.send(self.with_token(self.client.delete(self.url(path)), token))
            .await
    }

    pub async fn post(&self, path: &str, body: &Value, token: Option<&str>) -> Answer {
        self.send(self.with_token(self.client.post(self.url(path)).json(body), token))
            .await
    }

    /// A POST with an `Idempotency-Key`.
    pub async fn post_with_key(&self, path: &str, body: &Value, token: &str, key: &str) -> Answer {
        let request = self
            .client
            .post(self.url(path))
            .json(body)
            .bearer_auth(token)
            .header("Idempotency-Key", key);
        self.send(request).await
    }

    pub async fn patch(&self, path: &str, body: &Value, token: Option<&str>) -> Answer {
        self.send(self.with_token(self.client.patch(self.url(path)).json(body), token))
            .await
    }

    /// Signs up `name` (e-mail `name@example.com`, password `secret123`).
    pub async fn signup(&self, name: &str) -> Value {
        let body = json!({"email": format!("{name}@example.com"), "username": name, "password": "secret123", "password_confirm": "secret123"});
        let answer = self.post("/api/v1/auth/signup", &body, None).await;
        assert_eq!(answer.status, 201, "{:#}", answer.body);
        answer.body
    }

    /// Logs in and returns the token response.
    pub async fn login(&self, name: &str, password: &str) -> Answer {
        let body = json!({"email": format!("{name}@example.com"), "password": password});
        self.post("/api/v1/auth/login", &body, None).await
    }

    /// Signs up and logs in; returns (access token, refresh token, user id).
    pub async fn member(&self, name: &str) -> (String, String, String) {
        let user = self.signup(name).await;
        let answer = self.login(name, "secret123").await;
        assert_eq!(answer.status, 200, "{:#}", answer.body);
        let text = |key: &str| answer.body[key].as_str().expect("token").to_owned();
        (
            text("access_token"),
            text("refresh_token"),
            user["id"].as_str().expect("id").to_owned(),
        )
    }

    /// Creates an administrator the way an operator does (`reserva admin create`) and logs in.
    pub async fn admin(&self, name: &str) -> (String, String) {
        let email = format!("{name}@example.com");
        reserva_server::cli::create_administrator(
            &self.settings,
            email,
            name.into(),
            "secret123".into(),
        )
        .await
        .expect("admin created");
        let answer = self.login(name, "secret123").await;
        assert_eq!(answer.status, 200, "{:#}", answer.body);
        let token = answer.body["access_token"]
            .as_str()
            .expect("token")
            .to_owned();
        let id = answer.body["user"]["id"].as_str().expect("id").to_owned();
        (token, id)
    }
}

/// Unique short names, so tests never collide.
pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    )
}

/// Generates `embedded` and `production` variants of each listed `async fn(Backend)`.
#[macro_export]
macro_rules! on_both_backends {
    ($($case:ident),* $(,)?) => {
        mod embedded {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case(super::support::Backend::Embedded).await;
                }
            )*
        }
        mod production {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case(super::support::Backend::Production).await;
                }
            )*
        }
    };
}
