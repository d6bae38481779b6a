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
    /// still exists and is active. The role comes from storage, so a demotion applies at once.
    ///
    /// # Errors
    /// `InvalidToken`, `Revoked`, or `Dependency`.
    pub async fn authenticate(&self, token: &str) -> Result<Principal, AuthenticationError> {
        let claims = self.ports.access_tokens.verify(token, self.now())?;
        if self.ports.revocations.is_revoked(claims.session_id).await? {
            return Err(AuthenticationError::Revoked);
        }
        let user = self.ports.users.find_user(claims.user_id).await?;
        let user = user
            .filter(|user| user.is_active)
            .ok_or(AuthenticationError::Revoked)?;
        Ok(Principal {
            user_id: user.id,
            session_id: claims.session_id,
            role: user.role,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::test_support::{Fixture, fixed_now, user_with_role};
    use crate::ports::security::AccessClaims;

    fn claims() -> AccessClaims {
        AccessClaims {
            user_id: UserId::from_uuid(uuid::Uuid::now_v7()),
            session_id: SessionId::from_uuid(uuid::Uuid::now_v7()),
            role: Role::Admin,
            issued_at: fixed_now(),
            expires_at: fixed_now(),
        }
    }

    fn fixture(revoked: bool, stored: Option<(Role, bool)>) -> Fixture {
        let mut fixture = Fixture::new();
        fixture
            .access_tokens
            .expect_verify()
            .returning(|_, _| Ok(claims()));
        fixture
            .revocations
            .expect_is_revoked()
            .returning(move |_| Ok(revoked));
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
    async fn uses_the_stored_role_not_the_token_role() {
        let principal = fixture(false, Some((Role::Member, true)))
            .accounts()
            .authenticate("t")
            .await;
        assert_eq!(principal.map(|p| p.role), Ok(Role::Member));
    }

    #[tokio::test]
    async fn refuses_revoked_sessions_and_inactive_or_missing_users() {
        for (revoked, stored) in [
            (true, Some((Role::Member, true))),
            (false, Some((Role::Member, false))),
            (false, None),
        ] {
            let result = fixture(revoked, stored).accounts().authenticate("t").await;
            assert_eq!(result, Err(AuthenticationError::Revoked));
        }
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
