//! How commerce rows become entities, for both SQL stores (curricula, cart lines, orders and
//! their items, access grants), and the checks a cart add and an order are decided on (owned,
//! total over the limit). Each store reads the rows its own way, under its own lock, then asks
//! these.

use chrono::{DateTime, Utc};
use reserva_application::DependencyError;
use reserva_application::ports::catalog::ItemScope;
use reserva_application::ports::commerce::orders::PlaceOrderError;
use reserva_application::ports::commerce::{CurriculumCourse, WriteCurriculumError};
use reserva_domain::accounts::UserId;
use reserva_domain::catalog::{Category, ItemDescription, ItemId, ItemTitle, SkillLevel, price};
use reserva_domain::commerce::{
    AccessGrant, CartItemId, CartLine, CourseList, Curriculum, CurriculumId, CurriculumName,
    ItemRef, Order, OrderId, OrderItem, OrderItemId, OrderStatus, order_total, owns_all,
};
use reserva_domain::wallet::Money;
use std::collections::HashSet;
use uuid::Uuid;

fn corrupt(what: &str) -> DependencyError {
    DependencyError::Failed(format!("stored commerce row has an invalid {what}"))
}

/// Whether a curriculum write may link `courses`, `found` being the (id, tutor) of those that
/// exist, are courses and are not deleted (read under the write's lock): every listed course
/// must be found (else `UnknownCourses`, naming the others), and within a tutor's scope every
/// one must be taught by that tutor (else `ForeignCourses`, naming the others).
///
/// # Errors
/// `UnknownCourses`, `ForeignCourses`.
pub fn check_linked_courses(
    courses: &CourseList,
    found: &[(Uuid, Option<Uuid>)],
    scope: ItemScope,
) -> Result<(), WriteCurriculumError> {
    let tutor_of = |id: &ItemId| {
        found
            .iter()
            .find(|(found, _)| *found == id.as_uuid())
            .map(|(_, tutor)| *tutor)
    };
    let missing: Vec<ItemId> = courses
        .ids()
        .iter()
        .filter(|id| tutor_of(id).is_none())
        .copied()
        .collect();
    if !missing.is_empty() {
        return Err(WriteCurriculumError::UnknownCourses(missing));
    }
    let ItemScope::TutoredBy(editor) = scope else {
        return Ok(());
    };
    let foreign: Vec<ItemId> = courses
        .ids()
        .iter()
        .filter(|id| tutor_of(id).is_some_and(|tutor| tutor != Some(editor.as_uuid())))
        .copied()
        .collect();
    if foreign.is_empty() {
        Ok(())
    } else {
        Err(WriteCurriculumError::ForeignCourses(foreign))
    }
}

/// The item of a row's two optional columns.
///
/// # Errors
/// [`DependencyError::Failed`] unless exactly one is set (the tables' checks forbid it).
pub fn item_ref(
    course: Option<Uuid>,
    curriculum: Option<Uuid>,
) -> Result<ItemRef, DependencyError> {
    ItemRef::from_parts(
        course.map(ItemId::from_uuid),
        curriculum.map(CurriculumId::from_uuid),
    )
    .ok_or_else(|| corrupt("item (course xor curriculum)"))
}

/// A price as stored.
///
/// # Errors
/// [`DependencyError::Failed`] below zero.
pub fn money(amount: i64) -> Result<Money, DependencyError> {
    Money::new(amount).map_err(|_| corrupt("amount"))
}

/// A cart line as read: the line and its item's current title and price.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCartLine {
    /// `cart_items.id`.
    pub id: Uuid,
    /// `cart_items.course_id`.
    pub course_id: Option<Uuid>,
    /// `cart_items.curriculum_id`.
    pub curriculum_id: Option<Uuid>,
    /// The course's title or the curriculum's name.
    pub title: String,
    /// Its price.
    pub price: i64,
}

impl StoredCartLine {
    /// The line.
    ///
    /// # Errors
    /// [`DependencyError::Failed`] for a corrupt row.
    pub fn into_line(self) -> Result<CartLine, DependencyError> {
        Ok(CartLine {
            id: CartItemId::from_uuid(self.id),
            item: item_ref(self.course_id, self.curriculum_id)?,
            title: self.title,
            price: money(self.price)?,
        })
    }
}

/// An `orders` row as plain values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredOrder {
    /// `id`.
    pub id: Uuid,
    /// `user_id`.
    pub user_id: Uuid,
    /// `status`.
    pub status: String,
    /// `total`.
    pub total: i64,
    /// `created_at`.
    pub created_at: DateTime<Utc>,
    /// `updated_at`.
    pub updated_at: DateTime<Utc>,
    /// `paid_at`.
    pub paid_at: Option<DateTime<Utc>>,
    /// `cancelled_at`.
    pub cancelled_at: Option<DateTime<Utc>>,
    /// `refunded_at`.
    pub refunded_at: Option<DateTime<Utc>>,
}

/// An `order_items` row as plain values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredOrderItem {
    /// `id`.
    pub id: Uuid,
    /// `order_id`.
    pub order_id: Uuid,
    /// `course_id`.
    pub course_id: Option<Uuid>,
    /// `curriculum_id`.
    pub curriculum_id: Option<Uuid>,
    /// `title`.
    pub title: String,
    /// `price`.
    pub price: i64,
}

impl StoredOrder {
    /// The order with its items (`items` may hold other orders' rows: only this one's are
    /// taken, in the order given, which is their `position`).
    ///
    /// # Errors
    /// [`DependencyError::Failed`] for a corrupt row.
    pub fn into_order(self, items: &[StoredOrderItem]) -> Result<Order, DependencyError> {
        let lines = items
            .iter()
            .filter(|item| item.order_id == self.id)
            .map(|item| {
                Ok(OrderItem {
                    id: OrderItemId::from_uuid(item.id),
                    item: item_ref(item.course_id, item.curriculum_id)?,
                    title: item.title.clone(),
                    price: money(item.price)?,
                })
            })
            .collect::<Result<Vec<_>, DependencyError>>()?;
        Ok(Order {
            id: OrderId::from_uuid(self.id),
            user_id: UserId::from_uuid(self.user_id),
            status: OrderStatus::parse(&self.status).ok_or_else(|| corrupt("status"))?,
            items: lines,
            total: money(self.total)?,
            created_at: self.created_at,
            updated_at: self.updated_at,
            paid_at: self.paid_at,
            cancelled_at: self.cancelled_at,
            refunded_at: self.refunded_at,
        })
    }
}

/// Orders with their items.
///
/// # Errors
/// [`DependencyError::Failed`] for a corrupt row.
pub fn orders_of(
    orders: Vec<StoredOrder>,
    items: &[StoredOrderItem],
) -> Result<Vec<Order>, DependencyError> {
    orders
        .into_iter()
        .map(|order| order.into_order(items))
        .collect()
}

/// A `course_access` row as plain values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredGrant {
    /// `user_id`.
    pub user_id: Uuid,
    /// `course_id`.
    pub course_id: Uuid,
    /// `order_id`.
    pub order_id: Uuid,
    /// `granted_at`.
    pub granted_at: DateTime<Utc>,
    /// `expires_at`.
    pub expires_at: DateTime<Utc>,
    /// `revoked_at`.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl StoredGrant {
    /// The grant.
    #[must_use]
    pub const fn into_grant(self) -> AccessGrant {
        AccessGrant {
            user_id: UserId::from_uuid(self.user_id),
            course_id: ItemId::from_uuid(self.course_id),
            order_id: OrderId::from_uuid(self.order_id),
            granted_at: self.granted_at,
            expires_at: self.expires_at,
            revoked_at: self.revoked_at,
        }
    }
}

/// An item to order or put in a cart, as the store found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    /// What.
    pub item: ItemRef,
    /// Its title now.
    pub title: String,
    /// Its price now.
    pub price: Money,
    /// For a curriculum, its courses (empty for a course).
    pub courses: Vec<ItemId>,
}

/// Whether `offer` is owned by a user who may study `live` now: a course they may study, or a
/// curriculum every one of whose courses they may study.
#[must_use]
pub fn is_owned(offer: &Offer, live: &HashSet<ItemId>) -> bool {
    match offer.item {
        ItemRef::Course(course) => live.contains(&course),
        ItemRef::Curriculum(_) => owns_all(offer.courses.iter().copied(), |course| {
            live.contains(&course)
        }),
    }
}

/// The checks of an order over its offers: none owned, the total within the limit. Returns the
/// total.
///
/// # Errors
/// `AlreadyOwned` (the first owned item), `TotalExceeded`.
pub fn check_order(offers: &[Offer], live: &HashSet<ItemId>) -> Result<Money, PlaceOrderError> {
    if let Some(owned) = offers.iter().find(|offer| is_owned(offer, live)) {
        return Err(PlaceOrderError::AlreadyOwned(owned.item));
    }
    order_total(offers.iter().map(|offer| offer.price)).map_err(|exceeded| {
        PlaceOrderError::TotalExceeded {
            total: exceeded.total,
        }
    })
}

/// A `curricula` row as plain values, with its courses' ids in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCurriculum {
    /// `id`.
    pub id: Uuid,
    /// `name`.
    pub name: String,
    /// `description`.
    pub description: Option<String>,
    /// `price`.
    pub price: i64,
    /// `category`.
    pub category: String,
    /// `skill_level`.
    pub skill_level: String,
    /// `tutor_id`.
    pub tutor_id: Uuid,
    /// `created_at`.
    pub created_at: DateTime<Utc>,
    /// `updated_at`.
    pub updated_at: DateTime<Utc>,
    /// `deleted_at`.
    pub deleted_at: Option<DateTime<Utc>>,
    /// `curriculum_courses.course_id` by `position`.
    pub course_ids: Vec<Uuid>,
}

impl StoredCurriculum {
    /// The curriculum.
    ///
    /// # Errors
    /// [`DependencyError::Failed`] when a stored value breaks a rule it was written under.
    pub fn into_curriculum(self) -> Result<Curriculum, DependencyError> {
        Ok(Curriculum {
            id: CurriculumId::from_uuid(self.id),
            name: CurriculumName::from_stored(self.name),
            description: self.description.map(ItemDescription::from_stored),
            price: price(self.price).map_err(|_| corrupt("price"))?,
            category: Category::parse(&self.category).map_err(|_| corrupt("category"))?,
            skill_level: SkillLevel::parse(&self.skill_level)
                .map_err(|_| corrupt("skill level"))?,
            tutor_id: UserId::from_uuid(self.tutor_id),
            courses: CourseList::from_stored(
                self.course_ids.into_iter().map(ItemId::from_uuid).collect(),
            ),
            created_at: self.created_at,
            updated_at: self.updated_at,
            deleted_at: self.deleted_at,
        })
    }
}

/// One course of a curriculum's detail, as read.
///
/// # Errors
/// [`DependencyError::Failed`] for a price out of range.
pub fn curriculum_course(
    id: Uuid,
    title: String,
    amount: i64,
) -> Result<CurriculumCourse, DependencyError> {
    Ok(CurriculumCourse {
        id: ItemId::from_uuid(id),
        title: ItemTitle::from_stored(title),
        price: price(amount).map_err(|_| corrupt("course price"))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linked_courses_must_exist_and_be_a_tutors_own() {
        let (a, b) = (
            ItemId::from_uuid(Uuid::now_v7()),
            ItemId::from_uuid(Uuid::now_v7()),
        );
        let (mine, other) = (UserId::from_uuid(Uuid::now_v7()), Uuid::now_v7());
        let list = CourseList::new(vec![a, b]).unwrap_or_else(|e| panic!("{e}"));
        let both = [
            (a.as_uuid(), Some(mine.as_uuid())),
            (b.as_uuid(), Some(other)),
        ];
        assert_eq!(check_linked_courses(&list, &both, ItemScope::Any), Ok(()));
        assert_eq!(
            check_linked_courses(&list, &both, ItemScope::TutoredBy(mine)),
            Err(WriteCurriculumError::ForeignCourses(vec![b]))
        );
        assert_eq!(
            check_linked_courses(&list, &both[..1], ItemScope::TutoredBy(mine)),
            Err(WriteCurriculumError::UnknownCourses(vec![b])),
            "a missing course is named first"
        );
        let untaught = [(a.as_uuid(), Some(mine.as_uuid())), (b.as_uuid(), None)];
        assert_eq!(
            check_linked_courses(&list, &untaught, ItemScope::TutoredBy(mine)),
            Err(WriteCurriculumError::ForeignCourses(vec![b]))
        );
    }

    fn offer(item: ItemRef, price: i64, courses: Vec<ItemId>) -> Offer {
        Offer {
            item,
            title: "t".into(),
            price: Money::new(price).unwrap_or_default(),
            courses,
        }
    }

    #[test]
    fn an_order_refuses_owned_items_then_totals_over_the_limit() {
        let (a, b) = (
            ItemId::from_uuid(Uuid::now_v7()),
            ItemId::from_uuid(Uuid::now_v7()),
        );
        let curriculum = ItemRef::Curriculum(CurriculumId::from_uuid(Uuid::now_v7()));
        let live: HashSet<ItemId> = [a].into();
        let offers = [offer(curriculum, 30_000, vec![a, b])];
        assert_eq!(check_order(&offers, &live).map(Money::get), Ok(30_000));
        let offers = [
            offer(curriculum, 1, vec![a]),
            offer(ItemRef::Course(b), 1, vec![]),
        ];
        assert_eq!(
            check_order(&offers, &live),
            Err(PlaceOrderError::AlreadyOwned(curriculum))
        );
        let offers = [
            offer(ItemRef::Course(b), 30_000, vec![]),
            offer(curriculum, 20_001, vec![b]),
        ];
        assert!(matches!(
            check_order(&offers, &HashSet::new()),
            Err(PlaceOrderError::TotalExceeded { total }) if total.get() == 50_001
        ));
    }
}
