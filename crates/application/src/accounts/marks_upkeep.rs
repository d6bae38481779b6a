//! Upkeep of the revocation marks in shared state, run every couple of seconds on every instance
//! (`crates/server/src/jobs.rs`) and once before serving.
//!
//! Two things can leave the marks incomplete: a mark whose write failed (this instance owes it,
//! see [`MarksTrust`](super::marks_trust::MarksTrust)), and a Redis that lost its data (restarted
//! empty, flushed). The first is written again here, so a revocation made during an outage is in
//! shared state within one upkeep period of its return, whether or not a bearer check comes. The
//! second shows as a missing marks epoch: one instance (the one that wins
//! [`SessionRevocations::claim_rebuild`](crate::ports::shared_state::SessionRevocations::claim_rebuild))
//! rebuilds the marks from storage — the sessions revoked and the users changed recently enough
//! for a mark to still matter — and sets the epoch; until then every instance's bearer checks
//! read storage.

use super::Accounts;
use crate::DependencyError;
use chrono::{DateTime, TimeDelta, Utc};
use std::time::Duration;

/// How long a rebuild claim holds: a rebuild that fails or hangs is retried by whoever claims
/// next after this. An overlap of two rebuilds is harmless (marks are never shortened).
const REBUILD_CLAIM: Duration = Duration::from_secs(15);

/// Storage is read this much further back than the marks' lives, for clocks of instances that
/// run behind the rebuilding one (a revocation stamped by a slow clock).
const CLOCK_SLACK: TimeDelta = TimeDelta::minutes(1);

/// What one upkeep found and did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarksUpkeep {
    /// Shared state has its marks (the epoch is present).
    Complete,
    /// Shared state had lost its marks; this instance rebuilt them from storage.
    Rebuilt {
        /// Revocation marks written.
        sessions: usize,
        /// Changed-user marks written.
        users: usize,
    },
    /// Shared state has lost its marks and another instance is rebuilding them.
    RebuildElsewhere,
}

impl Accounts {
    /// Writes the marks this instance owes, then, if shared state has lost its marks and no other
    /// instance is rebuilding them, rebuilds them from storage and sets the marks epoch.
    ///
    /// # Errors
    /// `Dependency` when shared state or storage fails (the next upkeep tries again; bearer
    /// checks read storage meanwhile).
    pub async fn maintain_marks(&self) -> Result<MarksUpkeep, DependencyError> {
        let now = self.now();
        self.send_owed_marks(now).await;
        if !self.ports.revocations.marks_lost().await? {
            return Ok(MarksUpkeep::Complete);
        }
        if !self.ports.revocations.claim_rebuild(REBUILD_CLAIM).await? {
            return Ok(MarksUpkeep::RebuildElsewhere);
        }
        let access = lifetime(self.policy.access_token_ttl);
        let changed = lifetime(self.policy.access_token_ttl.saturating_mul(2));
        let since = |life: TimeDelta| {
            now.checked_sub_signed(life + CLOCK_SLACK)
                .unwrap_or(DateTime::<Utc>::MIN_UTC)
        };
        let until = |at: DateTime<Utc>, life: TimeDelta| {
            at.checked_add_signed(life)
                .unwrap_or(DateTime::<Utc>::MAX_UTC)
        };
        let sessions: Vec<_> = self
            .ports
            .sessions
            .sessions_revoked_since(since(access))
            .await?
            .into_iter()
            .map(|(session, revoked_at)| (session, until(revoked_at, access)))
            .filter(|(_, until)| now < *until)
            .collect();
        let users: Vec<_> = self
            .ports
            .users
            .users_changed_since(since(changed))
            .await?
            .into_iter()
            .map(|(user, changed_at)| (user, until(changed_at, changed)))
            .filter(|(_, until)| now < *until)
            .collect();
        self.ports
            .revocations
            .restore_marks(&sessions, &users)
            .await?;
        tracing::info!(
            sessions = sessions.len(),
            users = users.len(),
            "revocation marks rebuilt from storage"
        );
        Ok(MarksUpkeep::Rebuilt {
            sessions: sessions.len(),
            users: users.len(),
        })
    }
}

/// A lifetime as a time delta; one beyond chrono's range is capped (a century is "forever").
fn lifetime(ttl: Duration) -> TimeDelta {
    TimeDelta::from_std(ttl)
        .unwrap_or(TimeDelta::MAX)
        .min(TimeDelta::days(36_500))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::test_support::{Fixture, fixed_now};
    use reserva_domain::accounts::{SessionId, UserId};

    fn minutes(minutes: i64) -> TimeDelta {
        TimeDelta::minutes(minutes)
    }

    #[tokio::test]
    async fn complete_marks_cost_one_look_and_no_storage_query() {
        let mut fixture = Fixture::new();
        fixture
            .revocations
            .expect_marks_lost()
            .times(1)
            .returning(|| Ok(false));
        fixture.revocations.expect_claim_rebuild().never();
        fixture.sessions.expect_sessions_revoked_since().never();
        fixture.users.expect_users_changed_since().never();
        let upkeep = fixture.accounts().maintain_marks().await;
        assert_eq!(upkeep, Ok(MarksUpkeep::Complete));
    }

    /// Lost marks are rebuilt from what storage records within the marks' lives (plus slack),
    /// each mark lasting as long as it would have from its revocation or change.
    #[tokio::test]
    async fn lost_marks_are_rebuilt_from_storage_then_the_epoch_set() {
        let (recent, old) = (
            SessionId::from_uuid(uuid::Uuid::now_v7()),
            SessionId::from_uuid(uuid::Uuid::now_v7()),
        );
        let user = UserId::from_uuid(uuid::Uuid::now_v7());
        let now = fixed_now();
        let mut fixture = Fixture::new();
        fixture
            .revocations
            .expect_marks_lost()
            .returning(|| Ok(true));
        fixture
            .revocations
            .expect_claim_rebuild()
            .times(1)
            .returning(|_| Ok(true));
        fixture
            .sessions
            .expect_sessions_revoked_since()
            .withf(move |since| *since == now - minutes(16))
            .times(1)
            .returning(move |_| Ok(vec![(recent, now - minutes(5)), (old, now - minutes(15))]));
        fixture
            .users
            .expect_users_changed_since()
            .withf(move |since| *since == now - minutes(31))
            .times(1)
            .returning(move |_| Ok(vec![(user, now - minutes(20))]));
        fixture
            .revocations
            .expect_restore_marks()
            .withf(move |sessions, users| {
                sessions == [(recent, now + minutes(10))] && users == [(user, now + minutes(10))]
            })
            .times(1)
            .returning(|_, _| Ok(()));
        let upkeep = fixture.accounts().maintain_marks().await;
        assert_eq!(
            upkeep,
            Ok(MarksUpkeep::Rebuilt {
                sessions: 1,
                users: 1
            })
        );
    }

    #[tokio::test]
    async fn only_the_claimant_rebuilds() {
        let mut fixture = Fixture::new();
        fixture
            .revocations
            .expect_marks_lost()
            .returning(|| Ok(true));
        fixture
            .revocations
            .expect_claim_rebuild()
            .returning(|_| Ok(false));
        fixture.sessions.expect_sessions_revoked_since().never();
        fixture.revocations.expect_restore_marks().never();
        let upkeep = fixture.accounts().maintain_marks().await;
        assert_eq!(upkeep, Ok(MarksUpkeep::RebuildElsewhere));
    }

    /// A storage failure during a rebuild sets no epoch: bearer checks keep reading storage and
    /// the next claimant tries again.
    #[tokio::test]
    async fn a_failed_rebuild_sets_no_epoch() {
        let mut fixture = Fixture::new();
        fixture
            .revocations
            .expect_marks_lost()
            .returning(|| Ok(true));
        fixture
            .revocations
            .expect_claim_rebuild()
            .returning(|_| Ok(true));
        fixture
            .sessions
            .expect_sessions_revoked_since()
            .returning(|_| Err(DependencyError::Unavailable("db down".into())));
        fixture.revocations.expect_restore_marks().never();
        let upkeep = fixture.accounts().maintain_marks().await;
        assert!(matches!(upkeep, Err(DependencyError::Unavailable(_))));
    }

    #[test]
    fn huge_lifetimes_do_not_overflow() {
        let life = lifetime(Duration::MAX);
        assert!(fixed_now().checked_sub_signed(life).is_some());
    }
}
