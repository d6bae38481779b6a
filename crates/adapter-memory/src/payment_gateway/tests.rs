//! The simulator's rules, on a paused clock (every wait is measured exactly).

use super::{DECLINE_REASON, SimulatedGateway, SimulatorRules, SimulatorTotals};
use reserva_application::ports::payments::{
    ChargeOutcome, GatewayCharge, GatewayError, GatewayRecord, PaymentGateway,
};
use reserva_domain::accounts::UserId;
use reserva_domain::wallet::{Money, PaymentId, PaymentMethod};
use std::time::Duration;
use tokio::time::Instant;
use uuid::Uuid;

const PLAIN: i64 = 10_000;
const DECLINED: i64 = 11_000;
const ANSWER_LOST: i64 = 12_000;
const NEVER_ARRIVES: i64 = 13_000;
const LATE: i64 = 14_000;

fn rules() -> SimulatorRules {
    SimulatorRules {
        latency_ms: 0,
        decline_amounts: vec![DECLINED],
        timeout_amounts: vec![ANSWER_LOST],
        lost_amounts: vec![NEVER_ARRIVES],
        late_amounts: vec![LATE],
        late_ms: 500,
        timeout_ms: 1_000,
    }
}

fn money(amount: i64) -> Money {
    Money::new(amount).unwrap()
}

fn charge_of(amount: i64) -> GatewayCharge {
    GatewayCharge {
        payment_id: PaymentId::from_uuid(Uuid::now_v7()),
        method: PaymentMethod::Card,
        amount: money(amount),
        user_id: UserId::from_uuid(Uuid::now_v7()),
        description: "test Rust basics".to_owned(),
    }
}

fn approved(charge: &GatewayCharge) -> ChargeOutcome {
    ChargeOutcome::Approved {
        reference: format!("sim_{}", charge.payment_id.as_uuid().simple()),
    }
}

/// Runs `call` and returns its result with the (paused-clock) time it took.
async fn timed<T>(call: impl Future<Output = T>) -> (T, Duration) {
    let start = Instant::now();
    let result = call.await;
    (result, start.elapsed())
}

#[tokio::test(start_paused = true)]
async fn a_plain_charge_is_approved_at_once_with_a_reference_from_the_id() {
    let gateway = SimulatedGateway::new(rules());
    let charge = charge_of(PLAIN);
    let (outcome, took) = timed(gateway.charge(&charge)).await;
    assert_eq!(outcome, Ok(approved(&charge)));
    assert_eq!(took, Duration::ZERO);
    assert_eq!(
        gateway.lookup(charge.payment_id).await,
        Ok(GatewayRecord::Approved {
            reference: SimulatedGateway::reference(charge.payment_id)
        })
    );
}

#[tokio::test(start_paused = true)]
async fn a_repeated_charge_returns_the_first_outcome_and_charges_once() {
    let gateway = SimulatedGateway::new(rules());
    let charge = charge_of(PLAIN);
    let first = gateway.charge(&charge).await;
    let again = gateway.charge(&charge).await;
    assert_eq!(first, again);
    assert_eq!(
        gateway.totals(),
        SimulatorTotals {
            charges: 1,
            refunds: 0
        }
    );
}

#[tokio::test(start_paused = true)]
async fn a_decline_amount_is_declined_every_time_and_never_charged() {
    let gateway = SimulatedGateway::new(rules());
    let charge = charge_of(DECLINED);
    let declined = ChargeOutcome::Declined {
        reason: DECLINE_REASON.to_owned(),
    };
    assert_eq!(gateway.charge(&charge).await, Ok(declined.clone()));
    assert_eq!(gateway.charge(&charge).await, Ok(declined));
    assert_eq!(
        gateway.lookup(charge.payment_id).await,
        Ok(GatewayRecord::Declined {
            reason: DECLINE_REASON.to_owned()
        })
    );
    assert_eq!(
        gateway.refund(charge.payment_id, money(DECLINED)).await,
        Err(GatewayError::NothingToRefund)
    );
    assert_eq!(gateway.totals().charges, 0);
}

#[tokio::test(start_paused = true)]
async fn a_timeout_amount_charges_then_loses_the_answer_at_the_deadline() {
    let gateway = SimulatedGateway::new(rules());
    let charge = charge_of(ANSWER_LOST);
    let (outcome, took) = timed(gateway.charge(&charge)).await;
    assert_eq!(outcome, Err(GatewayError::Timeout));
    assert_eq!(took, Duration::from_secs(1));
    assert_eq!(
        gateway.lookup(charge.payment_id).await,
        Ok(GatewayRecord::Approved {
            reference: SimulatedGateway::reference(charge.payment_id)
        })
    );
    // The retry is not the first attempt: it answers, and charges nothing more.
    assert_eq!(gateway.charge(&charge).await, Ok(approved(&charge)));
    assert_eq!(gateway.totals().charges, 1);
}

#[tokio::test(start_paused = true)]
async fn a_lost_amount_never_arrives_and_its_retry_goes_through() {
    let gateway = SimulatedGateway::new(rules());
    let charge = charge_of(NEVER_ARRIVES);
    let (outcome, took) = timed(gateway.charge(&charge)).await;
    assert_eq!(outcome, Err(GatewayError::Timeout));
    assert_eq!(took, Duration::from_secs(1));
    assert_eq!(
        gateway.lookup(charge.payment_id).await,
        Ok(GatewayRecord::Unknown)
    );
    assert_eq!(
        gateway
            .refund(charge.payment_id, money(NEVER_ARRIVES))
            .await,
        Err(GatewayError::NothingToRefund)
    );
    assert_eq!(gateway.totals().charges, 0);
    assert_eq!(gateway.charge(&charge).await, Ok(approved(&charge)));
    assert_eq!(gateway.totals().charges, 1);
}

#[tokio::test(start_paused = true)]
async fn a_late_amount_answers_late_within_the_deadline() {
    let gateway = SimulatedGateway::new(rules());
    let charge = charge_of(LATE);
    let (outcome, took) = timed(gateway.charge(&charge)).await;
    assert_eq!(outcome, Ok(approved(&charge)));
    assert_eq!(took, Duration::from_millis(500));
    // Only the first attempt is late.
    let (again, took) = timed(gateway.charge(&charge)).await;
    assert_eq!(again, Ok(approved(&charge)));
    assert_eq!(took, Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn a_late_answer_at_or_past_the_deadline_is_a_timeout_but_charged() {
    for late_ms in [1_000, 5_000] {
        let gateway = SimulatedGateway::new(SimulatorRules { late_ms, ..rules() });
        let charge = charge_of(LATE);
        let (outcome, took) = timed(gateway.charge(&charge)).await;
        assert_eq!(outcome, Err(GatewayError::Timeout), "late {late_ms} ms");
        assert_eq!(took, Duration::from_secs(1), "late {late_ms} ms");
        assert_eq!(
            gateway.lookup(charge.payment_id).await,
            Ok(GatewayRecord::Approved {
                reference: SimulatedGateway::reference(charge.payment_id)
            })
        );
    }
}

#[tokio::test(start_paused = true)]
async fn the_latency_delays_every_call() {
    let gateway = SimulatedGateway::new(SimulatorRules {
        latency_ms: 40,
        ..rules()
    });
    let charge = charge_of(PLAIN);
    let latency = Duration::from_millis(40);
    let (outcome, took) = timed(gateway.charge(&charge)).await;
    assert_eq!((outcome, took), (Ok(approved(&charge)), latency));
    let (_, took) = timed(gateway.lookup(charge.payment_id)).await;
    assert_eq!(took, latency);
    let (refund, took) = timed(gateway.refund(charge.payment_id, money(PLAIN))).await;
    assert_eq!((refund, took), (Ok(()), latency));
    let (late, took) = timed(gateway.charge(&charge_of(LATE))).await;
    assert!(late.is_ok());
    assert_eq!(took, Duration::from_millis(540));
}

#[tokio::test(start_paused = true)]
async fn a_latency_at_the_deadline_times_every_call_out_after_acting() {
    let gateway = SimulatedGateway::new(SimulatorRules {
        latency_ms: 1_000,
        ..rules()
    });
    let charge = charge_of(PLAIN);
    let (outcome, took) = timed(gateway.charge(&charge)).await;
    assert_eq!(
        (outcome, took),
        (Err(GatewayError::Timeout), Duration::from_secs(1))
    );
    assert_eq!(gateway.totals().charges, 1);
    assert_eq!(
        gateway.lookup(charge.payment_id).await,
        Err(GatewayError::Timeout)
    );
    assert_eq!(
        gateway.refund(charge.payment_id, money(PLAIN)).await,
        Err(GatewayError::Timeout)
    );
    assert_eq!(gateway.totals().refunds, 1);
}

#[tokio::test(start_paused = true)]
async fn a_refund_twice_refunds_once_and_the_charge_stays_answered() {
    let gateway = SimulatedGateway::new(rules());
    let charge = charge_of(PLAIN);
    gateway.charge(&charge).await.unwrap();
    assert_eq!(
        gateway.refund(charge.payment_id, money(PLAIN)).await,
        Ok(())
    );
    assert_eq!(
        gateway.refund(charge.payment_id, money(PLAIN)).await,
        Ok(())
    );
    assert_eq!(
        gateway.lookup(charge.payment_id).await,
        Ok(GatewayRecord::Refunded {
            reference: SimulatedGateway::reference(charge.payment_id)
        })
    );
    assert_eq!(gateway.charge(&charge).await, Ok(approved(&charge)));
    assert_eq!(
        gateway.totals(),
        SimulatorTotals {
            charges: 1,
            refunds: 1
        }
    );
}

#[tokio::test(start_paused = true)]
async fn a_refund_of_another_amount_is_refused_and_moves_nothing() {
    let gateway = SimulatedGateway::new(rules());
    let charge = charge_of(PLAIN);
    gateway.charge(&charge).await.unwrap();
    let refused = gateway.refund(charge.payment_id, money(PLAIN - 1)).await;
    assert!(
        matches!(refused, Err(GatewayError::Unavailable(_))),
        "{refused:?}"
    );
    assert_eq!(gateway.totals().refunds, 0);
    assert!(matches!(
        gateway.lookup(charge.payment_id).await,
        Ok(GatewayRecord::Approved { .. })
    ));
}

#[tokio::test(start_paused = true)]
async fn an_unknown_payment_is_unknown_and_has_nothing_to_refund() {
    let gateway = SimulatedGateway::new(rules());
    let id = PaymentId::from_uuid(Uuid::now_v7());
    assert_eq!(gateway.lookup(id).await, Ok(GatewayRecord::Unknown));
    assert_eq!(
        gateway.refund(id, money(PLAIN)).await,
        Err(GatewayError::NothingToRefund)
    );
}

#[tokio::test(start_paused = true)]
async fn an_amount_in_several_lists_follows_decline_first() {
    let gateway = SimulatedGateway::new(SimulatorRules {
        decline_amounts: vec![PLAIN],
        lost_amounts: vec![PLAIN, ANSWER_LOST],
        timeout_amounts: vec![PLAIN, ANSWER_LOST],
        ..rules()
    });
    assert!(matches!(
        gateway.charge(&charge_of(PLAIN)).await,
        Ok(ChargeOutcome::Declined { .. })
    ));
    let lost = charge_of(ANSWER_LOST);
    assert_eq!(gateway.charge(&lost).await, Err(GatewayError::Timeout));
    assert_eq!(
        gateway.lookup(lost.payment_id).await,
        Ok(GatewayRecord::Unknown)
    );
}

#[tokio::test(start_paused = true)]
async fn clones_share_the_records() {
    let gateway = SimulatedGateway::new(rules());
    let other = gateway.clone();
    let charge = charge_of(PLAIN);
    gateway.charge(&charge).await.unwrap();
    assert!(matches!(
        other.lookup(charge.payment_id).await,
        Ok(GatewayRecord::Approved { .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_charges_of_one_id_charge_once_and_answer_alike() {
    let gateway = SimulatedGateway::new(SimulatorRules {
        latency_ms: 5,
        ..rules()
    });
    let charge = charge_of(PLAIN);
    let calls: Vec<_> = (0..16)
        .map(|_| {
            let gateway = gateway.clone();
            let charge = charge.clone();
            tokio::spawn(async move { gateway.charge(&charge).await })
        })
        .collect();
    for call in calls {
        assert_eq!(call.await.unwrap(), Ok(approved(&charge)));
    }
    assert_eq!(gateway.totals().charges, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_refunds_of_one_id_refund_once() {
    let gateway = SimulatedGateway::new(rules());
    let charge = charge_of(PLAIN);
    gateway.charge(&charge).await.unwrap();
    let calls: Vec<_> = (0..16)
        .map(|_| {
            let gateway = gateway.clone();
            tokio::spawn(async move { gateway.refund(charge.payment_id, money(PLAIN)).await })
        })
        .collect();
    for call in calls {
        assert_eq!(call.await.unwrap(), Ok(()));
    }
    assert_eq!(gateway.totals().refunds, 1);
}
