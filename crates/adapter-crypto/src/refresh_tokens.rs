//! Refresh tokens: 256 random bits, base64url for the client, SHA-256 hex for storage.
//!
//! A fast hash is safe here (unlike for passwords) because the input has full entropy.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reserva_application::DependencyError;
use reserva_application::ports::security::{
    MintedRefreshToken, RefreshTokenHash, RefreshTokenMinter,
};
use sha2::{Digest, Sha256};
use std::fmt::Write as _;

/// Mints refresh tokens from the operating system's random source.
#[derive(Debug, Clone, Copy, Default)]
pub struct RandomRefreshTokens;

impl RefreshTokenMinter for RandomRefreshTokens {
    fn mint(&self) -> Result<MintedRefreshToken, DependencyError> {
        let mut bytes = [0_u8; 32];
        getrandom::fill(&mut bytes)
            .map_err(|error| DependencyError::Failed(format!("random source: {error}")))?;
        let plain = URL_SAFE_NO_PAD.encode(bytes);
        let hash = self.hash(&plain);
        Ok(MintedRefreshToken { plain, hash })
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

    #[test]
    fn tokens_are_unique_and_hash_deterministically() {
        let minter = RandomRefreshTokens;
        let first = minter.mint().expect("mint");
        let second = minter.mint().expect("mint");
        assert_ne!(first.plain, second.plain);
        assert_eq!(first.plain.len(), 43, "32 bytes in unpadded base64url");
        assert_eq!(minter.hash(&first.plain), first.hash);
        assert_eq!(first.hash.as_str().len(), 64);
        assert_ne!(first.hash.as_str(), first.plain);
    }
}
