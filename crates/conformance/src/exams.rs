//! Contracts of `ExamSlotRepository` and `ReservationRepository`, with the races that must never
//! oversell an hour.

use crate::accounts::AccountStore;
use crate::support::{new_user, tag};
use chrono::{DateTime, Duration, DurationRound, Utc};
use futures_util::future::join_all;
use reserva_application::ports::exams::{
    ExamSlotRepository, NewReservation, ReservationQuery, ReservationRepository,
    ReservationWriteError,
};
use reserva_domain::accounts::{Role, UserId};
use reserva_domain::exams::{
    BusinessZone, Headcount, HourRange, Reservation, ReservationId, ReservationStatus,
};
use reserva_domain::paging::PageLimit;
use std::collections::HashMap;

/// What an exam store is (it also stores users: reservations belong to them).
pub trait ExamStore: ExamSlotRepository + ReservationRepository + AccountStore {}
impl<T: ExamSlotRepository + ReservationRepository + AccountStore + ?Sized> ExamStore for T {}

const ZONE: BusinessZone = BusinessZone::new(chrono_tz::Asia::Seoul);
const CAPACITY: u32 = 50_000;

/// A random whole hour far in the future, so cases never share hours.
fn some_hour() -> DateTime<Utc> {
    let base = Utc::now()
        .duration_trunc(Duration::hours(1))
        .unwrap_or_else(|_| Utc::now());
    let offset = i64::from(uuid::Uuid::new_v4().as_u128() as u16);
    base + Duration::days(10) + Duration::hours(offset)
}

async fn hours_with_slots<S: ExamStore>(
    store: &S,
    start: DateTime<Utc>,
    count: i64,
) -> Vec<DateTime<Utc>> {
    let hours: Vec<_> = (0..count).map(|i| start + Duration::hours(i)).collect();
    let created = store.ensure_slots(&hours, CAPACITY).await;
    assert!(created.is_ok(), "{created:?}");
    hours
}

async fn user<S: ExamStore>(store: &S) -> UserId {
    match store
        .insert_user(new_user(&format!("exam{}", tag()), Role::Member))
        .await
    {
        Ok(user) => user.id,
        Err(error) => panic!("insert_user: {error}"),
    }
}

fn range(start: DateTime<Utc>, hours: i64) -> HourRange {
    HourRange::new(start, start + Duration::hours(hours), ZONE).unwrap_or_else(|e| panic!("{e}"))
}

fn people(count: i64) -> Headcount {
    Headcount::new(count).unwrap_or_else(|e| panic!("{e}"))
}

async fn pending<S: ExamStore>(
    store: &S,
    owner: UserId,
    start: DateTime<Utc>,
    hours: i64,
    count: i64,
) -> Reservation {
    let new = NewReservation {
        id: ReservationId::from_uuid(uuid::Uuid::now_v7()),
        user_id: owner,
        range: range(start, hours),
        headcount: people(count),
        now: crate::support::now(),
    };
    store
        .insert_reservation(new)
        .await
        .unwrap_or_else(|e| panic!("insert_reservation: {e}"))
}

async fn confirmed_at<S: ExamStore>(store: &S, hours: &[DateTime<Utc>]) -> Vec<u32> {
    let (Some(first), Some(last)) = (hours.first(), hours.last()) else {
        return vec![];
    };
    let slots = store
        .slots_between(*first, *last + Duration::hours(1))
        .await
        .unwrap_or_default();
    hours
        .iter()
        .map(|hour| {
            slots
                .iter()
                .find(|s| s.starts_at == *hour)
                .map_or(u32::MAX, |s| s.confirmed)
        })
        .collect()
}

/// Every hour's count equals the sum of the confirmed reservations covering it.
async fn assert_counts_match_reservations<S: ExamStore>(store: &S, hours: &[DateTime<Utc>]) {
    let query = ReservationQuery {
        user_id: None,
        status: Some(ReservationStatus::Confirmed),
        from: hours.first().copied(),
        to: hours.last().map(|h| *h + Duration::hours(1)),
        before: None,
        limit: PageLimit::MAX_PAGE,
    };
    let mut sums: HashMap<DateTime<Utc>, u32> = HashMap::new();
    let mut page = store
        .list_reservations(&query)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    loop {
        for reservation in page.iter().take(usize::from(PageLimit::MAX)) {
            for hour in reservation.range.hours() {
                *sums.entry(hour).or_default() += reservation.headcount.get();
            }
        }
        if page.len() <= usize::from(PageLimit::MAX) {
            break;
        }
        let before = page.get(usize::from(PageLimit::MAX) - 1).map(|r| r.id);
        page = store
            .list_reservations(&ReservationQuery {
                before,
                ..query.clone()
            })
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let counts = confirmed_at(store, hours).await;
    for (hour, count) in hours.iter().zip(counts) {
        assert_eq!(count, sums.get(hour).copied().unwrap_or(0), "hour {hour}");
        assert!(count <= CAPACITY, "hour {hour} oversold: {count}");
    }
}

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

/// The same reservations confirmed several times at once, mixed with others (700 people each, so
/// 71 fit in an hour, as in BASELINE.md's probe): each is confirmed exactly once, its repeats are
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
