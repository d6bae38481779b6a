//! Login: e-mail and password in, a token pair out; limited per account and client address
//! (`login_limits.rs`).

use super::login_limits::Refused;
use super::{Accounts, IssuedTokens};
use crate::{DependencyError, ErrorClass, UseCaseError};
use reserva_domain::accounts::{Email, PlainPassword};
use std::net::IpAddr;
use thiserror::Error;

/// The login form as typed, and who sent it.
#[derive(Debug, Clone)]
pub struct LoginCommand {
    /// E-mail.
    pub email: String,
    /// Password.
    pub password: String,
    /// The client's address, as the HTTP adapter determined it (the peer, or the client a
    /// trusted proxy names).
    pub client: IpAddr,
}

/// Why login failed. One generic variant for every credential problem, so the answer never
/// reveals whether an e-mail is registered or an account deactivated.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LoginError {
    /// Wrong e-mail or password (or a deactivated account).
    #[error("invalid e-mail or password")]
    InvalidCredentials,
    /// Too many attempts for this account or from this address recently.
    #[error("too many failed logins; try again later")]
    TooManyAttempts {
        /// Seconds until logins are accepted again.
        retry_after_seconds: u64,
    },
    /// A dependency failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

impl From<Refused> for LoginError {
    fn from(refused: Refused) -> Self {
        Self::TooManyAttempts {
            retry_after_seconds: refused.retry_after_seconds,
        }
    }
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
    /// The attempt is counted against the login limits *before* the password is checked, so
    /// parallel guesses get no more verdicts than sequential ones; over a limit, every attempt
    /// (even with the right password) answers `TooManyAttempts` until its window ends. A right
    /// password withdraws its attempt. Every path that checks a password costs one hash, so the
    /// answer's timing does not tell whether the e-mail is registered.
    ///
    /// # Errors
    /// `InvalidCredentials`, `TooManyAttempts`, or `Dependency`.
    #[tracing::instrument(skip_all)]
    pub async fn login(&self, command: LoginCommand) -> Result<IssuedTokens, LoginError> {
        let password = PlainPassword::for_login(&command.password);
        let email = Email::parse(&command.email).ok();
        let counted = self
            .admit_login_attempt(email.as_ref(), command.client)
            .await??;
        let Some(email) = email else {
            self.ports.passwords.verify_nothing(&password).await?;
            return Err(LoginError::InvalidCredentials);
        };
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
                self.withdraw_login_attempt(&counted).await?;
                Ok(self.start_session(found.user).await?)
            }
            _ => Err(LoginError::InvalidCredentials),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::test_support::{CLIENT, Fixture, member};
    use crate::ports::accounts::UserCredentials;
    use crate::ports::security::{MintedRefreshToken, RefreshTokenHash};
    use reserva_domain::accounts::{PasswordHash, UserId};
    use std::sync::atomic::Ordering;

    fn command(email: &str) -> LoginCommand {
        LoginCommand {
            email: email.into(),
            password: "secret123".into(),
            client: CLIENT,
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

    fn session_starts(fixture: &mut Fixture) {
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
    }

    #[tokio::test]
    async fn right_password_starts_a_session_and_does_not_count() {
        let mut fixture = Fixture::new();
        fixture
            .users
            .expect_find_credentials_by_email()
            .returning(|_| Ok(Some(credentials(true))));
        fixture.passwords.expect_verify().returning(|_, _| Ok(true));
        session_starts(&mut fixture);
        let limiter = fixture.rate_limiter.clone();
        let tokens = fixture.accounts().login(command("ann@example.com")).await;
        let tokens = tokens.map(|t| (t.access_token, t.refresh_token, t.expires_in));
        assert_eq!(tokens, Ok(("jwt".into(), "refresh".into(), 900)));
        assert_eq!(limiter.total(), 0, "the attempt was withdrawn");
    }

    #[tokio::test]
    async fn wrong_password_unknown_email_and_inactive_user_look_the_same() {
        for (found, password_ok) in [(Some(true), false), (None, false), (Some(false), true)] {
            let mut fixture = Fixture::new();
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
            let limiter = fixture.rate_limiter.clone();
            let result = fixture.accounts().login(command("ann@example.com")).await;
            assert_eq!(result.err(), Some(LoginError::InvalidCredentials));
            assert_eq!(limiter.total(), 3, "counted on all three limits");
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
    async fn over_the_limit_even_the_right_password_is_refused_unchecked() {
        let mut fixture = Fixture::new();
        fixture
            .users
            .expect_find_credentials_by_email()
            .times(5)
            .returning(|_| Ok(Some(credentials(true))));
        fixture
            .passwords
            .expect_verify()
            .times(5)
            .returning(|_, _| Ok(false));
        let accounts = fixture.accounts();
        for _ in 0..5 {
            let result = accounts.login(command("ann@example.com")).await;
            assert_eq!(result.err(), Some(LoginError::InvalidCredentials));
        }
        let error = accounts.login(command("Ann@Example.com")).await.err();
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
        let fixture = Fixture::new();
        fixture.rate_limiter.down.store(true, Ordering::SeqCst);
        let result = fixture.accounts().login(command("ann@example.com")).await;
        assert_eq!(
            result.map_err(|e| e.class()).err(),
            Some(ErrorClass::Unavailable)
        );
    }
}
