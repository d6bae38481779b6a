//! `SessionRevocations`: marks of revoked sessions (`{prefix}revoked:{session}`) and of changed
//! users (`{prefix}user-changed:{user}`), each a key that expires when the mark lapses, so a
//! mark costs nothing once no access token it could refuse is still valid.
//!
//! The marks epoch (`{prefix}marks:epoch`, no TTL) is set once the marks are complete (after a
//! rebuild from storage) and read in the same `MGET` as the marks: a Redis that restarted empty,
//! or was flushed, or evicted it, has no epoch, so every instance sees at once that absent marks
//! prove nothing. `{prefix}marks:rebuild` is the short claim of the one instance rebuilding.

use crate::RedisSharedState;
use crate::client::{Client, redis_error};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deadpool_redis::redis;
use reserva_application::DependencyError;
use reserva_application::ports::shared_state::{AccessMarks, SessionRevocations};
use reserva_domain::accounts::{SessionId, UserId};
use std::sync::LazyLock;
use std::time::Duration;

/// Marks written per round trip by a rebuild.
const RESTORE_CHUNK: usize = 500;

/// Sets the epoch (`KEYS[2]` := `ARGV[2]`) and gives back the rebuild claim (`KEYS[1]`) only if
/// the claim still holds this instance's token `ARGV[1]`; 1 if it did, else 0.
static SET_EPOCH_IF_CLAIMED: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        "if redis.call('GET', KEYS[1]) == ARGV[1] then \
         redis.call('SET', KEYS[2], ARGV[2]); redis.call('DEL', KEYS[1]); return 1 \
         else return 0 end",
    )
});

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
            self.client.key("marks", "epoch"),
        ];
        let [session_mark, user_mark, epoch]: [Option<String>; 3] = self
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
            marks_lost: epoch.is_none(),
        })
    }

    async fn marks_lost(&self) -> Result<bool, DependencyError> {
        let key = self.client.key("marks", "epoch");
        let present: i64 = self
            .client
            .bounded("marks_lost", |mut connection| async move {
                redis::cmd("EXISTS")
                    .arg(&key)
                    .query_async(&mut connection)
                    .await
                    .map_err(|error| redis_error(&error))
            })
            .await?;
        Ok(present == 0)
    }

    async fn claim_rebuild(&self, ttl: Duration) -> Result<bool, DependencyError> {
        let key = self.client.key("marks", "rebuild");
        let ttl_ms = crate::client::millis(ttl);
        let token = self.rebuild_token.clone();
        let set: Option<String> = self
            .client
            .bounded("claim_rebuild", |mut connection| async move {
                redis::cmd("SET")
                    .arg(&key)
                    .arg(&*token)
                    .arg("PX")
                    .arg(ttl_ms)
                    .arg("NX")
                    .query_async(&mut connection)
                    .await
                    .map_err(|error| redis_error(&error))
            })
            .await?;
        Ok(set.is_some())
    }

    async fn restore_marks(
        &self,
        sessions: &[(SessionId, DateTime<Utc>)],
        users: &[(UserId, DateTime<Utc>)],
    ) -> Result<(), DependencyError> {
        let now_ms = Utc::now().timestamp_millis();
        let marks: Vec<(String, i64)> =
            sessions
                .iter()
                .map(|(session, until)| (self.client.key("revoked", &session.to_string()), *until))
                .chain(users.iter().map(|(user, until)| {
                    (self.client.key("user-changed", &user.to_string()), *until)
                }))
                .map(|(key, until)| (key, until.timestamp_millis()))
                .filter(|(_, until_ms)| *until_ms > now_ms)
                .collect();
        for chunk in marks.chunks(RESTORE_CHUNK) {
            self.client
                .bounded("restore_marks", |mut connection| async move {
                    let mut pipe = redis::pipe();
                    for (key, until_ms) in chunk {
                        pipe.cmd("SET")
                            .arg(key)
                            .arg(1)
                            .arg("PXAT")
                            .arg(*until_ms)
                            .arg("NX")
                            .ignore()
                            .cmd("PEXPIREAT")
                            .arg(key)
                            .arg(*until_ms)
                            .arg("GT")
                            .ignore();
                    }
                    pipe.query_async::<()>(&mut connection)
                        .await
                        .map_err(|error| redis_error(&error))
                })
                .await?;
        }
        // Last, and only once every mark is written: from now on absent marks prove something.
        // Only while this instance's claim still stands: a Redis that restarted (or was flushed)
        // during the rebuild lost the claim with the marks written before it, and setting the
        // epoch there would vouch for marks it does not have.
        let (claim, epoch) = (
            self.client.key("marks", "rebuild"),
            self.client.key("marks", "epoch"),
        );
        let token = self.rebuild_token.clone();
        let set: i64 = self
            .client
            .bounded("restore_marks", |mut connection| async move {
                SET_EPOCH_IF_CLAIMED
                    .key(&claim)
                    .key(&epoch)
                    .arg(&*token)
                    .arg(now_ms)
                    .invoke_async(&mut connection)
                    .await
                    .map_err(|error| redis_error(&error))
            })
            .await?;
        if set == 1 {
            Ok(())
        } else {
            Err(DependencyError::Unavailable(
                "the marks rebuild lost its claim (Redis restarted or another instance took \
                 over): the epoch stays unset and the next upkeep rebuilds again"
                    .into(),
            ))
        }
    }
}
