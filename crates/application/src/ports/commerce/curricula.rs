//! Curricula: created, edited and soft-deleted within the editor's scope, every course checked
//! in the write itself (an existing course that is not deleted), listed newest first in keyset
//! pages with full-text search and filters, and read for sale by the cart and orders (deleted
//! ones included, for history).

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
    /// Its tutor (a tutor's own id, or the active tutor an admin named).
    pub tutor_id: UserId,
    /// Its courses, in order: each must be a course that exists and is not deleted.
    pub courses: CourseList,
    /// Creation instant.
    pub now: DateTime<Utc>,
}

/// A curriculum's editable fields, complete (the use case merges a partial edit onto the stored
/// curriculum and validates the result).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurriculumUpdate {
    /// Name.
    pub name: CurriculumName,
    /// Description.
    pub description: Option<ItemDescription>,
    /// Price (orders already made keep theirs).
    pub price: Money,
    /// Subject.
    pub category: Category,
    /// Level.
    pub skill_level: SkillLevel,
    /// Tutor.
    pub tutor_id: UserId,
    /// Its courses, replacing the stored list (`None`: the stored list stays as it is, unchecked).
    pub courses: Option<CourseList>,
    /// Instant of the edit.
    pub now: DateTime<Utc>,
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
    /// Stores a new curriculum and its courses, in order, if every course exists, is a course
    /// and is not deleted.
    ///
    /// # Errors
    /// `UnknownCourses` (nothing written), `Dependency`.
    async fn create_curriculum(
        &self,
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

    /// Replaces a curriculum's fields (and, when given, its courses) if it exists, is not
    /// deleted and is within `scope`.
    ///
    /// # Errors
    /// `NotFound`, `UnknownCourses` (nothing written), `Dependency`.
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
