//! Redis shared state for several instances of the service: a compare-and-delete lock,
//! fixed-window rate-limit counters, the marks of revoked sessions and changed users,
//! idempotency records, and the concerts' waiting rooms.
//!
//! Every key carries the configured prefix (`{prefix}lock:{name}`, `{prefix}rate:{key}`,
//! `{prefix}revoked:{session}`, `{prefix}user-changed:{user}`, `{prefix}idem:{key}`,
//! `{prefix}{room:<concert>}:<part>`), so several deployments can share one Redis. Every
//! operation is bounded by the configured timeout: a hung Redis yields
//! [`DependencyError::Unavailable`], never a hang. Multi-step operations run as Lua scripts, so
//! they are atomic across instances.
//!
//! Each port lives in its own module over [`client`]'s connection; this file only wires them to
//! the one public store type.

mod client;
mod health;
mod idempotency;
mod locks;
mod rate_limits;
mod sessions;
mod waiting_room;

use reserva_application::DependencyError;
use reserva_application::ports::system::HealthProbe;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

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
            .field("url", &client::redact_url(&self.url))
            .field("key_prefix", &self.key_prefix)
            .field("max_connections", &self.max_connections)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// Shared state in Redis. Cloning is cheap: clones share the connection pool.
#[derive(Clone)]
pub struct RedisSharedState {
    client: Arc<client::Client>,
    /// This instance's value for the marks-rebuild claim: the epoch is set only while the claim
    /// still holds it (see `sessions.rs`).
    rebuild_token: Arc<str>,
}

impl fmt::Debug for RedisSharedState {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("RedisSharedState")
            .field("key_prefix", &self.client.key_prefix)
            .field("timeout", &self.client.timeout)
            .field("pool", &self.client.pool.status())
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
        let state = Self {
            client: Arc::new(client::Client::new(settings)?),
            rebuild_token: uuid::Uuid::new_v4().simple().to_string().into(),
        };
        state.ping().await.map_err(|error| match error {
            DependencyError::Unavailable(message)
            | DependencyError::Failed(message)
            | DependencyError::Indeterminate(message) => DependencyError::Unavailable(
                client::scrub_settings(&format!("redis did not answer PING: {message}"), settings),
            ),
        })?;
        tracing::debug!(url = %client::redact_url(&settings.url), "connected to redis");
        Ok(state)
    }
}
