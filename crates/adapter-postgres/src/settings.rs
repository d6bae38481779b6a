//! How to reach PostgreSQL: the settings, the connection options added to the URL, and the URL
//! as it may be shown (without its password).

use std::fmt;
use std::time::Duration;

/// How to reach PostgreSQL and how much of it to use.
#[derive(Clone)]
pub struct PostgresSettings {
    /// `postgres://user:password@host:port/database`.
    pub url: String,
    /// Pool size.
    pub max_connections: usize,
    /// Catalog list and search statements run at once at most (the others wait their turn, within
    /// `acquire_timeout`), so CPU-bound reads do not crowd the database's cores; writes, which
    /// mostly wait on commits, keep the whole pool.
    pub list_concurrency: usize,
    /// How long a request waits for a pooled connection before it gets a 503.
    pub acquire_timeout: Duration,
    /// `statement_timeout` set on every connection.
    pub statement_timeout: Duration,
}

impl fmt::Debug for PostgresSettings {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("PostgresSettings")
            .field("url", &redact(&self.url))
            .field("max_connections", &self.max_connections)
            .field("list_concurrency", &self.list_concurrency)
            .field("acquire_timeout", &self.acquire_timeout)
            .field("statement_timeout", &self.statement_timeout)
            .finish()
    }
}

/// `url` with TCP options that notice a database host gone silent (no FIN, no RST) in seconds
/// rather than when the kernel gives up (minutes for unacknowledged data, hours when idle):
/// unacknowledged data for 30 s, or 3 keepalive probes 10 s apart after 30 s idle, closes the
/// connection, and the query waiting on it fails instead of hanging. Options the URL already
/// sets are kept; a key-value connection string is left as it is.
pub(crate) fn with_dead_peer_detection(url: &str) -> String {
    const DEFAULTS: [(&str, &str); 4] = [
        ("tcp_user_timeout", "30"),
        ("keepalives_idle", "30"),
        ("keepalives_interval", "10"),
        ("keepalives_retries", "3"),
    ];
    let Some(rest) = url
        .strip_prefix("postgres://")
        .or_else(|| url.strip_prefix("postgresql://"))
    else {
        return url.to_owned();
    };
    // As tokio-postgres reads it: credentials up to the first '@' (a password may hold '?'),
    // then host and path, then the query.
    let after_credentials = rest.find('@').map_or(0, |at| at + 1);
    let query = rest[after_credentials..]
        .split_once('?')
        .map(|(_, query)| query);
    let given = |key: &str| {
        query.is_some_and(|query| {
            query.split('&').any(|pair| {
                let name = pair.split_once('=').map_or(pair, |(name, _)| name);
                name.replace("%5F", "_").replace("%5f", "_") == key
            })
        })
    };
    let mut out = url.to_owned();
    let mut has_query = query.is_some();
    for (key, value) in DEFAULTS {
        if given(key) {
            continue;
        }
        if !has_query {
            out.push('?');
            has_query = true;
        } else if !(out.ends_with('?') || out.ends_with('&')) {
            out.push('&');
        }
        out.push_str(key);
        out.push('=');
        out.push_str(value);
    }
    out
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`: URLs may carry passwords.
#[must_use]
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((credentials, host)) = rest.rsplit_once('@') else {
        return url.to_owned();
    };
    match credentials.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_in_urls_are_redacted() {
        assert_eq!(
            redact("postgres://app:s3cret@db:5432/reserva"),
            "postgres://app:***@db:5432/reserva"
        );
        assert_eq!(
            redact("postgres://app@db/reserva"),
            "postgres://app@db/reserva"
        );
        let settings = PostgresSettings {
            url: "postgres://app:s3cret@db/reserva".into(),
            max_connections: 1,
            list_concurrency: 1,
            acquire_timeout: Duration::from_secs(1),
            statement_timeout: Duration::from_secs(1),
        };
        assert!(!format!("{settings:?}").contains("s3cret"));
    }

    #[test]
    fn urls_get_dead_peer_detection_unless_they_choose_their_own() {
        assert_eq!(
            with_dead_peer_detection("postgres://app@db/reserva"),
            "postgres://app@db/reserva?tcp_user_timeout=30&keepalives_idle=30\
             &keepalives_interval=10&keepalives_retries=3"
        );
        assert_eq!(
            with_dead_peer_detection(
                "postgresql://app@db/reserva?sslmode=disable&tcp_user_timeout=5"
            ),
            "postgresql://app@db/reserva?sslmode=disable&tcp_user_timeout=5&keepalives_idle=30\
             &keepalives_interval=10&keepalives_retries=3"
        );
        assert_eq!(
            with_dead_peer_detection("host=db user=app"),
            "host=db user=app",
            "key-value strings are the operator's"
        );
        let all =
            "tcp_user_timeout=30&keepalives_idle=30&keepalives_interval=10&keepalives_retries=3";
        assert_eq!(
            with_dead_peer_detection("postgres://app:pa?ss&w@db/reserva"),
            format!("postgres://app:pa?ss&w@db/reserva?{all}"),
            "a '?' in the password is not the query"
        );
        assert_eq!(
            with_dead_peer_detection("postgres://app@db/reserva?"),
            format!("postgres://app@db/reserva?{all}")
        );
        assert_eq!(
            with_dead_peer_detection("postgres://app@db/reserva?sslmode=disable&"),
            format!("postgres://app@db/reserva?sslmode=disable&{all}")
        );
        assert_eq!(
            with_dead_peer_detection("postgres://app@db/reserva?tcp%5Fuser%5Ftimeout=5"),
            "postgres://app@db/reserva?tcp%5Fuser%5Ftimeout=5&keepalives_idle=30\
             &keepalives_interval=10&keepalives_retries=3",
            "an encoded name is still the operator's choice"
        );
    }
}
