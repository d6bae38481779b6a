//! The store: a pool of synchronous connections used inside tokio's blocking pool, every write
//! in a `BEGIN IMMEDIATE` transaction.

use crate::errors::query_error;
use crate::settings::SqliteSettings;
use async_trait::async_trait;
use deadpool::managed::{Metrics, Object, Pool, PoolError, RecycleResult};
use diesel::connection::SimpleConnection;
use diesel::result::Error as QueryError;
use diesel::{Connection, SqliteConnection};
use reserva_application::DependencyError;
use reserva_application::ports::system::HealthProbe;
use std::fmt;
use std::time::Duration;

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

fn pragmas(busy_timeout: Duration) -> String {
    format!(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
         PRAGMA busy_timeout = {};",
        busy_timeout.as_millis().max(1)
    )
}

pub(crate) fn open(
    path: &str,
    busy_timeout: Duration,
) -> diesel::ConnectionResult<SqliteConnection> {
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

    /// Runs `task` in a read transaction, so its queries see one snapshot of the file (in WAL
    /// mode a reader does not block the writer, nor the writer it).
    pub(crate) async fn snapshot<R, F>(&self, task: F) -> Result<R, DependencyError>
    where
        F: FnOnce(&mut SqliteConnection) -> Result<R, QueryError> + Send + 'static,
        R: Send + 'static,
    {
        self.read(move |connection| connection.transaction(task))
            .await
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
