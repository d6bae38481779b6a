//! The payment-gateway conformance suite, run against the simulated provider (with a short
//! deadline, so the lost answers are quick).

use reserva_adapter_memory::{SimulatedGateway, SimulatorRules};
use reserva_conformance::payments::GatewayFixture;
use reserva_domain::wallet::Money;

const APPROVED: i64 = 10_000;
const ANSWER_LOST: i64 = 12_300;
const NEVER_ARRIVES: i64 = 45_600;

fn fixture() -> GatewayFixture<SimulatedGateway> {
    let money = |amount| Money::new(amount).unwrap_or_else(|e| panic!("{e}"));
    GatewayFixture {
        gateway: SimulatedGateway::new(SimulatorRules {
            latency_ms: 1,
            timeout_amounts: vec![ANSWER_LOST],
            lost_amounts: vec![NEVER_ARRIVES],
            timeout_ms: 100,
            ..SimulatorRules::default()
        }),
        approved: money(APPROVED),
        answer_lost: money(ANSWER_LOST),
        never_arrives: money(NEVER_ARRIVES),
    }
}

reserva_conformance::payment_gateway_tests!(async { fixture() });
