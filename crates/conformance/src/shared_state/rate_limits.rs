//! `RateLimiter`: fixed windows that count every hit exactly, concurrent ones too, and expire; a
//! withdrawal takes one hit back from a live window only.

use super::{LONG, SHORT, SharedState};
use crate::support::tag;
use futures_util::future::join_all;
use reserva_application::ports::shared_state::WindowCount;
use std::time::Duration;

/// Hits are counted within a window; `peek` does not count.
pub async fn rate_limiter_counts_hits_in_a_window<S: SharedState>(state: &S) {
    let key = format!("rate-{}", tag());
    let empty = state.peek(&key).await.map(|count| count.hits);
    assert_eq!(empty, Ok(0));
    for expected in 1..=3 {
        let count = state.hit(&key, LONG).await.map(|count| count.hits);
        assert_eq!(count, Ok(expected));
    }
    let Ok(count) = state.peek(&key).await else {
        panic!("peek failed")
    };
    assert_eq!(count.hits, 3);
    assert!(
        count.resets_in > Duration::ZERO && count.resets_in <= LONG,
        "{count:?}"
    );
}

/// Fifty simultaneous hits raise the count by exactly fifty.
pub async fn rate_limiter_counts_concurrent_hits_exactly<S: SharedState>(state: &S) {
    let key = format!("rate-{}", tag());
    let results = join_all((0..50).map(|_| state.hit(&key, LONG))).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let mut seen: Vec<u32> = results
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .map(|c| c.hits)
        .collect();
    seen.sort_unstable();
    assert_eq!(
        seen,
        (1..=50).collect::<Vec<u32>>(),
        "every hit sees a distinct count"
    );
    assert_eq!(state.peek(&key).await.map(|count| count.hits), Ok(50));
}

/// When the window ends the count starts again from zero.
pub async fn rate_limiter_window_expires<S: SharedState>(state: &S) {
    let key = format!("rate-{}", tag());
    assert_eq!(state.hit(&key, SHORT).await.map(|count| count.hits), Ok(1));
    tokio::time::sleep(SHORT * 2).await;
    assert_eq!(state.peek(&key).await.map(|count| count.hits), Ok(0));
    assert_eq!(state.hit(&key, SHORT).await.map(|count| count.hits), Ok(1));
}

/// A withdrawal takes back one hit and keeps the window's end; on an unknown key it does
/// nothing, and it never goes below zero.
pub async fn rate_limiter_withdraws_one_hit_within_the_window<S: SharedState>(state: &S) {
    let key = format!("rate-{}", tag());
    assert_eq!(state.withdraw(&key).await, Ok(()));
    assert_eq!(state.peek(&key).await.map(|count| count.hits), Ok(0));
    for _ in 0..3 {
        assert!(state.hit(&key, LONG).await.is_ok());
    }
    assert_eq!(state.withdraw(&key).await, Ok(()));
    let Ok(count) = state.peek(&key).await else {
        panic!("peek failed")
    };
    assert_eq!(count.hits, 2);
    assert!(
        count.resets_in > LONG / 2,
        "the window keeps its end: {count:?}"
    );
    for _ in 0..4 {
        assert_eq!(state.withdraw(&key).await, Ok(()));
    }
    assert_eq!(state.peek(&key).await.map(|count| count.hits), Ok(0));
    assert_eq!(state.hit(&key, LONG).await.map(|count| count.hits), Ok(1));
}

/// Concurrent hits and withdrawals are each applied exactly once.
pub async fn rate_limiter_applies_concurrent_withdrawals_exactly<S: SharedState>(state: &S) {
    let key = format!("rate-{}", tag());
    for _ in 0..40 {
        assert!(state.hit(&key, LONG).await.is_ok());
    }
    let hits = join_all((0..20).map(|_| state.hit(&key, LONG)));
    let withdrawals = join_all((0..30).map(|_| state.withdraw(&key)));
    let (hits, withdrawals) = tokio::join!(hits, withdrawals);
    assert!(hits.iter().all(Result::is_ok), "{hits:?}");
    assert!(withdrawals.iter().all(Result::is_ok), "{withdrawals:?}");
    assert_eq!(
        state.peek(&key).await.map(|count| count.hits),
        Ok(40 + 20 - 30)
    );
}

/// A withdrawal after the window ended neither revives the count nor starts a window: the next
/// hit is the first of a new one.
pub async fn rate_limiter_withdrawal_after_the_window_changes_nothing<S: SharedState>(state: &S) {
    let key = format!("rate-{}", tag());
    assert!(state.hit(&key, SHORT).await.is_ok());
    tokio::time::sleep(SHORT * 2).await;
    assert_eq!(state.withdraw(&key).await, Ok(()));
    assert_eq!(
        state.peek(&key).await,
        Ok(WindowCount {
            hits: 0,
            resets_in: Duration::ZERO
        })
    );
    let Ok(count) = state.hit(&key, SHORT).await else {
        panic!("hit failed")
    };
    assert_eq!(count.hits, 1);
    assert!(count.resets_in > Duration::ZERO, "{count:?}");
}
