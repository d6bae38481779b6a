//! Helpers shared by the Redis integration tests.
//!
//! Every test gets a fresh random key prefix and a [`TestRedis`] that deletes the keys under it
//! when dropped: the marks, replays and counters the tests write live for minutes to an hour, so
//! without this each run would leave its keys behind in the shared Redis.

#![allow(
    dead_code,
    reason = "each test binary uses a different part; `expect` would be unfulfilled in one"
)]

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deadpool_redis::redis::{self, Commands};
use reserva_adapter_redis::{RedisSettings, RedisSharedState};
use reserva_application::DependencyError;
use reserva_application::ports::shared_state::{
    AccessMarks, ClaimToken, DistributedLock, IdempotencyClaim, IdempotencyRecords, LockToken,
    RateLimiter, RecordedResponse, SessionRevocations, WindowCount,
};
use reserva_application::ports::waiting_room::{
    QueuePlace, QueueToken, RoomError, RoomInventory, RoomRules, WaitingRoom,
};
use reserva_domain::accounts::{SessionId, UserId};
use reserva_domain::tickets::{ConcertId, HoldId};
use std::ops::Deref;
use std::time::Duration;

/// The Redis the tests run against.
pub fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// Settings with a fresh random key prefix, so tests never see each other's keys.
pub fn settings() -> RedisSettings {
    RedisSettings {
        url: redis_url(),
        key_prefix: format!("test:{}:", uuid::Uuid::new_v4()),
        max_connections: 8,
        timeout: Duration::from_secs(2),
    }
}

/// Connects with [`settings`]; panics (fails the test) if Redis is not reachable.
pub async fn connect() -> TestRedis {
    connect_with(&settings()).await
}

/// Connects with the given settings; panics (fails the test) if Redis is not reachable.
pub async fn connect_with(settings: &RedisSettings) -> TestRedis {
    let state = RedisSharedState::connect(settings)
        .await
        .unwrap_or_else(|error| panic!("redis at {} is required: {error}", redis_url()));
    TestRedis {
        state,
        prefix: settings.key_prefix.clone(),
    }
}

/// A store that deletes every key under its prefix when dropped, also when its test panics.
#[derive(Debug)]
pub struct TestRedis {
    state: RedisSharedState,
    prefix: String,
}

impl Deref for TestRedis {
    type Target = RedisSharedState;

    fn deref(&self) -> &RedisSharedState {
        &self.state
    }
}

impl Drop for TestRedis {
    fn drop(&mut self) {
        // Drop cannot await, and the test's runtime may be shutting down: a blocking connection
        // of its own is the one thing that works here.
        let dropped = drop_keys(&format!("{}*", self.prefix));
        if let Err(error) = dropped
            && !std::thread::panicking()
        {
            panic!("could not delete the keys under {}: {error}", self.prefix);
        }
    }
}

/// Deletes every key matching `pattern`.
fn drop_keys(pattern: &str) -> redis::RedisResult<()> {
    let client = redis::Client::open(redis_url())?;
    let mut connection = client.get_connection_with_timeout(Duration::from_secs(2))?;
    let keys = connection
        .scan_match::<_, String>(pattern)?
        .collect::<redis::RedisResult<Vec<_>>>()?;
    if !keys.is_empty() {
        connection.del::<_, ()>(keys)?;
    }
    Ok(())
}

// The conformance suite takes the store by its port traits, which `Deref` does not reach: each
// is forwarded to the wrapped store.

#[async_trait]
impl DistributedLock for TestRedis {
    async fn try_acquire(
        &self,
        name: &str,
        ttl: Duration,
    ) -> Result<Option<LockToken>, DependencyError> {
        self.state.try_acquire(name, ttl).await
    }

    async fn release(&self, name: &str, token: &LockToken) -> Result<bool, DependencyError> {
        self.state.release(name, token).await
    }
}

#[async_trait]
impl RateLimiter for TestRedis {
    async fn peek(&self, key: &str) -> Result<WindowCount, DependencyError> {
        self.state.peek(key).await
    }

    async fn hit(&self, key: &str, window: Duration) -> Result<WindowCount, DependencyError> {
        self.state.hit(key, window).await
    }

    async fn withdraw(&self, key: &str) -> Result<(), DependencyError> {
        self.state.withdraw(key).await
    }
}

#[async_trait]
impl SessionRevocations for TestRedis {
    async fn revoke(
        &self,
        session: SessionId,
        until: DateTime<Utc>,
    ) -> Result<(), DependencyError> {
        self.state.revoke(session, until).await
    }

    async fn mark_user_changed(
        &self,
        user: UserId,
        until: DateTime<Utc>,
    ) -> Result<(), DependencyError> {
        self.state.mark_user_changed(user, until).await
    }

    async fn access_marks(
        &self,
        session: SessionId,
        user: UserId,
    ) -> Result<AccessMarks, DependencyError> {
        self.state.access_marks(session, user).await
    }

    async fn marks_lost(&self) -> Result<bool, DependencyError> {
        self.state.marks_lost().await
    }

    async fn claim_rebuild(&self, ttl: Duration) -> Result<bool, DependencyError> {
        self.state.claim_rebuild(ttl).await
    }

    async fn restore_marks(
        &self,
        sessions: &[(SessionId, DateTime<Utc>)],
        users: &[(UserId, DateTime<Utc>)],
    ) -> Result<(), DependencyError> {
        self.state.restore_marks(sessions, users).await
    }
}

#[async_trait]
impl IdempotencyRecords for TestRedis {
    async fn claim(
        &self,
        key: &str,
        fingerprint: &str,
        in_flight_for: Duration,
    ) -> Result<IdempotencyClaim, DependencyError> {
        self.state.claim(key, fingerprint, in_flight_for).await
    }

    async fn renew(
        &self,
        key: &str,
        token: &ClaimToken,
        in_flight_for: Duration,
    ) -> Result<bool, DependencyError> {
        self.state.renew(key, token, in_flight_for).await
    }

    async fn complete(
        &self,
        key: &str,
        token: &ClaimToken,
        response: &RecordedResponse,
        keep_for: Duration,
    ) -> Result<bool, DependencyError> {
        self.state.complete(key, token, response, keep_for).await
    }

    async fn abandon(&self, key: &str, token: &ClaimToken) -> Result<(), DependencyError> {
        self.state.abandon(key, token).await
    }
}

#[async_trait]
impl WaitingRoom for TestRedis {
    async fn join(
        &self,
        concert: ConcertId,
        user: UserId,
        new_token: QueueToken,
        now: DateTime<Utc>,
        rules: RoomRules,
    ) -> Result<QueuePlace, RoomError> {
        self.state.join(concert, user, new_token, now, rules).await
    }

    async fn poll(
        &self,
        token: &QueueToken,
        user: UserId,
        now: DateTime<Utc>,
        rules: RoomRules,
    ) -> Result<Option<QueuePlace>, RoomError> {
        self.state.poll(token, user, now, rules).await
    }

    async fn finish(
        &self,
        token: &QueueToken,
        user: UserId,
        now: DateTime<Utc>,
        rules: RoomRules,
    ) -> Result<bool, DependencyError> {
        self.state.finish(token, user, now, rules).await
    }

    async fn set_inventory(
        &self,
        concert: ConcertId,
        inventory: &RoomInventory,
    ) -> Result<(), DependencyError> {
        self.state.set_inventory(concert, inventory).await
    }

    async fn hold_recorded(
        &self,
        concert: ConcertId,
        hold: HoldId,
        expires_at: DateTime<Utc>,
    ) -> Result<(), DependencyError> {
        self.state.hold_recorded(concert, hold, expires_at).await
    }

    async fn hold_released(&self, concert: ConcertId, hold: HoldId) -> Result<(), DependencyError> {
        self.state.hold_released(concert, hold).await
    }

    async fn sale_recorded(&self, concert: ConcertId, hold: HoldId) -> Result<(), DependencyError> {
        self.state.sale_recorded(concert, hold).await
    }

    async fn close(&self, concert: ConcertId) -> Result<(), DependencyError> {
        self.state.close(concert).await
    }
}
