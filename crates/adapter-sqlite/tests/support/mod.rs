//! A fresh database file per test, deleted afterwards.
#![allow(
    dead_code,
    reason = "each test binary uses a different part; `expect` would be unfulfilled in one"
)]

use reserva_adapter_sqlite::{SqliteSettings, SqliteStore, run_migrations};
use std::path::PathBuf;
use std::time::Duration;

/// A database file in the temporary directory, removed (with its WAL files) on drop.
pub struct TemporaryFile {
    pub path: PathBuf,
}

impl TemporaryFile {
    pub fn empty() -> Self {
        let name = format!("reserva-test-{}.db", uuid::Uuid::new_v4());
        Self {
            path: std::env::temp_dir().join(name),
        }
    }

    pub async fn migrated() -> Self {
        let file = Self::empty();
        if let Err(error) = run_migrations(&file.path).await {
            panic!("migrating {}: {error}", file.path.display());
        }
        file
    }

    pub fn settings(&self, max_connections: usize) -> SqliteSettings {
        SqliteSettings {
            path: self.path.clone(),
            max_connections,
            busy_timeout: Duration::from_secs(10),
        }
    }
}

impl Drop for TemporaryFile {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut name = self.path.clone().into_os_string();
            name.push(suffix);
            let _ = std::fs::remove_file(name);
        }
    }
}

/// A store on a fresh migrated file that lives as long as the store.
pub async fn fresh() -> SqliteStore {
    let file = TemporaryFile::migrated().await;
    SqliteStore::connect(&file.settings(8))
        .await
        .unwrap_or_else(|error| panic!("{error}"))
        .keeping_alive(file)
}
