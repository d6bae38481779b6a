//! Storage of users and login sessions.

use crate::DependencyError;
use crate::ports::security::RefreshTokenHash;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reserva_domain::accounts::{Email, PasswordHash, Role, SessionId, User, UserId, Username};
use reserva_domain::paging::PageLimit;
use std::time::Duration;
use thiserror::Error;

/// A user to insert.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Pre-generated time-ordered id.
    pub id: UserId,
    /// Normalised e-mail.
    pub email: Email,
    /// Username.
    pub username: Username,
    /// Argon2id PHC string.
    pub password_hash: PasswordHash,
    /// Initial role.
    pub role: Role,
    /// Creation instant (both timestamps).
    pub now: DateTime<Utc>,
}

/// A user with the hash needed to check their password.
#[derive(Debug, Clone)]
pub struct UserCredentials {
    /// The user.
    pub user: User,
    /// Their password hash.
    pub password_hash: PasswordHash,
}

/// Fields to change on a user; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserChanges {
    /// New username.
    pub username: Option<Username>,
    /// New password hash.
    pub password_hash: Option<PasswordHash>,
    /// New role.
    pub role: Option<Role>,
    /// Activate or deactivate.
    pub is_active: Option<bool>,
}

impl UserChanges {
    /// Whether these changes would take administrator access away from the user they are applied
    /// to, if that user is an active administrator: a non-admin role, or deactivation. The
    /// use cases' own-access rule and the stores' last-administrator guard both ask this.
    #[must_use]
    pub fn removes_admin_access(&self) -> bool {
        self.role.is_some_and(|role| !role.is_admin()) || self.is_active == Some(false)
    }
}

/// Which of the user's sessions an update revokes in the same transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevokeSessions {
    /// None.
    None,
    /// Every live session except this one (password change keeps the current login).
    AllExcept(SessionId),
    /// Every live session (deactivation).
    All,
}

/// The result of an update: the user as stored and the sessions it revoked.
#[derive(Debug, Clone)]
pub struct UpdatedUser {
    /// The user after the change.
    pub user: User,
    /// Sessions that were live and are now revoked.
    pub revoked_sessions: Vec<SessionId>,
}

/// Why a user could not be written.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum UserWriteError {
    /// Another user has this e-mail.
    #[error("e-mail already registered")]
    EmailTaken,
    /// Another user has this username (compared case-insensitively).
    #[error("username already taken")]
    UsernameTaken,
    /// No user with this id.
    #[error("user not found")]
    NotFound,
    /// The change would leave no active administrator.
    #[error("the last active administrator cannot lose administrator access")]
    LastAdmin,
    /// The store failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

/// A page request over users, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserQuery {
    /// Only this role.
    pub role: Option<Role>,
    /// Case-insensitive substring of e-mail or username.
    pub search: Option<String>,
    /// Only users with a smaller (older) id than this one: the keyset cursor.
    pub before: Option<UserId>,
    /// Page size.
    pub limit: PageLimit,
}

/// Users and their credentials.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait UserRepository: Send + Sync {
    /// Inserts a user.
    ///
    /// # Errors
    /// MUST return [`UserWriteError::EmailTaken`] / [`UserWriteError::UsernameTaken`] when the
    /// e-mail / username (case-insensitive) belongs to another user, even under concurrent inserts.
    async fn insert_user(&self, new_user: NewUser) -> Result<User, UserWriteError>;

    /// The user with this id, active or not.
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    async fn find_user(&self, id: UserId) -> Result<Option<User>, DependencyError>;

    /// The user with this e-mail and their password hash.
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    async fn find_credentials_by_email(
        &self,
        email: &Email,
    ) -> Result<Option<UserCredentials>, DependencyError>;

    /// The user with this id and their password hash.
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    async fn find_credentials(
        &self,
        id: UserId,
    ) -> Result<Option<UserCredentials>, DependencyError>;

    /// Users matching `query`, newest first: at most `query.limit + 1` of them, so the caller can
    /// tell whether another page exists.
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    async fn list_users(&self, query: &UserQuery) -> Result<Vec<User>, DependencyError>;

    /// Applies `changes` (setting `updated_at` to `now`) and revokes the chosen sessions, in one
    /// transaction.
    ///
    /// # Errors
    /// MUST return [`UserWriteError::NotFound`] for an unknown id,
    /// [`UserWriteError::UsernameTaken`] for a username another user has, and
    /// [`UserWriteError::LastAdmin`] when the change would leave no active administrator
    /// ([`UserChanges::removes_admin_access`] from the only one), decided atomically: of
    /// concurrent updates that each remove one administrator's access, at least one active
    /// administrator MUST remain. Nothing changes on an error.
    async fn update_user(
        &self,
        id: UserId,
        changes: &UserChanges,
        revoke: RevokeSessions,
        now: DateTime<Utc>,
    ) -> Result<UpdatedUser, UserWriteError>;

    /// Every user updated at or after `since`, with the instant of their latest update: what a
    /// rebuild of the changed-user marks in shared state starts from (any role or activity change
    /// sets `updated_at`, see [`UserRepository::update_user`]).
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    async fn users_changed_since(
        &self,
        since: DateTime<Utc>,
    ) -> Result<Vec<(UserId, DateTime<Utc>)>, DependencyError>;
}

/// A login session to start, with its first refresh token.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// Pre-generated id.
    pub id: SessionId,
    /// Owner.
    pub user_id: UserId,
    /// Hash of the first refresh token.
    pub refresh_token: RefreshTokenHash,
    /// When that token (and the session, unless refreshed) expires.
    pub refresh_expires_at: DateTime<Utc>,
    /// Start instant.
    pub now: DateTime<Utc>,
}

/// A refresh token presented for rotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotationRequest {
    /// Hash of the presented token.
    pub presented: RefreshTokenHash,
    /// Hash of its successor, the same for every presentation of one token
    /// ([`crate::ports::security::RefreshTokenMinter::successor`]).
    pub next: RefreshTokenHash,
    /// When `next` expires, if this presentation stores it.
    pub next_expires_at: DateTime<Utc>,
    /// The instant of the presentation.
    pub now: DateTime<Utc>,
    /// How long after a rotation presenting the rotated token again repeats that rotation
    /// instead of counting as reuse (two tabs refreshing at once). Zero: never.
    pub grace: Duration,
}

impl RotationRequest {
    /// Whether a token used at `used_at` is presented within the grace window after its rotation.
    /// A use stamped after `now` (another instance's clock runs ahead) is within it too.
    #[must_use]
    pub fn within_grace(&self, used_at: DateTime<Utc>) -> bool {
        let end = chrono::Duration::from_std(self.grace)
            .ok()
            .and_then(|grace| used_at.checked_add_signed(grace));
        !self.grace.is_zero() && end.is_some_and(|end| self.now < end)
    }
}

/// The outcome of presenting a refresh token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshRotation {
    /// The token was live: it is now used up and the new one replaces it.
    Rotated {
        /// The session's owner.
        user_id: UserId,
        /// The session, unchanged.
        session_id: SessionId,
    },
    /// The token was rotated into `next` within the grace window, and `next` is still unused and
    /// unexpired in a live session of an active user: a repeat of that rotation, not theft.
    /// Nothing changes.
    Repeated {
        /// The session's owner.
        user_id: UserId,
        /// The session, unchanged.
        session_id: SessionId,
        /// When the repeated rotation happened (the presented token's use).
        rotated_at: DateTime<Utc>,
    },
    /// The token had already been rotated: someone replayed it. The whole session is revoked.
    ReuseDetected {
        /// The session now revoked.
        session_id: SessionId,
    },
    /// Unknown, expired, or its session revoked or its user deactivated.
    Rejected,
}

/// Picks one session of a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionSelector {
    /// By id (the session of the access token).
    Id(SessionId),
    /// By any refresh token ever issued in it.
    RefreshToken(RefreshTokenHash),
}

/// Login sessions: families of refresh tokens descending from one login.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait SessionRepository: Send + Sync {
    /// Stores a new session and its first refresh token.
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    async fn start_session(&self, session: NewSession) -> Result<(), DependencyError>;

    /// Rotates a refresh token atomically: if `presented` is unused, unexpired at `now`, its
    /// session unrevoked and its user active, marks it used at `now` and stores `next` (created
    /// at `now`, expiring at `next_expires_at`) in the same session.
    ///
    /// If `presented` was already used: when that use is [`RotationRequest::within_grace`] and
    /// the token it stored then is `next`, still unused and unexpired, in an unrevoked session of
    /// an active user, returns `Repeated` and changes nothing; otherwise revokes the session
    /// (`ReuseDetected`). Of `n` concurrent rotations of one token exactly one MUST return
    /// `Rotated`; with one `next` and a grace window the others MUST return `Repeated`.
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails; nothing changes then.
    async fn rotate_refresh_token(
        &self,
        request: &RotationRequest,
    ) -> Result<RefreshRotation, DependencyError>;

    /// Revokes the selected session if it belongs to `user_id`; returns its id when it does
    /// (whether or not it was already revoked), `None` when it is not the user's.
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    async fn revoke_session(
        &self,
        user_id: UserId,
        selector: &SessionSelector,
        now: DateTime<Utc>,
    ) -> Result<Option<SessionId>, DependencyError>;

    /// Whether `session` exists, belongs to `user_id` and is not revoked: the durable answer a
    /// bearer check falls back on when the revocation marks in shared state cannot be trusted.
    /// Every revocation ([`SessionRepository::revoke_session`], [`UserRepository::update_user`],
    /// reuse in [`SessionRepository::rotate_refresh_token`]) MUST be visible here once it has
    /// returned.
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    async fn is_session_live(
        &self,
        user_id: UserId,
        session: SessionId,
    ) -> Result<bool, DependencyError>;

    /// Every session revoked at or after `since` (by any of the ways named at
    /// [`SessionRepository::is_session_live`]), with the instant of its revocation: what a
    /// rebuild of the revocation marks in shared state starts from.
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    async fn sessions_revoked_since(
        &self,
        since: DateTime<Utc>,
    ) -> Result<Vec<(SessionId, DateTime<Utc>)>, DependencyError>;
}
