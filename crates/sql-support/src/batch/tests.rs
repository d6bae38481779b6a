//! The queue's bounds and failure paths, each on its own.
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
    let never_polled = drainer
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
