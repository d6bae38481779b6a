//! Cryptography the accounts use cases rely on: password hashing and the two kinds of token.

use crate::DependencyError;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reserva_domain::accounts::{PasswordHash, PlainPassword, Role, SessionId, UserId};
use thiserror::Error;

/// Hashes and verifies passwords with a slow, salted algorithm.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait PasswordHasher: Send + Sync {
    /// Hashes a password with a fresh salt. Slow on purpose; adapters run it off the I/O threads.
    ///
    /// # Errors
    /// [`DependencyError::Failed`] if the algorithm fails.
    async fn hash(&self, password: &PlainPassword) -> Result<PasswordHash, DependencyError>;

    /// Whether `password` matches `hash`.
    ///
    /// # Errors
    /// [`DependencyError::Failed`] if `hash` is not a valid hash string.
    async fn verify(
        &self,
        password: &PlainPassword,
        hash: &PasswordHash,
    ) -> Result<bool, DependencyError>;

    /// Spends the time of one [`PasswordHasher::verify`] and matches nothing, so response times
    /// do not reveal whether an e-mail is registered.
    ///
    /// # Errors
    /// [`DependencyError::Failed`] if the algorithm fails.
    async fn verify_nothing(&self, password: &PlainPassword) -> Result<(), DependencyError>;
}

/// What an access token says about its bearer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessClaims {
    /// The user.
    pub user_id: UserId,
    /// The login session the token was issued in; revoking the session revokes the token.
    pub session_id: SessionId,
    /// The role at issue time (informational: authorisation reads the current role).
    pub role: Role,
    /// Issue instant.
    pub issued_at: DateTime<Utc>,
    /// Expiry instant.
    pub expires_at: DateTime<Utc>,
}

/// Why an access token was refused. Deliberately coarse: clients only learn "not valid".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum InvalidAccessToken {
    /// Signature, algorithm, structure or claims are wrong.
    #[error("access token is malformed or its signature is invalid")]
    Malformed,
    /// Valid but past its expiry.
    #[error("access token has expired")]
    Expired,
    /// Valid but its "not before" (`nbf`) lies in the future.
    #[error("access token is not valid yet")]
    NotYetValid,
}

/// Issues and checks signed access tokens (JWT).
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait AccessTokenCodec: Send + Sync {
    /// Signs the claims.
    ///
    /// # Errors
    /// [`DependencyError::Failed`] if signing fails.
    fn issue(&self, claims: &AccessClaims) -> Result<String, DependencyError>;

    /// Checks signature and algorithm (only the configured one; `alg: none` MUST fail), expiry
    /// and, when the token carries one, "not before" against `now`.
    ///
    /// # Errors
    /// [`InvalidAccessToken`] when the token must not be accepted.
    fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<AccessClaims, InvalidAccessToken>;
}

/// The stored form of a refresh token: a one-way hash, so a database leak yields no usable token.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RefreshTokenHash(String);

impl RefreshTokenHash {
    /// Wraps a hash produced by [`RefreshTokenMinter::hash`] or read from storage.
    #[must_use]
    pub fn new(hash: String) -> Self {
        Self(hash)
    }

    /// The hash as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A freshly minted refresh token: the value for the client and its hash for storage.
#[derive(Debug, Clone)]
pub struct MintedRefreshToken {
    /// Given to the client once, never stored.
    pub plain: String,
    /// Stored.
    pub hash: RefreshTokenHash,
}

/// Creates opaque refresh tokens with enough entropy that a fast hash is a safe storage form.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait RefreshTokenMinter: Send + Sync {
    /// A new random token (at least 256 bits of entropy) and its hash: the first of a session.
    ///
    /// # Errors
    /// [`DependencyError::Failed`] if the system random source fails.
    fn mint(&self) -> Result<MintedRefreshToken, DependencyError>;

    /// The token that replaces `presented` when it is rotated, and its hash: the same every time
    /// for the same `presented`, and unpredictable without the server's key (a keyed hash, 256
    /// bits). So every presentation of one token names one successor, which lets a repeat of a
    /// rotation within the grace window answer the same pair though only hashes are stored.
    fn successor(&self, presented: &str) -> MintedRefreshToken;

    /// The hash of a presented token, to look it up.
    fn hash(&self, plain: &str) -> RefreshTokenHash;
}
