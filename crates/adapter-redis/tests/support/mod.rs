//! Helpers shared by the Redis integration tests.

#![allow(dead_code)]

use reserva_adapter_redis::{RedisSettings, RedisSharedState};
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
pub async fn connect() -> RedisSharedState {
    connect_with(&settings()).await
}

/// Connects with the given settings; panics (fails the test) if Redis is not reachable.
pub async fn connect_with(settings: &RedisSettings) -> RedisSharedState {
    RedisSharedState::connect(settings)
        .await
        .unwrap_or_else(|error| panic!("redis at {} is required: {error}", redis_url()))
}
