//! Roles decide what a user may do: members book, tutors also manage their courses, admins everything.

use std::fmt;
use std::str::FromStr;
use thiserror::Error;

/// A user's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// An ordinary customer: books and pays for their own things.
    Member,
    /// Staff who manage their own courses.
    Tutor,
    /// Operators: manage users, confirm reservations, run the catalogue.
    Admin,
}

/// A role name that is not `member`, `tutor` or `admin`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("must be one of member, tutor, admin")]
pub struct UnknownRole;

impl Role {
    /// The stable lowercase name used in storage and the API.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Member => "member",
            Self::Tutor => "tutor",
            Self::Admin => "admin",
        }
    }

    /// Whether this role may use the administration endpoints.
    #[must_use]
    pub const fn is_admin(self) -> bool {
        matches!(self, Self::Admin)
    }
}

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "member" => Ok(Self::Member),
            "tutor" => Ok(Self::Tutor),
            "admin" => Ok(Self::Admin),
            _ => Err(UnknownRole),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_only_admin_administers() {
        for role in [Role::Member, Role::Tutor, Role::Admin] {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
            assert_eq!(role.is_admin(), role == Role::Admin);
        }
        assert_eq!("Admin".parse::<Role>(), Err(UnknownRole));
    }
}
