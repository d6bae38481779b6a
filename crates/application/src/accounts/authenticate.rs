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
    /// # Errors
    /// `InvalidToken`, `Revoked`, or `Dependency`.
    pub async fn authenticate(&self, token: &str) -> Result<Principal, AuthenticationError> {
        let claims = self.ports.access_tokens.verify(token, self.now())?;
        let marks = self
            .ports
            .revocations
            .access_marks(claims.session_id, claims.user_id)
            .await?;
        if marks.session_revoked {
            return Err(AuthenticationError::Revoked);
        }
        let role = if marks.user_changed || claims.role.is_admin() {
            let user = self.ports.users.find_user(claims.user_id).await?;
            user.filter(|user| user.is_active)
                .ok_or(AuthenticationError::Revoked)?
                .role
        } else {
            claims.role
        };
        Ok(Principal {
            user_id: claims.user_id,
            session_id: claims.session_id,
            role,
        })
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

    #[tokio::test]
    async fn an_unreachable_shared_state_is_a_dependency_failure() {
        let mut fixture = Fixture::new();
        fixture
            .access_tokens
            .expect_verify()
            .returning(|_, _| Ok(claims(Role::Member)));
        fixture
            .revocations
            .expect_access_marks()
            .returning(|_, _| Err(DependencyError::Unavailable("redis down".into())));
        let result = fixture.accounts().authenticate("t").await;
        assert!(matches!(result, Err(AuthenticationError::Dependency(_))));
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
