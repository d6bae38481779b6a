//! Charging the caller's wallet. With an `Idempotency-Key` the transfer id is derived from the
//! user and the key, so a retry — even after the idempotency record is gone, or on another
//! instance — finds the first charge instead of charging twice.

use super::Wallet;
use crate::accounts::Principal;
use crate::ports::wallet::{ChargeError, NewCharge, PostedCharge};
use crate::{DependencyError, ErrorClass, FieldViolation, UseCaseError};
use reserva_domain::accounts::UserId;
use reserva_domain::wallet::{ChargeAmount, MAX_BALANCE, Money, TransferId};
use thiserror::Error;

/// Why a charge failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ChargeWalletError {
    /// The amount is not 1..=1,000,000 (`amount`: `amount_not_positive` / `amount_too_large`).
    #[error("invalid charge")]
    Invalid(Vec<FieldViolation>),
    /// The balance would pass its limit.
    #[error("the balance may be at most {limit}")]
    BalanceLimitExceeded {
        /// The limit.
        limit: Money,
    },
    /// The idempotency key was used for a charge of another amount.
    #[error("the idempotency key was used for a different charge")]
    KeyReused,
    /// A dependency failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

impl UseCaseError for ChargeWalletError {
    fn class(&self) -> ErrorClass {
        match self {
            Self::Invalid(_) => ErrorClass::InvalidInput,
            Self::BalanceLimitExceeded { .. } => ErrorClass::Conflict,
            Self::KeyReused => ErrorClass::Unprocessable,
            Self::Dependency(error) => error.class(),
        }
    }
    fn code(&self) -> &'static str {
        match self {
            Self::Invalid(_) => "validation_failed",
            Self::BalanceLimitExceeded { .. } => "balance_limit_exceeded",
            Self::KeyReused => "idempotency_key_reused",
            Self::Dependency(error) => error.code(),
        }
    }
    fn violations(&self) -> &[FieldViolation] {
        match self {
            Self::Invalid(violations) => violations,
            _ => &[],
        }
    }
}

/// The transfer id of `user`'s charge under `key`: the same key always names the same charge.
#[must_use]
pub fn charge_transfer_id(user: UserId, key: &str) -> TransferId {
    TransferId::derive("charge", user.as_uuid(), key)
}

impl Wallet {
    /// Charges the caller's wallet by `amount`. A repeat with the same key and amount returns
    /// the first charge (`replayed`) and posts nothing.
    ///
    /// # Errors
    /// `Invalid`, `BalanceLimitExceeded`, `KeyReused`, `Dependency`.
    #[tracing::instrument(skip_all, fields(user_id = %principal.user_id))]
    pub async fn charge(
        &self,
        principal: &Principal,
        amount: i64,
        idempotency_key: Option<&str>,
    ) -> Result<PostedCharge, ChargeWalletError> {
        let amount = ChargeAmount::new(amount).map_err(|rule| {
            ChargeWalletError::Invalid(vec![FieldViolation::new("amount", rule.code(), rule)])
        })?;
        let transfer_id = idempotency_key.map_or_else(
            || TransferId::from_uuid(uuid::Uuid::now_v7()),
            |key| charge_transfer_id(principal.user_id, key),
        );
        let charge = NewCharge {
            transfer_id,
            user_id: principal.user_id,
            amount,
            max_balance: MAX_BALANCE,
            now: self.ports.clock.now(),
        };
        self.ports
            .ledger
            .charge(charge)
            .await
            .map_err(|error| match error {
                ChargeError::BalanceLimitExceeded { limit } => {
                    ChargeWalletError::BalanceLimitExceeded { limit }
                }
                ChargeError::IdReused => ChargeWalletError::KeyReused,
                ChargeError::Dependency(error) => error.into(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::wallet::MockWalletRepository;
    use crate::wallet::test_support::{member, now, wallet};
    use reserva_domain::wallet::{LedgerAccount, Transfer, TransferKind};

    fn posted(charge: &NewCharge, replayed: bool) -> PostedCharge {
        PostedCharge {
            transfer: Transfer {
                id: charge.transfer_id,
                from: LedgerAccount::Funding,
                to: LedgerAccount::UserWallet(charge.user_id),
                amount: charge.amount.money(),
                kind: TransferKind::Charge,
                created_at: now(),
            },
            balance_after: charge.amount.money(),
            replayed,
        }
    }

    #[tokio::test]
    async fn a_key_derives_the_transfer_id_from_the_user_and_the_key() {
        let caller = member();
        let expected = TransferId::derive("charge", caller.user_id.as_uuid(), "key-1");
        let mut ledger = MockWalletRepository::new();
        ledger
            .expect_charge()
            .withf(move |charge| {
                charge.transfer_id == expected
                    && charge.user_id == caller.user_id
                    && charge.amount.money().get() == 5_000
                    && charge.max_balance == MAX_BALANCE
            })
            .times(2)
            .returning(|charge| Ok(posted(&charge, false)));
        let wallet = wallet(ledger);
        let first = wallet.charge(&caller, 5_000, Some("key-1")).await;
        assert_eq!(first.map(|p| p.transfer.id), Ok(expected));
        // the same key twice: the same id, so the ledger can see the repeat
        let again = wallet.charge(&caller, 5_000, Some("key-1")).await;
        assert_eq!(again.map(|p| p.transfer.id), Ok(expected));
        assert_eq!(charge_transfer_id(caller.user_id, "key-1"), expected);
    }

    #[tokio::test]
    async fn without_a_key_every_charge_gets_a_fresh_v7_id() {
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let record = std::sync::Arc::clone(&seen);
        let mut ledger = MockWalletRepository::new();
        ledger.expect_charge().times(2).returning(move |charge| {
            record
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(charge.transfer_id);
            Ok(posted(&charge, false))
        });
        let wallet = wallet(ledger);
        let caller = member();
        assert!(wallet.charge(&caller, 1, None).await.is_ok());
        assert!(wallet.charge(&caller, 1, None).await.is_ok());
        let ids = seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        assert_ne!(ids[0], ids[1]);
        assert!(ids.iter().all(|id| id.as_uuid().get_version_num() == 7));
    }

    #[tokio::test]
    async fn a_replayed_charge_is_answered_as_the_first() {
        let mut ledger = MockWalletRepository::new();
        ledger
            .expect_charge()
            .returning(|charge| Ok(posted(&charge, true)));
        let result = wallet(ledger).charge(&member(), 700, Some("retry")).await;
        assert_eq!(result.map(|p| p.replayed), Ok(true));
    }

    #[tokio::test]
    async fn amounts_limits_and_reused_keys() {
        for (amount, code) in [
            (0, "amount_not_positive"),
            (-5, "amount_not_positive"),
            (1_000_001, "amount_too_large"),
        ] {
            let mut ledger = MockWalletRepository::new();
            ledger.expect_charge().never();
            let error = wallet(ledger)
                .charge(&member(), amount, None)
                .await
                .expect_err("invalid");
            assert_eq!(error.class(), ErrorClass::InvalidInput);
            assert_eq!(
                (error.violations()[0].field, error.violations()[0].code),
                ("amount", code)
            );
        }
        let cases = [
            (
                ChargeError::BalanceLimitExceeded { limit: MAX_BALANCE },
                ErrorClass::Conflict,
                "balance_limit_exceeded",
            ),
            (
                ChargeError::IdReused,
                ErrorClass::Unprocessable,
                "idempotency_key_reused",
            ),
            (
                ChargeError::Dependency(DependencyError::Unavailable("db".into())),
                ErrorClass::Unavailable,
                "service_unavailable",
            ),
        ];
        for (refusal, class, code) in cases {
            let mut ledger = MockWalletRepository::new();
            ledger.expect_charge().return_once(move |_| Err(refusal));
            let error = wallet(ledger)
                .charge(&member(), 1_000_000, Some("k"))
                .await
                .expect_err("refused");
            assert_eq!((error.class(), error.code()), (class, code));
        }
    }
}
