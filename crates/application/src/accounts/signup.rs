//! Signup: anyone may create a member account.

use super::{Accounts, new_user_id};
use crate::ports::accounts::{NewUser, UserWriteError};
use crate::{DependencyError, ErrorClass, FieldViolation, UseCaseError};
use reserva_domain::accounts::{Email, PlainPassword, Role, User, Username};
use thiserror::Error;

/// The signup form as typed.
#[derive(Debug, Clone)]
pub struct SignupCommand {
    /// E-mail (login name).
    pub email: String,
    /// Public name.
    pub username: String,
    /// New password.
    pub password: String,
    /// The same password again.
    pub password_confirm: String,
}

/// Why signup failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SignupError {
    /// One or more fields break a rule.
    #[error("invalid signup form")]
    Invalid(Vec<FieldViolation>),
    /// The e-mail is registered already.
    #[error("e-mail already registered")]
    EmailTaken,
    /// The username is taken.
    #[error("username already taken")]
    UsernameTaken,
    /// A dependency failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

impl UseCaseError for SignupError {
    fn class(&self) -> ErrorClass {
        match self {
            Self::Invalid(_) => ErrorClass::InvalidInput,
            Self::EmailTaken | Self::UsernameTaken => ErrorClass::Conflict,
            Self::Dependency(error) => error.class(),
        }
    }
    fn code(&self) -> &'static str {
        match self {
            Self::Invalid(_) => "validation_failed",
            Self::EmailTaken => "email_taken",
            Self::UsernameTaken => "username_taken",
            Self::Dependency(error) => error.code(),
        }
    }
    fn violations(&self) -> &[FieldViolation] {
        match self {
            Self::Invalid(violations) => violations,
            _ => &[],
        }
    }
}

impl Accounts {
    /// Registers a new member.
    ///
    /// # Errors
    /// [`SignupError::Invalid`] listing every broken field rule; `EmailTaken` / `UsernameTaken`
    /// for duplicates (also under concurrent signups); `Dependency` when storage fails.
    #[tracing::instrument(skip_all)]
    pub async fn signup(&self, command: SignupCommand) -> Result<User, SignupError> {
        self.register(command, Role::Member).await
    }

    /// Registers an administrator, with the same rules as signup. Only operators reach this
    /// (through the `reserva admin create` command), never the HTTP API.
    ///
    /// # Errors
    /// As [`Accounts::signup`].
    #[tracing::instrument(skip_all)]
    pub async fn create_administrator(&self, command: SignupCommand) -> Result<User, SignupError> {
        self.register(command, Role::Admin).await
    }

    async fn register(&self, command: SignupCommand, role: Role) -> Result<User, SignupError> {
        let mut violations = Vec::new();
        let email = Email::parse(&command.email)
            .map_err(|rule| violations.push(FieldViolation::new("email", "invalid_email", rule)))
            .ok();
        let username = Username::parse(&command.username)
            .map_err(|rule| {
                violations.push(FieldViolation::new("username", "invalid_username", rule));
            })
            .ok();
        let password = PlainPassword::new(&command.password)
            .map_err(|rule| violations.push(FieldViolation::new("password", rule.code(), rule)))
            .ok();
        if command.password != command.password_confirm {
            violations.push(FieldViolation::new(
                "password_confirm",
                "password_mismatch",
                "must equal password",
            ));
        }
        let (Some(email), Some(username), Some(password), true) =
            (email, username, password, violations.is_empty())
        else {
            return Err(SignupError::Invalid(violations));
        };
        let password_hash = self.ports.passwords.hash(&password).await?;
        let new_user = NewUser {
            id: new_user_id(),
            email,
            username,
            password_hash,
            role,
            now: self.now(),
        };
        self.ports
            .users
            .insert_user(new_user)
            .await
            .map_err(|error| match error {
                UserWriteError::EmailTaken => SignupError::EmailTaken,
                UserWriteError::UsernameTaken => SignupError::UsernameTaken,
                UserWriteError::NotFound | UserWriteError::LastAdmin => SignupError::Dependency(
                    DependencyError::Failed(format!("insert reported {error}")),
                ),
                UserWriteError::Dependency(error) => SignupError::Dependency(error),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::test_support::{Fixture, member};
    use reserva_domain::accounts::PasswordHash;

    fn form(email: &str, username: &str, password: &str, confirm: &str) -> SignupCommand {
        SignupCommand {
            email: email.into(),
            username: username.into(),
            password: password.into(),
            password_confirm: confirm.into(),
        }
    }

    #[tokio::test]
    async fn creates_a_member_with_a_hashed_password() {
        let mut fixture = Fixture::new();
        fixture
            .passwords
            .expect_hash()
            .returning(|_| Ok(PasswordHash::from_phc("$hash".into())));
        fixture
            .users
            .expect_insert_user()
            .withf(|new| {
                new.role == Role::Member
                    && new.email.as_str() == "ann@example.com"
                    && new.password_hash.as_phc() == "$hash"
            })
            .returning(|new| Ok(member(new.id, new.email.as_str())));
        let user = fixture
            .accounts()
            .signup(form("Ann@Example.com", "ann", "secret123", "secret123"))
            .await;
        assert_eq!(user.map(|u| u.role), Ok(Role::Member));
    }

    #[tokio::test]
    async fn administrators_are_created_with_the_admin_role() {
        let mut fixture = Fixture::new();
        fixture
            .passwords
            .expect_hash()
            .returning(|_| Ok(PasswordHash::from_phc("$hash".into())));
        fixture
            .users
            .expect_insert_user()
            .withf(|new| new.role == Role::Admin)
            .returning(|new| Ok(member(new.id, new.email.as_str())));
        let result = fixture
            .accounts()
            .create_administrator(form("root@example.com", "root", "secret123", "secret123"))
            .await;
        assert!(result.is_ok());
    }

    #[tokio::test]
    async fn reports_every_broken_field_and_stores_nothing() {
        let fixture = Fixture::new();
        let error = fixture
            .accounts()
            .signup(form("nope", "a", "short", "other"))
            .await;
        let Err(SignupError::Invalid(violations)) = error else {
            panic!("expected Invalid, got {error:?}");
        };
        let fields: Vec<_> = violations.iter().map(|v| (v.field, v.code)).collect();
        assert_eq!(
            fields,
            [
                ("email", "invalid_email"),
                ("username", "invalid_username"),
                ("password", "password_too_short"),
                ("password_confirm", "password_mismatch"),
            ]
        );
    }

    #[tokio::test]
    async fn maps_duplicates_to_conflicts() {
        for (store_error, expected) in [
            (UserWriteError::EmailTaken, SignupError::EmailTaken),
            (UserWriteError::UsernameTaken, SignupError::UsernameTaken),
            (
                UserWriteError::Dependency(DependencyError::Unavailable("down".into())),
                SignupError::Dependency(DependencyError::Unavailable("down".into())),
            ),
        ] {
            let mut fixture = Fixture::new();
            fixture
                .passwords
                .expect_hash()
                .returning(|_| Ok(PasswordHash::from_phc("$h".into())));
            fixture
                .users
                .expect_insert_user()
                .return_once(move |_| Err(store_error));
            let result = fixture
                .accounts()
                .signup(form("a@b.co", "ann", "secret123", "secret123"))
                .await;
            assert_eq!(result, Err(expected.clone()));
            let class = expected.class();
            assert!(matches!(
                class,
                ErrorClass::Conflict | ErrorClass::Unavailable
            ));
        }
    }
}
