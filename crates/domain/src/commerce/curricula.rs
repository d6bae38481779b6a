//! Curricula: a validated name, the ordered list of its courses (1 to 50, each once), the price
//! range of a list's filter and the keyset cursor of its pages.

use super::CurriculumId;
use crate::accounts::UserId;
use crate::catalog::{Category, ItemDescription, ItemId, SkillLevel};
use crate::text::{TextRefusal, check_visible};
use crate::wallet::Money;
use chrono::{DateTime, Utc};
use thiserror::Error;

/// A curriculum's name: 1 to [`CurriculumName::MAX_CHARS`] characters after trimming, nothing
/// invisible (as a catalog item's title).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurriculumName(String);

/// Why a name was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum InvalidCurriculumName {
    /// Nothing but spaces.
    #[error("name must not be empty")]
    Empty,
    /// Too long.
    #[error("name must be at most {max} characters", max = CurriculumName::MAX_CHARS)]
    TooLong,
    /// A control or invisible character.
    #[error(transparent)]
    Text(#[from] TextRefusal),
}

impl InvalidCurriculumName {
    /// Stable code for clients.
    #[must_use]
    pub const fn code(self) -> &'static str {
        match self {
            Self::Empty => "name_empty",
            Self::TooLong => "name_too_long",
            Self::Text(refusal) => refusal.code(),
        }
    }
}

impl CurriculumName {
    /// The longest name, in characters (as an item's title).
    pub const MAX_CHARS: usize = 255;

    /// Validates a name; surrounding whitespace is dropped.
    ///
    /// # Errors
    /// [`InvalidCurriculumName`].
    pub fn parse(raw: &str) -> Result<Self, InvalidCurriculumName> {
        check_visible(raw)?;
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(InvalidCurriculumName::Empty);
        }
        if trimmed.chars().count() > Self::MAX_CHARS {
            return Err(InvalidCurriculumName::TooLong);
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// A name read back from storage.
    #[must_use]
    pub const fn from_stored(name: String) -> Self {
        Self(name)
    }

    /// The text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The courses of a curriculum, in order: 1 to [`CourseList::MAX`], none twice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CourseList(Vec<ItemId>);

/// Why a list of courses was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum InvalidCourseList {
    /// No course.
    #[error("a curriculum needs at least one course")]
    Empty,
    /// More than [`CourseList::MAX`].
    #[error("a curriculum holds at most {max} courses", max = CourseList::MAX)]
    TooMany,
    /// A course listed twice.
    #[error("a course may be listed only once")]
    Duplicate,
}

impl InvalidCourseList {
    /// Stable code for clients.
    #[must_use]
    pub const fn code(self) -> &'static str {
        match self {
            Self::Empty => "courses_empty",
            Self::TooMany => "too_many_courses",
            Self::Duplicate => "duplicate_course",
        }
    }
}

impl CourseList {
    /// The most courses in one curriculum.
    pub const MAX: usize = 50;

    /// Validates a list of course ids, keeping its order.
    ///
    /// # Errors
    /// [`InvalidCourseList`].
    pub fn new(ids: Vec<ItemId>) -> Result<Self, InvalidCourseList> {
        if ids.is_empty() {
            return Err(InvalidCourseList::Empty);
        }
        if ids.len() > Self::MAX {
            return Err(InvalidCourseList::TooMany);
        }
        let mut seen = std::collections::HashSet::with_capacity(ids.len());
        if !ids.iter().all(|id| seen.insert(*id)) {
            return Err(InvalidCourseList::Duplicate);
        }
        Ok(Self(ids))
    }

    /// A list read back from storage (its table's keys keep it distinct).
    #[must_use]
    pub const fn from_stored(ids: Vec<ItemId>) -> Self {
        Self(ids)
    }

    /// The ids, in order.
    #[must_use]
    pub fn ids(&self) -> &[ItemId] {
        &self.0
    }
}

/// A curriculum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Curriculum {
    /// Its id.
    pub id: CurriculumId,
    /// Its name.
    pub name: CurriculumName,
    /// Its description, if any (the catalog's description rules).
    pub description: Option<ItemDescription>,
    /// Its price in whole won (the catalog's price rules: 0 to 100,000,000).
    pub price: Money,
    /// Its subject.
    pub category: Category,
    /// Its level.
    pub skill_level: SkillLevel,
    /// Who manages it (a tutor) besides the admins.
    pub tutor_id: UserId,
    /// Its courses, in order.
    pub courses: CourseList,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was last changed.
    pub updated_at: DateTime<Utc>,
    /// When it was deleted (soft: kept for the orders that name it).
    pub deleted_at: Option<DateTime<Utc>>,
}

impl Curriculum {
    /// Whether `tutor` manages it (admins manage every curriculum).
    #[must_use]
    pub fn is_tutored_by(&self, tutor: UserId) -> bool {
        self.tutor_id == tutor
    }
}

/// A price filter: both ends inclusive, either open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PriceRange {
    min: Option<Money>,
    max: Option<Money>,
}

/// A price range that is empty or negative.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum InvalidPriceRange {
    /// A bound below zero.
    #[error("a price bound must not be negative")]
    Negative,
    /// `min_price` above `max_price`.
    #[error("min_price must not be above max_price")]
    MinAboveMax,
}

impl InvalidPriceRange {
    /// Stable code for clients.
    #[must_use]
    pub const fn code(self) -> &'static str {
        match self {
            Self::Negative => "price_negative",
            Self::MinAboveMax => "min_above_max",
        }
    }
}

impl PriceRange {
    /// Validates a range from its bounds.
    ///
    /// # Errors
    /// [`InvalidPriceRange`].
    pub fn new(min: Option<i64>, max: Option<i64>) -> Result<Self, InvalidPriceRange> {
        let bound = |value: Option<i64>| {
            value
                .map(|amount| Money::new(amount).map_err(|_| InvalidPriceRange::Negative))
                .transpose()
        };
        let (min, max) = (bound(min)?, bound(max)?);
        if let (Some(low), Some(high)) = (min, max)
            && low > high
        {
            return Err(InvalidPriceRange::MinAboveMax);
        }
        Ok(Self { min, max })
    }

    /// The lowest price, if bounded.
    #[must_use]
    pub const fn min(self) -> Option<Money> {
        self.min
    }

    /// The highest price, if bounded.
    #[must_use]
    pub const fn max(self) -> Option<Money> {
        self.max
    }

    /// Whether `price` is inside.
    #[must_use]
    pub fn contains(self, price: Money) -> bool {
        self.min.is_none_or(|min| min <= price) && self.max.is_none_or(|max| price <= max)
    }
}

/// Where the previous page of curricula ended: newest first, ids breaking ties.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CurriculumCursor {
    /// The last row's creation instant.
    pub created_at: DateTime<Utc>,
    /// The last row's id.
    pub id: CurriculumId,
}

impl CurriculumCursor {
    /// The cursor after `curriculum`.
    #[must_use]
    pub const fn after(curriculum: &Curriculum) -> Self {
        Self {
            created_at: curriculum.created_at,
            id: curriculum.id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn course() -> ItemId {
        ItemId::from_uuid(uuid::Uuid::now_v7())
    }

    #[test]
    fn names_are_bounded_and_visible() {
        assert_eq!(
            CurriculumName::parse("  Full stack ").map(|n| n.0),
            Ok("Full stack".into())
        );
        assert_eq!(
            CurriculumName::parse("   "),
            Err(InvalidCurriculumName::Empty)
        );
        assert!(CurriculumName::parse(&"가".repeat(255)).is_ok());
        assert_eq!(
            CurriculumName::parse(&"가".repeat(256)),
            Err(InvalidCurriculumName::TooLong)
        );
        assert_eq!(
            CurriculumName::parse("a\u{200b}b").map_err(InvalidCurriculumName::code),
            Err("invisible_character")
        );
        assert_eq!(
            CurriculumName::parse("a\nb").map_err(InvalidCurriculumName::code),
            Err("control_character")
        );
    }

    #[test]
    fn course_lists_hold_one_to_fifty_distinct_courses_in_order() {
        assert_eq!(CourseList::new(vec![]), Err(InvalidCourseList::Empty));
        let fifty: Vec<ItemId> = (0..50).map(|_| course()).collect();
        let list = CourseList::new(fifty.clone()).expect("fifty");
        assert_eq!(list.ids(), fifty.as_slice());
        let mut fifty_one = fifty.clone();
        fifty_one.push(course());
        assert_eq!(CourseList::new(fifty_one), Err(InvalidCourseList::TooMany));
        let (a, b) = (course(), course());
        assert_eq!(
            CourseList::new(vec![a, b, a]).map_err(InvalidCourseList::code),
            Err("duplicate_course")
        );
        assert_eq!(CourseList::new(vec![b, a]).map(|l| l.0), Ok(vec![b, a]));
    }

    #[test]
    fn price_ranges_are_inclusive_and_ordered() {
        let won = |amount| Money::new(amount).unwrap();
        let range = PriceRange::new(Some(1_000), Some(2_000)).unwrap();
        assert!(!range.contains(won(999)));
        assert!(range.contains(won(1_000)));
        assert!(range.contains(won(2_000)));
        assert!(!range.contains(won(2_001)));
        assert!(PriceRange::new(Some(5), Some(5)).is_ok());
        assert_eq!(
            PriceRange::new(Some(6), Some(5)),
            Err(InvalidPriceRange::MinAboveMax)
        );
        assert_eq!(
            PriceRange::new(Some(-1), None),
            Err(InvalidPriceRange::Negative)
        );
        assert_eq!(
            PriceRange::new(None, Some(-1)).map_err(InvalidPriceRange::code),
            Err("price_negative")
        );
        let open = PriceRange::default();
        assert!(open.contains(won(0)) && open.contains(won(i64::MAX)));
        assert_eq!(PriceRange::new(None, Some(7)).unwrap().max(), Some(won(7)));
    }
}
