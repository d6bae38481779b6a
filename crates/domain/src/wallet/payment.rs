//! Payments for catalog registrations (and later commerce): by card, KakaoPay or bank transfer
//! through the payment gateway, or from the wallet. A payment id doubles as the idempotency key
//! at the provider, so asking twice never charges twice.

use super::Money;
use crate::accounts::UserId;
use crate::catalog::{ItemId, ItemKind};
use chrono::{DateTime, Utc};
use thiserror::Error;
use uuid::Uuid;

typed_id!(
    /// Identifies a payment; also its idempotency key at the payment provider.
    PaymentId
);

/// The namespace of derived payment ids (fixed: changing it would let a retry pay twice).
const PAYMENT_NAMESPACE: Uuid = Uuid::from_u128(0x2b9e_7c41_8d0a_4f6e_b3c5_19a7_e2d4_6f80);

impl PaymentId {
    /// The id of `user`'s payment under a client's `Idempotency-Key`: the same key always names
    /// the same payment (UUID v5), so a retry on any instance finds the first attempt.
    #[must_use]
    pub fn derive(user: UserId, key: &str) -> Self {
        let name = format!("payment\u{1f}{}\u{1f}{key}", user.as_uuid());
        Self(Uuid::new_v5(&PAYMENT_NAMESPACE, name.as_bytes()))
    }
}

/// How a payment is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PaymentMethod {
    /// Credit or debit card, through the gateway.
    Card,
    /// KakaoPay, through the gateway.
    Kakaopay,
    /// Bank transfer, through the gateway.
    BankTransfer,
    /// The user's prepaid wallet: a ledger transfer, no gateway.
    Wallet,
}

/// An amount outside a method's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("{method} takes {min} to {max} won", method = method.as_str())]
pub struct MethodLimit {
    /// The method.
    pub method: PaymentMethod,
    /// Its smallest amount.
    pub min: Money,
    /// Its largest amount.
    pub max: Money,
}

impl MethodLimit {
    /// Stable code for clients.
    #[must_use]
    pub const fn code(self) -> &'static str {
        "amount_outside_method_limits"
    }
}

impl PaymentMethod {
    /// Every method.
    pub const ALL: [Self; 4] = [Self::Card, Self::Kakaopay, Self::BankTransfer, Self::Wallet];

    /// `card`, `kakaopay`, `bank_transfer` or `wallet`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Card => "card",
            Self::Kakaopay => "kakaopay",
            Self::BankTransfer => "bank_transfer",
            Self::Wallet => "wallet",
        }
    }

    /// Reads a name back.
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|method| method.as_str() == name)
    }

    /// Whether the payment goes through the gateway (everything but the wallet).
    #[must_use]
    pub const fn uses_gateway(self) -> bool {
        !matches!(self, Self::Wallet)
    }

    /// The inclusive limits of SOURCES.md §3.3: KakaoPay 100 to 50,000,000; card 1,000 to
    /// 100,000,000; bank transfer 1,000 to 200,000,000. The wallet takes 0 (a free item) up to
    /// the largest balance a wallet can hold.
    #[must_use]
    pub const fn limits(self) -> (i64, i64) {
        match self {
            Self::Kakaopay => (100, 50_000_000),
            Self::Card => (1_000, 100_000_000),
            Self::BankTransfer => (1_000, 200_000_000),
            Self::Wallet => (0, super::MAX_BALANCE.get()),
        }
    }

    /// Checks `amount` against the method's limits. A free item (amount 0) can therefore only be
    /// taken with `wallet`, which then moves no money.
    ///
    /// # Errors
    /// [`MethodLimit`] outside them.
    pub const fn check(self, amount: Money) -> Result<(), MethodLimit> {
        let (min, max) = self.limits();
        if amount.get() < min || amount.get() > max {
            let (Ok(min), Ok(max)) = (Money::new(min), Money::new(max)) else {
                unreachable!()
            };
            return Err(MethodLimit {
                method: self,
                min,
                max,
            });
        }
        Ok(())
    }

    /// The provider's fee in basis points (KakaoPay 2.9 %, card 3.2 %, bank transfer 0.5 %; the
    /// wallet none), for the payment's informational `estimated_fee`.
    #[must_use]
    pub const fn fee_basis_points(self) -> i64 {
        match self {
            Self::Kakaopay => 290,
            Self::Card => 320,
            Self::BankTransfer => 50,
            Self::Wallet => 0,
        }
    }

    /// `amount × rate`, rounded half up to whole won.
    #[must_use]
    pub const fn estimated_fee(self, amount: Money) -> i64 {
        // at most 200,000,000 × 320: far from overflow
        (amount.get() * self.fee_basis_points() + 5_000) / 10_000
    }
}

/// Where a payment stands. Only `paid` and `cancelled` are ever shown to users; `pending` and
/// `failed` are the gateway's in-between and refused states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PaymentStatus {
    /// Sent to the gateway, outcome not known yet. Holds the user's one place for the item, so a
    /// second attempt waits for it to be resolved (by the request or by the reconciler).
    Pending,
    /// Paid: its registration exists.
    Paid,
    /// Declined, or never reached the provider: no money moved, no registration, place freed.
    Failed,
    /// Refunded: its registration is cancelled.
    Cancelled,
}

impl PaymentStatus {
    /// `pending`, `paid`, `failed` or `cancelled`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Paid => "paid",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    /// Reads a stored name back.
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        [Self::Pending, Self::Paid, Self::Failed, Self::Cancelled]
            .into_iter()
            .find(|status| status.as_str() == name)
    }

    /// Whether users see it (`paid`, `cancelled`).
    #[must_use]
    pub const fn is_shown(self) -> bool {
        matches!(self, Self::Paid | Self::Cancelled)
    }
}

/// A cancelled gateway payment's refund: the cancellation commits first (registration cancelled,
/// place freed), and the refund at the provider is an obligation kept in the payment row until the
/// provider confirms it (retried by the reconciler; the payment id makes it idempotent there).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RefundState {
    /// Nothing to refund (not cancelled, or paid from the wallet: refunded in the same
    /// transaction).
    NotDue,
    /// Cancelled; the provider has not confirmed the refund yet.
    Pending,
    /// The provider confirmed it.
    Done,
}

impl RefundState {
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
        [Self::NotDue, Self::Pending, Self::Done]
            .into_iter()
            .find(|state| state.as_str() == name)
    }
}

/// A payment for a registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    /// Its id (and idempotency key at the provider).
    pub id: PaymentId,
    /// Who pays.
    pub user_id: UserId,
    /// Test or course.
    pub kind: ItemKind,
    /// What for.
    pub item_id: ItemId,
    /// The item's title when paid (history survives edits and deletion).
    pub item_title: String,
    /// The amount (the item's price when paid).
    pub amount: Money,
    /// How.
    pub method: PaymentMethod,
    /// Where it stands.
    pub status: PaymentStatus,
    /// The provider's reference for it, once approved (none for the wallet).
    pub provider_reference: Option<String>,
    /// The refund's progress.
    pub refund: RefundState,
    /// When the attempt was recorded.
    pub created_at: DateTime<Utc>,
    /// When it was paid.
    pub paid_at: Option<DateTime<Utc>>,
    /// When it was cancelled.
    pub cancelled_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn won(amount: i64) -> Money {
        Money::new(amount).unwrap()
    }

    #[test]
    fn method_limits_are_inclusive() {
        for (method, min, max) in [
            (PaymentMethod::Kakaopay, 100, 50_000_000),
            (PaymentMethod::Card, 1_000, 100_000_000),
            (PaymentMethod::BankTransfer, 1_000, 200_000_000),
            (PaymentMethod::Wallet, 0, 10_000_000),
        ] {
            assert_eq!(method.check(won(min)), Ok(()));
            assert_eq!(method.check(won(max)), Ok(()));
            let refused = Err(MethodLimit {
                method,
                min: won(min),
                max: won(max),
            });
            assert_eq!(method.check(won(max + 1)), refused);
            if min > 0 {
                assert_eq!(method.check(won(min - 1)), refused);
            }
        }
    }

    #[test]
    fn only_the_wallet_skips_the_gateway() {
        for method in PaymentMethod::ALL {
            assert_eq!(PaymentMethod::parse(method.as_str()), Some(method));
            assert_eq!(method.uses_gateway(), method != PaymentMethod::Wallet);
        }
        assert_eq!(PaymentMethod::parse("cash"), None);
    }

    #[test]
    fn fees_round_half_up() {
        assert_eq!(PaymentMethod::Card.estimated_fee(won(10_000)), 320);
        assert_eq!(PaymentMethod::Kakaopay.estimated_fee(won(100)), 3); // 2.9
        assert_eq!(PaymentMethod::BankTransfer.estimated_fee(won(1_100)), 6); // 5.5
        assert_eq!(PaymentMethod::Wallet.estimated_fee(won(50_000)), 0);
        assert_eq!(
            PaymentMethod::BankTransfer.estimated_fee(won(200_000_000)),
            1_000_000
        );
    }

    #[test]
    fn derived_ids_are_per_user_and_key() {
        let user = UserId::from_uuid(Uuid::now_v7());
        let other = UserId::from_uuid(Uuid::now_v7());
        assert_eq!(PaymentId::derive(user, "k"), PaymentId::derive(user, "k"));
        assert_ne!(PaymentId::derive(user, "k"), PaymentId::derive(user, "l"));
        assert_ne!(PaymentId::derive(user, "k"), PaymentId::derive(other, "k"));
    }

    #[test]
    fn statuses_round_trip() {
        for status in [
            PaymentStatus::Pending,
            PaymentStatus::Paid,
            PaymentStatus::Failed,
            PaymentStatus::Cancelled,
        ] {
            assert_eq!(PaymentStatus::parse(status.as_str()), Some(status));
        }
        assert!(PaymentStatus::Paid.is_shown() && PaymentStatus::Cancelled.is_shown());
        assert!(!PaymentStatus::Pending.is_shown() && !PaymentStatus::Failed.is_shown());
        for state in [RefundState::NotDue, RefundState::Pending, RefundState::Done] {
            assert_eq!(RefundState::parse(state.as_str()), Some(state));
        }
    }
}
