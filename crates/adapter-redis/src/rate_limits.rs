//! `RateLimiter`: fixed-window counters, `INCR` plus an expiry set by the first hit of a window,
//! in one Lua script so concurrent hits from several instances count exactly; a withdrawal is a
//! script too. Keys: `{prefix}rate:{key}`.

use crate::RedisSharedState;
use crate::client::{from_millis, millis, redis_error};
use async_trait::async_trait;
use deadpool_redis::redis::{self, Script};
use reserva_application::DependencyError;
use reserva_application::ports::shared_state::{RateLimiter, WindowCount};
use std::sync::LazyLock;
use std::time::Duration;

/// Counts a hit; the first hit (or a counter that somehow lost its expiry) starts the window.
static HIT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        "local n = redis.call('INCR', KEYS[1]) \
         if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end \
         local ttl = redis.call('PTTL', KEYS[1]) \
         if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) ttl = tonumber(ARGV[1]) end \
         return {n, ttl}",
    )
});

/// Takes one hit back, only from a live window and never below zero: a `DECR` on a key that
/// just expired would recreate it at -1 with no expiry.
static WITHDRAW: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        "local n = tonumber(redis.call('GET', KEYS[1])) \
         if n and n > 0 then redis.call('DECR', KEYS[1]) end \
         return 0",
    )
});

fn hits_from(count: i64) -> Result<u32, DependencyError> {
    u32::try_from(count).map_err(|_| {
        DependencyError::Failed(format!("redis returned an invalid hit count {count}"))
    })
}

#[async_trait]
impl RateLimiter for RedisSharedState {
    async fn peek(&self, key: &str) -> Result<WindowCount, DependencyError> {
        let key = self.client.key("rate", key);
        let (hits, ttl): (Option<i64>, i64) = self
            .client
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
        let key = self.client.key("rate", key);
        let (hits, ttl): (i64, i64) = self
            .client
            .bounded("hit", |mut connection| async move {
                HIT.key(&key)
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

    async fn withdraw(&self, key: &str) -> Result<(), DependencyError> {
        let key = self.client.key("rate", key);
        self.client
            .bounded("withdraw", |mut connection| async move {
                WITHDRAW
                    .key(&key)
                    .invoke_async::<i64>(&mut connection)
                    .await
                    .map(drop)
                    .map_err(|error| redis_error(&error))
            })
            .await
    }
}
