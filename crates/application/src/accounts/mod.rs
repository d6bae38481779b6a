//! Accounts use cases: signup, login, token refresh and logout, authentication of a bearer
//! token, the caller's own profile, and user administration.

mod admin_users;
mod authenticate;
mod fallback_limiter;
mod login;
mod login_limits;
mod logout;
mod marks_trust;
mod marks_upkeep;
mod profile;
mod refresh;
mod signup;
#[cfg(test)]
mod test_support;

pub use admin_users::{AdminUserChanges, AdminUserError, ListUsersCommand, UserPage};
pub use authenticate::{AuthenticationError, Principal};
pub use fallback_limiter::FallbackRateLimiter;
pub use login::{LoginCommand, LoginError};
pub use login_limits::LoginLimits;
pub use logout::LogoutError;
pub use marks_upkeep::MarksUpkeep;
pub use profile::{ProfileChanges, ProfileError};
pub use refresh::RefreshError;
pub use signup::{SignupCommand, SignupError};

use crate::DependencyError;
use crate::ports::accounts::{NewSession, SessionRepository, UserChanges, UserRepository};
use crate::ports::security::{AccessClaims, AccessTokenCodec, PasswordHasher, RefreshTokenMinter};
use crate::ports::shared_state::{RateLimiter, SessionRevocations};
use crate::ports::system::Clock;
use chrono::{DateTime, Utc};
use marks_trust::MarksTrust;
use reserva_domain::accounts::{SessionId, User, UserId};
use std::sync::Arc;
use std::time::Duration;

/// Token lifetimes and login limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountPolicy {
    /// Lifetime of an access token (15 minutes by default).
    pub access_token_ttl: Duration,
    /// Lifetime of a refresh token (14 days by default); each rotation starts a new one.
    pub refresh_token_ttl: Duration,
    /// How long after a rotation the rotated token, presented again, answers the same pair
    /// instead of revoking the session (10 s by default; zero: never).
    pub refresh_grace: Duration,
    /// How many password verdicts a client may get (login and `current_password`).
    pub login_limits: LoginLimits,
}

impl Default for AccountPolicy {
    fn default() -> Self {
        Self {
            access_token_ttl: Duration::from_secs(15 * 60),
            refresh_token_ttl: Duration::from_secs(14 * 24 * 3600),
            refresh_grace: Duration::from_secs(10),
            login_limits: LoginLimits::default(),
        }
    }
}

/// Everything the accounts use cases talk to.
#[derive(Clone)]
pub struct AccountsPorts {
    /// Users.
    pub users: Arc<dyn UserRepository>,
    /// Login sessions.
    pub sessions: Arc<dyn SessionRepository>,
    /// Password hashing.
    pub passwords: Arc<dyn PasswordHasher>,
    /// Access tokens.
    pub access_tokens: Arc<dyn AccessTokenCodec>,
    /// Refresh tokens.
    pub refresh_tokens: Arc<dyn RefreshTokenMinter>,
    /// Revoked sessions (shared state).
    pub revocations: Arc<dyn SessionRevocations>,
    /// Login limits' counters (shared state).
    pub rate_limiter: Arc<dyn RateLimiter>,
    /// Time.
    pub clock: Arc<dyn Clock>,
}

/// The accounts use cases, ready to call from any adapter.
#[derive(Clone)]
pub struct Accounts {
    ports: AccountsPorts,
    policy: AccountPolicy,
    /// Whether absent marks in shared state can be trusted, and the marks owed to it; one per
    /// instance, shared by every clone.
    trust: Arc<MarksTrust>,
}

/// A successful login or refresh.
#[derive(Debug, Clone)]
pub struct IssuedTokens {
    /// Signed JWT.
    pub access_token: String,
    /// Opaque; shown once.
    pub refresh_token: String,
    /// Access token lifetime in seconds.
    pub expires_in: u64,
    /// The user logged in.
    pub user: User,
}

impl Accounts {
    /// Builds the use cases over their ports.
    #[must_use]
    pub fn new(ports: AccountsPorts, policy: AccountPolicy) -> Self {
        Self {
            ports,
            policy,
            trust: Arc::default(),
        }
    }

    /// The policy in force.
    #[must_use]
    pub fn policy(&self) -> AccountPolicy {
        self.policy
    }

    fn now(&self) -> DateTime<Utc> {
        self.ports.clock.now()
    }

    fn after(&self, now: DateTime<Utc>, ttl: Duration) -> DateTime<Utc> {
        now + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::MAX)
    }

    /// Signs an access token for `user` in `session_id`, issued at `issued_at`.
    fn access_token_for(
        &self,
        user: &User,
        session_id: SessionId,
        issued_at: DateTime<Utc>,
    ) -> Result<String, DependencyError> {
        self.ports.access_tokens.issue(&AccessClaims {
            user_id: user.id,
            session_id,
            role: user.role,
            issued_at,
            expires_at: self.after(issued_at, self.policy.access_token_ttl),
        })
    }

    /// Starts a session for `user` and returns its first token pair.
    async fn start_session(&self, user: User) -> Result<IssuedTokens, DependencyError> {
        let now = self.now();
        let minted = self.ports.refresh_tokens.mint()?;
        let session_id = SessionId::from_uuid(uuid::Uuid::now_v7());
        self.ports
            .sessions
            .start_session(NewSession {
                id: session_id,
                user_id: user.id,
                refresh_token: minted.hash,
                refresh_expires_at: self.after(now, self.policy.refresh_token_ttl),
                now,
            })
            .await?;
        Ok(IssuedTokens {
            access_token: self.access_token_for(&user, session_id, now)?,
            refresh_token: minted.plain,
            expires_in: self.policy.access_token_ttl.as_secs(),
            user,
        })
    }

    /// Makes the access tokens of `sessions` unusable at once, for as long as any could live.
    ///
    /// The sessions are already revoked in storage (the callers revoke there first), which is the
    /// record; the marks in shared state only let bearer checks skip storage. So a mark that
    /// cannot be written is not an error: this instance stops trusting absent marks (its bearer
    /// checks read storage, see [`MarksTrust`]) and writes the mark again once shared state
    /// answers.
    async fn revoke_access(&self, sessions: &[SessionId]) {
        let now = self.now();
        let until = self.after(now, self.policy.access_token_ttl);
        for session in sessions {
            if let Err(error) = self.ports.revocations.revoke(*session, until).await {
                tracing::warn!(%error, %session, "revocation mark not written; storage decides until it is");
                self.distrust_marks(now);
                self.trust.owe(*session, until);
            }
        }
    }

    /// Shared state failed at `now`: absent marks prove nothing until every mark that could have
    /// been missed (written before a Redis restart, or failed on another instance) has lapsed.
    /// Changed-user marks live longest, two access-token lifetimes.
    fn distrust_marks(&self, now: DateTime<Utc>) {
        let until = self.after(now, self.policy.access_token_ttl.saturating_mul(2));
        self.trust.distrust_until(until);
    }

    /// Writes the revocation marks owed since a failure, now that shared state answers again;
    /// what fails again stays owed.
    async fn send_owed_marks(&self, now: DateTime<Utc>) {
        for (session, until) in self.trust.take_owed(now) {
            if let Err(error) = self.ports.revocations.revoke(session, until).await {
                tracing::warn!(%error, %session, "owed revocation mark still not written");
                self.distrust_marks(now);
                self.trust.owe(session, until);
            }
        }
    }

    /// Marks `user` changed in shared state, *before* their role or activity is written, so every
    /// bearer check reads the user from storage until no token issued before the write can be
    /// alive. The mark lives two access-token lifetimes: one for the tokens, one as room for the
    /// write itself (a token signed between this mark and the commit carries the old role).
    ///
    /// Marking first means a failure here leaves nothing changed, and a write that fails after it
    /// costs only some storage reads.
    async fn mark_user_changed(&self, user: UserId) -> Result<(), DependencyError> {
        let until = self.after(self.now(), self.policy.access_token_ttl.saturating_mul(2));
        self.ports.revocations.mark_user_changed(user, until).await
    }
}

/// The one rule on taking administrator access away, for every route that can (`PATCH` and
/// `DELETE /admin/users/{id}`, `DELETE /users/me`): an administrator never removes their own.
/// Another administrator must do it, so the service is never left without one by a slip. That
/// the *last* active administrator keeps access even when two remove each other at once is the
/// store's guarded write ([`UserWriteError::LastAdmin`](crate::ports::accounts::UserWriteError)).
fn removes_own_admin_access(principal: &Principal, target: UserId, changes: &UserChanges) -> bool {
    principal.is_admin() && principal.user_id == target && changes.removes_admin_access()
}

fn new_user_id() -> UserId {
    UserId::from_uuid(uuid::Uuid::now_v7())
}
