//! Creating, editing and deleting tests and courses. Tests are the admins'. Courses are also
//! their tutor's: a tutor creates the courses they teach and edits or deletes only those (another
//! tutor's course is not found to them), while only an admin names or changes a course's tutor,
//! who must then be an active user with the tutor role. An edit is partial: the changes are merged
//! onto the stored item and the result is validated as a whole.

use super::Catalog;
use crate::accounts::Principal;
use crate::ports::catalog::{ItemScope, ItemUpdate, NewItem, UpdateItemError};
use crate::{DependencyError, ErrorClass, FieldViolation, UseCaseError};
use chrono::{DateTime, Utc};
use reserva_domain::accounts::{Role, UserId};
use reserva_domain::catalog::{
    CatalogItem, Category, CourseDetails, ItemDescription, ItemId, ItemKind, ItemTitle, Schedule,
    SkillLevel, price,
};
use reserva_domain::wallet::Money;
use thiserror::Error;

/// A new test or course, as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemCommand {
    /// Test or course.
    pub kind: ItemKind,
    /// Title.
    pub title: String,
    /// Description (blank: none).
    pub description: Option<String>,
    /// Price in whole won.
    pub price: i64,
    /// When it opens.
    pub starts_at: DateTime<Utc>,
    /// When it closes.
    pub ends_at: DateTime<Utc>,
    /// A course's subject (required for a course, refused for a test).
    pub category: Option<Category>,
    /// A course's level (required for a course, refused for a test).
    pub skill_level: Option<SkillLevel>,
    /// A course's tutor: required from an admin; a tutor may only name themselves (or leave it
    /// out). Refused for a test.
    pub tutor_id: Option<UserId>,
}

/// A partial edit: `None` keeps the stored value.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ItemChanges {
    /// New title.
    pub title: Option<String>,
    /// New description: `Some(None)` removes it.
    pub description: Option<Option<String>>,
    /// New price (payments already made keep theirs).
    pub price: Option<i64>,
    /// New opening instant.
    pub starts_at: Option<DateTime<Utc>>,
    /// New closing instant.
    pub ends_at: Option<DateTime<Utc>>,
    /// New subject (courses only).
    pub category: Option<Category>,
    /// New level (courses only).
    pub skill_level: Option<SkillLevel>,
    /// New tutor (courses only, admins only).
    pub tutor_id: Option<UserId>,
}

/// Why creating, editing or deleting an item failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ItemEditError {
    /// Tests are managed by admins only.
    #[error("only admins may manage tests")]
    AdminOnly,
    /// Courses are managed by admins and tutors only.
    #[error("only admins and tutors may manage courses")]
    Forbidden,
    /// A tutor named another tutor for a course, or tried to change a course's tutor.
    #[error("tutors manage only the courses they teach")]
    NotYourCourse,
    /// No such item of that kind (or deleted, or another tutor's course).
    #[error("item not found")]
    NotFound,
    /// The input (or the edit merged onto the stored item) breaks a rule.
    #[error("invalid item")]
    Invalid(Vec<FieldViolation>),
    /// A concurrent edit made the stored combination invalid; the edit was not stored.
    #[error("the edit conflicts with a concurrent one")]
    Conflict,
    /// A dependency failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

impl UseCaseError for ItemEditError {
    fn class(&self) -> ErrorClass {
        match self {
            Self::AdminOnly | Self::Forbidden | Self::NotYourCourse => ErrorClass::Forbidden,
            Self::NotFound => ErrorClass::NotFound,
            Self::Invalid(_) => ErrorClass::InvalidInput,
            Self::Conflict => ErrorClass::Conflict,
            Self::Dependency(error) => error.class(),
        }
    }
    fn code(&self) -> &'static str {
        match self {
            Self::AdminOnly => "admin_only",
            Self::Forbidden => "forbidden",
            Self::NotYourCourse => "not_your_course",
            Self::NotFound => "item_not_found",
            Self::Invalid(_) => "validation_failed",
            Self::Conflict => "edit_conflict",
            Self::Dependency(error) => error.code(),
        }
    }
    fn violations(&self) -> &[FieldViolation] {
        match self {
            Self::Invalid(violations) => violations,
            _ => &[],
        }
    }
}

/// Who manages an item, as far as the rules go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Editor {
    /// Any item.
    Admin,
    /// Only courses this tutor teaches.
    Tutor(UserId),
}

impl Editor {
    /// The caller's rights over items of `kind`.
    const fn of(principal: &Principal, kind: ItemKind) -> Result<Self, ItemEditError> {
        match (principal.role, kind) {
            (Role::Admin, _) => Ok(Self::Admin),
            (Role::Member | Role::Tutor, ItemKind::Test) => Err(ItemEditError::AdminOnly),
            (Role::Tutor, ItemKind::Course) => Ok(Self::Tutor(principal.user_id)),
            (Role::Member, ItemKind::Course) => Err(ItemEditError::Forbidden),
        }
    }

    const fn scope(self) -> ItemScope {
        match self {
            Self::Admin => ItemScope::Any,
            Self::Tutor(tutor) => ItemScope::TutoredBy(tutor),
        }
    }
}

impl Catalog {
    /// Creates a test (admins) or a course (admins naming an active tutor, or a tutor teaching
    /// it).
    ///
    /// # Errors
    /// `AdminOnly` (a test, not an admin), `Forbidden` (a course, a member), `NotYourCourse` (a
    /// tutor naming another tutor), `Invalid` listing every broken rule (including
    /// `not_for_tests`, `required` course fields and `tutor_not_found`), `Dependency`.
    #[tracing::instrument(skip_all, fields(user_id = %principal.user_id, kind = command.kind.as_str()))]
    pub async fn create_item(
        &self,
        principal: &Principal,
        command: ItemCommand,
    ) -> Result<CatalogItem, ItemEditError> {
        let editor = Editor::of(principal, command.kind)?;
        let tutor = match (editor, command.tutor_id) {
            (Editor::Tutor(me), Some(named)) if named != me => {
                return Err(ItemEditError::NotYourCourse);
            }
            (Editor::Tutor(me), _) => Some(me),
            (Editor::Admin, named) => named,
        };
        let mut violations = Vec::new();
        let title = parse_title(&command.title, &mut violations);
        let description = parse_description(command.description.as_deref(), &mut violations);
        let price = parse_price(command.price, &mut violations);
        let schedule = parse_schedule(command.starts_at, command.ends_at, &mut violations);
        let course = match command.kind {
            ItemKind::Test => {
                refuse_course_fields(
                    command.category.is_some(),
                    command.skill_level.is_some(),
                    command.tutor_id.is_some(),
                    &mut violations,
                );
                None
            }
            ItemKind::Course => {
                let tutor = match (editor, tutor) {
                    (Editor::Admin, Some(named)) => {
                        self.require_tutor(named, &mut violations).await?
                    }
                    (_, tutor) => tutor,
                };
                course_details(
                    command.category,
                    command.skill_level,
                    tutor,
                    &mut violations,
                )
            }
        };
        let (Some(title), Some(description), Some(price), Some(schedule)) =
            (title, description, price, schedule)
        else {
            return Err(ItemEditError::Invalid(violations));
        };
        if !violations.is_empty() {
            return Err(ItemEditError::Invalid(violations));
        }
        let item = NewItem {
            id: ItemId::from_uuid(uuid::Uuid::now_v7()),
            kind: command.kind,
            title,
            description,
            price,
            schedule,
            course,
            now: self.now(),
        };
        Ok(self.ports.items.create_item(item).await?)
    }

    /// Edits an item: the changes are merged onto the stored item and the result validated.
    ///
    /// # Errors
    /// `AdminOnly`, `Forbidden`, `NotYourCourse` (a tutor changing the tutor), `NotFound` (also
    /// another tutor's course), `Invalid`, `Conflict`, `Dependency`.
    #[tracing::instrument(skip_all, fields(user_id = %principal.user_id, kind = kind.as_str(), item_id = %id))]
    pub async fn update_item(
        &self,
        principal: &Principal,
        kind: ItemKind,
        id: ItemId,
        changes: ItemChanges,
    ) -> Result<CatalogItem, ItemEditError> {
        let editor = Editor::of(principal, kind)?;
        if let Editor::Tutor(me) = editor
            && changes.tutor_id.is_some_and(|named| named != me)
        {
            return Err(ItemEditError::NotYourCourse);
        }
        let stored = self
            .ports
            .items
            .item(kind, id, principal.user_id)
            .await?
            .map(|listed| listed.item)
            .filter(|item| match editor {
                Editor::Admin => true,
                Editor::Tutor(me) => item.course.is_some_and(|course| course.tutor_id == me),
            })
            .ok_or(ItemEditError::NotFound)?;
        let mut violations = Vec::new();
        let title = changes.title.as_deref().map_or_else(
            || Some(stored.title.clone()),
            |title| parse_title(title, &mut violations),
        );
        let description = changes.description.as_ref().map_or_else(
            || Some(stored.description.clone()),
            |description| parse_description(description.as_deref(), &mut violations),
        );
        let price = changes.price.map_or(Some(stored.price), |amount| {
            parse_price(amount, &mut violations)
        });
        let schedule = if changes.starts_at.is_none() && changes.ends_at.is_none() {
            Some(stored.schedule)
        } else {
            parse_schedule(
                changes.starts_at.unwrap_or(stored.schedule.starts_at()),
                changes.ends_at.unwrap_or(stored.schedule.ends_at()),
                &mut violations,
            )
        };
        let course = match (kind, stored.course) {
            (ItemKind::Course, Some(course)) => {
                let tutor = match changes.tutor_id {
                    Some(named) if named != course.tutor_id => {
                        self.require_tutor(named, &mut violations).await?
                    }
                    _ => Some(course.tutor_id),
                };
                course_details(
                    Some(changes.category.unwrap_or(course.category)),
                    Some(changes.skill_level.unwrap_or(course.skill_level)),
                    tutor,
                    &mut violations,
                )
            }
            _ => {
                refuse_course_fields(
                    changes.category.is_some(),
                    changes.skill_level.is_some(),
                    changes.tutor_id.is_some(),
                    &mut violations,
                );
                stored.course
            }
        };
        let (Some(title), Some(description), Some(price), Some(schedule)) =
            (title, description, price, schedule)
        else {
            return Err(ItemEditError::Invalid(violations));
        };
        if !violations.is_empty() {
            return Err(ItemEditError::Invalid(violations));
        }
        let update = ItemUpdate {
            title,
            description,
            price,
            schedule,
            course,
            now: self.now(),
        };
        self.ports
            .items
            .update_item(kind, id, editor.scope(), update)
            .await
            .map_err(|error| match error {
                UpdateItemError::NotFound => ItemEditError::NotFound,
                UpdateItemError::Conflict => ItemEditError::Conflict,
                UpdateItemError::Dependency(error) => error.into(),
            })
    }

    /// Deletes an item (softly: existing registrations and payments stay).
    ///
    /// # Errors
    /// `AdminOnly`, `Forbidden`, `NotFound` (also another tutor's course), `Dependency`.
    #[tracing::instrument(skip_all, fields(user_id = %principal.user_id, kind = kind.as_str(), item_id = %id))]
    pub async fn delete_item(
        &self,
        principal: &Principal,
        kind: ItemKind,
        id: ItemId,
    ) -> Result<(), ItemEditError> {
        let editor = Editor::of(principal, kind)?;
        let deleted = self
            .ports
            .items
            .delete_item(kind, id, editor.scope(), self.now())
            .await?;
        if deleted {
            Ok(())
        } else {
            Err(ItemEditError::NotFound)
        }
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
            violations.push(FieldViolation::new(
                "tutor_id",
                "tutor_not_found",
                "tutor_id must name an active user with the tutor role",
            ));
            Ok(None)
        }
    }
}

fn parse_title(raw: &str, violations: &mut Vec<FieldViolation>) -> Option<ItemTitle> {
    ItemTitle::parse(raw)
        .map_err(|rule| violations.push(FieldViolation::new("title", rule.code(), rule)))
        .ok()
}

/// `Some(None)` for no description (absent or blank), `None` when it is invalid. Curricula's
/// description and price follow the same rules and use these two.
pub(crate) fn parse_description(
    raw: Option<&str>,
    violations: &mut Vec<FieldViolation>,
) -> Option<Option<ItemDescription>> {
    match raw {
        None => Some(None),
        Some(text) => ItemDescription::parse(text)
            .map(|description| (!description.as_str().is_empty()).then_some(description))
            .map_err(|rule| violations.push(FieldViolation::new("description", rule.code(), rule)))
            .ok(),
    }
}

pub(crate) fn parse_price(amount: i64, violations: &mut Vec<FieldViolation>) -> Option<Money> {
    price(amount)
        .map_err(|rule| violations.push(FieldViolation::new("price", rule.code(), rule)))
        .ok()
}

fn parse_schedule(
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    violations: &mut Vec<FieldViolation>,
) -> Option<Schedule> {
    Schedule::new(starts_at, ends_at)
        .map_err(|rule| violations.push(FieldViolation::new("starts_at", rule.code(), rule)))
        .ok()
}

/// A test has no category, level or tutor: each one given is a `not_for_tests` violation.
fn refuse_course_fields(
    category: bool,
    skill_level: bool,
    tutor_id: bool,
    violations: &mut Vec<FieldViolation>,
) {
    for (given, field) in [
        (category, "category"),
        (skill_level, "skill_level"),
        (tutor_id, "tutor_id"),
    ] {
        if given {
            violations.push(FieldViolation::new(
                field,
                "not_for_tests",
                format!("a test has no {field}"),
            ));
        }
    }
}

/// A course's details; each missing one is a `required` violation (a tutor already refused is
/// not reported twice: `tutor` is then `None` with its violation pushed).
fn course_details(
    category: Option<Category>,
    skill_level: Option<SkillLevel>,
    tutor: Option<UserId>,
    violations: &mut Vec<FieldViolation>,
) -> Option<CourseDetails> {
    let refused_tutor = violations.iter().any(|v| v.field == "tutor_id");
    for (missing, field) in [
        (category.is_none(), "category"),
        (skill_level.is_none(), "skill_level"),
        (tutor.is_none() && !refused_tutor, "tutor_id"),
    ] {
        if missing {
            violations.push(FieldViolation::new(
                field,
                "required",
                format!("a course needs a {field}"),
            ));
        }
    }
    Some(CourseDetails {
        category: category?,
        skill_level: skill_level?,
        tutor_id: tutor?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::test_support::{Fixture, item, listed, now, principal, user};
    use chrono::Duration;

    fn command(kind: ItemKind) -> ItemCommand {
        ItemCommand {
            kind,
            title: "  Rust basics ".into(),
            description: Some("Ownership".into()),
            price: 30_000,
            starts_at: now(),
            ends_at: now() + Duration::days(7),
            category: None,
            skill_level: None,
            tutor_id: None,
        }
    }

    fn course_command(tutor: Option<UserId>) -> ItemCommand {
        ItemCommand {
            category: Some(Category::Docker),
            skill_level: Some(SkillLevel::Advanced),
            tutor_id: tutor,
            ..command(ItemKind::Course)
        }
    }

    /// What a store answers to an insert: what it was given.
    fn stored(new: NewItem) -> Result<CatalogItem, DependencyError> {
        Ok(CatalogItem {
            id: new.id,
            kind: new.kind,
            title: new.title,
            description: new.description,
            price: new.price,
            schedule: new.schedule,
            course: new.course,
            registration_count: 0,
            created_at: new.now,
            updated_at: new.now,
        })
    }

    fn codes(error: &ItemEditError) -> Vec<(&'static str, &'static str)> {
        error
            .violations()
            .iter()
            .map(|v| (v.field, v.code))
            .collect()
    }

    #[tokio::test]
    async fn admins_create_tests_trimmed_and_stored_as_given() {
        let mut fixture = Fixture::new();
        fixture
            .items
            .expect_create_item()
            .withf(|new| {
                new.kind == ItemKind::Test
                    && new.title.as_str() == "Rust basics"
                    && new.description.as_ref().map(ItemDescription::as_str) == Some("Ownership")
                    && new.price.get() == 30_000
                    && new.schedule.starts_at() == now()
                    && new.course.is_none()
                    && new.now == now()
                    && new.id.as_uuid().get_version_num() == 7
            })
            .times(1)
            .returning(stored);
        fixture.users.expect_find_user().never();
        let created = fixture
            .catalog()
            .create_item(&principal(Role::Admin), command(ItemKind::Test))
            .await
            .expect("created");
        assert_eq!(created.registration_count, 0);
    }

    #[tokio::test]
    async fn only_admins_manage_tests_and_members_no_courses() {
        let catalog = Fixture::new().catalog();
        for role in [Role::Member, Role::Tutor] {
            let caller = principal(role);
            let id = ItemId::from_uuid(uuid::Uuid::now_v7());
            let results = [
                catalog
                    .create_item(&caller, command(ItemKind::Test))
                    .await
                    .map(|_| ()),
                catalog
                    .update_item(&caller, ItemKind::Test, id, ItemChanges::default())
                    .await
                    .map(|_| ()),
                catalog.delete_item(&caller, ItemKind::Test, id).await,
            ];
            for result in results {
                let error = result.expect_err("admins only");
                assert_eq!(
                    (error.class(), error.code()),
                    (ErrorClass::Forbidden, "admin_only")
                );
            }
        }
        let member = principal(Role::Member);
        let id = ItemId::from_uuid(uuid::Uuid::now_v7());
        let results = [
            catalog
                .create_item(&member, course_command(None))
                .await
                .map(|_| ()),
            catalog
                .update_item(&member, ItemKind::Course, id, ItemChanges::default())
                .await
                .map(|_| ()),
            catalog.delete_item(&member, ItemKind::Course, id).await,
        ];
        for result in results {
            let error = result.expect_err("members manage nothing");
            assert_eq!(
                (error.class(), error.code()),
                (ErrorClass::Forbidden, "forbidden")
            );
        }
    }

    #[tokio::test]
    async fn a_test_given_course_fields_refuses_each() {
        let mut fixture = Fixture::new();
        fixture.items.expect_create_item().never();
        fixture.users.expect_find_user().never();
        let given = ItemCommand {
            kind: ItemKind::Test,
            ..course_command(Some(UserId::from_uuid(uuid::Uuid::now_v7())))
        };
        let error = fixture
            .catalog()
            .create_item(&principal(Role::Admin), given)
            .await
            .expect_err("invalid");
        assert_eq!(error.code(), "validation_failed");
        assert_eq!(
            codes(&error),
            [
                ("category", "not_for_tests"),
                ("skill_level", "not_for_tests"),
                ("tutor_id", "not_for_tests"),
            ]
        );
    }

    #[tokio::test]
    async fn a_tutor_creates_courses_they_teach_only() {
        let tutor = principal(Role::Tutor);
        for named in [None, Some(tutor.user_id)] {
            let mut fixture = Fixture::new();
            fixture
                .items
                .expect_create_item()
                .withf(move |new| {
                    new.course.is_some_and(|course| {
                        course.tutor_id == tutor.user_id
                            && course.category == Category::Docker
                            && course.skill_level == SkillLevel::Advanced
                    })
                })
                .times(1)
                .returning(stored);
            fixture.users.expect_find_user().never();
            let result = fixture
                .catalog()
                .create_item(&tutor, course_command(named))
                .await;
            assert!(result.is_ok(), "{named:?}");
        }
        let mut fixture = Fixture::new();
        fixture.items.expect_create_item().never();
        let other = UserId::from_uuid(uuid::Uuid::now_v7());
        let error = fixture
            .catalog()
            .create_item(&tutor, course_command(Some(other)))
            .await
            .expect_err("not theirs");
        assert_eq!(
            (error.class(), error.code()),
            (ErrorClass::Forbidden, "not_your_course")
        );
    }

    #[tokio::test]
    async fn an_admin_names_an_active_tutor() {
        let admin = principal(Role::Admin);
        let named = UserId::from_uuid(uuid::Uuid::now_v7());
        let mut fixture = Fixture::new();
        fixture
            .users
            .expect_find_user()
            .withf(move |id| *id == named)
            .times(1)
            .returning(move |id| Ok(Some(user(id, Role::Tutor, true))));
        fixture
            .items
            .expect_create_item()
            .withf(move |new| new.course.is_some_and(|course| course.tutor_id == named))
            .times(1)
            .returning(stored);
        assert!(
            fixture
                .catalog()
                .create_item(&admin, course_command(Some(named)))
                .await
                .is_ok()
        );

        let error = Fixture::new()
            .catalog()
            .create_item(&admin, course_command(None))
            .await
            .expect_err("tutor required");
        assert_eq!(codes(&error), [("tutor_id", "required")]);

        for found in [
            None,
            Some(user(named, Role::Member, true)),
            Some(user(named, Role::Admin, true)),
            Some(user(named, Role::Tutor, false)),
        ] {
            let mut fixture = Fixture::new();
            fixture
                .users
                .expect_find_user()
                .return_once(move |_| Ok(found));
            fixture.items.expect_create_item().never();
            let error = fixture
                .catalog()
                .create_item(&admin, course_command(Some(named)))
                .await
                .expect_err("not a tutor");
            assert_eq!(codes(&error), [("tutor_id", "tutor_not_found")]);
        }

        let mut fixture = Fixture::new();
        fixture
            .users
            .expect_find_user()
            .returning(|_| Err(DependencyError::Unavailable("db".into())));
        let error = fixture
            .catalog()
            .create_item(&admin, course_command(Some(named)))
            .await
            .expect_err("store down");
        assert_eq!(error.class(), ErrorClass::Unavailable);
    }

    #[tokio::test]
    async fn every_broken_rule_is_reported_at_once() {
        let mut fixture = Fixture::new();
        fixture.items.expect_create_item().never();
        let catalog = fixture.catalog();
        let tutor = principal(Role::Tutor);
        let broken = ItemCommand {
            title: "   ".into(),
            description: Some("x".repeat(5_001)),
            price: -1,
            ends_at: now(),
            category: None,
            skill_level: None,
            ..course_command(None)
        };
        let error = catalog
            .create_item(&tutor, broken)
            .await
            .expect_err("invalid");
        assert_eq!(error.class(), ErrorClass::InvalidInput);
        assert_eq!(
            codes(&error),
            [
                ("title", "title_empty"),
                ("description", "description_too_long"),
                ("price", "price_negative"),
                ("starts_at", "starts_after_ends"),
                ("category", "required"),
                ("skill_level", "required"),
            ]
        );
        let dear = ItemCommand {
            title: "x".repeat(256),
            price: 100_000_001,
            ..command(ItemKind::Test)
        };
        let error = catalog
            .create_item(&principal(Role::Admin), dear)
            .await
            .expect_err("invalid");
        assert_eq!(
            codes(&error),
            [("title", "title_too_long"), ("price", "price_too_high")]
        );
    }

    #[tokio::test]
    async fn a_blank_description_is_none_and_a_free_item_is_fine() {
        let mut fixture = Fixture::new();
        fixture
            .items
            .expect_create_item()
            .withf(|new| new.description.is_none() && new.price.get() == 0)
            .times(1)
            .returning(stored);
        let free = ItemCommand {
            description: Some("   ".into()),
            price: 0,
            ..command(ItemKind::Test)
        };
        assert!(
            fixture
                .catalog()
                .create_item(&principal(Role::Admin), free)
                .await
                .is_ok()
        );
    }

    /// A fixture whose store holds `stored` (for any viewer) and answers updates with the
    /// update applied, checking it with `check`.
    fn holding(
        stored: &CatalogItem,
        check: impl Fn(ItemScope, &ItemUpdate) -> bool + Send + 'static,
    ) -> Fixture {
        let mut fixture = Fixture::new();
        let copy = stored.clone();
        fixture.items.expect_item().returning(move |kind, id, _| {
            Ok((kind == copy.kind && id == copy.id).then(|| listed(copy.clone())))
        });
        let base = stored.clone();
        fixture
            .items
            .expect_update_item()
            .withf(move |_, _, scope, update| check(*scope, update))
            .returning(move |_, _, _, update| {
                Ok(CatalogItem {
                    title: update.title,
                    description: update.description,
                    price: update.price,
                    schedule: update.schedule,
                    course: update.course,
                    updated_at: update.now,
                    ..base.clone()
                })
            });
        fixture
    }

    #[tokio::test]
    async fn a_partial_edit_is_merged_onto_the_stored_item() {
        let tutor = principal(Role::Tutor);
        let course = item(ItemKind::Course, tutor.user_id);
        let before = course.clone();
        let fixture = holding(&course, move |scope, update| {
            scope == ItemScope::TutoredBy(tutor.user_id)
                && update.price.get() == 45_000
                && update.title == before.title
                && update.description.is_none()
                && update.schedule.starts_at() == before.schedule.starts_at()
                && update.schedule.ends_at() == now() + Duration::days(3)
                && update.course.is_some_and(|details| {
                    details.tutor_id == tutor.user_id
                        && details.skill_level == SkillLevel::Intermediate
                        && details.category == Category::Python
                })
                && update.now == now()
        });
        let changes = ItemChanges {
            price: Some(45_000),
            description: Some(None),
            ends_at: Some(now() + Duration::days(3)),
            skill_level: Some(SkillLevel::Intermediate),
            tutor_id: Some(tutor.user_id),
            ..ItemChanges::default()
        };
        let edited = fixture
            .catalog()
            .update_item(&tutor, ItemKind::Course, course.id, changes)
            .await
            .expect("edited");
        assert_eq!(edited.price.get(), 45_000);
    }

    #[tokio::test]
    async fn a_merged_edit_is_validated_as_a_whole() {
        let admin = principal(Role::Admin);
        let test = item(ItemKind::Test, admin.user_id);
        let mut fixture = holding(&test, |_, _| true);
        fixture.items.checkpoint();
        let copy = test.clone();
        fixture
            .items
            .expect_item()
            .returning(move |_, _, _| Ok(Some(listed(copy.clone()))));
        fixture.items.expect_update_item().never();
        let catalog = fixture.catalog();
        // ends before the stored start
        let early_end = ItemChanges {
            ends_at: Some(test.schedule.starts_at() - Duration::hours(1)),
            ..ItemChanges::default()
        };
        let error = catalog
            .update_item(&admin, ItemKind::Test, test.id, early_end)
            .await
            .expect_err("invalid");
        assert_eq!(codes(&error), [("starts_at", "starts_after_ends")]);
        let mixed = ItemChanges {
            title: Some(String::new()),
            price: Some(-5),
            category: Some(Category::Db),
            ..ItemChanges::default()
        };
        let error = catalog
            .update_item(&admin, ItemKind::Test, test.id, mixed)
            .await
            .expect_err("invalid");
        assert_eq!(
            codes(&error),
            [
                ("title", "title_empty"),
                ("price", "price_negative"),
                ("category", "not_for_tests"),
            ]
        );
    }

    #[tokio::test]
    async fn another_tutors_course_is_not_found_and_the_tutor_cannot_be_changed_by_a_tutor() {
        let tutor = principal(Role::Tutor);
        let theirs = item(ItemKind::Course, UserId::from_uuid(uuid::Uuid::now_v7()));
        let mut fixture = holding(&theirs, |_, _| true);
        fixture.items.checkpoint();
        let copy = theirs.clone();
        fixture
            .items
            .expect_item()
            .returning(move |_, _, _| Ok(Some(listed(copy.clone()))));
        fixture.items.expect_update_item().never();
        let catalog = fixture.catalog();
        let error = catalog
            .update_item(&tutor, ItemKind::Course, theirs.id, ItemChanges::default())
            .await
            .expect_err("not theirs");
        assert_eq!(
            (error.class(), error.code()),
            (ErrorClass::NotFound, "item_not_found")
        );
        let hand_over = ItemChanges {
            tutor_id: Some(UserId::from_uuid(uuid::Uuid::now_v7())),
            ..ItemChanges::default()
        };
        let error = catalog
            .update_item(&tutor, ItemKind::Course, theirs.id, hand_over)
            .await
            .expect_err("forbidden");
        assert_eq!(error.code(), "not_your_course");
    }

    #[tokio::test]
    async fn an_admin_changes_the_tutor_only_to_an_active_tutor() {
        let admin = principal(Role::Admin);
        let course = item(ItemKind::Course, UserId::from_uuid(uuid::Uuid::now_v7()));
        let (good, bad) = (
            UserId::from_uuid(uuid::Uuid::now_v7()),
            UserId::from_uuid(uuid::Uuid::now_v7()),
        );
        let mut fixture = holding(&course, move |scope, update| {
            scope == ItemScope::Any && update.course.is_some_and(|c| c.tutor_id == good)
        });
        fixture
            .users
            .expect_find_user()
            .returning(move |id| Ok(Some(user(id, Role::Tutor, id == good))));
        let catalog = fixture.catalog();
        let to = |tutor_id| ItemChanges {
            tutor_id: Some(tutor_id),
            ..ItemChanges::default()
        };
        assert!(
            catalog
                .update_item(&admin, ItemKind::Course, course.id, to(good))
                .await
                .is_ok()
        );
        let error = catalog
            .update_item(&admin, ItemKind::Course, course.id, to(bad))
            .await
            .expect_err("inactive");
        assert_eq!(codes(&error), [("tutor_id", "tutor_not_found")]);
    }

    #[tokio::test]
    async fn the_stores_refusals_of_an_edit() {
        let admin = principal(Role::Admin);
        let test = item(ItemKind::Test, admin.user_id);
        let mut fixture = Fixture::new();
        fixture.items.expect_item().returning(|_, _, _| Ok(None));
        let error = fixture
            .catalog()
            .update_item(&admin, ItemKind::Test, test.id, ItemChanges::default())
            .await
            .expect_err("missing");
        assert_eq!(error.code(), "item_not_found");
        for (refusal, class, code) in [
            (
                UpdateItemError::NotFound,
                ErrorClass::NotFound,
                "item_not_found",
            ),
            (
                UpdateItemError::Conflict,
                ErrorClass::Conflict,
                "edit_conflict",
            ),
            (
                UpdateItemError::Dependency(DependencyError::Failed("bad row".into())),
                ErrorClass::Internal,
                "internal_error",
            ),
        ] {
            let mut fixture = Fixture::new();
            let copy = test.clone();
            fixture
                .items
                .expect_item()
                .returning(move |_, _, _| Ok(Some(listed(copy.clone()))));
            fixture
                .items
                .expect_update_item()
                .return_once(move |_, _, _, _| Err(refusal));
            let error = fixture
                .catalog()
                .update_item(&admin, ItemKind::Test, test.id, ItemChanges::default())
                .await
                .expect_err("refused");
            assert_eq!((error.class(), error.code()), (class, code));
        }
    }

    #[tokio::test]
    async fn deletes_within_the_callers_scope() {
        let (admin, tutor) = (principal(Role::Admin), principal(Role::Tutor));
        let id = ItemId::from_uuid(uuid::Uuid::now_v7());
        let mut fixture = Fixture::new();
        fixture
            .items
            .expect_delete_item()
            .withf(move |kind, wanted, scope, at| {
                *kind == ItemKind::Course && *wanted == id && *at == now() && {
                    *scope == ItemScope::Any || *scope == ItemScope::TutoredBy(tutor.user_id)
                }
            })
            .times(2)
            .returning(|_, _, scope, _| Ok(scope == ItemScope::Any));
        let catalog = fixture.catalog();
        assert_eq!(
            catalog.delete_item(&admin, ItemKind::Course, id).await,
            Ok(())
        );
        let error = catalog
            .delete_item(&tutor, ItemKind::Course, id)
            .await
            .expect_err("not theirs");
        assert_eq!(error.code(), "item_not_found");
    }
}
