//! Contracts of `ExamSlotRepository` and `ReservationRepository`, with the races that must never
//! oversell an hour: one file per concern, over the fixtures here that every case builds on.

pub mod races;
pub mod reservations;
pub mod slots;

use crate::accounts::AccountStore;
use crate::support::{new_user, tag};
use chrono::{DateTime, Duration, DurationRound, Utc};
use reserva_application::ports::exams::{
    ExamSlotRepository, NewReservation, ReservationQuery, ReservationRepository,
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

/// The registered exam-store cases by file, listed once: [`crate::exam_store_tests!`]
/// expands them and the registration check compares them with the case files, so a case
/// written but not listed fails this crate's tests. Expands to
/// `$callback! { $args exams { file: [case, ...], ... } }`.
#[doc(hidden)]
#[macro_export]
macro_rules! __exam_store_cases {
    ($callback:path, $($args:tt)*) => {
        $callback! {
            $($args)*
            exams {
                slots: [
                    ensure_slots_is_idempotent_and_keeps_counts,
                    confirm_takes_capacity_in_every_hour_or_none,
                    insert_if_room_checks_every_covered_hour,
                    confirm_refuses_hours_without_slots,
                ],
                reservations: [
                    reservations_round_trip_and_filter,
                    cancel_releases_confirmed_capacity,
                    editing_a_confirmed_reservation_moves_its_capacity,
                ],
                races: [
                    concurrent_inserts_if_room_are_decided_one_by_one,
                    concurrent_confirms_never_oversell,
                    repeated_concurrent_confirms_count_once,
                    mixed_races_keep_counts_equal_to_confirmed_sums,
                ],
            }
        }
    };
}
