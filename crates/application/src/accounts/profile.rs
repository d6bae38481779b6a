//! The caller's own account: read, change username or password, deactivate.

use super::login_limits::Refused;
use super::{Accounts, Principal, removes_own_admin_access};
use crate::ports::accounts::{RevokeSessions, UserChanges, UserWriteError};
use crate::{DependencyError, ErrorClass, FieldViolation, UseCaseError};
use reserva_domain::accounts::{PlainPassword, User, Username};
use std::net::IpAddr;
use thiserror::Error;

/// Requested changes to one's own account; `None` keeps a field.
#[derive(Debug, Clone, Default)]
pub struct ProfileChanges {
    /// New username.
    pub username: Option<String>,
    /// New password.
    pub password: Option<String>,
    /// Required with `password`: the password in use now.
    pub current_password: Option<String>,
}

/// Why a profile operation failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ProfileError {
    /// A field breaks a rule (including a wrong or missing current password).
    #[error("invalid profile change")]
    Invalid(Vec<FieldViolation>),
    /// The username is taken.
    #[error("username already taken")]
    UsernameTaken,
    /// The account no longer exists.
    #[error("account not found")]
    NotFound,
    /// Too many password attempts for this account or from this address recently (the login
    /// limits guard `current_password` too).
    #[error("too many password attempts; try again later")]
    TooManyAttempts {
        /// Seconds until attempts are accepted again.
        retry_after_seconds: u64,
    },
    /// An administrator tried to deactivate their own account.
    #[error("administrators cannot remove their own administrator access")]
    OwnAdminAccess,
    /// A dependency failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

impl UseCaseError for ProfileError {
    fn class(&self) -> ErrorClass {
        match self {
            Self::Invalid(_) => ErrorClass::InvalidInput,
            Self::UsernameTaken => ErrorClass::Conflict,
            Self::NotFound => ErrorClass::NotFound,
            Self::TooManyAttempts {
                retry_after_seconds,
            } => ErrorClass::RateLimited {
                retry_after_seconds: *retry_after_seconds,
            },
            Self::OwnAdminAccess => ErrorClass::Conflict,
            Self::Dependency(error) => error.class(),
        }
    }
    fn code(&self) -> &'static str {
        match self {
            Self::Invalid(_) => "validation_failed",
            Self::UsernameTaken => "username_taken",
            Self::NotFound => "not_found",
            Self::TooManyAttempts { .. } => "too_many_login_attempts",
            Self::OwnAdminAccess => "own_admin_access",
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

impl From<Refused> for ProfileError {
    fn from(refused: Refused) -> Self {
        Self::TooManyAttempts {
            retry_after_seconds: refused.retry_after_seconds,
        }
    }
}

impl From<UserWriteError> for ProfileError {
    fn from(error: UserWriteError) -> Self {
        match error {
            UserWriteError::UsernameTaken => Self::UsernameTaken,
            UserWriteError::NotFound => Self::NotFound,
            // Only an administrator's own deactivation can hit the guard (the caller's token
            // said member while storage already said admin).
            UserWriteError::LastAdmin => Self::OwnAdminAccess,
            UserWriteError::EmailTaken => Self::Dependency(DependencyError::Failed(
                "e-mail changed unexpectedly".into(),
            )),
            UserWriteError::Dependency(error) => Self::Dependency(error),
        }
    }
}

impl Accounts {
    /// The caller's account.
    ///
    /// # Errors
    /// `NotFound` if it vanished, `Dependency` on failure.
    pub async fn profile(&self, principal: &Principal) -> Result<User, ProfileError> {
        self.ports
            .users
            .find_user(principal.user_id)
            .await?
            .ok_or(ProfileError::NotFound)
    }

    /// Changes the caller's username and/or password. A password change needs the current
    /// password, checked under the login limits (a stolen access token must not become a way to
    /// guess the password), and ends every other session of the user (this one stays logged in).
    ///
    /// # Errors
    /// `Invalid` (rules, wrong current password, nothing to change), `TooManyAttempts`,
    /// `UsernameTaken`, `NotFound`, `Dependency`.
    #[tracing::instrument(skip_all, fields(user_id = %principal.user_id))]
    pub async fn update_profile(
        &self,
        principal: &Principal,
        changes: ProfileChanges,
        client: IpAddr,
    ) -> Result<User, ProfileError> {
        let mut violations = Vec::new();
        let username = changes.username.as_deref().and_then(|raw| {
            Username::parse(raw)
                .map_err(|rule| {
                    violations.push(FieldViolation::new("username", "invalid_username", rule));
                })
                .ok()
        });
        let password = changes.password.as_deref().and_then(|raw| {
            PlainPassword::new(raw)
                .map_err(|rule| violations.push(FieldViolation::new("password", rule.code(), rule)))
                .ok()
        });
        if changes.username.is_none() && changes.password.is_none() {
            violations.push(FieldViolation::new(
                "username",
                "nothing_to_change",
                "give username or password",
            ));
        }
        if !violations.is_empty() {
            return Err(ProfileError::Invalid(violations));
        }
        let mut update = UserChanges {
            username,
            ..UserChanges::default()
        };
        let mut revoke = RevokeSessions::None;
        if let Some(password) = password {
            self.check_current_password(principal, changes.current_password.as_deref(), client)
                .await?;
            update.password_hash = Some(self.ports.passwords.hash(&password).await?);
            revoke = RevokeSessions::AllExcept(principal.session_id);
        }
        let updated = self
            .ports
            .users
            .update_user(principal.user_id, &update, revoke, self.now())
            .await?;
        self.revoke_access(&updated.revoked_sessions).await;
        Ok(updated.user)
    }

    /// Checks `current` as a login would: counted on the account's login limits before the
    /// hash is compared, withdrawn when right.
    async fn check_current_password(
        &self,
        principal: &Principal,
        current: Option<&str>,
        client: IpAddr,
    ) -> Result<(), ProfileError> {
        let wrong = || {
            ProfileError::Invalid(vec![FieldViolation::new(
                "current_password",
                "current_password_incorrect",
                "must be the password in use now",
            )])
        };
        let current = current.ok_or_else(wrong)?;
        let credentials = self.ports.users.find_credentials(principal.user_id).await?;
        let credentials = credentials.ok_or(ProfileError::NotFound)?;
        let email = &credentials.user.email;
        let counted = self.admit_login_attempt(Some(email), client).await??;
        let typed = PlainPassword::for_login(current);
        if self
            .ports
            .passwords
            .verify(&typed, &credentials.password_hash)
            .await?
        {
            self.withdraw_login_attempt(&counted).await?;
            Ok(())
        } else {
            Err(wrong())
        }
    }

    /// Deactivates the caller's account and ends all its sessions at once. Administrators cannot
    /// (the same rule as on the admin routes): another administrator must.
    ///
    /// # Errors
    /// `OwnAdminAccess`, `NotFound`, `Dependency`.
    #[tracing::instrument(skip_all, fields(user_id = %principal.user_id))]
    pub async fn deactivate_own_account(&self, principal: &Principal) -> Result<(), ProfileError> {
        let changes = UserChanges {
            is_active: Some(false),
            ..UserChanges::default()
        };
        if removes_own_admin_access(principal, principal.user_id, &changes) {
            return Err(ProfileError::OwnAdminAccess);
        }
        self.mark_user_changed(principal.user_id).await?;
        let updated = self
            .ports
            .users
            .update_user(principal.user_id, &changes, RevokeSessions::All, self.now())
            .await?;
        self.revoke_access(&updated.revoked_sessions).await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::test_support::{CLIENT, Fixture, member};
    use crate::ports::accounts::{UpdatedUser, UserCredentials};
    use reserva_domain::accounts::{PasswordHash, Role, SessionId, UserId};

    fn principal() -> Principal {
        Principal {
            user_id: UserId::from_uuid(uuid::Uuid::now_v7()),
            session_id: SessionId::from_uuid(uuid::Uuid::now_v7()),
            role: Role::Member,
        }
    }

    fn password_change(current: Option<&str>) -> ProfileChanges {
        ProfileChanges {
            username: None,
            password: Some("newsecret1".into()),
            current_password: current.map(Into::into),
        }
    }

    fn with_credentials(fixture: &mut Fixture, current_ok: bool) {
        fixture.users.expect_find_credentials().returning(|id| {
            Ok(Some(UserCredentials {
                user: member(id, "a@b.co"),
                password_hash: PasswordHash::from_phc("$h".into()),
            }))
        });
        fixture
            .passwords
            .expect_verify()
            .returning(move |_, _| Ok(current_ok));
    }

    #[tokio::test]
    async fn password_change_keeps_this_session_and_revokes_the_others() {
        let caller = principal();
        let other = SessionId::from_uuid(uuid::Uuid::now_v7());
        let mut fixture = Fixture::new();
        with_credentials(&mut fixture, true);
        fixture
            .passwords
            .expect_hash()
            .returning(|_| Ok(PasswordHash::from_phc("$new".into())));
        fixture
            .users
            .expect_update_user()
            .withf(move |_, changes, revoke, _| {
                *revoke == RevokeSessions::AllExcept(caller.session_id)
                    && changes.password_hash.as_ref().map(PasswordHash::as_phc) == Some("$new")
            })
            .returning(move |id, _, _, _| {
                Ok(UpdatedUser {
                    user: member(id, "a@b.co"),
                    revoked_sessions: vec![other],
                })
            });
        fixture
            .revocations
            .expect_revoke()
            .withf(move |session, _| *session == other)
            .times(1)
            .returning(|_, _| Ok(()));
        let limiter = fixture.rate_limiter.clone();
        let result = fixture
            .accounts()
            .update_profile(&caller, password_change(Some("old1pass")), CLIENT)
            .await;
        assert!(result.is_ok(), "{result:?}");
        assert_eq!(
            limiter.total(),
            0,
            "a right current password does not count"
        );
    }

    #[tokio::test]
    async fn password_change_needs_the_right_current_password() {
        for (current, verifies) in [(None, true), (Some("wrong1pass"), false)] {
            let mut fixture = Fixture::new();
            with_credentials(&mut fixture, verifies);
            let result = fixture
                .accounts()
                .update_profile(&principal(), password_change(current), CLIENT)
                .await;
            let codes: Vec<_> = result
                .err()
                .map(|e| e.violations().iter().map(|v| v.code).collect())
                .unwrap_or_default();
            assert_eq!(codes, ["current_password_incorrect"]);
        }
    }

    #[tokio::test]
    async fn current_password_guesses_are_limited_like_logins() {
        let caller = principal();
        let mut fixture = Fixture::new();
        with_credentials(&mut fixture, false);
        let accounts = fixture.accounts();
        for _ in 0..5 {
            let result = accounts
                .update_profile(&caller, password_change(Some("guess1")), CLIENT)
                .await;
            assert!(
                matches!(result, Err(ProfileError::Invalid(_))),
                "{result:?}"
            );
        }
        let result = accounts
            .update_profile(&caller, password_change(Some("guess2")), CLIENT)
            .await;
        assert_eq!(
            result.map_err(|e| (e.code(), e.class())).err(),
            Some((
                "too_many_login_attempts",
                ErrorClass::RateLimited {
                    retry_after_seconds: 42
                }
            ))
        );
    }

    #[tokio::test]
    async fn administrators_cannot_deactivate_themselves() {
        let mut admin = principal();
        admin.role = Role::Admin;
        let mut fixture = Fixture::new();
        fixture.users.expect_update_user().never();
        fixture.revocations.expect_mark_user_changed().never();
        assert_eq!(
            fixture.accounts().deactivate_own_account(&admin).await,
            Err(ProfileError::OwnAdminAccess)
        );
        let mut fixture = Fixture::new();
        fixture.store_refuses_update(UserWriteError::LastAdmin);
        let member_by_token = principal();
        assert_eq!(
            fixture
                .accounts()
                .deactivate_own_account(&member_by_token)
                .await
                .map_err(|e| e.code()),
            Err("own_admin_access"),
            "the store's guard answers the same"
        );
    }

    #[tokio::test]
    async fn rejects_empty_or_invalid_changes() {
        let fixture = Fixture::new();
        let result = fixture
            .accounts()
            .update_profile(&principal(), ProfileChanges::default(), CLIENT)
            .await;
        assert_eq!(
            result.map_err(|e| e.code()).err(),
            Some("validation_failed")
        );
        let fixture = Fixture::new();
        let changes = ProfileChanges {
            username: Some("x".into()),
            ..ProfileChanges::default()
        };
        let result = fixture
            .accounts()
            .update_profile(&principal(), changes, CLIENT)
            .await;
        assert!(matches!(result, Err(ProfileError::Invalid(v)) if v[0].field == "username"));
    }

    #[tokio::test]
    async fn username_conflicts_and_missing_accounts_are_mapped() {
        for (store, expected) in [
            (UserWriteError::UsernameTaken, ProfileError::UsernameTaken),
            (UserWriteError::NotFound, ProfileError::NotFound),
        ] {
            let mut fixture = Fixture::new();
            fixture
                .users
                .expect_update_user()
                .return_once(move |_, _, _, _| Err(store));
            let changes = ProfileChanges {
                username: Some("newname".into()),
                ..ProfileChanges::default()
            };
            let result = fixture
                .accounts()
                .update_profile(&principal(), changes, CLIENT)
                .await;
            assert_eq!(result.err(), Some(expected));
        }
    }

    #[tokio::test]
    async fn deactivation_revokes_every_session() {
        let sessions = vec![
            SessionId::from_uuid(uuid::Uuid::now_v7()),
            SessionId::from_uuid(uuid::Uuid::now_v7()),
        ];
        let returned = sessions.clone();
        let mut fixture = Fixture::new();
        fixture
            .users
            .expect_update_user()
            .withf(|_, changes, revoke, _| {
                changes.is_active == Some(false) && *revoke == RevokeSessions::All
            })
            .return_once(move |id, _, _, _| {
                Ok(UpdatedUser {
                    user: member(id, "a@b.co"),
                    revoked_sessions: returned,
                })
            });
        fixture
            .revocations
            .expect_mark_user_changed()
            .times(1)
            .returning(|_, _| Ok(()));
        fixture
            .revocations
            .expect_revoke()
            .times(2)
            .returning(|_, _| Ok(()));
        assert_eq!(
            fixture
                .accounts()
                .deactivate_own_account(&principal())
                .await,
            Ok(())
        );
    }

    #[tokio::test]
    async fn profile_of_a_vanished_user_is_not_found() {
        let mut fixture = Fixture::new();
        fixture.users.expect_find_user().returning(|_| Ok(None));
        assert_eq!(
            fixture.accounts().profile(&principal()).await,
            Err(ProfileError::NotFound)
        );
    }
}
