//! Contracts of `PaymentGateway`: idempotency by payment id (a repeated charge answers the first
//! outcome, a refund is made once) and lookups that tell a caller whose answer was lost what
//! happened. Any provider adapter runs them, given a [`GatewayFixture`] that names the amounts
//! it answers in each way.

pub mod gateway;

use crate::support::user_id;
use reserva_application::ports::payments::GatewayCharge;
use reserva_domain::wallet::{Money, PaymentId, PaymentMethod};
use uuid::Uuid;

/// A gateway under test and the amounts that make it behave in each way (a simulator is told
/// them by its rules; a provider's sandbox documents its own test amounts).
#[derive(Debug, Clone)]
pub struct GatewayFixture<G> {
    /// The gateway.
    pub gateway: G,
    /// An amount it approves.
    pub approved: Money,
    /// An amount whose first charge is made but whose answer is lost (`Err(Timeout)`).
    pub answer_lost: Money,
    /// An amount whose first charge never reaches the provider (`Err(Timeout)`, nothing
    /// charged).
    pub never_arrives: Money,
}

/// A card charge of `amount` under a fresh payment id.
fn charge_of(amount: Money) -> GatewayCharge {
    GatewayCharge {
        payment_id: PaymentId::from_uuid(Uuid::now_v7()),
        method: PaymentMethod::Card,
        amount,
        user_id: user_id(),
        description: "test Conformance".to_owned(),
    }
}

/// The registered gateway cases by file, listed once: [`crate::payment_gateway_tests!`] expands
/// them and the registration check compares them with the case files. Expands to
/// `$callback! { $args payments { file: [case, ...], ... } }`.
#[doc(hidden)]
#[macro_export]
macro_rules! __payment_gateway_cases {
    ($callback:path, $($args:tt)*) => {
        $callback! {
            $($args)*
            payments {
                gateway: [
                    a_repeated_charge_answers_the_first_outcome,
                    concurrent_charges_of_one_id_answer_alike,
                    a_refund_twice_refunds_once,
                    a_refund_of_an_unknown_payment_has_nothing_to_refund,
                    an_unknown_payment_looks_up_as_unknown,
                    a_lookup_after_a_lost_answer_finds_the_charge,
                    a_lookup_after_a_lost_request_finds_nothing,
                ],
            }
        }
    };
}
