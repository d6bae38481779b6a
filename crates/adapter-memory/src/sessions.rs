//! `SessionRevocations` within one process: marks of revoked sessions and of changed users, each
//! kept until the instant it lapses and pruned afterwards. Marks in memory are lost only with the
//! process, and with them every instance that could trust them: `marks_lost` is always `false`.

use crate::MemorySharedState;
use crate::expiring::{Expiring, guard};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reserva_application::DependencyError;
use reserva_application::ports::shared_state::{AccessMarks, SessionRevocations};
use reserva_domain::accounts::{SessionId, UserId};
use std::hash::Hash;
use std::sync::Mutex;
use std::time::Duration;

/// The revocation port's part of the state: when each mark lapses.
#[derive(Debug, Default)]
pub(crate) struct Marks {
    revoked: Mutex<Expiring<SessionId, DateTime<Utc>>>,
    changed_users: Mutex<Expiring<UserId, DateTime<Utc>>>,
    /// Until when the rebuild claim holds.
    rebuild_claim: Mutex<Option<DateTime<Utc>>>,
}

/// Sets a mark that lapses at `until`, or moves an existing mark's lapse later (never earlier).
fn mark_until<K: Eq + Hash>(
    marks: &Mutex<Expiring<K, DateTime<Utc>>>,
    key: K,
    until: DateTime<Utc>,
) -> Result<(), DependencyError> {
    let now = Utc::now();
    if until <= now {
        return Ok(());
    }
    let mut marks = guard(marks, "revocation")?;
    marks.note_write(|until| *until > now);
    let mark = marks.entries.entry(key).or_insert(until);
    if *mark < until {
        *mark = until;
    }
    Ok(())
}

/// Whether `key` has a mark that has not lapsed at `now`.
fn is_marked<K: Eq + Hash>(
    marks: &Mutex<Expiring<K, DateTime<Utc>>>,
    key: &K,
    now: DateTime<Utc>,
) -> Result<bool, DependencyError> {
    let marks = guard(marks, "revocation")?;
    Ok(marks.entries.get(key).is_some_and(|until| *until > now))
}

#[async_trait]
impl SessionRevocations for MemorySharedState {
    async fn revoke(
        &self,
        session: SessionId,
        until: DateTime<Utc>,
    ) -> Result<(), DependencyError> {
        mark_until(&self.state.marks.revoked, session, until)
    }

    async fn mark_user_changed(
        &self,
        user: UserId,
        until: DateTime<Utc>,
    ) -> Result<(), DependencyError> {
        mark_until(&self.state.marks.changed_users, user, until)
    }

    async fn access_marks(
        &self,
        session: SessionId,
        user: UserId,
    ) -> Result<AccessMarks, DependencyError> {
        let now = Utc::now();
        Ok(AccessMarks {
            session_revoked: is_marked(&self.state.marks.revoked, &session, now)?,
            user_changed: is_marked(&self.state.marks.changed_users, &user, now)?,
            marks_lost: false,
        })
    }

    async fn marks_lost(&self) -> Result<bool, DependencyError> {
        Ok(false)
    }

    async fn claim_rebuild(&self, ttl: Duration) -> Result<bool, DependencyError> {
        let now = Utc::now();
        let mut claim = guard(&self.state.marks.rebuild_claim, "rebuild claim")?;
        if claim.is_some_and(|until| now < until) {
            return Ok(false);
        }
        *claim = Some(now + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::MAX));
        Ok(true)
    }

    async fn restore_marks(
        &self,
        sessions: &[(SessionId, DateTime<Utc>)],
        users: &[(UserId, DateTime<Utc>)],
    ) -> Result<(), DependencyError> {
        for (session, until) in sessions {
            mark_until(&self.state.marks.revoked, *session, *until)?;
        }
        for (user, until) in users {
            mark_until(&self.state.marks.changed_users, *user, *until)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expiring::PRUNE_ABOVE;

    fn session() -> SessionId {
        SessionId::from_uuid(uuid::Uuid::new_v4())
    }

    #[tokio::test]
    async fn large_maps_are_pruned_on_every_write() {
        let state = MemorySharedState::new();
        // Time enough to write them all before they lapse, even on a loaded machine: a revocation
        // that has already lapsed is not stored, and the map would not grow large.
        let lapse = Utc::now() + chrono::Duration::milliseconds(500);
        for _ in 0..=PRUNE_ABOVE {
            state.revoke(session(), lapse).await.unwrap();
        }
        let revoked = &state.state.marks.revoked;
        assert!(revoked.lock().unwrap().entries.len() > PRUNE_ABOVE);
        tokio::time::sleep(Duration::from_millis(600)).await;
        let lasting = session();
        state
            .revoke(lasting, Utc::now() + chrono::Duration::minutes(5))
            .await
            .unwrap();
        let revoked = revoked.lock().unwrap();
        assert_eq!(revoked.entries.len(), 1);
        assert!(revoked.entries.contains_key(&lasting));
    }
}
