//! A simulated payment provider, in process and deterministic: it approves every charge unless
//! its [`SimulatorRules`] say otherwise for the amount, so the benchmarks and black-box tests can
//! exercise declines, lost answers and slow answers without a real provider.
//!
//! The rules apply to the first attempt of a payment id only; the provider then keeps what it
//! did, so a repeated charge returns the first outcome, a refund is made once, and a lookup reads
//! its records — the idempotency by payment id the [`PaymentGateway`] port promises.
//!
//! Its records live in this process: a real provider is shared by every instance and survives a
//! restart, this one does neither (after a restart a lookup answers `Unknown` and a refund
//! `NothingToRefund`). It keeps one small entry per payment id it was ever asked to charge (about
//! 100 bytes: the id, the outcome and the amount, in a hash map), never pruned, so a million
//! payments cost about 100 MB; that is fine for tests and benchmarks, which is all it is for.

mod checkout;
#[cfg(test)]
mod tests;

pub use checkout::{
    CheckoutSimulatorRules, CheckoutSimulatorTotals, READY_DECLINE_REASON,
    SimulatedCheckoutProvider,
};

use async_trait::async_trait;
use reserva_application::ports::payments::{
    ChargeOutcome, GatewayCharge, GatewayError, GatewayRecord, PaymentGateway,
};
use reserva_domain::wallet::{Money, PaymentId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// The reason of every simulated decline.
pub const DECLINE_REASON: &str = "card declined (simulated)";

/// How the simulated provider behaves. Amount rules apply to the first attempt of a payment id;
/// an amount in several lists follows the first of: decline, lost, timeout, late.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimulatorRules {
    /// Delay before every answer (charge, lookup, refund), in milliseconds.
    pub latency_ms: u64,
    /// Charges of these amounts are declined with [`DECLINE_REASON`].
    pub decline_amounts: Vec<i64>,
    /// Charges of these amounts are made, then the answer is lost: the caller gets
    /// `Err(Timeout)` at its deadline and a lookup finds the charge.
    pub timeout_amounts: Vec<i64>,
    /// Charges of these amounts are lost before reaching the provider: `Err(Timeout)` at the
    /// deadline, nothing charged, a lookup answers `Unknown`.
    pub lost_amounts: Vec<i64>,
    /// Charges of these amounts are made and answered `late_ms` after the latency: when that
    /// reaches the deadline the caller gets `Err(Timeout)` at the deadline, charged anyway.
    pub late_amounts: Vec<i64>,
    /// The extra delay of `late_amounts`, in milliseconds.
    pub late_ms: u64,
    /// The adapter's own deadline for one call, in milliseconds: an answer due at or after it is
    /// replaced by `Err(Timeout)` at it (so 0 makes every call time out).
    pub timeout_ms: u64,
}

impl Default for SimulatorRules {
    /// Approves everything at once, with a deadline of 3 s.
    fn default() -> Self {
        Self {
            latency_ms: 0,
            decline_amounts: Vec::new(),
            timeout_amounts: Vec::new(),
            lost_amounts: Vec::new(),
            late_amounts: Vec::new(),
            late_ms: 0,
            timeout_ms: 3_000,
        }
    }
}

/// How many times money moved at the simulated provider, for tests to check idempotency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SimulatorTotals {
    /// Charges made (repeats of a payment id are not counted again).
    pub charges: u64,
    /// Refunds made (likewise).
    pub refunds: u64,
}

/// What the provider did with a payment id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Record {
    /// The first attempt never arrived: nothing charged, and the rules are spent.
    Missed,
    /// Charged this amount.
    Approved(Money),
    /// Refused.
    Declined,
    /// Charged this amount, then refunded it.
    Refunded(Money),
}

/// The provider's books: one record per payment id, and the totals.
#[derive(Debug, Default)]
struct Books {
    records: HashMap<PaymentId, Record>,
    totals: SimulatorTotals,
}

/// What one charge does, decided when it arrives.
enum Plan {
    /// Answer this after the latency plus `extra_ms`.
    Answer(ChargeOutcome, u64),
    /// No answer: `Err(Timeout)` at the deadline.
    Silence,
}

/// The simulated provider. Cloning is cheap and every clone shares the same records.
#[derive(Debug, Clone)]
pub struct SimulatedGateway {
    rules: Arc<SimulatorRules>,
    books: Arc<Mutex<Books>>,
}

impl SimulatedGateway {
    /// A provider with no records, behaving by `rules`.
    #[must_use]
    pub fn new(rules: SimulatorRules) -> Self {
        Self {
            rules: Arc::new(rules),
            books: Arc::default(),
        }
    }

    /// Charges and refunds made so far.
    #[must_use]
    pub fn totals(&self) -> SimulatorTotals {
        self.books().totals
    }

    /// The books; a panic elsewhere cannot leave them half-written (every change is one
    /// statement), so a poisoned lock is still safe to read.
    fn books(&self) -> MutexGuard<'_, Books> {
        self.books.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The provider's reference for a charge: `sim_` and the payment id without hyphens.
    #[must_use]
    pub fn reference(payment_id: PaymentId) -> String {
        format!("sim_{}", payment_id.as_uuid().simple())
    }

    /// Decides and records what a charge does, at its arrival.
    fn arrive(&self, charge: &GatewayCharge) -> Plan {
        let approved = ChargeOutcome::Approved {
            reference: Self::reference(charge.payment_id),
        };
        let declined = ChargeOutcome::Declined {
            reason: DECLINE_REASON.to_owned(),
        };
        let rules = &self.rules;
        let amount = charge.amount.get();
        let mut books = self.books();
        let plan = match books.records.get(&charge.payment_id) {
            Some(Record::Approved(_) | Record::Refunded(_)) => return Plan::Answer(approved, 0),
            Some(Record::Declined) => return Plan::Answer(declined, 0),
            // A retry after a lost first attempt: the rules are spent, it goes through.
            Some(Record::Missed) => Plan::Answer(approved, 0),
            None if rules.decline_amounts.contains(&amount) => {
                books.records.insert(charge.payment_id, Record::Declined);
                return Plan::Answer(declined, 0);
            }
            None if rules.lost_amounts.contains(&amount) => {
                books.records.insert(charge.payment_id, Record::Missed);
                return Plan::Silence;
            }
            None if rules.timeout_amounts.contains(&amount) => Plan::Silence,
            None if rules.late_amounts.contains(&amount) => Plan::Answer(approved, rules.late_ms),
            None => Plan::Answer(approved, 0),
        };
        books
            .records
            .insert(charge.payment_id, Record::Approved(charge.amount));
        books.totals.charges += 1;
        plan
    }

    /// Waits the latency plus `extra_ms` and answers `value`, or waits the deadline and answers
    /// `Err(Timeout)` when the answer would come at or after it.
    async fn answer<T>(&self, extra_ms: u64, value: T) -> Result<T, GatewayError> {
        let due = self.rules.latency_ms.saturating_add(extra_ms);
        if due >= self.rules.timeout_ms {
            self.silence().await;
            return Err(GatewayError::Timeout);
        }
        if due > 0 {
            tokio::time::sleep(Duration::from_millis(due)).await;
        }
        Ok(value)
    }

    /// Waits the deadline.
    async fn silence(&self) {
        tokio::time::sleep(Duration::from_millis(self.rules.timeout_ms)).await;
    }
}

#[async_trait]
impl PaymentGateway for SimulatedGateway {
    async fn charge(&self, charge: &GatewayCharge) -> Result<ChargeOutcome, GatewayError> {
        match self.arrive(charge) {
            Plan::Answer(outcome, extra_ms) => self.answer(extra_ms, outcome).await,
            Plan::Silence => {
                self.silence().await;
                Err(GatewayError::Timeout)
            }
        }
    }

    async fn lookup(&self, payment_id: PaymentId) -> Result<GatewayRecord, GatewayError> {
        let record = self.books().records.get(&payment_id).copied();
        let reference = Self::reference(payment_id);
        let found = match record {
            None | Some(Record::Missed) => GatewayRecord::Unknown,
            Some(Record::Approved(_)) => GatewayRecord::Approved { reference },
            Some(Record::Declined) => GatewayRecord::Declined {
                reason: DECLINE_REASON.to_owned(),
            },
            Some(Record::Refunded(_)) => GatewayRecord::Refunded { reference },
        };
        self.answer(0, found).await
    }

    /// Refunds the whole charge once. An amount other than the one charged is refused before
    /// acting (`Unavailable`): the caller has the wrong payment, and nothing moves.
    async fn refund(&self, payment_id: PaymentId, amount: Money) -> Result<(), GatewayError> {
        let done = {
            let mut books = self.books();
            match books.records.get(&payment_id).copied() {
                Some(Record::Approved(charged)) if charged == amount => {
                    books.records.insert(payment_id, Record::Refunded(charged));
                    books.totals.refunds += 1;
                    Ok(())
                }
                Some(Record::Refunded(charged)) if charged == amount => Ok(()),
                Some(Record::Approved(charged) | Record::Refunded(charged)) => {
                    Err(GatewayError::Unavailable(format!(
                        "refund of {amount} for a charge of {charged}"
                    )))
                }
                None | Some(Record::Missed | Record::Declined) => {
                    Err(GatewayError::NothingToRefund)
                }
            }
        };
        self.answer(0, done).await?
    }
}
