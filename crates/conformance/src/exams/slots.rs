//! How slots hold capacity: created once, never reset, and filled only when every covered hour
//! has room, by confirms and by the conditional insert alike.

use super::{
    CAPACITY, ExamStore, assert_counts_match_reservations, confirmed_at, hours_with_slots, pending,
    people, range, some_hour, user,
};
use chrono::Duration;
use reserva_application::ports::exams::{NewReservation, ReservationWriteError};
use reserva_domain::exams::{ReservationId, ReservationStatus};

/// Slot creation is idempotent and never resets counts.
pub async fn ensure_slots_is_idempotent_and_keeps_counts<S: ExamStore>(store: &S) {
    let start = some_hour();
    let hours = hours_with_slots(store, start, 3).await;
    let owner = user(store).await;
    let reservation = pending(store, owner, start, 2, 700).await;
    assert!(
        store
            .confirm_reservation(reservation.id, crate::support::now())
            .await
            .is_ok()
    );
    let again = store.ensure_slots(&hours, CAPACITY).await;
    assert_eq!(again, Ok(0));
    let more: Vec<_> = (0..5).map(|i| start + Duration::hours(i)).collect();
    assert_eq!(store.ensure_slots(&more, CAPACITY).await, Ok(2));
    assert_eq!(confirmed_at(store, &more).await, [700, 700, 0, 0, 0]);
    let slots = store
        .slots_between(start, start + Duration::hours(5))
        .await
        .unwrap_or_default();
    assert_eq!(
        slots.iter().map(|s| s.starts_at).collect::<Vec<_>>(),
        more,
        "ordered, half-open"
    );
    assert!(slots.iter().all(|s| s.capacity == CAPACITY));
}

/// 30,000 confirmed + 20,000 fits; + 20,001 does not, and a failed confirm changes nothing.
pub async fn confirm_takes_capacity_in_every_hour_or_none<S: ExamStore>(store: &S) {
    let start = some_hour();
    let hours = hours_with_slots(store, start, 3).await;
    let owner = user(store).await;
    let base = pending(store, owner, start + Duration::hours(1), 1, 30_000).await;
    let confirmed = store
        .confirm_reservation(base.id, crate::support::now())
        .await;
    let Ok(confirmed) = confirmed else {
        panic!("{confirmed:?}")
    };
    assert_eq!(confirmed.status, ReservationStatus::Confirmed);
    assert!(confirmed.confirmed_at.is_some());
    let too_many = pending(store, owner, start, 3, 20_001).await;
    let result = store
        .confirm_reservation(too_many.id, crate::support::now())
        .await;
    assert_eq!(
        result.err(),
        Some(ReservationWriteError::CapacityExceeded {
            hour: start + Duration::hours(1)
        })
    );
    assert_eq!(
        confirmed_at(store, &hours).await,
        [0, 30_000, 0],
        "nothing changed in any hour"
    );
    assert_eq!(
        store
            .find_reservation(too_many.id)
            .await
            .ok()
            .flatten()
            .map(|r| r.status),
        Some(ReservationStatus::Pending)
    );
    let just_fits = pending(store, owner, start, 3, 20_000).await;
    assert!(
        store
            .confirm_reservation(just_fits.id, crate::support::now())
            .await
            .is_ok()
    );
    assert_eq!(confirmed_at(store, &hours).await, [20_000, 50_000, 20_000]);
    let again = store
        .confirm_reservation(just_fits.id, crate::support::now())
        .await;
    assert_eq!(
        again.err(),
        Some(ReservationWriteError::StatusChanged {
            current: ReservationStatus::Confirmed
        })
    );
    let missing = store
        .confirm_reservation(
            ReservationId::from_uuid(uuid::Uuid::now_v7()),
            crate::support::now(),
        )
        .await;
    assert_eq!(missing.err(), Some(ReservationWriteError::NotFound));
    assert_counts_match_reservations(store, &hours).await;
}

/// The conditional insert stores a reservation only when every covered hour has a slot with room
/// for its headcount (30,000 confirmed: 20,000 fits, 20,001 does not); refused, it stores nothing.
pub async fn insert_if_room_checks_every_covered_hour<S: ExamStore>(store: &S) {
    let start = some_hour();
    let hours = hours_with_slots(store, start, 3).await;
    let owner = user(store).await;
    let base = pending(store, owner, start + Duration::hours(1), 1, 30_000).await;
    assert!(
        store
            .confirm_reservation(base.id, crate::support::now())
            .await
            .is_ok()
    );
    let attempt = |hours_count: i64, count: i64| {
        let new = NewReservation {
            id: ReservationId::from_uuid(uuid::Uuid::now_v7()),
            user_id: owner,
            range: range(start, hours_count),
            headcount: people(count),
            now: crate::support::now(),
        };
        async move { (new.id, store.insert_reservation_if_room(new).await) }
    };
    let (too_many, refused) = attempt(3, 20_001).await;
    assert_eq!(refused, Ok(None), "one hour lacks room");
    let (beyond, missing) = attempt(4, 1).await;
    assert_eq!(missing, Ok(None), "the fourth hour has no slot");
    for id in [too_many, beyond] {
        assert_eq!(store.find_reservation(id).await, Ok(None), "nothing stored");
    }
    let (fits, stored) = attempt(3, 20_000).await;
    let Ok(Some(stored)) = stored else {
        panic!("{stored:?}")
    };
    assert_eq!(
        (stored.id, stored.status, stored.headcount, stored.range),
        (
            fits,
            ReservationStatus::Pending,
            people(20_000),
            range(start, 3)
        )
    );
    assert_eq!(store.find_reservation(fits).await, Ok(Some(stored)));
    assert_eq!(
        confirmed_at(store, &hours).await,
        [0, 30_000, 0],
        "pending reservations take no capacity"
    );
}

/// A covered hour without a slot refuses the confirm.
pub async fn confirm_refuses_hours_without_slots<S: ExamStore>(store: &S) {
    let start = some_hour();
    hours_with_slots(store, start, 1).await;
    let owner = user(store).await;
    let reservation = pending(store, owner, start, 2, 5).await;
    let result = store
        .confirm_reservation(reservation.id, crate::support::now())
        .await;
    assert_eq!(
        result.err(),
        Some(ReservationWriteError::MissingSlot {
            hour: start + Duration::hours(1)
        })
    );
    assert_eq!(confirmed_at(store, &[start]).await, [0]);
}
