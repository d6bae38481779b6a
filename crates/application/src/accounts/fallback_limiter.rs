//! Login limits that survive a shared-state outage: counted in shared state while it answers, and
//! in this instance alone while it does not.
//!
//! The alternatives are worse. Failing closed (503 on every login and password check while Redis
//! is down) turns a Redis outage into an outage of logging in, which the issue forbids; failing
//! open (no limit) lets a guesser who can make Redis slow guess without bound. Counting per
//! instance keeps guessing slow: with `n` instances a guesser gets at most `n` times the limit
//! per window, and only for as long as the outage lasts. What was counted in shared state before
//! the outage is not carried over, nor the other way round; both sides only ever limit.

use crate::DependencyError;
use crate::ports::shared_state::{RateLimiter, WindowCount};
use async_trait::async_trait;
use std::sync::Arc;
use std::time::Duration;

/// A [`RateLimiter`] that asks `shared` and, when it is unreachable, `local`.
pub struct FallbackRateLimiter {
    shared: Arc<dyn RateLimiter>,
    local: Arc<dyn RateLimiter>,
}

impl FallbackRateLimiter {
    /// Counts in `shared`, or in `local` (an in-process limiter) while `shared` is unreachable.
    #[must_use]
    pub fn new(shared: Arc<dyn RateLimiter>, local: Arc<dyn RateLimiter>) -> Self {
        Self { shared, local }
    }
}

/// Only an unreachable shared state falls back: any other failure is a bug worth a 503.
fn unreachable<T>(result: &Result<T, DependencyError>) -> bool {
    matches!(result, Err(DependencyError::Unavailable(_)))
}

#[async_trait]
impl RateLimiter for FallbackRateLimiter {
    async fn peek(&self, key: &str) -> Result<WindowCount, DependencyError> {
        let answer = self.shared.peek(key).await;
        if unreachable(&answer) {
            return self.local.peek(key).await;
        }
        answer
    }

    async fn hit(&self, key: &str, window: Duration) -> Result<WindowCount, DependencyError> {
        let answer = self.shared.hit(key, window).await;
        if let Err(DependencyError::Unavailable(reason)) = &answer {
            tracing::warn!(%reason, "rate limit counted in this instance only");
            return self.local.hit(key, window).await;
        }
        answer
    }

    /// Withdraws from both: the hit may have been counted on either side (shared state can come
    /// back between a hit and its withdrawal), and withdrawing where nothing was counted changes
    /// nothing.
    async fn withdraw(&self, key: &str) -> Result<(), DependencyError> {
        let shared = self.shared.withdraw(key).await;
        self.local.withdraw(key).await?;
        if unreachable(&shared) { Ok(()) } else { shared }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::test_support::CountingLimiter;
    use std::sync::atomic::Ordering;

    const WINDOW: Duration = Duration::from_secs(60);

    fn limiter() -> (
        Arc<CountingLimiter>,
        Arc<CountingLimiter>,
        FallbackRateLimiter,
    ) {
        let (shared, local) = (Arc::new(CountingLimiter::default()), Arc::default());
        let limiter = FallbackRateLimiter::new(shared.clone(), Arc::clone(&local) as _);
        (shared, local, limiter)
    }

    #[tokio::test]
    async fn counts_in_shared_state_while_it_answers() {
        let (shared, local, limiter) = limiter();
        assert_eq!(limiter.hit("k", WINDOW).await.map(|c| c.hits), Ok(1));
        assert_eq!((shared.count("k"), local.count("k")), (1, 0));
    }

    #[tokio::test]
    async fn counts_in_the_instance_while_shared_state_is_down_so_limits_still_hold() {
        let (shared, local, limiter) = limiter();
        shared.down.store(true, Ordering::SeqCst);
        for expected in 1..=3 {
            assert_eq!(limiter.hit("k", WINDOW).await.map(|c| c.hits), Ok(expected));
        }
        assert_eq!(limiter.peek("k").await.map(|c| c.hits), Ok(3));
        assert_eq!(limiter.withdraw("k").await, Ok(()));
        assert_eq!(local.count("k"), 2);
    }

    #[tokio::test]
    async fn a_withdrawal_after_shared_state_returns_reaches_the_side_that_counted() {
        let (shared, local, limiter) = limiter();
        shared.down.store(true, Ordering::SeqCst);
        assert_eq!(limiter.hit("k", WINDOW).await.map(|c| c.hits), Ok(1));
        shared.down.store(false, Ordering::SeqCst);
        assert_eq!(limiter.withdraw("k").await, Ok(()));
        assert_eq!((shared.count("k"), local.count("k")), (0, 0));
    }

    #[tokio::test]
    async fn other_failures_are_not_papered_over() {
        struct Broken;
        #[async_trait]
        impl RateLimiter for Broken {
            async fn peek(&self, _: &str) -> Result<WindowCount, DependencyError> {
                Err(DependencyError::Failed("WRONGTYPE".into()))
            }
            async fn hit(&self, _: &str, _: Duration) -> Result<WindowCount, DependencyError> {
                Err(DependencyError::Failed("WRONGTYPE".into()))
            }
            async fn withdraw(&self, _: &str) -> Result<(), DependencyError> {
                Err(DependencyError::Failed("WRONGTYPE".into()))
            }
        }
        let local = Arc::new(CountingLimiter::default());
        let limiter = FallbackRateLimiter::new(Arc::new(Broken), local.clone());
        assert!(matches!(
            limiter.hit("k", WINDOW).await,
            Err(DependencyError::Failed(_))
        ));
        assert_eq!(local.count("k"), 0);
    }
}
