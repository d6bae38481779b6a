//! Where the database file is: the settings and the `sqlite://` URL that names it.

use reserva_application::DependencyError;
use std::path::PathBuf;
use std::time::Duration;

/// Where the database file is and how to use it.
#[derive(Debug, Clone)]
pub struct SqliteSettings {
    /// The database file (created if missing; its directory must exist).
    pub path: PathBuf,
    /// Pool size (readers run in parallel; writers take turns).
    pub max_connections: usize,
    /// How long a writer waits for the database lock, and a request for a pooled connection.
    pub busy_timeout: Duration,
}

/// `sqlite://./reserva.db`, `sqlite:///var/lib/reserva.db` or `sqlite:reserva.db` → the file path.
///
/// # Errors
/// [`DependencyError::Failed`] for another scheme, an empty path or an in-memory database (each
/// pooled connection would get its own empty database).
pub fn parse_sqlite_url(url: &str) -> Result<PathBuf, DependencyError> {
    let invalid = |why: &str| DependencyError::Failed(format!("invalid SQLite URL {url:?}: {why}"));
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .ok_or_else(|| invalid("it must start with sqlite://"))?;
    if path.is_empty() {
        return Err(invalid("the file path is empty"));
    }
    if path.contains(":memory:") || path.contains("mode=memory") {
        return Err(invalid(
            "in-memory databases are not supported; give a file",
        ));
    }
    if path.contains('?') {
        return Err(invalid("query parameters are not supported"));
    }
    Ok(PathBuf::from(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_files_and_refuse_memory() {
        assert_eq!(
            parse_sqlite_url("sqlite://./reserva.db"),
            Ok(PathBuf::from("./reserva.db"))
        );
        assert_eq!(
            parse_sqlite_url("sqlite:///var/lib/reserva.db"),
            Ok(PathBuf::from("/var/lib/reserva.db"))
        );
        assert_eq!(
            parse_sqlite_url("sqlite:data.db"),
            Ok(PathBuf::from("data.db"))
        );
        for bad in [
            "sqlite::memory:",
            "sqlite://",
            "postgres://x/y",
            "sqlite://a.db?mode=rwc",
        ] {
            assert!(parse_sqlite_url(bad).is_err(), "{bad}");
        }
    }
}
