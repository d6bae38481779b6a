//! `IdempotencyRecords`: one JSON record per key (`{prefix}idem:{key}`), claimed with
//! `SET NX GET` so the loser of a race reads the winner's record in the same round trip, and
//! renewed, completed or abandoned only by the claim that wrote it (compared byte for byte in
//! Lua), so a lapsed owner can never overwrite its successor.

use crate::RedisSharedState;
use crate::client::{COMPARE_AND_DELETE, millis, redis_error};
use async_trait::async_trait;
use deadpool_redis::redis::{self, Script};
use reserva_application::DependencyError;
use reserva_application::ports::shared_state::{
    ClaimToken, IdempotencyClaim, IdempotencyRecords, RecordedResponse,
};
use serde::{Deserialize, Serialize};
use std::sync::LazyLock;
use std::time::Duration;

/// Replaces an in-flight idempotency record (`ARGV[1]`, exactly as stored) with the finished one.
static COMPLETE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        "if redis.call('GET', KEYS[1]) == ARGV[1] then \
         redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) return 1 else return 0 end",
    )
});

/// Extends an in-flight idempotency record's expiry (`ARGV[2]` ms) if it is still `ARGV[1]`.
static RENEW: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        "if redis.call('GET', KEYS[1]) == ARGV[1] then \
         return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end",
    )
});

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

fn encode(record: &IdempotencyRecord) -> Result<String, DependencyError> {
    serde_json::to_string(record)
        .map_err(|error| DependencyError::Failed(format!("idempotency record: {error}")))
}

/// What a claim that found `previous` under its key means for the request with `fingerprint`.
fn outcome_of(previous: &str, fingerprint: &str) -> Result<IdempotencyClaim, DependencyError> {
    let record: IdempotencyRecord = serde_json::from_str(previous).map_err(|error| {
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

#[async_trait]
impl IdempotencyRecords for RedisSharedState {
    async fn claim(
        &self,
        key: &str,
        fingerprint: &str,
        in_flight_for: Duration,
    ) -> Result<IdempotencyClaim, DependencyError> {
        let key = self.client.key("idem", key);
        let in_flight = encode(&IdempotencyRecord {
            fingerprint: fingerprint.to_owned(),
            owner: Some(uuid::Uuid::new_v4().simple().to_string()),
            response: None,
        })?;
        let value = in_flight.clone();
        let previous: Option<String> = self
            .client
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
        match previous {
            None => Ok(IdempotencyClaim::Claimed(ClaimToken::new(in_flight))),
            Some(previous) => outcome_of(&previous, fingerprint),
        }
    }

    async fn renew(
        &self,
        key: &str,
        token: &ClaimToken,
        in_flight_for: Duration,
    ) -> Result<bool, DependencyError> {
        let key = self.client.key("idem", key);
        self.client
            .bounded("idempotency renew", |mut connection| async move {
                RENEW
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
        let key = self.client.key("idem", key);
        self.client
            .bounded("idempotency complete", |mut connection| async move {
                COMPLETE
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
        let key = self.client.key("idem", key);
        self.client
            .bounded("idempotency abandon", |mut connection| async move {
                COMPARE_AND_DELETE
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
