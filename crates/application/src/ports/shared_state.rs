//! State shared by every instance of the service: a lock, rate-limit counters, the marks of
//! revoked sessions and changed users, and idempotency records.
//!
//! Two adapters exist: Redis (several instances) and memory (one instance). No business invariant
//! depends on these alone; the database stays the source of truth.

use crate::DependencyError;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reserva_domain::accounts::{SessionId, UserId};
use std::time::Duration;

/// Proof of holding a lock; only its holder can release it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockToken(String);

impl LockToken {
    /// Wraps the random value the adapter stored with the lock.
    #[must_use]
    pub fn new(value: String) -> Self {
        Self(value)
    }

    /// The stored value.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A named mutual-exclusion lock with a time-to-live, across instances.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait DistributedLock: Send + Sync {
    /// Takes the lock if nobody holds it (or the holder's TTL ran out). Never waits.
    ///
    /// # Errors
    /// MUST return [`DependencyError::Unavailable`] when the shared state cannot be reached.
    async fn try_acquire(
        &self,
        name: &str,
        ttl: Duration,
    ) -> Result<Option<LockToken>, DependencyError>;

    /// Releases the lock only if `token` still holds it (compare-and-delete). Returns whether it
    /// was released; `false` means the TTL ran out and maybe someone else holds it now.
    ///
    /// # Errors
    /// MUST return [`DependencyError::Unavailable`] when the shared state cannot be reached.
    async fn release(&self, name: &str, token: &LockToken) -> Result<bool, DependencyError>;
}

/// Hits counted in a fixed window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowCount {
    /// Hits so far in the current window (0 if none).
    pub hits: u32,
    /// Time until the window ends and the count restarts (zero if there is no window).
    pub resets_in: Duration,
}

/// Fixed-window counters for rate limits (login attempts per account and client address, for
/// example). A caller counts an attempt with `hit` *before* acting on it and compares the count
/// it gets back, so concurrent attempts cannot all pass one check.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait RateLimiter: Send + Sync {
    /// The current count for `key`, without counting a hit.
    ///
    /// # Errors
    /// MUST return [`DependencyError::Unavailable`] when the shared state cannot be reached.
    async fn peek(&self, key: &str) -> Result<WindowCount, DependencyError>;

    /// Counts one hit for `key`; the first hit starts a window of length `window`. Atomic across
    /// instances: `n` concurrent hits raise the count by exactly `n`.
    ///
    /// # Errors
    /// MUST return [`DependencyError::Unavailable`] when the shared state cannot be reached.
    async fn hit(&self, key: &str, window: Duration) -> Result<WindowCount, DependencyError>;

    /// Takes back one hit of `key`'s current window: an attempt that turned out not to count
    /// (a login with the right password). Never goes below zero, never starts or lengthens a
    /// window, and does nothing once the window has ended. Atomic like [`RateLimiter::hit`].
    ///
    /// # Errors
    /// MUST return [`DependencyError::Unavailable`] when the shared state cannot be reached.
    async fn withdraw(&self, key: &str) -> Result<(), DependencyError>;
}

/// What shared state says about the session and the user of an access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AccessMarks {
    /// The session was revoked: its access tokens are refused.
    pub session_revoked: bool,
    /// The user's role or activity changed (or is about to): the role and active flag in the
    /// token may be stale, so they must be read from storage.
    pub user_changed: bool,
    /// Shared state may have lost marks: its marks epoch is missing (a fresh or restarted Redis
    /// whose marks have not been rebuilt from storage yet). An absent mark then proves nothing.
    pub marks_lost: bool,
}

/// Marks that make access tokens untrustworthy before they expire: revoked sessions (logout,
/// password change, deactivation) and users whose role or activity changed. A mark only needs to
/// live as long as the longest access token issued before it.
///
/// Together they let a bearer check trust the role signed into the token — one round trip to
/// shared state and none to storage — while a demotion or deactivation still applies at once.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait SessionRevocations: Send + Sync {
    /// Marks the session revoked until `until` (after which its access tokens have expired anyway).
    /// A second mark never shortens the first.
    ///
    /// # Errors
    /// MUST return [`DependencyError::Unavailable`] when the shared state cannot be reached.
    async fn revoke(&self, session: SessionId, until: DateTime<Utc>)
    -> Result<(), DependencyError>;

    /// Marks the user changed until `until`. A second mark never shortens the first.
    ///
    /// # Errors
    /// MUST return [`DependencyError::Unavailable`] when the shared state cannot be reached.
    async fn mark_user_changed(
        &self,
        user: UserId,
        until: DateTime<Utc>,
    ) -> Result<(), DependencyError>;

    /// Both marks that concern an access token, read together (one round trip); a lapsed mark
    /// reads as absent.
    ///
    /// # Errors
    /// MUST return [`DependencyError::Unavailable`] when the shared state cannot be reached.
    async fn access_marks(
        &self,
        session: SessionId,
        user: UserId,
    ) -> Result<AccessMarks, DependencyError>;

    /// Whether shared state may have lost marks: the marks epoch, set by
    /// [`SessionRevocations::restore_marks`] and never expiring, is missing. Read in the same
    /// round trip as the marks by [`SessionRevocations::access_marks`] (`marks_lost`).
    ///
    /// # Errors
    /// MUST return [`DependencyError::Unavailable`] when the shared state cannot be reached.
    async fn marks_lost(&self) -> Result<bool, DependencyError>;

    /// Claims the rebuild of lost marks for `ttl`: of concurrent claims exactly one gets `true`
    /// until the claim lapses (it is never released: the epoch ends the need).
    ///
    /// # Errors
    /// MUST return [`DependencyError::Unavailable`] when the shared state cannot be reached.
    async fn claim_rebuild(&self, ttl: Duration) -> Result<bool, DependencyError>;

    /// Writes the revocation marks of `sessions` and the changed-user marks of `users` (each
    /// until its instant, never shortening a mark), and *then* sets the marks epoch, so that
    /// `marks_lost` reads `false` only once every mark is in place. Called after a won
    /// [`claim_rebuild`](Self::claim_rebuild): the epoch is set (and the claim given back) only
    /// if that claim still stands, so a shared state that lost its data during the rebuild (and
    /// the claim with it) is never vouched for.
    ///
    /// # Errors
    /// MUST return [`DependencyError::Unavailable`] when the shared state cannot be reached or
    /// the claim no longer stands; the epoch is then not set.
    async fn restore_marks(
        &self,
        sessions: &[(SessionId, DateTime<Utc>)],
        users: &[(UserId, DateTime<Utc>)],
    ) -> Result<(), DependencyError>;
}

/// A response kept for replay under an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedResponse {
    /// HTTP status code.
    pub status: u16,
    /// The headers worth replaying (content type, location), in order.
    pub headers: Vec<(String, String)>,
    /// The body (JSON text, or empty).
    pub body: String,
}

/// Proof of owning an idempotency key while its request runs; only the owner can complete or
/// abandon it. Opaque: each adapter puts what it needs in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimToken(String);

impl ClaimToken {
    /// Wraps the adapter's value.
    #[must_use]
    pub fn new(value: String) -> Self {
        Self(value)
    }

    /// The adapter's value.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a key says when a request presents it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyClaim {
    /// The key was free: the caller owns it now and must complete or abandon it.
    Claimed(ClaimToken),
    /// A request with this key and fingerprint is still running.
    InFlight,
    /// The key was used for a different request (another fingerprint).
    Mismatch,
    /// The key's request finished: this is its response.
    Replay(RecordedResponse),
}

/// Idempotency keys and the responses of the requests that used them, across instances.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait IdempotencyRecords: Send + Sync {
    /// Claims `key` for a request identified by `fingerprint`, atomically across instances: of
    /// concurrent claims of a free key exactly one gets `Claimed`. The claim lapses after
    /// `in_flight_for` if it is neither completed nor abandoned (a crashed instance).
    ///
    /// # Errors
    /// MUST return [`DependencyError::Unavailable`] when the shared state cannot be reached.
    async fn claim(
        &self,
        key: &str,
        fingerprint: &str,
        in_flight_for: Duration,
    ) -> Result<IdempotencyClaim, DependencyError>;

    /// Keeps the claim of a request that is still running: it now lapses `in_flight_for` from
    /// now. Returns `false`, changing nothing, if `token` no longer owns the key (its claim
    /// lapsed and the key may have been claimed again).
    ///
    /// # Errors
    /// MUST return [`DependencyError::Unavailable`] when the shared state cannot be reached.
    async fn renew(
        &self,
        key: &str,
        token: &ClaimToken,
        in_flight_for: Duration,
    ) -> Result<bool, DependencyError>;

    /// Stores the response of the claimed request, to be replayed for `keep_for`. Returns
    /// whether it was stored: `false`, changing nothing, if `token` no longer owns the key.
    ///
    /// # Errors
    /// MUST return [`DependencyError::Unavailable`] when the shared state cannot be reached.
    async fn complete(
        &self,
        key: &str,
        token: &ClaimToken,
        response: &RecordedResponse,
        keep_for: Duration,
    ) -> Result<bool, DependencyError>;

    /// Frees the key without a response (the request failed in a way worth retrying). Does
    /// nothing if `token` no longer owns the key.
    ///
    /// # Errors
    /// MUST return [`DependencyError::Unavailable`] when the shared state cannot be reached.
    async fn abandon(&self, key: &str, token: &ClaimToken) -> Result<(), DependencyError>;
}
