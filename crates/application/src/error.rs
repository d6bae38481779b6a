//! The vocabulary shared by every use case's error enum.

use thiserror::Error;

/// The problem code of [`DependencyError::Indeterminate`].
pub const OUTCOME_UNKNOWN: &str = "outcome_unknown";

/// A dependency (database, shared state, hasher) failed. Adapters decide which variant applies.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DependencyError {
    /// The dependency cannot be reached or is saturated (pool exhausted, timeout): try again later.
    #[error("dependency unavailable: {0}")]
    Unavailable(String),
    /// The dependency answered with something that should never happen: a bug or a broken schema.
    #[error("dependency failed: {0}")]
    Failed(String),
    /// A write was sent but its answer was lost (the batch carrying it overran its time or was
    /// dropped): it may or may not have taken effect. Retrying blindly could do it twice.
    #[error("dependency outcome unknown: {0}")]
    Indeterminate(String),
}

/// What kind of failure an error is, independent of transport. The HTTP adapter maps these to
/// status codes; a CLI maps them to exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// The input breaks a rule; [`UseCaseError::violations`] says which.
    InvalidInput,
    /// No valid credentials or token.
    Unauthenticated,
    /// Authenticated, but the role does not allow it.
    Forbidden,
    /// Absent, or not visible to the caller.
    NotFound,
    /// Conflicts with the current state (duplicate, wrong status, capacity).
    Conflict,
    /// Well-formed, but cannot be carried out as sent: an idempotency key (or a transfer id
    /// derived from one) that was already used for a different request.
    Unprocessable,
    /// The payment provider refused the payment (card declined, provider limit): nothing was
    /// charged and nothing registered.
    PaymentDeclined,
    /// Too many attempts; try again after this many seconds.
    RateLimited {
        /// Seconds until the limit resets.
        retry_after_seconds: u64,
    },
    /// A dependency is down; try again later.
    Unavailable,
    /// A write was sent but its answer was lost: it may or may not have taken effect, so a blind
    /// retry could do it twice. [`UseCaseError::resource_id`] names what to look up, if anything.
    OutcomeUnknown,
    /// A bug or broken dependency; details are logged, not shown.
    Internal,
}

impl DependencyError {
    /// [`ErrorClass::Unavailable`], [`ErrorClass::Internal`] or [`ErrorClass::OutcomeUnknown`].
    #[must_use]
    pub const fn class(&self) -> ErrorClass {
        match self {
            Self::Unavailable(_) => ErrorClass::Unavailable,
            Self::Failed(_) => ErrorClass::Internal,
            Self::Indeterminate(_) => ErrorClass::OutcomeUnknown,
        }
    }

    /// `service_unavailable`, `internal_error` or `outcome_unknown`.
    #[must_use]
    pub const fn code(&self) -> &'static str {
        match self {
            Self::Unavailable(_) => "service_unavailable",
            Self::Failed(_) => "internal_error",
            Self::Indeterminate(_) => OUTCOME_UNKNOWN,
        }
    }
}

/// One broken input rule, named by the request field it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    /// The request field, as the client spelled it (`password_confirm`).
    pub field: &'static str,
    /// A stable snake_case code (`password_too_short`).
    pub code: &'static str,
    /// A human-readable explanation.
    pub message: String,
}

impl FieldViolation {
    /// Builds a violation from a rule error that can be displayed.
    pub fn new(field: &'static str, code: &'static str, rule: impl std::fmt::Display) -> Self {
        Self {
            field,
            code,
            message: rule.to_string(),
        }
    }
}

/// Implemented by every use case's error enum.
pub trait UseCaseError: std::error::Error + Send + Sync + 'static {
    /// The kind of failure.
    fn class(&self) -> ErrorClass;
    /// A stable snake_case code clients can branch on (`email_taken`).
    fn code(&self) -> &'static str;
    /// The broken input rules, for [`ErrorClass::InvalidInput`].
    fn violations(&self) -> &[FieldViolation] {
        &[]
    }
    /// For an outcome that is unknown ([`ErrorClass::OutcomeUnknown`]): the id of what the request may have
    /// created, which the client can look up to learn whether it was.
    fn resource_id(&self) -> Option<String> {
        None
    }
}

/// Declares the error enum of a use case that can fail only because a dependency did (a read):
/// its own type, so its signature says what it is, without repeating the same twenty lines.
macro_rules! dependency_only_error {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
        pub enum $name {
            /// A dependency failed.
            #[error(transparent)]
            Dependency(#[from] $crate::DependencyError),
        }

        impl $crate::UseCaseError for $name {
            fn class(&self) -> $crate::ErrorClass {
                match self {
                    Self::Dependency(error) => error.class(),
                }
            }
            fn code(&self) -> &'static str {
                match self {
                    Self::Dependency(error) => error.code(),
                }
            }
        }
    };
}
pub(crate) use dependency_only_error;

/// Declares the error enum of a read whose input can also be refused (a list with filters): an
/// `Invalid` variant listing the broken fields (400 `validation_failed`) and a `Dependency` one.
macro_rules! invalid_or_dependency_error {
    ($(#[$meta:meta])* $name:ident, $(#[$invalid:meta])* $message:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
        pub enum $name {
            $(#[$invalid])*
            #[error($message)]
            Invalid(Vec<$crate::FieldViolation>),
            /// A dependency failed.
            #[error(transparent)]
            Dependency(#[from] $crate::DependencyError),
        }

        impl $crate::UseCaseError for $name {
            fn class(&self) -> $crate::ErrorClass {
                match self {
                    Self::Invalid(_) => $crate::ErrorClass::InvalidInput,
                    Self::Dependency(error) => error.class(),
                }
            }
            fn code(&self) -> &'static str {
                match self {
                    Self::Invalid(_) => "validation_failed",
                    Self::Dependency(error) => error.code(),
                }
            }
            fn violations(&self) -> &[$crate::FieldViolation] {
                match self {
                    Self::Invalid(violations) => violations,
                    Self::Dependency(_) => &[],
                }
            }
        }
    };
}
pub(crate) use invalid_or_dependency_error;

/// A failed dependency on its own (outside a use case, e.g. an idempotency record) is a 503 or
/// an opaque 500 like any other.
impl UseCaseError for DependencyError {
    fn class(&self) -> ErrorClass {
        Self::class(self)
    }
    fn code(&self) -> &'static str {
        Self::code(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lost_answer_is_its_own_class_not_an_outage() {
        let lost = DependencyError::Indeterminate("connection closed".into());
        assert_eq!(
            (lost.class(), lost.code()),
            (ErrorClass::OutcomeUnknown, OUTCOME_UNKNOWN)
        );
        let down = DependencyError::Unavailable("pool exhausted".into());
        assert_eq!(down.class(), ErrorClass::Unavailable);
        let broken = DependencyError::Failed("bad row".into());
        assert_eq!(broken.class(), ErrorClass::Internal);
    }
}
