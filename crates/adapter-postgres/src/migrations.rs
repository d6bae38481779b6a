//! The schema migrations, embedded in the binary, and how to apply and revert them.

use crate::settings::with_dead_peer_detection;
use diesel_async::{AsyncConnection, AsyncMigrationHarness, AsyncPgConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use reserva_application::DependencyError;

/// The schema migrations, compiled into the binary.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

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
