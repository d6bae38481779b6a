//! The black-box harness every module uses: start the real server on a free port over fresh
//! stores, talk to it over HTTP ([`requests`]), and remove the stores when the test ends
//! ([`stores`]).

mod requests;
mod stores;

use reserva_adapter_postgres::test_support::TemporaryDatabase;
use reserva_server::{Application, Clock, Secret, Settings};
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use stores::{RedisKeys, SqliteFile, Stores};

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

/// The server's clock: the system's, moved by an offset a test sets (to cross the 7-day refund
/// window over HTTP). Every use case and job of the server reads it.
#[derive(Debug, Default)]
pub struct TestClock {
    offset_ms: AtomicI64,
}

impl Clock for TestClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now() + chrono::Duration::milliseconds(self.offset_ms.load(Ordering::SeqCst))
    }
}

/// A running server and what it needs to stay alive.
pub struct TestApp {
    pub base_url: String,
    pub client: reqwest::Client,
    pub settings: Settings,
    clock: Arc<TestClock>,
    _stores: Stores,
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
        Self::spawn_with(backend, |_| {}).await
    }

    /// Starts a server over a fresh, empty store, with `configure` applied to its settings.
    pub async fn spawn_with(backend: Backend, configure: impl FnOnce(&mut Settings)) -> Self {
        let mut settings = base_settings();
        configure(&mut settings);
        let stores = match backend {
            Backend::Embedded => {
                let file = SqliteFile::fresh();
                settings.database.url = Secret::new(file.url());
                Stores::Embedded(file)
            }
            Backend::Production => {
                let database = TemporaryDatabase::create().await;
                settings.database.url = Secret::new(database.url.clone());
                let keys = match settings.redis.url.take() {
                    // A test that brings its own Redis (one it stops and starts).
                    Some(url) => RedisKeys::at(url.expose().to_owned()),
                    None => RedisKeys::fresh(),
                };
                settings.redis.url = Some(Secret::new(keys.url.clone()));
                settings.redis.key_prefix = keys.prefix.clone();
                Stores::Production { database, keys }
            }
        };
        Self::start(settings, stores).await
    }

    /// Starts a PostgreSQL + Redis server over the database at `database_url` (a test's private
    /// cluster, migrated on start) and a fresh Redis key prefix, with `configure` applied.
    pub async fn spawn_on_database(
        database_url: &str,
        configure: impl FnOnce(&mut Settings),
    ) -> Self {
        let mut settings = base_settings();
        configure(&mut settings);
        settings.database.url = Secret::new(database_url.to_owned());
        settings.database.migrate_on_start = true;
        let keys = RedisKeys::fresh();
        settings.redis.url = Some(Secret::new(keys.url.clone()));
        settings.redis.key_prefix = keys.prefix.clone();
        Self::start(settings, Stores::OwnDatabase(keys)).await
    }

    async fn start(settings: Settings, stores: Stores) -> Self {
        let clock = Arc::new(TestClock::default());
        let application = Application::build_with_clock(&settings, clock.clone())
            .await
            .unwrap_or_else(|error| {
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
            clock,
            _stores: stores,
        }
    }

    /// The server's "now", as its use cases see it.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    /// Moves the server's clock forward by `by` (backward when negative).
    pub fn advance(&self, by: chrono::Duration) {
        self.clock
            .offset_ms
            .fetch_add(by.num_milliseconds(), Ordering::SeqCst);
    }
}

/// Unique short names, so tests never collide.
pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    )
}

/// Generates `embedded` and `production` variants of each listed `async fn(Backend)` of the
/// module it is invoked in.
macro_rules! on_both_backends {
    ($($case:ident),* $(,)?) => {
        mod embedded {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case($crate::helpers::Backend::Embedded).await;
                }
            )*
        }
        mod production {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case($crate::helpers::Backend::Production).await;
                }
            )*
        }
    };
}
pub(crate) use on_both_backends;
