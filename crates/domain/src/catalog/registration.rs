//! Registrations: applied (tests) or enrolled (courses) when paid, then completed, or cancelled
//! when their payment is refunded. At most one registration per user and item is live (not
//! cancelled); a cancelled one stays as history, and the user may register again.

use super::{ItemId, ItemKind, RegistrationId};
use crate::accounts::UserId;
use crate::wallet::PaymentId;
use chrono::{DateTime, Utc};
use thiserror::Error;

/// Where a registration stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RegistrationStatus {
    /// Paid for a test.
    Applied,
    /// Paid for a course.
    Enrolled,
    /// Done; can no longer be cancelled.
    Completed,
    /// Its payment was refunded.
    Cancelled,
}

/// Why a registration cannot be completed (rule R11).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum CompleteRefusal {
    /// It already is.
    #[error("the registration is already completed")]
    AlreadyCompleted,
    /// It was cancelled.
    #[error("the registration was cancelled")]
    Cancelled,
}

impl CompleteRefusal {
    /// Stable code for clients.
    #[must_use]
    pub const fn code(self) -> &'static str {
        match self {
            Self::AlreadyCompleted => "already_completed",
            Self::Cancelled => "registration_cancelled",
        }
    }
}

/// Why a registration's payment cannot be cancelled (rule R12, ambiguity A10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum CancelRefusal {
    /// Completed registrations are not refunded.
    #[error("a completed registration cannot be cancelled")]
    Completed,
    /// It already was.
    #[error("the payment is already cancelled")]
    AlreadyCancelled,
}

impl CancelRefusal {
    /// Stable code for clients.
    #[must_use]
    pub const fn code(self) -> &'static str {
        match self {
            Self::Completed => "registration_completed",
            Self::AlreadyCancelled => "already_cancelled",
        }
    }
}

impl RegistrationStatus {
    /// The status a paid registration starts in: `applied` for a test, `enrolled` for a course.
    #[must_use]
    pub const fn initial(kind: ItemKind) -> Self {
        match kind {
            ItemKind::Test => Self::Applied,
            ItemKind::Course => Self::Enrolled,
        }
    }

    /// `applied`, `enrolled`, `completed` or `cancelled`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Applied => "applied",
            Self::Enrolled => "enrolled",
            Self::Completed => "completed",
            Self::Cancelled => "cancelled",
        }
    }

    /// Reads a stored name back.
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        [
            Self::Applied,
            Self::Enrolled,
            Self::Completed,
            Self::Cancelled,
        ]
        .into_iter()
        .find(|status| status.as_str() == name)
    }

    /// Whether it holds the user's one place for the item (everything but `cancelled`); the
    /// item's `registration_count` counts exactly these.
    #[must_use]
    pub const fn is_live(self) -> bool {
        !matches!(self, Self::Cancelled)
    }

    /// The status after completing.
    ///
    /// # Errors
    /// [`CompleteRefusal`] from `completed` or `cancelled`.
    pub const fn complete(self) -> Result<Self, CompleteRefusal> {
        match self {
            Self::Applied | Self::Enrolled => Ok(Self::Completed),
            Self::Completed => Err(CompleteRefusal::AlreadyCompleted),
            Self::Cancelled => Err(CompleteRefusal::Cancelled),
        }
    }

    /// The status after its payment is cancelled.
    ///
    /// # Errors
    /// [`CancelRefusal`] from `completed` or `cancelled`.
    pub const fn cancel(self) -> Result<Self, CancelRefusal> {
        match self {
            Self::Applied | Self::Enrolled => Ok(Self::Cancelled),
            Self::Completed => Err(CancelRefusal::Completed),
            Self::Cancelled => Err(CancelRefusal::AlreadyCancelled),
        }
    }
}

/// A registration for a test or a course.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    /// Its id.
    pub id: RegistrationId,
    /// Whose.
    pub user_id: UserId,
    /// For what.
    pub item_id: ItemId,
    /// Test or course.
    pub kind: ItemKind,
    /// Where it stands.
    pub status: RegistrationStatus,
    /// The payment it was made with.
    pub payment_id: PaymentId,
    /// When it was made (its payment confirmed).
    pub registered_at: DateTime<Utc>,
    /// When it was completed.
    pub completed_at: Option<DateTime<Utc>>,
    /// When it was cancelled.
    pub cancelled_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use RegistrationStatus::{Applied, Cancelled, Completed, Enrolled};

    #[test]
    fn paid_registrations_start_by_kind() {
        assert_eq!(RegistrationStatus::initial(ItemKind::Test), Applied);
        assert_eq!(RegistrationStatus::initial(ItemKind::Course), Enrolled);
    }

    #[test]
    fn the_transition_table() {
        assert_eq!(Applied.complete(), Ok(Completed));
        assert_eq!(Enrolled.complete(), Ok(Completed));
        assert_eq!(Completed.complete(), Err(CompleteRefusal::AlreadyCompleted));
        assert_eq!(Cancelled.complete(), Err(CompleteRefusal::Cancelled));
        assert_eq!(Applied.cancel(), Ok(Cancelled));
        assert_eq!(Enrolled.cancel(), Ok(Cancelled));
        assert_eq!(Completed.cancel(), Err(CancelRefusal::Completed));
        assert_eq!(Cancelled.cancel(), Err(CancelRefusal::AlreadyCancelled));
    }

    #[test]
    fn only_cancelled_is_not_live_and_names_round_trip() {
        for status in [Applied, Enrolled, Completed, Cancelled] {
            assert_eq!(RegistrationStatus::parse(status.as_str()), Some(status));
            assert_eq!(status.is_live(), status != Cancelled);
        }
        assert_eq!(RegistrationStatus::parse("refunded"), None);
    }
}
