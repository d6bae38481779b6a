//! The port conformance suite: one set of tests that every adapter of a port must pass.
//!
//! An adapter crate runs it from a test file with one macro call, giving an async expression that
//! builds a fresh, empty subject for each test:
//!
//! ```text
//! reserva_conformance::account_store_tests!(async { MyStore::connect_to_fresh_database().await });
//! reserva_conformance::shared_state_tests!(async { MySharedState::new() });
//! ```
//!
//! Each case is an ordinary `pub async fn` in a file of [`accounts`], [`catalog`], [`exams`],
//! [`tickets`], [`wallet`] or [`shared_state`], so a failing test names the contract it broke.
//! Cases never rely on running alone: they use fresh random keys. Each suite lists its cases once, by file, in a callback
//! macro beside them (`__account_store_cases!` and its siblings); the test macros below expand
//! that list, and a unit test of this crate fails on any `pub async fn` it does not name, so a
//! case cannot be written and silently never run.

pub mod accounts;
pub mod catalog;
pub mod commerce;
pub mod exams;
pub mod payments;
pub mod shared_state;
mod support;
pub mod tickets;
pub mod wallet;

#[cfg(test)]
mod registration;

/// Generates one `#[tokio::test]` per account-store contract ([`accounts`]).
/// `$make` is an async expression yielding a value that implements `UserRepository` and
/// `SessionRepository`.
#[macro_export]
macro_rules! account_store_tests {
    ($make:expr) => {
        $crate::__account_store_cases!($crate::__conformance_tests, $make,);
    };
}

/// Generates one `#[tokio::test]` per catalog-store contract ([`catalog`]), races included.
/// `$make` yields a value implementing `CatalogRepository`, `RegistrationRepository`,
/// `WalletRepository` and the account-store traits (payments belong to users and move money).
#[macro_export]
macro_rules! catalog_store_tests {
    ($make:expr) => {
        $crate::__catalog_store_cases!($crate::__conformance_tests, $make,);
    };
}

/// Generates one `#[tokio::test]` per commerce cart, order and access contract
/// ([`commerce`]), races included. `$make` yields a value implementing `CartRepository`,
/// `OrderRepository`, `AccessRepository`, `CatalogRepository`, the account-store traits and the
/// test-only [`commerce::fixtures::CommerceFixtures`].
#[macro_export]
macro_rules! commerce_orders_store_tests {
    ($make:expr) => {
        $crate::__commerce_orders_store_cases!($crate::__conformance_tests, $make,);
    };
}

/// Generates one `#[tokio::test]` per billing-address contract ([`commerce::billing`]), races
/// included. `$make` yields a value implementing `BillingAddressRepository` and the
/// account-store traits (addresses belong to users).
#[macro_export]
macro_rules! commerce_billing_store_tests {
    ($make:expr) => {
        $crate::__commerce_billing_store_cases!($crate::__conformance_tests, $make,);
    };
}

/// Generates one `#[tokio::test]` per checkout contract ([`commerce::checkout`]), races
/// included. `$make` yields a value implementing `CheckoutRepository`, `WalletRepository` (the
/// ledger the checkout posts to) and everything [`commerce_orders_store_tests!`] needs.
#[macro_export]
macro_rules! commerce_checkout_store_tests {
    ($make:expr) => {
        $crate::__commerce_checkout_store_cases!($crate::__conformance_tests, $make,);
    };
}

/// Generates one `#[tokio::test]` per commerce-store contract ([`commerce`]), races included.
/// `$make` yields a value implementing the commerce ports, `CatalogRepository` and the
/// account-store traits (curricula sell catalog courses and belong to tutors).
#[macro_export]
macro_rules! commerce_store_tests {
    ($make:expr) => {
        $crate::__commerce_store_cases!($crate::__conformance_tests, $make,);
    };
}

/// Generates one `#[tokio::test]` per exam-store contract ([`exams`]), races included.
/// `$make` yields a value implementing the account-store traits and `ExamSlotRepository` +
/// `ReservationRepository`.
#[macro_export]
macro_rules! exam_store_tests {
    ($make:expr) => {
        $crate::__exam_store_cases!($crate::__conformance_tests, $make,);
    };
}

/// Generates one `#[tokio::test]` per tickets-store contract ([`tickets`]), races included.
/// `$make` yields a value implementing `ConcertRepository`, `SeatHoldRepository` and
/// `WalletRepository` (a payment moves money and sells a seat in one transaction).
#[macro_export]
macro_rules! tickets_store_tests {
    ($make:expr) => {
        $crate::__tickets_store_cases!($crate::__conformance_tests, $make,);
    };
}

/// Generates one `#[tokio::test]` per wallet-store contract ([`wallet`]).
/// `$make` yields a value implementing `WalletRepository`.
#[macro_export]
macro_rules! wallet_store_tests {
    ($make:expr) => {
        $crate::__wallet_store_cases!($crate::__conformance_tests, $make,);
    };
}

/// Generates one `#[tokio::test]` per payment-gateway contract ([`payments`]).
/// `$make` yields a [`payments::GatewayFixture`] over a `PaymentGateway`.
#[macro_export]
macro_rules! payment_gateway_tests {
    ($make:expr) => {
        $crate::__payment_gateway_cases!($crate::__conformance_tests, $make,);
    };
}

/// Generates one `#[tokio::test]` per shared-state contract ([`shared_state`]).
/// `$make` is an async expression yielding a value that implements `DistributedLock`,
/// `RateLimiter`, `SessionRevocations`, `IdempotencyRecords` and `WaitingRoom`.
#[macro_export]
macro_rules! shared_state_tests {
    ($make:expr) => {
        $crate::__shared_state_cases!($crate::__conformance_tests, $make,);
    };
}

/// The callback the test macros hand a suite's list to: one test per case, named after it,
/// each on a fresh subject from `$make`.
#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_tests {
    (
        $make:expr,
        $suite:ident { $($file:ident: [$($case:ident),* $(,)?]),* $(,)? }
    ) => {
        $($(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let subject = $make.await;
                $crate::$suite::$file::$case(&subject).await;
            }
        )*)*
    };
}
