//! `DistributedLock`: exclusive by name, released only by its holder, free again after its TTL.

use super::{LONG, SHORT, SharedState};
use crate::support::tag;
use futures_util::future::join_all;
use reserva_application::ports::shared_state::LockToken;
use std::time::Duration;

async fn acquire<S: SharedState>(state: &S, name: &str, ttl: Duration) -> Option<LockToken> {
    state
        .try_acquire(name, ttl)
        .await
        .unwrap_or_else(|error| panic!("try_acquire: {error}"))
}

/// A held lock cannot be taken again or released with a foreign token; its holder can release it.
pub async fn lock_is_exclusive_until_released_by_its_holder<S: SharedState>(state: &S) {
    let name = format!("lock-{}", tag());
    let Some(token) = acquire(state, &name, LONG).await else {
        panic!("free lock not acquired")
    };
    assert_eq!(acquire(state, &name, LONG).await, None);
    let foreign = LockToken::new("not-the-holder".into());
    assert_eq!(state.release(&name, &foreign).await, Ok(false));
    assert_eq!(acquire(state, &name, LONG).await, None);
    assert_eq!(state.release(&name, &token).await, Ok(true));
    assert_eq!(state.release(&name, &token).await, Ok(false));
    let again = acquire(state, &name, LONG).await;
    assert!(
        again.is_some_and(|new| new != token),
        "a new holder gets a new token"
    );
    let other = format!("lock-{}", tag());
    assert!(
        acquire(state, &other, LONG).await.is_some(),
        "locks are independent by name"
    );
}

/// After its TTL a lock is free again, and the old holder can no longer release the new one.
pub async fn lock_can_be_retaken_after_its_ttl<S: SharedState>(state: &S) {
    let name = format!("lock-{}", tag());
    let Some(old) = acquire(state, &name, SHORT).await else {
        panic!("free lock not acquired")
    };
    tokio::time::sleep(SHORT * 2).await;
    let Some(new) = acquire(state, &name, LONG).await else {
        panic!("expired lock not retaken")
    };
    assert_eq!(state.release(&name, &old).await, Ok(false));
    assert_eq!(acquire(state, &name, LONG).await, None);
    assert_eq!(state.release(&name, &new).await, Ok(true));
}

/// Twenty simultaneous attempts on a free lock: exactly one wins.
pub async fn concurrent_lock_attempts_let_exactly_one_in<S: SharedState>(state: &S) {
    let name = format!("lock-{}", tag());
    let results = join_all((0..20).map(|_| state.try_acquire(&name, LONG))).await;
    let winners = results
        .iter()
        .filter(|result| matches!(result, Ok(Some(_))))
        .count();
    assert_eq!(winners, 1, "{results:?}");
}
