//! Stored users as entities.

use chrono::{DateTime, Utc};
use reserva_application::DependencyError;
use reserva_application::ports::accounts::UserCredentials;
use reserva_domain::accounts::{Email, PasswordHash, User, UserId, Username};
use uuid::Uuid;

/// A `users` row as plain values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredUser {
    /// `id`.
    pub id: Uuid,
    /// `email`.
    pub email: String,
    /// `username`.
    pub username: String,
    /// `password_hash`, a PHC string.
    pub password_hash: String,
    /// `role`.
    pub role: String,
    /// `is_active`.
    pub is_active: bool,
    /// `created_at`.
    pub created_at: DateTime<Utc>,
    /// `updated_at`.
    pub updated_at: DateTime<Utc>,
}

impl StoredUser {
    /// The user and their password hash.
    ///
    /// # Errors
    /// [`DependencyError::Failed`] when a stored value breaks a rule it was written under.
    pub fn into_credentials(self) -> Result<UserCredentials, DependencyError> {
        let corrupt =
            |what: &str| DependencyError::Failed(format!("stored user has an invalid {what}"));
        let user = User {
            id: UserId::from_uuid(self.id),
            email: Email::parse(&self.email).map_err(|_| corrupt("e-mail"))?,
            username: Username::parse(&self.username).map_err(|_| corrupt("username"))?,
            role: self.role.parse().map_err(|_| corrupt("role"))?,
            is_active: self.is_active,
            created_at: self.created_at,
            updated_at: self.updated_at,
        };
        Ok(UserCredentials {
            user,
            password_hash: PasswordHash::from_phc(self.password_hash),
        })
    }

    /// The user.
    ///
    /// # Errors
    /// As [`Self::into_credentials`].
    pub fn into_user(self) -> Result<User, DependencyError> {
        self.into_credentials().map(|credentials| credentials.user)
    }
}
