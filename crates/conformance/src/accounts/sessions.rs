//! Sessions: refresh tokens that rotate exactly once, reuse that revokes, and revocation by the
//! owner only, alone or with a user update.

use super::{AccountStore, insert, present, presenting, start};
use crate::support::{now, session_id, tag, token_hash};
use chrono::Duration;
use futures_util::future::join_all;
use reserva_application::ports::accounts::{
    NewSession, RefreshRotation, RevokeSessions, SessionSelector, UserChanges,
};
use reserva_application::ports::security::RefreshTokenHash;
use reserva_domain::accounts::Role;
use std::time::Duration as StdDuration;

async fn rotate<S: AccountStore>(store: &S, token: &RefreshTokenHash) -> RefreshRotation {
    let next = token_hash();
    rotate_to(store, token, &next).await
}

/// Rotates without a grace window: any second presentation is reuse.
async fn rotate_to<S: AccountStore>(
    store: &S,
    token: &RefreshTokenHash,
    next: &RefreshTokenHash,
) -> RefreshRotation {
    present(store, &presenting(token, next, now(), StdDuration::ZERO)).await
}

/// `AllExcept` revokes every other live session; `All` revokes the rest. Revoked ids are returned
/// and their refresh tokens stop working.
pub async fn update_revokes_the_chosen_sessions<S: AccountStore>(store: &S) {
    let user = insert(store, &format!("rev{}", tag()), Role::Member).await;
    let bystander = insert(store, &format!("bys{}", tag()), Role::Member).await;
    let (kept, kept_token) = start(store, user.id).await;
    let (other_a, token_a) = start(store, user.id).await;
    let (other_b, _) = start(store, user.id).await;
    let (_, bystander_token) = start(store, bystander.id).await;
    let changes = UserChanges::default();
    let result = store
        .update_user(user.id, &changes, RevokeSessions::AllExcept(kept), now())
        .await;
    let mut revoked = result.map(|u| u.revoked_sessions).unwrap_or_default();
    revoked.sort();
    let mut expected = vec![other_a, other_b];
    expected.sort();
    assert_eq!(revoked, expected);
    assert_eq!(rotate(store, &token_a).await, RefreshRotation::Rejected);
    let next = token_hash();
    let rotated = rotate_to(store, &kept_token, &next).await;
    assert_eq!(
        rotated,
        RefreshRotation::Rotated {
            user_id: user.id,
            session_id: kept
        }
    );
    let all = store
        .update_user(user.id, &changes, RevokeSessions::All, now())
        .await;
    assert_eq!(all.map(|u| u.revoked_sessions), Ok(vec![kept]));
    assert_eq!(rotate(store, &next).await, RefreshRotation::Rejected);
    assert!(matches!(
        rotate(store, &bystander_token).await,
        RefreshRotation::Rotated { .. }
    ));
}

/// A token rotates once; presenting it again revokes the session, killing the newer token too.
pub async fn refresh_token_rotates_once_and_reuse_revokes_the_session<S: AccountStore>(store: &S) {
    let user = insert(store, &format!("rot{}", tag()), Role::Member).await;
    let (session, first) = start(store, user.id).await;
    let second = token_hash();
    let rotated = rotate_to(store, &first, &second).await;
    assert_eq!(
        rotated,
        RefreshRotation::Rotated {
            user_id: user.id,
            session_id: session
        }
    );
    let third = token_hash();
    let rotated = rotate_to(store, &second, &third).await;
    assert_eq!(
        rotated,
        RefreshRotation::Rotated {
            user_id: user.id,
            session_id: session
        }
    );
    assert_eq!(
        rotate(store, &first).await,
        RefreshRotation::ReuseDetected {
            session_id: session
        }
    );
    assert_eq!(rotate(store, &third).await, RefreshRotation::Rejected);
}

/// Ten simultaneous rotations of one token: exactly one `Rotated`.
pub async fn concurrent_rotations_of_one_token_let_exactly_one_through<S: AccountStore>(store: &S) {
    let user = insert(store, &format!("race{}", tag()), Role::Member).await;
    let (_, token) = start(store, user.id).await;
    let results = join_all((0..10).map(|_| {
        let request = presenting(&token, &token_hash(), now(), StdDuration::ZERO);
        async move { store.rotate_refresh_token(&request).await }
    }))
    .await;
    let rotated = results
        .iter()
        .filter(|r| matches!(r, Ok(RefreshRotation::Rotated { .. })));
    assert_eq!(rotated.count(), 1, "{results:?}");
    assert!(results.iter().all(Result::is_ok), "{results:?}");
}

/// Expired, unknown, and deactivated users' tokens are `Rejected` and change nothing.
pub async fn expired_unknown_and_deactivated_refresh_tokens_are_rejected<S: AccountStore>(
    store: &S,
) {
    assert_eq!(
        rotate(store, &token_hash()).await,
        RefreshRotation::Rejected
    );
    let user = insert(store, &format!("exp{}", tag()), Role::Member).await;
    let expired = token_hash();
    let session = NewSession {
        id: session_id(),
        user_id: user.id,
        refresh_token: expired.clone(),
        refresh_expires_at: now() - Duration::seconds(1),
        now: now() - Duration::days(15),
    };
    assert_eq!(store.start_session(session).await, Ok(()));
    assert_eq!(rotate(store, &expired).await, RefreshRotation::Rejected);
    let (_, live) = start(store, user.id).await;
    let off = UserChanges {
        is_active: Some(false),
        ..UserChanges::default()
    };
    let result = store
        .update_user(user.id, &off, RevokeSessions::None, now())
        .await;
    assert!(result.is_ok());
    assert_eq!(rotate(store, &live).await, RefreshRotation::Rejected);
}

/// Revocation by id or by refresh token works for the owner and does nothing for anyone else.
pub async fn sessions_are_revoked_by_id_or_token_only_for_their_owner<S: AccountStore>(store: &S) {
    let owner = insert(store, &format!("own{}", tag()), Role::Member).await;
    let stranger = insert(store, &format!("str{}", tag()), Role::Member).await;
    let (by_id, by_id_token) = start(store, owner.id).await;
    let (by_token, token) = start(store, owner.id).await;
    let foreign = store
        .revoke_session(stranger.id, &SessionSelector::Id(by_id), now())
        .await;
    assert_eq!(foreign, Ok(None));
    let foreign_token = SessionSelector::RefreshToken(token.clone());
    assert_eq!(
        store
            .revoke_session(stranger.id, &foreign_token, now())
            .await,
        Ok(None)
    );
    assert!(matches!(
        rotate(store, &by_id_token).await,
        RefreshRotation::Rotated { .. }
    ));
    let revoked = store
        .revoke_session(owner.id, &SessionSelector::Id(by_id), now())
        .await;
    assert_eq!(revoked, Ok(Some(by_id)));
    let revoked = store
        .revoke_session(
            owner.id,
            &SessionSelector::RefreshToken(token.clone()),
            now(),
        )
        .await;
    assert_eq!(revoked, Ok(Some(by_token)));
    let again = store
        .revoke_session(owner.id, &SessionSelector::Id(by_token), now())
        .await;
    assert_eq!(again, Ok(Some(by_token)));
    assert_eq!(rotate(store, &token).await, RefreshRotation::Rejected);
    let unknown = store
        .revoke_session(owner.id, &SessionSelector::Id(session_id()), now())
        .await;
    assert_eq!(unknown, Ok(None));
}

/// `is_session_live` is the durable answer a bearer check falls back on without shared state: a
/// session is live for its owner only, until any of the three ways of revoking it.
pub async fn a_session_is_live_for_its_owner_until_any_revocation<S: AccountStore>(store: &S) {
    let owner = insert(store, &format!("liv{}", tag()), Role::Member).await;
    let stranger = insert(store, &format!("lvs{}", tag()), Role::Member).await;
    let live = |session| async move { store.is_session_live(owner.id, session).await };
    let (logged_out, _) = start(store, owner.id).await;
    let (updated, _) = start(store, owner.id).await;
    let (reused, reused_token) = start(store, owner.id).await;
    for session in [logged_out, updated, reused] {
        assert_eq!(live(session).await, Ok(true));
    }
    assert_eq!(
        store.is_session_live(stranger.id, logged_out).await,
        Ok(false)
    );
    assert_eq!(live(session_id()).await, Ok(false));
    let revoked = store
        .revoke_session(owner.id, &SessionSelector::Id(logged_out), now())
        .await;
    assert_eq!(revoked, Ok(Some(logged_out)));
    assert_eq!(live(logged_out).await, Ok(false));
    let result = store
        .update_user(
            owner.id,
            &UserChanges::default(),
            RevokeSessions::AllExcept(reused),
            now(),
        )
        .await;
    assert_eq!(result.map(|u| u.revoked_sessions), Ok(vec![updated]));
    assert_eq!(live(updated).await, Ok(false));
    assert_eq!(live(reused).await, Ok(true));
    assert!(matches!(
        rotate(store, &reused_token).await,
        RefreshRotation::Rotated { .. }
    ));
    assert_eq!(
        rotate(store, &reused_token).await,
        RefreshRotation::ReuseDetected { session_id: reused }
    );
    assert_eq!(live(reused).await, Ok(false));
}

/// What a rebuild of the marks reads: the sessions revoked (by logout or by an update) and the
/// users updated at or after an instant, each with that instant; nothing older, nothing live.
pub async fn recent_revocations_and_changes_are_listed_with_their_instants<S: AccountStore>(
    store: &S,
) {
    let user = insert(store, &format!("rcv{}", tag()), Role::Member).await;
    let (logged_out, _) = start(store, user.id).await;
    let (updated, _) = start(store, user.id).await;
    let (live, _) = start(store, user.id).await;
    let (old, _) = start(store, user.id).await;
    let long_ago = now() - Duration::hours(2);
    let revoke = |session, at| async move {
        store
            .revoke_session(user.id, &SessionSelector::Id(session), at)
            .await
    };
    assert_eq!(revoke(old, long_ago).await, Ok(Some(old)));
    let since = now() - Duration::minutes(30);
    let logout_at = now();
    assert_eq!(revoke(logged_out, logout_at).await, Ok(Some(logged_out)));
    let update_at = now() + Duration::seconds(1);
    let result = store
        .update_user(
            user.id,
            &UserChanges::default(),
            RevokeSessions::AllExcept(live),
            update_at,
        )
        .await;
    assert_eq!(result.map(|u| u.revoked_sessions), Ok(vec![updated]));
    let revoked = store
        .sessions_revoked_since(since)
        .await
        .unwrap_or_default();
    let mine: Vec<_> = revoked
        .into_iter()
        .filter(|(session, _)| [logged_out, updated, live, old].contains(session))
        .collect();
    assert_eq!(mine.len(), 2, "{mine:?}");
    assert!(mine.contains(&(logged_out, logout_at)), "{mine:?}");
    assert!(mine.contains(&(updated, update_at)), "{mine:?}");
    let changed = store.users_changed_since(since).await.unwrap_or_default();
    assert!(changed.contains(&(user.id, update_at)), "{changed:?}");
    let later = store
        .users_changed_since(update_at + Duration::seconds(1))
        .await
        .unwrap_or_default();
    assert!(!later.iter().any(|(id, _)| *id == user.id), "{later:?}");
}
