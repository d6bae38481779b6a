//! Throwaway databases on a running PostgreSQL, for tests of this crate and of the crates above.
//!
//! Each [`TemporaryDatabase`] is a fresh database with a random name on the cluster named by
//! `TEST_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`); it is dropped when
//! the value is. A cluster that cannot be reached is a test failure, never a skip.
//!
//! Migrating a database per test costs more than the test, so [`TemporaryDatabase::create`] clones
//! a migrated template instead (`CREATE DATABASE … TEMPLATE …`, as crates.io's test databases do).
//! nextest runs every test in its own process, so the template lives on the cluster, shared by
//! processes and runs: it is named after a hash of the migration files, so a changed migration
//! makes a new one. It is built under a temporary name and renamed only once migrated and closed,
//! so a killed run never leaves a half-made template under the real name. Builders hold an
//! exclusive advisory lock, cloners a shared one: two processes never build it at once, and a
//! template is never dropped while it is being cloned.

use crate::{PostgresSettings, PostgresStore, run_migrations};
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use reserva_application::DependencyError;
use std::path::Path;
use std::time::Duration;

/// The maintenance database tests connect to.
pub const DEFAULT_TEST_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// The migrations [`crate::MIGRATIONS`] embeds; the template is named after their contents.
const MIGRATIONS_DIRECTORY: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../migrations/postgres");

/// Every template's name starts so; old ones are found (and dropped) by it.
const TEMPLATE_PREFIX: &str = "reserva_template_";

/// The advisory lock key that orders building, cloning and dropping templates on a cluster.
const TEMPLATE_LOCK: i64 = fnv1a(FNV_OFFSET, b"reserva test template").cast_signed();

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// 64-bit FNV-1a of `bytes`, continuing from `hash`: small, stable across runs and platforms, and
/// good enough to tell migration sets apart.
const fn fnv1a(mut hash: u64, bytes: &[u8]) -> u64 {
    let mut index = 0;
    while index < bytes.len() {
        hash ^= bytes[index] as u64;
        hash = hash.wrapping_mul(FNV_PRIME);
        index += 1;
    }
    hash
}

/// Hashes every file under `directory`, names and contents, in name order.
fn hash_directory(hash: u64, directory: &Path) -> u64 {
    let listing = std::fs::read_dir(directory)
        .unwrap_or_else(|error| panic!("reading {}: {error}", directory.display()));
    let mut entries: Vec<_> = listing
        .map(|entry| {
            entry.unwrap_or_else(|error| panic!("reading {}: {error}", directory.display()))
        })
        .map(|entry| entry.path())
        .collect();
    entries.sort();
    entries.iter().fold(hash, |hash, path| {
        let name = path
            .file_name()
            .map(|name| name.as_encoded_bytes())
            .unwrap_or_default();
        let hash = fnv1a(fnv1a(hash, name), b"\0");
        if path.is_dir() {
            hash_directory(hash, path)
        } else {
            let contents = std::fs::read(path)
                .unwrap_or_else(|error| panic!("reading {}: {error}", path.display()));
            fnv1a(fnv1a(hash, &contents), b"\0")
        }
    })
}

/// The template for the migrations as they are on disk now.
fn template_name() -> String {
    let hash = hash_directory(FNV_OFFSET, Path::new(MIGRATIONS_DIRECTORY));
    format!("{TEMPLATE_PREFIX}{hash:016x}")
}

/// A fresh database, dropped on drop.
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
    /// Creates a migrated database: a clone of the template, which is built first if this cluster
    /// does not have it yet.
    ///
    /// # Panics
    /// When PostgreSQL cannot be reached or a migration fails: tests need the real database.
    pub async fn create() -> Self {
        let (mut admin, admin_url) = connect_admin().await;
        let name = fresh_name();
        clone_template(&mut admin, &admin_url, &name).await;
        Self::named(admin_url, name)
    }

    /// Creates an empty database, no migration applied: for tests of the migrations themselves.
    ///
    /// # Panics
    /// When PostgreSQL cannot be reached.
    pub async fn empty() -> Self {
        let (mut admin, admin_url) = connect_admin().await;
        let name = fresh_name();
        execute(&mut admin, &format!("CREATE DATABASE {name}")).await;
        Self::named(admin_url, name)
    }

    fn named(admin_url: String, name: String) -> Self {
        Self {
            url: with_database(&admin_url, &name),
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
            list_concurrency: max_connections,
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

fn fresh_name() -> String {
    format!("reserva_test_{}", uuid::Uuid::new_v4().simple())
}

async fn connect_admin() -> (AsyncPgConnection, String) {
    let admin_url = admin_url();
    let admin = AsyncPgConnection::establish(&admin_url)
        .await
        .unwrap_or_else(|error| {
            panic!(
                "PostgreSQL is required for this test ({}): {error}. Run ./scripts/test.",
                crate::redact(&admin_url)
            )
        });
    (admin, admin_url)
}

/// Runs `sql` on the admin connection; a failure fails the test.
async fn execute(admin: &mut AsyncPgConnection, sql: &str) {
    admin
        .batch_execute(sql)
        .await
        .unwrap_or_else(|error| panic!("{sql}: {error}"));
}

/// The names of the databases whose name starts with [`TEMPLATE_PREFIX`].
async fn templates(admin: &mut AsyncPgConnection) -> Vec<String> {
    #[derive(diesel::QueryableByName)]
    struct Database {
        #[diesel(sql_type = diesel::sql_types::Text)]
        datname: String,
    }
    let rows: Vec<Database> = diesel_async::RunQueryDsl::load(
        diesel::sql_query("SELECT datname FROM pg_database WHERE starts_with(datname, $1)")
            .bind::<diesel::sql_types::Text, _>(TEMPLATE_PREFIX),
        admin,
    )
    .await
    .unwrap_or_else(|error| panic!("listing templates: {error}"));
    rows.into_iter().map(|row| row.datname).collect()
}

/// Creates `name` as a clone of the template, building the template first when it is missing.
///
/// The fast path holds the advisory lock shared, so clones run side by side; building takes it
/// exclusively, so a second process that also found the template missing waits, then finds it.
async fn clone_template(admin: &mut AsyncPgConnection, admin_url: &str, name: &str) {
    let template = template_name();
    let clone = format!("CREATE DATABASE {name} TEMPLATE {template}");
    execute(
        admin,
        &format!("SELECT pg_advisory_lock_shared({TEMPLATE_LOCK})"),
    )
    .await;
    let ready = templates(admin).await.contains(&template);
    if ready {
        execute(admin, &clone).await;
    }
    execute(
        admin,
        &format!("SELECT pg_advisory_unlock_shared({TEMPLATE_LOCK})"),
    )
    .await;
    if ready {
        return;
    }
    execute(admin, &format!("SELECT pg_advisory_lock({TEMPLATE_LOCK})")).await;
    if !templates(admin).await.contains(&template) {
        build_template(admin, admin_url, &template).await;
        // Templates of other migration sets (and half-built ones of killed runs) are stale: no
        // one clones them while we hold the lock exclusively.
        let existing = templates(admin).await;
        for stale in existing.iter().filter(|stale| **stale != template) {
            execute(admin, &format!("ALTER DATABASE {stale} IS_TEMPLATE false")).await;
            execute(
                admin,
                &format!("DROP DATABASE IF EXISTS {stale} WITH (FORCE)"),
            )
            .await;
        }
    }
    execute(admin, &clone).await;
    execute(
        admin,
        &format!("SELECT pg_advisory_unlock({TEMPLATE_LOCK})"),
    )
    .await;
}

/// Migrates a database under a temporary name, closes it and renames it to `template`.
/// Called with the advisory lock held exclusively.
async fn build_template(admin: &mut AsyncPgConnection, admin_url: &str, template: &str) {
    let building = format!("{template}_building");
    execute(
        admin,
        &format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"),
    )
    .await;
    execute(admin, &format!("CREATE DATABASE {building}")).await;
    run_migrations(&with_database(admin_url, &building))
        .await
        .unwrap_or_else(|error| panic!("migrating {building}: {error}"));
    execute(
        admin,
        &format!("ALTER DATABASE {building} IS_TEMPLATE true ALLOW_CONNECTIONS false"),
    )
    .await;
    // The migration connection is closed, but its backend may not have exited yet, and a
    // database with sessions cannot be renamed (nor cloned).
    let rename = format!("ALTER DATABASE {building} RENAME TO {template}");
    let terminate = format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{building}'"
    );
    for _ in 0..50 {
        execute(admin, &terminate).await;
        if admin.batch_execute(&rename).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    execute(admin, &rename).await;
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

    /// Opens a transaction on a pooled connection, takes the advisory lock `key` in it and gives
    /// the connection back without ending it: what a request dropped at its deadline in the
    /// middle of a transaction leaves behind.
    ///
    /// # Errors
    /// As any query.
    pub async fn abandon_open_transaction(&self, key: i64) -> Result<(), DependencyError> {
        let mut connection = self.connection().await?;
        connection
            .batch_execute(&format!("BEGIN; SELECT pg_advisory_xact_lock({key})"))
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
    use super::{FNV_OFFSET, fnv1a, template_name, with_database};

    #[test]
    fn fnv1a_matches_the_reference_vectors() {
        assert_eq!(fnv1a(FNV_OFFSET, b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(FNV_OFFSET, b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(FNV_OFFSET, b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn the_template_is_named_after_the_migrations() {
        let name = template_name();
        assert_eq!(name, template_name(), "stable while the files are");
        let hash = name.strip_prefix("reserva_template_").expect("prefix");
        assert_eq!(hash.len(), 16);
        assert!(hash.bytes().all(|byte| byte.is_ascii_hexdigit()), "{name}");
    }

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
