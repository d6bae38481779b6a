//! Migrations and file handling.
#![expect(clippy::unwrap_used)] // test helpers fail loudly

mod support;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use reserva_adapter_sqlite::{SqliteStore, revert_all_migrations, run_migrations};
use reserva_application::DependencyError;
use reserva_application::ports::accounts::UserRepository;
use reserva_application::ports::system::HealthProbe;
use reserva_domain::accounts::UserId;
use support::TemporaryFile;

fn table_count(file: &TemporaryFile) -> i64 {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        count: i64,
    }
    let mut connection = SqliteConnection::establish(file.path.to_str().unwrap()).unwrap();
    connection.batch_execute("SELECT 1").unwrap();
    let rows: Vec<Count> = diesel::sql_query(
        "SELECT count(*) AS count FROM sqlite_master WHERE type = 'table' \
         AND name NOT LIKE 'sqlite_%' AND name <> '__diesel_schema_migrations'",
    )
    .load(&mut connection)
    .unwrap();
    rows[0].count
}

/// The tables the migrations make: 14 before the catalog, then its three, its FTS5 table and
/// the four shadow tables FTS5 keeps (data, idx, docsize, config; no content: it is external);
/// then commerce's eight, and the same five for the curricula's FTS5 table (the sixth migration
/// only adds indexes for the revocation-marks rebuild), then `order_item_courses`.
const TABLES: i64 = 36;

/// The embedded migrations.
const MIGRATIONS: usize = 7;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_apply_revert_and_reapply() {
    let file = TemporaryFile::empty();
    let applied = run_migrations(&file.path).await.unwrap();
    assert_eq!(applied.len(), MIGRATIONS, "{applied:?}");
    assert_eq!(table_count(&file), TABLES);
    assert_eq!(run_migrations(&file.path).await, Ok(vec![]));
    let reverted = revert_all_migrations(&file.path).await.unwrap();
    assert_eq!(reverted.len(), MIGRATIONS);
    assert_eq!(table_count(&file), 0);
    assert_eq!(
        run_migrations(&file.path).await.map(|v| v.len()),
        Ok(MIGRATIONS)
    );
    assert_eq!(table_count(&file), TABLES);
    let store = SqliteStore::connect(&file.settings(2)).await.unwrap();
    assert_eq!(store.ping().await, Ok(()));
    let unknown = UserId::from_uuid(uuid::Uuid::now_v7());
    assert_eq!(store.find_user(unknown).await, Ok(None));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_in_a_missing_directory_is_unavailable() {
    let path = std::env::temp_dir()
        .join(format!("reserva-missing-{}", uuid::Uuid::new_v4()))
        .join("reserva.db");
    let result = run_migrations(&path).await;
    assert!(
        matches!(result, Err(DependencyError::Unavailable(_))),
        "{result:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_use_wal_and_foreign_keys() {
    let file = TemporaryFile::migrated().await;
    let _store = SqliteStore::connect(&file.settings(1)).await.unwrap();
    let mut connection = SqliteConnection::establish(file.path.to_str().unwrap()).unwrap();
    #[derive(QueryableByName)]
    struct Mode {
        #[diesel(sql_type = diesel::sql_types::Text)]
        journal_mode: String,
    }
    let mode: Vec<Mode> = diesel::sql_query("PRAGMA journal_mode")
        .load(&mut connection)
        .unwrap();
    assert_eq!(mode[0].journal_mode, "wal");
}
