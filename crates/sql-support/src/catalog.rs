//! Stored items, payments and registrations as entities, and the checks a registration's writes
//! are decided on (why a payment could not begin, whether a same-id payment is a retry, what a
//! settle or a cancel may do), the same for both stores.

use chrono::{DateTime, Utc};
use reserva_application::DependencyError;
use reserva_application::ports::catalog::{BeginPaymentError, PaymentIntent, SettleError};
use reserva_domain::accounts::UserId;
use reserva_domain::catalog::{
    CancelRefusal, CatalogItem, Category, CourseDetails, ItemDescription, ItemId, ItemKind,
    ItemTitle, Registration, RegistrationId, RegistrationStatus, Schedule, SkillLevel, price,
};
use reserva_domain::wallet::{
    Money, Payment, PaymentId, PaymentMethod, PaymentStatus, RefundState,
};
use uuid::Uuid;

fn corrupt(what: &str) -> DependencyError {
    DependencyError::Failed(format!("stored catalog row has an invalid {what}"))
}

fn kind(name: &str) -> Result<ItemKind, DependencyError> {
    ItemKind::parse(name).ok_or_else(|| corrupt("kind"))
}

/// A `catalog_items` row as plain values (without `deleted_at` and the search vector, which no
/// entity carries).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredItem {
    /// `id`.
    pub id: Uuid,
    /// `kind`.
    pub kind: String,
    /// `title`.
    pub title: String,
    /// `description`.
    pub description: Option<String>,
    /// `price`.
    pub price: i64,
    /// `starts_at`.
    pub starts_at: DateTime<Utc>,
    /// `ends_at`.
    pub ends_at: DateTime<Utc>,
    /// `category` (courses only).
    pub category: Option<String>,
    /// `skill_level` (courses only).
    pub skill_level: Option<String>,
    /// `tutor_id` (courses only).
    pub tutor_id: Option<Uuid>,
    /// `registration_count`.
    pub registration_count: i64,
    /// `created_at`.
    pub created_at: DateTime<Utc>,
    /// `updated_at`.
    pub updated_at: DateTime<Utc>,
}

impl StoredItem {
    /// The item.
    ///
    /// # Errors
    /// [`DependencyError::Failed`] when a stored value breaks a rule it was written under (a
    /// course without its details, a test with them, an unknown name, a price out of range).
    pub fn into_item(self) -> Result<CatalogItem, DependencyError> {
        let kind = kind(&self.kind)?;
        let course = match (kind, self.category, self.skill_level, self.tutor_id) {
            (ItemKind::Course, Some(category), Some(skill_level), Some(tutor_id)) => {
                Some(CourseDetails {
                    category: Category::parse(&category).map_err(|_| corrupt("category"))?,
                    skill_level: SkillLevel::parse(&skill_level)
                        .map_err(|_| corrupt("skill level"))?,
                    tutor_id: UserId::from_uuid(tutor_id),
                })
            }
            (ItemKind::Test, None, None, None) => None,
            _ => return Err(corrupt("course details")),
        };
        if self.registration_count < 0 {
            return Err(corrupt("registration count"));
        }
        Ok(CatalogItem {
            id: ItemId::from_uuid(self.id),
            kind,
            title: ItemTitle::from_stored(self.title),
            description: self.description.map(ItemDescription::from_stored),
            price: price(self.price).map_err(|_| corrupt("price"))?,
            schedule: Schedule::new(self.starts_at, self.ends_at)
                .map_err(|_| corrupt("schedule"))?,
            course,
            registration_count: self.registration_count,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

/// A `catalog_payments` row as plain values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPayment {
    /// `id`.
    pub id: Uuid,
    /// `user_id`.
    pub user_id: Uuid,
    /// `kind`.
    pub kind: String,
    /// `item_id`.
    pub item_id: Uuid,
    /// `item_title`.
    pub item_title: String,
    /// `amount`.
    pub amount: i64,
    /// `method`.
    pub method: String,
    /// `status`.
    pub status: String,
    /// `provider_reference`.
    pub provider_reference: Option<String>,
    /// `refund`.
    pub refund: String,
    /// `created_at`.
    pub created_at: DateTime<Utc>,
    /// `paid_at`.
    pub paid_at: Option<DateTime<Utc>>,
    /// `cancelled_at`.
    pub cancelled_at: Option<DateTime<Utc>>,
}

impl StoredPayment {
    /// The payment.
    ///
    /// # Errors
    /// [`DependencyError::Failed`] when a stored value breaks a rule it was written under.
    pub fn into_payment(self) -> Result<Payment, DependencyError> {
        Ok(Payment {
            id: PaymentId::from_uuid(self.id),
            user_id: UserId::from_uuid(self.user_id),
            kind: kind(&self.kind)?,
            item_id: ItemId::from_uuid(self.item_id),
            item_title: self.item_title,
            amount: Money::new(self.amount).map_err(|_| corrupt("amount"))?,
            method: PaymentMethod::parse(&self.method).ok_or_else(|| corrupt("method"))?,
            status: PaymentStatus::parse(&self.status).ok_or_else(|| corrupt("payment status"))?,
            provider_reference: self.provider_reference,
            refund: RefundState::parse(&self.refund).ok_or_else(|| corrupt("refund state"))?,
            created_at: self.created_at,
            paid_at: self.paid_at,
            cancelled_at: self.cancelled_at,
        })
    }
}

/// A `catalog_registrations` row as plain values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRegistration {
    /// `id`.
    pub id: Uuid,
    /// `payment_id`.
    pub payment_id: Uuid,
    /// `user_id`.
    pub user_id: Uuid,
    /// `kind`.
    pub kind: String,
    /// `item_id`.
    pub item_id: Uuid,
    /// `status`.
    pub status: String,
    /// `registered_at`.
    pub registered_at: DateTime<Utc>,
    /// `completed_at`.
    pub completed_at: Option<DateTime<Utc>>,
    /// `cancelled_at`.
    pub cancelled_at: Option<DateTime<Utc>>,
}

impl StoredRegistration {
    /// The registration.
    ///
    /// # Errors
    /// [`DependencyError::Failed`] when a stored value breaks a rule it was written under.
    pub fn into_registration(self) -> Result<Registration, DependencyError> {
        Ok(Registration {
            id: RegistrationId::from_uuid(self.id),
            user_id: UserId::from_uuid(self.user_id),
            item_id: ItemId::from_uuid(self.item_id),
            kind: kind(&self.kind)?,
            status: RegistrationStatus::parse(&self.status)
                .ok_or_else(|| corrupt("registration status"))?,
            payment_id: PaymentId::from_uuid(self.payment_id),
            registered_at: self.registered_at,
            completed_at: self.completed_at,
            cancelled_at: self.cancelled_at,
        })
    }
}

/// What a refused payment write needs to know of the item it named, read after the write
/// inserted nothing: why it did not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemTerms {
    /// Its price.
    pub price: i64,
    /// When it opens.
    pub starts_at: DateTime<Utc>,
    /// When it closes.
    pub ends_at: DateTime<Utc>,
}

/// Why a payment of `intent` may not begin on the item with these terms (`None`: no such item
/// of that kind, or deleted). Checked in this order: the item, that it is open at `intent.now`
/// (inclusive at both ends), that the amount is its price. `Ok` when the item accepts it: the
/// refusal is then the user's place (see [`check_existing`]).
///
/// # Errors
/// `ItemNotFound`, `NotOpen`, `PriceMismatch`.
pub fn check_terms(
    terms: Option<ItemTerms>,
    intent: &PaymentIntent,
) -> Result<(), BeginPaymentError> {
    let terms = terms.ok_or(BeginPaymentError::ItemNotFound)?;
    if !(terms.starts_at <= intent.now && intent.now <= terms.ends_at) {
        return Err(BeginPaymentError::NotOpen);
    }
    if terms.price != intent.amount.get() {
        let price = Money::new(terms.price).map_err(|_| corrupt("price"))?;
        return Err(BeginPaymentError::PriceMismatch { price });
    }
    Ok(())
}

/// Whether the stored payment with an intent's id is that intent (a retry: same user, kind,
/// item, amount and method) or something else.
///
/// # Errors
/// `IdReused` unless it is the same payment.
pub fn check_existing(stored: &Payment, intent: &PaymentIntent) -> Result<(), BeginPaymentError> {
    let same = stored.user_id == intent.user_id
        && stored.kind == intent.kind
        && stored.item_id == intent.item_id
        && stored.amount == intent.amount
        && stored.method == intent.method;
    if same {
        Ok(())
    } else {
        Err(BeginPaymentError::IdReused)
    }
}

/// What a settle does with the (locked) payment in this status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettleStep {
    /// Pending: mark it paid, make the registration, count it, post the transfer.
    Settle,
    /// Paid or later: return it as it stands with its registration.
    Unchanged,
}

/// What a settle of a payment in `status` does.
///
/// # Errors
/// `NotPending(Failed)` for a failed payment.
pub const fn check_settle(status: PaymentStatus) -> Result<SettleStep, SettleError> {
    match status {
        PaymentStatus::Pending => Ok(SettleStep::Settle),
        PaymentStatus::Paid | PaymentStatus::Cancelled => Ok(SettleStep::Unchanged),
        PaymentStatus::Failed => Err(SettleError::NotPending(PaymentStatus::Failed)),
    }
}

/// Whether `user` may cancel the (locked) payment: it is theirs and shown (`paid` or
/// `cancelled`; `None` otherwise, which the caller reports as not found), not cancelled yet, and
/// its registration is not completed. Returns the registration's next status.
///
/// # Errors
/// `Ok(Err(refusal))` for `AlreadyCancelled` or `Completed`; `Err` when the payment is not
/// the user's to see, or a paid payment has no registration (a broken invariant).
pub fn check_cancel(
    payment: &Payment,
    registration: Option<&Registration>,
    user: UserId,
) -> Result<Result<RegistrationStatus, CancelRefusal>, Option<DependencyError>> {
    if payment.user_id != user || !payment.status.is_shown() {
        return Err(None);
    }
    if payment.status == PaymentStatus::Cancelled {
        return Ok(Err(CancelRefusal::AlreadyCancelled));
    }
    let registration =
        registration.ok_or_else(|| Some(corrupt("paid payment without its registration")))?;
    Ok(registration.status.cancel())
}

/// The refund state a cancelled payment starts in: pending for the gateway (the provider must
/// confirm it), not due for the wallet (refunded in the cancel's own transaction).
#[must_use]
pub const fn refund_on_cancel(method: PaymentMethod) -> RefundState {
    if method.uses_gateway() {
        RefundState::Pending
    } else {
        RefundState::NotDue
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_796_000_000, 0).unwrap_or_default()
    }

    fn intent(amount: i64) -> PaymentIntent {
        PaymentIntent {
            payment_id: PaymentId::from_uuid(Uuid::now_v7()),
            user_id: UserId::from_uuid(Uuid::now_v7()),
            kind: ItemKind::Test,
            item_id: ItemId::from_uuid(Uuid::now_v7()),
            amount: Money::new(amount).unwrap(),
            method: PaymentMethod::Card,
            now: now(),
        }
    }

    fn payment(intent: &PaymentIntent, status: PaymentStatus) -> Payment {
        Payment {
            id: intent.payment_id,
            user_id: intent.user_id,
            kind: intent.kind,
            item_id: intent.item_id,
            item_title: "t".into(),
            amount: intent.amount,
            method: intent.method,
            status,
            provider_reference: None,
            refund: RefundState::NotDue,
            created_at: intent.now,
            paid_at: None,
            cancelled_at: None,
        }
    }

    fn stored_item(kind: &str) -> StoredItem {
        StoredItem {
            id: Uuid::now_v7(),
            kind: kind.into(),
            title: "Rust".into(),
            description: None,
            price: 10_000,
            starts_at: now(),
            ends_at: now() + Duration::days(1),
            category: None,
            skill_level: None,
            tutor_id: None,
            registration_count: 0,
            created_at: now(),
            updated_at: now(),
        }
    }

    #[test]
    fn items_need_course_details_exactly_for_courses() {
        assert_eq!(stored_item("test").into_item().unwrap().course, None);
        assert!(stored_item("course").into_item().is_err());
        let course = StoredItem {
            category: Some("AWS".into()),
            skill_level: Some("beginner".into()),
            tutor_id: Some(Uuid::now_v7()),
            ..stored_item("course")
        };
        let details = course.clone().into_item().unwrap().course.unwrap();
        assert_eq!(details.category, Category::Aws);
        assert_eq!(details.skill_level, SkillLevel::Beginner);
        let test_with_details = StoredItem {
            kind: "test".into(),
            ..course
        };
        assert!(test_with_details.into_item().is_err());
        let negative = StoredItem {
            registration_count: -1,
            ..stored_item("test")
        };
        assert!(negative.into_item().is_err());
        let unknown = stored_item("exam");
        assert!(unknown.into_item().is_err());
    }

    #[test]
    fn terms_are_checked_item_then_schedule_then_price() {
        let intent = intent(10_000);
        let open = ItemTerms {
            price: 10_000,
            starts_at: intent.now,
            ends_at: intent.now,
        };
        assert_eq!(check_terms(Some(open), &intent), Ok(()));
        assert_eq!(
            check_terms(None, &intent),
            Err(BeginPaymentError::ItemNotFound)
        );
        let later = ItemTerms {
            starts_at: intent.now + Duration::microseconds(1),
            ends_at: intent.now + Duration::days(1),
            price: 1,
        };
        assert_eq!(
            check_terms(Some(later), &intent),
            Err(BeginPaymentError::NotOpen)
        );
        let ended = ItemTerms {
            starts_at: intent.now - Duration::days(1),
            ends_at: intent.now - Duration::microseconds(1),
            ..open
        };
        assert_eq!(
            check_terms(Some(ended), &intent),
            Err(BeginPaymentError::NotOpen)
        );
        let dearer = ItemTerms {
            price: 10_100,
            ..open
        };
        assert_eq!(
            check_terms(Some(dearer), &intent),
            Err(BeginPaymentError::PriceMismatch {
                price: Money::new(10_100).unwrap()
            })
        );
    }

    #[test]
    fn only_the_same_payment_is_a_retry() {
        let intent = intent(10_000);
        let stored = payment(&intent, PaymentStatus::Pending);
        assert_eq!(check_existing(&stored, &intent), Ok(()));
        let reused = Err(BeginPaymentError::IdReused);
        let other_user = PaymentIntent {
            user_id: UserId::from_uuid(Uuid::now_v7()),
            ..intent.clone()
        };
        assert_eq!(check_existing(&stored, &other_user), reused);
        let other_item = PaymentIntent {
            item_id: ItemId::from_uuid(Uuid::now_v7()),
            ..intent.clone()
        };
        assert_eq!(check_existing(&stored, &other_item), reused);
        let other_amount = PaymentIntent {
            amount: Money::new(10_001).unwrap(),
            ..intent.clone()
        };
        assert_eq!(check_existing(&stored, &other_amount), reused);
        let other_method = PaymentIntent {
            method: PaymentMethod::Kakaopay,
            ..intent.clone()
        };
        assert_eq!(check_existing(&stored, &other_method), reused);
        let other_kind = PaymentIntent {
            kind: ItemKind::Course,
            ..intent
        };
        assert_eq!(check_existing(&stored, &other_kind), reused);
    }

    #[test]
    fn settling_settles_pending_replays_settled_and_refuses_failed() {
        assert_eq!(check_settle(PaymentStatus::Pending), Ok(SettleStep::Settle));
        assert_eq!(check_settle(PaymentStatus::Paid), Ok(SettleStep::Unchanged));
        assert_eq!(
            check_settle(PaymentStatus::Cancelled),
            Ok(SettleStep::Unchanged)
        );
        assert_eq!(
            check_settle(PaymentStatus::Failed),
            Err(SettleError::NotPending(PaymentStatus::Failed))
        );
    }

    #[test]
    fn cancelling_needs_the_owner_a_shown_payment_and_a_live_registration() {
        let intent = intent(10_000);
        let paid = payment(&intent, PaymentStatus::Paid);
        let registration = Registration {
            id: RegistrationId::from_uuid(Uuid::now_v7()),
            user_id: intent.user_id,
            item_id: intent.item_id,
            kind: intent.kind,
            status: RegistrationStatus::Applied,
            payment_id: intent.payment_id,
            registered_at: intent.now,
            completed_at: None,
            cancelled_at: None,
        };
        let user = intent.user_id;
        assert_eq!(
            check_cancel(&paid, Some(&registration), user),
            Ok(Ok(RegistrationStatus::Cancelled))
        );
        let stranger = UserId::from_uuid(Uuid::now_v7());
        assert_eq!(
            check_cancel(&paid, Some(&registration), stranger),
            Err(None)
        );
        for hidden in [PaymentStatus::Pending, PaymentStatus::Failed] {
            assert_eq!(
                check_cancel(&payment(&intent, hidden), None, user),
                Err(None)
            );
        }
        let cancelled = payment(&intent, PaymentStatus::Cancelled);
        assert_eq!(
            check_cancel(&cancelled, Some(&registration), user),
            Ok(Err(CancelRefusal::AlreadyCancelled))
        );
        let completed = Registration {
            status: RegistrationStatus::Completed,
            ..registration
        };
        assert_eq!(
            check_cancel(&paid, Some(&completed), user),
            Ok(Err(CancelRefusal::Completed))
        );
        assert!(matches!(check_cancel(&paid, None, user), Err(Some(_))));
        assert_eq!(refund_on_cancel(PaymentMethod::Card), RefundState::Pending);
        assert_eq!(refund_on_cancel(PaymentMethod::Wallet), RefundState::NotDue);
    }
}
