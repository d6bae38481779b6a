//! Login: e-mail and password in, a token pair out; throttled per account.

use super::{Accounts, IssuedTokens};
use crate::{DependencyError, ErrorClass, UseCaseError};
use reserva_domain::accounts::{Email, PlainPassword};
use thiserror::Error;

/// The login form as typed.
#[derive(Debug, Clone)]
pub struct LoginCommand {
    /// E-mail.
    pub email: String,
    /// Password.
    pub password: String,
}

/// Why login failed. One generic variant for every credential problem, so the answer never
/// reveals whether an e-mail is registered or an account deactivated.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LoginError {
    /// Wrong e-mail or password (or a deactivated account).
    #[error("invalid e-mail or password")]
    InvalidCredentials,
    /// Too many failures for this account recently.
    #[error("too many failed logins; try again later")]
    TooManyAttempts {
        /// Seconds until logins are accepted again.
        retry_after_seconds: u64,
    },
    /// A dependency failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

impl UseCaseError for LoginError {
    fn class(&self) -> ErrorClass {
        match self {
            Self::InvalidCredentials => ErrorClass::Unauthenticated,
            Self::TooManyAttempts {
                retry_after_seconds,
            } => ErrorClass::RateLimited {
                retry_after_seconds: *retry_after_seconds,
            },
            Self::Dependency(error) => error.class(),
        }
    }
    fn code(&self) -> &'static str {
        match self {
            Self::InvalidCredentials => "invalid_credentials",
            Self::TooManyAttempts { .. } => "too_many_login_attempts",
            Self::Dependency(error) => error.code(),
        }
    }
}

impl Accounts {
    /// Checks credentials and starts a session.
    ///
    /// Once an account has had `login_failure_limit` failures within the window, every attempt
    /// (even with the right password) answers `TooManyAttempts` until the window ends: that is
    /// what stops online guessing. A success clears the count.
    ///
    /// # Errors
    /// `InvalidCredentials`, `TooManyAttempts`, or `Dependency`.
    #[tracing::instrument(skip_all)]
    pub async fn login(&self, command: LoginCommand) -> Result<IssuedTokens, LoginError> {
        let password = PlainPassword::for_login(&command.password);
        let Ok(email) = Email::parse(&command.email) else {
            self.ports.passwords.verify_nothing(&password).await?;
            return Err(LoginError::InvalidCredentials);
        };
        let throttle_key = format!("login-failures:{email}");
        let count = self.ports.rate_limiter.peek(&throttle_key).await?;
        if count.hits >= self.policy.login_failure_limit {
            return Err(LoginError::TooManyAttempts {
                retry_after_seconds: count.resets_in.as_secs().max(1),
            });
        }
        let credentials = self.ports.users.find_credentials_by_email(&email).await?;
        let matches = match &credentials {
            Some(found) => {
                self.ports
                    .passwords
                    .verify(&password, &found.password_hash)
                    .await?
            }
            None => {
                self.ports.passwords.verify_nothing(&password).await?;
                false
            }
        };
        match credentials {
            Some(found) if matches && found.user.is_active => {
                self.ports.rate_limiter.reset(&throttle_key).await?;
                Ok(self.start_session(found.user).await?)
            }
            _ => {
                self.ports
                    .rate_limiter
                    .hit(&throttle_key, self.policy.login_failure_window)
                    .await?;
                Err(LoginError::InvalidCredentials)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::test_support::{Fixture, member};
    use crate::ports::accounts::UserCredentials;
    use crate::ports::security::{MintedRefreshToken, RefreshTokenHash};
    use crate::ports::shared_state::WindowCount;
    use reserva_domain::accounts::{PasswordHash, UserId};
    use std::time::Duration;

    fn command(email: &str) -> LoginCommand {
        LoginCommand {
            email: email.into(),
            password: "secret123".into(),
        }
    }

    fn credentials(active: bool) -> UserCredentials {
        let mut user = member(UserId::from_uuid(uuid::Uuid::now_v7()), "ann@example.com");
        user.is_active = active;
        UserCredentials {
            user,
            password_hash: PasswordHash::from_phc("$h".into()),
        }
    }

    fn no_failures(fixture: &mut Fixture) {
        fixture.rate_limiter.expect_peek().returning(|_| {
            Ok(WindowCount {
                hits: 0,
                resets_in: Duration::ZERO,
            })
        });
    }

    #[tokio::test]
    async fn right_password_starts_a_session_and_clears_failures() {
        let mut fixture = Fixture::new();
        no_failures(&mut fixture);
        fixture
            .users
            .expect_find_credentials_by_email()
            .returning(|_| Ok(Some(credentials(true))));
        fixture.passwords.expect_verify().returning(|_, _| Ok(true));
        fixture
            .rate_limiter
            .expect_reset()
            .times(1)
            .returning(|_| Ok(()));
        fixture.refresh_tokens.expect_mint().returning(|| {
            Ok(MintedRefreshToken {
                plain: "refresh".into(),
                hash: RefreshTokenHash::new("h".into()),
            })
        });
        fixture
            .sessions
            .expect_start_session()
            .times(1)
            .returning(|_| Ok(()));
        fixture
            .access_tokens
            .expect_issue()
            .returning(|_| Ok("jwt".into()));
        let tokens = fixture.accounts().login(command("ann@example.com")).await;
        let tokens = tokens.map(|t| (t.access_token, t.refresh_token, t.expires_in));
        assert_eq!(tokens, Ok(("jwt".into(), "refresh".into(), 900)));
    }

    #[tokio::test]
    async fn wrong_password_unknown_email_and_inactive_user_look_the_same() {
        for (found, password_ok) in [(Some(true), false), (None, false), (Some(false), true)] {
            let mut fixture = Fixture::new();
            no_failures(&mut fixture);
            fixture
                .users
                .expect_find_credentials_by_email()
                .returning(move |_| Ok(found.map(credentials)));
            let calls = usize::from(found.is_some());
            fixture
                .passwords
                .expect_verify()
                .times(calls)
                .returning(move |_, _| Ok(password_ok));
            fixture
                .passwords
                .expect_verify_nothing()
                .times(1 - calls)
                .returning(|_| Ok(()));
            fixture
                .rate_limiter
                .expect_hit()
                .times(1)
                .returning(|_, _| {
                    Ok(WindowCount {
                        hits: 1,
                        resets_in: Duration::from_secs(900),
                    })
                });
            let result = fixture.accounts().login(command("ann@example.com")).await;
            assert_eq!(result.err(), Some(LoginError::InvalidCredentials));
        }
    }

    #[tokio::test]
    async fn malformed_email_still_spends_hashing_time() {
        let mut fixture = Fixture::new();
        fixture
            .passwords
            .expect_verify_nothing()
            .times(1)
            .returning(|_| Ok(()));
        let result = fixture.accounts().login(command("not-an-email")).await;
        assert_eq!(result.err(), Some(LoginError::InvalidCredentials));
    }

    #[tokio::test]
    async fn throttles_after_the_limit_even_with_the_right_password() {
        let mut fixture = Fixture::new();
        fixture.rate_limiter.expect_peek().returning(|_| {
            Ok(WindowCount {
                hits: 5,
                resets_in: Duration::from_secs(42),
            })
        });
        let result = fixture.accounts().login(command("ann@example.com")).await;
        let error = result.err();
        assert_eq!(
            error,
            Some(LoginError::TooManyAttempts {
                retry_after_seconds: 42
            })
        );
        assert_eq!(
            error.map(|e| e.class()),
            Some(ErrorClass::RateLimited {
                retry_after_seconds: 42
            })
        );
    }

    #[tokio::test]
    async fn shared_state_outage_is_unavailable_not_a_bypass() {
        let mut fixture = Fixture::new();
        fixture
            .rate_limiter
            .expect_peek()
            .returning(|_| Err(DependencyError::Unavailable("redis down".into())));
        let result = fixture.accounts().login(command("ann@example.com")).await;
        assert_eq!(
            result.map_err(|e| e.class()).err(),
            Some(ErrorClass::Unavailable)
        );
    }
}
