//! The reservation state machine: pending → confirmed → cancelled, pending → cancelled.
//! Owners act only while pending; admins may also edit or cancel a confirmed reservation.

use std::fmt;
use std::str::FromStr;
use thiserror::Error;

/// Where a reservation is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReservationStatus {
    /// Requested; uses no capacity.
    Pending,
    /// Accepted by an admin; its headcount is counted in every covered hour.
    Confirmed,
    /// Withdrawn; terminal.
    Cancelled,
}

impl ReservationStatus {
    /// Stable lowercase name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Confirmed => "confirmed",
            Self::Cancelled => "cancelled",
        }
    }
}

impl FromStr for ReservationStatus {
    type Err = ();

    /// Accepts the source system's `accepted` as an alias of `confirmed`.
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "pending" => Ok(Self::Pending),
            "confirmed" | "accepted" => Ok(Self::Confirmed),
            "cancelled" => Ok(Self::Cancelled),
            _ => Err(()),
        }
    }
}

impl fmt::Display for ReservationStatus {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// Who acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// The user who made the reservation.
    Owner,
    /// An administrator.
    Admin,
}

impl Actor {
    /// As a refusal names who was refused: "by its owner".
    const fn by(self) -> &'static str {
        match self {
            Self::Owner => "by its owner",
            Self::Admin => "by an administrator",
        }
    }
}

/// What is attempted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReservationAction {
    /// Change range or headcount.
    Edit,
    /// Accept (admins only).
    Confirm,
    /// Withdraw.
    Cancel,
}

impl ReservationAction {
    /// As a refusal names what was refused: "cancelled".
    const fn done(self) -> &'static str {
        match self {
            Self::Edit => "edited",
            Self::Confirm => "confirmed",
            Self::Cancel => "cancelled",
        }
    }
}

/// The outcome of a legal action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// The reservation moves to (or stays in, for an edit) this status.
    To(ReservationStatus),
    /// Nothing to do (cancelling a cancelled reservation).
    Unchanged,
}

/// An illegal action, naming where it started. Its text is an API error detail, so it reads as a
/// sentence: "a confirmed reservation cannot be cancelled by its owner".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("a {from} reservation cannot be {} {}", .action.done(), .actor.by())]
pub struct TransitionError {
    /// The current status.
    pub from: ReservationStatus,
    /// The attempted action.
    pub action: ReservationAction,
    /// Who attempted it.
    pub actor: Actor,
}

impl TransitionError {
    /// Stable code: `not_pending`, or `reservation_cancelled` for an admin editing a cancelled one.
    #[must_use]
    pub const fn code(&self) -> &'static str {
        match (self.actor, self.from) {
            (Actor::Admin, ReservationStatus::Cancelled)
                if matches!(self.action, ReservationAction::Edit) =>
            {
                "reservation_cancelled"
            }
            _ => "not_pending",
        }
    }
}

impl ReservationStatus {
    /// Applies the transition table.
    ///
    /// # Errors
    /// [`TransitionError`] for an illegal action.
    pub const fn apply(
        self,
        action: ReservationAction,
        actor: Actor,
    ) -> Result<Transition, TransitionError> {
        use ReservationAction::{Cancel, Confirm, Edit};
        use ReservationStatus::{Cancelled, Confirmed, Pending};
        match (self, action, actor) {
            (Pending, Edit, _) => Ok(Transition::To(Pending)),
            (Confirmed, Edit, Actor::Admin) => Ok(Transition::To(Confirmed)),
            (Pending, Confirm, Actor::Admin) => Ok(Transition::To(Confirmed)),
            (Pending, Cancel, _) | (Confirmed, Cancel, Actor::Admin) => {
                Ok(Transition::To(Cancelled))
            }
            (Cancelled, Cancel, _) => Ok(Transition::Unchanged),
            (Confirmed | Cancelled, Edit | Cancel | Confirm, _)
            | (Pending, Confirm, Actor::Owner) => Err(TransitionError {
                from: self,
                action,
                actor,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ReservationAction::{Cancel, Confirm, Edit};
    use ReservationStatus::{Cancelled, Confirmed, Pending};

    #[test]
    fn every_cell_of_the_table() {
        let legal = |from: ReservationStatus, action, actor| from.apply(action, actor).ok();
        for actor in [Actor::Owner, Actor::Admin] {
            assert_eq!(legal(Pending, Edit, actor), Some(Transition::To(Pending)));
            assert_eq!(
                legal(Pending, Cancel, actor),
                Some(Transition::To(Cancelled))
            );
            assert_eq!(legal(Cancelled, Cancel, actor), Some(Transition::Unchanged));
            assert_eq!(legal(Cancelled, Edit, actor), None);
            assert_eq!(legal(Cancelled, Confirm, actor), None);
            assert_eq!(legal(Confirmed, Confirm, actor), None);
        }
        assert_eq!(
            legal(Pending, Confirm, Actor::Admin),
            Some(Transition::To(Confirmed))
        );
        assert_eq!(legal(Pending, Confirm, Actor::Owner), None);
        assert_eq!(
            legal(Confirmed, Edit, Actor::Admin),
            Some(Transition::To(Confirmed))
        );
        assert_eq!(legal(Confirmed, Edit, Actor::Owner), None);
        assert_eq!(
            legal(Confirmed, Cancel, Actor::Admin),
            Some(Transition::To(Cancelled))
        );
        assert_eq!(legal(Confirmed, Cancel, Actor::Owner), None);
    }

    #[test]
    fn errors_name_from_and_action_with_stable_codes() {
        let error = Confirmed.apply(Edit, Actor::Owner).expect_err("illegal");
        assert_eq!(
            (error.from, error.action, error.code()),
            (Confirmed, Edit, "not_pending")
        );
        assert_eq!(
            Confirmed
                .apply(Confirm, Actor::Admin)
                .err()
                .map(|e| e.code()),
            Some("not_pending")
        );
        assert_eq!(
            Cancelled.apply(Edit, Actor::Admin).err().map(|e| e.code()),
            Some("reservation_cancelled")
        );
        assert!(error.to_string().contains("confirmed"));
    }

    #[test]
    fn refusals_read_as_sentences() {
        let refusal = |from: ReservationStatus, action, actor| {
            from.apply(action, actor)
                .err()
                .map(|error| error.to_string())
        };
        assert_eq!(
            refusal(Confirmed, Cancel, Actor::Owner).as_deref(),
            Some("a confirmed reservation cannot be cancelled by its owner")
        );
        assert_eq!(
            refusal(Confirmed, Edit, Actor::Owner).as_deref(),
            Some("a confirmed reservation cannot be edited by its owner")
        );
        assert_eq!(
            refusal(Pending, Confirm, Actor::Owner).as_deref(),
            Some("a pending reservation cannot be confirmed by its owner")
        );
        assert_eq!(
            refusal(Cancelled, Edit, Actor::Admin).as_deref(),
            Some("a cancelled reservation cannot be edited by an administrator")
        );
    }

    #[test]
    fn status_names_and_the_accepted_alias() {
        for status in [Pending, Confirmed, Cancelled] {
            assert_eq!(status.as_str().parse(), Ok(status));
        }
        assert_eq!("accepted".parse(), Ok(Confirmed));
        assert!("approved".parse::<ReservationStatus>().is_err());
    }
}
