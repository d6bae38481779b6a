//! Refresh: trade a refresh token for a new pair; replaying a used one revokes the whole login.

use super::{Accounts, IssuedTokens};
use crate::ports::accounts::RefreshRotation;
use crate::{DependencyError, ErrorClass, UseCaseError};
use thiserror::Error;

/// Why a refresh was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RefreshError {
    /// Unknown, expired or revoked.
    #[error("refresh token is invalid or expired")]
    Invalid,
    /// Already used: treated as stolen, and its session is now revoked.
    #[error("refresh token was already used; the session has been revoked")]
    Reused,
    /// A dependency failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

impl UseCaseError for RefreshError {
    fn class(&self) -> ErrorClass {
        match self {
            Self::Invalid | Self::Reused => ErrorClass::Unauthenticated,
            Self::Dependency(error) => error.class(),
        }
    }
    fn code(&self) -> &'static str {
        match self {
            Self::Invalid => "invalid_refresh_token",
            Self::Reused => "refresh_token_reused",
            Self::Dependency(error) => error.code(),
        }
    }
}

impl Accounts {
    /// Rotates `presented` and returns a new access + refresh pair in the same session.
    ///
    /// # Errors
    /// `Invalid`, `Reused` (the session's access tokens are revoked too), or `Dependency`.
    #[tracing::instrument(skip_all)]
    pub async fn refresh(&self, presented: &str) -> Result<IssuedTokens, RefreshError> {
        let now = self.now();
        let presented = self.ports.refresh_tokens.hash(presented);
        let next = self.ports.refresh_tokens.mint()?;
        let next_expires_at = self.after(now, self.policy.refresh_token_ttl);
        let rotation = self
            .ports
            .sessions
            .rotate_refresh_token(&presented, &next.hash, next_expires_at, now)
            .await?;
        let (user_id, session_id) = match rotation {
            RefreshRotation::Rotated {
                user_id,
                session_id,
            } => (user_id, session_id),
            RefreshRotation::ReuseDetected { session_id } => {
                tracing::warn!(%session_id, "refresh token replayed; session revoked");
                self.revoke_access(&[session_id]).await?;
                return Err(RefreshError::Reused);
            }
            RefreshRotation::Rejected => return Err(RefreshError::Invalid),
        };
        let user = self.ports.users.find_user(user_id).await?;
        let user = user
            .filter(|user| user.is_active)
            .ok_or(RefreshError::Invalid)?;
        Ok(IssuedTokens {
            access_token: self.access_token_for(&user, session_id, now)?,
            refresh_token: next.plain,
            expires_in: self.policy.access_token_ttl.as_secs(),
            user,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::test_support::{Fixture, member};
    use crate::ports::security::{MintedRefreshToken, RefreshTokenHash};
    use reserva_domain::accounts::{SessionId, UserId};

    fn fixture_with(rotation: RefreshRotation) -> Fixture {
        let mut fixture = Fixture::new();
        fixture
            .refresh_tokens
            .expect_hash()
            .returning(|plain| RefreshTokenHash::new(plain.into()));
        fixture.refresh_tokens.expect_mint().returning(|| {
            Ok(MintedRefreshToken {
                plain: "next".into(),
                hash: RefreshTokenHash::new("n".into()),
            })
        });
        fixture
            .sessions
            .expect_rotate_refresh_token()
            .return_once(move |_, _, _, _| Ok(rotation));
        fixture
    }

    #[tokio::test]
    async fn rotation_issues_a_new_pair_in_the_same_session() {
        let user_id = UserId::from_uuid(uuid::Uuid::now_v7());
        let session_id = SessionId::from_uuid(uuid::Uuid::now_v7());
        let mut fixture = fixture_with(RefreshRotation::Rotated {
            user_id,
            session_id,
        });
        fixture
            .users
            .expect_find_user()
            .returning(|id| Ok(Some(member(id, "a@b.co"))));
        fixture
            .access_tokens
            .expect_issue()
            .withf(move |claims| claims.session_id == session_id && claims.user_id == user_id)
            .returning(|_| Ok("jwt".into()));
        let tokens = fixture.accounts().refresh("old").await;
        assert_eq!(tokens.map(|t| t.refresh_token), Ok("next".into()));
    }

    #[tokio::test]
    async fn reuse_revokes_the_session_access_tokens() {
        let session_id = SessionId::from_uuid(uuid::Uuid::now_v7());
        let mut fixture = fixture_with(RefreshRotation::ReuseDetected { session_id });
        fixture
            .revocations
            .expect_revoke()
            .withf(move |session, _| *session == session_id)
            .times(1)
            .returning(|_, _| Ok(()));
        let result = fixture.accounts().refresh("old").await;
        assert_eq!(result.err(), Some(RefreshError::Reused));
    }

    #[tokio::test]
    async fn rejected_or_deactivated_is_invalid() {
        let fixture = fixture_with(RefreshRotation::Rejected);
        assert_eq!(
            fixture.accounts().refresh("x").await.err(),
            Some(RefreshError::Invalid)
        );

        let user_id = UserId::from_uuid(uuid::Uuid::now_v7());
        let session_id = SessionId::from_uuid(uuid::Uuid::now_v7());
        let mut fixture = fixture_with(RefreshRotation::Rotated {
            user_id,
            session_id,
        });
        fixture.users.expect_find_user().returning(|id| {
            let mut user = member(id, "a@b.co");
            user.is_active = false;
            Ok(Some(user))
        });
        assert_eq!(
            fixture.accounts().refresh("x").await.err(),
            Some(RefreshError::Invalid)
        );
    }
}
