//! Redis shared state for several instances of the service: a compare-and-delete lock,
//! fixed-window rate-limit counters, the marks of revoked sessions and changed users, and
//! idempotency records.
//!
//! Every key carries the configured prefix (`{prefix}lock:{name}`, `{prefix}rate:{key}`,
//! `{prefix}revoked:{session}`, `{prefix}user-changed:{user}`, `{prefix}idem:{key}`), so several deployments can share one Redis. Every operation is
//! bounded by the configured timeout: a hung Redis yields [`DependencyError::Unavailable`], never
//! a hang. Multi-step operations run as Lua scripts, so they are atomic across instances.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deadpool_redis::redis::aio::MultiplexedConnection;
use deadpool_redis::redis::{self, ErrorKind, RedisError, RetryMethod, Script};
use deadpool_redis::{Config, Connection, Pool, PoolConfig, PoolError, Runtime, Timeouts};
use reserva_application::DependencyError;
use reserva_application::ports::shared_state::{
    AccessMarks, ClaimToken, DistributedLock, IdempotencyClaim, IdempotencyRecords, LockToken,
    RateLimiter, RecordedResponse, SessionRevocations, WindowCount,
};
use reserva_application::ports::system::HealthProbe;
use reserva_domain::accounts::{SessionId, UserId};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::future::Future;
use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

/// Deletes the lock only if it still holds the caller's token.
const RELEASE_SCRIPT: &str = "if redis.call('GET', KEYS[1]) == ARGV[1] then \
     return redis.call('DEL', KEYS[1]) else return 0 end";

/// Counts a hit; the first hit (or a counter that somehow lost its expiry) starts the window.
const HIT_SCRIPT: &str = "local n = redis.call('INCR', KEYS[1]) \
     if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end \
     local ttl = redis.call('PTTL', KEYS[1]) \
     if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) ttl = tonumber(ARGV[1]) end \
     return {n, ttl}";

/// Replaces an in-flight idempotency record (`ARGV[1]`, exactly as stored) with the finished one.
const COMPLETE_SCRIPT: &str = "if redis.call('GET', KEYS[1]) == ARGV[1] then \
     redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) return 1 else return 0 end";

/// Extends an in-flight idempotency record's expiry (`ARGV[2]` ms) if it is still `ARGV[1]`.
const RENEW_SCRIPT: &str = "if redis.call('GET', KEYS[1]) == ARGV[1] then \
     return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end";

/// An idempotency record as stored: JSON, short field names.
#[derive(Debug, Serialize, Deserialize)]
struct IdempotencyRecord {
    #[serde(rename = "f")]
    fingerprint: String,
    /// Set while in flight: a random owner, so each claim's record is unique.
    #[serde(rename = "o", default, skip_serializing_if = "Option::is_none")]
    owner: Option<String>,
    #[serde(rename = "r", default, skip_serializing_if = "Option::is_none")]
    response: Option<StoredResponse>,
}

#[derive(Debug, Serialize, Deserialize)]
struct StoredResponse {
    #[serde(rename = "s")]
    status: u16,
    #[serde(rename = "h")]
    headers: Vec<(String, String)>,
    #[serde(rename = "b")]
    body: String,
}

/// How to reach Redis.
#[derive(Clone)]
pub struct RedisSettings {
    /// `redis://[user:password@]host:port[/db]`; may carry a password, so it is never printed.
    pub url: String,
    /// Prepended to every key, e.g. `reserva:`.
    pub key_prefix: String,
    /// Maximum number of pooled connections.
    pub max_connections: usize,
    /// Bound on waiting for, creating or recycling a connection, and on every command.
    pub timeout: Duration,
}

impl fmt::Debug for RedisSettings {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("RedisSettings")
            .field("url", &redact_url(&self.url))
            .field("key_prefix", &self.key_prefix)
            .field("max_connections", &self.max_connections)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// Shared state in Redis. Cloning is cheap: clones share the connection pool.
#[derive(Clone)]
pub struct RedisSharedState {
    pool: Pool,
    inner: Arc<Inner>,
}

struct Inner {
    /// The connection in use: one multiplexed connection pipelines every command of every
    /// request. It is taken from the pool once (so creating it honours the pool's timeouts) and
    /// replaced after a failure. A pooled connection per command would cost an extra round trip
    /// each time: deadpool-redis sends `UNWATCH` + `PING` whenever it recycles one.
    shared: std::sync::Mutex<Option<MultiplexedConnection>>,
    key_prefix: String,
    timeout: Duration,
    release: Script,
    hit: Script,
    complete: Script,
    renew: Script,
}

impl fmt::Debug for RedisSharedState {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("RedisSharedState")
            .field("key_prefix", &self.inner.key_prefix)
            .field("timeout", &self.inner.timeout)
            .field("pool", &self.pool.status())
            .finish_non_exhaustive()
    }
}

impl RedisSharedState {
    /// Builds the connection pool and checks that Redis answers a `PING`.
    ///
    /// # Errors
    /// [`DependencyError::Unavailable`] if the URL is invalid or Redis does not answer in time.
    /// Messages never contain the password.
    pub async fn connect(settings: &RedisSettings) -> Result<Self, DependencyError> {
        let secret = password_of(&settings.url);
        let scrub = |message: String| scrub(&message, &settings.url, secret);
        let mut pool_config = PoolConfig::new(settings.max_connections.max(1));
        pool_config.timeouts = Timeouts {
            wait: Some(settings.timeout),
            create: Some(settings.timeout),
            recycle: Some(settings.timeout),
        };
        let mut config = Config::from_url(settings.url.clone());
        config.pool = Some(pool_config);
        let pool = config.create_pool(Some(Runtime::Tokio1)).map_err(|error| {
            DependencyError::Unavailable(scrub(format!("invalid redis configuration: {error}")))
        })?;
        let state = Self {
            pool,
            inner: Arc::new(Inner {
                shared: std::sync::Mutex::new(None),
                key_prefix: settings.key_prefix.clone(),
                timeout: settings.timeout,
                release: Script::new(RELEASE_SCRIPT),
                hit: Script::new(HIT_SCRIPT),
                complete: Script::new(COMPLETE_SCRIPT),
                renew: Script::new(RENEW_SCRIPT),
            }),
        };
        state.ping().await.map_err(|error| match error {
            DependencyError::Unavailable(message)
            | DependencyError::Failed(message)
            | DependencyError::Indeterminate(message) => {
                DependencyError::Unavailable(scrub(format!("redis did not answer PING: {message}")))
            }
        })?;
        tracing::debug!(url = %redact_url(&settings.url), "connected to redis");
        Ok(state)
    }

    fn key(&self, kind: &str, name: &str) -> String {
        format!("{}{kind}:{name}", self.inner.key_prefix)
    }

    /// The shared multiplexed connection, opening one through the pool if there is none.
    async fn connection(&self) -> Result<MultiplexedConnection, DependencyError> {
        let current = self
            .inner
            .shared
            .lock()
            .map_err(|_| DependencyError::Failed("redis connection lock poisoned".into()))?
            .clone();
        if let Some(connection) = current {
            return Ok(connection);
        }
        let fresh = Connection::take(self.pool.get().await.map_err(pool_error)?);
        if let Ok(mut shared) = self.inner.shared.lock() {
            *shared = Some(fresh.clone());
        }
        Ok(fresh)
    }

    /// Forgets the shared connection after a failure, so the next command opens a new one.
    fn discard_connection(&self) {
        if let Ok(mut shared) = self.inner.shared.lock() {
            *shared = None;
        }
    }

    /// Runs `operation` on the shared connection within the configured timeout.
    async fn bounded<T, F, Fut>(&self, what: &str, operation: F) -> Result<T, DependencyError>
    where
        F: FnOnce(MultiplexedConnection) -> Fut,
        Fut: Future<Output = Result<T, DependencyError>>,
    {
        let timeout = self.inner.timeout;
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
fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis())
        .unwrap_or(u64::MAX)
        .max(1)
}

/// A non-negative millisecond count from Redis as a duration.
fn from_millis(millis: i64) -> Duration {
    Duration::from_millis(u64::try_from(millis).unwrap_or(0))
}

fn hits_from(count: i64) -> Result<u32, DependencyError> {
    u32::try_from(count).map_err(|_| {
        DependencyError::Failed(format!("redis returned an invalid hit count {count}"))
    })
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
fn redis_error(error: &RedisError) -> DependencyError {
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
fn redact_url(url: &str) -> String {
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

#[async_trait]
impl DistributedLock for RedisSharedState {
    async fn try_acquire(
        &self,
        name: &str,
        ttl: Duration,
    ) -> Result<Option<LockToken>, DependencyError> {
        let key = self.key("lock", name);
        let token = uuid::Uuid::new_v4().to_string();
        let value = token.as_str();
        let reply: Option<String> = self
            .bounded("try_acquire", |mut connection| async move {
                redis::cmd("SET")
                    .arg(&key)
                    .arg(value)
                    .arg("NX")
                    .arg("PX")
                    .arg(millis(ttl))
                    .query_async(&mut connection)
                    .await
                    .map_err(|error| redis_error(&error))
            })
            .await?;
        match reply.as_deref() {
            None => Ok(None),
            Some("OK") => Ok(Some(LockToken::new(token))),
            Some(other) => Err(DependencyError::Failed(format!(
                "redis SET NX answered {other:?}"
            ))),
        }
    }

    async fn release(&self, name: &str, token: &LockToken) -> Result<bool, DependencyError> {
        let key = self.key("lock", name);
        let deleted: i64 = self
            .bounded("release", |mut connection| async move {
                self.inner
                    .release
                    .key(&key)
                    .arg(token.as_str())
                    .invoke_async(&mut connection)
                    .await
                    .map_err(|error| redis_error(&error))
            })
            .await?;
        Ok(deleted == 1)
    }
}

#[async_trait]
impl RateLimiter for RedisSharedState {
    async fn peek(&self, key: &str) -> Result<WindowCount, DependencyError> {
        let key = self.key("rate", key);
        let (hits, ttl): (Option<i64>, i64) = self
            .bounded("peek", |mut connection| async move {
                redis::pipe()
                    .atomic()
                    .cmd("GET")
                    .arg(&key)
                    .cmd("PTTL")
                    .arg(&key)
                    .query_async(&mut connection)
                    .await
                    .map_err(|error| redis_error(&error))
            })
            .await?;
        Ok(match hits {
            Some(hits) => WindowCount {
                hits: hits_from(hits)?,
                resets_in: from_millis(ttl),
            },
            None => WindowCount {
                hits: 0,
                resets_in: Duration::ZERO,
            },
        })
    }

    async fn hit(&self, key: &str, window: Duration) -> Result<WindowCount, DependencyError> {
        let key = self.key("rate", key);
        let (hits, ttl): (i64, i64) = self
            .bounded("hit", |mut connection| async move {
                self.inner
                    .hit
                    .key(&key)
                    .arg(millis(window))
                    .invoke_async(&mut connection)
                    .await
                    .map_err(|error| redis_error(&error))
            })
            .await?;
        Ok(WindowCount {
            hits: hits_from(hits)?,
            resets_in: from_millis(ttl),
        })
    }

    async fn reset(&self, key: &str) -> Result<(), DependencyError> {
        let key = self.key("rate", key);
        self.bounded("reset", |mut connection| async move {
            redis::cmd("DEL")
                .arg(&key)
                .query_async::<i64>(&mut connection)
                .await
                .map(drop)
                .map_err(|error| redis_error(&error))
        })
        .await
    }
}

impl RedisSharedState {
    /// Sets a mark that lapses at `until`, or moves an existing mark's lapse later (never
    /// earlier): `SET NX PXAT` then `PEXPIREAT GT`, pipelined in one round trip.
    async fn mark_until(
        &self,
        what: &str,
        key: String,
        until: DateTime<Utc>,
    ) -> Result<(), DependencyError> {
        if until <= Utc::now() {
            return Ok(());
        }
        let until_ms = until.timestamp_millis();
        self.bounded(what, |mut connection| async move {
            redis::pipe()
                .cmd("SET")
                .arg(&key)
                .arg(1)
                .arg("PXAT")
                .arg(until_ms)
                .arg("NX")
                .ignore()
                .cmd("PEXPIREAT")
                .arg(&key)
                .arg(until_ms)
                .arg("GT")
                .ignore()
                .query_async::<()>(&mut connection)
                .await
                .map_err(|error| redis_error(&error))
        })
        .await
    }
}

#[async_trait]
impl SessionRevocations for RedisSharedState {
    async fn revoke(
        &self,
        session: SessionId,
        until: DateTime<Utc>,
    ) -> Result<(), DependencyError> {
        let key = self.key("revoked", &session.to_string());
        self.mark_until("revoke", key, until).await
    }

    async fn mark_user_changed(
        &self,
        user: UserId,
        until: DateTime<Utc>,
    ) -> Result<(), DependencyError> {
        let key = self.key("user-changed", &user.to_string());
        self.mark_until("mark_user_changed", key, until).await
    }

    async fn access_marks(
        &self,
        session: SessionId,
        user: UserId,
    ) -> Result<AccessMarks, DependencyError> {
        let keys = [
            self.key("revoked", &session.to_string()),
            self.key("user-changed", &user.to_string()),
        ];
        let [session_mark, user_mark]: [Option<String>; 2] = self
            .bounded("access_marks", |mut connection| async move {
                redis::cmd("MGET")
                    .arg(&keys)
                    .query_async(&mut connection)
                    .await
                    .map_err(|error| redis_error(&error))
            })
            .await?;
        Ok(AccessMarks {
            session_revoked: session_mark.is_some(),
            user_changed: user_mark.is_some(),
        })
    }
}

fn encode(record: &IdempotencyRecord) -> Result<String, DependencyError> {
    serde_json::to_string(record)
        .map_err(|error| DependencyError::Failed(format!("idempotency record: {error}")))
}

#[async_trait]
impl IdempotencyRecords for RedisSharedState {
    async fn claim(
        &self,
        key: &str,
        fingerprint: &str,
        in_flight_for: Duration,
    ) -> Result<IdempotencyClaim, DependencyError> {
        let key = self.key("idem", key);
        let in_flight = encode(&IdempotencyRecord {
            fingerprint: fingerprint.to_owned(),
            owner: Some(uuid::Uuid::new_v4().simple().to_string()),
            response: None,
        })?;
        let value = in_flight.clone();
        let previous: Option<String> = self
            .bounded("idempotency claim", |mut connection| async move {
                redis::cmd("SET")
                    .arg(&key)
                    .arg(&value)
                    .arg("NX")
                    .arg("PX")
                    .arg(millis(in_flight_for))
                    .arg("GET")
                    .query_async(&mut connection)
                    .await
                    .map_err(|error| redis_error(&error))
            })
            .await?;
        let Some(previous) = previous else {
            return Ok(IdempotencyClaim::Claimed(ClaimToken::new(in_flight)));
        };
        let record: IdempotencyRecord = serde_json::from_str(&previous).map_err(|error| {
            DependencyError::Failed(format!("unreadable idempotency record: {error}"))
        })?;
        Ok(if record.fingerprint != fingerprint {
            IdempotencyClaim::Mismatch
        } else if let Some(stored) = record.response {
            IdempotencyClaim::Replay(RecordedResponse {
                status: stored.status,
                headers: stored.headers,
                body: stored.body,
            })
        } else {
            IdempotencyClaim::InFlight
        })
    }

    async fn renew(
        &self,
        key: &str,
        token: &ClaimToken,
        in_flight_for: Duration,
    ) -> Result<bool, DependencyError> {
        let key = self.key("idem", key);
        let script = &self.inner.renew;
        self.bounded("idempotency renew", |mut connection| async move {
            script
                .key(&key)
                .arg(token.as_str())
                .arg(millis(in_flight_for))
                .invoke_async::<i64>(&mut connection)
                .await
                .map(|renewed| renewed == 1)
                .map_err(|error| redis_error(&error))
        })
        .await
    }

    async fn complete(
        &self,
        key: &str,
        token: &ClaimToken,
        response: &RecordedResponse,
        keep_for: Duration,
    ) -> Result<bool, DependencyError> {
        let claimed: IdempotencyRecord = serde_json::from_str(token.as_str())
            .map_err(|error| DependencyError::Failed(format!("foreign claim token: {error}")))?;
        let done = encode(&IdempotencyRecord {
            fingerprint: claimed.fingerprint,
            owner: None,
            response: Some(StoredResponse {
                status: response.status,
                headers: response.headers.clone(),
                body: response.body.clone(),
            }),
        })?;
        let key = self.key("idem", key);
        let script = &self.inner.complete;
        self.bounded("idempotency complete", |mut connection| async move {
            script
                .key(&key)
                .arg(token.as_str())
                .arg(&done)
                .arg(millis(keep_for))
                .invoke_async::<i64>(&mut connection)
                .await
                .map(|written| written == 1)
                .map_err(|error| redis_error(&error))
        })
        .await
    }

    async fn abandon(&self, key: &str, token: &ClaimToken) -> Result<(), DependencyError> {
        let key = self.key("idem", key);
        let script = &self.inner.release;
        self.bounded("idempotency abandon", |mut connection| async move {
            script
                .key(&key)
                .arg(token.as_str())
                .invoke_async::<i64>(&mut connection)
                .await
                .map(drop)
                .map_err(|error| redis_error(&error))
        })
        .await
    }
}

#[async_trait]
impl HealthProbe for RedisSharedState {
    fn component(&self) -> &'static str {
        "shared_state"
    }

    async fn ping(&self) -> Result<(), DependencyError> {
        let reply: String = self
            .bounded("ping", |mut connection| async move {
                redis::cmd("PING")
                    .query_async(&mut connection)
                    .await
                    .map_err(|error| redis_error(&error))
            })
            .await?;
        if reply == "PONG" {
            Ok(())
        } else {
            Err(DependencyError::Failed(format!(
                "redis PING answered {reply:?}"
            )))
        }
    }
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

    #[test]
    fn durations_are_clamped_to_valid_millis() {
        assert_eq!(millis(Duration::ZERO), 1);
        assert_eq!(millis(Duration::from_secs(2)), 2000);
        assert_eq!(from_millis(-2), Duration::ZERO);
        assert_eq!(from_millis(1500), Duration::from_millis(1500));
    }
}
