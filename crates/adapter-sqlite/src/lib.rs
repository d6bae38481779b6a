//! The embedded SQLite store, the default: the service runs with nothing installed.
//!
//! Queries run on diesel's synchronous SQLite connection inside tokio's blocking pool, with
//! connections pooled by deadpool. (diesel-async's `SyncConnectionWrapper` is not used: when a
//! request is cancelled mid-query it calls `block_in_place`, which panics on actix-web's
//! current-thread workers. Here a cancelled request's query just finishes in the blocking pool and
//! its connection goes back to the pool.) Every connection uses WAL,
//! `busy_timeout` and foreign keys; every write runs in a `BEGIN IMMEDIATE` transaction, so writers
//! queue on the database lock instead of failing on a lock upgrade, and capacity checks and their
//! writes happen with no other writer in between.
//!
//! Ids are stored as UUID text and instants as microseconds since the Unix epoch.

mod accounts;
mod exams;
mod schema;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deadpool::managed::{Metrics, Object, Pool, PoolError, RecycleResult};
use diesel::connection::SimpleConnection;
use diesel::result::{DatabaseErrorKind, Error as QueryError};
use diesel::{Connection, SqliteConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use reserva_application::DependencyError;
use reserva_application::ports::system::HealthProbe;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The schema migrations, compiled into the binary.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");

/// Opens connections to one file for the pool.
struct Connections {
    path: String,
    busy_timeout: Duration,
}

impl deadpool::managed::Manager for Connections {
    type Type = SqliteConnection;
    type Error = DependencyError;

    async fn create(&self) -> Result<SqliteConnection, DependencyError> {
        let (path, busy_timeout) = (self.path.clone(), self.busy_timeout);
        tokio::task::spawn_blocking(move || open(&path, busy_timeout))
            .await
            .map_err(|error| DependencyError::Failed(format!("connection task: {error}")))?
            .map_err(|error| {
                DependencyError::Unavailable(format!("cannot open the SQLite file: {error}"))
            })
    }

    async fn recycle(
        &self,
        _connection: &mut SqliteConnection,
        _metrics: &Metrics,
    ) -> RecycleResult<DependencyError> {
        // Every use ends its transaction inside the blocking task, so a returned connection is
        // always idle and usable.
        Ok(())
    }
}

/// Where the database file is and how to use it.
#[derive(Debug, Clone)]
pub struct SqliteSettings {
    /// The database file (created if missing; its directory must exist).
    pub path: PathBuf,
    /// Pool size (readers run in parallel; writers take turns).
    pub max_connections: usize,
    /// How long a writer waits for the database lock, and a request for a pooled connection.
    pub busy_timeout: Duration,
}

/// The store. Cheap to clone: clones share the pool.
#[derive(Clone)]
pub struct SqliteStore {
    pool: Pool<Connections>,
    /// Something that must live as long as the store (a test's temporary file).
    keep_alive: Option<std::sync::Arc<dyn std::any::Any + Send + Sync>>,
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("SqliteStore")
            .field("pool", &self.pool.status())
            .field("keeps_alive", &self.keep_alive.is_some())
            .finish()
    }
}

/// `sqlite://./reserva.db`, `sqlite:///var/lib/reserva.db` or `sqlite:reserva.db` → the file path.
///
/// # Errors
/// [`DependencyError::Failed`] for another scheme, an empty path or an in-memory database (each
/// pooled connection would get its own empty database).
pub fn parse_sqlite_url(url: &str) -> Result<PathBuf, DependencyError> {
    let invalid = |why: &str| DependencyError::Failed(format!("invalid SQLite URL {url:?}: {why}"));
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .ok_or_else(|| invalid("it must start with sqlite://"))?;
    if path.is_empty() {
        return Err(invalid("the file path is empty"));
    }
    if path.contains(":memory:") || path.contains("mode=memory") {
        return Err(invalid(
            "in-memory databases are not supported; give a file",
        ));
    }
    if path.contains('?') {
        return Err(invalid("query parameters are not supported"));
    }
    Ok(PathBuf::from(path))
}

fn pragmas(busy_timeout: Duration) -> String {
    format!(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
         PRAGMA busy_timeout = {};",
        busy_timeout.as_millis().max(1)
    )
}

fn open(path: &str, busy_timeout: Duration) -> diesel::ConnectionResult<SqliteConnection> {
    let mut connection = SqliteConnection::establish(path)?;
    connection
        .batch_execute(&pragmas(busy_timeout))
        .map_err(|error| diesel::ConnectionError::BadConnection(error.to_string()))?;
    Ok(connection)
}

impl SqliteStore {
    /// Opens the pool and checks that the file can be read.
    ///
    /// # Errors
    /// [`DependencyError::Unavailable`] when the file cannot be opened.
    pub async fn connect(settings: &SqliteSettings) -> Result<Self, DependencyError> {
        let path = settings
            .path
            .to_str()
            .ok_or_else(|| DependencyError::Failed("the SQLite path is not UTF-8".into()))?
            .to_owned();
        let busy_timeout = settings.busy_timeout;
        let manager = Connections { path, busy_timeout };
        let pool = Pool::builder(manager)
            .max_size(settings.max_connections.max(1))
            .wait_timeout(Some(busy_timeout))
            .create_timeout(Some(busy_timeout))
            .recycle_timeout(Some(busy_timeout))
            .runtime(deadpool::Runtime::Tokio1)
            .build()
            .map_err(|error| DependencyError::Failed(format!("database pool: {error}")))?;
        let store = Self {
            pool,
            keep_alive: None,
        };
        store.ping().await?;
        Ok(store)
    }

    /// Ties `guard`'s life to the store's: it is dropped with the last clone of the store (a
    /// temporary database file in tests, for example).
    #[must_use]
    pub fn keeping_alive(mut self, guard: impl std::any::Any + Send + Sync) -> Self {
        self.keep_alive = Some(std::sync::Arc::new(guard));
        self
    }

    async fn connection(&self) -> Result<Object<Connections>, DependencyError> {
        self.pool.get().await.map_err(|error| match error {
            PoolError::Timeout(_) => {
                DependencyError::Unavailable("database: no connection free in time".into())
            }
            PoolError::Backend(error) => error,
            other => DependencyError::Unavailable(format!("database: {other}")),
        })
    }

    /// Runs `task` on a pooled connection in tokio's blocking pool. If the caller is cancelled the
    /// task still runs to its end (committing or rolling back) before the connection is reused.
    async fn blocking<R, F>(&self, task: F) -> Result<R, DependencyError>
    where
        F: FnOnce(&mut SqliteConnection) -> R + Send + 'static,
        R: Send + 'static,
    {
        let mut connection = self.connection().await?;
        tokio::task::spawn_blocking(move || task(&mut connection))
            .await
            .map_err(|error| DependencyError::Failed(format!("database task: {error}")))
    }

    /// Runs `task` on a pooled connection in the blocking pool.
    pub(crate) async fn read<R, F>(&self, task: F) -> Result<R, DependencyError>
    where
        F: FnOnce(&mut SqliteConnection) -> Result<R, QueryError> + Send + 'static,
        R: Send + 'static,
    {
        self.blocking(task).await?.map_err(query_error)
    }

    /// Runs `task` in a `BEGIN IMMEDIATE` transaction; an `Err` rolls it back.
    pub(crate) async fn write<R, E, F>(&self, task: F) -> Result<R, E>
    where
        F: FnOnce(&mut SqliteConnection) -> Result<R, E> + Send + 'static,
        R: Send + 'static,
        E: From<QueryError> + From<DependencyError> + Send + 'static,
    {
        self.blocking(move |connection| connection.immediate_transaction(task))
            .await?
    }
}

#[async_trait]
impl HealthProbe for SqliteStore {
    fn component(&self) -> &'static str {
        "database"
    }

    async fn ping(&self) -> Result<(), DependencyError> {
        self.read(|connection| connection.batch_execute("SELECT 1"))
            .await
    }
}

/// Classifies a query error: a busy database is `Unavailable`, the rest `Failed`.
pub(crate) fn query_error(error: QueryError) -> DependencyError {
    let transient = match &error {
        QueryError::DatabaseError(DatabaseErrorKind::ClosedConnection, _) => true,
        QueryError::DatabaseError(_, info) => {
            let message = info.message();
            message.contains("database is locked") || message.contains("database is busy")
        }
        _ => false,
    };
    if transient {
        DependencyError::Unavailable(format!("database: {error}"))
    } else {
        DependencyError::Failed(format!("database: {error}"))
    }
}

/// Microseconds since the epoch, as stored.
pub(crate) fn micros(instant: DateTime<Utc>) -> i64 {
    instant.timestamp_micros()
}

/// The instant of a stored microsecond count.
pub(crate) fn instant(micros: i64) -> Result<DateTime<Utc>, DependencyError> {
    DateTime::from_timestamp_micros(micros)
        .ok_or_else(|| DependencyError::Failed(format!("stored instant {micros} is out of range")))
}

/// A stored UUID.
pub(crate) fn uuid(text: &str) -> Result<uuid::Uuid, DependencyError> {
    uuid::Uuid::parse_str(text)
        .map_err(|_| DependencyError::Failed(format!("stored id {text:?} is not a UUID")))
}

async fn with_file<R, F>(path: &Path, task: F) -> Result<R, DependencyError>
where
    F: FnOnce(&mut SqliteConnection) -> Result<R, DependencyError> + Send + 'static,
    R: Send + 'static,
{
    let path = path
        .to_str()
        .ok_or_else(|| DependencyError::Failed("the SQLite path is not UTF-8".into()))?
        .to_owned();
    tokio::task::spawn_blocking(move || {
        let mut connection = open(&path, Duration::from_secs(5)).map_err(|error| {
            DependencyError::Unavailable(format!("cannot open SQLite file {path:?}: {error}"))
        })?;
        task(&mut connection)
    })
    .await
    .map_err(|error| DependencyError::Failed(format!("migration task: {error}")))?
}

/// Applies every pending migration (creating the file if needed); returns the versions applied.
///
/// # Errors
/// `Unavailable` when the file cannot be opened, `Failed` when a migration fails.
pub async fn run_migrations(path: &Path) -> Result<Vec<String>, DependencyError> {
    with_file(path, |connection| {
        connection
            .run_pending_migrations(MIGRATIONS)
            .map(|versions| versions.iter().map(ToString::to_string).collect())
            .map_err(|error| DependencyError::Failed(format!("migration failed: {error}")))
    })
    .await
}

/// Reverts every applied migration; returns the versions reverted, newest first.
///
/// # Errors
/// As [`run_migrations`].
pub async fn revert_all_migrations(path: &Path) -> Result<Vec<String>, DependencyError> {
    with_file(path, |connection| {
        connection
            .revert_all_migrations(MIGRATIONS)
            .map(|versions| versions.iter().map(ToString::to_string).collect())
            .map_err(|error| DependencyError::Failed(format!("revert failed: {error}")))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_files_and_refuse_memory() {
        assert_eq!(
            parse_sqlite_url("sqlite://./reserva.db"),
            Ok(PathBuf::from("./reserva.db"))
        );
        assert_eq!(
            parse_sqlite_url("sqlite:///var/lib/reserva.db"),
            Ok(PathBuf::from("/var/lib/reserva.db"))
        );
        assert_eq!(
            parse_sqlite_url("sqlite:data.db"),
            Ok(PathBuf::from("data.db"))
        );
        for bad in [
            "sqlite::memory:",
            "sqlite://",
            "postgres://x/y",
            "sqlite://a.db?mode=rwc",
        ] {
            assert!(parse_sqlite_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn instants_round_trip_at_microsecond_precision() {
        let now = DateTime::from_timestamp_micros(Utc::now().timestamp_micros());
        assert_eq!(now.map(micros).map(instant), now.map(Ok));
    }
}
