//! Concurrent writes over the same hours: however they interleave, no hour is oversold and every
//! count equals the sum of its confirmed reservations.

use super::{
    ExamStore, assert_counts_match_reservations, confirmed_at, hours_with_slots, pending, people,
    range, some_hour, user,
};
use chrono::Duration;
use futures_util::future::join_all;
use reserva_application::ports::exams::{NewReservation, ReservationWriteError};
use reserva_domain::exams::{ReservationId, ReservationStatus};

/// Many conditional inserts at once (a store may batch them): each is decided on its own.
pub async fn concurrent_inserts_if_room_are_decided_one_by_one<S: ExamStore>(store: &S) {
    let start = some_hour();
    let hours = hours_with_slots(store, start, 2).await;
    let owner = user(store).await;
    let base = pending(store, owner, start, 1, 30_000).await;
    assert!(
        store
            .confirm_reservation(base.id, crate::support::now())
            .await
            .is_ok()
    );
    let requests: Vec<NewReservation> = (0..90)
        .map(|index| NewReservation {
            id: ReservationId::from_uuid(uuid::Uuid::now_v7()),
            user_id: owner,
            // fits / one person too many / runs into an hour without a slot
            range: range(start, if index % 3 == 2 { 3 } else { 2 }),
            headcount: people(if index % 3 == 1 { 20_001 } else { 20_000 }),
            now: crate::support::now(),
        })
        .collect();
    let outcomes = join_all(
        requests
            .iter()
            .map(|new| store.insert_reservation_if_room(new.clone())),
    )
    .await;
    for (index, (new, outcome)) in requests.iter().zip(&outcomes).enumerate() {
        match outcome {
            Ok(Some(stored)) => {
                assert_eq!(index % 3, 0, "only fitting requests are stored");
                assert_eq!((stored.id, stored.headcount), (new.id, new.headcount));
            }
            Ok(None) => assert_ne!(index % 3, 0, "a fitting request was refused"),
            Err(error) => panic!("{error}"),
        }
        let found = store.find_reservation(new.id).await;
        assert_eq!(found.map(|r| r.is_some()), Ok(index % 3 == 0));
    }
    assert_eq!(confirmed_at(store, &hours).await, [30_000, 0]);
}

/// The same reservations confirmed several times at once, mixed with others (700 people each, so
/// 71 fit in an hour, as in the load tool's correctness probe): each is confirmed exactly once, its repeats are
/// refused as no longer pending, and the hour holds exactly the confirmed sum.
pub async fn repeated_concurrent_confirms_count_once<S: ExamStore>(store: &S) {
    let start = some_hour();
    let hours = hours_with_slots(store, start, 1).await;
    let owner = user(store).await;
    let mut ids = Vec::new();
    for _ in 0..80 {
        ids.push(pending(store, owner, start, 1, 700).await.id);
    }
    let repeated: Vec<ReservationId> = ids.iter().take(10).copied().collect();
    let attempts: Vec<ReservationId> = ids
        .iter()
        .copied()
        .chain(repeated.iter().copied())
        .chain(repeated.iter().copied())
        .collect();
    let results = join_all(
        attempts
            .iter()
            .map(|id| store.confirm_reservation(*id, crate::support::now())),
    )
    .await;
    let mut confirmed_ids = std::collections::HashSet::new();
    let (mut repeats_refused, mut full) = (0, 0);
    for result in &results {
        match result {
            Ok(reservation) => assert!(confirmed_ids.insert(reservation.id), "confirmed twice"),
            Err(ReservationWriteError::StatusChanged {
                current: ReservationStatus::Confirmed,
            }) => repeats_refused += 1,
            Err(ReservationWriteError::CapacityExceeded { hour }) => {
                assert_eq!(*hour, start);
                full += 1;
            }
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(confirmed_ids.len(), 71, "71 × 700 = 49,700 fit in 50,000");
    assert_eq!(confirmed_ids.len() + repeats_refused + full, attempts.len());
    assert_eq!(confirmed_at(store, &hours).await, [71 * 700]);
    assert_counts_match_reservations(store, &hours).await;
}

/// 200 concurrent confirms of pending 30,000-person reservations on one hour: exactly one wins
/// and the hour holds 30,000.
pub async fn concurrent_confirms_never_oversell<S: ExamStore>(store: &S) {
    let start = some_hour();
    let hours = hours_with_slots(store, start, 1).await;
    let owner = user(store).await;
    let mut ids = Vec::new();
    for _ in 0..200 {
        ids.push(pending(store, owner, start, 1, 30_000).await.id);
    }
    let results = join_all(
        ids.iter()
            .map(|id| store.confirm_reservation(*id, crate::support::now())),
    )
    .await;
    let won = results.iter().filter(|r| r.is_ok()).count();
    let full = results
        .iter()
        .filter(|r| matches!(r, Err(ReservationWriteError::CapacityExceeded { .. })))
        .count();
    assert_eq!(
        (won, full),
        (1, 199),
        "{:?}",
        results
            .iter()
            .filter(
                |r| r.is_err() && !matches!(r, Err(ReservationWriteError::CapacityExceeded { .. }))
            )
            .collect::<Vec<_>>()
    );
    assert_eq!(confirmed_at(store, &hours).await, [30_000]);
    assert_counts_match_reservations(store, &hours).await;
}

/// Concurrent confirms, admin edits and cancels over overlapping hours keep every hour's count
/// equal to the sum of its confirmed reservations.
pub async fn mixed_races_keep_counts_equal_to_confirmed_sums<S: ExamStore>(store: &S) {
    let start = some_hour();
    let hours = hours_with_slots(store, start, 4).await;
    let owner = user(store).await;
    let mut reservations = Vec::new();
    for index in 0..40_i64 {
        reservations.push(
            pending(
                store,
                owner,
                start + Duration::hours(index % 3),
                1 + index % 2,
                4_000 + index * 100,
            )
            .await,
        );
    }
    let confirms = join_all(
        reservations
            .iter()
            .map(|r| store.confirm_reservation(r.id, crate::support::now())),
    )
    .await;
    assert!(
        confirms
            .iter()
            .all(|r| r.is_ok() || matches!(r, Err(ReservationWriteError::CapacityExceeded { .. }))),
        "{confirms:?}"
    );
    let now = crate::support::now();
    let operations = reservations
        .iter()
        .enumerate()
        .map(|(index, reservation)| async move {
            match index % 4 {
                0 => store
                    .cancel_reservation(reservation.id, ReservationStatus::Confirmed, now)
                    .await
                    .map(drop),
                1 => store
                    .update_reservation(
                        reservation.id,
                        ReservationStatus::Confirmed,
                        range(start + Duration::hours(1), 3),
                        people(3_000),
                        now,
                    )
                    .await
                    .map(drop),
                2 => store
                    .cancel_reservation(reservation.id, ReservationStatus::Pending, now)
                    .await
                    .map(drop),
                _ => store
                    .confirm_reservation(reservation.id, now)
                    .await
                    .map(drop),
            }
        });
    let outcomes = join_all(operations).await;
    assert!(
        outcomes.iter().all(|r| !matches!(
            r,
            Err(ReservationWriteError::Dependency(_)) | Err(ReservationWriteError::NotFound)
        )),
        "{outcomes:?}"
    );
    assert_counts_match_reservations(store, &hours).await;
}
