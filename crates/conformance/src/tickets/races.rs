//! Races the store must decide: however they interleave, a seat is held and sold once, a hold
//! is paid once, and a wallet holds exactly what its posted transfers say.

use super::{
    PRICE, TicketsStore, assert_clean, balance, concert, first_day, fund, hold, hold_request,
    payment, performance, single, user,
};
use crate::support::now;
use chrono::Duration;
use futures_util::future::join_all;
use reserva_application::ports::tickets::{HoldError, PayError};
use reserva_application::ports::wallet::{ChargeError, NewCharge};
use reserva_domain::paging::PageLimit;
use reserva_domain::tickets::SeatState;
use reserva_domain::wallet::{ChargeAmount, MAX_BALANCE, TransferId};
use std::collections::HashSet;

/// 1,000 users, 50 seats, all at once: exactly 50 holds, one per seat.
pub async fn concurrent_holds_take_each_seat_once<S: TicketsStore>(store: &S) {
    let (_, id) = single(store, 50).await;
    let at = now();
    let requests: Vec<_> = (0..1_000_u16)
        .map(|index| hold_request(id, index % 50 + 1, user(), at))
        .collect();
    let outcomes = join_all(requests.iter().map(|r| store.hold_seat(r.clone()))).await;
    let mut seats = HashSet::new();
    for outcome in &outcomes {
        match outcome {
            Ok(held) => assert!(
                seats.insert(held.seat),
                "seat {} held twice",
                held.seat.get()
            ),
            Err(HoldError::SeatUnavailable) => {}
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(seats.len(), 50);
    let map = store.seat_map(id, at).await.ok().flatten();
    let held = map.map_or(0, |m| {
        m.seats
            .iter()
            .filter(|(_, s)| *s == SeatState::Held)
            .count()
    });
    assert_eq!(held, 50);
    assert_clean(store).await;
}

/// Ten payments of one hold at once: one booking, one debit, nine answers of that booking.
pub async fn concurrent_payments_of_one_hold_book_once<S: TicketsStore>(store: &S) {
    let (_, id) = single(store, 5).await;
    let (buyer, at) = (user(), now());
    fund(store, buyer, PRICE * 3).await;
    let held = hold(store, id, 1, buyer, at).await;
    let requests: Vec<_> = (0..10).map(|_| payment(held.id, buyer, at)).collect();
    let outcomes = join_all(requests.iter().map(|p| store.pay_hold(p.clone()))).await;
    let booked: Vec<_> = outcomes.iter().filter_map(|o| o.as_ref().ok()).collect();
    assert_eq!(booked.len(), 1, "{outcomes:?}");
    let booking = booked.first().map(|b| (*b).clone());
    for outcome in &outcomes {
        match outcome {
            Ok(_) => {}
            Err(PayError::AlreadyPaid(paid)) => assert_eq!(Some(paid.as_ref()), booking.as_ref()),
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(balance(store, buyer).await, PRICE * 2);
    let bookings = store.list_bookings(buyer, None, PageLimit::DEFAULT).await;
    assert_eq!(bookings.map(|b| b.len()), Ok(1));
    assert_clean(store).await;
}

/// Charges and payments on one wallet at once: the balance is exactly the accepted charges less
/// the accepted payments, and matches the entries.
pub async fn concurrent_charges_and_payments_keep_the_wallet_exact<S: TicketsStore>(store: &S) {
    let day = first_day();
    // one performance per date: a user may hold one seat of each
    let performances: Vec<_> = (0..10)
        .map(|index| performance(day + Duration::days(index) + Duration::hours(19), 2))
        .collect();
    concert(store, performances.clone()).await;
    let (buyer, at) = (user(), now());
    fund(store, buyer, PRICE * 4).await;
    let mut holds = Vec::new();
    for performance in &performances {
        holds.push(hold(store, performance.id, 1, buyer, at).await);
    }
    let charges: Vec<_> = (0..10)
        .map(|_| NewCharge {
            transfer_id: TransferId::from_uuid(uuid::Uuid::now_v7()),
            user_id: buyer,
            amount: ChargeAmount::new(PRICE / 2).unwrap_or_else(|e| panic!("{e}")),
            max_balance: MAX_BALANCE,
            now: at,
        })
        .collect();
    let payments = join_all(
        holds
            .iter()
            .map(|h| store.pay_hold(payment(h.id, buyer, at))),
    );
    let charged = join_all(charges.iter().map(|c| store.charge(*c)));
    let (paid, charged) = futures_util::future::join(payments, charged).await;
    let mut expected = PRICE * 4;
    for outcome in &paid {
        match outcome {
            Ok(_) => expected -= PRICE,
            Err(PayError::InsufficientBalance) => {}
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    for outcome in &charged {
        match outcome {
            Ok(posted) => {
                assert!(!posted.replayed);
                expected += PRICE / 2;
            }
            Err(other @ (ChargeError::BalanceLimitExceeded { .. } | ChargeError::IdReused)) => {
                panic!("unexpected {other:?}")
            }
            Err(ChargeError::Dependency(error)) => panic!("{error}"),
        }
    }
    assert_eq!(balance(store, buyer).await, expected);
    let entries = store
        .entries(buyer, None, PageLimit::MAX_PAGE)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let newest = entries.first().map(|e| e.balance_after.get());
    assert_eq!(newest, Some(expected));
    assert_eq!(entries.iter().map(|e| e.amount).sum::<i64>(), expected);
    assert_clean(store).await;
}

/// A payment just before a hold's expiry races another user's hold of the seat at the expiry:
/// on every seat exactly one of them wins, and the seat is either sold or held, never both.
pub async fn a_hold_expiring_while_paid_ends_paid_or_expired<S: TicketsStore>(store: &S) {
    let (_, id) = single(store, 20).await;
    let at = now();
    let mut holds = Vec::new();
    for number in 1..=20 {
        let buyer = user();
        fund(store, buyer, PRICE).await;
        holds.push(hold(store, id, number, buyer, at).await);
    }
    let races = holds.iter().map(|held| async move {
        let just_before = held.expires_at - Duration::microseconds(1);
        let request = hold_request(id, held.seat.get(), user(), held.expires_at);
        futures_util::future::join(
            store.pay_hold(payment(held.id, held.user_id, just_before)),
            store.hold_seat(request),
        )
        .await
    });
    for (held, (paid, taken)) in holds.iter().zip(join_all(races).await) {
        match (&paid, &taken) {
            (Ok(_), Err(HoldError::SeatUnavailable)) => {
                assert_eq!(balance(store, held.user_id).await, 0);
            }
            (Err(PayError::Expired), Ok(_)) => {
                assert_eq!(balance(store, held.user_id).await, PRICE);
            }
            _ => panic!("seat {}: {paid:?} and {taken:?}", held.seat.get()),
        }
    }
    assert_clean(store).await;
}
