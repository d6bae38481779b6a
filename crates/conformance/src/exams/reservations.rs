//! A single reservation's life: read back and listed as written, cancelled and edited with its
//! capacity following it.

use super::{
    ExamStore, assert_counts_match_reservations, confirmed_at, hours_with_slots, pending, people,
    range, some_hour, user,
};
use chrono::Duration;
use reserva_application::ports::exams::{ReservationQuery, ReservationWriteError};
use reserva_domain::exams::{Reservation, ReservationId, ReservationStatus};
use reserva_domain::paging::PageLimit;

/// Reservations read back as written and list newest first with filters.
pub async fn reservations_round_trip_and_filter<S: ExamStore>(store: &S) {
    let start = some_hour();
    hours_with_slots(store, start, 4).await;
    let (alice, bob) = (user(store).await, user(store).await);
    let first = pending(store, alice, start, 2, 10).await;
    let second = pending(store, alice, start + Duration::hours(2), 2, 20).await;
    let other = pending(store, bob, start, 1, 30).await;
    assert_eq!(
        store.find_reservation(first.id).await,
        Ok(Some(first.clone()))
    );
    assert_eq!(first.status, ReservationStatus::Pending);
    assert_eq!((first.confirmed_at, first.cancelled_at), (None, None));
    let base = ReservationQuery {
        user_id: Some(alice),
        status: None,
        from: None,
        to: None,
        before: None,
        limit: PageLimit::DEFAULT,
    };
    let ids = |rows: Vec<Reservation>| rows.into_iter().map(|r| r.id).collect::<Vec<_>>();
    assert_eq!(
        ids(store.list_reservations(&base).await.unwrap_or_default()),
        [second.id, first.id]
    );
    let early = ReservationQuery {
        to: Some(start + Duration::hours(2)),
        ..base.clone()
    };
    assert_eq!(
        ids(store.list_reservations(&early).await.unwrap_or_default()),
        [first.id],
        "to: starts before"
    );
    let late = ReservationQuery {
        from: Some(start + Duration::hours(2)),
        ..base.clone()
    };
    assert_eq!(
        ids(store.list_reservations(&late).await.unwrap_or_default()),
        [second.id],
        "from: ends after"
    );
    let paged = ReservationQuery {
        before: Some(second.id),
        ..base.clone()
    };
    assert_eq!(
        ids(store.list_reservations(&paged).await.unwrap_or_default()),
        [first.id]
    );
    let everyone = ReservationQuery {
        user_id: None,
        from: Some(start),
        to: Some(start + Duration::hours(4)),
        ..base.clone()
    };
    assert_eq!(
        ids(store.list_reservations(&everyone).await.unwrap_or_default()),
        [other.id, second.id, first.id]
    );
    assert!(
        store
            .cancel_reservation(other.id, ReservationStatus::Pending, crate::support::now())
            .await
            .is_ok()
    );
    let live = ReservationQuery {
        status: Some(ReservationStatus::Pending),
        ..everyone
    };
    assert_eq!(
        ids(store.list_reservations(&live).await.unwrap_or_default()),
        [second.id, first.id]
    );
    assert_eq!(
        store
            .find_reservation(ReservationId::from_uuid(uuid::Uuid::now_v7()))
            .await,
        Ok(None)
    );
}

/// Cancelling a confirmed reservation gives its capacity back; expected status is enforced.
pub async fn cancel_releases_confirmed_capacity<S: ExamStore>(store: &S) {
    let start = some_hour();
    let hours = hours_with_slots(store, start, 2).await;
    let owner = user(store).await;
    let reservation = pending(store, owner, start, 2, 400).await;
    assert!(
        store
            .confirm_reservation(reservation.id, crate::support::now())
            .await
            .is_ok()
    );
    let wrong = store
        .cancel_reservation(
            reservation.id,
            ReservationStatus::Pending,
            crate::support::now(),
        )
        .await;
    assert_eq!(
        wrong.err(),
        Some(ReservationWriteError::StatusChanged {
            current: ReservationStatus::Confirmed
        })
    );
    assert_eq!(confirmed_at(store, &hours).await, [400, 400]);
    let cancelled = store
        .cancel_reservation(
            reservation.id,
            ReservationStatus::Confirmed,
            crate::support::now(),
        )
        .await;
    let Ok(cancelled) = cancelled else {
        panic!("{cancelled:?}")
    };
    assert_eq!(cancelled.status, ReservationStatus::Cancelled);
    assert!(cancelled.cancelled_at.is_some());
    assert_eq!(confirmed_at(store, &hours).await, [0, 0]);
    let twice = store
        .cancel_reservation(
            reservation.id,
            ReservationStatus::Confirmed,
            crate::support::now(),
        )
        .await;
    assert_eq!(
        twice.err(),
        Some(ReservationWriteError::StatusChanged {
            current: ReservationStatus::Cancelled
        })
    );
    assert_eq!(
        confirmed_at(store, &hours).await,
        [0, 0],
        "capacity is released once"
    );
}

/// Editing a confirmed reservation releases the old hours and takes the new ones atomically.
pub async fn editing_a_confirmed_reservation_moves_its_capacity<S: ExamStore>(store: &S) {
    let start = some_hour();
    let hours = hours_with_slots(store, start, 4).await;
    let owner = user(store).await;
    let blocker = pending(store, owner, start + Duration::hours(3), 1, 49_000).await;
    assert!(
        store
            .confirm_reservation(blocker.id, crate::support::now())
            .await
            .is_ok()
    );
    let moving = pending(store, owner, start, 2, 1_000).await;
    assert!(
        store
            .confirm_reservation(moving.id, crate::support::now())
            .await
            .is_ok()
    );
    let later = crate::support::now() + Duration::seconds(1);
    let moved = store
        .update_reservation(
            moving.id,
            ReservationStatus::Confirmed,
            range(start + Duration::hours(1), 2),
            people(1_000),
            later,
        )
        .await;
    assert_eq!(
        moved.as_ref().map(|r| (r.range, r.headcount, r.updated_at)),
        Ok((range(start + Duration::hours(1), 2), people(1_000), later))
    );
    assert_eq!(confirmed_at(store, &hours).await, [0, 1_000, 1_000, 49_000]);
    let too_big = store
        .update_reservation(
            moving.id,
            ReservationStatus::Confirmed,
            range(start + Duration::hours(2), 2),
            people(1_001),
            later,
        )
        .await;
    assert_eq!(
        too_big.err(),
        Some(ReservationWriteError::CapacityExceeded {
            hour: start + Duration::hours(3)
        })
    );
    assert_eq!(
        confirmed_at(store, &hours).await,
        [0, 1_000, 1_000, 49_000],
        "old hours kept on failure"
    );
    let pending_edit = store
        .update_reservation(
            moving.id,
            ReservationStatus::Pending,
            range(start, 1),
            people(1),
            later,
        )
        .await;
    assert_eq!(
        pending_edit.err(),
        Some(ReservationWriteError::StatusChanged {
            current: ReservationStatus::Confirmed
        })
    );
    let draft = pending(store, owner, start, 1, 5).await;
    let edited = store
        .update_reservation(
            draft.id,
            ReservationStatus::Pending,
            range(start, 3),
            people(6),
            later,
        )
        .await;
    assert_eq!(
        edited.map(|r| (r.range.hours().len(), r.headcount.get())),
        Ok((3, 6))
    );
    assert_eq!(
        confirmed_at(store, &hours).await,
        [0, 1_000, 1_000, 49_000],
        "pending edits use no capacity"
    );
    assert_counts_match_reservations(store, &hours).await;
}
