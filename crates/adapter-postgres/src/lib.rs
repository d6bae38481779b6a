//! The PostgreSQL store: every repository port on diesel-async with a deadpool pool.
//!
//! - Every connection gets a `statement_timeout`, so a stuck query ends as a 503, not a hang.
//! - A pool that stays exhausted for `acquire_timeout` answers [`DependencyError::Unavailable`].
//! - Capacity changes lock the affected `exam_slots` rows in ascending order (`FOR UPDATE`), so
//!   concurrent confirms serialise per hour and never deadlock; a `CHECK` constraint backs it up.
//!   Confirms are committed in batches (group commit), one transaction for all that arrive together.
//! - Migrations are embedded in the binary ([`run_migrations`], [`revert_all_migrations`]).

mod accounts;
mod batch;
mod exams;
mod schema;
#[cfg(feature = "test-support")]
pub mod test_support;

use async_trait::async_trait;
use diesel::ConnectionError;
use diesel::result::{DatabaseErrorKind, Error as QueryError};
use diesel_async::pooled_connection::deadpool::{Object, Pool, PoolError};
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::{
    AsyncConnection, AsyncMigrationHarness, AsyncPgConnection, SimpleAsyncConnection,
};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use reserva_application::DependencyError;
use reserva_application::ports::system::HealthProbe;
use std::fmt;
use std::time::Duration;

/// The schema migrations, compiled into the binary.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

/// How to reach PostgreSQL and how much of it to use.
#[derive(Clone)]
pub struct PostgresSettings {
    /// `postgres://user:password@host:port/database`.
    pub url: String,
    /// Pool size.
    pub max_connections: usize,
    /// How long a request waits for a pooled connection before it gets a 503.
    pub acquire_timeout: Duration,
    /// `statement_timeout` set on every connection.
    pub statement_timeout: Duration,
}

impl fmt::Debug for PostgresSettings {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("PostgresSettings")
            .field("url", &redact(&self.url))
            .field("max_connections", &self.max_connections)
            .field("acquire_timeout", &self.acquire_timeout)
            .field("statement_timeout", &self.statement_timeout)
            .finish()
    }
}

/// `url` with TCP options that notice a database host gone silent (no FIN, no RST) in seconds
/// rather than when the kernel gives up (minutes for unacknowledged data, hours when idle):
/// unacknowledged data for 30 s, or 3 keepalive probes 10 s apart after 30 s idle, closes the
/// connection, and the query waiting on it fails instead of hanging. Options the URL already
/// sets are kept; a key-value connection string is left as it is.
fn with_dead_peer_detection(url: &str) -> String {
    const DEFAULTS: [(&str, &str); 4] = [
        ("tcp_user_timeout", "30"),
        ("keepalives_idle", "30"),
        ("keepalives_interval", "10"),
        ("keepalives_retries", "3"),
    ];
    let Some(rest) = url
        .strip_prefix("postgres://")
        .or_else(|| url.strip_prefix("postgresql://"))
    else {
        return url.to_owned();
    };
    // As tokio-postgres reads it: credentials up to the first '@' (a password may hold '?'),
    // then host and path, then the query.
    let after_credentials = rest.find('@').map_or(0, |at| at + 1);
    let query = rest[after_credentials..]
        .split_once('?')
        .map(|(_, query)| query);
    let given = |key: &str| {
        query.is_some_and(|query| {
            query.split('&').any(|pair| {
                let name = pair.split_once('=').map_or(pair, |(name, _)| name);
                name.replace("%5F", "_").replace("%5f", "_") == key
            })
        })
    };
    let mut out = url.to_owned();
    let mut has_query = query.is_some();
    for (key, value) in DEFAULTS {
        if given(key) {
            continue;
        }
        if !has_query {
            out.push('?');
            has_query = true;
        } else if !(out.ends_with('?') || out.ends_with('&')) {
            out.push('&');
        }
        out.push_str(key);
        out.push('=');
        out.push_str(value);
    }
    out
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`: URLs may carry passwords.
#[must_use]
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((credentials, host)) = rest.rsplit_once('@') else {
        return url.to_owned();
    };
    match credentials.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

/// The store. Cheap to clone: clones share the pool.
#[derive(Clone)]
pub struct PostgresStore {
    pool: Pool<AsyncPgConnection>,
    /// Something that must live as long as the store (a test's throwaway database).
    keep_alive: Option<std::sync::Arc<dyn std::any::Any + Send + Sync>>,
    /// Confirms waiting to be committed together.
    confirms: std::sync::Arc<exams::ConfirmQueue>,
    /// New reservations waiting to be inserted together.
    inserts: std::sync::Arc<exams::InsertQueue>,
    /// How long a queued write may wait to be taken into a batch before it gives up with a 503:
    /// the pool's acquire timeout, the wait a request had before batching.
    queue_wait: Duration,
    /// Slot reads waiting to be answered together.
    slot_reads: std::sync::Arc<exams::SlotReadQueue>,
    /// How long a batch may take before its callers hear that its outcome is unknown: a safety
    /// net against a database that stops answering without closing the connection, far above
    /// what a healthy batch takes (a connection, then a few statements each bounded by
    /// `statement_timeout` on the server, retried after a deadlock). The URL's
    /// `tcp_user_timeout` notices such a database sooner, on every query.
    batch_time_limit: Duration,
}

impl fmt::Debug for PostgresStore {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("PostgresStore")
            .field("pool", &self.pool.status())
            .field("keeps_alive", &self.keep_alive.is_some())
            .finish()
    }
}

impl PostgresStore {
    /// Builds the pool and checks that the database answers.
    ///
    /// # Errors
    /// [`DependencyError::Unavailable`] when PostgreSQL cannot be reached;
    /// [`DependencyError::Failed`] for an unusable configuration.
    pub async fn connect(settings: &PostgresSettings) -> Result<Self, DependencyError> {
        let timeout_ms = settings.statement_timeout.as_millis().max(1);
        let mut config = ManagerConfig::<AsyncPgConnection>::default();
        // The default (`Verified`) runs `SELECT 1` on every checkout: a round trip per query.
        // `Fast` still discards connections that are closed or left in a transaction.
        config.recycling_method = RecyclingMethod::Fast;
        config.custom_setup = Box::new(move |url| {
            Box::pin(async move {
                let mut connection = AsyncPgConnection::establish(url).await?;
                connection
                    .batch_execute(&format!(
                        "SET statement_timeout = {timeout_ms}; SET TIME ZONE 'UTC'"
                    ))
                    .await
                    .map_err(|error| {
                        ConnectionError::BadConnection(format!("session setup failed: {error}"))
                    })?;
                // Errors are classified by their messages (see `query_error`): ask for them
                // untranslated. Only a superuser, or a role granted SET on it, may; otherwise
                // the server's own setting stays (`ALTER ROLE … SET lc_messages = 'C'` is the
                // operator's way).
                // The DO block swallows the refusal, so the server logs no error either.
                let untranslated = "DO $$BEGIN SET lc_messages = 'C'; \
                     EXCEPTION WHEN insufficient_privilege THEN NULL; END$$";
                if let Err(error) = connection.batch_execute(untranslated).await {
                    tracing::debug!(%error, "lc_messages not set; error messages stay as configured");
                }
                Ok(connection)
            })
        });
        let url = with_dead_peer_detection(&settings.url);
        let manager = AsyncDieselConnectionManager::new_with_config(url, config);
        let pool = Pool::builder(manager)
            .max_size(settings.max_connections.max(1))
            .wait_timeout(Some(settings.acquire_timeout))
            .create_timeout(Some(settings.acquire_timeout))
            .recycle_timeout(Some(settings.acquire_timeout))
            .runtime(deadpool::Runtime::Tokio1)
            .build()
            .map_err(|error| DependencyError::Failed(format!("database pool: {error}")))?;
        let store = Self {
            pool,
            keep_alive: None,
            confirms: std::sync::Arc::new(exams::ConfirmQueue::new(exams::MAX_WAITING)),
            inserts: std::sync::Arc::new(exams::InsertQueue::new(exams::MAX_WAITING)),
            queue_wait: settings.acquire_timeout,
            slot_reads: std::sync::Arc::new(exams::SlotReadQueue::new(exams::MAX_WAITING)),
            batch_time_limit: settings.acquire_timeout + settings.statement_timeout * 6,
        };
        store.ping().await?;
        Ok(store)
    }

    /// A pooled connection, or `Unavailable` once `acquire_timeout` has passed.
    pub(crate) async fn connection(&self) -> Result<Object<AsyncPgConnection>, DependencyError> {
        self.pool.get().await.map_err(pool_error)
    }
}

#[async_trait]
impl HealthProbe for PostgresStore {
    fn component(&self) -> &'static str {
        "database"
    }

    async fn ping(&self) -> Result<(), DependencyError> {
        let mut connection = self.connection().await?;
        connection
            .batch_execute("SELECT 1")
            .await
            .map_err(query_error)
    }
}

fn pool_error(error: PoolError) -> DependencyError {
    match error {
        PoolError::Timeout(_) => {
            DependencyError::Unavailable("database: no connection free in time".into())
        }
        PoolError::Backend(error) => {
            DependencyError::Unavailable(format!("database unreachable: {error}"))
        }
        other => DependencyError::Unavailable(format!("database pool: {other}")),
    }
}

/// Classifies the error of a write that may have reached the database (an autocommit statement,
/// or a transaction up to its COMMIT). A connection lost, or an answer that could not be read,
/// after it was sent leaves the outcome unknown: `Indeterminate`. An error the server answered
/// with means the write was not applied, and is classified as by [`query_error`].
pub(crate) fn write_outcome_error(error: QueryError) -> DependencyError {
    let lost = match &error {
        QueryError::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            _,
        )
        | QueryError::DeserializationError(_) => true,
        QueryError::DatabaseError(_, info) => info.message().contains("terminating connection"),
        _ => false,
    };
    if lost {
        DependencyError::Indeterminate(format!("database: {error}; the write may have applied"))
    } else {
        query_error(error)
    }
}

/// Classifies a query error: what a retry may fix is `Unavailable`, the rest `Failed`.
pub(crate) fn query_error(error: QueryError) -> DependencyError {
    let transient = match &error {
        // A replica promoted late or a primary demoted: the write can succeed elsewhere soon.
        QueryError::DatabaseError(
            DatabaseErrorKind::ClosedConnection
            | DatabaseErrorKind::UnableToSendCommand
            | DatabaseErrorKind::SerializationFailure
            | DatabaseErrorKind::ReadOnlyTransaction,
            _,
        ) => true,
        // diesel exposes no SQLSTATE, so these are PostgreSQL's (English) messages for a deadlock,
        // lock and statement timeouts, a cancelled statement, a terminated connection, memory or
        // disk exhausted, a server starting or stopping, and a read-only server. Each connection
        // asks for lc_messages = 'C'; a role that may not set it gets the server's language, and
        // in another language these errors are `Failed` (500).
        QueryError::DatabaseError(_, info) => {
            let message = info.message();
            [
                "statement timeout",
                "deadlock detected",
                "terminating connection",
                "lock timeout",
                "canceling statement due to user request",
                "out of memory",
                "out of shared memory",
                "could not extend file",
                "No space left on device",
                "too many clients",
                "the database system is",
                "read-only transaction",
            ]
            .iter()
            .any(|needle| message.contains(needle))
        }
        _ => false,
    };
    if transient {
        DependencyError::Unavailable(format!("database: {error}"))
    } else {
        DependencyError::Failed(format!("database: {error}"))
    }
}

async fn connect_once(url: &str) -> Result<AsyncPgConnection, DependencyError> {
    AsyncPgConnection::establish(&with_dead_peer_detection(url))
        .await
        .map_err(|error| DependencyError::Unavailable(format!("database unreachable: {error}")))
}

/// Applies every pending migration; returns the versions applied, oldest first.
///
/// # Errors
/// `Unavailable` when PostgreSQL cannot be reached, `Failed` when a migration fails (it is rolled
/// back).
pub async fn run_migrations(url: &str) -> Result<Vec<String>, DependencyError> {
    let connection = connect_once(url).await?;
    tokio::task::spawn_blocking(move || {
        let mut harness = AsyncMigrationHarness::new(connection);
        harness
            .run_pending_migrations(MIGRATIONS)
            .map(|versions| versions.iter().map(ToString::to_string).collect())
            .map_err(|error| DependencyError::Failed(format!("migration failed: {error}")))
    })
    .await
    .map_err(|error| DependencyError::Failed(format!("migration task: {error}")))?
}

/// Reverts every applied migration; returns the versions reverted, newest first.
///
/// # Errors
/// As [`run_migrations`].
pub async fn revert_all_migrations(url: &str) -> Result<Vec<String>, DependencyError> {
    let connection = connect_once(url).await?;
    tokio::task::spawn_blocking(move || {
        let mut harness = AsyncMigrationHarness::new(connection);
        harness
            .revert_all_migrations(MIGRATIONS)
            .map(|versions| versions.iter().map(ToString::to_string).collect())
            .map_err(|error| DependencyError::Failed(format!("revert failed: {error}")))
    })
    .await
    .map_err(|error| DependencyError::Failed(format!("migration task: {error}")))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_in_urls_are_redacted() {
        assert_eq!(
            redact("postgres://app:s3cret@db:5432/reserva"),
            "postgres://app:***@db:5432/reserva"
        );
        assert_eq!(
            redact("postgres://app@db/reserva"),
            "postgres://app@db/reserva"
        );
        let settings = PostgresSettings {
            url: "postgres://app:s3cret@db/reserva".into(),
            max_connections: 1,
            acquire_timeout: Duration::from_secs(1),
            statement_timeout: Duration::from_secs(1),
        };
        assert!(!format!("{settings:?}").contains("s3cret"));
    }

    #[test]
    fn errors_a_retry_may_fix_are_unavailable_the_rest_failed() {
        let error = |kind, message: &str| {
            query_error(QueryError::DatabaseError(
                kind,
                Box::new(message.to_owned()),
            ))
        };
        let unavailable = [
            error(
                DatabaseErrorKind::ReadOnlyTransaction,
                "cannot execute INSERT",
            ),
            error(
                DatabaseErrorKind::SerializationFailure,
                "could not serialize",
            ),
            error(DatabaseErrorKind::ClosedConnection, "closed"),
            error(DatabaseErrorKind::Unknown, "out of memory"),
            error(
                DatabaseErrorKind::Unknown,
                "could not extend file \"base/1/2\"",
            ),
            error(
                DatabaseErrorKind::Unknown,
                "sorry, too many clients already",
            ),
            error(
                DatabaseErrorKind::Unknown,
                "the database system is shutting down",
            ),
            error(
                DatabaseErrorKind::Unknown,
                "canceling statement due to statement timeout",
            ),
            error(DatabaseErrorKind::Unknown, "deadlock detected"),
            error(DatabaseErrorKind::Unknown, "out of shared memory"),
            error(
                DatabaseErrorKind::Unknown,
                "canceling statement due to user request",
            ),
        ];
        for classified in unavailable {
            assert!(
                matches!(classified, DependencyError::Unavailable(_)),
                "{classified}"
            );
        }
        let failed = [
            error(
                DatabaseErrorKind::ForeignKeyViolation,
                "violates foreign key",
            ),
            error(
                DatabaseErrorKind::CheckViolation,
                "violates check constraint",
            ),
            error(DatabaseErrorKind::Unknown, "syntax error at or near"),
        ];
        for classified in failed {
            assert!(
                matches!(classified, DependencyError::Failed(_)),
                "{classified}"
            );
        }
        assert!(matches!(
            query_error(QueryError::NotFound),
            DependencyError::Failed(_)
        ));
    }

    #[test]
    fn a_write_whose_answer_was_lost_has_an_unknown_outcome() {
        let error = |kind, message: &str| {
            write_outcome_error(QueryError::DatabaseError(
                kind,
                Box::new(message.to_owned()),
            ))
        };
        for lost in [
            error(DatabaseErrorKind::ClosedConnection, "connection closed"),
            error(
                DatabaseErrorKind::UnableToSendCommand,
                "error communicating with the server",
            ),
            error(
                DatabaseErrorKind::Unknown,
                "terminating connection due to administrator command",
            ),
            write_outcome_error(QueryError::DeserializationError("bad row".into())),
        ] {
            assert!(matches!(lost, DependencyError::Indeterminate(_)), "{lost}");
        }
        assert!(matches!(
            error(
                DatabaseErrorKind::ForeignKeyViolation,
                "violates foreign key"
            ),
            DependencyError::Failed(_)
        ));
        assert!(matches!(
            error(
                DatabaseErrorKind::Unknown,
                "canceling statement due to statement timeout"
            ),
            DependencyError::Unavailable(_)
        ));
    }

    #[test]
    fn urls_get_dead_peer_detection_unless_they_choose_their_own() {
        assert_eq!(
            with_dead_peer_detection("postgres://app@db/reserva"),
            "postgres://app@db/reserva?tcp_user_timeout=30&keepalives_idle=30\
             &keepalives_interval=10&keepalives_retries=3"
        );
        assert_eq!(
            with_dead_peer_detection(
                "postgresql://app@db/reserva?sslmode=disable&tcp_user_timeout=5"
            ),
            "postgresql://app@db/reserva?sslmode=disable&tcp_user_timeout=5&keepalives_idle=30\
             &keepalives_interval=10&keepalives_retries=3"
        );
        assert_eq!(
            with_dead_peer_detection("host=db user=app"),
            "host=db user=app",
            "key-value strings are the operator's"
        );
        let all =
            "tcp_user_timeout=30&keepalives_idle=30&keepalives_interval=10&keepalives_retries=3";
        assert_eq!(
            with_dead_peer_detection("postgres://app:pa?ss&w@db/reserva"),
            format!("postgres://app:pa?ss&w@db/reserva?{all}"),
            "a '?' in the password is not the query"
        );
        assert_eq!(
            with_dead_peer_detection("postgres://app@db/reserva?"),
            format!("postgres://app@db/reserva?{all}")
        );
        assert_eq!(
            with_dead_peer_detection("postgres://app@db/reserva?sslmode=disable&"),
            format!("postgres://app@db/reserva?sslmode=disable&{all}")
        );
        assert_eq!(
            with_dead_peer_detection("postgres://app@db/reserva?tcp%5Fuser%5Ftimeout=5"),
            "postgres://app@db/reserva?tcp%5Fuser%5Ftimeout=5&keepalives_idle=30\
             &keepalives_interval=10&keepalives_retries=3",
            "an encoded name is still the operator's choice"
        );
    }
}
