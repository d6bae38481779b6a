//! Paying for a hold from the wallet: the owner, with their active token. The payment's transfer
//! id is derived from the hold, so a hold is paid at most once whatever retries happen; on
//! success the queue token is finished, letting the next user in.

use super::queue::{QueueAccessError, parse_token};
use super::{Tickets, room_update_failed};
use crate::accounts::Principal;
use crate::ports::tickets::{PayError, PayHold};
use crate::{DependencyError, ErrorClass, UseCaseError};
use reserva_domain::tickets::{Booking, BookingId, HoldId};
use reserva_domain::wallet::TransferId;
use thiserror::Error;

/// Why a hold could not be paid.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PayHoldError {
    /// The queue token does not let the caller through.
    #[error(transparent)]
    Queue(#[from] QueueAccessError),
    /// No such hold, or someone else's.
    #[error("hold not found")]
    NotFound,
    /// The hold expired or was released.
    #[error("hold expired")]
    Expired,
    /// Already paid: this is the booking.
    #[error("hold already paid")]
    AlreadyPaid(Box<Booking>),
    /// The performance was cancelled or has started.
    #[error("performance is not on sale")]
    NotOnSale,
    /// The wallet holds less than the price.
    #[error("insufficient balance")]
    InsufficientBalance,
    /// A dependency failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

impl UseCaseError for PayHoldError {
    fn class(&self) -> ErrorClass {
        match self {
            Self::Queue(error) => error.class(),
            Self::NotFound => ErrorClass::NotFound,
            Self::Expired | Self::AlreadyPaid(_) | Self::NotOnSale | Self::InsufficientBalance => {
                ErrorClass::Conflict
            }
            Self::Dependency(error) => error.class(),
        }
    }
    fn code(&self) -> &'static str {
        match self {
            Self::Queue(error) => error.code(),
            Self::NotFound => "not_found",
            Self::Expired => "hold_expired",
            Self::AlreadyPaid(_) => "hold_already_paid",
            Self::NotOnSale => "not_on_sale",
            Self::InsufficientBalance => "insufficient_balance",
            Self::Dependency(error) => error.code(),
        }
    }
    fn resource_id(&self) -> Option<String> {
        match self {
            Self::AlreadyPaid(booking) => Some(booking.id.to_string()),
            _ => None,
        }
    }
}

/// The id of the payment for `hold`: the same for every attempt, so the ledger refuses a second.
#[must_use]
pub fn payment_transfer_id(hold: HoldId) -> TransferId {
    TransferId::derive("payment", hold.as_uuid(), "")
}

impl Tickets {
    /// Pays for the caller's live hold: the booking is made, the seat sold, the token finished.
    ///
    /// # Errors
    /// `Queue`, `NotFound`, `Expired`, `AlreadyPaid` (with the booking), `NotOnSale`,
    /// `InsufficientBalance`, `Dependency`.
    #[tracing::instrument(skip_all, fields(user_id = %principal.user_id, hold_id = %id))]
    pub async fn pay_hold(
        &self,
        principal: &Principal,
        token: Option<&str>,
        id: HoldId,
    ) -> Result<Booking, PayHoldError> {
        let token = parse_token(token)?;
        let hold = self
            .ports
            .holds
            .find_hold(id)
            .await?
            .filter(|hold| hold.user_id == principal.user_id)
            .ok_or(PayHoldError::NotFound)?;
        self.require_active(principal, &token, hold.concert_id)
            .await?;
        let payment = PayHold {
            hold_id: id,
            user_id: principal.user_id,
            booking_id: BookingId::from_uuid(uuid::Uuid::now_v7()),
            transfer_id: payment_transfer_id(id),
            now: self.now(),
        };
        let booking = self
            .ports
            .holds
            .pay_hold(payment)
            .await
            .map_err(|error| match error {
                PayError::NotFound => PayHoldError::NotFound,
                PayError::Expired => PayHoldError::Expired,
                PayError::AlreadyPaid(booking) => PayHoldError::AlreadyPaid(booking),
                PayError::NotOnSale => PayHoldError::NotOnSale,
                PayError::InsufficientBalance => PayHoldError::InsufficientBalance,
                PayError::Dependency(error) => error.into(),
            })?;
        let room = &self.ports.room;
        if let Err(error) = room.sale_recorded(booking.concert_id, id).await {
            room_update_failed("sale_recorded", booking.concert_id, &error);
        }
        let finished = room
            .finish(&token, principal.user_id, self.now(), self.room_rules())
            .await;
        if let Err(error) = finished {
            room_update_failed("finish", booking.concert_id, &error);
        }
        Ok(booking)
    }
}
