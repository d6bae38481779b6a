//! Group commit: callers that arrive while a batch is being written wait and go together in the
//! next one, so a hot row is locked and committed once per batch instead of once per caller.

use std::future::Future;
use std::sync::{Mutex, MutexGuard, PoisonError};
use tokio::sync::oneshot;

/// A caller's item and where its outcome goes.
pub(crate) struct Waiting<Item, Outcome> {
    item: Item,
    reply: oneshot::Sender<Outcome>,
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
    fn abandon(&self) {
        let mut state = self.state();
        state.waiting.clear();
        state.draining = false;
    }

    /// The next batch, at most `max` items in arrival order; `None` when nothing waits, and then
    /// the drainer must stop (the next push starts a new one).
    fn next_batch(&self, max: usize) -> Option<Vec<Waiting<Item, Outcome>>> {
        let mut state = self.state();
        if state.waiting.is_empty() {
            state.draining = false;
            return None;
        }
        let take = state.waiting.len().min(max.max(1));
        Some(state.waiting.drain(..take).collect())
    }
}

impl<Item, Outcome> BatchQueue<Item, Outcome> {
    /// Writes the queued items with `write`, batch after batch (at most `max` each), until none
    /// wait, and hands each caller its outcome (`write` returns one per item, in order). Should
    /// this future be dropped or panic before the queue is empty (a runtime shutting down), the
    /// queue is freed: its callers get a closed channel and the next push starts a new drainer.
    pub(crate) async fn drain<F, Fut>(&self, max: usize, mut write: F)
    where
        F: FnMut(Vec<Item>) -> Fut,
        Fut: Future<Output = Vec<Outcome>>,
    {
        struct Abandon<'a, Item, Outcome>(&'a BatchQueue<Item, Outcome>, bool);
        impl<Item, Outcome> Drop for Abandon<'_, Item, Outcome> {
            fn drop(&mut self) {
                if self.1 {
                    self.0.abandon();
                }
            }
        }
        let mut abandon = Abandon(self, true);
        while let Some(batch) = self.next_batch(max) {
            let (items, replies): (Vec<Item>, Vec<_>) = batch
                .into_iter()
                .map(|waiting| (waiting.item, waiting.reply))
                .unzip();
            for (reply, outcome) in replies.into_iter().zip(write(items).await) {
                let _ = reply.send(outcome);
            }
        }
        abandon.1 = false;
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

    #[tokio::test]
    async fn a_drain_hands_each_caller_its_own_outcome() {
        let queue: BatchQueue<u32, u32> = BatchQueue::default();
        let answers: Vec<_> = (1..=5).map(|item| queue.push(item).0).collect();
        let mut sizes = Vec::new();
        queue
            .drain(2, |items| {
                sizes.push(items.len());
                async move { items.iter().map(|item| item * 10).collect() }
            })
            .await;
        assert_eq!(sizes, [2, 2, 1]);
        let mut outcomes = Vec::new();
        for answer in answers {
            outcomes.push(answer.await.ok());
        }
        assert_eq!(outcomes, [10, 20, 30, 40, 50].map(Some));
        assert!(
            queue.push(6).1,
            "a finished drain lets the next caller start one"
        );
    }

    #[tokio::test]
    async fn a_drain_that_dies_frees_the_queue_and_its_callers() {
        let queue: BatchQueue<u32, u32> = BatchQueue::default();
        let (first, _) = queue.push(1);
        let (second, _) = queue.push(2);
        {
            let stuck = queue.drain(1, |_| std::future::pending::<Vec<u32>>());
            let stuck = std::pin::pin!(stuck);
            let waker = std::task::Waker::noop();
            let mut context = std::task::Context::from_waker(waker);
            assert!(stuck.poll(&mut context).is_pending());
        }
        assert!(first.await.is_err(), "the batch in flight is failed");
        assert!(second.await.is_err(), "the waiting ones too");
        assert!(queue.push(3).1, "the next caller starts a new drainer");
    }
}
