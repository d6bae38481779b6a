//! Completing a registration: the registrant marks their applied test or enrolled course done,
//! after which its payment can no longer be cancelled.

use super::Catalog;
use crate::accounts::Principal;
use crate::ports::catalog::CompleteError;
use crate::{DependencyError, ErrorClass, UseCaseError};
use reserva_domain::catalog::{CompleteRefusal, ItemId, ItemKind, Registration};
use thiserror::Error;

/// Why completing a registration failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CompleteRegistrationError {
    /// The caller never registered for the item.
    #[error("registration not found")]
    NotFound,
    /// Their latest registration for it is completed or cancelled.
    #[error(transparent)]
    Refused(#[from] CompleteRefusal),
    /// A dependency failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

impl UseCaseError for CompleteRegistrationError {
    fn class(&self) -> ErrorClass {
        match self {
            Self::NotFound => ErrorClass::NotFound,
            Self::Refused(_) => ErrorClass::Conflict,
            Self::Dependency(error) => error.class(),
        }
    }
    fn code(&self) -> &'static str {
        match self {
            Self::NotFound => "registration_not_found",
            Self::Refused(refusal) => refusal.code(),
            Self::Dependency(error) => error.code(),
        }
    }
}

impl Catalog {
    /// Completes the caller's latest registration for an item.
    ///
    /// # Errors
    /// `NotFound`, `Refused` (`already_completed`, `registration_cancelled`), `Dependency`.
    #[tracing::instrument(skip_all, fields(user_id = %principal.user_id, kind = kind.as_str(), item_id = %id))]
    pub async fn complete(
        &self,
        principal: &Principal,
        kind: ItemKind,
        id: ItemId,
    ) -> Result<Registration, CompleteRegistrationError> {
        self.ports
            .registrations
            .complete(principal.user_id, kind, id, self.now())
            .await
            .map_err(|error| match error {
                CompleteError::NotFound => CompleteRegistrationError::NotFound,
                CompleteError::Refused(refusal) => refusal.into(),
                CompleteError::Dependency(error) => error.into(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::test_support::{Fixture, now, payment, principal, registration};
    use reserva_domain::accounts::Role;
    use reserva_domain::catalog::RegistrationStatus;
    use reserva_domain::wallet::{PaymentMethod, PaymentStatus};

    #[tokio::test]
    async fn completes_the_callers_registration() {
        let caller = principal(Role::Member);
        let paid = payment(caller.user_id, PaymentMethod::Card, PaymentStatus::Paid);
        let item = paid.item_id;
        let mut done = registration(&paid);
        done.status = RegistrationStatus::Completed;
        done.completed_at = Some(now());
        let mut fixture = Fixture::new();
        fixture
            .registrations
            .expect_complete()
            .withf(move |user, kind, id, at| {
                *user == caller.user_id && *kind == ItemKind::Test && *id == item && *at == now()
            })
            .times(1)
            .return_once(move |_, _, _, _| Ok(done));
        let completed = fixture
            .catalog()
            .complete(&caller, ItemKind::Test, item)
            .await;
        assert_eq!(
            completed.map(|r| r.status),
            Ok(RegistrationStatus::Completed)
        );
    }

    #[tokio::test]
    async fn refusals_keep_their_codes() {
        for (refusal, class, code) in [
            (
                CompleteError::NotFound,
                ErrorClass::NotFound,
                "registration_not_found",
            ),
            (
                CompleteError::Refused(CompleteRefusal::AlreadyCompleted),
                ErrorClass::Conflict,
                "already_completed",
            ),
            (
                CompleteError::Refused(CompleteRefusal::Cancelled),
                ErrorClass::Conflict,
                "registration_cancelled",
            ),
            (
                CompleteError::Dependency(DependencyError::Unavailable("db".into())),
                ErrorClass::Unavailable,
                "service_unavailable",
            ),
        ] {
            let mut fixture = Fixture::new();
            fixture
                .registrations
                .expect_complete()
                .return_once(move |_, _, _, _| Err(refusal));
            let error = fixture
                .catalog()
                .complete(
                    &principal(Role::Member),
                    ItemKind::Course,
                    ItemId::from_uuid(uuid::Uuid::now_v7()),
                )
                .await
                .expect_err("refused");
            assert_eq!((error.class(), error.code()), (class, code));
        }
    }
}
