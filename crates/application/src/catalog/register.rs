//! Registering for a test (applying) or a course (enrolling) with a payment. The amount must be
//! the item's price and within the method's limits. From the wallet, the store pays and registers
//! in one transaction. Through the gateway, the store first records a `pending` payment that holds
//! the user's place, then the provider is charged under the payment id, and the answer settles
//! (registers) or fails the payment. An answer lost to a timeout is asked for once; if that is
//! lost too, the payment stays pending for the reconciler and the client is told the outcome is
//! unknown, with the payment id to look up.
//!
//! With an `Idempotency-Key` the payment id derives from the user and the key, so a retry — even
//! without its idempotency record, on another instance — finds the first attempt: a pending one
//! is resumed at the provider (which charges an id once), a declined one is declined again and a
//! settled one is answered as it stands.

use super::Catalog;
use crate::accounts::Principal;
use crate::ports::catalog::{BeginPaymentError, Begun, PaymentIntent, SettleError, Settled};
use crate::ports::payments::{ChargeOutcome, GatewayCharge, GatewayError, GatewayRecord};
use crate::{DependencyError, ErrorClass, FieldViolation, OUTCOME_UNKNOWN, UseCaseError};
use chrono::{DateTime, SubsecRound, Utc};
use reserva_domain::catalog::{ItemId, ItemKind, Registration};
use reserva_domain::wallet::{Money, Payment, PaymentId, PaymentMethod, PaymentStatus};
use thiserror::Error;

/// What the client sends to register.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegisterRequest {
    /// The amount: must equal the item's price.
    pub amount: i64,
    /// How to pay.
    pub method: PaymentMethod,
}

/// A registration and its payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registered {
    /// The paid payment (or its later state, when replayed) and its registration.
    pub settled: Settled,
    /// Whether an earlier request with the same key made the payment (a retry).
    pub replayed: bool,
}

/// Why registering failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RegisterError {
    /// The amount is negative, outside the method's limits, or not the price (field `amount`:
    /// `amount_negative`, `amount_outside_method_limits`, `amount_not_price`).
    #[error("invalid registration")]
    Invalid(Vec<FieldViolation>),
    /// No such item of that kind, or deleted.
    #[error("item not found")]
    ItemNotFound,
    /// The item is not open now.
    #[error("registration is closed")]
    Closed,
    /// The caller already holds a live registration (or a pending payment) for the item.
    #[error("already registered")]
    AlreadyRegistered,
    /// The idempotency key was used for another payment (item, amount or method).
    #[error("the idempotency key was used for a different payment")]
    KeyReused,
    /// The wallet holds less than the price.
    #[error("insufficient balance")]
    InsufficientBalance,
    /// The provider declined the payment: nothing was charged and nothing registered.
    #[error("the payment was declined: {reason}")]
    Declined {
        /// The provider's reason.
        reason: String,
    },
    /// The provider could not be reached (or never received the charge): nothing was charged.
    #[error("the payment provider is unavailable")]
    ProviderUnavailable,
    /// An earlier attempt under this idempotency key failed (declined, or the provider could
    /// not be reached): its payment id is never charged again, so a retry needs a new key.
    #[error("an earlier attempt with this idempotency key failed; send a new key to try again")]
    AttemptFailed,
    /// The provider's answer was lost: the payment stays pending until the reconciler learns its
    /// outcome. Look it up by its id.
    #[error("the payment's outcome is not known yet")]
    OutcomeUnknown {
        /// The pending payment.
        payment_id: PaymentId,
    },
    /// The payment was failed meanwhile (by the reconciler) although the provider approved it.
    #[error("the payment is no longer pending")]
    PaymentNotPending,
    /// A dependency failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

impl UseCaseError for RegisterError {
    fn class(&self) -> ErrorClass {
        match self {
            Self::Invalid(_) => ErrorClass::InvalidInput,
            Self::ItemNotFound => ErrorClass::NotFound,
            Self::Closed
            | Self::AlreadyRegistered
            | Self::InsufficientBalance
            | Self::PaymentNotPending
            | Self::AttemptFailed => ErrorClass::Conflict,
            Self::KeyReused => ErrorClass::Unprocessable,
            Self::Declined { .. } => ErrorClass::PaymentDeclined,
            Self::ProviderUnavailable => ErrorClass::Unavailable,
            Self::OutcomeUnknown { .. } => ErrorClass::OutcomeUnknown,
            Self::Dependency(error) => error.class(),
        }
    }
    fn code(&self) -> &'static str {
        match self {
            Self::Invalid(_) => "validation_failed",
            Self::ItemNotFound => "item_not_found",
            Self::Closed => "registration_closed",
            Self::AlreadyRegistered => "already_registered",
            Self::KeyReused => "idempotency_key_reused",
            Self::InsufficientBalance => "insufficient_balance",
            Self::Declined { .. } => "payment_declined",
            Self::ProviderUnavailable => "payment_provider_unavailable",
            Self::OutcomeUnknown { .. } => OUTCOME_UNKNOWN,
            Self::PaymentNotPending => "payment_not_pending",
            Self::AttemptFailed => "payment_attempt_failed",
            Self::Dependency(error) => error.code(),
        }
    }
    fn violations(&self) -> &[FieldViolation] {
        match self {
            Self::Invalid(violations) => violations,
            _ => &[],
        }
    }
    fn resource_id(&self) -> Option<String> {
        match self {
            Self::OutcomeUnknown { payment_id } => Some(payment_id.to_string()),
            _ => None,
        }
    }
}

/// What the provider made of a charge, once known.
enum Verdict {
    /// Charged.
    Approved(String),
    /// Refused.
    Declined(String),
    /// Never charged: unreachable, or the charge never arrived.
    NotCharged,
}

/// The reason given when a retry finds its payment failed (the provider's own is not kept, and
/// the attempt may also have failed because the provider never received it).
impl Catalog {
    /// Registers the caller for an item, paying `request.amount` with `request.method`.
    ///
    /// # Errors
    /// `Invalid`, `ItemNotFound`, `Closed`, `AlreadyRegistered`, `KeyReused`,
    /// `InsufficientBalance` (wallet), `Declined`, `ProviderUnavailable`, `OutcomeUnknown` (with
    /// the payment id), `PaymentNotPending`, `Dependency`.
    #[tracing::instrument(skip_all, fields(user_id = %principal.user_id, kind = kind.as_str(), item_id = %id, method = request.method.as_str()))]
    pub async fn register(
        &self,
        principal: &Principal,
        kind: ItemKind,
        id: ItemId,
        request: RegisterRequest,
        idempotency_key: Option<&str>,
    ) -> Result<Registered, RegisterError> {
        let amount = Money::new(request.amount).map_err(|rule| {
            RegisterError::Invalid(vec![FieldViolation::new("amount", "amount_negative", rule)])
        })?;
        request.method.check(amount).map_err(|limit| {
            RegisterError::Invalid(vec![FieldViolation::new("amount", limit.code(), limit)])
        })?;
        let payment_id = idempotency_key.map_or_else(
            || PaymentId::from_uuid(uuid::Uuid::now_v7()),
            |key| PaymentId::derive(principal.user_id, key),
        );
        let now = self.now();
        let intent = PaymentIntent {
            payment_id,
            user_id: principal.user_id,
            kind,
            item_id: id,
            amount,
            method: request.method,
            now,
        };
        let registrations = &self.ports.registrations;
        if !request.method.uses_gateway() {
            let settled = registrations
                .pay_from_wallet(intent)
                .await
                .map_err(|error| refused(error, payment_id))?;
            // A new payment is recorded at `now` (stores keep microseconds); an older one is
            // the first attempt's.
            let replayed = settled.payment.created_at.trunc_subsecs(6) != now.trunc_subsecs(6);
            return Ok(Registered { settled, replayed });
        }
        match registrations
            .begin_payment(intent)
            .await
            .map_err(|error| refused(error, payment_id))?
        {
            Begun::New(payment) => Ok(Registered {
                settled: self.charge(&payment, now, false).await?,
                replayed: false,
            }),
            Begun::Existing(payment, registration) => match payment.status {
                PaymentStatus::Pending => Ok(Registered {
                    settled: self.charge(&payment, now, true).await?,
                    replayed: true,
                }),
                PaymentStatus::Failed => Err(RegisterError::AttemptFailed),
                PaymentStatus::Paid | PaymentStatus::Cancelled => Ok(Registered {
                    settled: with_registration(payment, registration)?,
                    replayed: true,
                }),
            },
        }
    }

    /// Charges a pending payment at the provider and settles or fails it by the answer.
    /// `resumed`: an earlier attempt sent this payment already, so an unreachable provider now
    /// says nothing about whether that one charged it.
    async fn charge(
        &self,
        payment: &Payment,
        now: DateTime<Utc>,
        resumed: bool,
    ) -> Result<Settled, RegisterError> {
        let gateway = &self.ports.gateway;
        let charge = GatewayCharge {
            payment_id: payment.id,
            method: payment.method,
            amount: payment.amount,
            user_id: payment.user_id,
            description: format!("{} {}", payment.kind.as_str(), payment.item_title),
        };
        let verdict = match gateway.charge(&charge).await {
            Ok(ChargeOutcome::Approved { reference }) => Verdict::Approved(reference),
            Ok(ChargeOutcome::Declined { reason }) => Verdict::Declined(reason),
            Err(GatewayError::Unavailable(why)) if !resumed => {
                tracing::warn!(payment_id = %payment.id, %why, "payment provider unavailable");
                Verdict::NotCharged
            }
            Err(error) => {
                // The charge may have happened: ask once what the provider knows.
                tracing::warn!(payment_id = %payment.id, %error, "charge unanswered; looking it up");
                match gateway.lookup(payment.id).await {
                    Ok(GatewayRecord::Approved { reference }) => Verdict::Approved(reference),
                    Ok(GatewayRecord::Declined { reason }) => Verdict::Declined(reason),
                    Ok(GatewayRecord::Refunded { .. }) => {
                        Verdict::Declined("the provider refunded the charge".to_owned())
                    }
                    // Not known yet: the charge may still be on its way to the provider, so
                    // failing it now could leave money charged and nothing registered. It stays
                    // pending, holding the place, for a retry with the same key or for the
                    // reconciler once it is older than `reconcile_after`.
                    Ok(GatewayRecord::Unknown) | Err(_) => {
                        tracing::warn!(payment_id = %payment.id, "outcome unknown; left to the reconciler");
                        return Err(RegisterError::OutcomeUnknown {
                            payment_id: payment.id,
                        });
                    }
                }
            }
        };
        match verdict {
            Verdict::Approved(reference) => match self
                .ports
                .registrations
                .settle_payment(payment.id, &reference, now)
                .await
            {
                Ok(settled) => Ok(settled),
                Err(SettleError::NotPending(_)) => {
                    // The reconciler failed it before this charge landed: give the money back.
                    self.refund_unsettled(payment).await;
                    Err(RegisterError::PaymentNotPending)
                }
                Err(SettleError::NotFound) => Err(lost(payment.id).into()),
                Err(SettleError::Dependency(error)) => {
                    // Charged but not recorded: the reconciler settles it.
                    tracing::warn!(payment_id = %payment.id, %error, "approved payment not settled; left to the reconciler");
                    Err(RegisterError::OutcomeUnknown {
                        payment_id: payment.id,
                    })
                }
            },
            Verdict::Declined(reason) => match self.fail(payment, now).await? {
                Some(settled) => Ok(settled),
                None => Err(RegisterError::Declined { reason }),
            },
            Verdict::NotCharged => match self.fail(payment, now).await? {
                Some(settled) => Ok(settled),
                None => Err(RegisterError::ProviderUnavailable),
            },
        }
    }

    /// Fails a pending payment. If it was settled meanwhile (the reconciler learnt of a late
    /// charge first), that settlement is the answer instead: `Some` with it.
    async fn fail(
        &self,
        payment: &Payment,
        now: DateTime<Utc>,
    ) -> Result<Option<Settled>, RegisterError> {
        let registrations = &self.ports.registrations;
        let stands =
            registrations
                .fail_payment(payment.id, now)
                .await
                .map_err(|error| match error {
                    SettleError::Dependency(error) => error,
                    SettleError::NotFound | SettleError::NotPending(_) => lost(payment.id),
                })?;
        if !matches!(
            stands.status,
            PaymentStatus::Paid | PaymentStatus::Cancelled
        ) {
            return Ok(None);
        }
        let (payment, registration) = registrations
            .payment(payment.user_id, payment.id)
            .await?
            .ok_or_else(|| lost(payment.id))?;
        Ok(Some(with_registration(payment, registration)?))
    }
}

/// A payment and its registration, which every paid (or later) payment has.
fn with_registration(
    payment: Payment,
    registration: Option<Registration>,
) -> Result<Settled, DependencyError> {
    let id = payment.id;
    registration
        .map(|registration| Settled {
            payment,
            registration,
        })
        .ok_or_else(|| lost(id))
}

/// A payment the store made but cannot find again: a broken store.
fn lost(id: PaymentId) -> DependencyError {
    DependencyError::Failed(format!("payment {id} vanished or has no registration"))
}

/// The store's refusal to begin a payment, as the use case's error.
fn refused(error: BeginPaymentError, payment_id: PaymentId) -> RegisterError {
    match error {
        BeginPaymentError::ItemNotFound => RegisterError::ItemNotFound,
        BeginPaymentError::NotOpen => RegisterError::Closed,
        BeginPaymentError::PriceMismatch { .. } => {
            RegisterError::Invalid(vec![FieldViolation::new(
                "amount",
                "amount_not_price",
                &error,
            )])
        }
        BeginPaymentError::AlreadyRegistered => RegisterError::AlreadyRegistered,
        BeginPaymentError::IdReused => RegisterError::KeyReused,
        BeginPaymentError::InsufficientBalance => RegisterError::InsufficientBalance,
        BeginPaymentError::Dependency(DependencyError::Indeterminate(why)) => {
            tracing::warn!(%payment_id, %why, "payment write unanswered");
            RegisterError::OutcomeUnknown { payment_id }
        }
        BeginPaymentError::Dependency(error) => error.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::test_support::{Fixture, now, payment, principal, registration, settled};
    use chrono::Duration;
    use reserva_domain::accounts::Role;

    const CARD: RegisterRequest = RegisterRequest {
        amount: 30_000,
        method: PaymentMethod::Card,
    };
    const WALLET: RegisterRequest = RegisterRequest {
        amount: 30_000,
        method: PaymentMethod::Wallet,
    };

    fn item_id() -> ItemId {
        ItemId::from_uuid(uuid::Uuid::now_v7())
    }

    fn caller() -> Principal {
        principal(Role::Member)
    }

    /// A store whose `begin_payment` answers `begun` once.
    fn beginning(begun: Begun) -> Fixture {
        let mut fixture = Fixture::new();
        fixture
            .registrations
            .expect_begin_payment()
            .times(1)
            .return_once(move |_| Ok(begun));
        fixture
    }

    /// Expects one settle of `pending` with `reference`, answered with it settled.
    fn settles(fixture: &mut Fixture, pending: &Payment, reference: &'static str) {
        let (id, copy) = (pending.id, pending.clone());
        fixture
            .registrations
            .expect_settle_payment()
            .withf(move |settled_id, settled_ref, at| {
                *settled_id == id && settled_ref == reference && *at == now()
            })
            .times(1)
            .return_once(move |_, reference, _| Ok(settled(copy, reference)));
    }

    /// Expects one fail of `pending`, which then stands failed.
    fn fails(fixture: &mut Fixture, pending: &Payment) {
        let (id, mut failed) = (pending.id, pending.clone());
        failed.status = PaymentStatus::Failed;
        fixture
            .registrations
            .expect_fail_payment()
            .withf(move |failed_id, at| *failed_id == id && *at == now())
            .times(1)
            .return_once(move |_, _| Ok(failed));
    }

    async fn register(fixture: Fixture, who: &Principal) -> Result<Registered, RegisterError> {
        fixture
            .catalog()
            .register(who, ItemKind::Test, item_id(), CARD, Some("key"))
            .await
    }

    fn pending(who: &Principal) -> Payment {
        payment(who.user_id, PaymentMethod::Card, PaymentStatus::Pending)
    }

    #[tokio::test]
    async fn amounts_are_checked_against_sign_and_method_limits_before_anything() {
        let who = caller();
        for (request, code, message) in [
            (
                RegisterRequest {
                    amount: -1,
                    method: PaymentMethod::Wallet,
                },
                "amount_negative",
                None,
            ),
            (
                RegisterRequest {
                    amount: 999,
                    method: PaymentMethod::Card,
                },
                "amount_outside_method_limits",
                Some("card takes 1000 to 100000000 won"),
            ),
            (
                RegisterRequest {
                    amount: 0,
                    method: PaymentMethod::Kakaopay,
                },
                "amount_outside_method_limits",
                Some("kakaopay takes 100 to 50000000 won"),
            ),
            (
                RegisterRequest {
                    amount: 10_000_001,
                    method: PaymentMethod::Wallet,
                },
                "amount_outside_method_limits",
                None,
            ),
        ] {
            let mut fixture = Fixture::new();
            fixture.registrations.expect_begin_payment().never();
            fixture.registrations.expect_pay_from_wallet().never();
            fixture.gateway.expect_charge().never();
            let error = fixture
                .catalog()
                .register(&who, ItemKind::Test, item_id(), request, None)
                .await
                .expect_err("invalid");
            assert_eq!(error.class(), ErrorClass::InvalidInput);
            let violation = &error.violations()[0];
            assert_eq!((violation.field, violation.code), ("amount", code));
            if let Some(message) = message {
                assert_eq!(violation.message, message);
            }
        }
    }

    #[tokio::test]
    async fn the_wallet_pays_in_the_store_with_the_id_derived_from_the_key() {
        let who = caller();
        let item = item_id();
        let expected = PaymentId::derive(who.user_id, "key-1");
        let mut fixture = Fixture::new();
        fixture
            .registrations
            .expect_pay_from_wallet()
            .withf(move |intent| {
                intent.payment_id == expected
                    && intent.user_id == who.user_id
                    && intent.kind == ItemKind::Course
                    && intent.item_id == item
                    && intent.amount.get() == 30_000
                    && intent.method == PaymentMethod::Wallet
                    && intent.now == now()
            })
            .times(1)
            .returning(|intent| {
                let mut paid = payment(intent.user_id, PaymentMethod::Wallet, PaymentStatus::Paid);
                paid.id = intent.payment_id;
                // made by this call: recorded at its instant
                paid.created_at = now();
                Ok(settled(paid, "unused"))
            });
        fixture.registrations.expect_begin_payment().never();
        fixture.gateway.expect_charge().never();
        let catalog = fixture.catalog();
        let first = catalog
            .register(&who, ItemKind::Course, item, WALLET, Some("key-1"))
            .await
            .expect("paid");
        assert_eq!(first.settled.payment.id, expected);
        assert!(!first.replayed);

        let mut fixture = Fixture::new();
        fixture
            .registrations
            .expect_pay_from_wallet()
            .returning(|intent| {
                // found as the first attempt made it, a minute earlier
                let paid = payment(intent.user_id, PaymentMethod::Wallet, PaymentStatus::Paid);
                assert!(paid.created_at < intent.now);
                Ok(settled(paid, "unused"))
            });
        let replay = fixture
            .catalog()
            .register(&who, ItemKind::Course, item, WALLET, Some("key-1"))
            .await
            .expect("replayed");
        assert!(replay.replayed);
    }

    #[tokio::test]
    async fn without_a_key_each_attempt_gets_a_fresh_v7_id() {
        let mut fixture = Fixture::new();
        fixture
            .registrations
            .expect_pay_from_wallet()
            .withf(|intent| intent.payment_id.as_uuid().get_version_num() == 7)
            .times(1)
            .returning(|intent| {
                let mut paid = payment(intent.user_id, PaymentMethod::Wallet, PaymentStatus::Paid);
                paid.created_at = intent.now + Duration::nanoseconds(1);
                Ok(settled(paid, "unused"))
            });
        let registered = fixture
            .catalog()
            .register(&caller(), ItemKind::Test, item_id(), WALLET, None)
            .await
            .expect("paid");
        // a sub-microsecond difference is the store's rounding, not an older attempt
        assert!(!registered.replayed);
    }

    #[tokio::test]
    async fn the_stores_refusals_keep_their_codes() {
        let cases = [
            (
                BeginPaymentError::ItemNotFound,
                ErrorClass::NotFound,
                "item_not_found",
            ),
            (
                BeginPaymentError::NotOpen,
                ErrorClass::Conflict,
                "registration_closed",
            ),
            (
                BeginPaymentError::PriceMismatch {
                    price: Money::new(25_000).unwrap_or(Money::ZERO),
                },
                ErrorClass::InvalidInput,
                "validation_failed",
            ),
            (
                BeginPaymentError::AlreadyRegistered,
                ErrorClass::Conflict,
                "already_registered",
            ),
            (
                BeginPaymentError::IdReused,
                ErrorClass::Unprocessable,
                "idempotency_key_reused",
            ),
            (
                BeginPaymentError::InsufficientBalance,
                ErrorClass::Conflict,
                "insufficient_balance",
            ),
            (
                BeginPaymentError::Dependency(DependencyError::Unavailable("db".into())),
                ErrorClass::Unavailable,
                "service_unavailable",
            ),
            (
                BeginPaymentError::Dependency(DependencyError::Indeterminate("lost".into())),
                ErrorClass::OutcomeUnknown,
                OUTCOME_UNKNOWN,
            ),
        ];
        let who = caller();
        for wallet in [true, false] {
            for (refusal, class, code) in cases.clone() {
                let mut fixture = Fixture::new();
                if wallet {
                    fixture
                        .registrations
                        .expect_pay_from_wallet()
                        .return_once(move |_| Err(refusal));
                } else {
                    fixture
                        .registrations
                        .expect_begin_payment()
                        .return_once(move |_| Err(refusal));
                }
                fixture.gateway.expect_charge().never();
                let request = if wallet { WALLET } else { CARD };
                let error = fixture
                    .catalog()
                    .register(&who, ItemKind::Test, item_id(), request, Some("k"))
                    .await
                    .expect_err("refused");
                assert_eq!((error.class(), error.code()), (class, code));
                if code == "validation_failed" {
                    let violation = &error.violations()[0];
                    assert_eq!(
                        (violation.field, violation.code),
                        ("amount", "amount_not_price")
                    );
                    assert!(violation.message.contains("25000"), "{}", violation.message);
                }
                if code == OUTCOME_UNKNOWN {
                    let expected = PaymentId::derive(who.user_id, "k").to_string();
                    assert_eq!(error.resource_id(), Some(expected));
                }
            }
        }
    }

    #[tokio::test]
    async fn an_approved_charge_settles_the_new_payment() {
        let who = caller();
        let new = pending(&who);
        let mut fixture = beginning(Begun::New(new.clone()));
        let expected = GatewayCharge {
            payment_id: new.id,
            method: PaymentMethod::Card,
            amount: new.amount,
            user_id: who.user_id,
            description: "test Rust basics".into(),
        };
        fixture
            .gateway
            .expect_charge()
            .withf(move |charge| *charge == expected)
            .times(1)
            .returning(|_| {
                Ok(ChargeOutcome::Approved {
                    reference: "ref-9".into(),
                })
            });
        fixture.gateway.expect_lookup().never();
        settles(&mut fixture, &new, "ref-9");
        fixture.registrations.expect_fail_payment().never();
        let registered = register(fixture, &who).await.expect("registered");
        assert!(!registered.replayed);
        assert_eq!(registered.settled.payment.status, PaymentStatus::Paid);
        assert_eq!(registered.settled.registration.payment_id, new.id);
    }

    #[tokio::test]
    async fn a_declined_charge_fails_the_payment_with_the_providers_reason() {
        let who = caller();
        let new = pending(&who);
        let mut fixture = beginning(Begun::New(new.clone()));
        fixture.gateway.expect_charge().returning(|_| {
            Ok(ChargeOutcome::Declined {
                reason: "card expired".into(),
            })
        });
        fails(&mut fixture, &new);
        fixture.registrations.expect_settle_payment().never();
        let error = register(fixture, &who).await.expect_err("declined");
        assert_eq!(
            (error.class(), error.code()),
            (ErrorClass::PaymentDeclined, "payment_declined")
        );
        assert!(error.to_string().contains("card expired"));
    }

    #[tokio::test]
    async fn an_unavailable_provider_fails_the_payment_without_a_lookup() {
        let who = caller();
        let new = pending(&who);
        let mut fixture = beginning(Begun::New(new.clone()));
        fixture
            .gateway
            .expect_charge()
            .returning(|_| Err(GatewayError::Unavailable("connection refused".into())));
        fixture.gateway.expect_lookup().never();
        fails(&mut fixture, &new);
        let error = register(fixture, &who).await.expect_err("unavailable");
        assert_eq!(
            (error.class(), error.code()),
            (ErrorClass::Unavailable, "payment_provider_unavailable")
        );
    }

    /// A timed-out charge of a new payment whose lookup answers `lookup`.
    fn timed_out(
        who: &Principal,
        lookup: Result<GatewayRecord, GatewayError>,
    ) -> (Fixture, Payment) {
        let new = pending(who);
        let mut fixture = beginning(Begun::New(new.clone()));
        fixture
            .gateway
            .expect_charge()
            .times(1)
            .returning(|_| Err(GatewayError::Timeout));
        let id = new.id;
        fixture
            .gateway
            .expect_lookup()
            .withf(move |looked_up| *looked_up == id)
            .times(1)
            .return_once(move |_| lookup);
        (fixture, new)
    }

    #[tokio::test]
    async fn a_timeout_is_looked_up_once_and_resolved_by_the_answer() {
        let who = caller();
        let approved = Ok(GatewayRecord::Approved {
            reference: "ref-late".into(),
        });
        let (mut fixture, new) = timed_out(&who, approved);
        settles(&mut fixture, &new, "ref-late");
        assert!(register(fixture, &who).await.is_ok());

        let declined = Ok(GatewayRecord::Declined {
            reason: "limit".into(),
        });
        let (mut fixture, new) = timed_out(&who, declined);
        fails(&mut fixture, &new);
        let error = register(fixture, &who).await.expect_err("declined");
        assert_eq!(error.code(), "payment_declined");

        // not known to the provider yet: it may still arrive, so it stays pending
        let (mut fixture, new) = timed_out(&who, Ok(GatewayRecord::Unknown));
        fixture.registrations.expect_fail_payment().never();
        fixture.registrations.expect_settle_payment().never();
        let error = register(fixture, &who).await.expect_err("unknown");
        assert_eq!(error.code(), OUTCOME_UNKNOWN);
        assert_eq!(error.resource_id(), Some(new.id.to_string()));
    }

    #[tokio::test]
    async fn a_lookup_without_answer_leaves_the_payment_pending_and_names_it() {
        let who = caller();
        for lost in [
            GatewayError::Timeout,
            GatewayError::Unavailable("down".into()),
        ] {
            let (mut fixture, new) = timed_out(&who, Err(lost));
            fixture.registrations.expect_settle_payment().never();
            fixture.registrations.expect_fail_payment().never();
            let error = register(fixture, &who).await.expect_err("unknown");
            assert_eq!(
                (error.class(), error.code()),
                (ErrorClass::OutcomeUnknown, OUTCOME_UNKNOWN)
            );
            assert_eq!(error.resource_id(), Some(new.id.to_string()));
        }
    }

    #[tokio::test]
    async fn a_retry_resumes_a_pending_payment_at_the_provider() {
        let who = caller();
        let earlier = pending(&who);
        let mut fixture = beginning(Begun::Existing(earlier.clone(), None));
        let id = earlier.id;
        fixture
            .gateway
            .expect_charge()
            .withf(move |charge| charge.payment_id == id)
            .times(1)
            .returning(|_| {
                Ok(ChargeOutcome::Approved {
                    reference: "ref-1".into(),
                })
            });
        settles(&mut fixture, &earlier, "ref-1");
        let registered = register(fixture, &who).await.expect("resumed");
        assert!(registered.replayed);
    }

    #[tokio::test]
    async fn a_retry_of_a_failed_payment_is_refused_without_the_provider() {
        let who = caller();
        let failed = payment(who.user_id, PaymentMethod::Card, PaymentStatus::Failed);
        let mut fixture = beginning(Begun::Existing(failed, None));
        fixture.gateway.expect_charge().never();
        let error = register(fixture, &who).await.expect_err("failed before");
        assert_eq!(
            (error.class(), error.code()),
            (ErrorClass::Conflict, "payment_attempt_failed")
        );
    }

    #[tokio::test]
    async fn an_unreachable_provider_on_a_resumed_payment_leaves_it_pending() {
        // The first attempt may have been charged before its answer was lost: "unavailable"
        // now says nothing about it, so the payment is looked up, and kept pending if unknown.
        for record in [Ok(GatewayRecord::Unknown), Err(GatewayError::Timeout)] {
            let who = caller();
            let earlier = pending(&who);
            let mut fixture = beginning(Begun::Existing(earlier.clone(), None));
            fixture
                .gateway
                .expect_charge()
                .returning(|_| Err(GatewayError::Unavailable("down".into())));
            fixture
                .gateway
                .expect_lookup()
                .times(1)
                .return_once(move |_| record);
            fixture.registrations.expect_fail_payment().never();
            let error = register(fixture, &who).await.expect_err("unknown");
            assert_eq!(error.code(), OUTCOME_UNKNOWN);
            assert_eq!(error.resource_id(), Some(earlier.id.to_string()));
        }
    }

    #[tokio::test]
    async fn a_retry_of_a_settled_payment_is_replayed_as_it_stands() {
        let who = caller();
        for status in [PaymentStatus::Paid, PaymentStatus::Cancelled] {
            let earlier = payment(who.user_id, PaymentMethod::Card, status);
            let made = registration(&earlier);
            let mut fixture = beginning(Begun::Existing(earlier.clone(), Some(made.clone())));
            fixture.gateway.expect_charge().never();
            fixture.registrations.expect_settle_payment().never();
            let registered = register(fixture, &who).await.expect("replayed");
            assert!(registered.replayed);
            assert_eq!(
                registered.settled,
                Settled {
                    payment: earlier,
                    registration: made
                }
            );
        }
        // a settled payment without its registration is a broken store
        let earlier = payment(who.user_id, PaymentMethod::Card, PaymentStatus::Paid);
        let fixture = beginning(Begun::Existing(earlier, None));
        let error = register(fixture, &who).await.expect_err("broken");
        assert_eq!(error.class(), ErrorClass::Internal);
    }

    fn approving(fixture: &mut Fixture) {
        fixture.gateway.expect_charge().returning(|_| {
            Ok(ChargeOutcome::Approved {
                reference: "ref-1".into(),
            })
        });
    }

    #[tokio::test]
    async fn a_settle_that_finds_the_payment_failed_is_a_conflict_and_the_charge_given_back() {
        let who = caller();
        for refunded in [Ok(()), Err(GatewayError::Timeout)] {
            let new = pending(&who);
            let (id, amount) = (new.id, new.amount);
            let mut fixture = beginning(Begun::New(new));
            approving(&mut fixture);
            fixture
                .registrations
                .expect_settle_payment()
                .returning(|_, _, _| Err(SettleError::NotPending(PaymentStatus::Failed)));
            fixture
                .gateway
                .expect_refund()
                .withf(move |refunded_id, refunded_amount| {
                    *refunded_id == id && *refunded_amount == amount
                })
                .times(1)
                .return_once(move |_, _| refunded);
            let error = register(fixture, &who).await.expect_err("not pending");
            assert_eq!(
                (error.class(), error.code()),
                (ErrorClass::Conflict, "payment_not_pending")
            );
        }
    }

    #[tokio::test]
    async fn a_settle_the_store_cannot_write_is_left_to_the_reconciler() {
        let who = caller();
        let new = pending(&who);
        let mut fixture = beginning(Begun::New(new.clone()));
        approving(&mut fixture);
        fixture
            .registrations
            .expect_settle_payment()
            .returning(|_, _, _| Err(DependencyError::Unavailable("db".into()).into()));
        let error = register(fixture, &who).await.expect_err("unknown");
        assert_eq!(error.code(), OUTCOME_UNKNOWN);
        assert_eq!(error.resource_id(), Some(new.id.to_string()));
    }

    #[tokio::test]
    async fn a_fail_that_lost_to_a_concurrent_settle_answers_the_settlement() {
        let who = caller();
        let new = pending(&who);
        let mut fixture = beginning(Begun::New(new.clone()));
        fixture.gateway.expect_charge().returning(|_| {
            Ok(ChargeOutcome::Declined {
                reason: "declined".into(),
            })
        });
        let won = settled(new.clone(), "ref-reconciler");
        let stands = won.payment.clone();
        fixture
            .registrations
            .expect_fail_payment()
            .return_once(move |_, _| Ok(stands));
        let (id, answer) = (new.id, won.clone());
        fixture
            .registrations
            .expect_payment()
            .withf(move |user, wanted| *user == who.user_id && *wanted == id)
            .return_once(move |_, _| Ok(Some((answer.payment, Some(answer.registration)))));
        let registered = register(fixture, &who).await.expect("settled meanwhile");
        assert_eq!(registered.settled, won);
    }

    #[tokio::test]
    async fn a_fail_the_store_cannot_write_is_a_dependency_error() {
        let who = caller();
        let mut fixture = beginning(Begun::New(pending(&who)));
        fixture.gateway.expect_charge().returning(|_| {
            Ok(ChargeOutcome::Declined {
                reason: "no".into(),
            })
        });
        fixture
            .registrations
            .expect_fail_payment()
            .returning(|_, _| Err(DependencyError::Unavailable("db".into()).into()));
        let error = register(fixture, &who).await.expect_err("store down");
        assert_eq!(error.code(), "service_unavailable");
    }
}
