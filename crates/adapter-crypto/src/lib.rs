//! Cryptography behind the application's security ports: argon2id password hashing, HS256 JWT
//! access tokens, refresh tokens (random first, keyed successors) stored as SHA-256 hashes, and the
//! HMAC-SHA256 signatures of the checkout provider's callbacks.
//!
//! It is an adapter of its own because the architecture keeps `argon2` and `jsonwebtoken` out of
//! the application layer, and none of this is specific to HTTP or storage.

mod access_tokens;
mod callbacks;
mod passwords;
mod refresh_tokens;

pub use access_tokens::{JwtAccessTokens, WeakSigningSecret};
pub use callbacks::{HmacCallbacks, SIGNATURE_HEADER, SIGNATURE_TOLERANCE};
pub use passwords::Argon2PasswordHasher;
pub use refresh_tokens::RefreshTokens;
