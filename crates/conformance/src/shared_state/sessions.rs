//! `SessionRevocations`: session and user marks that hold until their instant and are never
//! shortened by a later mark.

use super::{SHORT, SharedState};
use crate::support::{session_id, user_id};
use reserva_application::ports::shared_state::AccessMarks;

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
        state.access_marks(lasting, user).await,
        Ok(AccessMarks {
            session_revoked: true,
            user_changed: false
        }),
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
        state.access_marks(session, lasting).await,
        Ok(AccessMarks {
            session_revoked: false,
            user_changed: true
        }),
        "a user mark says nothing of a session"
    );
}
