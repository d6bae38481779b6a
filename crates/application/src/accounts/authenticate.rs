//! Authentication of a bearer access token, on every protected request.

use super::Accounts;
use crate::ports::security::InvalidAccessToken;
use crate::{DependencyError, ErrorClass, UseCaseError};
use reserva_domain::accounts::{Role, SessionId, UserId};
use thiserror::Error;

/// The authenticated caller of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Principal {
    /// Who.
    pub user_id: UserId,
    /// Which login session.
    pub session_id: SessionId,
    /// The role as stored now (not as it was when the token was issued).
    pub role: Role,
}

impl Principal {
    /// Whether the caller may use administration endpoints.
    #[must_use]
    pub fn is_admin(&self) -> bool {
        self.role.is_admin()
    }
}

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AuthenticationError {
    /// Bad signature or shape, wrong algorithm, or expired.
    #[error("access token is invalid or expired")]
    InvalidToken,
    /// The session was logged out or revoked, or the user deactivated or deleted.
    #[error("session has been revoked")]
    Revoked,
    /// A dependency failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

impl UseCaseError for AuthenticationError {
    fn class(&self) -> ErrorClass {
        match self {
            Self::InvalidToken | Self::Revoked => ErrorClass::Unauthenticated,
            Self::Dependency(error) => error.class(),
        }
    }
    fn code(&self) -> &'static str {
        match self {
            Self::InvalidToken => "invalid_token",
            Self::Revoked => "token_revoked",
            Self::Dependency(error) => error.code(),
        }
    }
}

impl From<InvalidAccessToken> for AuthenticationError {
    fn from(_: InvalidAccessToken) -> Self {
        Self::InvalidToken
    }
}

impl Accounts {
    /// Checks the token's signature and expiry, that its session is not revoked, and that its user
    /// still exists and is active with the role the token carries.
    ///
    /// Shared state is asked once for both marks. Without a user mark the token's signed role is
    /// current: every role or activity change marks the user *before* it is written (see
    /// [`Accounts::mark_user_changed`]), for longer than any token issued before it can live. With
    /// a mark the user is read from storage, so a demotion or deactivation applies at once.
    ///
    /// A token that claims the admin role is always checked against storage too: admin requests
    /// are few, and a leaked signing key then still cannot mint administrators out of thin air.
    ///
    /// When shared state cannot be reached, failed lately (see [`MarksTrust`]), or has lost its
    /// marks (its marks epoch, read in the same round trip, is missing: a fresh or restarted
    /// Redis not yet rebuilt by [`Accounts::maintain_marks`]), an absent mark proves nothing, so
    /// storage decides: the session must be live there and the user active, with the role
    /// stored. A present revocation mark is always believed.
    ///
    /// With shared state up, its epoch present and no failure lately, an unmarked member or
    /// tutor token costs one round trip to shared state and no storage query.
    ///
    /// [`MarksTrust`]: super::marks_trust::MarksTrust
    ///
    /// # Errors
    /// `InvalidToken`, `Revoked`, or `Dependency` (storage failing, or shared state failing
    /// other than by being unreachable).
    pub async fn authenticate(&self, token: &str) -> Result<Principal, AuthenticationError> {
        let now = self.now();
        let claims = self.ports.access_tokens.verify(token, now)?;
        let (session_id, user_id) = (claims.session_id, claims.user_id);
        let marks = match self
            .ports
            .revocations
            .access_marks(session_id, user_id)
            .await
        {
            Ok(marks) => {
                self.send_owed_marks(now).await;
                Some(marks)
            }
            Err(DependencyError::Unavailable(reason)) => {
                tracing::warn!(%reason, "revocation marks unavailable; storage decides");
                self.distrust_marks(now);
                None
            }
            Err(error) => return Err(error.into()),
        };
        if marks.is_some_and(|marks| marks.session_revoked) || self.trust.owes(session_id) {
            return Err(AuthenticationError::Revoked);
        }
        let trusted = marks.filter(|marks| !marks.marks_lost && !self.trust.distrusted(now));
        let role = match trusted {
            Some(marks) if !marks.user_changed && !claims.role.is_admin() => claims.role,
            Some(_) => self.stored_role(user_id).await?,
            None => {
                if !self
                    .ports
                    .sessions
                    .is_session_live(user_id, session_id)
                    .await?
                {
                    return Err(AuthenticationError::Revoked);
                }
                self.stored_role(user_id).await?
            }
        };
        Ok(Principal {
            user_id,
            session_id,
            role,
        })
    }

    /// The role stored for an active user; `Revoked` for an inactive or missing one.
    async fn stored_role(&self, user_id: UserId) -> Result<Role, AuthenticationError> {
        let user = self.ports.users.find_user(user_id).await?;
        Ok(user
            .filter(|user| user.is_active)
            .ok_or(AuthenticationError::Revoked)?
            .role)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::test_support::{Fixture, fixed_now, user_with_role};
    use crate::ports::security::AccessClaims;
    use crate::ports::shared_state::AccessMarks;

    fn claims(role: Role) -> AccessClaims {
        AccessClaims {
            user_id: UserId::from_uuid(uuid::Uuid::now_v7()),
            session_id: SessionId::from_uuid(uuid::Uuid::now_v7()),
            role,
            issued_at: fixed_now(),
            expires_at: fixed_now(),
        }
    }

    /// A fixture whose token claims `claimed`; `stored` is what storage holds, and storage must
    /// be asked exactly when the user is marked changed or the token claims admin.
    fn fixture(claimed: Role, marks: AccessMarks, stored: Option<(Role, bool)>) -> Fixture {
        let mut fixture = Fixture::new();
        let claims = claims(claimed);
        let (session_id, user_id) = (claims.session_id, claims.user_id);
        fixture
            .access_tokens
            .expect_verify()
            .returning(move |_, _| Ok(claims.clone()));
        fixture
            .revocations
            .expect_access_marks()
            .withf(move |session, user| *session == session_id && *user == user_id)
            .times(1)
            .returning(move |_, _| Ok(marks));
        if (marks.user_changed || claimed.is_admin()) && !marks.session_revoked {
            fixture
                .users
                .expect_find_user()
                .times(1)
                .returning(move |id| {
                    Ok(stored.map(|(role, active)| {
                        let mut user = user_with_role(id, "a@b.co", role);
                        user.is_active = active;
                        user
                    }))
                });
        }
        fixture
    }

    const CHANGED: AccessMarks = AccessMarks {
        session_revoked: false,
        user_changed: true,
        marks_lost: false,
    };

    #[tokio::test]
    async fn trusts_the_signed_role_without_touching_storage_when_the_user_is_unmarked() {
        for role in [Role::Member, Role::Tutor] {
            let principal = fixture(role, AccessMarks::default(), None)
                .accounts()
                .authenticate("t")
                .await;
            assert_eq!(principal.map(|p| p.role), Ok(role));
        }
    }

    #[tokio::test]
    async fn an_admin_claim_is_always_checked_against_storage() {
        let principal = fixture(
            Role::Admin,
            AccessMarks::default(),
            Some((Role::Admin, true)),
        )
        .accounts()
        .authenticate("t")
        .await;
        assert_eq!(principal.map(|p| p.role), Ok(Role::Admin));
        for stored in [Some((Role::Member, true)), None] {
            let principal = fixture(Role::Admin, AccessMarks::default(), stored)
                .accounts()
                .authenticate("t")
                .await;
            let expected = if stored.is_some() {
                Ok(Role::Member)
            } else {
                Err(AuthenticationError::Revoked)
            };
            assert_eq!(principal.map(|p| p.role), expected, "{stored:?}");
        }
    }

    #[tokio::test]
    async fn reads_the_stored_role_when_the_user_is_marked_changed() {
        let principal = fixture(Role::Tutor, CHANGED, Some((Role::Member, true)))
            .accounts()
            .authenticate("t")
            .await;
        assert_eq!(principal.map(|p| p.role), Ok(Role::Member));
    }

    #[tokio::test]
    async fn refuses_revoked_sessions_and_inactive_or_missing_marked_users() {
        let revoked = AccessMarks {
            session_revoked: true,
            user_changed: true,
            marks_lost: false,
        };
        for (marks, stored) in [
            (revoked, Some((Role::Member, true))),
            (CHANGED, Some((Role::Admin, false))),
            (CHANGED, None),
        ] {
            let result = fixture(Role::Member, marks, stored)
                .accounts()
                .authenticate("t")
                .await;
            assert_eq!(result, Err(AuthenticationError::Revoked));
        }
    }

    fn unreachable() -> DependencyError {
        DependencyError::Unavailable("redis down".into())
    }

    /// A fixture whose shared state is unreachable, and whose storage holds the session as
    /// `live` and the user as `stored` (role, active).
    fn outage(claimed: Role, live: bool, stored: Option<(Role, bool)>) -> Fixture {
        let mut fixture = Fixture::new();
        let claims = claims(claimed);
        let (session_id, user_id) = (claims.session_id, claims.user_id);
        fixture
            .access_tokens
            .expect_verify()
            .returning(move |_, _| Ok(claims.clone()));
        fixture
            .revocations
            .expect_access_marks()
            .returning(|_, _| Err(unreachable()));
        fixture
            .sessions
            .expect_is_session_live()
            .withf(move |user, session| *user == user_id && *session == session_id)
            .times(1)
            .returning(move |_, _| Ok(live));
        fixture.users.expect_find_user().returning(move |id| {
            Ok(stored.map(|(role, active)| {
                let mut user = user_with_role(id, "a@b.co", role);
                user.is_active = active;
                user
            }))
        });
        fixture
    }

    #[tokio::test]
    async fn with_shared_state_unreachable_storage_decides_session_and_role() {
        let principal = outage(Role::Tutor, true, Some((Role::Member, true)))
            .accounts()
            .authenticate("t")
            .await;
        assert_eq!(principal.map(|p| p.role), Ok(Role::Member));
    }

    #[tokio::test]
    async fn with_shared_state_unreachable_a_revoked_session_or_inactive_user_is_refused() {
        for (live, stored) in [
            (false, Some((Role::Member, true))),
            (true, Some((Role::Member, false))),
            (true, None),
        ] {
            let result = outage(Role::Member, live, stored)
                .accounts()
                .authenticate("t")
                .await;
            assert_eq!(
                result,
                Err(AuthenticationError::Revoked),
                "{live} {stored:?}"
            );
        }
    }

    #[tokio::test]
    async fn with_both_down_the_answer_is_a_dependency_failure() {
        let mut fixture = Fixture::new();
        fixture
            .access_tokens
            .expect_verify()
            .returning(|_, _| Ok(claims(Role::Member)));
        fixture
            .revocations
            .expect_access_marks()
            .returning(|_, _| Err(unreachable()));
        fixture
            .sessions
            .expect_is_session_live()
            .returning(|_, _| Err(DependencyError::Unavailable("db down".into())));
        let result = fixture.accounts().authenticate("t").await;
        assert!(matches!(result, Err(AuthenticationError::Dependency(_))));
    }

    #[tokio::test]
    async fn a_shared_state_failure_other_than_unreachable_is_not_papered_over() {
        let mut fixture = Fixture::new();
        fixture
            .access_tokens
            .expect_verify()
            .returning(|_, _| Ok(claims(Role::Member)));
        fixture
            .revocations
            .expect_access_marks()
            .returning(|_, _| Err(DependencyError::Failed("WRONGTYPE".into())));
        let result = fixture.accounts().authenticate("t").await;
        assert!(matches!(result, Err(AuthenticationError::Dependency(_))));
    }

    /// Once shared state has failed, an unmarked answer from it proves nothing (a restarted Redis
    /// has lost its marks; another instance's mark may have failed), so storage still decides.
    #[tokio::test]
    async fn after_an_outage_unmarked_tokens_are_still_checked_in_storage() {
        let mut fixture = Fixture::new();
        let claims = claims(Role::Member);
        fixture
            .access_tokens
            .expect_verify()
            .returning(move |_, _| Ok(claims.clone()));
        let calls = std::sync::atomic::AtomicUsize::new(0);
        fixture
            .revocations
            .expect_access_marks()
            .returning(move |_, _| {
                if calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
                    Err(unreachable())
                } else {
                    Ok(AccessMarks::default())
                }
            });
        let live = std::sync::atomic::AtomicBool::new(true);
        fixture
            .sessions
            .expect_is_session_live()
            .times(2)
            .returning(move |_, _| Ok(live.swap(false, std::sync::atomic::Ordering::SeqCst)));
        fixture
            .users
            .expect_find_user()
            .returning(|id| Ok(Some(user_with_role(id, "a@b.co", Role::Member))));
        let accounts = fixture.accounts();
        assert_eq!(
            accounts.authenticate("t").await.map(|p| p.role),
            Ok(Role::Member)
        );
        // Shared state answers again, unmarked; storage says the session was revoked meanwhile.
        assert_eq!(
            accounts.authenticate("t").await,
            Err(AuthenticationError::Revoked)
        );
    }

    /// A logout whose mark cannot be written still succeeds (storage has the revocation); the
    /// token is refused from then on, and the mark is written once shared state answers.
    #[tokio::test]
    async fn a_logout_during_an_outage_is_refused_after_and_its_mark_sent_later() {
        let mut fixture = Fixture::new();
        let claims = claims(Role::Member);
        let principal = Principal {
            user_id: claims.user_id,
            session_id: claims.session_id,
            role: Role::Member,
        };
        fixture
            .access_tokens
            .expect_verify()
            .returning(move |_, _| Ok(claims.clone()));
        fixture
            .refresh_tokens
            .expect_hash()
            .returning(|plain| crate::ports::security::RefreshTokenHash::new(plain.into()));
        let session = principal.session_id;
        fixture
            .sessions
            .expect_revoke_session()
            .returning(move |_, _, _| Ok(Some(session)));
        let up = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let revoke_up = up.clone();
        fixture
            .revocations
            .expect_revoke()
            .withf(move |revoked, _| *revoked == session)
            .times(2)
            .returning(move |_, _| {
                if revoke_up.load(std::sync::atomic::Ordering::SeqCst) {
                    Ok(())
                } else {
                    Err(unreachable())
                }
            });
        fixture
            .revocations
            .expect_access_marks()
            .returning(|_, _| Ok(AccessMarks::default()));
        fixture
            .sessions
            .expect_is_session_live()
            .returning(|_, _| Ok(false));
        let accounts = fixture.accounts();
        assert_eq!(accounts.logout(&principal, "refresh").await, Ok(()));
        up.store(true, std::sync::atomic::Ordering::SeqCst);
        for _ in 0..2 {
            assert_eq!(
                accounts.authenticate("t").await,
                Err(AuthenticationError::Revoked)
            );
        }
    }

    /// Shared state that lost its marks (no epoch: restarted empty, not yet rebuilt) answers
    /// "unmarked" for a logged-out session; storage decides, and refuses it.
    #[tokio::test]
    async fn with_the_marks_epoch_missing_storage_decides() {
        let lost = AccessMarks {
            marks_lost: true,
            ..AccessMarks::default()
        };
        for (live, expected) in [
            (false, Err(AuthenticationError::Revoked)),
            (true, Ok(Role::Member)),
        ] {
            let mut fixture = Fixture::new();
            let claims = claims(Role::Tutor);
            fixture
                .access_tokens
                .expect_verify()
                .returning(move |_, _| Ok(claims.clone()));
            fixture
                .revocations
                .expect_access_marks()
                .times(1)
                .returning(move |_, _| Ok(lost));
            fixture
                .sessions
                .expect_is_session_live()
                .times(1)
                .returning(move |_, _| Ok(live));
            fixture
                .users
                .expect_find_user()
                .returning(|id| Ok(Some(user_with_role(id, "a@b.co", Role::Member))));
            let result = fixture.accounts().authenticate("t").await;
            assert_eq!(result.map(|p| p.role), expected, "{live}");
        }
    }

    /// A revocation mark is believed even when the epoch is missing, without asking storage.
    #[tokio::test]
    async fn a_present_revocation_mark_is_believed_without_an_epoch() {
        let marks = AccessMarks {
            session_revoked: true,
            user_changed: false,
            marks_lost: true,
        };
        let result = fixture(Role::Member, marks, None)
            .accounts()
            .authenticate("t")
            .await;
        assert_eq!(result, Err(AuthenticationError::Revoked));
    }

    #[tokio::test]
    async fn refuses_bad_tokens_without_touching_storage() {
        let mut fixture = Fixture::new();
        fixture
            .access_tokens
            .expect_verify()
            .returning(|_, _| Err(InvalidAccessToken::Expired));
        let result = fixture.accounts().authenticate("t").await;
        assert_eq!(result, Err(AuthenticationError::InvalidToken));
    }
}
