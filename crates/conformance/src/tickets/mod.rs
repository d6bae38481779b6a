//! Contracts of `ConcertRepository` and `SeatHoldRepository` (with the `WalletRepository` that
//! pays for seats): concerts and availability, holds, payments, cancellation and the races that
//! must never sell a seat twice or lose money, one file per concern, over the fixtures here.
//!
//! Users are plain random ids: the tickets store keeps no link to the accounts tables, so the
//! 1,000-user race needs no 1,000 signups.

pub mod cancellation;
pub mod concerts;
pub mod holds;
pub mod payments;
pub mod races;

use crate::support::now;
use chrono::{DateTime, Duration, DurationRound, NaiveDate, Utc};
use reserva_application::ports::tickets::{
    ConcertRepository, HoldError, NewConcert, NewHold, NewPerformance, PayError, PayHold,
    SeatHoldRepository,
};
use reserva_application::ports::wallet::{NewCharge, WalletRepository};
use reserva_domain::accounts::UserId;
use reserva_domain::tickets::{
    Booking, BookingId, Concert, ConcertId, ConcertTitle, HoldId, PerformanceId, SeatCount,
    SeatHold, SeatNumber,
};
use reserva_domain::wallet::{ChargeAmount, MAX_BALANCE, Money, TransferId};
use uuid::Uuid;

/// What a tickets store is: concerts, holds and the wallet that pays for them, in one store (a
/// payment moves money and sells a seat in one transaction).
pub trait TicketsStore: ConcertRepository + SeatHoldRepository + WalletRepository {}
impl<T: ConcertRepository + SeatHoldRepository + WalletRepository + ?Sized> TicketsStore for T {}

/// The price of every seat in these cases.
const PRICE: i64 = 50_000;

/// How long a hold lasts in these cases.
fn ttl() -> Duration {
    Duration::minutes(5)
}

/// Midnight (UTC) of a day ten days ahead: performances start on it or later.
fn first_day() -> DateTime<Utc> {
    let today = now()
        .duration_trunc(Duration::days(1))
        .unwrap_or_else(|_| now());
    today + Duration::days(10)
}

/// A performance starting at `starts_at`, dated by its UTC day, with `seats` seats.
fn performance(starts_at: DateTime<Utc>, seats: u16) -> NewPerformance {
    NewPerformance {
        id: PerformanceId::from_uuid(Uuid::now_v7()),
        starts_at,
        local_date: date_of(starts_at),
        seats: SeatCount::new(i64::from(seats)).unwrap_or_else(|e| panic!("{e}")),
    }
}

fn date_of(instant: DateTime<Utc>) -> NaiveDate {
    instant.date_naive()
}

/// Stores a concert at [`PRICE`] with these performances.
async fn concert<S: TicketsStore>(store: &S, performances: Vec<NewPerformance>) -> Concert {
    let new = NewConcert {
        id: ConcertId::from_uuid(Uuid::now_v7()),
        title: ConcertTitle::parse(&format!("Concert {}", crate::support::tag()))
            .unwrap_or_else(|e| panic!("{e}")),
        price: money(PRICE),
        performances,
        now: now(),
    };
    store
        .insert_concert(new)
        .await
        .unwrap_or_else(|e| panic!("insert_concert: {e}"))
}

/// A concert with one performance of `seats` seats on the first day; returns it and the
/// performance's id.
async fn single<S: TicketsStore>(store: &S, seats: u16) -> (Concert, PerformanceId) {
    let concert = concert(
        store,
        vec![performance(first_day() + Duration::hours(19), seats)],
    )
    .await;
    let id = concert.performances.first().map(|p| p.id);
    (concert, id.unwrap_or_else(|| panic!("no performance")))
}

fn money(amount: i64) -> Money {
    Money::new(amount).unwrap_or_else(|e| panic!("{e}"))
}

fn seat(number: u16) -> SeatNumber {
    SeatNumber::new(i64::from(number)).unwrap_or_else(|e| panic!("{e}"))
}

fn user() -> UserId {
    crate::support::user_id()
}

/// A hold request of `seat` by `user` at `at`, lasting [`ttl`].
fn hold_request(
    performance: PerformanceId,
    number: u16,
    user: UserId,
    at: DateTime<Utc>,
) -> NewHold {
    NewHold {
        id: HoldId::from_uuid(Uuid::now_v7()),
        performance_id: performance,
        seat: seat(number),
        user_id: user,
        now: at,
        expires_at: at + ttl(),
    }
}

/// Holds `number` for `user` at `at`, failing the case if it is refused.
async fn hold<S: TicketsStore>(
    store: &S,
    performance: PerformanceId,
    number: u16,
    user: UserId,
    at: DateTime<Utc>,
) -> SeatHold {
    let result: Result<SeatHold, HoldError> = store
        .hold_seat(hold_request(performance, number, user, at))
        .await;
    result.unwrap_or_else(|e| panic!("hold_seat({number}): {e:?}"))
}

/// The payment of `hold` by `user` at `at`, with the transfer id the application derives.
fn payment(hold: HoldId, user: UserId, at: DateTime<Utc>) -> PayHold {
    PayHold {
        hold_id: hold,
        user_id: user,
        booking_id: BookingId::from_uuid(Uuid::now_v7()),
        transfer_id: TransferId::derive("payment", hold.as_uuid(), ""),
        now: at,
    }
}

/// Pays `hold` at `at`, failing the case if it is refused.
async fn pay<S: TicketsStore>(store: &S, hold: &SeatHold, at: DateTime<Utc>) -> Booking {
    let result: Result<Booking, PayError> =
        store.pay_hold(payment(hold.id, hold.user_id, at)).await;
    result.unwrap_or_else(|e| panic!("pay_hold: {e:?}"))
}

/// Charges `amount` to `user`'s wallet.
async fn fund<S: TicketsStore>(store: &S, user: UserId, amount: i64) {
    let charge = NewCharge {
        transfer_id: TransferId::from_uuid(Uuid::now_v7()),
        user_id: user,
        amount: ChargeAmount::new(amount).unwrap_or_else(|e| panic!("{e}")),
        max_balance: MAX_BALANCE,
        now: now(),
    };
    if let Err(error) = store.charge(charge).await {
        panic!("charge: {error}");
    }
}

async fn balance<S: TicketsStore>(store: &S, user: UserId) -> i64 {
    store
        .balance(user)
        .await
        .unwrap_or_else(|e| panic!("balance: {e}"))
        .get()
}

/// Both audits find nothing wrong.
async fn assert_clean<S: TicketsStore>(store: &S) {
    let seats = store
        .verify_seats(now())
        .await
        .unwrap_or_else(|e| panic!("verify_seats: {e}"));
    assert!(seats.violations.is_empty(), "{:#?}", seats.violations);
    let ledger = store
        .verify_ledger()
        .await
        .unwrap_or_else(|e| panic!("verify_ledger: {e}"));
    assert!(ledger.violations.is_empty(), "{:#?}", ledger.violations);
}

/// The registered tickets-store cases by file, listed once: [`crate::tickets_store_tests!`]
/// expands them and the registration check compares them with the case files. Expands to
/// `$callback! { $args tickets { file: [case, ...], ... } }`.
#[doc(hidden)]
#[macro_export]
macro_rules! __tickets_store_cases {
    ($callback:path, $($args:tt)*) => {
        $callback! {
            $($args)*
            tickets {
                concerts: [
                    concerts_round_trip_and_list_newest_first,
                    available_performances_count_free_seats_of_those_on_sale,
                    seat_map_shows_each_seat_state,
                    inventory_counts_unsold_seats_and_live_holds,
                ],
                holds: [
                    a_free_seat_is_held,
                    a_held_seat_cannot_be_held_again,
                    an_expired_hold_frees_its_seat_at_exactly_expires_at,
                    one_hold_per_user_per_concert_and_date,
                    holds_outside_the_performance_or_off_sale_are_refused,
                    release_frees_the_seat_and_is_idempotent,
                    sweep_tidies_expired_holds_only,
                ],
                payments: [
                    paying_debits_the_wallet_and_sells_the_seat,
                    only_the_owner_pays_a_live_hold,
                    insufficient_balance_changes_nothing,
                    a_hold_is_paid_once,
                    a_free_seat_is_paid_and_refunded_without_moving_money,
                    a_hold_cannot_be_paid_once_its_performance_started,
                ],
                cancellation: [
                    cancelling_refunds_every_booking_and_releases_holds,
                    cancelling_while_payments_run_stays_exact,
                ],
                races: [
                    concurrent_holds_take_each_seat_once,
                    concurrent_payments_of_one_hold_book_once,
                    concurrent_charges_and_payments_keep_the_wallet_exact,
                    a_hold_expiring_while_paid_ends_paid_or_expired,
                ],
            }
        }
    };
}
