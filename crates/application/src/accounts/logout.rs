//! Logout: ends the caller's session and the one the refresh token belongs to.

use super::{Accounts, Principal};
use crate::ports::accounts::SessionSelector;
use crate::{DependencyError, ErrorClass, UseCaseError};
use thiserror::Error;

/// Why logout failed (only dependencies can make it fail: logging out twice is fine).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LogoutError {
    /// A dependency failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

impl UseCaseError for LogoutError {
    fn class(&self) -> ErrorClass {
        match self {
            Self::Dependency(error) => error.class(),
        }
    }
    fn code(&self) -> &'static str {
        match self {
            Self::Dependency(error) => error.code(),
        }
    }
}

impl Accounts {
    /// Revokes the session of the caller's access token, and the session of `refresh_token` if it
    /// is the caller's. Their refresh tokens stop working and their access tokens are refused
    /// from now on. A refresh token of another user is ignored, never revoked.
    ///
    /// # Errors
    /// `Dependency` when storage or shared state fails.
    #[tracing::instrument(skip_all, fields(user_id = %principal.user_id))]
    pub async fn logout(
        &self,
        principal: &Principal,
        refresh_token: &str,
    ) -> Result<(), LogoutError> {
        let now = self.now();
        let selectors = [
            SessionSelector::Id(principal.session_id),
            SessionSelector::RefreshToken(self.ports.refresh_tokens.hash(refresh_token)),
        ];
        let mut revoked = Vec::with_capacity(2);
        for selector in &selectors {
            let session = self
                .ports
                .sessions
                .revoke_session(principal.user_id, selector, now)
                .await?;
            revoked.extend(session.filter(|session| !revoked.contains(session)));
        }
        self.revoke_access(&revoked).await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::test_support::Fixture;
    use crate::ports::security::RefreshTokenHash;
    use reserva_domain::accounts::{Role, SessionId, UserId};

    #[tokio::test]
    async fn revokes_both_sessions_once_each() {
        let principal = Principal {
            user_id: UserId::from_uuid(uuid::Uuid::now_v7()),
            session_id: SessionId::from_uuid(uuid::Uuid::now_v7()),
            role: Role::Member,
        };
        let other_session = SessionId::from_uuid(uuid::Uuid::now_v7());
        let current = principal.session_id;
        let mut fixture = Fixture::new();
        fixture
            .refresh_tokens
            .expect_hash()
            .returning(|plain| RefreshTokenHash::new(plain.into()));
        fixture
            .sessions
            .expect_revoke_session()
            .times(2)
            .returning(move |_, selector, _| {
                Ok(Some(match selector {
                    SessionSelector::Id(id) => *id,
                    SessionSelector::RefreshToken(_) => other_session,
                }))
            });
        fixture
            .revocations
            .expect_revoke()
            .withf(move |session, _| *session == current || *session == other_session)
            .times(2)
            .returning(|_, _| Ok(()));
        assert_eq!(
            fixture.accounts().logout(&principal, "refresh").await,
            Ok(())
        );
    }

    #[tokio::test]
    async fn outage_is_reported() {
        let principal = Principal {
            user_id: UserId::from_uuid(uuid::Uuid::now_v7()),
            session_id: SessionId::from_uuid(uuid::Uuid::now_v7()),
            role: Role::Member,
        };
        let mut fixture = Fixture::new();
        fixture
            .refresh_tokens
            .expect_hash()
            .returning(|plain| RefreshTokenHash::new(plain.into()));
        fixture
            .sessions
            .expect_revoke_session()
            .returning(|_, _, _| Err(DependencyError::Unavailable("db".into())));
        let result = fixture.accounts().logout(&principal, "refresh").await;
        assert_eq!(result.map_err(|e| e.class()), Err(ErrorClass::Unavailable));
    }
}
