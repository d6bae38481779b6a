//! The Redis client every port of this adapter shares: one multiplexed connection taken from a
//! bounded pool, the configured timeout around every command, key prefixing, the mapping of Redis
//! and pool errors onto [`DependencyError`], and the scrubbing of passwords from URLs.
//!
//! Ports depend on this module and never on each other, so adding a port adds one module.

use deadpool_redis::redis::aio::MultiplexedConnection;
use deadpool_redis::redis::{ErrorKind, RedisError, RetryMethod, Script};
use deadpool_redis::{Config, Connection, Pool, PoolConfig, PoolError, Runtime, Timeouts};
use reserva_application::DependencyError;
use std::future::Future;
use std::ops::Range;
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

use crate::RedisSettings;

/// Deletes `KEYS[1]` only if it still holds `ARGV[1]`: how an owner gives back what it holds
/// (a lock, an in-flight idempotency claim) without deleting a successor's value.
pub(crate) static COMPARE_AND_DELETE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        "if redis.call('GET', KEYS[1]) == ARGV[1] then \
         return redis.call('DEL', KEYS[1]) else return 0 end",
    )
});

/// The connection, the key prefix and the timeout, shared by every clone of the store.
pub(crate) struct Client {
    pub(crate) pool: Pool,
    /// The connection in use: one multiplexed connection pipelines every command of every
    /// request. It is taken from the pool once (so creating it honours the pool's timeouts) and
    /// replaced after a failure. A pooled connection per command would cost an extra round trip
    /// each time: deadpool-redis sends `UNWATCH` + `PING` whenever it recycles one.
    shared: Mutex<Option<MultiplexedConnection>>,
    pub(crate) key_prefix: String,
    pub(crate) timeout: Duration,
}

impl Client {
    /// Builds the pool; no connection is opened yet.
    pub(crate) fn new(settings: &RedisSettings) -> Result<Self, DependencyError> {
        let mut pool_config = PoolConfig::new(settings.max_connections.max(1));
        pool_config.timeouts = Timeouts {
            wait: Some(settings.timeout),
            create: Some(settings.timeout),
            recycle: Some(settings.timeout),
        };
        let mut config = Config::from_url(settings.url.clone());
        config.pool = Some(pool_config);
        let pool = config.create_pool(Some(Runtime::Tokio1)).map_err(|error| {
            DependencyError::Unavailable(scrub_settings(
                &format!("invalid redis configuration: {error}"),
                settings,
            ))
        })?;
        Ok(Self {
            pool,
            shared: Mutex::new(None),
            key_prefix: settings.key_prefix.clone(),
            timeout: settings.timeout,
        })
    }

    /// `{prefix}{kind}:{name}`: each port owns its `kind`.
    pub(crate) fn key(&self, kind: &str, name: &str) -> String {
        format!("{}{kind}:{name}", self.key_prefix)
    }

    /// The shared multiplexed connection, opening one through the pool if there is none.
    async fn connection(&self) -> Result<MultiplexedConnection, DependencyError> {
        let current = self
            .shared
            .lock()
            .map_err(|_| DependencyError::Failed("redis connection lock poisoned".into()))?
            .clone();
        if let Some(connection) = current {
            return Ok(connection);
        }
        let fresh = Connection::take(self.pool.get().await.map_err(pool_error)?);
        if let Ok(mut shared) = self.shared.lock() {
            *shared = Some(fresh.clone());
        }
        Ok(fresh)
    }

    /// Forgets the shared connection after a failure, so the next command opens a new one.
    fn discard_connection(&self) {
        if let Ok(mut shared) = self.shared.lock() {
            *shared = None;
        }
    }

    /// Runs `operation` on the shared connection within the configured timeout.
    ///
    /// The one timeout covers getting the connection (the pool's wait, connect and recycle
    /// steps, each of which deadpool would give the whole budget) and the command together, so
    /// a Redis that stopped answering costs a request `timeout` at most, not a multiple of it.
    pub(crate) async fn bounded<T, F, Fut>(
        &self,
        what: &str,
        operation: F,
    ) -> Result<T, DependencyError>
    where
        F: FnOnce(MultiplexedConnection) -> Fut,
        Fut: Future<Output = Result<T, DependencyError>>,
    {
        let timeout = self.timeout;
        let run = async {
            let connection = self.connection().await?;
            operation(connection).await
        };
        let result = tokio::time::timeout(timeout, run)
            .await
            .unwrap_or_else(|_| {
                Err(DependencyError::Unavailable(format!(
                    "redis {what} timed out after {} ms",
                    timeout.as_millis()
                )))
            });
        if matches!(result, Err(DependencyError::Unavailable(_))) {
            self.discard_connection();
        }
        result
    }
}

/// Milliseconds for `PX`/`PEXPIRE`: at least 1, since Redis refuses 0.
pub(crate) fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis())
        .unwrap_or(u64::MAX)
        .max(1)
}

/// A non-negative millisecond count from Redis as a duration.
pub(crate) fn from_millis(millis: i64) -> Duration {
    Duration::from_millis(u64::try_from(millis).unwrap_or(0))
}

/// Errors from getting a pooled connection: all mean Redis cannot be used right now.
fn pool_error(error: PoolError) -> DependencyError {
    match error {
        PoolError::Timeout(kind) => {
            DependencyError::Unavailable(format!("redis pool timed out ({kind:?})"))
        }
        PoolError::Backend(error) => {
            DependencyError::Unavailable(format!("cannot connect to redis: {}", error))
        }
        PoolError::Closed => DependencyError::Unavailable("redis pool is closed".into()),
        PoolError::NoRuntimeSpecified => {
            DependencyError::Failed("redis pool has no runtime".into())
        }
        PoolError::PostCreateHook(error) => {
            DependencyError::Unavailable(format!("redis connection setup failed: {error}"))
        }
    }
}

/// Connection and server-availability errors are `Unavailable`; a reply of the wrong shape (or a
/// permanent server error) is `Failed`.
pub(crate) fn redis_error(error: &RedisError) -> DependencyError {
    let message = format!("redis: {}", error);
    match error.kind() {
        ErrorKind::Parse | ErrorKind::UnexpectedReturnType => DependencyError::Failed(message),
        ErrorKind::Io | ErrorKind::AuthenticationFailed | ErrorKind::InvalidClientConfig => {
            DependencyError::Unavailable(message)
        }
        _ if error.is_io_error()
            || error.is_connection_dropped()
            || error.is_timeout()
            || !matches!(error.retry_method(), RetryMethod::NoRetry) =>
        {
            DependencyError::Unavailable(message)
        }
        _ => DependencyError::Failed(message),
    }
}

/// Where the password sits in a URL's user info (the whole user info if it has no `:`).
fn password_range(url: &str) -> Option<Range<usize>> {
    let authority_start = url.find("://")? + 3;
    let authority_end = url[authority_start..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |end| authority_start + end);
    let user_info_end = authority_start + url[authority_start..authority_end].rfind('@')?;
    let user_info = &url[authority_start..user_info_end];
    let start = user_info
        .find(':')
        .map_or(authority_start, |colon| authority_start + colon + 1);
    (start < user_info_end).then_some(start..user_info_end)
}

/// The password in a URL, if any.
fn password_of(url: &str) -> Option<&str> {
    password_range(url).map(|range| &url[range])
}

/// The URL with its password replaced by `***`.
pub(crate) fn redact_url(url: &str) -> String {
    match password_range(url) {
        Some(range) => format!("{}***{}", &url[..range.start], &url[range.end..]),
        None => url.to_owned(),
    }
}

/// Removes the password (and the URL carrying it) from a message.
fn scrub(message: &str, url: &str, secret: Option<&str>) -> String {
    match secret {
        Some(secret) => message
            .replace(url, &redact_url(url))
            .replace(secret, "***"),
        None => message.to_owned(),
    }
}

/// Removes the password of the configured URL from a message.
pub(crate) fn scrub_settings(message: &str, settings: &RedisSettings) -> String {
    scrub(message, &settings.url, password_of(&settings.url))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_found_and_redacted() {
        assert_eq!(password_of("redis://user:pw@host:6379/0"), Some("pw"));
        assert_eq!(password_of("redis://:pw@host"), Some("pw"));
        assert_eq!(password_of("redis://host:6379"), None);
        assert_eq!(password_of("redis://host/a@b"), None);
        assert_eq!(
            redact_url("redis://user:pw@host:6379/0"),
            "redis://user:***@host:6379/0"
        );
        assert_eq!(redact_url("redis://host:6379"), "redis://host:6379");
        assert_eq!(redact_url("redis://pw:pw@host"), "redis://pw:***@host");
        assert_eq!(redact_url("redis://secret@host"), "redis://***@host");
        assert_eq!(
            scrub("bad redis://u:pw@h and pw", "redis://u:pw@h", Some("pw")),
            "bad redis://u:***@h and ***"
        );
    }

    #[tokio::test]
    async fn a_silent_redis_costs_one_timeout_for_connecting_and_the_command_together() {
        // Accepts connections and never answers: a frozen server. The thread holds the sockets
        // until the test process ends.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let address = listener.local_addr().expect("address");
        std::thread::spawn(move || {
            let held: Vec<_> = listener.incoming().collect();
            drop(held);
        });
        let timeout = Duration::from_millis(500);
        let client = Client::new(&RedisSettings {
            url: format!("redis://{address}"),
            key_prefix: "test:".into(),
            max_connections: 1,
            timeout,
        })
        .expect("pool");
        let started = std::time::Instant::now();
        let ping = || {
            client.bounded("ping", |mut connection| async move {
                deadpool_redis::redis::cmd("PING")
                    .query_async::<String>(&mut connection)
                    .await
                    .map_err(|error| redis_error(&error))
            })
        };
        let (first, second, third) = tokio::join!(ping(), ping(), ping());
        for outcome in [first, second, third] {
            assert!(
                matches!(outcome, Err(DependencyError::Unavailable(_))),
                "{outcome:?}"
            );
        }
        let took = started.elapsed();
        assert!(took >= timeout, "gave up early: {took:?}");
        assert!(
            took < timeout * 3 / 2,
            "took {took:?} for a {timeout:?} budget"
        );
    }

    #[test]
    fn durations_are_clamped_to_valid_millis() {
        assert_eq!(millis(Duration::ZERO), 1);
        assert_eq!(millis(Duration::from_secs(2)), 2000);
        assert_eq!(from_millis(-2), Duration::ZERO);
        assert_eq!(from_millis(1500), Duration::from_millis(1500));
    }
}
