//! `RateLimiter`: fixed windows that count every hit exactly, concurrent ones too, and expire.

use super::{LONG, SHORT, SharedState};
use crate::support::tag;
use futures_util::future::join_all;
use std::time::Duration;

/// Hits are counted within a window; `peek` does not count; `reset` clears.
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
    assert_eq!(state.reset(&key).await, Ok(()));
    assert_eq!(state.peek(&key).await.map(|count| count.hits), Ok(0));
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
