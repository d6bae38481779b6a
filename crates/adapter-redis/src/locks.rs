//! `DistributedLock`: `SET NX PX` with a random token, released by compare-and-delete so an
//! expired holder can never release its successor's lock. Keys: `{prefix}lock:{name}`.

use crate::RedisSharedState;
use crate::client::{COMPARE_AND_DELETE, millis, redis_error};
use async_trait::async_trait;
use deadpool_redis::redis;
use reserva_application::DependencyError;
use reserva_application::ports::shared_state::{DistributedLock, LockToken};
use std::time::Duration;

#[async_trait]
impl DistributedLock for RedisSharedState {
    async fn try_acquire(
        &self,
        name: &str,
        ttl: Duration,
    ) -> Result<Option<LockToken>, DependencyError> {
        let key = self.client.key("lock", name);
        let token = uuid::Uuid::new_v4().to_string();
        let value = token.as_str();
        let reply: Option<String> = self
            .client
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
        let key = self.client.key("lock", name);
        let deleted: i64 = self
            .client
            .bounded("release", |mut connection| async move {
                COMPARE_AND_DELETE
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
