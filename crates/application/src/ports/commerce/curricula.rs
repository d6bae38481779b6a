//! Curricula: created, edited and soft-deleted within the editor's scope, every course checked
//! in the write itself (an existing course that is not deleted, a tutor's own when a tutor
//! edits), edits applied field by field onto the row as it is in the write, listed newest
//! first in keyset pages with full-text search and filters, and read for sale by the cart and
//! orders (deleted ones included, for history).

use crate::DependencyError;
use crate::ports::catalog::ItemScope;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reserva_domain::accounts::UserId;
use reserva_domain::catalog::{
    Category, ItemDescription, ItemId, ItemTitle, SearchText, SkillLevel,
};
use reserva_domain::commerce::{
    CourseList, Curriculum, CurriculumCursor, CurriculumId, CurriculumName, PriceRange,
};
use reserva_domain::paging::PageLimit;
use reserva_domain::wallet::Money;
use thiserror::Error;

/// A curriculum to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCurriculum {
    /// Pre-generated id (UUID v7).
    pub id: CurriculumId,
    /// Name.
    pub name: CurriculumName,
    /// Description.
    pub description: Option<ItemDescription>,
    /// Price.
    pub price: Money,
    /// Subject.
    pub category: Category,
    /// Level.
    pub skill_level: SkillLevel,
    /// Its tutor (a tutor's own id, or the active tutor an admin named): the store checks, in
    /// the write, that it is an active user with the tutor role.
    pub tutor_id: UserId,
    /// Its courses, in order: each must be a course that exists and is not deleted (and, when
    /// the scope is a tutor's, is taught by that tutor).
    pub courses: CourseList,
    /// Creation instant.
    pub now: DateTime<Utc>,
}

/// The fields an edit sets, each already valid on its own; `None` leaves the stored value as it
/// is. The store applies them in the write itself (onto the row as it is then), so two edits of
/// different fields never undo each other.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurriculumUpdate {
    /// New name.
    pub name: Option<CurriculumName>,
    /// New description: `Some(None)` removes it.
    pub description: Option<Option<ItemDescription>>,
    /// New price (orders already made keep theirs).
    pub price: Option<Money>,
    /// New subject.
    pub category: Option<Category>,
    /// New level.
    pub skill_level: Option<SkillLevel>,
    /// New tutor: the store checks, in the write, that it is an active user with the tutor role.
    pub tutor_id: Option<UserId>,
    /// Its courses, replacing the stored list (`None`: the stored list stays as it is, unchecked).
    pub courses: Option<CourseList>,
    /// Instant of the edit.
    pub now: DateTime<Utc>,
}

impl CurriculumUpdate {
    /// An edit that changes nothing but `updated_at`.
    #[must_use]
    pub const fn at(now: DateTime<Utc>) -> Self {
        Self {
            name: None,
            description: None,
            price: None,
            category: None,
            skill_level: None,
            tutor_id: None,
            courses: None,
            now,
        }
    }
}

/// Why a write was not stored.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WriteCurriculumError {
    /// No such curriculum (or deleted, or outside the scope).
    #[error("curriculum not found")]
    NotFound,
    /// These of the listed courses do not exist, are tests, or are deleted.
    #[error("unknown courses: {0:?}")]
    UnknownCourses(Vec<ItemId>),
    /// These of the listed courses exist but are taught by another tutor than the editing
    /// tutor's (only checked when the scope is a tutor's, and only when no course is unknown).
    #[error("courses of another tutor: {0:?}")]
    ForeignCourses(Vec<ItemId>),
    /// The named tutor is no active user with the tutor role (checked in the write).
    #[error("tutor not found")]
    TutorNotFound,
    /// The store failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

/// One course of a curriculum's detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurriculumCourse {
    /// The course.
    pub id: ItemId,
    /// Its current title.
    pub title: ItemTitle,
    /// Its current price.
    pub price: Money,
}

/// A curriculum with its courses' titles and prices, in its order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurriculumDetail {
    /// The curriculum.
    pub curriculum: Curriculum,
    /// Its courses, in order.
    pub courses: Vec<CurriculumCourse>,
}

/// What the cart and orders need of a curriculum, deleted or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurriculumForSale {
    /// Its name (an order item's title).
    pub name: CurriculumName,
    /// Its price.
    pub price: Money,
    /// Its courses, in order (each gets an access grant when it is paid for).
    pub course_ids: Vec<ItemId>,
    /// Whether it is deleted (no longer for sale; still named by past orders).
    pub deleted: bool,
}

/// One page of the curricula list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurriculumQuery {
    /// Every word must match the name or description.
    pub search: Option<SearchText>,
    /// Only this subject.
    pub category: Option<Category>,
    /// Only this level.
    pub skill_level: Option<SkillLevel>,
    /// Only prices inside (both ends included).
    pub price: PriceRange,
    /// After this row, newest first.
    pub after: Option<CurriculumCursor>,
    /// Page size: the store returns at most `limit + 1` rows.
    pub limit: PageLimit,
}

/// Curricula.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait CurriculumRepository: Send + Sync {
    /// Stores a new curriculum and its courses, in order, if its tutor is an active tutor and
    /// every course exists, is a course, is not deleted and is within `scope` (a tutor links
    /// only the courses they teach).
    ///
    /// # Errors
    /// `TutorNotFound`, `UnknownCourses`, `ForeignCourses` (nothing written), `Dependency`.
    async fn create_curriculum(
        &self,
        scope: ItemScope,
        curriculum: NewCurriculum,
    ) -> Result<Curriculum, WriteCurriculumError>;

    /// A curriculum that is not deleted, with its courses.
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    async fn curriculum(
        &self,
        id: CurriculumId,
    ) -> Result<Option<CurriculumDetail>, DependencyError>;

    /// Sets the fields given (and, when given, replaces its courses, each checked as in
    /// [`Self::create_curriculum`] within `scope`) if the curriculum exists, is not deleted and
    /// is within `scope`; the fields not given keep the value stored when the write runs.
    ///
    /// # Errors
    /// `NotFound`, `TutorNotFound`, `UnknownCourses`, `ForeignCourses` (nothing written),
    /// `Dependency`.
    async fn update_curriculum(
        &self,
        id: CurriculumId,
        scope: ItemScope,
        update: CurriculumUpdate,
    ) -> Result<Curriculum, WriteCurriculumError>;

    /// Soft-deletes a curriculum within `scope`: hidden from the list and detail, its rows and
    /// courses kept. `false` when there was no such curriculum.
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    async fn delete_curriculum(
        &self,
        id: CurriculumId,
        scope: ItemScope,
        now: DateTime<Utc>,
    ) -> Result<bool, DependencyError>;

    /// A page of curricula that are not deleted, newest first, at most `limit + 1` rows.
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    async fn list_curricula(
        &self,
        query: CurriculumQuery,
    ) -> Result<Vec<Curriculum>, DependencyError>;

    /// What selling a curriculum needs, deleted ones included (`deleted` says so); `None` when
    /// it never existed.
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    async fn curriculum_for_sale(
        &self,
        id: CurriculumId,
    ) -> Result<Option<CurriculumForSale>, DependencyError>;
}
