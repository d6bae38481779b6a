//! The user entity as the rest of the system sees it (without the password hash).

use super::{Email, Role, UserId, Username};
use chrono::{DateTime, Utc};

/// A registered user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Identity, time-ordered.
    pub id: UserId,
    /// Normalised, unique e-mail address; the login name.
    pub email: Email,
    /// Unique public name.
    pub username: Username,
    /// What the user may do.
    pub role: Role,
    /// A deactivated user can neither log in nor use a token issued earlier.
    pub is_active: bool,
    /// When the account was created.
    pub created_at: DateTime<Utc>,
    /// When the account last changed.
    pub updated_at: DateTime<Utc>,
}
