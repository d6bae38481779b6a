//! The gateway's promises to its callers: idempotency by payment id, and lookups.

use super::{GatewayFixture, charge_of};
use futures_util::future::join_all;
use reserva_application::ports::payments::{
    ChargeOutcome, GatewayError, GatewayRecord, PaymentGateway,
};
use reserva_domain::wallet::PaymentId;
use uuid::Uuid;

/// The reference of an approved outcome, failing the case on anything else.
fn reference_of(outcome: Result<ChargeOutcome, GatewayError>) -> String {
    match outcome {
        Ok(ChargeOutcome::Approved { reference }) => reference,
        other => panic!("expected an approval, got {other:?}"),
    }
}

/// Charging one id twice answers the first outcome (the same reference), and a lookup agrees.
pub async fn a_repeated_charge_answers_the_first_outcome<G: PaymentGateway>(
    subject: &GatewayFixture<G>,
) {
    let gateway = &subject.gateway;
    let charge = charge_of(subject.approved);
    let first = reference_of(gateway.charge(&charge).await);
    let again = reference_of(gateway.charge(&charge).await);
    assert_eq!(first, again);
    assert_eq!(
        gateway.lookup(charge.payment_id).await,
        Ok(GatewayRecord::Approved { reference: first })
    );
}

/// Ten charges of one id at once all answer the same approval.
pub async fn concurrent_charges_of_one_id_answer_alike<G: PaymentGateway>(
    subject: &GatewayFixture<G>,
) {
    let gateway = &subject.gateway;
    let charge = charge_of(subject.approved);
    let outcomes = join_all((0..10).map(|_| gateway.charge(&charge))).await;
    let references: Vec<String> = outcomes.into_iter().map(reference_of).collect();
    assert!(
        references
            .iter()
            .all(|reference| *reference == references[0]),
        "{references:?}"
    );
    assert_eq!(
        gateway.lookup(charge.payment_id).await,
        Ok(GatewayRecord::Approved {
            reference: references[0].clone()
        })
    );
}

/// A refund succeeds, its repeat succeeds without refunding again (the record says refunded,
/// once), and a later charge of the id still answers the first approval.
pub async fn a_refund_twice_refunds_once<G: PaymentGateway>(subject: &GatewayFixture<G>) {
    let gateway = &subject.gateway;
    let charge = charge_of(subject.approved);
    let reference = reference_of(gateway.charge(&charge).await);
    assert_eq!(
        gateway.refund(charge.payment_id, charge.amount).await,
        Ok(())
    );
    assert_eq!(
        gateway.refund(charge.payment_id, charge.amount).await,
        Ok(())
    );
    assert_eq!(
        gateway.lookup(charge.payment_id).await,
        Ok(GatewayRecord::Refunded {
            reference: reference.clone()
        })
    );
    assert_eq!(reference_of(gateway.charge(&charge).await), reference);
}

/// A refund of an id never charged is refused as such.
pub async fn a_refund_of_an_unknown_payment_has_nothing_to_refund<G: PaymentGateway>(
    subject: &GatewayFixture<G>,
) {
    let id = PaymentId::from_uuid(Uuid::now_v7());
    assert_eq!(
        subject.gateway.refund(id, subject.approved).await,
        Err(GatewayError::NothingToRefund)
    );
}

/// An id never sent is unknown.
pub async fn an_unknown_payment_looks_up_as_unknown<G: PaymentGateway>(
    subject: &GatewayFixture<G>,
) {
    let id = PaymentId::from_uuid(Uuid::now_v7());
    assert_eq!(subject.gateway.lookup(id).await, Ok(GatewayRecord::Unknown));
}

/// A charge made whose answer was lost: the lookup finds it approved, and the retry answers the
/// same reference (the caller settles, charged once).
pub async fn a_lookup_after_a_lost_answer_finds_the_charge<G: PaymentGateway>(
    subject: &GatewayFixture<G>,
) {
    let gateway = &subject.gateway;
    let charge = charge_of(subject.answer_lost);
    assert_eq!(gateway.charge(&charge).await, Err(GatewayError::Timeout));
    let Ok(GatewayRecord::Approved { reference }) = gateway.lookup(charge.payment_id).await else {
        panic!("the lost answer's charge is not found approved");
    };
    assert_eq!(reference_of(gateway.charge(&charge).await), reference);
    assert_eq!(
        gateway.refund(charge.payment_id, charge.amount).await,
        Ok(())
    );
}

/// A charge that never arrived: the lookup knows nothing, and there is nothing to refund.
pub async fn a_lookup_after_a_lost_request_finds_nothing<G: PaymentGateway>(
    subject: &GatewayFixture<G>,
) {
    let gateway = &subject.gateway;
    let charge = charge_of(subject.never_arrives);
    assert_eq!(gateway.charge(&charge).await, Err(GatewayError::Timeout));
    assert_eq!(
        gateway.lookup(charge.payment_id).await,
        Ok(GatewayRecord::Unknown)
    );
    assert_eq!(
        gateway.refund(charge.payment_id, charge.amount).await,
        Err(GatewayError::NothingToRefund)
    );
}
