//! `SessionRevocations`: marks of revoked sessions (`{prefix}revoked:{session}`) and of changed
//! users (`{prefix}user-changed:{user}`), each a key that expires when the mark lapses, so a
//! mark costs nothing once no access token it could refuse is still valid.

use crate::RedisSharedState;
use crate::client::{Client, redis_error};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deadpool_redis::redis;
use reserva_application::DependencyError;
use reserva_application::ports::shared_state::{AccessMarks, SessionRevocations};
use reserva_domain::accounts::{SessionId, UserId};

/// Sets a mark that lapses at `until`, or moves an existing mark's lapse later (never earlier):
/// `SET NX PXAT` then `PEXPIREAT GT`, pipelined in one round trip.
async fn mark_until(
    client: &Client,
    what: &str,
    key: String,
    until: DateTime<Utc>,
) -> Result<(), DependencyError> {
    if until <= Utc::now() {
        return Ok(());
    }
    let until_ms = until.timestamp_millis();
    client
        .bounded(what, |mut connection| async move {
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

#[async_trait]
impl SessionRevocations for RedisSharedState {
    async fn revoke(
        &self,
        session: SessionId,
        until: DateTime<Utc>,
    ) -> Result<(), DependencyError> {
        let key = self.client.key("revoked", &session.to_string());
        mark_until(&self.client, "revoke", key, until).await
    }

    async fn mark_user_changed(
        &self,
        user: UserId,
        until: DateTime<Utc>,
    ) -> Result<(), DependencyError> {
        let key = self.client.key("user-changed", &user.to_string());
        mark_until(&self.client, "mark_user_changed", key, until).await
    }

    async fn access_marks(
        &self,
        session: SessionId,
        user: UserId,
    ) -> Result<AccessMarks, DependencyError> {
        let keys = [
            self.client.key("revoked", &session.to_string()),
            self.client.key("user-changed", &user.to_string()),
        ];
        let [session_mark, user_mark]: [Option<String>; 2] = self
            .client
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
