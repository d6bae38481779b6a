//! Throwaway databases on a running PostgreSQL, for tests of this crate and of the crates above.
//!
//! Each [`TemporaryDatabase`] is a fresh, migrated database with a random name on the cluster
//! named by `TEST_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`); it is
//! dropped when the value is. A cluster that cannot be reached is a test failure, never a skip.

use crate::{PostgresSettings, PostgresStore, run_migrations};
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use reserva_application::DependencyError;
use std::time::Duration;

/// The maintenance database tests connect to.
pub const DEFAULT_TEST_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A fresh migrated database, dropped on drop.
#[derive(Debug)]
pub struct TemporaryDatabase {
    /// Where the new database is.
    pub url: String,
    admin_url: String,
    name: String,
}

fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_TEST_DATABASE_URL.to_owned())
}

/// `postgres://host/db?x` with the database replaced.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let Some(slash) = base.rfind('/').filter(|index| *index > "postgres://".len()) else {
        return format!("{base}/{database}");
    };
    let mut out = format!("{}/{database}", &base[..slash]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

impl TemporaryDatabase {
    /// Creates and migrates a database.
    ///
    /// # Panics
    /// When PostgreSQL cannot be reached or a migration fails: tests need the real database.
    pub async fn create() -> Self {
        let admin_url = admin_url();
        let name = format!("reserva_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = AsyncPgConnection::establish(&admin_url)
            .await
            .unwrap_or_else(|error| {
                panic!(
                    "PostgreSQL is required for this test ({}): {error}. Run ./scripts/test.",
                    crate::redact(&admin_url)
                )
            });
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap_or_else(|error| panic!("CREATE DATABASE {name}: {error}"));
        let url = with_database(&admin_url, &name);
        run_migrations(&url)
            .await
            .unwrap_or_else(|error| panic!("migrating {name}: {error}"));
        Self {
            url,
            admin_url,
            name,
        }
    }

    /// Settings for a store on this database.
    #[must_use]
    pub fn settings(&self, max_connections: usize) -> PostgresSettings {
        PostgresSettings {
            url: self.url.clone(),
            max_connections,
            acquire_timeout: Duration::from_secs(10),
            statement_timeout: Duration::from_secs(30),
        }
    }

    /// A store on this database with a pool of 16; the database lives until the last clone of
    /// the store is dropped.
    ///
    /// # Panics
    /// When the pool cannot connect.
    pub async fn into_store(self) -> PostgresStore {
        let mut store = PostgresStore::connect(&self.settings(16))
            .await
            .unwrap_or_else(|error| panic!("connecting to {}: {error}", self.name));
        store.keep_alive = Some(std::sync::Arc::new(self));
        store
    }
}

impl PostgresStore {
    /// The value of a run-time setting on a pooled connection.
    ///
    /// # Errors
    /// As any query.
    pub async fn setting(&self, name: &str) -> Result<String, DependencyError> {
        #[derive(diesel::QueryableByName)]
        struct Setting {
            #[diesel(sql_type = diesel::sql_types::Text)]
            value: String,
        }
        let mut connection = self.connection().await?;
        let rows: Vec<Setting> = diesel_async::RunQueryDsl::load(
            diesel::sql_query("SELECT current_setting($1) AS value")
                .bind::<diesel::sql_types::Text, _>(name),
            &mut connection,
        )
        .await
        .map_err(crate::query_error)?;
        rows.into_iter()
            .next()
            .map(|row| row.value)
            .ok_or_else(|| DependencyError::Failed(format!("no setting {name}")))
    }

    /// Runs `pg_sleep` on a pooled connection: holds it (and tests the statement timeout).
    ///
    /// # Errors
    /// As any query: `Unavailable` on pool exhaustion or statement timeout.
    pub async fn sleep_in_database(&self, duration: Duration) -> Result<(), DependencyError> {
        let mut connection = self.connection().await?;
        connection
            .batch_execute(&format!("SELECT pg_sleep({})", duration.as_secs_f64()))
            .await
            .map_err(crate::query_error)
    }
}

impl Drop for TemporaryDatabase {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop may run inside or outside a runtime; a thread with its own runtime works in both.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let mut admin = AsyncPgConnection::establish(&admin_url).await.ok()?;
                admin
                    .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await
                    .ok()
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(()))) {
            eprintln!("warning: could not drop test database {}", self.name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn database_name_is_replaced() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgres://u:p@h/db?sslmode=disable", "x"),
            "postgres://u:p@h/x?sslmode=disable"
        );
    }
}
