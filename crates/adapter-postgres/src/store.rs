//! The store: one pool of connections, set up once, shared by every module's repositories.

use crate::errors::{note_message_language, pool_error, query_error};
use crate::parts::ModuleStates;
use crate::settings::{PostgresSettings, with_dead_peer_detection};
use async_trait::async_trait;
use diesel::ConnectionError;
use diesel_async::pooled_connection::deadpool::{Object, Pool};
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use reserva_application::DependencyError;
use reserva_application::ports::system::HealthProbe;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The store. Cheap to clone: clones share the pool.
#[derive(Clone)]
pub struct PostgresStore {
    pool: Pool<AsyncPgConnection>,
    /// Something that must live as long as the store (a test's throwaway database).
    pub(crate) keep_alive: Option<Arc<dyn std::any::Any + Send + Sync>>,
    /// What a module needs to know of the pool to use it well.
    timing: PoolTiming,
    /// Each module's own state (the exams batch queues).
    modules: Arc<ModuleStates>,
    /// The turns of the catalog's list and search statements (`list_concurrency` permits).
    list_turns: Arc<Semaphore>,
}

/// The pool's time limits, as modules need them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PoolTiming {
    /// How long a request waits for a pooled connection before it gets a 503.
    pub acquire_timeout: Duration,
    /// The `statement_timeout` of every connection.
    pub statement_timeout: Duration,
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
        let store = Self::build(settings)?;
        store.ping().await?;
        Ok(store)
    }

    /// Builds the pool without opening a connection.
    fn build(settings: &PostgresSettings) -> Result<Self, DependencyError> {
        let timeout_ms = settings.statement_timeout.as_millis().max(1);
        // A transaction left open between two statements for this long is ended by the server,
        // and its row locks with it. Our transactions never wait on anything but their own next
        // statement, so only an abandoned one gets there: a request dropped at its deadline
        // (server.request_timeout_ms) whose connection sits in the pool, broken but not yet
        // discarded (deadpool checks it only at its next checkout), while it holds the locks
        // other requests queue behind.
        let idle_in_transaction_ms = (2 * timeout_ms).max(2_000);
        let mut config = ManagerConfig::<AsyncPgConnection>::default();
        // The default (`Verified`) runs `SELECT 1` on every checkout: a round trip per query.
        // `Fast` still discards connections that are closed or left in a transaction.
        config.recycling_method = RecyclingMethod::Fast;
        config.custom_setup = Box::new(move |url| {
            Box::pin(async move {
                let mut connection = AsyncPgConnection::establish(url).await?;
                connection
                    .batch_execute(&format!(
                        "SET statement_timeout = {timeout_ms}; \
                         SET idle_in_transaction_session_timeout = {idle_in_transaction_ms}; \
                         SET TIME ZONE 'UTC'"
                    ))
                    .await
                    .map_err(|error| {
                        ConnectionError::BadConnection(format!("session setup failed: {error}"))
                    })?;
                // Errors without a SQLSTATE class are classified by their messages (see `query_error`): ask for them
                // untranslated. Only a superuser, or a role granted SET on it, may; otherwise
                // the server's own setting stays (`ALTER ROLE … SET lc_messages = 'C'` is the
                // operator's way).
                // The DO block swallows the refusal, so the server logs no error either.
                let untranslated = "DO $$BEGIN SET lc_messages = 'C'; \
                     EXCEPTION WHEN insufficient_privilege THEN NULL; END$$";
                if let Err(error) = connection.batch_execute(untranslated).await {
                    tracing::debug!(%error, "lc_messages not set; error messages stay as configured");
                }
                if let Some(language) = current_setting(&mut connection, "lc_messages").await {
                    note_message_language(&language);
                }
                Ok(connection)
            })
        });
        let url = with_dead_peer_detection(&settings.url);
        let manager = AsyncDieselConnectionManager::new_with_config(url, config);
        // Each of these limits alone is at most the budget; `connection` bounds their sum.
        let pool = Pool::builder(manager)
            .max_size(settings.max_connections.max(1))
            .wait_timeout(Some(settings.acquire_timeout))
            .create_timeout(Some(settings.acquire_timeout))
            .recycle_timeout(Some(settings.acquire_timeout))
            .runtime(deadpool::Runtime::Tokio1)
            .build()
            .map_err(|error| DependencyError::Failed(format!("database pool: {error}")))?;
        Ok(Self {
            pool,
            keep_alive: None,
            timing: PoolTiming {
                acquire_timeout: settings.acquire_timeout,
                statement_timeout: settings.statement_timeout,
            },
            modules: Arc::default(),
            list_turns: Arc::new(Semaphore::new(settings.list_concurrency.max(1))),
        })
    }

    /// The pool's time limits.
    pub(crate) const fn timing(&self) -> PoolTiming {
        self.timing
    }

    /// A module's own state, made by `init` on first use and shared by every clone.
    pub(crate) fn module_state<State: std::any::Any + Send + Sync>(
        &self,
        init: impl FnOnce() -> State,
    ) -> Arc<State> {
        self.modules.get_or_init(init)
    }

    /// A pooled connection for a catalog list or search statement, with its turn, or
    /// `Unavailable` once `acquire_timeout` has passed (one budget for both waits); hold both
    /// while the statement runs.
    ///
    /// These statements are CPU-bound (a walk of hundreds to thousands of index entries and the
    /// rows kept): with as many at once as the pool has connections, the database's cores
    /// time-slice between them and every one of them takes longer. On two cores, 16 at once made
    /// the searches' p99 at 64 connections about twice what it was with six at once, at the same
    /// throughput (docs/benchmarks/2026-12-03-catalog-turns-ab.txt). The writes keep the whole
    /// pool: they wait on commits and need many in flight. Turns are given in arrival order.
    pub(crate) async fn list_connection(
        &self,
    ) -> Result<(OwnedSemaphorePermit, Object<AsyncPgConnection>), DependencyError> {
        let budget = self.timing.acquire_timeout;
        let acquire = async {
            let turn = self
                .list_turns
                .clone()
                .acquire_owned()
                .await
                .map_err(|_| DependencyError::Failed("catalog list turns closed".into()))?;
            let connection = self.pool.get().await.map_err(pool_error)?;
            Ok((turn, connection))
        };
        match tokio::time::timeout(budget, acquire).await {
            Ok(acquired) => acquired,
            Err(_) => Err(DependencyError::Unavailable(format!(
                "database: no turn for a catalog list in time ({} ms)",
                budget.as_millis()
            ))),
        }
    }

    /// A pooled connection, or `Unavailable` once `acquire_timeout` has passed.
    ///
    /// The budget covers the whole acquisition. deadpool gives each step its own limit: waiting
    /// for a free slot, then opening a connection (or recycling one), so a request that waited
    /// almost the whole budget for a slot could spend it again opening a connection to a
    /// database that stopped answering: twice `acquire_timeout` before its 503. Dropping the
    /// `get` future at the budget gives the slot back and abandons a half-made connection.
    ///
    /// A connection a request abandoned mid-transaction (its handler dropped at the request
    /// deadline) comes back to the pool with its transaction open or mid-`COMMIT`: diesel-async
    /// then reports it broken and the pool's recycle step discards it (closing it, which makes
    /// the server roll the transaction back) instead of handing it out.
    pub(crate) async fn connection(&self) -> Result<Object<AsyncPgConnection>, DependencyError> {
        let budget = self.timing.acquire_timeout;
        match tokio::time::timeout(budget, self.pool.get()).await {
            Ok(acquired) => acquired.map_err(pool_error),
            Err(_) => Err(DependencyError::Unavailable(format!(
                "database: no connection free in time ({} ms)",
                budget.as_millis()
            ))),
        }
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

/// A run-time setting of `connection`, if it can be read.
async fn current_setting(connection: &mut AsyncPgConnection, name: &str) -> Option<String> {
    #[derive(diesel::QueryableByName)]
    struct Setting {
        #[diesel(sql_type = diesel::sql_types::Text)]
        value: String,
    }
    diesel::sql_query("SELECT current_setting($1) AS value")
        .bind::<diesel::sql_types::Text, _>(name)
        .get_result::<Setting>(connection)
        .await
        .map(|setting| setting.value)
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::time::Instant;

    /// With every list turn taken, a list waits its turn and answers `Unavailable` at the
    /// budget, while writes still get connections of the pool at once; a turn given back is
    /// taken by the next list.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn lists_wait_for_a_turn_and_writes_do_not() {
        use reserva_application::ports::catalog::{CatalogQuery, CatalogRepository};
        use reserva_domain::accounts::UserId;
        use reserva_domain::catalog::{CatalogSort, ItemKind};
        use reserva_domain::paging::PageLimit;
        let database = crate::test_support::TemporaryDatabase::create().await;
        let budget = Duration::from_millis(400);
        let store = PostgresStore::connect(&PostgresSettings {
            list_concurrency: 1,
            acquire_timeout: budget,
            ..database.settings(4)
        })
        .await
        .expect("store");
        let query = CatalogQuery {
            kind: ItemKind::Test,
            viewer: UserId::from_uuid(uuid::Uuid::now_v7()),
            open_at: None,
            search: None,
            sort: CatalogSort::Created,
            after: None,
            limit: PageLimit::DEFAULT,
        };
        let held = store.list_connection().await.expect("the one turn");
        let started = Instant::now();
        let waited = store.list_items(query.clone()).await;
        assert!(
            matches!(waited, Err(DependencyError::Unavailable(_))),
            "{waited:?}"
        );
        let took = started.elapsed();
        assert!(took >= budget, "gave up early: {took:?}");
        assert!(took < budget * 3 / 2, "took {took:?}");
        let started = Instant::now();
        let mut write = store.connection().await.expect("a write's connection");
        write.batch_execute("SELECT 1").await.expect("answers");
        assert!(
            started.elapsed() < budget,
            "the write waited for a list turn"
        );
        drop(write);
        drop(held);
        assert_eq!(store.list_items(query).await, Ok(Vec::new()));
    }

    /// A "database" that accepts connections and never says a word: a frozen server. Its
    /// thread holds every socket it accepted until the test process ends.
    fn silent_server() -> String {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let address = listener.local_addr().expect("address");
        std::thread::spawn(move || {
            let held: Vec<_> = listener.incoming().collect();
            drop(held);
        });
        format!("postgres://app@{address}/reserva")
    }

    #[tokio::test]
    async fn acquiring_a_connection_never_takes_more_than_one_acquire_timeout() {
        let url = silent_server();
        let budget = Duration::from_millis(600);
        let store = PostgresStore::build(&PostgresSettings {
            url,
            max_connections: 1,
            list_concurrency: 1,
            acquire_timeout: budget,
            statement_timeout: Duration::from_secs(5),
        })
        .expect("pool");
        // One slot: the second request waits for the first one's hung connection attempt, then
        // (before the fix) started its own, with a fresh budget.
        let started = Instant::now();
        let attempts = (0..3).map(|_| {
            let store = store.clone();
            async move {
                let outcome = store.connection().await.map(drop);
                (outcome, started.elapsed())
            }
        });
        for (outcome, took) in futures_util::future::join_all(attempts).await {
            assert!(
                matches!(outcome, Err(DependencyError::Unavailable(_))),
                "{outcome:?}"
            );
            assert!(took >= budget, "gave up early: {took:?}");
            assert!(
                took < budget * 3 / 2,
                "took {took:?} for a {budget:?} budget"
            );
        }
    }
}
