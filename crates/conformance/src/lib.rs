//! The port conformance suite: one set of tests that every adapter of a port must pass.
//!
//! An adapter crate runs it from a test file with one macro call, giving an async expression that
//! builds a fresh, empty subject for each test:
//!
//! ```text
//! reserva_conformance::account_store_tests!(async { MyStore::connect_to_fresh_database().await });
//! reserva_conformance::shared_state_tests!(async { MySharedState::new() });
//! ```
//!
//! Each case is an ordinary `pub async fn` in [`accounts`] or [`shared_state`], so a failing test
//! names the contract it broke. Cases never rely on running alone: they use fresh random keys.

pub mod accounts;
pub mod exams;
pub mod shared_state;
mod support;

/// Generates one `#[tokio::test]` per account-store contract ([`accounts`]).
/// `$make` is an async expression yielding a value that implements `UserRepository` and
/// `SessionRepository`.
#[macro_export]
macro_rules! account_store_tests {
    ($make:expr) => {
        $crate::__conformance_cases!(
            accounts,
            $make,
            [
                inserted_user_is_found_by_id_email_and_credentials,
                missing_users_are_none,
                duplicate_email_is_email_taken,
                duplicate_username_is_taken_case_insensitively,
                concurrent_duplicate_signups_let_exactly_one_in,
                users_are_listed_newest_first_with_a_keyset_cursor,
                user_list_filters_by_role_and_literal_search,
                update_changes_only_the_given_fields,
                update_to_a_taken_username_changes_nothing,
                update_of_an_unknown_user_is_not_found,
                update_revokes_the_chosen_sessions,
                refresh_token_rotates_once_and_reuse_revokes_the_session,
                concurrent_rotations_of_one_token_let_exactly_one_through,
                expired_unknown_and_deactivated_refresh_tokens_are_rejected,
                sessions_are_revoked_by_id_or_token_only_for_their_owner,
            ]
        );
    };
}

/// Generates one `#[tokio::test]` per exam-store contract ([`exams`]), races included.
/// `$make` yields a value implementing the account-store traits and `ExamSlotRepository` +
/// `ReservationRepository`.
#[macro_export]
macro_rules! exam_store_tests {
    ($make:expr) => {
        $crate::__conformance_cases!(
            exams,
            $make,
            [
                ensure_slots_is_idempotent_and_keeps_counts,
                reservations_round_trip_and_filter,
                confirm_takes_capacity_in_every_hour_or_none,
                insert_if_room_checks_every_covered_hour,
                concurrent_inserts_if_room_are_decided_one_by_one,
                confirm_refuses_hours_without_slots,
                cancel_releases_confirmed_capacity,
                editing_a_confirmed_reservation_moves_its_capacity,
                concurrent_confirms_never_oversell,
                repeated_concurrent_confirms_count_once,
                mixed_races_keep_counts_equal_to_confirmed_sums,
            ]
        );
    };
}

/// Generates one `#[tokio::test]` per shared-state contract ([`shared_state`]).
/// `$make` is an async expression yielding a value that implements `DistributedLock`,
/// `RateLimiter` and `SessionRevocations`.
#[macro_export]
macro_rules! shared_state_tests {
    ($make:expr) => {
        $crate::__conformance_cases!(
            shared_state,
            $make,
            [
                lock_is_exclusive_until_released_by_its_holder,
                lock_can_be_retaken_after_its_ttl,
                concurrent_lock_attempts_let_exactly_one_in,
                rate_limiter_counts_hits_in_a_window,
                rate_limiter_counts_concurrent_hits_exactly,
                rate_limiter_window_expires,
                revoked_sessions_stay_revoked_until_the_given_instant,
                changed_users_stay_marked_until_the_given_instant,
                idempotency_key_is_claimed_then_replayed,
                idempotency_key_can_be_abandoned_only_by_its_owner,
                concurrent_idempotency_claims_let_exactly_one_in,
                idempotency_claims_and_replays_lapse,
                a_renewed_idempotency_claim_stays_in_flight,
            ]
        );
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_cases {
    ($module:ident, $make:expr, [$($case:ident),* $(,)?]) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let subject = $make.await;
                $crate::$module::$case(&subject).await;
            }
        )*
    };
}
