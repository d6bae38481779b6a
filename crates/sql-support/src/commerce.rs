//! How commerce rows become entities, for both SQL stores.

use chrono::{DateTime, Utc};
use reserva_application::DependencyError;
use reserva_application::ports::commerce::CurriculumCourse;
use reserva_domain::accounts::UserId;
use reserva_domain::catalog::{Category, ItemDescription, ItemId, ItemTitle, SkillLevel, price};
use reserva_domain::commerce::{CourseList, Curriculum, CurriculumId, CurriculumName};
use uuid::Uuid;

fn corrupt(what: &str) -> DependencyError {
    DependencyError::Failed(format!("stored curriculum {what} is corrupt"))
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
