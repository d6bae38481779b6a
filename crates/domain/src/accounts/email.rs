//! E-mail addresses, normalised so that uniqueness is case-insensitive.

use std::fmt;
use thiserror::Error;

/// A syntactically plausible e-mail address, trimmed and lower-cased.
///
/// Lower-casing the whole address makes `Ann@Example.com` and `ann@example.com` the same account,
/// which is what users expect even though RFC 5321 allows case-sensitive local parts.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

/// Why a string is not an acceptable e-mail address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("must be an e-mail address like name@example.com, at most 254 characters")]
pub struct InvalidEmail;

impl Email {
    /// The longest address SMTP can carry.
    pub const MAX_LENGTH: usize = 254;

    /// Validates and normalises an address.
    ///
    /// # Errors
    /// [`InvalidEmail`] when the text is not `local@domain.tld` or is too long.
    pub fn parse(raw: &str) -> Result<Self, InvalidEmail> {
        let normalised = raw.trim().to_lowercase();
        if normalised.len() > Self::MAX_LENGTH || normalised.chars().any(char::is_whitespace) {
            return Err(InvalidEmail);
        }
        let (local, domain) = normalised.split_once('@').ok_or(InvalidEmail)?;
        let domain_ok = !domain.contains('@')
            && domain.contains('.')
            && domain.split('.').all(|label| !label.is_empty());
        if local.is_empty() || !domain_ok {
            return Err(InvalidEmail);
        }
        Ok(Self(normalised))
    }

    /// The normalised address.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_case_and_whitespace() {
        let email = Email::parse("  Ann.Lee@Example.COM ").map(|e| e.as_str().to_owned());
        assert_eq!(email, Ok("ann.lee@example.com".to_owned()));
    }

    #[test]
    fn rejects_malformed_addresses() {
        for raw in [
            "",
            "ann",
            "ann@",
            "@example.com",
            "ann@example",
            "ann@@example.com",
            "ann@example..com",
            "an n@example.com",
            "ann@example.com.",
        ] {
            assert_eq!(Email::parse(raw), Err(InvalidEmail), "{raw:?}");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert_eq!(Email::parse(&long), Err(InvalidEmail));
    }
}
