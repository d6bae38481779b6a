//! `RateLimiter` within one process: fixed windows, each counting hits until it ends.

use crate::MemorySharedState;
use crate::expiring::{Expiring, guard};
use async_trait::async_trait;
use reserva_application::DependencyError;
use reserva_application::ports::shared_state::{RateLimiter, WindowCount};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The rate limiter's part of the state: the current window of each key.
#[derive(Debug, Default)]
pub(crate) struct Windows {
    by_key: Mutex<Expiring<String, Window>>,
}

/// A rate-limit window: hits so far and when the window ends.
#[derive(Debug)]
struct Window {
    hits: u32,
    ends_at: Instant,
}

#[async_trait]
impl RateLimiter for MemorySharedState {
    async fn peek(&self, key: &str) -> Result<WindowCount, DependencyError> {
        let now = Instant::now();
        let windows = guard(&self.state.windows.by_key, "rate-limit")?;
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
        let mut windows = guard(&self.state.windows.by_key, "rate-limit")?;
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

    async fn withdraw(&self, key: &str) -> Result<(), DependencyError> {
        let now = Instant::now();
        let mut windows = guard(&self.state.windows.by_key, "rate-limit")?;
        if let Some(window) = windows.entries.get_mut(key)
            && window.ends_at > now
        {
            window.hits = window.hits.saturating_sub(1);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expiring::lapse_then_write_live;

    #[tokio::test]
    async fn expired_windows_are_pruned() {
        let state = MemorySharedState::new();
        lapse_then_write_live(|key, window| {
            let state = &state;
            async move {
                state.hit(&key, window).await.unwrap();
            }
        })
        .await;
        assert_eq!(state.state.windows.by_key.lock().unwrap().entries.len(), 1);
    }
}
