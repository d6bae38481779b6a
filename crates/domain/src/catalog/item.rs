//! Tests and courses: validated titles, descriptions, prices and schedules.

use super::ItemId;
use crate::accounts::UserId;
use crate::text::{TextRefusal, check_prose, check_visible};
use crate::wallet::Money;
use chrono::{DateTime, Utc};
use thiserror::Error;

/// Whether an item is a test or a course.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ItemKind {
    /// A test: one applies for it.
    Test,
    /// A course: one enrols in it.
    Course,
}

impl ItemKind {
    /// `test` or `course`: the stored and shown name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Test => "test",
            Self::Course => "course",
        }
    }

    /// Reads a stored or sent name back.
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        [Self::Test, Self::Course]
            .into_iter()
            .find(|kind| kind.as_str() == name)
    }
}

/// A name that is not one of a closed set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("unknown value")]
pub struct UnknownName;

/// A course's subject, as in the source system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Category {
    /// JavaScript.
    JavaScript,
    /// Python.
    Python,
    /// Django.
    Django,
    /// React.
    React,
    /// Vue.
    Vue,
    /// Node.
    Node,
    /// AWS.
    Aws,
    /// Docker.
    Docker,
    /// Databases.
    Db,
}

impl Category {
    /// Every category, in the documented order.
    pub const ALL: [Self; 9] = [
        Self::JavaScript,
        Self::Python,
        Self::Django,
        Self::React,
        Self::Vue,
        Self::Node,
        Self::Aws,
        Self::Docker,
        Self::Db,
    ];

    /// The stored and shown name (`JavaScript`, …, `AWS`, `DB`).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::JavaScript => "JavaScript",
            Self::Python => "Python",
            Self::Django => "Django",
            Self::React => "React",
            Self::Vue => "Vue",
            Self::Node => "Node",
            Self::Aws => "AWS",
            Self::Docker => "Docker",
            Self::Db => "DB",
        }
    }

    /// Reads a name back (exact spelling).
    ///
    /// # Errors
    /// [`UnknownName`] for anything else.
    pub fn parse(name: &str) -> Result<Self, UnknownName> {
        Self::ALL
            .into_iter()
            .find(|category| category.as_str() == name)
            .ok_or(UnknownName)
    }
}

/// How advanced a course is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SkillLevel {
    /// For newcomers.
    Beginner,
    /// For those with some practice.
    Intermediate,
    /// For experts.
    Advanced,
}

impl SkillLevel {
    /// Every level.
    pub const ALL: [Self; 3] = [Self::Beginner, Self::Intermediate, Self::Advanced];

    /// `beginner`, `intermediate` or `advanced`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Beginner => "beginner",
            Self::Intermediate => "intermediate",
            Self::Advanced => "advanced",
        }
    }

    /// Reads a name back.
    ///
    /// # Errors
    /// [`UnknownName`] for anything else.
    pub fn parse(name: &str) -> Result<Self, UnknownName> {
        Self::ALL
            .into_iter()
            .find(|level| level.as_str() == name)
            .ok_or(UnknownName)
    }
}

/// A title: 1 to [`ItemTitle::MAX_CHARS`] characters after trimming, nothing invisible.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemTitle(String);

/// Why a title was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum InvalidItemTitle {
    /// Nothing but spaces.
    #[error("title must not be empty")]
    Empty,
    /// Too long.
    #[error("title must be at most {max} characters", max = ItemTitle::MAX_CHARS)]
    TooLong,
    /// A control or invisible character.
    #[error(transparent)]
    Text(#[from] TextRefusal),
}

impl InvalidItemTitle {
    /// Stable code for clients.
    #[must_use]
    pub const fn code(self) -> &'static str {
        match self {
            Self::Empty => "title_empty",
            Self::TooLong => "title_too_long",
            Self::Text(refusal) => refusal.code(),
        }
    }
}

impl ItemTitle {
    /// The longest title, in characters (the source system's 255).
    pub const MAX_CHARS: usize = 255;

    /// Validates a title; surrounding whitespace is dropped.
    ///
    /// # Errors
    /// [`InvalidItemTitle`].
    pub fn parse(raw: &str) -> Result<Self, InvalidItemTitle> {
        check_visible(raw)?;
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(InvalidItemTitle::Empty);
        }
        if trimmed.chars().count() > Self::MAX_CHARS {
            return Err(InvalidItemTitle::TooLong);
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// A title read back from storage.
    #[must_use]
    pub const fn from_stored(title: String) -> Self {
        Self(title)
    }

    /// The text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A description: at most [`ItemDescription::MAX_CHARS`] characters; line breaks and tabs are
/// allowed (it is prose), other control characters are not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemDescription(String);

/// Why a description was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum InvalidDescription {
    /// Too long.
    #[error("description must be at most {max} characters", max = ItemDescription::MAX_CHARS)]
    TooLong,
    /// A control character other than a line break or a tab.
    #[error(transparent)]
    Text(#[from] TextRefusal),
}

impl InvalidDescription {
    /// Stable code for clients.
    #[must_use]
    pub const fn code(self) -> &'static str {
        match self {
            Self::TooLong => "description_too_long",
            Self::Text(refusal) => refusal.code(),
        }
    }
}

impl ItemDescription {
    /// The longest description, in characters.
    pub const MAX_CHARS: usize = 5_000;

    /// Validates a description; surrounding whitespace is dropped.
    ///
    /// # Errors
    /// [`InvalidDescription`].
    pub fn parse(raw: &str) -> Result<Self, InvalidDescription> {
        check_prose(raw)?;
        let trimmed = raw.trim();
        if trimmed.chars().count() > Self::MAX_CHARS {
            return Err(InvalidDescription::TooLong);
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// A description read back from storage.
    #[must_use]
    pub const fn from_stored(text: String) -> Self {
        Self(text)
    }

    /// The text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The highest price of an item (₩100,000,000: the source system's DECIMAL(10,2) bound).
pub const MAX_PRICE: i64 = 100_000_000;

/// Why a price was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum InvalidPrice {
    /// Below zero.
    #[error("price must not be negative")]
    Negative,
    /// Above [`MAX_PRICE`].
    #[error("price must be at most {MAX_PRICE}")]
    TooHigh,
}

impl InvalidPrice {
    /// Stable code for clients.
    #[must_use]
    pub const fn code(self) -> &'static str {
        match self {
            Self::Negative => "price_negative",
            Self::TooHigh => "price_too_high",
        }
    }
}

/// Validates a price in whole won: 0 (free) to [`MAX_PRICE`].
///
/// # Errors
/// [`InvalidPrice`].
pub const fn price(amount: i64) -> Result<Money, InvalidPrice> {
    if amount > MAX_PRICE {
        return Err(InvalidPrice::TooHigh);
    }
    match Money::new(amount) {
        Ok(money) => Ok(money),
        Err(_) => Err(InvalidPrice::Negative),
    }
}

/// When an item is open: from `starts_at` to `ends_at`, both included, with `starts_at` strictly
/// before `ends_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
}

/// A schedule that ends before it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("starts_at must be before ends_at")]
pub struct InvalidSchedule;

impl InvalidSchedule {
    /// Stable code for clients.
    #[must_use]
    pub const fn code(self) -> &'static str {
        "starts_after_ends"
    }
}

impl Schedule {
    /// Validates a schedule.
    ///
    /// # Errors
    /// [`InvalidSchedule`] unless `starts_at < ends_at`.
    pub fn new(starts_at: DateTime<Utc>, ends_at: DateTime<Utc>) -> Result<Self, InvalidSchedule> {
        if starts_at < ends_at {
            Ok(Self { starts_at, ends_at })
        } else {
            Err(InvalidSchedule)
        }
    }

    /// A schedule read back from storage (the database checks the order).
    #[must_use]
    pub const fn from_stored(starts_at: DateTime<Utc>, ends_at: DateTime<Utc>) -> Self {
        Self { starts_at, ends_at }
    }

    /// When it opens.
    #[must_use]
    pub const fn starts_at(self) -> DateTime<Utc> {
        self.starts_at
    }

    /// When it closes.
    #[must_use]
    pub const fn ends_at(self) -> DateTime<Utc> {
        self.ends_at
    }

    /// Whether one may apply or enrol at `now`: `starts_at ≤ now ≤ ends_at` (rule R10).
    #[must_use]
    pub fn is_open(self, now: DateTime<Utc>) -> bool {
        self.starts_at <= now && now <= self.ends_at
    }
}

/// What only a course has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CourseDetails {
    /// Its subject.
    pub category: Category,
    /// Its level.
    pub skill_level: SkillLevel,
    /// Who teaches it (a user with the tutor role), and may manage it.
    pub tutor_id: UserId,
}

/// A test or a course.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogItem {
    /// Its id.
    pub id: ItemId,
    /// Test or course.
    pub kind: ItemKind,
    /// Its title.
    pub title: ItemTitle,
    /// Its description, if any.
    pub description: Option<ItemDescription>,
    /// Its price in whole won.
    pub price: Money,
    /// When it is open.
    pub schedule: Schedule,
    /// Category, level and tutor, for a course; `None` for a test.
    pub course: Option<CourseDetails>,
    /// Registrations that are not cancelled, kept exact in the transaction of every change.
    pub registration_count: i64,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was last changed.
    pub updated_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, hour, 0, 0)
            .single()
            .unwrap_or_default()
    }

    #[test]
    fn names_round_trip() {
        for kind in [ItemKind::Test, ItemKind::Course] {
            assert_eq!(ItemKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(ItemKind::parse("Test"), None);
        for category in Category::ALL {
            assert_eq!(Category::parse(category.as_str()), Ok(category));
        }
        assert_eq!(Category::parse("aws"), Err(UnknownName));
        assert_eq!(Category::parse("AWS"), Ok(Category::Aws));
        for level in SkillLevel::ALL {
            assert_eq!(SkillLevel::parse(level.as_str()), Ok(level));
        }
        assert_eq!(SkillLevel::parse("expert"), Err(UnknownName));
    }

    #[test]
    fn titles_are_bounded_and_visible() {
        assert_eq!(
            ItemTitle::parse("  Rust 101 ").map(|t| t.0),
            Ok("Rust 101".into())
        );
        assert_eq!(ItemTitle::parse("   "), Err(InvalidItemTitle::Empty));
        assert!(ItemTitle::parse(&"가".repeat(255)).is_ok());
        assert_eq!(
            ItemTitle::parse(&"가".repeat(256)),
            Err(InvalidItemTitle::TooLong)
        );
        assert_eq!(
            ItemTitle::parse("a\u{202e}b").map_err(InvalidItemTitle::code),
            Err("invisible_character")
        );
        assert_eq!(
            ItemTitle::parse("a\u{0}b").map_err(InvalidItemTitle::code),
            Err("control_character")
        );
    }

    #[test]
    fn descriptions_allow_line_breaks_only() {
        assert!(ItemDescription::parse("line one\nline two\r\n\tindented").is_ok());
        assert_eq!(
            ItemDescription::parse("bell\u{7}").map_err(InvalidDescription::code),
            Err("control_character")
        );
        assert!(ItemDescription::parse(&"x".repeat(5_000)).is_ok());
        assert_eq!(
            ItemDescription::parse(&"x".repeat(5_001)),
            Err(InvalidDescription::TooLong)
        );
        assert_eq!(ItemDescription::parse("  ").map(|d| d.0), Ok(String::new()));
    }

    #[test]
    fn prices_are_whole_won_within_bounds() {
        assert_eq!(price(0).map(Money::get), Ok(0));
        assert_eq!(price(MAX_PRICE).map(Money::get), Ok(MAX_PRICE));
        assert_eq!(price(MAX_PRICE + 1), Err(InvalidPrice::TooHigh));
        assert_eq!(price(-1), Err(InvalidPrice::Negative));
        assert_eq!(price(i64::MIN), Err(InvalidPrice::Negative));
        assert_eq!(price(i64::MAX), Err(InvalidPrice::TooHigh));
    }

    #[test]
    fn schedules_are_ordered_and_open_inclusively() {
        assert_eq!(Schedule::new(at(10), at(10)), Err(InvalidSchedule));
        assert_eq!(Schedule::new(at(11), at(10)), Err(InvalidSchedule));
        let schedule = Schedule::new(at(10), at(12)).unwrap();
        assert!(!schedule.is_open(at(10) - chrono::Duration::seconds(1)));
        assert!(schedule.is_open(at(10)));
        assert!(schedule.is_open(at(12)));
        assert!(!schedule.is_open(at(12) + chrono::Duration::microseconds(1)));
    }
}
