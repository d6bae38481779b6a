//! Paying for a hold: the price leaves the wallet, the booking is made and the seat is sold, in
//! one step; refusals change nothing.

use super::{
    PRICE, TicketsStore, assert_clean, balance, fund, hold, pay, payment, single, ttl, user,
};
use crate::support::now;
use chrono::Duration;
use reserva_application::ports::tickets::{HoldError, PayError};
use reserva_domain::paging::PageLimit;
use reserva_domain::tickets::{BookingStatus, HoldStatus, SeatState};
use reserva_domain::wallet::{TransferId, TransferKind};

/// The happy path: balance debited by the price, a confirmed booking, the seat sold, the hold
/// paid, a payment entry in the wallet.
pub async fn paying_debits_the_wallet_and_sells_the_seat<S: TicketsStore>(store: &S) {
    let (concert, id) = single(store, 10).await;
    let (buyer, at) = (user(), now());
    fund(store, buyer, PRICE + 1_000).await;
    let held = hold(store, id, 5, buyer, at).await;
    let request = payment(held.id, buyer, at + Duration::seconds(1));
    let booking = store
        .pay_hold(request.clone())
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(
        (booking.id, booking.hold_id, booking.performance_id),
        (request.booking_id, held.id, id)
    );
    assert_eq!(
        (booking.concert_id, booking.seat, booking.user_id),
        (concert.id, held.seat, buyer)
    );
    assert_eq!(
        (booking.price.get(), booking.payment_id, booking.status),
        (
            PRICE,
            TransferId::derive("payment", held.id.as_uuid(), ""),
            BookingStatus::Confirmed
        )
    );
    assert_eq!(
        (booking.created_at, booking.refunded_at),
        (request.now, None)
    );
    assert_eq!(balance(store, buyer).await, 1_000);
    let found = store.find_hold(held.id).await;
    assert_eq!(
        found.map(|h| h.map(|h| h.status)),
        Ok(Some(HoldStatus::Paid))
    );
    let map = store.seat_map(id, at).await.ok().flatten();
    let state = map.and_then(|m| m.seats.get(4).map(|(_, state)| *state));
    assert_eq!(state, Some(SeatState::Sold));
    // sold for good: not even an expired-hold instant frees it
    let refused = store
        .hold_seat(super::hold_request(id, 5, user(), held.expires_at + ttl()))
        .await;
    assert_eq!(refused, Err(HoldError::SeatUnavailable));
    let bookings = store.list_bookings(buyer, None, PageLimit::DEFAULT).await;
    assert_eq!(bookings, Ok(vec![booking.clone()]));
    let entries = store.entries(buyer, None, PageLimit::DEFAULT).await;
    let entries = entries.unwrap_or_else(|e| panic!("{e}"));
    let newest = entries.first().map(|e| (e.transfer_id, e.kind, e.amount));
    assert_eq!(
        newest,
        Some((booking.payment_id, TransferKind::Payment, -PRICE))
    );
    assert_clean(store).await;
}

/// Someone else's or an unknown hold is not found; an expired or released one is expired.
pub async fn only_the_owner_pays_a_live_hold<S: TicketsStore>(store: &S) {
    let (_, id) = single(store, 10).await;
    let (buyer, at) = (user(), now());
    fund(store, buyer, PRICE * 3).await;
    let held = hold(store, id, 1, buyer, at).await;
    let stranger = user();
    fund(store, stranger, PRICE).await;
    let refused = store.pay_hold(payment(held.id, stranger, at)).await;
    assert_eq!(refused, Err(PayError::NotFound));
    let unknown = reserva_domain::tickets::HoldId::from_uuid(uuid::Uuid::now_v7());
    assert_eq!(
        store.pay_hold(payment(unknown, buyer, at)).await,
        Err(PayError::NotFound)
    );
    let late = store
        .pay_hold(payment(held.id, buyer, held.expires_at))
        .await;
    assert_eq!(late, Err(PayError::Expired));
    let just_in_time = held.expires_at - Duration::microseconds(1);
    assert!(
        store
            .pay_hold(payment(held.id, buyer, just_in_time))
            .await
            .is_ok()
    );

    let released = hold(store, id, 2, user(), at).await;
    let outcome = store.release_hold(released.id, released.user_id, at).await;
    assert!(outcome.is_ok(), "{outcome:?}");
    fund(store, released.user_id, PRICE).await;
    let refused = store
        .pay_hold(payment(released.id, released.user_id, at))
        .await;
    assert_eq!(refused, Err(PayError::Expired));
    assert_eq!(balance(store, buyer).await, PRICE * 2);
    assert_eq!(balance(store, released.user_id).await, PRICE);
    assert_eq!(balance(store, stranger).await, PRICE);
    assert_clean(store).await;
}

/// A wallet short of the price pays nothing, books nothing and keeps the hold.
pub async fn insufficient_balance_changes_nothing<S: TicketsStore>(store: &S) {
    let (_, id) = single(store, 10).await;
    let (buyer, at) = (user(), now());
    fund(store, buyer, PRICE - 1).await;
    let held = hold(store, id, 1, buyer, at).await;
    let refused = store.pay_hold(payment(held.id, buyer, at)).await;
    assert_eq!(refused, Err(PayError::InsufficientBalance));
    assert_eq!(balance(store, buyer).await, PRICE - 1);
    assert_eq!(store.find_hold(held.id).await, Ok(Some(held.clone())));
    let bookings = store.list_bookings(buyer, None, PageLimit::DEFAULT).await;
    assert_eq!(bookings, Ok(vec![]));
    let entries = store.entries(buyer, None, PageLimit::DEFAULT).await;
    assert_eq!(entries.map(|e| e.len()), Ok(1), "the charge only");
    let map = store.seat_map(id, at).await.ok().flatten();
    let state = map.and_then(|m| m.seats.first().map(|(_, state)| *state));
    assert_eq!(state, Some(SeatState::Held));
    // topped up, the same hold pays
    fund(store, buyer, 1).await;
    pay(store, &held, at).await;
    assert_eq!(balance(store, buyer).await, 0);
    assert_clean(store).await;
}

/// A second payment of a paid hold answers the booking and moves no money.
pub async fn a_hold_is_paid_once<S: TicketsStore>(store: &S) {
    let (_, id) = single(store, 10).await;
    let (buyer, at) = (user(), now());
    fund(store, buyer, PRICE * 2).await;
    let held = hold(store, id, 1, buyer, at).await;
    let booking = pay(store, &held, at).await;
    let again = store.pay_hold(payment(held.id, buyer, at)).await;
    assert_eq!(again, Err(PayError::AlreadyPaid(Box::new(booking.clone()))));
    // even after the hold's instant: it is paid, not expired
    let later = store
        .pay_hold(payment(held.id, buyer, held.expires_at))
        .await;
    assert_eq!(later, Err(PayError::AlreadyPaid(Box::new(booking))));
    assert_eq!(balance(store, buyer).await, PRICE);
    assert_clean(store).await;
}

/// A free seat (price 0) is paid and refunded with no transfer — a transfer always moves at
/// least 1 — and both audits stay clean.
pub async fn a_free_seat_is_paid_and_refunded_without_moving_money<S: TicketsStore>(store: &S) {
    let day = super::first_day() + Duration::hours(18);
    let new = reserva_application::ports::tickets::NewConcert {
        id: reserva_domain::tickets::ConcertId::from_uuid(uuid::Uuid::now_v7()),
        title: reserva_domain::tickets::ConcertTitle::parse("Free rehearsal")
            .unwrap_or_else(|e| panic!("{e}")),
        price: super::money(0),
        performances: vec![super::performance(day, 5)],
        now: now(),
    };
    let concert = store
        .insert_concert(new)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let id = concert.performances.first().map(|p| p.id);
    let id = id.unwrap_or_else(|| panic!("no performance"));
    let (buyer, at) = (user(), now());
    let held = hold(store, id, 2, buyer, at).await;
    let booking = pay(store, &held, at).await;
    assert_eq!(
        (booking.price.get(), booking.status),
        (0, BookingStatus::Confirmed)
    );
    assert_eq!(balance(store, buyer).await, 0);
    let cancelled = store
        .cancel_performance(id, at + Duration::seconds(1))
        .await;
    assert_eq!(cancelled.map(|c| c.refunded), Ok(1));
    assert_eq!(balance(store, buyer).await, 0);
    assert_clean(store).await;
}

/// A hold made just before its performance starts outlives the start, but cannot be paid after
/// it: the performance is no longer on sale, and nothing changes.
pub async fn a_hold_cannot_be_paid_once_its_performance_started<S: TicketsStore>(store: &S) {
    let at = now();
    let starts_at = at + Duration::minutes(2);
    let concert = super::concert(store, vec![super::performance(starts_at, 5)]).await;
    let id = concert.performances.first().map(|p| p.id);
    let id = id.unwrap_or_else(|| panic!("no performance"));
    let buyer = user();
    fund(store, buyer, PRICE).await;
    let held = hold(store, id, 1, buyer, at).await;
    assert!(held.expires_at > starts_at, "the hold outlives the start");
    let late = store
        .pay_hold(payment(held.id, buyer, starts_at + Duration::seconds(1)))
        .await;
    assert_eq!(late, Err(PayError::NotOnSale));
    assert_eq!(balance(store, buyer).await, PRICE);
    let on_time = store
        .pay_hold(payment(held.id, buyer, starts_at - Duration::seconds(1)))
        .await;
    assert!(on_time.is_ok(), "{on_time:?}");
    assert_clean(store).await;
}
