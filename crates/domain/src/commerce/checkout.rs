//! Two-phase checkout: a payment at the provider is made *ready* (the provider gives an
//! approval address), the user approves (or cancels) there, and the provider calls back with the
//! result. [`CheckoutStatus::transition`] is the payment's state table, [`on_callback`] decides
//! what a callback does, [`may_refund`] is the 7-day refund window, [`ReceiptNumber`] names a
//! receipt.

use super::{CheckoutId, OrderStatus};
use crate::wallet::PaymentMethod;
use chrono::{DateTime, Duration, Utc};
use thiserror::Error;

/// How long a ready payment waits for the user's approval before the sweep expires it.
pub const CHECKOUT_TTL: Duration = Duration::minutes(15);

/// How long after payment an order may be refunded.
pub const REFUND_WINDOW: Duration = Duration::days(7);

/// When a payment made ready at `now` expires.
#[must_use]
pub fn checkout_expires_at(now: DateTime<Utc>) -> DateTime<Utc> {
    now + CHECKOUT_TTL
}

/// Whether an order paid at `paid_at` may still be refunded at `now`: `now ≤ paid_at + 7 days`
/// (the end is included).
#[must_use]
pub fn may_refund(paid_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now <= paid_at + REFUND_WINDOW
}

/// How long the sweep waits before it tries again a provider call (a refund, the lookup of an
/// overdue payment) that failed `attempts` times: 30 s, doubling, at most an hour.
#[must_use]
pub fn retry_delay(attempts: u32) -> Duration {
    let first = Duration::seconds(30);
    let most = Duration::hours(1);
    first
        .checked_mul(1_i32 << attempts.min(7))
        .map_or(most, |delay| delay.min(most))
}

/// The wallet is not a checkout method: checkout goes through the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("checkout takes card, kakaopay or bank_transfer")]
pub struct NotACheckoutMethod;

/// `method` if the provider takes it at checkout (card, kakaopay, bank transfer).
///
/// # Errors
/// [`NotACheckoutMethod`] for the wallet.
pub const fn checkout_method(method: PaymentMethod) -> Result<PaymentMethod, NotACheckoutMethod> {
    match method {
        PaymentMethod::Card | PaymentMethod::Kakaopay | PaymentMethod::BankTransfer => Ok(method),
        PaymentMethod::Wallet => Err(NotACheckoutMethod),
    }
}

/// Where a checkout payment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CheckoutStatus {
    /// At the provider, waiting for the user; at most one per order.
    Ready,
    /// Approved: the order is paid.
    Paid,
    /// The provider refused it (the order stays pending: the user may check out again).
    Failed,
    /// The user cancelled at the provider (or its order was cancelled before the approval).
    Cancelled,
    /// Nobody approved it within [`CHECKOUT_TTL`].
    Expired,
    /// A newer checkout of the same order replaced it.
    Superseded,
    /// Paid, then refunded.
    Refunded,
}

/// A status change the table does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("a checkout cannot go from {from:?} to {to:?}")]
pub struct CheckoutTransition {
    /// The current status.
    pub from: CheckoutStatus,
    /// The one asked for.
    pub to: CheckoutStatus,
}

impl CheckoutStatus {
    /// Every status.
    pub const ALL: [Self; 7] = [
        Self::Ready,
        Self::Paid,
        Self::Failed,
        Self::Cancelled,
        Self::Expired,
        Self::Superseded,
        Self::Refunded,
    ];

    /// The stored and shown name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Ready => "ready",
            Self::Paid => "paid",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
            Self::Expired => "expired",
            Self::Superseded => "superseded",
            Self::Refunded => "refunded",
        }
    }

    /// Reads a stored or sent name back.
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == name)
    }

    /// The table: ready → paid | failed | cancelled | expired | superseded; paid → refunded.
    /// Nothing else (the same status included).
    ///
    /// # Errors
    /// [`CheckoutTransition`] for any other change.
    pub const fn transition(self, to: Self) -> Result<Self, CheckoutTransition> {
        match (self, to) {
            (
                Self::Ready,
                Self::Paid | Self::Failed | Self::Cancelled | Self::Expired | Self::Superseded,
            )
            | (Self::Paid, Self::Refunded) => Ok(to),
            _ => Err(CheckoutTransition { from: self, to }),
        }
    }
}

/// Whether money taken at the provider is owed back to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RefundState {
    /// Nothing to give back.
    NotDue,
    /// A refund is owed (the ledger already says so) and the provider has not confirmed it yet;
    /// the sweep retries it.
    Pending,
    /// The provider confirmed the refund.
    Done,
}

impl RefundState {
    /// Every state.
    pub const ALL: [Self; 3] = [Self::NotDue, Self::Pending, Self::Done];

    /// `not_due`, `pending` or `done`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::NotDue => "not_due",
            Self::Pending => "pending",
            Self::Done => "done",
        }
    }

    /// Reads a stored name back.
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|state| state.as_str() == name)
    }
}

/// What the provider says happened to a ready payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallbackResult {
    /// The user approved and the money was taken.
    Approved,
    /// The user cancelled.
    Cancelled,
    /// The provider refused the payment.
    Failed,
}

impl CallbackResult {
    /// Every result.
    pub const ALL: [Self; 3] = [Self::Approved, Self::Cancelled, Self::Failed];

    /// `approved`, `cancelled` or `failed`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Approved => "approved",
            Self::Cancelled => "cancelled",
            Self::Failed => "failed",
        }
    }

    /// Reads a sent or stored name back.
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|result| result.as_str() == name)
    }
}

/// What one callback does. Every effect but [`CallbackEffect::Replay`] also records the result
/// on the payment (so the next delivery of any callback for it is a replay).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallbackEffect {
    /// A result is already recorded: nothing changes, the answer is the first one's.
    Replay,
    /// Payment ready → paid, order pending → paid, access to each of its courses for
    /// `ACCESS_DAYS`, ledger transfer `provider_<method>` → `commerce_revenue`.
    Pay,
    /// Payment ready → cancelled; with `order_too` (its order still pending) order pending →
    /// cancelled as well (SOURCES §5.5).
    Cancel {
        /// The order is cancelled with it.
        order_too: bool,
    },
    /// Payment ready → failed; the order is left as it is (the user may check out again).
    Fail,
    /// Money was taken for a payment that can no longer pay its order (superseded, expired,
    /// cancelled, failed, or its order no longer pending): both ledger transfers are posted at
    /// once (provider → revenue, revenue → provider, so the ledger stays balanced) and refund
    /// becomes `pending`, the obligation the use case then carries out at the provider.
    /// With `close_payment` (the payment was still ready) it becomes cancelled; otherwise its
    /// status stays.
    RefundAutomatically {
        /// The payment was still ready: ready → cancelled.
        close_payment: bool,
    },
    /// Cancelled or failed for a payment no longer ready: recorded, nothing else.
    Ignore,
}

/// Decides what a callback with `result` does to a payment in `payment` whose order is in
/// `order`, when `recorded` is the result already recorded on it (if any).
#[must_use]
pub const fn on_callback(
    payment: CheckoutStatus,
    order: OrderStatus,
    recorded: Option<CallbackResult>,
    result: CallbackResult,
) -> CallbackEffect {
    // A result already recorded makes this a replay — unless this one says the money was taken
    // and the recorded one did not (a provider that lets the user try again after a decline):
    // that approval is money the service must hear of, so it is not dropped.
    match recorded {
        Some(CallbackResult::Approved) => return CallbackEffect::Replay,
        Some(CallbackResult::Cancelled | CallbackResult::Failed)
            if !matches!(result, CallbackResult::Approved) =>
        {
            return CallbackEffect::Replay;
        }
        Some(_) | None => {}
    }
    let pending = matches!(order, OrderStatus::Pending);
    match (payment, result) {
        (CheckoutStatus::Ready, CallbackResult::Approved) if pending => CallbackEffect::Pay,
        (CheckoutStatus::Ready, CallbackResult::Approved) => CallbackEffect::RefundAutomatically {
            close_payment: true,
        },
        (CheckoutStatus::Ready, CallbackResult::Cancelled) => {
            CallbackEffect::Cancel { order_too: pending }
        }
        (CheckoutStatus::Ready, CallbackResult::Failed) => CallbackEffect::Fail,
        // Approved without a recorded result yet no longer ready: it cannot be paid nor
        // refunded (those need a recorded approval), so it is superseded, expired, cancelled
        // or failed — the money goes back.
        (
            CheckoutStatus::Paid
            | CheckoutStatus::Refunded
            | CheckoutStatus::Failed
            | CheckoutStatus::Cancelled
            | CheckoutStatus::Expired
            | CheckoutStatus::Superseded,
            CallbackResult::Approved,
        ) => CallbackEffect::RefundAutomatically {
            close_payment: false,
        },
        (_, CallbackResult::Cancelled | CallbackResult::Failed) => CallbackEffect::Ignore,
    }
}

/// A receipt's number: `REC-` and the payment id as 32 upper-case hex digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ReceiptNumber(String);

impl ReceiptNumber {
    /// The number of the receipt of payment `id`.
    #[must_use]
    pub fn of(id: CheckoutId) -> Self {
        Self(format!(
            "REC-{}",
            id.as_uuid()
                .simple()
                .encode_upper(&mut uuid::Uuid::encode_buffer())
        ))
    }

    /// The text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ReceiptNumber {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn paid_at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 1, 9, 30, 0)
            .single()
            .unwrap_or_default()
    }

    #[test]
    fn the_refund_window_is_seven_days_end_included() {
        let paid = paid_at();
        assert!(may_refund(paid, paid));
        assert!(may_refund(
            paid,
            paid + Duration::days(7) - Duration::minutes(1)
        ));
        assert!(may_refund(paid, paid + Duration::days(7)));
        assert!(!may_refund(
            paid,
            paid + Duration::days(7) + Duration::minutes(1)
        ));
    }

    #[test]
    fn a_checkout_expires_after_fifteen_minutes() {
        let now = paid_at();
        assert_eq!(checkout_expires_at(now), now + Duration::minutes(15));
    }

    #[test]
    fn the_wallet_is_not_a_checkout_method() {
        assert_eq!(
            checkout_method(PaymentMethod::Wallet),
            Err(NotACheckoutMethod)
        );
        for method in [
            PaymentMethod::Card,
            PaymentMethod::Kakaopay,
            PaymentMethod::BankTransfer,
        ] {
            assert_eq!(checkout_method(method), Ok(method));
        }
    }

    #[test]
    fn the_transition_table() {
        use CheckoutStatus::{Cancelled, Expired, Failed, Paid, Ready, Refunded, Superseded};
        let allowed = [
            (Ready, Paid),
            (Ready, Failed),
            (Ready, Cancelled),
            (Ready, Expired),
            (Ready, Superseded),
            (Paid, Refunded),
        ];
        for from in CheckoutStatus::ALL {
            for to in CheckoutStatus::ALL {
                let outcome = from.transition(to);
                if allowed.contains(&(from, to)) {
                    assert_eq!(outcome, Ok(to));
                } else {
                    assert_eq!(
                        outcome,
                        Err(CheckoutTransition { from, to }),
                        "{from:?} → {to:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn names_round_trip() {
        for status in CheckoutStatus::ALL {
            assert_eq!(CheckoutStatus::parse(status.as_str()), Some(status));
        }
        for state in RefundState::ALL {
            assert_eq!(RefundState::parse(state.as_str()), Some(state));
        }
        for result in CallbackResult::ALL {
            assert_eq!(CallbackResult::parse(result.as_str()), Some(result));
        }
        assert_eq!(CheckoutStatus::parse("pending"), None);
        assert_eq!(RefundState::parse("PENDING"), None);
        assert_eq!(CallbackResult::parse("success"), None);
    }

    #[test]
    fn a_recorded_result_makes_a_callback_a_replay_unless_an_approval_follows_a_refusal() {
        for payment in CheckoutStatus::ALL {
            for order in OrderStatus::ALL {
                for recorded in CallbackResult::ALL {
                    for result in CallbackResult::ALL {
                        let effect = on_callback(payment, order, Some(recorded), result);
                        let money_after_refusal = recorded != CallbackResult::Approved
                            && result == CallbackResult::Approved;
                        if money_after_refusal && payment != CheckoutStatus::Ready {
                            assert_eq!(
                                effect,
                                CallbackEffect::RefundAutomatically {
                                    close_payment: false
                                },
                                "{payment:?} {order:?} {recorded:?}"
                            );
                        } else if !money_after_refusal {
                            assert_eq!(effect, CallbackEffect::Replay);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn retries_back_off_from_thirty_seconds_to_an_hour() {
        assert_eq!(retry_delay(0), Duration::seconds(30));
        assert_eq!(retry_delay(1), Duration::seconds(60));
        assert_eq!(retry_delay(6), Duration::seconds(1920));
        assert_eq!(retry_delay(7), Duration::hours(1));
        assert_eq!(retry_delay(u32::MAX), Duration::hours(1));
    }

    #[test]
    fn a_ready_payment_follows_its_result() {
        use CallbackResult::{Approved, Cancelled, Failed};
        let ready = CheckoutStatus::Ready;
        let pending = OrderStatus::Pending;
        assert_eq!(
            on_callback(ready, pending, None, Approved),
            CallbackEffect::Pay
        );
        assert_eq!(
            on_callback(ready, pending, None, Cancelled),
            CallbackEffect::Cancel { order_too: true }
        );
        assert_eq!(
            on_callback(ready, pending, None, Failed),
            CallbackEffect::Fail
        );
        for order in [
            OrderStatus::Cancelled,
            OrderStatus::Failed,
            OrderStatus::Paid,
        ] {
            assert_eq!(
                on_callback(ready, order, None, Approved),
                CallbackEffect::RefundAutomatically {
                    close_payment: true
                },
                "{order:?}"
            );
            assert_eq!(
                on_callback(ready, order, None, Cancelled),
                CallbackEffect::Cancel { order_too: false }
            );
            assert_eq!(
                on_callback(ready, order, None, Failed),
                CallbackEffect::Fail
            );
        }
    }

    #[test]
    fn an_approval_for_a_closed_payment_is_refunded_and_the_rest_ignored() {
        use CheckoutStatus::{Cancelled, Expired, Failed, Superseded};
        for payment in [Superseded, Expired, Cancelled, Failed] {
            for order in OrderStatus::ALL {
                assert_eq!(
                    on_callback(payment, order, None, CallbackResult::Approved),
                    CallbackEffect::RefundAutomatically {
                        close_payment: false
                    }
                );
                for result in [CallbackResult::Cancelled, CallbackResult::Failed] {
                    assert_eq!(
                        on_callback(payment, order, None, result),
                        CallbackEffect::Ignore
                    );
                }
            }
        }
    }

    #[test]
    fn a_receipt_number_is_the_id_in_upper_hex() {
        let id = CheckoutId::from_uuid(
            uuid::Uuid::parse_str("0193a4f2-7c1e-7d3a-9b2c-1f2e3d4c5b6a").unwrap_or_default(),
        );
        let number = ReceiptNumber::of(id);
        assert_eq!(number.as_str(), "REC-0193A4F27C1E7D3A9B2C1F2E3D4C5B6A");
        assert_eq!(number.to_string().len(), 36);
    }
}
