//! Curricula: admins manage every one, a tutor only their own (a tutor creating one is its tutor;
//! an admin names the tutor, an active user with the tutor role); members only read. An edit is
//! partial (`course_ids` replaces the list): each field sent is validated on its own and the
//! store writes only those, onto the row as it is in the write. Every course must exist, be a
//! course and not be deleted, and a tutor may link only the courses they teach; the store
//! checks that (and that a named tutor is still an active tutor) in the write, so a course
//! deleted meanwhile is refused, not linked. A deleted curriculum is gone from the list and the
//! detail but kept for the orders that name it.

use crate::accounts::Principal;
use crate::catalog::items::{parse_description, parse_price};
use crate::ports::accounts::UserRepository;
use crate::ports::catalog::ItemScope;
use crate::ports::commerce::{
    CurriculumDetail, CurriculumQuery, CurriculumRepository, CurriculumUpdate, NewCurriculum,
    WriteCurriculumError,
};
use crate::ports::system::Clock;
use crate::{DependencyError, ErrorClass, FieldViolation, UseCaseError};
use reserva_domain::accounts::{Role, UserId};
use reserva_domain::catalog::{Category, ItemId, SearchText, SkillLevel};
use reserva_domain::commerce::{
    CourseList, Curriculum, CurriculumCursor, CurriculumId, CurriculumName, InvalidPriceRange,
    PriceRange,
};
use reserva_domain::paging::PageLimit;
use std::sync::Arc;
use thiserror::Error;

/// Everything the curricula use cases talk to.
#[derive(Clone)]
pub struct CurriculaPorts {
    /// Curricula.
    pub curricula: Arc<dyn CurriculumRepository>,
    /// Users (an admin naming a tutor: the user must be an active tutor).
    pub users: Arc<dyn UserRepository>,
    /// Time.
    pub clock: Arc<dyn Clock>,
}

/// The curricula use cases.
#[derive(Clone)]
pub struct Curricula {
    ports: CurriculaPorts,
}

/// A new curriculum, as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurriculumCommand {
    /// Name.
    pub name: String,
    /// Description (blank: none).
    pub description: Option<String>,
    /// Price in whole won.
    pub price: i64,
    /// Subject.
    pub category: Category,
    /// Level.
    pub skill_level: SkillLevel,
    /// Its tutor: required from an admin; a tutor may only name themselves (or leave it out).
    pub tutor_id: Option<UserId>,
    /// Its courses, in order.
    pub course_ids: Vec<ItemId>,
}

/// A partial edit: `None` keeps the stored value.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CurriculumChanges {
    /// New name.
    pub name: Option<String>,
    /// New description: `Some(None)` removes it.
    pub description: Option<Option<String>>,
    /// New price.
    pub price: Option<i64>,
    /// New subject.
    pub category: Option<Category>,
    /// New level.
    pub skill_level: Option<SkillLevel>,
    /// New tutor (admins only).
    pub tutor_id: Option<UserId>,
    /// The new list of courses, replacing the old one.
    pub course_ids: Option<Vec<ItemId>>,
}

/// Why creating, editing or deleting a curriculum failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CurriculumEditError {
    /// Curricula are managed by admins and tutors only.
    #[error("only admins and tutors may manage curricula")]
    Forbidden,
    /// A tutor named another tutor, or tried to change the tutor.
    #[error("tutors manage only their own curricula")]
    NotYourCurriculum,
    /// No such curriculum (or deleted, or another tutor's).
    #[error("curriculum not found")]
    NotFound,
    /// The input (or the edit merged onto the stored curriculum) breaks a rule.
    #[error("invalid curriculum")]
    Invalid(Vec<FieldViolation>),
    /// Some listed courses do not exist, are tests or are deleted (`course_ids`,
    /// `course_not_found`, one violation naming them), or, for a tutor, are taught by another
    /// tutor (`course_ids`, `course_not_yours`).
    #[error("unknown courses")]
    UnknownCourses(Vec<FieldViolation>),
    /// A dependency failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

impl UseCaseError for CurriculumEditError {
    fn class(&self) -> ErrorClass {
        match self {
            Self::Forbidden | Self::NotYourCurriculum => ErrorClass::Forbidden,
            Self::NotFound => ErrorClass::NotFound,
            Self::Invalid(_) => ErrorClass::InvalidInput,
            Self::UnknownCourses(_) => ErrorClass::Conflict,
            Self::Dependency(error) => error.class(),
        }
    }
    fn code(&self) -> &'static str {
        match self {
            Self::Forbidden => "forbidden",
            Self::NotYourCurriculum => "not_your_curriculum",
            Self::NotFound => "not_found",
            Self::Invalid(_) => "validation_failed",
            Self::UnknownCourses(_) => "unknown_course",
            Self::Dependency(error) => error.code(),
        }
    }
    fn violations(&self) -> &[FieldViolation] {
        match self {
            Self::Invalid(violations) | Self::UnknownCourses(violations) => violations,
            _ => &[],
        }
    }
}

/// One page of curricula, newest first.
pub type CurriculumPage = crate::Page<Curriculum, CurriculumCursor>;

/// Which curricula to list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListCurricula {
    /// Full-text search (blank: none).
    pub q: Option<String>,
    /// Only this subject.
    pub category: Option<Category>,
    /// Only this level.
    pub skill_level: Option<SkillLevel>,
    /// Lowest price, inclusive.
    pub min_price: Option<i64>,
    /// Highest price, inclusive.
    pub max_price: Option<i64>,
    /// After this row.
    pub after: Option<CurriculumCursor>,
    /// Page size.
    pub limit: PageLimit,
}

crate::error::invalid_or_dependency_error!(
    /// Why listing curricula failed.
    ListCurriculaError,
    /// The search text or the price range is invalid (`q`: the search's code; `min_price`:
    /// `min_above_max`; `min_price`/`max_price`: `price_negative`).
    "invalid list request"
);

/// Why reading a curriculum failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum GetCurriculumError {
    /// No such curriculum, or deleted.
    #[error("curriculum not found")]
    NotFound,
    /// A dependency failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

impl UseCaseError for GetCurriculumError {
    fn class(&self) -> ErrorClass {
        match self {
            Self::NotFound => ErrorClass::NotFound,
            Self::Dependency(error) => error.class(),
        }
    }
    fn code(&self) -> &'static str {
        match self {
            Self::NotFound => "not_found",
            Self::Dependency(error) => error.code(),
        }
    }
}

/// Who manages curricula, as far as the rules go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Editor {
    /// Every curriculum.
    Admin,
    /// Only this tutor's.
    Tutor(UserId),
}

impl Editor {
    const fn of(principal: &Principal) -> Result<Self, CurriculumEditError> {
        match principal.role {
            Role::Admin => Ok(Self::Admin),
            Role::Tutor => Ok(Self::Tutor(principal.user_id)),
            Role::Member => Err(CurriculumEditError::Forbidden),
        }
    }

    const fn scope(self) -> ItemScope {
        match self {
            Self::Admin => ItemScope::Any,
            Self::Tutor(tutor) => ItemScope::TutoredBy(tutor),
        }
    }
}

impl Curricula {
    /// Builds the use cases.
    #[must_use]
    pub const fn new(ports: CurriculaPorts) -> Self {
        Self { ports }
    }

    /// Creates a curriculum (admins naming an active tutor, or a tutor for themselves).
    ///
    /// # Errors
    /// `Forbidden` (a member), `NotYourCurriculum` (a tutor naming another tutor), `Invalid`
    /// listing every broken rule (also `tutor_id` `required` / `tutor_not_found`),
    /// `UnknownCourses`, `Dependency`.
    #[tracing::instrument(skip_all, fields(user_id = %principal.user_id))]
    pub async fn create(
        &self,
        principal: &Principal,
        command: CurriculumCommand,
    ) -> Result<Curriculum, CurriculumEditError> {
        let editor = Editor::of(principal)?;
        let mut violations = Vec::new();
        let tutor = match (editor, command.tutor_id) {
            (Editor::Tutor(me), Some(named)) if named != me => {
                return Err(CurriculumEditError::NotYourCurriculum);
            }
            (Editor::Tutor(me), _) => Some(me),
            (Editor::Admin, Some(named)) => self.require_tutor(named, &mut violations).await?,
            (Editor::Admin, None) => {
                violations.push(FieldViolation::new(
                    "tutor_id",
                    "required",
                    "an admin names the curriculum's tutor",
                ));
                None
            }
        };
        let name = parse_name(&command.name, &mut violations);
        let description = parse_description(command.description.as_deref(), &mut violations);
        let price = parse_price(command.price, &mut violations);
        let courses = parse_courses(command.course_ids, &mut violations);
        let (Some(tutor_id), Some(name), Some(description), Some(price), Some(courses)) =
            (tutor, name, description, price, courses)
        else {
            return Err(CurriculumEditError::Invalid(violations));
        };
        let curriculum = NewCurriculum {
            id: CurriculumId::from_uuid(uuid::Uuid::now_v7()),
            name,
            description,
            price,
            category: command.category,
            skill_level: command.skill_level,
            tutor_id,
            courses,
            now: self.ports.clock.now(),
        };
        self.ports
            .curricula
            .create_curriculum(editor.scope(), curriculum)
            .await
            .map_err(write_error)
    }

    /// Edits a curriculum: each field sent is validated on its own and only those are written,
    /// onto the row as it is in the write (so two edits of different fields both hold).
    ///
    /// # Errors
    /// `Forbidden`, `NotYourCurriculum` (a tutor changing the tutor), `NotFound` (also another
    /// tutor's), `Invalid`, `UnknownCourses`, `Dependency`.
    #[tracing::instrument(skip_all, fields(user_id = %principal.user_id, curriculum_id = %id))]
    pub async fn update(
        &self,
        principal: &Principal,
        id: CurriculumId,
        changes: CurriculumChanges,
    ) -> Result<Curriculum, CurriculumEditError> {
        let editor = Editor::of(principal)?;
        let tutor_id = match (editor, changes.tutor_id) {
            (Editor::Tutor(me), Some(named)) if named != me => {
                return Err(CurriculumEditError::NotYourCurriculum);
            }
            // A tutor naming themselves changes nothing: the scope keeps the edit to their own.
            (Editor::Tutor(_), _) | (Editor::Admin, None) => None,
            (Editor::Admin, Some(named)) => Some(named),
        };
        let mut violations = Vec::new();
        let tutor = match tutor_id {
            Some(named) => self.require_tutor(named, &mut violations).await?.map(Some),
            None => Some(None),
        };
        let name = changes.name.as_deref().map_or(Some(None), |name| {
            parse_name(name, &mut violations).map(Some)
        });
        let description = changes
            .description
            .as_ref()
            .map_or(Some(None), |description| {
                parse_description(description.as_deref(), &mut violations).map(Some)
            });
        let price = changes.price.map_or(Some(None), |amount| {
            parse_price(amount, &mut violations).map(Some)
        });
        let courses = changes.course_ids.map_or(Some(None), |ids| {
            parse_courses(ids, &mut violations).map(Some)
        });
        let (Some(name), Some(description), Some(price), Some(tutor_id), Some(courses)) =
            (name, description, price, tutor, courses)
        else {
            return Err(CurriculumEditError::Invalid(violations));
        };
        let update = CurriculumUpdate {
            name,
            description,
            price,
            category: changes.category,
            skill_level: changes.skill_level,
            tutor_id,
            courses,
            now: self.ports.clock.now(),
        };
        self.ports
            .curricula
            .update_curriculum(id, editor.scope(), update)
            .await
            .map_err(write_error)
    }

    /// Deletes a curriculum softly: hidden, kept for the orders that name it.
    ///
    /// # Errors
    /// `Forbidden`, `NotFound` (also another tutor's), `Dependency`.
    #[tracing::instrument(skip_all, fields(user_id = %principal.user_id, curriculum_id = %id))]
    pub async fn delete(
        &self,
        principal: &Principal,
        id: CurriculumId,
    ) -> Result<(), CurriculumEditError> {
        let editor = Editor::of(principal)?;
        let now = self.ports.clock.now();
        if self
            .ports
            .curricula
            .delete_curriculum(id, editor.scope(), now)
            .await?
        {
            Ok(())
        } else {
            Err(CurriculumEditError::NotFound)
        }
    }

    /// A page of curricula, newest first.
    ///
    /// # Errors
    /// `Invalid` (search text, price range), `Dependency`.
    #[tracing::instrument(skip_all, fields(user_id = %principal.user_id))]
    pub async fn list(
        &self,
        principal: &Principal,
        request: ListCurricula,
    ) -> Result<CurriculumPage, ListCurriculaError> {
        let mut violations = Vec::new();
        let search = request
            .q
            .as_deref()
            .filter(|text| !text.trim().is_empty())
            .and_then(|text| {
                SearchText::parse(text)
                    .map_err(|rule| violations.push(FieldViolation::new("q", rule.code(), rule)))
                    .ok()
            });
        let price = PriceRange::new(request.min_price, request.max_price)
            .map_err(|rule| {
                let field = if rule == InvalidPriceRange::MinAboveMax
                    || request.min_price.is_some_and(|min| min < 0)
                {
                    "min_price"
                } else {
                    "max_price"
                };
                violations.push(FieldViolation::new(field, rule.code(), rule));
            })
            .ok();
        let Some(price) = price.filter(|_| violations.is_empty()) else {
            return Err(ListCurriculaError::Invalid(violations));
        };
        let query = CurriculumQuery {
            search,
            category: request.category,
            skill_level: request.skill_level,
            price,
            after: request.after,
            limit: request.limit,
        };
        let rows = self.ports.curricula.list_curricula(query).await?;
        Ok(CurriculumPage::from_rows(
            rows,
            request.limit,
            CurriculumCursor::after,
        ))
    }

    /// One curriculum with its courses.
    ///
    /// # Errors
    /// `NotFound` (also deleted), `Dependency`.
    #[tracing::instrument(skip_all, fields(user_id = %principal.user_id, curriculum_id = %id))]
    pub async fn get(
        &self,
        principal: &Principal,
        id: CurriculumId,
    ) -> Result<CurriculumDetail, GetCurriculumError> {
        self.ports
            .curricula
            .curriculum(id)
            .await?
            .ok_or(GetCurriculumError::NotFound)
    }

    /// `Some(id)` when `id` is an active user with the tutor role; otherwise a `tutor_not_found`
    /// violation and `None`.
    async fn require_tutor(
        &self,
        id: UserId,
        violations: &mut Vec<FieldViolation>,
    ) -> Result<Option<UserId>, DependencyError> {
        let user = self.ports.users.find_user(id).await?;
        if user.is_some_and(|user| user.is_active && user.role == Role::Tutor) {
            Ok(Some(id))
        } else {
            violations.push(tutor_not_found());
            Ok(None)
        }
    }
}

fn write_error(error: WriteCurriculumError) -> CurriculumEditError {
    match error {
        WriteCurriculumError::NotFound => CurriculumEditError::NotFound,
        WriteCurriculumError::UnknownCourses(ids) => {
            let listed: Vec<String> = ids.iter().map(ToString::to_string).collect();
            CurriculumEditError::UnknownCourses(vec![FieldViolation::new(
                "course_ids",
                "course_not_found",
                format!("not an existing course (or deleted): {}", listed.join(", ")),
            )])
        }
        WriteCurriculumError::ForeignCourses(ids) => {
            let listed: Vec<String> = ids.iter().map(ToString::to_string).collect();
            CurriculumEditError::UnknownCourses(vec![FieldViolation::new(
                "course_ids",
                "course_not_yours",
                format!("a course of another tutor: {}", listed.join(", ")),
            )])
        }
        WriteCurriculumError::TutorNotFound => {
            CurriculumEditError::Invalid(vec![tutor_not_found()])
        }
        WriteCurriculumError::Dependency(error) => error.into(),
    }
}

fn tutor_not_found() -> FieldViolation {
    FieldViolation::new(
        "tutor_id",
        "tutor_not_found",
        "tutor_id must name an active user with the tutor role",
    )
}

fn parse_name(raw: &str, violations: &mut Vec<FieldViolation>) -> Option<CurriculumName> {
    CurriculumName::parse(raw)
        .map_err(|rule| violations.push(FieldViolation::new("name", rule.code(), rule)))
        .ok()
}

fn parse_courses(ids: Vec<ItemId>, violations: &mut Vec<FieldViolation>) -> Option<CourseList> {
    CourseList::new(ids)
        .map_err(|rule| violations.push(FieldViolation::new("course_ids", rule.code(), rule)))
        .ok()
}

#[cfg(test)]
mod tests;
