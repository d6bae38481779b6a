//! Cancelling a performance: every booking refunded to its wallet, every live hold released,
//! the dates free again for their users; exact even while payments race it.

use super::{
    PRICE, TicketsStore, assert_clean, balance, concert, first_day, fund, hold, hold_request, pay,
    payment, performance, ttl, user,
};
use crate::support::now;
use chrono::Duration;
use futures_util::future::join_all;
use reserva_application::ports::tickets::{CancelPerformanceError, PayError};
use reserva_domain::paging::PageLimit;
use reserva_domain::tickets::{BookingStatus, HoldStatus, PerformanceId};
use reserva_domain::wallet::{TransferId, TransferKind};

/// Three bookings refunded, two live holds released, an expired hold left alone; a second
/// cancel is refused.
pub async fn cancelling_refunds_every_booking_and_releases_holds<S: TicketsStore>(store: &S) {
    let day = first_day();
    let doomed = performance(day + Duration::hours(14), 10);
    let other = performance(day + Duration::hours(20), 10);
    concert(store, vec![doomed.clone(), other.clone()]).await;
    let at = now();
    let mut buyers = Vec::new();
    let mut bookings = Vec::new();
    for number in 1..=3 {
        let buyer = user();
        fund(store, buyer, PRICE + 7).await;
        let held = hold(store, doomed.id, number, buyer, at).await;
        bookings.push(pay(store, &held, at).await);
        buyers.push(buyer);
    }
    let mut live = Vec::new();
    for number in 4..=5 {
        live.push(hold(store, doomed.id, number, user(), at).await.id);
    }
    let lapsed = hold(store, doomed.id, 6, user(), at - ttl()).await;

    let later = at + Duration::seconds(1);
    let cancelled = store
        .cancel_performance(doomed.id, later)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(cancelled.performance.id, doomed.id);
    assert_eq!(cancelled.performance.cancelled_at, Some(later));
    assert_eq!(cancelled.refunded, 3);
    let mut released = cancelled.released.clone();
    released.sort_by_key(|id| id.as_uuid());
    live.sort_by_key(|id| id.as_uuid());
    assert_eq!(released, live);
    for (buyer, booking) in buyers.iter().zip(&bookings) {
        assert_eq!(balance(store, *buyer).await, PRICE + 7);
        let listed = store.list_bookings(*buyer, None, PageLimit::DEFAULT).await;
        let listed = listed.unwrap_or_else(|e| panic!("{e}"));
        let statuses: Vec<_> = listed
            .iter()
            .map(|b| (b.id, b.status, b.refunded_at))
            .collect();
        assert_eq!(
            statuses,
            [(booking.id, BookingStatus::Refunded, Some(later))]
        );
        let entries = store.entries(*buyer, None, PageLimit::DEFAULT).await;
        let newest = entries
            .ok()
            .and_then(|e| e.first().map(|e| (e.transfer_id, e.kind, e.amount)));
        let refund = TransferId::derive("refund", booking.id.as_uuid(), "");
        assert_eq!(newest, Some((refund, TransferKind::Refund, PRICE)));
        // the date is free again for the buyer
        let again = store
            .hold_seat(hold_request(other.id, 1, *buyer, later))
            .await;
        let again = again.unwrap_or_else(|e| panic!("{e:?}"));
        let outcome = store.release_hold(again.id, *buyer, later).await;
        assert!(outcome.is_ok(), "{outcome:?}");
    }
    for id in &live {
        let found = store.find_hold(*id).await;
        assert_eq!(
            found.map(|h| h.map(|h| h.status)),
            Ok(Some(HoldStatus::Released))
        );
    }
    let found = store.find_hold(lapsed.id).await.ok().flatten();
    assert!(found.is_some_and(|h| !h.is_live(later) && h.status != HoldStatus::Paid));
    let performance = store.find_performance(doomed.id).await.ok().flatten();
    assert_eq!(performance.and_then(|p| p.cancelled_at), Some(later));

    assert_eq!(
        store.cancel_performance(doomed.id, later).await,
        Err(CancelPerformanceError::AlreadyCancelled)
    );
    let unknown = PerformanceId::from_uuid(uuid::Uuid::now_v7());
    assert_eq!(
        store.cancel_performance(unknown, later).await,
        Err(CancelPerformanceError::NotFound)
    );
    assert_clean(store).await;
}

/// Twenty payments racing a cancel: each payment either lands before it (and is refunded) or
/// is refused as not on sale; every wallet ends where it started.
pub async fn cancelling_while_payments_run_stays_exact<S: TicketsStore>(store: &S) {
    let (_, id) = super::single(store, 20).await;
    let at = now();
    let mut holds = Vec::new();
    for number in 1..=20 {
        let buyer = user();
        fund(store, buyer, PRICE).await;
        holds.push(hold(store, id, number, buyer, at).await);
    }
    let payments = join_all(
        holds
            .iter()
            .map(|held| store.pay_hold(payment(held.id, held.user_id, at))),
    );
    let (paid, cancelled) =
        futures_util::future::join(payments, store.cancel_performance(id, at)).await;
    let cancelled = cancelled.unwrap_or_else(|e| panic!("{e:?}"));
    let mut booked = 0_u32;
    for outcome in &paid {
        match outcome {
            Ok(_) => booked += 1,
            Err(PayError::NotOnSale | PayError::Expired) => {}
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(cancelled.refunded, booked);
    assert_eq!(
        cancelled.released.len() + usize::try_from(booked).unwrap_or(0),
        20
    );
    for held in &holds {
        assert_eq!(balance(store, held.user_id).await, PRICE);
        let bookings = store
            .list_bookings(held.user_id, None, PageLimit::DEFAULT)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(bookings.iter().all(|b| b.status == BookingStatus::Refunded));
    }
    assert_clean(store).await;
}
