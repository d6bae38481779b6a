//! Migrations, pool limits and timeouts against the real PostgreSQL.
#![allow(clippy::unwrap_used)] // test helpers fail loudly

use diesel_async::{AsyncConnection, AsyncPgConnection};
use reserva_adapter_postgres::test_support::TemporaryDatabase;
use reserva_adapter_postgres::{
    MIGRATIONS, PostgresSettings, PostgresStore, revert_all_migrations, run_migrations,
};
use reserva_application::DependencyError;
use reserva_application::ports::accounts::UserRepository;
use reserva_application::ports::system::HealthProbe;
use reserva_domain::accounts::UserId;
use std::time::{Duration, Instant};

async fn table_count(url: &str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        count: i64,
    }
    let mut connection = AsyncPgConnection::establish(url).await.unwrap();
    let rows: Vec<Count> = diesel_async::RunQueryDsl::load(
        diesel::sql_query(
            "SELECT count(*) AS count FROM information_schema.tables \
             WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations'",
        ),
        &mut connection,
    )
    .await
    .unwrap();
    rows[0].count
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_apply_revert_and_reapply() {
    let database = TemporaryDatabase::create().await;
    let url = database.url.clone();
    let embedded = diesel::migration::MigrationSource::<diesel::pg::Pg>::migrations(&MIGRATIONS)
        .unwrap()
        .len();
    assert_eq!(table_count(&url).await, 5);
    assert_eq!(
        run_migrations(&url).await,
        Ok(vec![]),
        "nothing left to apply"
    );
    let reverted = revert_all_migrations(&url).await.unwrap();
    assert_eq!(reverted.len(), embedded);
    assert_eq!(table_count(&url).await, 0);
    let applied = run_migrations(&url).await.unwrap();
    assert_eq!(applied.len(), embedded);
    assert_eq!(table_count(&url).await, 5);
    let store = PostgresStore::connect(&database.settings(2)).await.unwrap();
    assert_eq!(
        store
            .find_user(UserId::from_uuid(uuid::Uuid::now_v7()))
            .await,
        Ok(None)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exhausted_pool_answers_unavailable_after_the_acquire_timeout() {
    let database = TemporaryDatabase::create().await;
    let settings = PostgresSettings {
        acquire_timeout: Duration::from_millis(300),
        ..database.settings(1)
    };
    let store = PostgresStore::connect(&settings).await.unwrap();
    let hog = store.clone();
    let hogging = tokio::spawn(async move {
        // The statement itself is fine; it just keeps the pooled connection for a while.
        let _ = hog.sleep_in_database(Duration::from_secs(2)).await;
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    let result = store
        .find_user(UserId::from_uuid(uuid::Uuid::now_v7()))
        .await;
    assert!(
        matches!(result, Err(DependencyError::Unavailable(_))),
        "{result:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    hogging.await.unwrap();
    assert_eq!(store.ping().await, Ok(()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_over_the_timeout_is_unavailable() {
    let database = TemporaryDatabase::create().await;
    let settings = PostgresSettings {
        statement_timeout: Duration::from_millis(200),
        ..database.settings(1)
    };
    let store = PostgresStore::connect(&settings).await.unwrap();
    let result = store.sleep_in_database(Duration::from_secs(2)).await;
    assert!(
        matches!(result, Err(DependencyError::Unavailable(_))),
        "{result:?}"
    );
    assert_eq!(
        store.ping().await,
        Ok(()),
        "the connection is usable afterwards"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_server_is_unavailable() {
    let settings = PostgresSettings {
        url: "postgres://postgres@127.0.0.1:1/none".into(),
        max_connections: 1,
        acquire_timeout: Duration::from_millis(500),
        statement_timeout: Duration::from_secs(1),
    };
    let result = PostgresStore::connect(&settings).await;
    assert!(
        matches!(result, Err(DependencyError::Unavailable(_))),
        "{result:?}"
    );
}
