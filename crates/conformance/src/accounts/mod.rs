//! Contracts of `UserRepository` and `SessionRepository`: users, the last-administrator guard,
//! sessions and refresh tokens, and the refresh grace window, each in a file of its own, over the
//! fixture here they build on.

pub mod admins;
pub mod rotation_grace;
pub mod sessions;
pub mod users;

use crate::support::{new_user, now, session_id, token_hash};
use chrono::{DateTime, Duration, Utc};
use reserva_application::ports::accounts::{
    NewSession, RefreshRotation, RotationRequest, SessionRepository, UserRepository,
};
use reserva_application::ports::security::RefreshTokenHash;
use reserva_domain::accounts::{Role, SessionId, User, UserId};

/// What an account store is.
pub trait AccountStore: UserRepository + SessionRepository {}
impl<T: UserRepository + SessionRepository + ?Sized> AccountStore for T {}

async fn insert<S: AccountStore>(store: &S, name: &str, role: Role) -> User {
    match store.insert_user(new_user(name, role)).await {
        Ok(user) => user,
        Err(error) => panic!("insert_user({name}) failed: {error}"),
    }
}

/// Starts a session of `user` and returns it with its first refresh token.
async fn start<S: AccountStore>(store: &S, user: UserId) -> (SessionId, RefreshTokenHash) {
    let (id, token) = (session_id(), token_hash());
    let session = NewSession {
        id,
        user_id: user,
        refresh_token: token.clone(),
        refresh_expires_at: now() + Duration::days(14),
        now: now(),
    };
    assert_eq!(store.start_session(session).await, Ok(()));
    (id, token)
}

/// A presentation of `token` at `at`, naming `next` as its successor, with a grace window.
fn presenting(
    token: &RefreshTokenHash,
    next: &RefreshTokenHash,
    at: DateTime<Utc>,
    grace: std::time::Duration,
) -> RotationRequest {
    RotationRequest {
        presented: token.clone(),
        next: next.clone(),
        next_expires_at: at + Duration::days(14),
        now: at,
        grace,
    }
}

/// Presents `request`, failing the case if the store fails.
async fn present<S: AccountStore>(store: &S, request: &RotationRequest) -> RefreshRotation {
    let rotation = store.rotate_refresh_token(request).await;
    rotation.unwrap_or_else(|error| panic!("rotate_refresh_token failed: {error}"))
}

/// The registered account-store cases by file, listed once: [`crate::account_store_tests!`]
/// expands them and the registration check compares them with the case files, so a case
/// written but not listed fails this crate's tests. Expands to
/// `$callback! { $args accounts { file: [case, ...], ... } }`.
#[doc(hidden)]
#[macro_export]
macro_rules! __account_store_cases {
    ($callback:path, $($args:tt)*) => {
        $callback! {
            $($args)*
            accounts {
                users: [
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
                ],
                rotation_grace: [
                    a_repeat_within_the_grace_window_changes_nothing,
                    a_repeat_after_the_window_or_naming_another_successor_is_reuse,
                    a_repeat_in_a_revoked_session_is_reuse,
                    concurrent_presentations_of_one_token_rotate_once_and_repeat_the_rest,
                ],
                admins: [
                    the_last_active_admin_keeps_access,
                    concurrent_removals_leave_one_active_admin,
                ],
                sessions: [
                    update_revokes_the_chosen_sessions,
                    refresh_token_rotates_once_and_reuse_revokes_the_session,
                    concurrent_rotations_of_one_token_let_exactly_one_through,
                    expired_unknown_and_deactivated_refresh_tokens_are_rejected,
                    sessions_are_revoked_by_id_or_token_only_for_their_owner,
                    a_session_is_live_for_its_owner_until_any_revocation,
                    recent_revocations_and_changes_are_listed_with_their_instants,
                ],
            }
        }
    };
}
