//! The throwaway stores behind a test server, each removed when the test ends, also when it
//! panics: the SQLite file, or the PostgreSQL database and the Redis key prefix.
//!
//! Removal is in `Drop`, so a test needs no clean-up code of its own; a test killed from outside
//! (a nextest timeout) leaves its stores behind.

use deadpool_redis::redis;
use reserva_adapter_postgres::test_support::TemporaryDatabase;
use std::path::PathBuf;
use std::time::Duration;

/// What one test server stores in.
#[expect(dead_code, reason = "held only to be dropped when the test ends")]
pub(super) enum Stores {
    /// The SQLite + memory server's database file.
    Embedded(SqliteFile),
    /// The PostgreSQL + Redis server's database and key prefix.
    Production {
        /// Dropped with the value.
        database: TemporaryDatabase,
        /// Deleted with the value.
        keys: RedisKeys,
    },
    /// A server over a database of the test's own (dropped by the test), and a key prefix.
    OwnDatabase(RedisKeys),
}

/// A SQLite database file in the temporary directory, deleted (with its WAL files) on drop.
pub(super) struct SqliteFile(PathBuf);

impl SqliteFile {
    /// A name no other test uses; the server creates the file.
    pub(super) fn fresh() -> Self {
        Self(std::env::temp_dir().join(format!("reserva-test-{}.db", uuid::Uuid::new_v4())))
    }

    /// The database URL for the server.
    pub(super) fn url(&self) -> String {
        format!("sqlite://{}", self.0.display())
    }
}

impl Drop for SqliteFile {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.0.display()));
        }
    }
}

/// A Redis key prefix of one test server; every key under it is deleted on drop.
pub(super) struct RedisKeys {
    /// The Redis the server uses (`TEST_REDIS_URL`).
    pub(super) url: String,
    /// `reserva-test:<random hex>:`, which has no glob characters to escape in `SCAN MATCH`.
    pub(super) prefix: String,
}

impl RedisKeys {
    /// A prefix no other test uses.
    pub(super) fn fresh() -> Self {
        Self::at(
            std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into()),
        )
    }

    /// A prefix no other test uses, on the Redis at `url` (a test's private one).
    pub(super) fn at(url: String) -> Self {
        Self {
            url,
            prefix: format!("reserva-test:{}:", uuid::Uuid::new_v4().simple()),
        }
    }

    /// Deletes every key under the prefix. Blocking: it runs in `Drop`, where nothing can be
    /// awaited.
    fn delete(&self) -> redis::RedisResult<()> {
        let mut connection = connect(&self.url)?;
        for keys in keys_under(&mut connection, &self.prefix)?.chunks(1000) {
            redis::cmd("DEL").arg(keys).query::<()>(&mut connection)?;
        }
        Ok(())
    }
}

fn connect(url: &str) -> redis::RedisResult<redis::Connection> {
    redis::Client::open(url)?.get_connection_with_timeout(Duration::from_secs(5))
}

/// The keys under `prefix`, gathered a page of `SCAN` at a time.
fn keys_under(connection: &mut redis::Connection, prefix: &str) -> redis::RedisResult<Vec<String>> {
    let pattern = format!("{prefix}*");
    let (mut cursor, mut found) = (0_u64, Vec::new());
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(&pattern)
            .arg("COUNT")
            .arg(1000)
            .query(connection)?;
        found.extend(keys);
        if next == 0 {
            return Ok(found);
        }
        cursor = next;
    }
}

impl Drop for RedisKeys {
    fn drop(&mut self) {
        if let Err(error) = self.delete() {
            eprintln!(
                "warning: could not delete the Redis keys under {}: {error}",
                self.prefix
            );
        }
    }
}

/// The harness keeps the README's promise that each test drops its Redis prefix, also when the
/// test fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_test_still_deletes_its_redis_keys() {
    use super::{Backend, TestApp, unique};
    let (sender, receiver) = tokio::sync::oneshot::channel();
    let failing = tokio::spawn(async move {
        let app = TestApp::spawn(Backend::Production).await;
        let name = unique("pam");
        app.signup(&name).await;
        app.login(&name, "wrong-password1")
            .await
            .assert_problem(401, "invalid_credentials");
        let (url, prefix) = (
            app.settings.redis.url.clone(),
            app.settings.redis.key_prefix.clone(),
        );
        let url = url.expect("Redis").expose().to_owned();
        let mut connection = connect(&url).expect("Redis");
        assert!(
            !keys_under(&mut connection, &prefix)
                .expect("scan")
                .is_empty(),
            "a failed login is counted in Redis"
        );
        let _ = sender.send((url, prefix));
        panic!("this test fails on purpose");
    });
    assert!(failing.await.is_err_and(|error| error.is_panic()));
    let (url, prefix) = receiver.await.expect("the prefix");
    let mut connection = connect(&url).expect("Redis");
    assert_eq!(
        keys_under(&mut connection, &prefix).expect("scan"),
        Vec::<String>::new()
    );
}
