//! Refresh: trade a refresh token for a new pair; replaying a used one revokes the whole login,
//! unless it repeats a rotation within the grace window, which answers that rotation's pair.

use super::{Accounts, IssuedTokens};
use crate::ports::accounts::{RefreshRotation, RotationRequest};
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
    /// Rotates `presented` and returns a new access + refresh pair in the same session. Presented
    /// again within the grace window (two tabs refreshing at once), it answers that same pair.
    ///
    /// # Errors
    /// `Invalid`, `Reused` (the session's access tokens are revoked too), or `Dependency`.
    #[tracing::instrument(skip_all)]
    pub async fn refresh(&self, presented: &str) -> Result<IssuedTokens, RefreshError> {
        let now = self.now();
        let next = self.ports.refresh_tokens.successor(presented);
        let request = RotationRequest {
            presented: self.ports.refresh_tokens.hash(presented),
            next: next.hash,
            next_expires_at: self.after(now, self.policy.refresh_token_ttl),
            now,
            grace: self.policy.refresh_grace,
        };
        let rotation = self.ports.sessions.rotate_refresh_token(&request).await?;
        let (user_id, session_id, issued_at) = match rotation {
            RefreshRotation::Rotated {
                user_id,
                session_id,
            } => (user_id, session_id, now),
            RefreshRotation::Repeated {
                user_id,
                session_id,
                rotated_at,
            } => {
                tracing::info!(%session_id, "refresh repeated within the grace window; same pair");
                (user_id, session_id, rotated_at)
            }
            RefreshRotation::ReuseDetected { session_id } => {
                tracing::warn!(%session_id, "refresh token replayed; session revoked");
                self.revoke_access(&[session_id]).await;
                return Err(RefreshError::Reused);
            }
            RefreshRotation::Rejected => return Err(RefreshError::Invalid),
        };
        let user = self.ports.users.find_user(user_id).await?;
        let user = user
            .filter(|user| user.is_active)
            .ok_or(RefreshError::Invalid)?;
        // Signed from the rotation's instant, a repeat's access token is the rotation's own.
        let expires_at = self.after(issued_at, self.policy.access_token_ttl);
        Ok(IssuedTokens {
            access_token: self.access_token_for(&user, session_id, issued_at)?,
            refresh_token: next.plain,
            expires_in: u64::try_from((expires_at - now).num_seconds()).unwrap_or(0),
            user,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::test_support::{Fixture, fixed_now, member};
    use crate::ports::security::{MintedRefreshToken, RefreshTokenHash};
    use chrono::{DateTime, Duration, Utc};
    use reserva_domain::accounts::{SessionId, UserId};

    /// Hashes are `h:<plain>`; the successor of `<plain>` is `next-of-<plain>`.
    fn fixture() -> Fixture {
        let mut fixture = Fixture::new();
        fixture
            .refresh_tokens
            .expect_hash()
            .returning(|plain| RefreshTokenHash::new(format!("h:{plain}")));
        fixture
            .refresh_tokens
            .expect_successor()
            .returning(|plain| {
                let plain = format!("next-of-{plain}");
                let hash = RefreshTokenHash::new(format!("h:{plain}"));
                MintedRefreshToken { plain, hash }
            });
        fixture
    }

    fn fixture_with(rotation: RefreshRotation) -> Fixture {
        let mut fixture = fixture();
        fixture
            .sessions
            .expect_rotate_refresh_token()
            .return_once(move |_| Ok(rotation));
        fixture
    }

    /// Expects the user to be read and one access token signed for them in `session_id`, issued
    /// at `issued_at`: "jwt".
    fn expect_token(
        fixture: &mut Fixture,
        (user_id, session_id): (UserId, SessionId),
        issued_at: DateTime<Utc>,
    ) {
        fixture
            .users
            .expect_find_user()
            .returning(|id| Ok(Some(member(id, "a@b.co"))));
        fixture
            .access_tokens
            .expect_issue()
            .withf(move |claims| {
                claims.user_id == user_id
                    && claims.session_id == session_id
                    && claims.issued_at == issued_at
                    && claims.expires_at == issued_at + Duration::minutes(15)
            })
            .times(1)
            .returning(|_| Ok("jwt".into()));
    }

    fn ids() -> (UserId, SessionId) {
        let user_id = UserId::from_uuid(uuid::Uuid::now_v7());
        (user_id, SessionId::from_uuid(uuid::Uuid::now_v7()))
    }

    #[tokio::test]
    async fn rotation_issues_a_new_pair_in_the_same_session() {
        let (user_id, session_id) = ids();
        let mut fixture = fixture();
        fixture
            .sessions
            .expect_rotate_refresh_token()
            .withf(|request| {
                request.presented.as_str() == "h:old"
                    && request.next.as_str() == "h:next-of-old"
                    && request.now == fixed_now()
                    && request.grace == std::time::Duration::from_secs(10)
            })
            .return_once(move |_| {
                Ok(RefreshRotation::Rotated {
                    user_id,
                    session_id,
                })
            });
        expect_token(&mut fixture, (user_id, session_id), fixed_now());
        let tokens = fixture.accounts().refresh("old").await;
        let tokens = tokens.map(|t| (t.access_token, t.refresh_token, t.expires_in));
        assert_eq!(tokens, Ok(("jwt".into(), "next-of-old".into(), 900)));
    }

    #[tokio::test]
    async fn a_repeat_answers_the_pair_of_the_rotation_it_repeats_and_revokes_nothing() {
        let (user_id, session_id) = ids();
        let rotated_at = fixed_now() - Duration::seconds(3);
        // No expectation on the revocations mock: revoking anything fails the test.
        let mut fixture = fixture_with(RefreshRotation::Repeated {
            user_id,
            session_id,
            rotated_at,
        });
        expect_token(&mut fixture, (user_id, session_id), rotated_at);
        let tokens = fixture.accounts().refresh("old").await;
        let tokens = tokens.map(|t| (t.access_token, t.refresh_token, t.expires_in));
        assert_eq!(tokens, Ok(("jwt".into(), "next-of-old".into(), 897)));
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

        let (user_id, session_id) = ids();
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

    #[test]
    fn the_grace_window_ends_and_zero_disables_it() {
        let now = fixed_now();
        let request = |grace_secs| RotationRequest {
            presented: RefreshTokenHash::new("p".into()),
            next: RefreshTokenHash::new("n".into()),
            next_expires_at: now,
            now,
            grace: std::time::Duration::from_secs(grace_secs),
        };
        let ago = |millis| now - Duration::milliseconds(millis);
        assert!(request(10).within_grace(ago(9_999)));
        assert!(!request(10).within_grace(ago(10_000)));
        assert!(request(10).within_grace(ago(-500)), "a clock running ahead");
        assert!(!request(0).within_grace(now));
        assert!(
            !request(u64::MAX).within_grace(ago(1)),
            "unrepresentable: none, no panic"
        );
    }
}
