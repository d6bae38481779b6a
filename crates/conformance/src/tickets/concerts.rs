//! Concerts and what is left of them: stored and read back, free seats of the performances on
//! sale, the seat map, and the inventory the waiting room is kept in step with.

use super::{
    PRICE, TicketsStore, concert, first_day, fund, hold, pay, performance, single, ttl, user,
};
use crate::support::now;
use chrono::Duration;
use reserva_domain::paging::PageLimit;
use reserva_domain::tickets::SeatState;

/// A concert comes back as stored, performances earliest first; lists are newest first, paged
/// by id.
pub async fn concerts_round_trip_and_list_newest_first<S: TicketsStore>(store: &S) {
    let day = first_day();
    let late = performance(day + Duration::hours(20), 30);
    let early = performance(day + Duration::hours(14), 50);
    let first = concert(store, vec![late.clone(), early.clone()]).await;
    assert_eq!(first.price.get(), PRICE);
    let starts: Vec<_> = first.performances.iter().map(|p| p.starts_at).collect();
    assert_eq!(starts, [early.starts_at, late.starts_at]);
    let found = store.find_concert(first.id).await;
    assert_eq!(found, Ok(Some(first.clone())));
    let performance = store.find_performance(early.id).await;
    let performance = performance.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(performance.as_ref(), first.performances.first());
    let performance = performance.unwrap_or_else(|| panic!("no performance"));
    assert_eq!(
        (
            performance.concert_id,
            performance.local_date,
            performance.seats.get()
        ),
        (first.id, early.local_date, 50)
    );
    assert_eq!(performance.cancelled_at, None);

    let second = concert(store, vec![super::performance(day, 1)]).await;
    let third = concert(store, vec![super::performance(day, 1)]).await;
    let limit = PageLimit::new(1).unwrap_or_else(|e| panic!("{e}"));
    let page = store.list_concerts(None, limit).await;
    let ids: Vec<_> = page.unwrap_or_default().iter().map(|c| c.id).collect();
    assert_eq!(ids, [third.id, second.id], "limit + 1, newest first");
    let page = store.list_concerts(Some(second.id), limit).await;
    assert_eq!(page, Ok(vec![first]));
}

/// Free seats are counted at `now`; cancelled, started and full performances are left out.
pub async fn available_performances_count_free_seats_of_those_on_sale<S: TicketsStore>(store: &S) {
    let day = first_day();
    let at = now();
    let busy = performance(day + Duration::hours(10), 4);
    let cancelled = performance(day + Duration::hours(11), 4);
    let started = performance(at - Duration::hours(1), 4);
    let full = performance(day + Duration::hours(12), 1);
    let untouched = performance(day + Duration::days(1), 3);
    let shown = concert(
        store,
        vec![
            busy.clone(),
            cancelled.clone(),
            started,
            full.clone(),
            untouched.clone(),
        ],
    )
    .await;
    let buyer = user();
    fund(store, buyer, PRICE).await;
    let sold = hold(store, busy.id, 1, buyer, at).await;
    pay(store, &sold, at).await;
    hold(store, busy.id, 2, user(), at).await;
    // expired long ago: free again
    hold(store, busy.id, 3, user(), at - ttl() * 2).await;
    hold(store, full.id, 1, user(), at).await;
    let cancel = store.cancel_performance(cancelled.id, at).await;
    assert!(cancel.is_ok(), "{cancel:?}");

    let available = store
        .available_performances(shown.id, at)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let counts: Vec<_> = available
        .iter()
        .map(|a| (a.performance.id, a.free_seats))
        .collect();
    assert_eq!(counts, [(busy.id, 2), (untouched.id, 3)]);
    // once the hold on the full one lapses, it is back
    let later = store
        .available_performances(shown.id, at + ttl())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let counts: Vec<_> = later
        .iter()
        .map(|a| (a.performance.id, a.free_seats))
        .collect();
    assert_eq!(counts, [(busy.id, 3), (full.id, 1), (untouched.id, 3)]);
}

/// Each seat shows available, held or sold at `now`; an expired hold shows available.
pub async fn seat_map_shows_each_seat_state<S: TicketsStore>(store: &S) {
    let (_, id) = single(store, 4).await;
    let at = now();
    let buyer = user();
    fund(store, buyer, PRICE).await;
    let sold = hold(store, id, 2, buyer, at).await;
    pay(store, &sold, at).await;
    hold(store, id, 3, user(), at).await;
    hold(store, id, 4, user(), at - ttl()).await;
    let map = store
        .seat_map(id, at)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("no seat map"));
    assert_eq!(map.performance.id, id);
    let states: Vec<_> = map.seats.iter().map(|(n, s)| (n.get(), *s)).collect();
    assert_eq!(
        states,
        [
            (1, SeatState::Available),
            (2, SeatState::Sold),
            (3, SeatState::Held),
            (4, SeatState::Available),
        ]
    );
    let unknown = reserva_domain::tickets::PerformanceId::from_uuid(uuid::Uuid::now_v7());
    assert_eq!(store.seat_map(unknown, at).await, Ok(None));
}

/// The inventory counts unsold seats of performances on sale and lists live holds; concerts on
/// sale are those with a performance on sale.
pub async fn inventory_counts_unsold_seats_and_live_holds<S: TicketsStore>(store: &S) {
    let day = first_day();
    let at = now();
    let open = performance(day + Duration::hours(19), 5);
    let past = performance(at - Duration::hours(2), 5);
    let shown = concert(store, vec![open.clone(), past]).await;
    let buyer = user();
    fund(store, buyer, PRICE).await;
    let sold = hold(store, open.id, 1, buyer, at).await;
    pay(store, &sold, at).await;
    let live = hold(store, open.id, 2, user(), at).await;
    hold(store, open.id, 3, user(), at - ttl()).await;
    let inventory = store
        .inventory(shown.id, at)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(inventory.unsold_seats, 4);
    assert_eq!(inventory.holds, vec![(live.id, live.expires_at)]);
    let on_sale = store.concerts_on_sale(at, None, 100).await;
    assert!(on_sale.unwrap_or_default().contains(&shown.id));
    let gone = concert(store, vec![performance(at - Duration::hours(1), 1)]).await;
    let on_sale = store.concerts_on_sale(at, None, 100).await;
    assert!(!on_sale.unwrap_or_default().contains(&gone.id));
    // Pages in id order, each after the last id of the one before: none skipped or repeated.
    let other = concert(store, vec![performance(first_day(), 1)]).await;
    let first = store.concerts_on_sale(at, None, 1).await;
    let first = first.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(first.len(), 1);
    let rest = store
        .concerts_on_sale(at, first.first().copied(), 100)
        .await;
    let rest = rest.unwrap_or_else(|e| panic!("{e}"));
    assert!(rest.iter().all(|id| Some(id) > first.first()), "{rest:?}");
    let all: Vec<_> = first.iter().chain(&rest).collect();
    assert!(
        all.contains(&&shown.id) && all.contains(&&other.id),
        "{all:?}"
    );
}
