//! The curricula use cases over mocked ports.

use super::*;
use crate::ports::accounts::MockUserRepository;
use crate::ports::commerce::curricula::MockCurriculumRepository;
use crate::ports::system::MockClock;
use chrono::{DateTime, TimeZone, Utc};
use reserva_domain::accounts::{Email, SessionId, User, Username};
use reserva_domain::catalog::ItemDescription;
use reserva_domain::wallet::Money;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 3, 0, 0)
        .single()
        .unwrap_or_default()
}

fn principal(role: Role) -> Principal {
    Principal {
        user_id: UserId::from_uuid(uuid::Uuid::now_v7()),
        session_id: SessionId::from_uuid(uuid::Uuid::now_v7()),
        role,
    }
}

fn user(id: UserId, role: Role, is_active: bool) -> User {
    User {
        id,
        email: Email::parse("tutor@example.com").expect("valid"),
        username: Username::parse("tutor").expect("valid"),
        role,
        is_active,
        created_at: now(),
        updated_at: now(),
    }
}

fn course() -> ItemId {
    ItemId::from_uuid(uuid::Uuid::now_v7())
}

fn command(tutor: Option<UserId>, courses: Vec<ItemId>) -> CurriculumCommand {
    CurriculumCommand {
        name: "  Full stack ".into(),
        description: Some("Front to back".into()),
        price: 40_000,
        category: Category::React,
        skill_level: SkillLevel::Intermediate,
        tutor_id: tutor,
        course_ids: courses,
    }
}

fn curriculum(tutor: UserId) -> Curriculum {
    Curriculum {
        id: CurriculumId::from_uuid(uuid::Uuid::now_v7()),
        name: CurriculumName::parse("Stored").expect("valid"),
        description: Some(ItemDescription::parse("Stored text").expect("valid")),
        price: Money::new(10_000).expect("valid"),
        category: Category::Python,
        skill_level: SkillLevel::Beginner,
        tutor_id: tutor,
        courses: CourseList::new(vec![course(), course()]).expect("valid"),
        created_at: now() - chrono::Duration::days(3),
        updated_at: now() - chrono::Duration::days(3),
        deleted_at: None,
    }
}

fn stored(new: NewCurriculum) -> Result<Curriculum, WriteCurriculumError> {
    Ok(Curriculum {
        id: new.id,
        name: new.name,
        description: new.description,
        price: new.price,
        category: new.category,
        skill_level: new.skill_level,
        tutor_id: new.tutor_id,
        courses: new.courses,
        created_at: new.now,
        updated_at: new.now,
        deleted_at: None,
    })
}

struct Fixture {
    curricula: MockCurriculumRepository,
    users: MockUserRepository,
}

impl Fixture {
    fn new() -> Self {
        Self {
            curricula: MockCurriculumRepository::new(),
            users: MockUserRepository::new(),
        }
    }

    fn use_cases(self) -> Curricula {
        let mut clock = MockClock::new();
        clock.expect_now().returning(now);
        Curricula::new(CurriculaPorts {
            curricula: Arc::new(self.curricula),
            users: Arc::new(self.users),
            clock: Arc::new(clock),
        })
    }
}

fn codes(error: &impl UseCaseError) -> Vec<(&'static str, &'static str)> {
    error
        .violations()
        .iter()
        .map(|v| (v.field, v.code))
        .collect()
}

#[tokio::test]
async fn a_tutor_creates_their_own_curriculum_trimmed_in_order() {
    let tutor = principal(Role::Tutor);
    let courses = vec![course(), course(), course()];
    let expected = courses.clone();
    let mut fixture = Fixture::new();
    fixture
        .curricula
        .expect_create_curriculum()
        .withf(move |scope, new| {
            *scope == ItemScope::TutoredBy(tutor.user_id)
                && new.tutor_id == tutor.user_id
                && new.name.as_str() == "Full stack"
                && new.courses.ids() == expected.as_slice()
                && new.price.get() == 40_000
                && new.now == now()
                && new.id.as_uuid().get_version_num() == 7
        })
        .times(1)
        .returning(|_, new| stored(new));
    fixture.users.expect_find_user().never();
    let made = fixture
        .use_cases()
        .create(&tutor, command(None, courses.clone()))
        .await
        .expect("created");
    assert_eq!(made.courses.ids(), courses.as_slice());

    let mut fixture = Fixture::new();
    fixture.curricula.expect_create_curriculum().never();
    let error = fixture
        .use_cases()
        .create(
            &tutor,
            command(Some(UserId::from_uuid(uuid::Uuid::now_v7())), courses),
        )
        .await
        .expect_err("another tutor");
    assert_eq!(
        (error.class(), error.code()),
        (ErrorClass::Forbidden, "not_your_curriculum")
    );
}

#[tokio::test]
async fn members_manage_nothing() {
    let mut fixture = Fixture::new();
    fixture.curricula.expect_create_curriculum().never();
    fixture.curricula.expect_update_curriculum().never();
    fixture.curricula.expect_delete_curriculum().never();
    let use_cases = fixture.use_cases();
    let member = principal(Role::Member);
    let id = CurriculumId::from_uuid(uuid::Uuid::now_v7());
    let results = [
        use_cases
            .create(&member, command(None, vec![course()]))
            .await
            .map(|_| ()),
        use_cases
            .update(&member, id, CurriculumChanges::default())
            .await
            .map(|_| ()),
        use_cases.delete(&member, id).await,
    ];
    for result in results {
        let error = result.expect_err("members only read");
        assert_eq!(
            (error.class(), error.code()),
            (ErrorClass::Forbidden, "forbidden")
        );
    }
}

#[tokio::test]
async fn an_admin_names_an_active_tutor() {
    let admin = principal(Role::Admin);
    let named = UserId::from_uuid(uuid::Uuid::now_v7());
    let mut fixture = Fixture::new();
    fixture
        .users
        .expect_find_user()
        .returning(move |id| Ok(Some(user(id, Role::Tutor, true))));
    fixture
        .curricula
        .expect_create_curriculum()
        .withf(move |scope, new| *scope == ItemScope::Any && new.tutor_id == named)
        .times(1)
        .returning(|_, new| stored(new));
    assert!(
        fixture
            .use_cases()
            .create(&admin, command(Some(named), vec![course()]))
            .await
            .is_ok()
    );
    let error = Fixture::new()
        .use_cases()
        .create(&admin, command(None, vec![course()]))
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
        fixture.curricula.expect_create_curriculum().never();
        let error = fixture
            .use_cases()
            .create(&admin, command(Some(named), vec![course()]))
            .await
            .expect_err("not a tutor");
        assert_eq!(codes(&error), [("tutor_id", "tutor_not_found")]);
    }
}

#[tokio::test]
async fn every_broken_rule_is_reported_at_once() {
    let mut fixture = Fixture::new();
    fixture.curricula.expect_create_curriculum().never();
    let use_cases = fixture.use_cases();
    let tutor = principal(Role::Tutor);
    let a = course();
    let broken = CurriculumCommand {
        name: " ".into(),
        description: Some("x".repeat(5_001)),
        price: 100_000_001,
        ..command(None, vec![a, a])
    };
    let error = use_cases.create(&tutor, broken).await.expect_err("invalid");
    assert_eq!(error.class(), ErrorClass::InvalidInput);
    assert_eq!(
        codes(&error),
        [
            ("name", "name_empty"),
            ("description", "description_too_long"),
            ("price", "price_too_high"),
            ("course_ids", "duplicate_course"),
        ]
    );
    for (courses, code) in [
        (vec![], "courses_empty"),
        ((0..51).map(|_| course()).collect(), "too_many_courses"),
    ] {
        let error = use_cases
            .create(&tutor, command(None, courses))
            .await
            .expect_err("invalid");
        assert_eq!(codes(&error), [("course_ids", code)]);
    }
    let error = use_cases
        .create(
            &tutor,
            CurriculumCommand {
                price: -1,
                name: "bad\u{202e}name".into(),
                ..command(None, vec![a])
            },
        )
        .await
        .expect_err("invalid");
    assert_eq!(
        codes(&error),
        [("name", "invisible_character"), ("price", "price_negative")]
    );
}

#[tokio::test]
async fn unknown_courses_are_a_conflict_naming_them() {
    let tutor = principal(Role::Tutor);
    let missing = course();
    let mut fixture = Fixture::new();
    fixture
        .curricula
        .expect_create_curriculum()
        .return_once(move |_, _| Err(WriteCurriculumError::UnknownCourses(vec![missing])));
    let error = fixture
        .use_cases()
        .create(&tutor, command(None, vec![course(), missing]))
        .await
        .expect_err("unknown");
    assert_eq!(
        (error.class(), error.code()),
        (ErrorClass::Conflict, "unknown_course")
    );
    assert_eq!(codes(&error), [("course_ids", "course_not_found")]);
    assert!(
        error
            .violations()
            .first()
            .is_some_and(|v| v.message.contains(&missing.to_string()))
    );
}

/// A fixture holding `stored` and answering updates with the fields given applied, checked by
/// `check`; the use case reads nothing before the write.
fn holding(
    stored: &Curriculum,
    check: impl Fn(ItemScope, &CurriculumUpdate) -> bool + Send + 'static,
) -> Fixture {
    let mut fixture = Fixture::new();
    fixture.curricula.expect_curriculum().never();
    let base = stored.clone();
    fixture
        .curricula
        .expect_update_curriculum()
        .withf(move |_, scope, update| check(*scope, update))
        .returning(move |_, _, update| {
            Ok(Curriculum {
                name: update.name.unwrap_or_else(|| base.name.clone()),
                description: update
                    .description
                    .unwrap_or_else(|| base.description.clone()),
                price: update.price.unwrap_or(base.price),
                category: update.category.unwrap_or(base.category),
                skill_level: update.skill_level.unwrap_or(base.skill_level),
                tutor_id: update.tutor_id.unwrap_or(base.tutor_id),
                courses: update.courses.unwrap_or_else(|| base.courses.clone()),
                updated_at: update.now,
                ..base.clone()
            })
        });
    fixture
}

#[tokio::test]
async fn a_partial_edit_sends_only_the_fields_sent_and_course_ids_replace_the_list() {
    let tutor = principal(Role::Tutor);
    let mine = curriculum(tutor.user_id);
    let replacement = vec![course()];
    let wanted = replacement.clone();
    let fixture = holding(&mine, move |scope, update| {
        scope == ItemScope::TutoredBy(tutor.user_id)
            && update.name.is_none()
            && update.description == Some(None)
            && update.price.map(Money::get) == Some(25_000)
            && update.category.is_none()
            && update.skill_level == Some(SkillLevel::Advanced)
            // A tutor naming themselves changes nothing.
            && update.tutor_id.is_none()
            && update.courses.as_ref().map(CourseList::ids) == Some(wanted.as_slice())
            && update.now == now()
    });
    let changes = CurriculumChanges {
        price: Some(25_000),
        description: Some(None),
        skill_level: Some(SkillLevel::Advanced),
        course_ids: Some(replacement.clone()),
        tutor_id: Some(tutor.user_id),
        ..CurriculumChanges::default()
    };
    let edited = fixture
        .use_cases()
        .update(&tutor, mine.id, changes)
        .await
        .expect("edited");
    assert_eq!(edited.courses.ids(), replacement.as_slice());

    // Without course_ids the stored list is left alone.
    let fixture = holding(&mine, |_, update| {
        update.courses.is_none()
            && update.name.as_ref().map(CurriculumName::as_str) == Some("Renamed")
            && update.description.is_none()
            && update.price.is_none()
    });
    let renamed = CurriculumChanges {
        name: Some("Renamed".into()),
        ..CurriculumChanges::default()
    };
    let edited = fixture
        .use_cases()
        .update(&tutor, mine.id, renamed)
        .await
        .expect("edited");
    assert_eq!(edited.courses, mine.courses);
    assert_eq!(edited.name.as_str(), "Renamed");
}

#[tokio::test]
async fn an_edit_is_validated_field_by_field_and_the_tutor_checked() {
    let tutor = principal(Role::Tutor);
    let theirs = curriculum(UserId::from_uuid(uuid::Uuid::now_v7()));
    let mut fixture = Fixture::new();
    fixture.curricula.expect_curriculum().never();
    fixture.curricula.expect_update_curriculum().never();
    fixture
        .users
        .expect_find_user()
        .returning(|id| Ok(Some(user(id, Role::Member, true))));
    let use_cases = fixture.use_cases();
    let hand_over = CurriculumChanges {
        tutor_id: Some(UserId::from_uuid(uuid::Uuid::now_v7())),
        ..CurriculumChanges::default()
    };
    let error = use_cases
        .update(&tutor, theirs.id, hand_over.clone())
        .await
        .expect_err("forbidden");
    assert_eq!(error.code(), "not_your_curriculum");
    let admin = principal(Role::Admin);
    let error = use_cases
        .update(&admin, theirs.id, hand_over)
        .await
        .expect_err("a member is no tutor");
    assert_eq!(codes(&error), [("tutor_id", "tutor_not_found")]);
    let broken = CurriculumChanges {
        name: Some(String::new()),
        price: Some(-5),
        course_ids: Some(vec![]),
        ..CurriculumChanges::default()
    };
    let error = use_cases
        .update(&admin, theirs.id, broken)
        .await
        .expect_err("invalid");
    assert_eq!(
        codes(&error),
        [
            ("name", "name_empty"),
            ("price", "price_negative"),
            ("course_ids", "courses_empty"),
        ]
    );
}

#[tokio::test]
async fn an_admin_naming_a_tutor_sends_them_to_the_store() {
    let admin = principal(Role::Admin);
    let stored = curriculum(UserId::from_uuid(uuid::Uuid::now_v7()));
    let named = UserId::from_uuid(uuid::Uuid::now_v7());
    let mut fixture = holding(&stored, move |scope, update| {
        scope == ItemScope::Any && update.tutor_id == Some(named)
    });
    fixture
        .users
        .expect_find_user()
        .returning(|id| Ok(Some(user(id, Role::Tutor, true))));
    let edited = fixture
        .use_cases()
        .update(
            &admin,
            stored.id,
            CurriculumChanges {
                tutor_id: Some(named),
                ..CurriculumChanges::default()
            },
        )
        .await
        .expect("edited");
    assert_eq!(edited.tutor_id, named);
}

#[tokio::test]
async fn the_stores_refusals_of_an_edit() {
    let admin = principal(Role::Admin);
    let stored = curriculum(UserId::from_uuid(uuid::Uuid::now_v7()));
    for (refusal, class, code, fields) in [
        (
            WriteCurriculumError::NotFound,
            ErrorClass::NotFound,
            "not_found",
            vec![],
        ),
        (
            WriteCurriculumError::UnknownCourses(vec![course()]),
            ErrorClass::Conflict,
            "unknown_course",
            vec![("course_ids", "course_not_found")],
        ),
        (
            WriteCurriculumError::ForeignCourses(vec![course()]),
            ErrorClass::Conflict,
            "unknown_course",
            vec![("course_ids", "course_not_yours")],
        ),
        (
            WriteCurriculumError::TutorNotFound,
            ErrorClass::InvalidInput,
            "validation_failed",
            vec![("tutor_id", "tutor_not_found")],
        ),
        (
            WriteCurriculumError::Dependency(DependencyError::Unavailable("db".into())),
            ErrorClass::Unavailable,
            "service_unavailable",
            vec![],
        ),
    ] {
        let mut fixture = Fixture::new();
        fixture.curricula.expect_curriculum().never();
        fixture
            .curricula
            .expect_update_curriculum()
            .return_once(move |_, _, _| Err(refusal));
        let error = fixture
            .use_cases()
            .update(&admin, stored.id, CurriculumChanges::default())
            .await
            .expect_err("refused");
        assert_eq!((error.class(), error.code()), (class, code));
        assert_eq!(codes(&error), fields);
    }
}

#[tokio::test]
async fn deletes_within_the_callers_scope() {
    let (admin, tutor) = (principal(Role::Admin), principal(Role::Tutor));
    let id = CurriculumId::from_uuid(uuid::Uuid::now_v7());
    let mut fixture = Fixture::new();
    fixture
        .curricula
        .expect_delete_curriculum()
        .withf(move |wanted, scope, at| {
            *wanted == id
                && *at == now()
                && (*scope == ItemScope::Any || *scope == ItemScope::TutoredBy(tutor.user_id))
        })
        .times(2)
        .returning(|_, scope, _| Ok(scope == ItemScope::Any));
    let use_cases = fixture.use_cases();
    assert_eq!(use_cases.delete(&admin, id).await, Ok(()));
    let error = use_cases.delete(&tutor, id).await.expect_err("not theirs");
    assert_eq!(error.code(), "not_found");
}

fn list_request() -> ListCurricula {
    ListCurricula {
        q: None,
        category: None,
        skill_level: None,
        min_price: None,
        max_price: None,
        after: None,
        limit: PageLimit::new(2).expect("valid"),
    }
}

#[tokio::test]
async fn lists_pass_the_filters_and_page_by_the_last_row() {
    let rows: Vec<Curriculum> = (0..3)
        .map(|_| curriculum(UserId::from_uuid(uuid::Uuid::now_v7())))
        .collect();
    let second = rows.get(1).cloned().expect("three rows");
    let mut fixture = Fixture::new();
    let answer = rows.clone();
    fixture
        .curricula
        .expect_list_curricula()
        .withf(|query| {
            query.search.as_ref().map(SearchText::as_str) == Some("react hooks")
                && query.category == Some(Category::React)
                && query.skill_level == Some(SkillLevel::Beginner)
                && query.price.min().map(Money::get) == Some(1_000)
                && query.price.max().map(Money::get) == Some(1_000)
                && query.limit.get() == 2
        })
        .times(1)
        .returning(move |_| Ok(answer.clone()));
    let request = ListCurricula {
        q: Some(" react hooks ".into()),
        category: Some(Category::React),
        skill_level: Some(SkillLevel::Beginner),
        min_price: Some(1_000),
        max_price: Some(1_000),
        ..list_request()
    };
    let page = fixture
        .use_cases()
        .list(&principal(Role::Member), request)
        .await
        .expect("listed");
    assert_eq!(page.items.len(), 2);
    assert_eq!(page.next, Some(CurriculumCursor::after(&second)));
}

#[tokio::test]
async fn bad_filters_are_refused_before_the_store() {
    let mut fixture = Fixture::new();
    fixture.curricula.expect_list_curricula().never();
    let use_cases = fixture.use_cases();
    let member = principal(Role::Member);
    for (request, expected) in [
        (
            ListCurricula {
                min_price: Some(2),
                max_price: Some(1),
                ..list_request()
            },
            vec![("min_price", "min_above_max")],
        ),
        (
            ListCurricula {
                max_price: Some(-1),
                ..list_request()
            },
            vec![("max_price", "price_negative")],
        ),
        (
            ListCurricula {
                min_price: Some(-1),
                ..list_request()
            },
            vec![("min_price", "price_negative")],
        ),
        (
            ListCurricula {
                q: Some("x".repeat(201)),
                min_price: Some(3),
                max_price: Some(1),
                ..list_request()
            },
            vec![("q", "search_too_long"), ("min_price", "min_above_max")],
        ),
    ] {
        let error = use_cases.list(&member, request).await.expect_err("refused");
        assert_eq!(error.class(), ErrorClass::InvalidInput);
        assert_eq!(codes(&error), expected);
    }
}

#[tokio::test]
async fn a_missing_or_deleted_curriculum_is_not_found() {
    let mut fixture = Fixture::new();
    fixture
        .curricula
        .expect_curriculum()
        .returning(|_| Ok(None));
    let error = fixture
        .use_cases()
        .get(
            &principal(Role::Member),
            CurriculumId::from_uuid(uuid::Uuid::now_v7()),
        )
        .await
        .expect_err("absent");
    assert_eq!(
        (error.class(), error.code()),
        (ErrorClass::NotFound, "not_found")
    );
}
