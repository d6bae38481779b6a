//! The ports of the cart, order and access use cases, and the object that holds them.

use crate::ports::commerce::access::AccessRepository;
use crate::ports::commerce::cart::CartRepository;
use crate::ports::commerce::orders::OrderRepository;
use crate::ports::system::Clock;
use chrono::{DateTime, Utc};
use std::sync::Arc;

/// Everything the cart, order and access use cases talk to.
#[derive(Clone)]
pub struct ShoppingPorts {
    /// Carts.
    pub carts: Arc<dyn CartRepository>,
    /// Orders.
    pub orders: Arc<dyn OrderRepository>,
    /// Course access.
    pub access: Arc<dyn AccessRepository>,
    /// Time.
    pub clock: Arc<dyn Clock>,
}

/// The cart, order and access use cases.
#[derive(Clone)]
pub struct Shopping {
    pub(super) ports: ShoppingPorts,
}

impl Shopping {
    /// Builds the use cases.
    #[must_use]
    pub const fn new(ports: ShoppingPorts) -> Self {
        Self { ports }
    }

    pub(super) fn now(&self) -> DateTime<Utc> {
        self.ports.clock.now()
    }
}
