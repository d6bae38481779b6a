//! Refresh tokens: 256 bits, base64url for the client, SHA-256 hex for storage.
//!
//! A session's first token is random. Each successor is HMAC-SHA256 of the token it replaces,
//! under a key derived from the signing secret: every presentation of one token names the same
//! successor, which is what lets a refresh repeated within the grace window answer the same pair
//! while the store keeps only hashes, and nobody without the key can compute it. A fast hash is
//! a safe storage form (unlike for passwords) because every token has full entropy.

use crate::WeakSigningSecret;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use reserva_application::DependencyError;
use reserva_application::ports::security::{
    MintedRefreshToken, RefreshTokenHash, RefreshTokenMinter,
};
use sha2::{Digest, Sha256};
use std::fmt::{self, Write as _};

type HmacSha256 = Hmac<Sha256>;

/// What the successor key is derived for, so it is never the JWT signing key itself.
const SUCCESSOR_KEY_LABEL: &[u8] = b"reserva refresh-token successor v1";

/// Mints refresh tokens: random first tokens, keyed successors.
#[derive(Clone)]
pub struct RefreshTokens {
    successor_key: HmacSha256,
}

impl fmt::Debug for RefreshTokens {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("RefreshTokens { successor_key: [redacted] }")
    }
}

impl RefreshTokens {
    /// Derives the successor key from `secret`, the signing secret (at least 32 bytes). Instances
    /// that share the secret compute the same successors.
    ///
    /// # Errors
    /// [`WeakSigningSecret`] for a shorter secret.
    pub fn new(secret: &[u8]) -> Result<Self, WeakSigningSecret> {
        if secret.len() < 32 {
            return Err(WeakSigningSecret);
        }
        let derive = HmacSha256::new_from_slice(secret).map_err(|_| WeakSigningSecret)?;
        let key = derive
            .chain_update(SUCCESSOR_KEY_LABEL)
            .finalize()
            .into_bytes();
        let successor_key = HmacSha256::new_from_slice(&key).map_err(|_| WeakSigningSecret)?;
        Ok(Self { successor_key })
    }

    fn minted(&self, bytes: &[u8]) -> MintedRefreshToken {
        let plain = URL_SAFE_NO_PAD.encode(bytes);
        let hash = self.hash(&plain);
        MintedRefreshToken { plain, hash }
    }
}

impl RefreshTokenMinter for RefreshTokens {
    fn mint(&self) -> Result<MintedRefreshToken, DependencyError> {
        let mut bytes = [0_u8; 32];
        getrandom::fill(&mut bytes)
            .map_err(|error| DependencyError::Failed(format!("random source: {error}")))?;
        Ok(self.minted(&bytes))
    }

    fn successor(&self, presented: &str) -> MintedRefreshToken {
        let mac = self
            .successor_key
            .clone()
            .chain_update(presented.as_bytes());
        self.minted(&mac.finalize().into_bytes())
    }

    fn hash(&self, plain: &str) -> RefreshTokenHash {
        let digest = Sha256::digest(plain.as_bytes());
        let hex = digest
            .iter()
            .fold(String::with_capacity(64), |mut hex, byte| {
                let _ = write!(hex, "{byte:02x}");
                hex
            });
        RefreshTokenHash::new(hex)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn minter(secret: &[u8]) -> RefreshTokens {
        RefreshTokens::new(secret).expect("secret long enough")
    }

    #[test]
    fn tokens_are_unique_and_hash_deterministically() {
        let minter = minter(SECRET);
        let first = minter.mint().expect("mint");
        let second = minter.mint().expect("mint");
        assert_ne!(first.plain, second.plain);
        assert_eq!(first.plain.len(), 43, "32 bytes in unpadded base64url");
        assert_eq!(minter.hash(&first.plain), first.hash);
        assert_eq!(first.hash.as_str().len(), 64);
        assert_ne!(first.hash.as_str(), first.plain);
    }

    #[test]
    fn a_token_has_one_successor_which_only_the_key_computes() {
        let (minter, other) = (minter(SECRET), minter(&[b'k'; 32]));
        let token = minter.mint().expect("mint");
        let next = minter.successor(&token.plain);
        assert_eq!(minter.successor(&token.plain).plain, next.plain);
        assert_eq!(next.hash, minter.hash(&next.plain));
        assert_eq!(next.plain.len(), 43);
        assert_ne!(next.plain, token.plain);
        assert_ne!(minter.successor(&next.plain).plain, next.plain);
        assert_ne!(other.successor(&token.plain).plain, next.plain);
    }

    #[test]
    fn short_secrets_and_the_key_are_never_shown() {
        assert!(RefreshTokens::new(b"short").is_err());
        let shown = format!("{:?}", minter(SECRET));
        assert!(!shown.contains("0123"), "{shown}");
    }
}
