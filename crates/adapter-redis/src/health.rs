//! `HealthProbe`: whether Redis answers, for readiness checks and for the `PING` on connect.

use crate::RedisSharedState;
use crate::client::redis_error;
use async_trait::async_trait;
use deadpool_redis::redis;
use reserva_application::DependencyError;
use reserva_application::ports::system::HealthProbe;

#[async_trait]
impl HealthProbe for RedisSharedState {
    fn component(&self) -> &'static str {
        "shared_state"
    }

    async fn ping(&self) -> Result<(), DependencyError> {
        let reply: String = self
            .client
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
