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

use reserva_application::DependencyError;
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
pub enum Unwritten {
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

impl From<Unwritten> for DependencyError {
    /// A full queue or a write that waited too long means the database is not keeping up (503,
    /// retry later; nothing was written); a batch that did not finish may have committed (503
    /// `outcome_unknown`).
    fn from(unwritten: Unwritten) -> Self {
        match unwritten {
            Unwritten::Full => {
                Self::Unavailable("database: too many writes waiting for a batch".into())
            }
            Unwritten::TimedOut => {
                Self::Unavailable("database: no batch took the write in time".into())
            }
            Unwritten::Abandoned => {
                Self::Unavailable("database: the batch queue was abandoned (shutting down)".into())
            }
            Unwritten::Unknown => {
                Self::Indeterminate("database: the batch carrying the write did not finish".into())
            }
        }
    }
}

/// A queued item: its ticket, where its outcome arrives, and the drainer when none existed.
struct Queued<Item, Outcome> {
    ticket: u64,
    outcome: oneshot::Receiver<Result<Outcome, Unwritten>>,
    drainer: Option<Drainer<Item, Outcome>>,
}

/// Items waiting to be written, and whether someone is writing them.
pub struct BatchQueue<Item, Outcome> {
    state: Mutex<State<Item, Outcome>>,
    capacity: usize,
}

impl<Item, Outcome> BatchQueue<Item, Outcome> {
    /// A queue that holds at most `capacity` waiting items (at least one).
    pub fn new(capacity: usize) -> Self {
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
    pub async fn submit(
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
pub struct Drainer<Item, Outcome> {
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
    pub async fn drain<F, Fut>(mut self, max: usize, write_for: Duration, mut write: F)
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
pub async fn write_isolating<Item, Outcome, Error, Fut>(
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
mod tests;
