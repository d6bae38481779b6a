//! Holding seats: a free seat is held once, an expired hold frees its seat at its exact instant,
//! a user holds one seat per concert and date, and releasing is idempotent.

use super::{
    PRICE, TicketsStore, concert, first_day, fund, hold, hold_request, pay, performance, single,
    ttl, user,
};
use crate::support::now;
use chrono::Duration;
use reserva_application::ports::tickets::{HoldError, ReleaseError};
use reserva_domain::tickets::{HoldId, HoldStatus, PerformanceId};

/// A free seat is held for its user at the concert's price until the given instant.
pub async fn a_free_seat_is_held<S: TicketsStore>(store: &S) {
    let (concert, id) = single(store, 10).await;
    let (holder, at) = (user(), now());
    let request = hold_request(id, 7, holder, at);
    let held = store
        .hold_seat(request.clone())
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(
        (
            held.id,
            held.performance_id,
            held.concert_id,
            held.seat.get()
        ),
        (request.id, id, concert.id, 7)
    );
    assert_eq!((held.user_id, held.price.get()), (holder, PRICE));
    assert_eq!(held.status, HoldStatus::Held);
    assert_eq!((held.created_at, held.expires_at), (at, request.expires_at));
    assert_eq!(store.find_hold(held.id).await, Ok(Some(held)));
    let unknown = HoldId::from_uuid(uuid::Uuid::now_v7());
    assert_eq!(store.find_hold(unknown).await, Ok(None));
}

/// A seat under a live hold is unavailable to anyone, its holder included.
pub async fn a_held_seat_cannot_be_held_again<S: TicketsStore>(store: &S) {
    let (_, id) = single(store, 10).await;
    let (holder, at) = (user(), now());
    hold(store, id, 1, holder, at).await;
    let other = store.hold_seat(hold_request(id, 1, user(), at)).await;
    assert_eq!(other, Err(HoldError::SeatUnavailable));
    let again = store.hold_seat(hold_request(id, 1, holder, at)).await;
    assert_eq!(again, Err(HoldError::SeatUnavailable));
}

/// At `expires_at` the seat is free (and its holder may hold again); a microsecond before it is
/// not.
pub async fn an_expired_hold_frees_its_seat_at_exactly_expires_at<S: TicketsStore>(store: &S) {
    let (_, id) = single(store, 10).await;
    let first = hold(store, id, 3, user(), now()).await;
    let just_before = first.expires_at - Duration::microseconds(1);
    let early = store
        .hold_seat(hold_request(id, 3, user(), just_before))
        .await;
    assert_eq!(early, Err(HoldError::SeatUnavailable));
    let second = hold(store, id, 3, user(), first.expires_at).await;
    assert_eq!(second.seat, first.seat);
    // the first holder's claim on the date lapsed with the hold
    hold(store, id, 4, first.user_id, first.expires_at).await;
}

/// One hold or booking per user per concert and date: another date is fine, and so is the same
/// date once the hold is released, expired or the booking refunded.
pub async fn one_hold_per_user_per_concert_and_date<S: TicketsStore>(store: &S) {
    let day = first_day();
    let matinee = performance(day + Duration::hours(14), 10);
    let evening = performance(day + Duration::hours(20), 10);
    let tomorrow = performance(day + Duration::days(1) + Duration::hours(20), 10);
    concert(
        store,
        vec![matinee.clone(), evening.clone(), tomorrow.clone()],
    )
    .await;
    let (holder, at) = (user(), now());
    let first = hold(store, matinee.id, 1, holder, at).await;
    for (performance, number) in [(matinee.id, 2), (evening.id, 1)] {
        let refused = store
            .hold_seat(hold_request(performance, number, holder, at))
            .await;
        assert_eq!(refused, Err(HoldError::AlreadyHoldingForDate));
    }
    // nothing was stored by the refusals: the seats are free for others
    hold(store, evening.id, 1, user(), at).await;
    hold(store, tomorrow.id, 1, holder, at).await;
    // another concert on the same date is fine too
    let (_, elsewhere) = single(store, 1).await;
    hold(store, elsewhere, 1, holder, at).await;

    let released = store.release_hold(first.id, holder, at).await;
    assert!(released.is_ok(), "{released:?}");
    let second = hold(store, evening.id, 2, holder, at).await;
    let after_expiry = store
        .hold_seat(hold_request(matinee.id, 5, holder, second.expires_at))
        .await;
    assert!(after_expiry.is_ok(), "{after_expiry:?}");

    // a booking keeps the date taken
    let buyer = user();
    fund(store, buyer, PRICE).await;
    let bought = hold(store, matinee.id, 9, buyer, at).await;
    pay(store, &bought, at).await;
    let refused = store
        .hold_seat(hold_request(evening.id, 9, buyer, bought.expires_at))
        .await;
    assert_eq!(refused, Err(HoldError::AlreadyHoldingForDate));
}

/// Unknown performances, seats beyond the count, and cancelled or started performances.
pub async fn holds_outside_the_performance_or_off_sale_are_refused<S: TicketsStore>(store: &S) {
    let (_, id) = single(store, 10).await;
    let at = now();
    let unknown = PerformanceId::from_uuid(uuid::Uuid::now_v7());
    let refused = store.hold_seat(hold_request(unknown, 1, user(), at)).await;
    assert_eq!(refused, Err(HoldError::PerformanceNotFound));
    let refused = store.hold_seat(hold_request(id, 11, user(), at)).await;
    assert_eq!(
        refused,
        Err(HoldError::NoSuchSeat {
            seat: 11,
            count: 10
        })
    );
    let performance = store.find_performance(id).await.ok().flatten();
    let starts_at = performance.map_or(at, |p| p.starts_at);
    let refused = store
        .hold_seat(hold_request(id, 1, user(), starts_at))
        .await;
    assert_eq!(refused, Err(HoldError::NotOnSale), "started");
    let cancel = store.cancel_performance(id, at).await;
    assert!(cancel.is_ok(), "{cancel:?}");
    let refused = store.hold_seat(hold_request(id, 1, user(), at)).await;
    assert_eq!(refused, Err(HoldError::NotOnSale), "cancelled");
}

/// The owner's release frees the seat; someone else's is not found; a paid hold stays paid;
/// releasing again (or after expiry) changes nothing.
pub async fn release_frees_the_seat_and_is_idempotent<S: TicketsStore>(store: &S) {
    let (_, id) = single(store, 10).await;
    let (holder, at) = (user(), now());
    let held = hold(store, id, 1, holder, at).await;
    assert_eq!(
        store.release_hold(held.id, user(), at).await,
        Err(ReleaseError::NotFound)
    );
    let unknown = HoldId::from_uuid(uuid::Uuid::now_v7());
    assert_eq!(
        store.release_hold(unknown, holder, at).await,
        Err(ReleaseError::NotFound)
    );
    let released = store
        .release_hold(held.id, holder, at)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(released.status, HoldStatus::Released);
    let again = store.release_hold(held.id, holder, at).await;
    assert_eq!(again, Ok(released));
    hold(store, id, 1, user(), at).await;

    let lapsed = hold(store, id, 2, holder, at - ttl()).await;
    let later = store.release_hold(lapsed.id, holder, at).await;
    assert!(later.is_ok_and(|h| h.status != HoldStatus::Held || !h.is_live(at)));

    let buyer = user();
    fund(store, buyer, PRICE).await;
    let bought = hold(store, id, 3, buyer, at).await;
    pay(store, &bought, at).await;
    assert_eq!(
        store.release_hold(bought.id, buyer, at).await,
        Err(ReleaseError::AlreadyPaid)
    );
    let found = store.find_hold(bought.id).await;
    assert_eq!(
        found.map(|h| h.map(|h| h.status)),
        Ok(Some(HoldStatus::Paid))
    );
}

/// The sweeper marks holds expired before `now` as expired, at most `limit` at a time, and
/// leaves live, paid and released holds alone.
pub async fn sweep_tidies_expired_holds_only<S: TicketsStore>(store: &S) {
    let (_, id) = single(store, 10).await;
    let at = now();
    let old = at - ttl() - Duration::seconds(1);
    let mut expired = Vec::new();
    for number in 1..=3 {
        expired.push(hold(store, id, number, user(), old).await);
    }
    let live = hold(store, id, 4, user(), at).await;
    assert_eq!(store.sweep_expired_holds(at, 2).await, Ok(2));
    assert_eq!(store.sweep_expired_holds(at, 10).await, Ok(1));
    assert_eq!(store.sweep_expired_holds(at, 10).await, Ok(0));
    for hold in &expired {
        let found = store.find_hold(hold.id).await;
        assert_eq!(
            found.map(|h| h.map(|h| h.status)),
            Ok(Some(HoldStatus::Expired))
        );
    }
    let found = store.find_hold(live.id).await;
    assert_eq!(
        found.map(|h| h.map(|h| h.status)),
        Ok(Some(HoldStatus::Held))
    );
    // a tidied hold's seat and date are free
    hold(store, id, 1, expired[0].user_id, at).await;
}
