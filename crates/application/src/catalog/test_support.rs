//! Mocked ports and sample values for the catalog use-case tests.

use super::{Catalog, CatalogPolicy, CatalogPorts};
use crate::accounts::Principal;
use crate::ports::accounts::MockUserRepository;
use crate::ports::catalog::{
    ListedItem, MockCatalogRepository, MockRegistrationRepository, Settled,
};
use crate::ports::payments::MockPaymentGateway;
use crate::ports::system::MockClock;
use chrono::{DateTime, Duration, TimeZone, Utc};
use reserva_domain::accounts::{Email, Role, SessionId, User, UserId, Username};
use reserva_domain::catalog::{
    CatalogItem, Category, CourseDetails, ItemDescription, ItemId, ItemKind, ItemTitle,
    Registration, RegistrationId, RegistrationStatus, Schedule, SkillLevel,
};
use reserva_domain::exams::BusinessZone;
use reserva_domain::wallet::{
    Money, Payment, PaymentId, PaymentMethod, PaymentStatus, RefundState,
};
use std::sync::Arc;

pub(crate) const SEOUL: BusinessZone = BusinessZone::new(chrono_tz::Asia::Seoul);

/// How old a pending payment must be for the reconciler in these tests.
pub(crate) const RECONCILE_AFTER: std::time::Duration = std::time::Duration::from_secs(30);

/// 2026-11-25 12:00 in Seoul.
pub(crate) fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 3, 0, 0)
        .single()
        .unwrap_or_default()
}

pub(crate) fn principal(role: Role) -> Principal {
    Principal {
        user_id: UserId::from_uuid(uuid::Uuid::now_v7()),
        session_id: SessionId::from_uuid(uuid::Uuid::now_v7()),
        role,
    }
}

pub(crate) fn user(id: UserId, role: Role, is_active: bool) -> User {
    let (Ok(email), Ok(username)) = (Email::parse("tutor@example.com"), Username::parse("tutor"))
    else {
        panic!("test fixture values must be valid");
    };
    User {
        id,
        email,
        username,
        role,
        is_active,
        created_at: now(),
        updated_at: now(),
    }
}

pub(crate) fn won(amount: i64) -> Money {
    Money::new(amount).expect("valid")
}

/// An item of `kind`, open from a day ago to a day ahead, priced 30,000; a course is taught by
/// `tutor`.
pub(crate) fn item(kind: ItemKind, tutor: UserId) -> CatalogItem {
    CatalogItem {
        id: ItemId::from_uuid(uuid::Uuid::now_v7()),
        kind,
        title: ItemTitle::parse("Rust basics").expect("valid"),
        description: Some(ItemDescription::parse("Ownership and borrowing").expect("valid")),
        price: won(30_000),
        schedule: Schedule::new(now() - Duration::days(1), now() + Duration::days(1))
            .expect("valid"),
        course: (kind == ItemKind::Course).then_some(CourseDetails {
            category: Category::Python,
            skill_level: SkillLevel::Beginner,
            tutor_id: tutor,
        }),
        registration_count: 3,
        created_at: now() - Duration::days(10),
        updated_at: now() - Duration::days(10),
    }
}

pub(crate) fn listed(item: CatalogItem) -> ListedItem {
    ListedItem {
        item,
        is_registered: false,
    }
}

/// A payment of `user` for a test, in `status`.
pub(crate) fn payment(user: UserId, method: PaymentMethod, status: PaymentStatus) -> Payment {
    let paid = matches!(status, PaymentStatus::Paid | PaymentStatus::Cancelled);
    Payment {
        id: PaymentId::from_uuid(uuid::Uuid::now_v7()),
        user_id: user,
        kind: ItemKind::Test,
        item_id: ItemId::from_uuid(uuid::Uuid::now_v7()),
        item_title: "Rust basics".into(),
        amount: won(30_000),
        method,
        status,
        provider_reference: (paid && method.uses_gateway()).then(|| "ref-1".to_owned()),
        refund: if status == PaymentStatus::Cancelled && method.uses_gateway() {
            RefundState::Pending
        } else {
            RefundState::NotDue
        },
        created_at: now() - Duration::minutes(1),
        paid_at: paid.then(now),
        cancelled_at: (status == PaymentStatus::Cancelled).then(now),
    }
}

/// The registration of a paid `payment`.
pub(crate) fn registration(payment: &Payment) -> Registration {
    Registration {
        id: RegistrationId::from_uuid(uuid::Uuid::now_v7()),
        user_id: payment.user_id,
        item_id: payment.item_id,
        kind: payment.kind,
        status: if payment.status == PaymentStatus::Cancelled {
            RegistrationStatus::Cancelled
        } else {
            RegistrationStatus::initial(payment.kind)
        },
        payment_id: payment.id,
        registered_at: now(),
        completed_at: None,
        cancelled_at: payment.cancelled_at,
    }
}

/// `payment`, now paid with `reference`, and its registration.
pub(crate) fn settled(mut payment: Payment, reference: &str) -> Settled {
    payment.status = PaymentStatus::Paid;
    payment.provider_reference = Some(reference.to_owned());
    payment.paid_at = Some(now());
    let registration = registration(&payment);
    Settled {
        payment,
        registration,
    }
}

pub(crate) struct Fixture {
    pub items: MockCatalogRepository,
    pub registrations: MockRegistrationRepository,
    pub gateway: MockPaymentGateway,
    pub users: MockUserRepository,
}

impl Fixture {
    pub fn new() -> Self {
        Self {
            items: MockCatalogRepository::new(),
            registrations: MockRegistrationRepository::new(),
            gateway: MockPaymentGateway::new(),
            users: MockUserRepository::new(),
        }
    }

    pub fn catalog(self) -> Catalog {
        let mut clock = MockClock::new();
        clock.expect_now().returning(now);
        let ports = CatalogPorts {
            items: Arc::new(self.items),
            registrations: Arc::new(self.registrations),
            gateway: Arc::new(self.gateway),
            users: Arc::new(self.users),
            clock: Arc::new(clock),
        };
        Catalog::new(
            ports,
            CatalogPolicy {
                zone: SEOUL,
                reconcile_after: RECONCILE_AFTER,
            },
        )
    }
}
