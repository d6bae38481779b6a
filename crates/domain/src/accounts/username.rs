//! Public user names.

use std::fmt;
use thiserror::Error;

/// 3 to 30 characters of ASCII letters, digits, `_`, `.` or `-`. Unique case-insensitively (storage).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Username(String);

/// Why a string is not an acceptable username.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("must be 3 to 30 characters: letters, digits, '_', '.' or '-'")]
pub struct InvalidUsername;

impl Username {
    /// Validates a username (surrounding whitespace is ignored).
    ///
    /// # Errors
    /// [`InvalidUsername`] for the wrong length or a character outside the allowed set.
    pub fn parse(raw: &str) -> Result<Self, InvalidUsername> {
        let trimmed = raw.trim();
        let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-');
        if (3..=30).contains(&trimmed.len()) && trimmed.chars().all(allowed) {
            Ok(Self(trimmed.to_owned()))
        } else {
            Err(InvalidUsername)
        }
    }

    /// The username as written.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_allowed_alphabet_at_both_length_limits() {
        assert!(Username::parse("abc").is_ok());
        assert!(Username::parse(&"a".repeat(30)).is_ok());
        assert!(Username::parse("ann.lee_01-x").is_ok());
    }

    #[test]
    fn rejects_wrong_length_or_characters() {
        for raw in [
            "ab",
            "",
            &"a".repeat(31),
            "ann lee",
            "ann@lee",
            "한국어이름",
        ] {
            assert_eq!(Username::parse(raw), Err(InvalidUsername), "{raw:?}");
        }
    }
}
