//! Orders: what a user means to buy, with each item's title and price as they were when the
//! order was made, its total (at most [`ORDER_TOTAL_LIMIT`]) and its status, which moves only
//! along [`OrderStatus::transition`]'s table.

use super::{ItemRef, OrderId, OrderItemId};
use crate::accounts::UserId;
use crate::wallet::Money;
use chrono::{DateTime, Utc};
use thiserror::Error;

/// The most one order may cost (KRW), on both of its paths (from the cart and direct: the source
/// system checked only the cart's, SOURCES §5.9 bug 8) and again at checkout.
pub const ORDER_TOTAL_LIMIT: Money = match Money::new(50_000) {
    Ok(limit) => limit,
    Err(_) => Money::ZERO,
};

/// Where an order stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderStatus {
    /// Made, not paid yet; at most one per user.
    Pending,
    /// Paid: its courses are open to the buyer.
    Paid,
    /// Replaced by a newer order, or cancelled before payment.
    Cancelled,
    /// Paid, then refunded: the access it gave is withdrawn.
    Refunded,
    /// Its payment failed for good.
    Failed,
}

/// A status change that the table does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("an order cannot go from {from:?} to {to:?}")]
pub struct OrderTransition {
    /// The current status.
    pub from: OrderStatus,
    /// The one asked for.
    pub to: OrderStatus,
}

impl OrderStatus {
    /// Every status.
    pub const ALL: [Self; 5] = [
        Self::Pending,
        Self::Paid,
        Self::Cancelled,
        Self::Refunded,
        Self::Failed,
    ];

    /// The stored and shown name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Paid => "paid",
            Self::Cancelled => "cancelled",
            Self::Refunded => "refunded",
            Self::Failed => "failed",
        }
    }

    /// Reads a stored or sent name back.
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == name)
    }

    /// The transition table: pending → paid | cancelled | failed; paid → refunded. Nothing
    /// leaves cancelled, refunded or failed.
    ///
    /// # Errors
    /// [`OrderTransition`] for any other change (the same status included).
    pub const fn transition(self, to: Self) -> Result<Self, OrderTransition> {
        match (self, to) {
            (Self::Pending, Self::Paid | Self::Cancelled | Self::Failed)
            | (Self::Paid, Self::Refunded) => Ok(to),
            (Self::Pending | Self::Paid | Self::Cancelled | Self::Refunded | Self::Failed, _) => {
                Err(OrderTransition { from: self, to })
            }
        }
    }
}

/// One line of an order: the item and its title and price when the order was made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderItem {
    /// Id.
    pub id: OrderItemId,
    /// What.
    pub item: ItemRef,
    /// Its title then.
    pub title: String,
    /// Its price then.
    pub price: Money,
}

/// An order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    /// Id.
    pub id: OrderId,
    /// Whose.
    pub user_id: UserId,
    /// Where it stands.
    pub status: OrderStatus,
    /// Its lines, in the order they were ordered.
    pub items: Vec<OrderItem>,
    /// The sum of the lines' prices.
    pub total: Money,
    /// Made.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
    /// Paid (paid and refunded orders).
    pub paid_at: Option<DateTime<Utc>>,
    /// Cancelled.
    pub cancelled_at: Option<DateTime<Utc>>,
    /// Refunded.
    pub refunded_at: Option<DateTime<Utc>>,
}

/// An order whose total passes [`ORDER_TOTAL_LIMIT`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("the order's total {total} is over the limit of {limit}", limit = ORDER_TOTAL_LIMIT)]
pub struct OrderTotalExceeded {
    /// The total (saturated at `i64::MAX`).
    pub total: Money,
}

/// The total of an order of these prices.
///
/// # Errors
/// [`OrderTotalExceeded`] when it is over [`ORDER_TOTAL_LIMIT`] (exactly the limit is allowed).
pub fn order_total(prices: impl IntoIterator<Item = Money>) -> Result<Money, OrderTotalExceeded> {
    let mut total = Money::ZERO;
    for price in prices {
        total = match total.checked_add(price) {
            Some(sum) => sum,
            None => Money::new(i64::MAX).unwrap_or(Money::ZERO),
        };
    }
    if total > ORDER_TOTAL_LIMIT {
        Err(OrderTotalExceeded { total })
    } else {
        Ok(total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn won(amount: i64) -> Money {
        Money::new(amount).expect("valid")
    }

    #[test]
    fn the_limit_is_fifty_thousand_and_is_allowed_exactly() {
        assert_eq!(ORDER_TOTAL_LIMIT.get(), 50_000);
        assert_eq!(order_total([won(30_000), won(20_000)]), Ok(won(50_000)));
        assert_eq!(
            order_total([won(30_000), won(20_001)]),
            Err(OrderTotalExceeded { total: won(50_001) })
        );
        assert_eq!(order_total([]), Ok(Money::ZERO));
    }

    #[test]
    fn an_overflowing_total_is_exceeded_not_wrapped() {
        let huge = won(i64::MAX);
        assert!(order_total([huge, won(1)]).is_err());
    }

    #[test]
    fn the_transition_table() {
        use OrderStatus::{Cancelled, Failed, Paid, Pending, Refunded};
        let allowed = [
            (Pending, Paid),
            (Pending, Cancelled),
            (Pending, Failed),
            (Paid, Refunded),
        ];
        for from in OrderStatus::ALL {
            for to in OrderStatus::ALL {
                let outcome = from.transition(to);
                if allowed.contains(&(from, to)) {
                    assert_eq!(outcome, Ok(to));
                } else {
                    assert_eq!(
                        outcome,
                        Err(OrderTransition { from, to }),
                        "{from:?} → {to:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn names_round_trip() {
        for status in OrderStatus::ALL {
            assert_eq!(OrderStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(OrderStatus::parse("completed"), None);
    }

    proptest! {
        #[test]
        fn the_total_is_the_sum_when_allowed(prices in proptest::collection::vec(0_i64..30_000, 0..6)) {
            let sum: i64 = prices.iter().sum();
            let outcome = order_total(prices.iter().map(|&price| won(price)));
            if sum <= 50_000 {
                prop_assert_eq!(outcome, Ok(won(sum)));
            } else {
                prop_assert_eq!(outcome, Err(OrderTotalExceeded { total: won(sum) }));
            }
        }
    }
}
