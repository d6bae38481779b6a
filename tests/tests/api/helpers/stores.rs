//! The throwaway stores behind a test server, each removed when the test ends, also when it
//! panics: the SQLite file, or the PostgreSQL database.
//!
//! Removal is in `Drop`, so a test needs no clean-up code of its own; a test killed from outside
//! (a nextest timeout) leaves its stores behind.

use reserva_adapter_postgres::test_support::TemporaryDatabase;
use std::path::PathBuf;

/// What one test server stores in.
#[expect(dead_code, reason = "held only to be dropped when the test ends")]
pub(super) enum Stores {
    /// The SQLite + memory server's database file.
    Embedded(SqliteFile),
    /// The PostgreSQL + Redis server's database.
    Production(TemporaryDatabase),
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
