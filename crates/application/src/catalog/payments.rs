//! The caller's payments (paid and cancelled ones: pending and failed attempts are never shown),
//! newest first in keyset pages, filtered by status, kind, the dates they were paid on (inclusive,
//! in the business time zone) and the item's title; and one of them.

use super::Catalog;
use super::browse::parse_search;
use crate::accounts::Principal;
use crate::ports::catalog::PaymentQuery;
use crate::{DependencyError, ErrorClass, FieldViolation, UseCaseError};
use chrono::{DateTime, NaiveDate, Utc};
use reserva_domain::catalog::{ItemKind, Registration};
use reserva_domain::paging::PageLimit;
use reserva_domain::wallet::{Payment, PaymentId, PaymentStatus};
use thiserror::Error;

/// One page of payments, newest `paid_at` first, each with its registration.
pub type PaymentPage = crate::Page<(Payment, Option<Registration>), (DateTime<Utc>, PaymentId)>;

/// Which of the caller's payments to list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListPayments {
    /// Only `paid` or only `cancelled` ones.
    pub status: Option<PaymentStatus>,
    /// Only tests or only courses.
    pub kind: Option<ItemKind>,
    /// Paid on this date or later (business time zone).
    pub from: Option<NaiveDate>,
    /// Paid on this date or earlier (business time zone).
    pub to: Option<NaiveDate>,
    /// The item's title contains this text (blank: none).
    pub q: Option<String>,
    /// After this row (`paid_at`, id).
    pub after: Option<(DateTime<Utc>, PaymentId)>,
    /// Page size.
    pub limit: PageLimit,
}

crate::error::invalid_or_dependency_error!(
    /// Why listing payments failed.
    ListPaymentsError,
    /// `from` after `to` (`from_after_to`), a status that is never shown (`status`:
    /// `status_not_listed`), or an invalid search (`q`).
    "invalid payment list request"
);

/// Why reading a payment failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum GetPaymentError {
    /// No such payment shown to the caller (others' too).
    #[error("payment not found")]
    NotFound,
    /// A dependency failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

impl UseCaseError for GetPaymentError {
    fn class(&self) -> ErrorClass {
        match self {
            Self::NotFound => ErrorClass::NotFound,
            Self::Dependency(error) => error.class(),
        }
    }
    fn code(&self) -> &'static str {
        match self {
            Self::NotFound => "payment_not_found",
            Self::Dependency(error) => error.code(),
        }
    }
}

impl Catalog {
    /// A page of the caller's payments.
    ///
    /// # Errors
    /// `Invalid`, `Dependency`.
    #[tracing::instrument(skip_all, fields(user_id = %principal.user_id))]
    pub async fn list_payments(
        &self,
        principal: &Principal,
        request: ListPayments,
    ) -> Result<PaymentPage, ListPaymentsError> {
        let mut violations = Vec::new();
        if let (Some(from), Some(to)) = (request.from, request.to)
            && from > to
        {
            violations.push(FieldViolation::new(
                "from",
                "from_after_to",
                "from must not be after to",
            ));
        }
        if request.status.is_some_and(|status| !status.is_shown()) {
            violations.push(FieldViolation::new(
                "status",
                "status_not_listed",
                "status must be paid or cancelled",
            ));
        }
        let search = parse_search(request.q.as_deref(), &mut violations);
        if !violations.is_empty() {
            return Err(ListPaymentsError::Invalid(violations));
        }
        let zone = self.policy.zone;
        let query = PaymentQuery {
            user_id: principal.user_id,
            status: request.status,
            kind: request.kind,
            paid_from: request.from.map(|date| zone.start_of(date)),
            // The last representable date has no day after it: no upper bound then.
            paid_before: request
                .to
                .and_then(|date| date.succ_opt())
                .map(|date| zone.start_of(date)),
            search,
            after: request.after,
            limit: request.limit,
        };
        let rows = self.ports.registrations.payments(query).await?;
        Ok(PaymentPage::from_rows(
            rows,
            request.limit,
            |(payment, _)| (payment.paid_at.unwrap_or(payment.created_at), payment.id),
        ))
    }

    /// One of the caller's payments with its registration.
    ///
    /// # Errors
    /// `NotFound` (also another user's, and pending or failed ones), `Dependency`.
    #[tracing::instrument(skip_all, fields(user_id = %principal.user_id, payment_id = %id))]
    pub async fn get_payment(
        &self,
        principal: &Principal,
        id: PaymentId,
    ) -> Result<(Payment, Option<Registration>), GetPaymentError> {
        self.ports
            .registrations
            .payment(principal.user_id, id)
            .await?
            .ok_or(GetPaymentError::NotFound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::test_support::{Fixture, payment, principal, registration};
    use chrono::TimeZone;
    use reserva_domain::accounts::Role;
    use reserva_domain::catalog::SearchText;
    use reserva_domain::wallet::PaymentMethod;

    fn request() -> ListPayments {
        ListPayments {
            status: None,
            kind: None,
            from: None,
            to: None,
            q: None,
            after: None,
            limit: PageLimit::new(2).unwrap_or_default(),
        }
    }

    fn date(year: i32, month: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(year, month, day).unwrap_or_default()
    }

    fn utc(year: i32, month: u32, day: u32, hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(year, month, day, hour, 0, 0)
            .single()
            .unwrap_or_default()
    }

    #[tokio::test]
    async fn dates_are_whole_days_in_the_business_zone() {
        let caller = principal(Role::Member);
        let mut fixture = Fixture::new();
        fixture
            .registrations
            .expect_payments()
            .withf(move |query| {
                query.user_id == caller.user_id
                    && query.status == Some(PaymentStatus::Cancelled)
                    && query.kind == Some(ItemKind::Course)
                    // 2026-11-01 00:00 and 2026-11-03 00:00 in Seoul
                    && query.paid_from == Some(utc(2026, 10, 31, 15))
                    && query.paid_before == Some(utc(2026, 11, 2, 15))
                    && query.search.as_ref().map(SearchText::as_str) == Some("50%_off")
                    && query.limit.get() == 2
            })
            .times(1)
            .returning(|_| Ok(vec![]));
        let asked = ListPayments {
            status: Some(PaymentStatus::Cancelled),
            kind: Some(ItemKind::Course),
            from: Some(date(2026, 11, 1)),
            to: Some(date(2026, 11, 2)),
            q: Some("50%_off".into()),
            ..request()
        };
        let page = fixture.catalog().list_payments(&caller, asked).await;
        assert_eq!(page.map(|p| p.next), Ok(None));
        // one day: from = to
        let mut fixture = Fixture::new();
        fixture
            .registrations
            .expect_payments()
            .withf(|query| {
                query.paid_from == Some(utc(2026, 10, 31, 15))
                    && query.paid_before == Some(utc(2026, 11, 1, 15))
            })
            .times(1)
            .returning(|_| Ok(vec![]));
        let one_day = ListPayments {
            from: Some(date(2026, 11, 1)),
            to: Some(date(2026, 11, 1)),
            ..request()
        };
        assert!(
            fixture
                .catalog()
                .list_payments(&caller, one_day)
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn pages_by_paid_at_and_id() {
        let caller = principal(Role::Member);
        let rows: Vec<_> = (0..3)
            .map(|_| {
                let paid = payment(caller.user_id, PaymentMethod::Card, PaymentStatus::Paid);
                let registration = registration(&paid);
                (paid, Some(registration))
            })
            .collect();
        let expected = rows[1].0.clone();
        let mut fixture = Fixture::new();
        fixture
            .registrations
            .expect_payments()
            .withf(|query| query.paid_from.is_none() && query.paid_before.is_none())
            .return_once(move |_| Ok(rows));
        let page = fixture
            .catalog()
            .list_payments(&caller, request())
            .await
            .expect("listed");
        assert_eq!(page.items.len(), 2);
        assert_eq!(page.next, expected.paid_at.map(|at| (at, expected.id)));
    }

    #[tokio::test]
    async fn from_after_to_and_unlisted_statuses_are_refused() {
        let mut fixture = Fixture::new();
        fixture.registrations.expect_payments().never();
        let catalog = fixture.catalog();
        let caller = principal(Role::Member);
        let backwards = ListPayments {
            from: Some(date(2026, 11, 2)),
            to: Some(date(2026, 11, 1)),
            status: Some(PaymentStatus::Pending),
            ..request()
        };
        let error = catalog
            .list_payments(&caller, backwards)
            .await
            .expect_err("invalid");
        assert_eq!(error.class(), ErrorClass::InvalidInput);
        let codes: Vec<_> = error
            .violations()
            .iter()
            .map(|v| (v.field, v.code))
            .collect();
        assert_eq!(
            codes,
            [("from", "from_after_to"), ("status", "status_not_listed")]
        );
    }

    #[tokio::test]
    async fn reads_only_the_callers_own() {
        let caller = principal(Role::Member);
        let paid = payment(caller.user_id, PaymentMethod::Wallet, PaymentStatus::Paid);
        let id = paid.id;
        let mut fixture = Fixture::new();
        fixture
            .registrations
            .expect_payment()
            .returning(move |user, wanted| {
                Ok((user == caller.user_id && wanted == id).then(|| (paid.clone(), None)))
            });
        let catalog = fixture.catalog();
        assert_eq!(
            catalog.get_payment(&caller, id).await.map(|(p, _)| p.id),
            Ok(id)
        );
        let error = catalog
            .get_payment(&principal(Role::Member), id)
            .await
            .expect_err("someone else's");
        assert_eq!(
            (error.class(), error.code()),
            (ErrorClass::NotFound, "payment_not_found")
        );
    }
}
