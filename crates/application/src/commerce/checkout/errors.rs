//! The error enums of the checkout use cases, with their classes and stable codes.

use crate::{DependencyError, ErrorClass, FieldViolation, UseCaseError};
use reserva_domain::commerce::CheckoutId;
use thiserror::Error;

/// Why a checkout was not made.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CheckOutError {
    /// The method is the wallet, or the total is outside the method's limits (field
    /// `payment_method`: `method_not_allowed`, `amount_outside_method_limits`).
    #[error("invalid checkout")]
    Invalid(Vec<FieldViolation>),
    /// No such order of the caller's.
    #[error("no such order")]
    NotFound,
    /// The order is not pending.
    #[error("the order is not pending")]
    NotPending,
    /// The order's total is over the limit.
    #[error("the order's total {total} is over the limit")]
    TotalExceeded {
        /// The total.
        total: i64,
    },
    /// Another checkout of the same order, opened at the same time, replaced this one before
    /// the provider's answer was stored: the caller is not sent to approve a payment that
    /// could only be refunded.
    #[error("a newer checkout of the order replaced this one")]
    Superseded,
    /// The billing address is not one of the caller's.
    #[error("unknown billing address")]
    UnknownBillingAddress,
    /// The provider declined at ready: nothing will be taken; the order stays pending.
    #[error("the payment provider declined: {reason}")]
    Declined {
        /// The provider's reason.
        reason: String,
    },
    /// The provider did not answer (or could not be reached): no payment is open; the order
    /// stays pending and may be checked out again.
    #[error("the payment provider is unavailable")]
    ProviderUnavailable,
    /// A dependency failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

impl UseCaseError for CheckOutError {
    fn class(&self) -> ErrorClass {
        match self {
            Self::Invalid(_) => ErrorClass::InvalidInput,
            Self::NotFound | Self::UnknownBillingAddress => ErrorClass::NotFound,
            Self::NotPending | Self::Superseded | Self::TotalExceeded { .. } => {
                ErrorClass::Conflict
            }
            Self::Declined { .. } => ErrorClass::PaymentDeclined,
            Self::ProviderUnavailable => ErrorClass::Unavailable,
            Self::Dependency(error) => error.class(),
        }
    }
    fn code(&self) -> &'static str {
        match self {
            Self::Invalid(_) => "validation_failed",
            Self::NotFound => "not_found",
            Self::UnknownBillingAddress => "unknown_billing_address",
            Self::NotPending => "order_not_pending",
            Self::Superseded => "checkout_superseded",
            Self::TotalExceeded { .. } => "order_total_exceeded",
            Self::Declined { .. } => "payment_declined",
            Self::ProviderUnavailable => "provider_unavailable",
            Self::Dependency(error) => error.code(),
        }
    }
    fn violations(&self) -> &[FieldViolation] {
        match self {
            Self::Invalid(violations) => violations,
            _ => &[],
        }
    }
}

/// Why a callback was refused (nothing changed).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CallbackError {
    /// No signature, a malformed one, or not ours.
    #[error("invalid callback signature")]
    InvalidSignature,
    /// A valid signature outside the five-minute tolerance.
    #[error("stale callback signature")]
    StaleSignature,
    /// Signed, but not a callback message.
    #[error("malformed callback: {0}")]
    Malformed(String),
    /// The body names another payment than the path.
    #[error("the callback's payment_id is not the path's")]
    IdMismatch,
    /// No such payment.
    #[error("no such payment")]
    NotFound,
    /// A dependency failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

impl UseCaseError for CallbackError {
    fn class(&self) -> ErrorClass {
        match self {
            Self::InvalidSignature | Self::StaleSignature => ErrorClass::Unauthenticated,
            Self::Malformed(_) | Self::IdMismatch => ErrorClass::InvalidInput,
            Self::NotFound => ErrorClass::NotFound,
            Self::Dependency(error) => error.class(),
        }
    }
    fn code(&self) -> &'static str {
        match self {
            Self::InvalidSignature => "invalid_signature",
            Self::StaleSignature => "stale_signature",
            Self::Malformed(_) => "malformed_callback",
            Self::IdMismatch => "payment_id_mismatch",
            Self::NotFound => "not_found",
            Self::Dependency(error) => error.code(),
        }
    }
}

/// Why a refund was refused (nothing changed).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RefundUseCaseError {
    /// No such order of the caller's.
    #[error("no such order")]
    NotFound,
    /// The order is not paid.
    #[error("the order is not paid")]
    NotPaid,
    /// Paid more than 7 days ago.
    #[error("the refund window (7 days from payment) has closed")]
    WindowClosed,
    /// A dependency failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

impl UseCaseError for RefundUseCaseError {
    fn class(&self) -> ErrorClass {
        match self {
            Self::NotFound => ErrorClass::NotFound,
            Self::NotPaid | Self::WindowClosed => ErrorClass::Conflict,
            Self::Dependency(error) => error.class(),
        }
    }
    fn code(&self) -> &'static str {
        match self {
            Self::NotFound => "not_found",
            Self::NotPaid => "order_not_paid",
            Self::WindowClosed => "refund_window_closed",
            Self::Dependency(error) => error.code(),
        }
    }
}

/// Why a receipt could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum GetReceiptError {
    /// No such receipt of the caller's.
    #[error("no such receipt")]
    NotFound,
    /// A dependency failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

impl UseCaseError for GetReceiptError {
    fn class(&self) -> ErrorClass {
        match self {
            Self::NotFound => ErrorClass::NotFound,
            Self::Dependency(error) => error.class(),
        }
    }
    fn code(&self) -> &'static str {
        match self {
            Self::NotFound => "not_found",
            Self::Dependency(error) => error.code(),
        }
    }
}

crate::error::dependency_only_error!(
    /// Why the receipts could not be listed.
    ListReceiptsError
);

crate::error::dependency_only_error!(
    /// Why a sweep could not list its work.
    SweepError
);

/// Why the simulated provider's action was not played through.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SimulateError {
    /// No simulated provider, no such payment, or another user's.
    #[error("no such payment")]
    NotFound,
    /// The payment is no longer ready at the provider.
    #[error("the payment is not ready")]
    NotReady,
    /// Its callback was refused or failed.
    #[error("the callback failed: {error}")]
    Callback {
        /// Why.
        error: CallbackError,
        /// The action took the money (an approval): a failure to record it is an unknown
        /// outcome, which the sweep resolves by asking the provider.
        money_moved: bool,
        /// The payment to look up.
        payment_id: CheckoutId,
    },
    /// A dependency failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

impl SimulateError {
    const fn lost_approval(&self) -> bool {
        matches!(
            self,
            Self::Callback {
                error: CallbackError::Dependency(_),
                money_moved: true,
                ..
            }
        )
    }
}

impl UseCaseError for SimulateError {
    fn class(&self) -> ErrorClass {
        if self.lost_approval() {
            return ErrorClass::OutcomeUnknown;
        }
        match self {
            Self::NotFound => ErrorClass::NotFound,
            Self::NotReady => ErrorClass::Conflict,
            Self::Callback { error, .. } => error.class(),
            Self::Dependency(error) => error.class(),
        }
    }
    fn code(&self) -> &'static str {
        if self.lost_approval() {
            return crate::OUTCOME_UNKNOWN;
        }
        match self {
            Self::NotFound => "not_found",
            Self::NotReady => "payment_not_ready",
            Self::Callback { error, .. } => error.code(),
            Self::Dependency(error) => error.code(),
        }
    }
    fn resource_id(&self) -> Option<String> {
        match self {
            Self::Callback { payment_id, .. } if self.lost_approval() => {
                Some(payment_id.to_string())
            }
            _ => None,
        }
    }
}
