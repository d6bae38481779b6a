//! Group commit: callers that arrive while a batch is being written wait and go together in the
//! next one, so a hot row is locked and committed once per batch instead of once per caller.

use std::sync::{Mutex, MutexGuard, PoisonError};
use tokio::sync::oneshot;

/// A caller's item and where its outcome goes.
pub(crate) struct Waiting<Item, Outcome> {
    pub item: Item,
    pub reply: oneshot::Sender<Outcome>,
}

struct State<Item, Outcome> {
    waiting: Vec<Waiting<Item, Outcome>>,
    /// Whether a drainer is running; at most one is.
    draining: bool,
}

/// Items waiting to be written, and whether someone is writing them.
pub(crate) struct BatchQueue<Item, Outcome> {
    state: Mutex<State<Item, Outcome>>,
}

impl<Item, Outcome> Default for BatchQueue<Item, Outcome> {
    fn default() -> Self {
        Self {
            state: Mutex::new(State {
                waiting: Vec::new(),
                draining: false,
            }),
        }
    }
}

impl<Item, Outcome> BatchQueue<Item, Outcome> {
    fn state(&self) -> MutexGuard<'_, State<Item, Outcome>> {
        // Nothing panics while holding the lock; a poisoned state is still consistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `item`. Returns where its outcome will arrive, and `true` when no drainer is running:
    /// the caller must then start one (which calls [`BatchQueue::next_batch`] until it says stop).
    pub(crate) fn push(&self, item: Item) -> (oneshot::Receiver<Outcome>, bool) {
        let (reply, outcome) = oneshot::channel();
        let mut state = self.state();
        state.waiting.push(Waiting { item, reply });
        let start = !state.draining;
        state.draining = true;
        (outcome, start)
    }

    /// Stops draining and drops every waiting item (their callers get a closed channel). For a
    /// drainer that dies before the queue is empty.
    pub(crate) fn abandon(&self) {
        let mut state = self.state();
        state.waiting.clear();
        state.draining = false;
    }

    /// The next batch, at most `max` items in arrival order; `None` when nothing waits, and then
    /// the drainer must stop (the next push starts a new one).
    pub(crate) fn next_batch(&self, max: usize) -> Option<Vec<Waiting<Item, Outcome>>> {
        let mut state = self.state();
        if state.waiting.is_empty() {
            state.draining = false;
            return None;
        }
        let take = state.waiting.len().min(max.max(1));
        Some(state.waiting.drain(..take).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_drainer_takes_batches_in_arrival_order_until_empty() {
        let queue: BatchQueue<u32, u32> = BatchQueue::default();
        let (_first, start) = queue.push(1);
        assert!(start, "the first caller starts the drainer");
        let (_second, start) = queue.push(2);
        let (_third, again) = queue.push(3);
        assert!(!start && !again, "one drainer at a time");
        let batch = queue
            .next_batch(2)
            .map(|b| b.iter().map(|w| w.item).collect::<Vec<_>>());
        assert_eq!(batch, Some(vec![1, 2]));
        let batch = queue
            .next_batch(2)
            .map(|b| b.iter().map(|w| w.item).collect::<Vec<_>>());
        assert_eq!(batch, Some(vec![3]));
        assert!(queue.next_batch(2).is_none());
        let (_fourth, start) = queue.push(4);
        assert!(
            start,
            "after the drainer stopped, the next caller starts one"
        );
    }
}
