//! `SessionRevocations`: session and user marks that hold until their instant and are never
//! shortened by a later mark.

use super::{SHORT, SharedState};
use crate::support::{session_id, user_id};

/// A revoked session reads revoked until the given instant, then the mark lapses; a later mark
/// of the same session never shortens an earlier one.
pub async fn revoked_sessions_stay_revoked_until_the_given_instant<S: SharedState>(state: &S) {
    let (lasting, lapsing, untouched) = (session_id(), session_id(), session_id());
    let user = user_id();
    let revoked = async |session| {
        state
            .access_marks(session, user)
            .await
            .map(|marks| marks.session_revoked)
    };
    let now = chrono::Utc::now();
    assert_eq!(
        state
            .revoke(lasting, now + chrono::Duration::minutes(15))
            .await,
        Ok(())
    );
    assert_eq!(
        state
            .revoke(lapsing, now + chrono::Duration::milliseconds(300))
            .await,
        Ok(())
    );
    assert_eq!(
        state
            .revoke(lasting, now + chrono::Duration::milliseconds(300))
            .await,
        Ok(()),
        "a shorter second mark"
    );
    assert_eq!(revoked(lasting).await, Ok(true));
    assert_eq!(revoked(lapsing).await, Ok(true));
    assert_eq!(revoked(untouched).await, Ok(false));
    tokio::time::sleep(SHORT * 2).await;
    assert_eq!(revoked(lapsing).await, Ok(false));
    assert_eq!(revoked(lasting).await, Ok(true), "the longer mark is kept");
    let past = now - chrono::Duration::seconds(1);
    assert_eq!(state.revoke(untouched, past).await, Ok(()));
    assert_eq!(
        revoked(untouched).await,
        Ok(false),
        "a mark in the past is no mark"
    );
    assert_eq!(
        state
            .access_marks(lasting, user)
            .await
            .map(|marks| (marks.session_revoked, marks.user_changed)),
        Ok((true, false)),
        "a session mark says nothing of its user"
    );
}

/// A changed user reads changed until the given instant, independently of any session; a later
/// mark never shortens an earlier one.
pub async fn changed_users_stay_marked_until_the_given_instant<S: SharedState>(state: &S) {
    let (lasting, lapsing, untouched) = (user_id(), user_id(), user_id());
    let session = session_id();
    let changed = async |user| {
        state
            .access_marks(session, user)
            .await
            .map(|marks| marks.user_changed)
    };
    let now = chrono::Utc::now();
    let long = now + chrono::Duration::minutes(30);
    let short = now + chrono::Duration::milliseconds(300);
    assert_eq!(state.mark_user_changed(lasting, long).await, Ok(()));
    assert_eq!(state.mark_user_changed(lasting, short).await, Ok(()));
    assert_eq!(state.mark_user_changed(lapsing, short).await, Ok(()));
    assert_eq!(
        state
            .mark_user_changed(untouched, now - chrono::Duration::seconds(1))
            .await,
        Ok(()),
        "a mark in the past"
    );
    assert_eq!(changed(lasting).await, Ok(true));
    assert_eq!(changed(lapsing).await, Ok(true));
    assert_eq!(changed(untouched).await, Ok(false));
    tokio::time::sleep(SHORT * 2).await;
    assert_eq!(changed(lapsing).await, Ok(false));
    assert_eq!(changed(lasting).await, Ok(true), "the longer mark is kept");
    assert_eq!(
        state
            .access_marks(session, lasting)
            .await
            .map(|marks| (marks.session_revoked, marks.user_changed)),
        Ok((false, true)),
        "a user mark says nothing of a session"
    );
}

/// Restored marks hold until their instants (a lapsed one is no mark), and once they are written
/// shared state no longer reads as having lost marks, in `marks_lost` and in `access_marks`.
pub async fn restored_marks_hold_and_end_the_loss<S: SharedState>(state: &S) {
    let (revoked, lapsed, user) = (session_id(), session_id(), user_id());
    let now = chrono::Utc::now();
    let sessions = [
        (revoked, now + chrono::Duration::minutes(15)),
        (lapsed, now - chrono::Duration::seconds(1)),
    ];
    let users = [(user, now + chrono::Duration::minutes(30))];
    assert_eq!(
        state
            .claim_rebuild(std::time::Duration::from_secs(15))
            .await,
        Ok(true)
    );
    assert_eq!(state.restore_marks(&sessions, &users).await, Ok(()));
    assert_eq!(state.marks_lost().await, Ok(false));
    let marks = state.access_marks(revoked, user).await;
    assert_eq!(
        marks.map(|marks| (marks.session_revoked, marks.user_changed, marks.marks_lost)),
        Ok((true, true, false))
    );
    let marks = state.access_marks(lapsed, user_id()).await;
    assert_eq!(
        marks.map(|marks| (marks.session_revoked, marks.user_changed)),
        Ok((false, false))
    );
}

/// Of concurrent claims of the rebuild exactly one wins, and the claim lapses after its TTL.
pub async fn one_concurrent_rebuild_claim_wins_until_it_lapses<S: SharedState>(state: &S) {
    let claims = futures_util::future::join_all((0..8).map(|_| state.claim_rebuild(SHORT))).await;
    let won = claims.iter().filter(|claim| **claim == Ok(true)).count();
    assert_eq!(won, 1, "{claims:?}");
    assert!(claims.iter().all(Result::is_ok), "{claims:?}");
    tokio::time::sleep(SHORT * 2).await;
    assert_eq!(
        state.claim_rebuild(SHORT).await,
        Ok(true),
        "the claim lapsed"
    );
}
