//! The schema migrations, embedded in the binary, and how to apply and revert them.

use crate::store::open;
use diesel::SqliteConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use reserva_application::DependencyError;
use std::path::Path;
use std::time::Duration;

/// The schema migrations, compiled into the binary.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");

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
