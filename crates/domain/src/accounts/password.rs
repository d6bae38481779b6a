//! The password policy, and the two forms a password takes: typed by a user, or hashed in storage.

use std::fmt;
use thiserror::Error;

/// A password as the user typed it. Never printed, never stored.
#[derive(Clone, PartialEq, Eq)]
pub struct PlainPassword(String);

/// A broken rule of the password policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum PasswordRuleViolation {
    /// Fewer than [`PlainPassword::MIN_LENGTH`] characters.
    #[error("must be at least 8 characters")]
    TooShort,
    /// More than [`PlainPassword::MAX_LENGTH`] characters (hashing cost must stay bounded).
    #[error("must be at most 128 characters")]
    TooLong,
    /// No letter or no digit.
    #[error("must contain at least one letter and one digit")]
    NeedsLetterAndDigit,
}

impl PasswordRuleViolation {
    /// A stable machine-readable code for API clients.
    #[must_use]
    pub const fn code(self) -> &'static str {
        match self {
            Self::TooShort => "password_too_short",
            Self::TooLong => "password_too_long",
            Self::NeedsLetterAndDigit => "password_too_weak",
        }
    }
}

impl PlainPassword {
    /// The fewest characters a new password may have.
    pub const MIN_LENGTH: usize = 8;
    /// The most characters a password may have.
    pub const MAX_LENGTH: usize = 128;

    /// Checks a new password against the policy (length in characters, a letter and a digit).
    ///
    /// # Errors
    /// The first [`PasswordRuleViolation`] found.
    pub fn new(raw: &str) -> Result<Self, PasswordRuleViolation> {
        let length = raw.chars().count();
        if length < Self::MIN_LENGTH {
            return Err(PasswordRuleViolation::TooShort);
        }
        if length > Self::MAX_LENGTH {
            return Err(PasswordRuleViolation::TooLong);
        }
        if !raw.chars().any(char::is_alphabetic) || !raw.chars().any(|c| c.is_ascii_digit()) {
            return Err(PasswordRuleViolation::NeedsLetterAndDigit);
        }
        Ok(Self(raw.to_owned()))
    }

    /// Wraps a password typed at login without applying the policy: old passwords stay valid
    /// when the policy tightens. Over-long input is cut so hashing cost stays bounded; such a
    /// password can never have been set, so cutting it cannot make a wrong one match.
    #[must_use]
    pub fn for_login(raw: &str) -> Self {
        Self(raw.chars().take(Self::MAX_LENGTH + 1).collect())
    }

    /// The characters, for the hasher only.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PlainPassword {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("PlainPassword(<redacted>)")
    }
}

/// A password hash in PHC string format, as produced by the password hasher port.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// Wraps a PHC string read from storage or produced by the hasher.
    #[must_use]
    pub fn from_phc(phc: String) -> Self {
        Self(phc)
    }

    /// The PHC string.
    #[must_use]
    pub fn as_phc(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("PasswordHash(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_boundaries() {
        assert_eq!(
            PlainPassword::new("abc1234").err(),
            Some(PasswordRuleViolation::TooShort)
        );
        assert!(PlainPassword::new("abcd1234").is_ok());
        assert!(PlainPassword::new(&format!("a1{}", "x".repeat(126))).is_ok());
        assert_eq!(
            PlainPassword::new(&format!("a1{}", "x".repeat(127))).err(),
            Some(PasswordRuleViolation::TooLong)
        );
        assert_eq!(
            PlainPassword::new("abcdefgh").err(),
            Some(PasswordRuleViolation::NeedsLetterAndDigit)
        );
        assert_eq!(
            PlainPassword::new("12345678").err(),
            Some(PasswordRuleViolation::NeedsLetterAndDigit)
        );
        // length counts characters, not bytes
        assert_eq!(
            PlainPassword::new("비밀번호1").err(),
            Some(PasswordRuleViolation::TooShort)
        );
        assert!(PlainPassword::new("비밀번호비밀번1").is_ok());
    }

    #[test]
    fn never_prints_the_secret() {
        let password = PlainPassword::for_login("hunter22");
        assert!(!format!("{password:?}").contains("hunter22"));
        let hash = PasswordHash::from_phc("$argon2id$secret".to_owned());
        assert!(!format!("{hash:?}").contains("secret"));
    }

    #[test]
    fn login_passwords_are_bounded() {
        let typed = "x".repeat(10_000);
        assert_eq!(
            PlainPassword::for_login(&typed).expose().len(),
            PlainPassword::MAX_LENGTH + 1
        );
    }
}
