//! Contracts of `DistributedLock`, `RateLimiter`, `SessionRevocations`, `IdempotencyRecords` and
//! `WaitingRoom`: one file per port, so a new port's contract is one new file.

pub mod idempotency;
pub mod locks;
pub mod rate_limits;
pub mod sessions;
pub mod waiting_room;
pub mod waiting_room_inventory;

use reserva_application::ports::shared_state::{
    DistributedLock, IdempotencyRecords, RateLimiter, SessionRevocations,
};
use std::time::Duration;

/// What a shared-state adapter is.
pub trait SharedState:
    DistributedLock + RateLimiter + SessionRevocations + IdempotencyRecords
{
}
impl<T: DistributedLock + RateLimiter + SessionRevocations + IdempotencyRecords + ?Sized>
    SharedState for T
{
}

const LONG: Duration = Duration::from_secs(30);
const SHORT: Duration = Duration::from_millis(300);

/// The registered shared-state cases by file, listed once: [`crate::shared_state_tests!`]
/// expands them and the registration check compares them with the case files, so a case
/// written but not listed fails this crate's tests. Expands to
/// `$callback! { $args shared_state { file: [case, ...], ... } }`.
#[doc(hidden)]
#[macro_export]
macro_rules! __shared_state_cases {
    ($callback:path, $($args:tt)*) => {
        $callback! {
            $($args)*
            shared_state {
                locks: [
                    lock_is_exclusive_until_released_by_its_holder,
                    lock_can_be_retaken_after_its_ttl,
                    concurrent_lock_attempts_let_exactly_one_in,
                ],
                rate_limits: [
                    rate_limiter_counts_hits_in_a_window,
                    rate_limiter_counts_concurrent_hits_exactly,
                    rate_limiter_window_expires,
                    rate_limiter_withdraws_one_hit_within_the_window,
                    rate_limiter_applies_concurrent_withdrawals_exactly,
                    rate_limiter_withdrawal_after_the_window_changes_nothing,
                ],
                sessions: [
                    revoked_sessions_stay_revoked_until_the_given_instant,
                    changed_users_stay_marked_until_the_given_instant,
                    restored_marks_hold_and_end_the_loss,
                    one_concurrent_rebuild_claim_wins_until_it_lapses,
                ],
                idempotency: [
                    idempotency_key_is_claimed_then_replayed,
                    idempotency_key_can_be_abandoned_only_by_its_owner,
                    concurrent_idempotency_claims_let_exactly_one_in,
                    idempotency_claims_and_replays_lapse,
                    a_renewed_idempotency_claim_stays_in_flight,
                ],
                waiting_room: [
                    rejoining_gives_the_same_token_and_counts_as_a_poll,
                    positions_follow_arrival,
                    concurrent_joins_get_distinct_positions_in_arrival_order,
                    an_empty_room_admits_at_once,
                    active_places_are_capped_and_the_next_is_admitted_on_finish,
                    a_waiting_user_who_stops_polling_loses_the_place,
                    an_active_place_ends_after_its_lifetime,
                    admitted_recently_counts_the_rate_window,
                ],
                waiting_room_inventory: [
                    sold_out_while_every_seat_is_held_until_a_hold_ends,
                    a_sale_recorded_twice_counts_once,
                    admission_stops_at_free_seats_plus_margin,
                    a_closed_room_refuses_until_an_inventory_reopens_it,
                    a_room_without_inventory_is_unknown,
                    a_token_not_the_callers_has_no_place,
                    finishing_an_unknown_token_is_false,
                ],
            }
        }
    };
}
