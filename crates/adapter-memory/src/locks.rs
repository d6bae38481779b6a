//! `DistributedLock` within one process: named locks with a random token and a lapse time, so an
//! expired holder can neither keep nor release a lock someone else has taken since.

use crate::MemorySharedState;
use crate::expiring::{Expiring, guard};
use async_trait::async_trait;
use reserva_application::DependencyError;
use reserva_application::ports::shared_state::{DistributedLock, LockToken};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The lock port's part of the state: held locks by name.
#[derive(Debug, Default)]
pub(crate) struct Locks {
    held: Mutex<Expiring<String, HeldLock>>,
}

/// A held lock: its token and when it lapses.
#[derive(Debug)]
struct HeldLock {
    token: String,
    expires_at: Instant,
}

#[async_trait]
impl DistributedLock for MemorySharedState {
    async fn try_acquire(
        &self,
        name: &str,
        ttl: Duration,
    ) -> Result<Option<LockToken>, DependencyError> {
        let now = Instant::now();
        let mut locks = guard(&self.state.locks.held, "lock")?;
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
        let mut locks = guard(&self.state.locks.held, "lock")?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expiring::lapse_then_write_live;

    #[tokio::test]
    async fn expired_locks_are_pruned() {
        let state = MemorySharedState::new();
        lapse_then_write_live(|name, ttl| {
            let state = &state;
            async move {
                let acquired = state.try_acquire(&name, ttl).await.unwrap();
                assert!(acquired.is_some() || name == "live", "{name}");
            }
        })
        .await;
        assert_eq!(state.state.locks.held.lock().unwrap().entries.len(), 1);
    }

    #[tokio::test]
    async fn a_poisoned_mutex_is_a_failure() {
        let state = MemorySharedState::new();
        let clone = state.clone();
        let _ = std::thread::spawn(move || {
            let _guard = clone.state.locks.held.lock().unwrap();
            panic!("poison");
        })
        .join();
        assert!(matches!(
            state.try_acquire("any", Duration::from_secs(1)).await,
            Err(DependencyError::Failed(_))
        ));
    }
}
