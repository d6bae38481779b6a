//! `IdempotencyRecords` within one process: each key holds the fingerprint of the request it was
//! first used for and either its in-flight owner or the response to replay, until it lapses.

use crate::MemorySharedState;
use crate::expiring::{Expiring, guard};
use async_trait::async_trait;
use reserva_application::DependencyError;
use reserva_application::ports::shared_state::{
    ClaimToken, IdempotencyClaim, IdempotencyRecords, RecordedResponse,
};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The idempotency port's part of the state: the record of each key.
#[derive(Debug, Default)]
pub(crate) struct Records {
    by_key: Mutex<Expiring<String, IdempotencyEntry>>,
}

/// An idempotency key: the request it was used for, and its owner or its response.
#[derive(Debug)]
struct IdempotencyEntry {
    fingerprint: String,
    state: KeyState,
    expires_at: Instant,
}

#[derive(Debug)]
enum KeyState {
    InFlight(String),
    Done(RecordedResponse),
}

/// The entry of `key` if it is still in flight and claimed with `token`.
fn claimed_entry<'a>(
    records: &'a mut Expiring<String, IdempotencyEntry>,
    key: &str,
    token: &ClaimToken,
    now: Instant,
) -> Option<&'a mut IdempotencyEntry> {
    records
        .entries
        .get_mut(key)
        .filter(|entry| entry.expires_at > now && owns(entry, token))
}

fn owns(entry: &IdempotencyEntry, token: &ClaimToken) -> bool {
    matches!(&entry.state, KeyState::InFlight(owner) if owner == token.as_str())
}

#[async_trait]
impl IdempotencyRecords for MemorySharedState {
    async fn claim(
        &self,
        key: &str,
        fingerprint: &str,
        in_flight_for: Duration,
    ) -> Result<IdempotencyClaim, DependencyError> {
        let now = Instant::now();
        let mut records = guard(&self.state.idempotency.by_key, "idempotency")?;
        records.note_write(|entry| entry.expires_at > now);
        if let Some(entry) = records.entries.get(key).filter(|e| e.expires_at > now) {
            return Ok(if entry.fingerprint != fingerprint {
                IdempotencyClaim::Mismatch
            } else {
                match &entry.state {
                    KeyState::InFlight(_) => IdempotencyClaim::InFlight,
                    KeyState::Done(response) => IdempotencyClaim::Replay(response.clone()),
                }
            });
        }
        let owner = uuid::Uuid::new_v4().to_string();
        records.entries.insert(
            key.to_owned(),
            IdempotencyEntry {
                fingerprint: fingerprint.to_owned(),
                state: KeyState::InFlight(owner.clone()),
                expires_at: now + in_flight_for,
            },
        );
        Ok(IdempotencyClaim::Claimed(ClaimToken::new(owner)))
    }

    async fn renew(
        &self,
        key: &str,
        token: &ClaimToken,
        in_flight_for: Duration,
    ) -> Result<bool, DependencyError> {
        let now = Instant::now();
        let mut records = guard(&self.state.idempotency.by_key, "idempotency")?;
        let Some(entry) = claimed_entry(&mut records, key, token, now) else {
            return Ok(false);
        };
        entry.expires_at = now + in_flight_for;
        Ok(true)
    }

    async fn complete(
        &self,
        key: &str,
        token: &ClaimToken,
        response: &RecordedResponse,
        keep_for: Duration,
    ) -> Result<bool, DependencyError> {
        let now = Instant::now();
        let mut records = guard(&self.state.idempotency.by_key, "idempotency")?;
        let Some(entry) = claimed_entry(&mut records, key, token, now) else {
            return Ok(false);
        };
        entry.state = KeyState::Done(response.clone());
        entry.expires_at = now + keep_for;
        Ok(true)
    }

    async fn abandon(&self, key: &str, token: &ClaimToken) -> Result<(), DependencyError> {
        let mut records = guard(&self.state.idempotency.by_key, "idempotency")?;
        if records
            .entries
            .get(key)
            .is_some_and(|entry| owns(entry, token))
        {
            records.entries.remove(key);
        }
        Ok(())
    }
}
