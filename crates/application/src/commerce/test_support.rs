//! Mocked ports and sample values for the commerce use-case tests.

use super::{Shopping, ShoppingPorts};
use crate::accounts::Principal;
use crate::ports::commerce::access::MockAccessRepository;
use crate::ports::commerce::cart::MockCartRepository;
use crate::ports::commerce::orders::MockOrderRepository;
use crate::ports::system::MockClock;
use chrono::{DateTime, TimeZone, Utc};
use reserva_domain::accounts::{Role, SessionId, UserId};
use reserva_domain::catalog::ItemId;
use reserva_domain::commerce::{
    CartItemId, CartLine, ItemRef, Order, OrderId, OrderItem, OrderItemId, OrderStatus,
};
use reserva_domain::wallet::Money;
use std::sync::Arc;

/// 2026-11-25 12:00 in Seoul.
pub(crate) fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 3, 0, 0)
        .single()
        .unwrap_or_default()
}

pub(crate) fn principal() -> Principal {
    Principal {
        user_id: UserId::from_uuid(uuid::Uuid::now_v7()),
        session_id: SessionId::from_uuid(uuid::Uuid::now_v7()),
        role: Role::Member,
    }
}

pub(crate) fn course() -> ItemRef {
    ItemRef::Course(ItemId::from_uuid(uuid::Uuid::now_v7()))
}

pub(crate) fn line(item: ItemRef, price: i64) -> CartLine {
    CartLine {
        id: CartItemId::from_uuid(uuid::Uuid::now_v7()),
        item,
        title: "Rust basics".into(),
        price: Money::new(price).expect("valid"),
    }
}

pub(crate) fn order(user: UserId) -> Order {
    let price = Money::new(20_000).expect("valid");
    Order {
        id: OrderId::from_uuid(uuid::Uuid::now_v7()),
        user_id: user,
        status: OrderStatus::Pending,
        items: vec![OrderItem {
            id: OrderItemId::from_uuid(uuid::Uuid::now_v7()),
            item: course(),
            title: "Rust basics".into(),
            price,
        }],
        total: price,
        created_at: now(),
        updated_at: now(),
        paid_at: None,
        cancelled_at: None,
        refunded_at: None,
    }
}

/// The mocked ports; `shopping()` builds the use cases over them with the clock at [`now`].
pub(crate) struct Fixture {
    pub carts: MockCartRepository,
    pub orders: MockOrderRepository,
    pub access: MockAccessRepository,
}

impl Fixture {
    pub(crate) fn new() -> Self {
        Self {
            carts: MockCartRepository::new(),
            orders: MockOrderRepository::new(),
            access: MockAccessRepository::new(),
        }
    }

    pub(crate) fn shopping(self) -> Shopping {
        let mut clock = MockClock::new();
        clock.expect_now().returning(now);
        Shopping::new(ShoppingPorts {
            carts: Arc::new(self.carts),
            orders: Arc::new(self.orders),
            access: Arc::new(self.access),
            clock: Arc::new(clock),
        })
    }
}
