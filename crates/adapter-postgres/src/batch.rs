//! Group commit: callers that arrive while a batch is being written wait and go together in the
//! next one, so a hot row is locked and committed once per batch instead of once per caller.
//!
//! Waiting is bounded three times: a queue holds at most `capacity` callers (the next one is
//! turned away at once); a caller whose item is still queued after `max_wait` takes it back and
//! gives up; and a batch that has not finished after the drainer's `write_for` is dropped (a
//! database that stopped answering without closing the connection would otherwise hold its
//! callers and the whole queue for as long as TCP takes to notice). The first two mean the item
//! was not written; the last, and a drainer that dies mid-batch, mean its outcome is unknown: the
//! batch may have committed. [`Unwritten`] says which.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::sync::oneshot;

/// A caller's item and where its outcome goes.
struct Waiting<Item, Outcome> {
    ticket: u64,
    item: Item,
    reply: oneshot::Sender<Result<Outcome, Unwritten>>,
}

struct State<Item, Outcome> {
    waiting: VecDeque<Waiting<Item, Outcome>>,
    /// Whether a drainer exists; at most one does.
    draining: bool,
    next_ticket: u64,
}

/// Why an item has no outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unwritten {
    /// The queue was full; the item was never queued. Not written.
    Full,
    /// The item waited `max_wait` without being taken into a batch, and was withdrawn. Not
    /// written.
    TimedOut,
    /// The drainer died (its runtime shut down) before taking the item. Not written.
    Abandoned,
    /// The item's batch did not finish (it overran `write_for`, or its drainer died while
    /// writing): it may or may not have been written.
    Unknown,
}

/// A queued item: its ticket, where its outcome arrives, and the drainer when none existed.
struct Queued<Item, Outcome> {
    ticket: u64,
    outcome: oneshot::Receiver<Result<Outcome, Unwritten>>,
    drainer: Option<Drainer<Item, Outcome>>,
}

/// Items waiting to be written, and whether someone is writing them.
pub(crate) struct BatchQueue<Item, Outcome> {
    state: Mutex<State<Item, Outcome>>,
    capacity: usize,
}

impl<Item, Outcome> BatchQueue<Item, Outcome> {
    /// A queue that holds at most `capacity` waiting items (at least one).
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            state: Mutex::new(State {
                waiting: VecDeque::new(),
                draining: false,
                next_ticket: 0,
            }),
            capacity: capacity.max(1),
        }
    }

    fn state(&self) -> MutexGuard<'_, State<Item, Outcome>> {
        // Nothing panics while holding the lock; a poisoned state is still consistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `item`: its ticket, where its outcome will arrive, and the drainer when none exists
    /// (the caller must then run it: [`Drainer::drain`]).
    fn push(self: &Arc<Self>, item: Item) -> Result<Queued<Item, Outcome>, Unwritten> {
        let (reply, outcome) = oneshot::channel();
        let mut state = self.state();
        if state.waiting.len() >= self.capacity {
            return Err(Unwritten::Full);
        }
        let ticket = state.next_ticket;
        state.next_ticket = state.next_ticket.wrapping_add(1);
        state.waiting.push_back(Waiting {
            ticket,
            item,
            reply,
        });
        // The guard exists from here on, so a drainer dropped before it ever ran still frees the
        // queue.
        let drainer = (!state.draining).then(|| Drainer {
            queue: Arc::clone(self),
            finished: false,
        });
        state.draining = true;
        Ok(Queued {
            ticket,
            outcome,
            drainer,
        })
    }

    /// Takes the item `ticket` back if no batch has taken it yet.
    fn withdraw(&self, ticket: u64) -> bool {
        let mut state = self.state();
        let before = state.waiting.len();
        state.waiting.retain(|waiting| waiting.ticket != ticket);
        state.waiting.len() < before
    }

    /// Writes `item` with the next batch and returns its outcome. `start` receives the drainer
    /// when no drainer exists, and must run it (typically in a task of its own, so a caller that
    /// goes away cannot strand the others).
    ///
    /// # Errors
    /// [`Unwritten`]: the queue was full, the item waited `max_wait` without being taken, the
    /// drainer died before taking it (all three: not written), or its batch did not finish
    /// (unknown).
    pub(crate) async fn submit(
        self: &Arc<Self>,
        item: Item,
        max_wait: Duration,
        start: impl FnOnce(Drainer<Item, Outcome>),
    ) -> Result<Outcome, Unwritten> {
        let Queued {
            ticket,
            mut outcome,
            drainer,
        } = self.push(item)?;
        if let Some(drainer) = drainer {
            start(drainer);
        }
        match tokio::time::timeout(max_wait, &mut outcome).await {
            // A reply dropped unsent: the drainer died while writing the item's batch.
            Ok(answer) => answer.unwrap_or(Err(Unwritten::Unknown)),
            Err(_) if self.withdraw(ticket) => Err(Unwritten::TimedOut),
            // Taken into a batch meanwhile: it is being written, so its outcome must be heard.
            Err(_) => outcome.await.unwrap_or(Err(Unwritten::Unknown)),
        }
    }

    /// Stops draining and turns every waiting item away with [`Unwritten::Abandoned`].
    fn abandon(&self) {
        let waiting = {
            let mut state = self.state();
            state.draining = false;
            std::mem::take(&mut state.waiting)
        };
        for waiting in waiting {
            let _ = waiting.reply.send(Err(Unwritten::Abandoned));
        }
    }

    /// The next batch, at most `max` items in arrival order; `None` when nothing waits, and then
    /// the drainer must stop (the next push creates a new one).
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

/// The right and duty to write a queue's items: exactly one exists while items wait. Dropping it
/// before the queue is empty (a task cancelled before or while it runs, a panic) frees the queue:
/// waiting callers get [`Unwritten::Abandoned`], those of the batch being written
/// [`Unwritten::Unknown`], and the next push creates a new drainer.
pub(crate) struct Drainer<Item, Outcome> {
    queue: Arc<BatchQueue<Item, Outcome>>,
    finished: bool,
}

impl<Item, Outcome> Drop for Drainer<Item, Outcome> {
    fn drop(&mut self) {
        if !self.finished {
            tracing::error!("a batch drainer stopped before its queue was empty");
            self.queue.abandon();
        }
    }
}

impl<Item, Outcome> Drainer<Item, Outcome> {
    /// Writes the queued items with `write`, batch after batch (at most `max` each), until none
    /// wait, and hands each caller its outcome (`write` returns one per item, in order). A batch
    /// not written within `write_for` is dropped and its callers get [`Unwritten::Unknown`].
    pub(crate) async fn drain<F, Fut>(mut self, max: usize, write_for: Duration, mut write: F)
    where
        F: FnMut(Vec<Item>) -> Fut,
        Fut: Future<Output = Vec<Outcome>>,
    {
        while let Some(batch) = self.queue.next_batch(max) {
            let (items, replies): (Vec<Item>, Vec<_>) = batch
                .into_iter()
                .map(|waiting| (waiting.item, waiting.reply))
                .unzip();
            match tokio::time::timeout(write_for, write(items)).await {
                Ok(outcomes) => {
                    for (reply, outcome) in replies.into_iter().zip(outcomes) {
                        let _ = reply.send(Ok(outcome));
                    }
                }
                Err(_) => {
                    tracing::error!(
                        size = replies.len(),
                        "a batch overran its time; its outcome is unknown"
                    );
                    for reply in replies {
                        let _ = reply.send(Err(Unwritten::Unknown));
                    }
                }
            }
        }
        self.finished = true;
    }
}

/// Writes `items` in one go with `write`; if that fails with an error a single item can cause
/// (`isolable`), writes each item alone so one bad item fails only itself. An error no item
/// causes (an outage, a timeout) answers every item not yet written at once, via `failed`.
pub(crate) async fn write_isolating<Item, Outcome, Error, Fut>(
    items: &[Item],
    write: impl Fn(Vec<Item>) -> Fut,
    isolable: impl Fn(&Error) -> bool,
    failed: impl Fn(Error) -> Outcome,
) -> Vec<Outcome>
where
    Item: Clone,
    Error: Clone + std::fmt::Display,
    Fut: Future<Output = Result<Vec<Outcome>, Error>>,
{
    match write(items.to_vec()).await {
        Ok(outcomes) => return outcomes,
        Err(error) if items.len() > 1 && isolable(&error) => {
            tracing::warn!(%error, size = items.len(), "batch failed; writing its items one by one");
        }
        Err(error) => return items.iter().map(|_| failed(error.clone())).collect(),
    }
    let mut outcomes = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        match write(vec![item.clone()]).await {
            Ok(one) => outcomes.extend(one),
            Err(error) if isolable(&error) => outcomes.push(failed(error)),
            Err(error) => {
                outcomes.extend(items[index..].iter().map(|_| failed(error.clone())));
                break;
            }
        }
    }
    outcomes
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    type Queue = Arc<BatchQueue<u32, u32>>;

    /// Time enough for any batch of these tests.
    const AMPLE: Duration = Duration::from_secs(30);

    fn queue(capacity: usize) -> Queue {
        Arc::new(BatchQueue::new(capacity))
    }

    fn items(batch: Option<Vec<Waiting<u32, u32>>>) -> Option<Vec<u32>> {
        batch.map(|batch| batch.iter().map(|waiting| waiting.item).collect())
    }

    #[test]
    fn one_drainer_takes_batches_in_arrival_order_until_empty() {
        let queue = queue(10);
        let drainer = queue.push(1).expect("room").drainer;
        assert!(drainer.is_some(), "the first caller gets the drainer");
        let other = queue.push(2).expect("room").drainer;
        let another = queue.push(3).expect("room").drainer;
        assert!(
            other.is_none() && another.is_none(),
            "one drainer at a time"
        );
        assert_eq!(items(queue.next_batch(2)), Some(vec![1, 2]));
        assert_eq!(items(queue.next_batch(2)), Some(vec![3]));
        assert!(queue.next_batch(2).is_none());
        std::mem::forget(drainer);
        let drainer = queue.push(4).expect("room").drainer;
        assert!(drainer.is_some(), "after a drain, the next caller gets one");
        std::mem::forget(drainer);
    }

    #[tokio::test]
    async fn a_drain_hands_each_caller_its_own_outcome() {
        let queue = queue(10);
        let mut answers = Vec::new();
        let mut drainer = None;
        for item in 1..=5 {
            let queued = queue.push(item).expect("room");
            answers.push(queued.outcome);
            drainer = drainer.or(queued.drainer);
        }
        let mut sizes = Vec::new();
        drainer
            .expect("a drainer")
            .drain(2, AMPLE, |items| {
                sizes.push(items.len());
                async move { items.iter().map(|item| item * 10).collect() }
            })
            .await;
        assert_eq!(sizes, [2, 2, 1]);
        let mut outcomes = Vec::new();
        for answer in answers {
            outcomes.push(answer.await.ok());
        }
        assert_eq!(
            outcomes,
            [10, 20, 30, 40, 50].map(|outcome| Some(Ok(outcome)))
        );
        let drainer = queue.push(6).expect("room").drainer;
        assert!(
            drainer.is_some(),
            "a finished drain lets the next caller drain"
        );
        std::mem::forget(drainer);
    }

    #[tokio::test]
    async fn a_drain_that_dies_frees_the_queue_and_its_callers() {
        let queue = queue(10);
        let Queued {
            outcome: first,
            drainer,
            ..
        } = queue.push(1).expect("room");
        let second = queue.push(2).expect("room").outcome;
        {
            let stuck = drainer
                .expect("a drainer")
                .drain(1, AMPLE, |_| std::future::pending::<Vec<u32>>());
            let stuck = std::pin::pin!(stuck);
            let mut context = std::task::Context::from_waker(std::task::Waker::noop());
            assert!(stuck.poll(&mut context).is_pending());
        }
        assert!(
            first.await.is_err(),
            "the batch in flight has no answer: its outcome is unknown"
        );
        assert_eq!(
            second.await.ok(),
            Some(Err(Unwritten::Abandoned)),
            "a waiting one was not written"
        );
        assert!(
            queue.push(3).expect("room").drainer.is_some(),
            "a new drainer"
        );
    }

    #[tokio::test]
    async fn a_drainer_dropped_before_it_ever_ran_frees_the_queue() {
        let queue = queue(10);
        let Queued {
            outcome: first,
            drainer,
            ..
        } = queue.push(1).expect("room");
        let never_polled =
            drainer
                .expect("a drainer")
                .drain(4, AMPLE, |items| async move { items });
        drop(never_polled);
        assert_eq!(
            first.await.ok(),
            Some(Err(Unwritten::Abandoned)),
            "its caller hears it was not written"
        );
        assert!(
            queue.push(2).expect("room").drainer.is_some(),
            "a new drainer"
        );
    }

    #[tokio::test]
    async fn a_full_queue_turns_the_next_caller_away_at_once() {
        let queue = queue(2);
        let drainer = queue.push(1).expect("room").drainer;
        assert!(queue.push(2).is_ok());
        assert!(matches!(queue.push(3), Err(Unwritten::Full)));
        assert!(queue.next_batch(1).is_some());
        assert!(queue.push(3).is_ok(), "room again once a batch was taken");
        assert!(matches!(queue.push(4), Err(Unwritten::Full)));
        std::mem::forget(drainer);
    }

    #[tokio::test]
    async fn a_caller_not_taken_in_time_withdraws_its_item() {
        let queue = queue(10);
        let parked = RefCell::new(None);
        let outcome = queue
            .submit(1, Duration::from_millis(20), |drainer| {
                *parked.borrow_mut() = Some(drainer);
            })
            .await;
        assert_eq!(outcome, Err(Unwritten::TimedOut));
        let drainer = parked
            .into_inner()
            .expect("the caller was handed the drainer");
        let mut written = Vec::new();
        drainer
            .drain(4, AMPLE, |items| {
                written.extend(items.clone());
                async move { items }
            })
            .await;
        assert!(written.is_empty(), "a withdrawn item is never written");
    }

    #[tokio::test]
    async fn a_caller_whose_item_is_being_written_waits_for_its_outcome() {
        let queue = queue(10);
        let outcome = queue
            .submit(7, Duration::from_millis(10), |drainer| {
                tokio::spawn(drainer.drain(4, AMPLE, |items| async move {
                    tokio::time::sleep(Duration::from_millis(60)).await;
                    items.iter().map(|item| item + 1).collect()
                }));
            })
            .await;
        assert_eq!(
            outcome,
            Ok(8),
            "taken into a batch, so written: not withdrawn"
        );
    }

    #[tokio::test]
    async fn a_batch_that_overruns_its_time_leaves_its_outcome_unknown_and_the_queue_free() {
        let queue = queue(10);
        let outcome = queue
            .submit(1, AMPLE, |drainer| {
                tokio::spawn(drainer.drain(4, Duration::from_millis(30), |_| {
                    std::future::pending::<Vec<u32>>()
                }));
            })
            .await;
        assert_eq!(outcome, Err(Unwritten::Unknown));
        let outcome = queue
            .submit(2, AMPLE, |drainer| {
                tokio::spawn(drainer.drain(4, AMPLE, |items| async move { items }));
            })
            .await;
        assert_eq!(outcome, Ok(2), "the next write goes through");
    }

    #[derive(Debug, Clone, PartialEq)]
    enum Fault {
        Item(u32),
        Outage,
    }

    impl std::fmt::Display for Fault {
        fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(formatter, "{self:?}")
        }
    }

    async fn isolate(
        items: &[u32],
        fault: impl Fn(&[u32]) -> Option<Fault>,
    ) -> (Vec<Result<u32, Fault>>, usize) {
        let calls = RefCell::new(0);
        let outcomes = write_isolating(
            items,
            |batch: Vec<u32>| {
                *calls.borrow_mut() += 1;
                let outcome = match fault(&batch) {
                    Some(fault) => Err(fault),
                    None => Ok(batch.iter().map(|item| Ok(item * 10)).collect()),
                };
                std::future::ready(outcome)
            },
            |fault| matches!(fault, Fault::Item(_)),
            Err,
        )
        .await;
        (outcomes, calls.into_inner())
    }

    #[tokio::test]
    async fn one_bad_item_fails_only_itself() {
        let (outcomes, calls) = isolate(&[1, 2, 3], |batch| {
            batch.contains(&2).then_some(Fault::Item(2))
        })
        .await;
        assert_eq!(outcomes, [Ok(10), Err(Fault::Item(2)), Ok(30)]);
        assert_eq!(calls, 4, "the batch, then each item alone");
    }

    #[tokio::test]
    async fn an_outage_fails_the_whole_batch_at_once() {
        let (outcomes, calls) = isolate(&[1, 2, 3], |_| Some(Fault::Outage)).await;
        assert_eq!(
            outcomes,
            [Err(Fault::Outage), Err(Fault::Outage), Err(Fault::Outage)]
        );
        assert_eq!(calls, 1, "no item is tried alone");
    }

    #[tokio::test]
    async fn an_outage_while_isolating_fails_the_rest_at_once() {
        let (outcomes, calls) = isolate(&[1, 2, 3, 4], |batch| match batch {
            [1] => None,
            [2] => Some(Fault::Outage),
            _ => Some(Fault::Item(0)),
        })
        .await;
        assert_eq!(
            outcomes,
            [
                Ok(10),
                Err(Fault::Outage),
                Err(Fault::Outage),
                Err(Fault::Outage)
            ]
        );
        assert_eq!(calls, 3, "the batch, item 1, item 2; then it stops");
    }
}
