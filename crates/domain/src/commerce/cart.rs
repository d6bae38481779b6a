//! What can be bought (a course or a curriculum: exactly one) and a cart's lines.

use super::{CartItemId, CurriculumId};
use crate::catalog::ItemId;
use crate::wallet::Money;

/// The most items one cart holds: a cart is a shortlist, not a store of its own.
pub const CART_ITEM_LIMIT: u32 = 50;

/// A thing one can buy: exactly one of a course or a curriculum (the type makes "both" and
/// "neither" unrepresentable; the HTTP adapter refuses them before a value exists).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ItemRef {
    /// A course (a catalog item of kind `course`).
    Course(ItemId),
    /// A curriculum.
    Curriculum(CurriculumId),
}

impl ItemRef {
    /// The course, if it is one.
    #[must_use]
    pub const fn course(self) -> Option<ItemId> {
        match self {
            Self::Course(id) => Some(id),
            Self::Curriculum(_) => None,
        }
    }

    /// The curriculum, if it is one.
    #[must_use]
    pub const fn curriculum(self) -> Option<CurriculumId> {
        match self {
            Self::Course(_) => None,
            Self::Curriculum(id) => Some(id),
        }
    }

    /// Builds a reference from the two optional columns a row or a request carries.
    /// `None` unless exactly one is set.
    #[must_use]
    pub const fn from_parts(
        course: Option<ItemId>,
        curriculum: Option<CurriculumId>,
    ) -> Option<Self> {
        match (course, curriculum) {
            (Some(course), None) => Some(Self::Course(course)),
            (None, Some(curriculum)) => Some(Self::Curriculum(curriculum)),
            _ => None,
        }
    }
}

/// One line of a cart, with the item's current title and price.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CartLine {
    /// The line's id (what `DELETE /cart/items/{id}` names).
    pub id: CartItemId,
    /// What.
    pub item: ItemRef,
    /// Its title now (a curriculum's name).
    pub title: String,
    /// Its price now.
    pub price: Money,
}

/// What "already owned" means for a curriculum: the caller has live access to every one of its
/// courses. A curriculum with no courses is never owned (there is nothing to have access to, so
/// refusing it would refuse it forever). `live` says whether the caller has live access to a
/// course.
pub fn owns_all<I, F>(courses: I, mut live: F) -> bool
where
    I: IntoIterator<Item = ItemId>,
    F: FnMut(ItemId) -> bool,
{
    let mut any = false;
    for course in courses {
        any = true;
        if !live(course) {
            return false;
        }
    }
    any
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn course() -> ItemId {
        ItemId::from_uuid(Uuid::now_v7())
    }

    #[test]
    fn a_reference_is_exactly_one_of_course_or_curriculum() {
        let id = course();
        let curriculum = CurriculumId::from_uuid(Uuid::now_v7());
        assert_eq!(
            ItemRef::from_parts(Some(id), None),
            Some(ItemRef::Course(id))
        );
        assert_eq!(
            ItemRef::from_parts(None, Some(curriculum)),
            Some(ItemRef::Curriculum(curriculum))
        );
        assert_eq!(ItemRef::from_parts(Some(id), Some(curriculum)), None);
        assert_eq!(ItemRef::from_parts(None, None), None);
        assert_eq!(ItemRef::Course(id).course(), Some(id));
        assert_eq!(ItemRef::Course(id).curriculum(), None);
        assert_eq!(
            ItemRef::Curriculum(curriculum).curriculum(),
            Some(curriculum)
        );
    }

    #[test]
    fn a_curriculum_is_owned_only_when_every_course_is_live() {
        let (a, b) = (course(), course());
        assert!(owns_all([a, b], |_| true));
        assert!(!owns_all([a, b], |id| id == a));
        assert!(
            !owns_all([], |_| true),
            "an empty curriculum is never owned"
        );
    }
}
