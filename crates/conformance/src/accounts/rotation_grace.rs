//! The refresh grace window: a rotated token presented again soon after its rotation, naming the
//! same successor, repeats that rotation and changes nothing (two tabs refreshing at once); after
//! the window, with another successor, or once the successor is used or the session revoked, it
//! is reuse and revokes the session.

use super::{AccountStore, insert, present, presenting, start};
use crate::support::{now, tag, token_hash};
use chrono::Duration;
use futures_util::future::join_all;
use reserva_application::ports::accounts::{RefreshRotation, SessionSelector};
use reserva_domain::accounts::Role;

/// The window every case uses.
const GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// Within the window the repeat answers `Repeated` with the rotation's instant; the successor
/// still rotates once, after which the repeat is reuse.
pub async fn a_repeat_within_the_grace_window_changes_nothing<S: AccountStore>(store: &S) {
    let user = insert(store, &format!("rep{}", tag()), Role::Member).await;
    let (session, first) = start(store, user.id).await;
    let (second, at) = (token_hash(), now());
    let rotated = present(store, &presenting(&first, &second, at, GRACE)).await;
    let expected = RefreshRotation::Rotated {
        user_id: user.id,
        session_id: session,
    };
    assert_eq!(rotated, expected);
    let later = at + Duration::seconds(9);
    let repeat = presenting(&first, &second, later, GRACE);
    let repeated = RefreshRotation::Repeated {
        user_id: user.id,
        session_id: session,
        rotated_at: at,
    };
    assert_eq!(present(store, &repeat).await, repeated);
    assert_eq!(present(store, &repeat).await, repeated, "and again");
    let third = token_hash();
    let onward = present(store, &presenting(&second, &third, later, GRACE)).await;
    assert_eq!(onward, expected, "the successor is untouched");
    let reuse = RefreshRotation::ReuseDetected {
        session_id: session,
    };
    assert_eq!(
        present(store, &repeat).await,
        reuse,
        "its successor is used"
    );
    let revoked = present(store, &presenting(&third, &token_hash(), later, GRACE)).await;
    assert_eq!(revoked, RefreshRotation::Rejected);
}

/// At the window's end, or naming a successor that rotation did not store, the repeat is reuse.
pub async fn a_repeat_after_the_window_or_naming_another_successor_is_reuse<S: AccountStore>(
    store: &S,
) {
    let user = insert(store, &format!("lat{}", tag()), Role::Member).await;
    let (session, first) = start(store, user.id).await;
    let (second, at) = (token_hash(), now());
    let rotated = present(store, &presenting(&first, &second, at, GRACE)).await;
    assert!(matches!(rotated, RefreshRotation::Rotated { .. }));
    let after = at + Duration::seconds(10);
    let late = present(store, &presenting(&first, &second, after, GRACE)).await;
    let reuse = RefreshRotation::ReuseDetected {
        session_id: session,
    };
    assert_eq!(late, reuse);
    let dead = present(store, &presenting(&second, &token_hash(), after, GRACE)).await;
    assert_eq!(dead, RefreshRotation::Rejected, "the session is revoked");

    let (other, token) = start(store, user.id).await;
    let rotated = present(store, &presenting(&token, &token_hash(), at, GRACE)).await;
    assert!(matches!(rotated, RefreshRotation::Rotated { .. }));
    let soon = at + Duration::seconds(1);
    let forged = present(store, &presenting(&token, &token_hash(), soon, GRACE)).await;
    let reuse = RefreshRotation::ReuseDetected { session_id: other };
    assert_eq!(forged, reuse);
}

/// A session revoked since the rotation (logout) makes the repeat reuse, not a pair.
pub async fn a_repeat_in_a_revoked_session_is_reuse<S: AccountStore>(store: &S) {
    let user = insert(store, &format!("out{}", tag()), Role::Member).await;
    let (session, first) = start(store, user.id).await;
    let (second, at) = (token_hash(), now());
    let rotated = present(store, &presenting(&first, &second, at, GRACE)).await;
    assert!(matches!(rotated, RefreshRotation::Rotated { .. }));
    let logout = store
        .revoke_session(user.id, &SessionSelector::Id(session), at)
        .await;
    assert_eq!(logout, Ok(Some(session)));
    let soon = at + Duration::seconds(1);
    let repeat = present(store, &presenting(&first, &second, soon, GRACE)).await;
    let reuse = RefreshRotation::ReuseDetected {
        session_id: session,
    };
    assert_eq!(repeat, reuse);
}

/// Ten simultaneous presentations of one token naming one successor: one `Rotated`, nine
/// `Repeated` of it, and the session lives on.
pub async fn concurrent_presentations_of_one_token_rotate_once_and_repeat_the_rest<
    S: AccountStore,
>(
    store: &S,
) {
    let user = insert(store, &format!("tabs{}", tag()), Role::Member).await;
    let (session, token) = start(store, user.id).await;
    let (next, at) = (token_hash(), now());
    let request = presenting(&token, &next, at, GRACE);
    let results = join_all((0..10).map(|_| store.rotate_refresh_token(&request))).await;
    let rotated = RefreshRotation::Rotated {
        user_id: user.id,
        session_id: session,
    };
    let repeated = RefreshRotation::Repeated {
        user_id: user.id,
        session_id: session,
        rotated_at: at,
    };
    let count = |wanted: &RefreshRotation| {
        let matching = results.iter().filter(|r| r.as_ref() == Ok(wanted));
        matching.count()
    };
    assert_eq!(count(&rotated), 1, "{results:?}");
    assert_eq!(count(&repeated), 9, "{results:?}");
    let onward = present(store, &presenting(&next, &token_hash(), at, GRACE)).await;
    assert_eq!(onward, rotated, "the session is alive");
}
