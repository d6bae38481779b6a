//! In-process shared state for a single instance: a lock, rate-limit counters, the marks of
//! revoked sessions and changed users, and idempotency records, kept in hash maps behind mutexes.
//!
//! Nothing is shared across processes, so this adapter is only correct when exactly one instance
//! of the service runs. Expired entries are pruned opportunistically on writes, so memory stays
//! bounded by the number of live entries.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reserva_application::DependencyError;
use reserva_application::ports::shared_state::{
    AccessMarks, ClaimToken, DistributedLock, IdempotencyClaim, IdempotencyRecords, LockToken,
    RateLimiter, RecordedResponse, SessionRevocations, WindowCount,
};
use reserva_application::ports::system::HealthProbe;
use reserva_domain::accounts::{SessionId, UserId};
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Every this many writes to a map, its expired entries are removed.
const PRUNE_EVERY: u64 = 256;
/// A map larger than this is pruned on every write (until it shrinks again).
const PRUNE_ABOVE: usize = 4096;

/// A held lock: its token and when it lapses.
#[derive(Debug)]
struct HeldLock {
    token: String,
    expires_at: Instant,
}

/// A rate-limit window: hits so far and when the window ends.
#[derive(Debug)]
struct Window {
    hits: u32,
    ends_at: Instant,
}

/// A map of entries that expire, pruned every [`PRUNE_EVERY`] writes or when it grows large.
#[derive(Debug)]
struct Expiring<K, V> {
    entries: HashMap<K, V>,
    writes: u64,
}

impl<K, V> Default for Expiring<K, V> {
    fn default() -> Self {
        Self {
            entries: HashMap::new(),
            writes: 0,
        }
    }
}

impl<K, V> Expiring<K, V> {
    /// Counts one write attempt and, if due, removes every entry for which `is_live` is false.
    fn note_write(&mut self, is_live: impl FnMut(&V) -> bool) {
        self.writes = self.writes.wrapping_add(1);
        if self.writes.is_multiple_of(PRUNE_EVERY) || self.entries.len() > PRUNE_ABOVE {
            self.prune(is_live);
        }
    }

    fn prune(&mut self, mut is_live: impl FnMut(&V) -> bool) {
        self.entries.retain(|_, value| is_live(value));
    }
}

#[derive(Debug, Default)]
struct State {
    locks: Mutex<Expiring<String, HeldLock>>,
    windows: Mutex<Expiring<String, Window>>,
    revoked: Mutex<Expiring<SessionId, DateTime<Utc>>>,
    changed_users: Mutex<Expiring<UserId, DateTime<Utc>>>,
    idempotency: Mutex<Expiring<String, IdempotencyEntry>>,
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

/// Shared state held in this process. Cloning is cheap and every clone sees the same state.
#[derive(Debug, Clone, Default)]
pub struct MemorySharedState {
    state: Arc<State>,
}

impl MemorySharedState {
    /// Empty state: no locks, no counters, no revoked sessions.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
}

/// Locks a mutex; a poisoned one means a panic mid-update, reported as a failure.
fn guard<'a, T>(mutex: &'a Mutex<T>, what: &str) -> Result<MutexGuard<'a, T>, DependencyError> {
    mutex
        .lock()
        .map_err(|_| DependencyError::Failed(format!("in-memory {what} state is poisoned")))
}

#[async_trait]
impl DistributedLock for MemorySharedState {
    async fn try_acquire(
        &self,
        name: &str,
        ttl: Duration,
    ) -> Result<Option<LockToken>, DependencyError> {
        let now = Instant::now();
        let mut locks = guard(&self.state.locks, "lock")?;
        locks.note_write(|held| held.expires_at > now);
        if locks
            .entries
            .get(name)
            .is_some_and(|held| held.expires_at > now)
        {
            return Ok(None);
        }
        let token = uuid::Uuid::new_v4().to_string();
        locks.entries.insert(
            name.to_owned(),
            HeldLock {
                token: token.clone(),
                expires_at: now + ttl,
            },
        );
        Ok(Some(LockToken::new(token)))
    }

    async fn release(&self, name: &str, token: &LockToken) -> Result<bool, DependencyError> {
        let now = Instant::now();
        let mut locks = guard(&self.state.locks, "lock")?;
        let holds = locks
            .entries
            .get(name)
            .is_some_and(|held| held.expires_at > now && held.token == token.as_str());
        if holds {
            locks.entries.remove(name);
        }
        Ok(holds)
    }
}

#[async_trait]
impl RateLimiter for MemorySharedState {
    async fn peek(&self, key: &str) -> Result<WindowCount, DependencyError> {
        let now = Instant::now();
        let windows = guard(&self.state.windows, "rate-limit")?;
        Ok(match windows.entries.get(key) {
            Some(window) if window.ends_at > now => WindowCount {
                hits: window.hits,
                resets_in: window.ends_at - now,
            },
            _ => WindowCount {
                hits: 0,
                resets_in: Duration::ZERO,
            },
        })
    }

    async fn hit(&self, key: &str, window: Duration) -> Result<WindowCount, DependencyError> {
        let now = Instant::now();
        let mut windows = guard(&self.state.windows, "rate-limit")?;
        windows.note_write(|window| window.ends_at > now);
        let entry = windows
            .entries
            .entry(key.to_owned())
            .or_insert_with(|| Window {
                hits: 0,
                ends_at: now + window,
            });
        if entry.ends_at <= now {
            *entry = Window {
                hits: 0,
                ends_at: now + window,
            };
        }
        entry.hits = entry.hits.saturating_add(1);
        let count = WindowCount {
            hits: entry.hits,
            resets_in: entry.ends_at - now,
        };
        Ok(count)
    }

    async fn reset(&self, key: &str) -> Result<(), DependencyError> {
        guard(&self.state.windows, "rate-limit")?
            .entries
            .remove(key);
        Ok(())
    }
}

/// Sets a mark that lapses at `until`, or moves an existing mark's lapse later (never earlier).
fn mark_until<K: Eq + Hash>(
    marks: &Mutex<Expiring<K, DateTime<Utc>>>,
    key: K,
    until: DateTime<Utc>,
) -> Result<(), DependencyError> {
    let now = Utc::now();
    if until <= now {
        return Ok(());
    }
    let mut marks = guard(marks, "revocation")?;
    marks.note_write(|until| *until > now);
    let mark = marks.entries.entry(key).or_insert(until);
    if *mark < until {
        *mark = until;
    }
    Ok(())
}

/// Whether `key` has a mark that has not lapsed at `now`.
fn is_marked<K: Eq + Hash>(
    marks: &Mutex<Expiring<K, DateTime<Utc>>>,
    key: &K,
    now: DateTime<Utc>,
) -> Result<bool, DependencyError> {
    let marks = guard(marks, "revocation")?;
    Ok(marks.entries.get(key).is_some_and(|until| *until > now))
}

#[async_trait]
impl SessionRevocations for MemorySharedState {
    async fn revoke(
        &self,
        session: SessionId,
        until: DateTime<Utc>,
    ) -> Result<(), DependencyError> {
        mark_until(&self.state.revoked, session, until)
    }

    async fn mark_user_changed(
        &self,
        user: UserId,
        until: DateTime<Utc>,
    ) -> Result<(), DependencyError> {
        mark_until(&self.state.changed_users, user, until)
    }

    async fn access_marks(
        &self,
        session: SessionId,
        user: UserId,
    ) -> Result<AccessMarks, DependencyError> {
        let now = Utc::now();
        Ok(AccessMarks {
            session_revoked: is_marked(&self.state.revoked, &session, now)?,
            user_changed: is_marked(&self.state.changed_users, &user, now)?,
        })
    }
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
        let mut records = guard(&self.state.idempotency, "idempotency")?;
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
        let mut records = guard(&self.state.idempotency, "idempotency")?;
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
        let mut records = guard(&self.state.idempotency, "idempotency")?;
        let Some(entry) = claimed_entry(&mut records, key, token, now) else {
            return Ok(false);
        };
        entry.state = KeyState::Done(response.clone());
        entry.expires_at = now + keep_for;
        Ok(true)
    }

    async fn abandon(&self, key: &str, token: &ClaimToken) -> Result<(), DependencyError> {
        let mut records = guard(&self.state.idempotency, "idempotency")?;
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
impl HealthProbe for MemorySharedState {
    fn component(&self) -> &'static str {
        "shared_state"
    }

    async fn ping(&self) -> Result<(), DependencyError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> SessionId {
        SessionId::from_uuid(uuid::Uuid::new_v4())
    }

    #[tokio::test]
    async fn expired_locks_and_windows_are_pruned() {
        let state = MemorySharedState::new();
        let short = Duration::from_millis(20);
        for index in 0..100 {
            let name = format!("lock-{index}");
            assert!(state.try_acquire(&name, short).await.unwrap().is_some());
            state.hit(&name, short).await.unwrap();
        }
        tokio::time::sleep(short * 3).await;
        let writes = usize::try_from(PRUNE_EVERY).unwrap();
        for _ in 0..writes {
            state
                .try_acquire("live", Duration::from_secs(30))
                .await
                .unwrap();
            state.hit("live", Duration::from_secs(30)).await.unwrap();
        }
        assert_eq!(state.state.locks.lock().unwrap().entries.len(), 1);
        assert_eq!(state.state.windows.lock().unwrap().entries.len(), 1);
    }

    #[tokio::test]
    async fn large_maps_are_pruned_on_every_write() {
        let state = MemorySharedState::new();
        // Time enough to write them all before they lapse, even on a loaded machine: a revocation
        // that has already lapsed is not stored, and the map would not grow large.
        let lapse = Utc::now() + chrono::Duration::milliseconds(500);
        for _ in 0..=PRUNE_ABOVE {
            state.revoke(session(), lapse).await.unwrap();
        }
        assert!(state.state.revoked.lock().unwrap().entries.len() > PRUNE_ABOVE);
        tokio::time::sleep(Duration::from_millis(600)).await;
        let lasting = session();
        state
            .revoke(lasting, Utc::now() + chrono::Duration::minutes(5))
            .await
            .unwrap();
        let revoked = state.state.revoked.lock().unwrap();
        assert_eq!(revoked.entries.len(), 1);
        assert!(revoked.entries.contains_key(&lasting));
    }

    #[tokio::test]
    async fn a_poisoned_mutex_is_a_failure() {
        let state = MemorySharedState::new();
        let clone = state.clone();
        let _ = std::thread::spawn(move || {
            let _guard = clone.state.locks.lock().unwrap();
            panic!("poison");
        })
        .join();
        assert!(matches!(
            state.try_acquire("any", Duration::from_secs(1)).await,
            Err(DependencyError::Failed(_))
        ));
    }

    #[tokio::test]
    async fn probe_is_shared_state_and_always_up() {
        let state = MemorySharedState::new();
        assert_eq!(state.component(), "shared_state");
        assert_eq!(state.ping().await, Ok(()));
    }
}
