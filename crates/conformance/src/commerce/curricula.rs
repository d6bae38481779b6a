//! `CurriculumRepository`: curricula stored with their courses in order, every course checked
//! in the write, edits within the editor's scope, soft deletes kept for history, the list's
//! search, filters and keyset pages, and concurrent edits.

use super::CommerceStore;
use crate::support::{new_user, now, tag};
use chrono::{DateTime, Duration, Utc};
use futures_util::future::join_all;
use reserva_application::ports::accounts::{RevokeSessions, UserChanges};
use reserva_application::ports::catalog::{ItemScope, NewItem};
use reserva_application::ports::commerce::{
    CurriculumQuery, CurriculumUpdate, NewCurriculum, WriteCurriculumError,
};
use reserva_domain::accounts::{Role, UserId};
use reserva_domain::catalog::{
    CatalogItem, Category, CourseDetails, ItemDescription, ItemId, ItemKind, ItemTitle, Schedule,
    SearchText, SkillLevel,
};
use reserva_domain::commerce::{
    CourseList, Curriculum, CurriculumCursor, CurriculumId, CurriculumName, PriceRange,
};
use reserva_domain::paging::PageLimit;
use reserva_domain::wallet::Money;
use std::collections::HashMap;
use uuid::Uuid;

fn money(amount: i64) -> Money {
    Money::new(amount).unwrap_or_else(|e| panic!("{e}"))
}

async fn tutor<S: CommerceStore>(store: &S) -> UserId {
    match store
        .insert_user(new_user(&format!("cur{}", tag()), Role::Tutor))
        .await
    {
        Ok(user) => user.id,
        Err(error) => panic!("insert_user: {error}"),
    }
}

/// A course (or, with `kind` test, a test) titled `title` at `price`.
async fn item<S: CommerceStore>(
    store: &S,
    kind: ItemKind,
    title: &str,
    price: i64,
    tutor_id: UserId,
) -> CatalogItem {
    let new = NewItem {
        id: ItemId::from_uuid(Uuid::now_v7()),
        kind,
        title: ItemTitle::parse(title).unwrap_or_else(|e| panic!("{e}")),
        description: None,
        price: money(price),
        schedule: Schedule::new(now() - Duration::days(1), now() + Duration::days(30))
            .unwrap_or_else(|e| panic!("{e}")),
        course: (kind == ItemKind::Course).then_some(CourseDetails {
            category: Category::Python,
            skill_level: SkillLevel::Beginner,
            tutor_id,
        }),
        now: now(),
    };
    store
        .create_item(new)
        .await
        .unwrap_or_else(|e| panic!("create_item: {e}"))
}

async fn courses<S: CommerceStore>(store: &S, tutor_id: UserId, count: usize) -> Vec<ItemId> {
    let mut ids = Vec::new();
    for n in 0..count {
        let price = 1_000 * i64::try_from(n + 1).unwrap_or(1);
        let course = item(
            store,
            ItemKind::Course,
            &format!("Course {n}"),
            price,
            tutor_id,
        )
        .await;
        ids.push(course.id);
    }
    ids
}

fn list_of(ids: &[ItemId]) -> CourseList {
    CourseList::new(ids.to_vec()).unwrap_or_else(|e| panic!("{e}"))
}

fn new_curriculum(name: &str, tutor_id: UserId, ids: &[ItemId]) -> NewCurriculum {
    NewCurriculum {
        id: CurriculumId::from_uuid(Uuid::now_v7()),
        name: CurriculumName::parse(name).unwrap_or_else(|e| panic!("{e}")),
        description: Some(
            ItemDescription::parse("Courses of the conformance suite")
                .unwrap_or_else(|e| panic!("{e}")),
        ),
        price: money(20_000),
        category: Category::React,
        skill_level: SkillLevel::Intermediate,
        tutor_id,
        courses: list_of(ids),
        now: now(),
    }
}

async fn create<S: CommerceStore>(store: &S, new: NewCurriculum) -> Curriculum {
    store
        .create_curriculum(ItemScope::Any, new)
        .await
        .unwrap_or_else(|e| panic!("create_curriculum: {e}"))
}

/// An edit of nothing but `updated_at`.
fn update_of(_: &Curriculum) -> CurriculumUpdate {
    CurriculumUpdate::at(now())
}

fn name(text: &str) -> CurriculumName {
    CurriculumName::parse(text).unwrap_or_else(|e| panic!("{e}"))
}

fn query() -> CurriculumQuery {
    CurriculumQuery {
        search: None,
        category: None,
        skill_level: None,
        price: PriceRange::default(),
        after: None,
        limit: PageLimit::MAX_PAGE,
    }
}

async fn listed<S: CommerceStore>(store: &S, query: CurriculumQuery) -> Vec<CurriculumId> {
    store
        .list_curricula(query)
        .await
        .unwrap_or_else(|e| panic!("list_curricula: {e}"))
        .into_iter()
        .map(|curriculum| curriculum.id)
        .collect()
}

fn search(text: &str) -> Option<SearchText> {
    Some(SearchText::parse(text).unwrap_or_else(|e| panic!("{e}")))
}

/// A curriculum comes back as written, its courses in the written order, with their titles and
/// prices in the detail; the sale view says the same.
pub async fn curricula_round_trip_with_their_courses_in_order<S: CommerceStore>(store: &S) {
    let tutor_id = tutor(store).await;
    let mut ids = courses(store, tutor_id, 3).await;
    ids.reverse();
    let new = new_curriculum("Full stack", tutor_id, &ids);
    let created = create(store, new.clone()).await;
    assert_eq!(created.id, new.id);
    assert_eq!(created.name.as_str(), "Full stack");
    assert_eq!(created.courses.ids(), ids.as_slice());
    assert_eq!(created.price, money(20_000));
    assert_eq!(created.tutor_id, tutor_id);
    assert_eq!((created.created_at, created.updated_at), (new.now, new.now));
    assert_eq!(created.deleted_at, None);

    let detail = store
        .curriculum(created.id)
        .await
        .unwrap_or_else(|e| panic!("curriculum: {e}"))
        .unwrap_or_else(|| panic!("not found"));
    assert_eq!(detail.curriculum, created);
    let shown: Vec<(ItemId, &str, i64)> = detail
        .courses
        .iter()
        .map(|course| (course.id, course.title.as_str(), course.price.get()))
        .collect();
    assert_eq!(
        shown,
        [
            (ids[0], "Course 2", 3_000),
            (ids[1], "Course 1", 2_000),
            (ids[2], "Course 0", 1_000),
        ]
    );
    let sale = store
        .curriculum_for_sale(created.id)
        .await
        .unwrap_or_else(|e| panic!("curriculum_for_sale: {e}"))
        .unwrap_or_else(|| panic!("not found"));
    assert_eq!(
        (
            sale.name.as_str(),
            sale.price,
            sale.course_ids,
            sale.deleted
        ),
        ("Full stack", money(20_000), ids, false)
    );
    let unknown = CurriculumId::from_uuid(Uuid::now_v7());
    assert!(matches!(store.curriculum(unknown).await, Ok(None)));
    assert!(matches!(store.curriculum_for_sale(unknown).await, Ok(None)));
}

/// A test, a deleted course and an id that names nothing are refused, each named, and neither
/// the curriculum nor a course row is written; an edit to such a list changes nothing.
pub async fn unknown_test_or_deleted_courses_are_refused_and_nothing_is_written<
    S: CommerceStore,
>(
    store: &S,
) {
    let tutor_id = tutor(store).await;
    let good = courses(store, tutor_id, 2).await;
    let test = item(store, ItemKind::Test, "A test", 500, tutor_id)
        .await
        .id;
    let gone = item(store, ItemKind::Course, "Gone", 500, tutor_id)
        .await
        .id;
    let deleted = store
        .delete_item(ItemKind::Course, gone, ItemScope::Any, now())
        .await
        .unwrap_or_else(|e| panic!("delete_item: {e}"));
    assert!(deleted);
    let nothing = ItemId::from_uuid(Uuid::now_v7());
    let good_0 = good[0];
    let new = new_curriculum("Broken", tutor_id, &[good_0, test, gone, good[1], nothing]);
    let id = new.id;
    match store.create_curriculum(ItemScope::Any, new).await {
        Err(WriteCurriculumError::UnknownCourses(missing)) => {
            assert_eq!(missing, vec![test, gone, nothing]);
        }
        other => panic!("expected UnknownCourses, got {other:?}"),
    }
    assert!(matches!(store.curriculum_for_sale(id).await, Ok(None)));
    assert!(listed(store, query()).await.is_empty());

    let kept = create(store, new_curriculum("Kept", tutor_id, &good)).await;
    let mut update = update_of(&kept);
    update.name = Some(name("Renamed"));
    update.courses = Some(list_of(&[good_0, gone]));
    match store
        .update_curriculum(kept.id, ItemScope::Any, update)
        .await
    {
        Err(WriteCurriculumError::UnknownCourses(missing)) => assert_eq!(missing, vec![gone]),
        other => panic!("expected UnknownCourses, got {other:?}"),
    }
    let stored = store
        .curriculum(kept.id)
        .await
        .unwrap_or_else(|e| panic!("curriculum: {e}"))
        .unwrap_or_else(|| panic!("not found"));
    assert_eq!(stored.curriculum, kept, "a refused edit writes nothing");
}

/// An edit sets the fields given and keeps the others; `courses` replaces the list (in its new
/// order) and `None` keeps it; a tutor's scope reaches only their own curricula.
pub async fn edits_replace_fields_and_courses_within_the_scope<S: CommerceStore>(store: &S) {
    let (owner, other) = (tutor(store).await, tutor(store).await);
    let ids = courses(store, owner, 2).await;
    let created = create(store, new_curriculum("Original", owner, &ids[..2])).await;

    let mut update = update_of(&created);
    update.name = Some(name("Edited"));
    match store
        .update_curriculum(created.id, ItemScope::TutoredBy(other), update.clone())
        .await
    {
        Err(WriteCurriculumError::NotFound) => {}
        other => panic!("another tutor's scope: {other:?}"),
    }
    let renamed = store
        .update_curriculum(created.id, ItemScope::TutoredBy(owner), update.clone())
        .await
        .unwrap_or_else(|e| panic!("update_curriculum: {e}"));
    assert_eq!(
        Curriculum {
            name: name("Edited"),
            updated_at: update.now,
            ..created.clone()
        },
        renamed,
        "only the name changes"
    );
    update.description = Some(None);
    update.price = Some(money(0));
    update.category = Some(Category::Db);
    update.skill_level = Some(SkillLevel::Advanced);
    update.tutor_id = Some(other);
    let edited = store
        .update_curriculum(created.id, ItemScope::TutoredBy(owner), update.clone())
        .await
        .unwrap_or_else(|e| panic!("update_curriculum: {e}"));
    assert_eq!(edited.name.as_str(), "Edited");
    assert_eq!(edited.description, None);
    assert_eq!(edited.price, money(0));
    assert_eq!(
        (edited.category, edited.skill_level, edited.tutor_id),
        (Category::Db, SkillLevel::Advanced, other)
    );
    assert_eq!(edited.courses, created.courses, "None keeps the list");
    assert_eq!(edited.created_at, created.created_at);
    assert_eq!(edited.updated_at, update.now);

    // Now the other tutor's: the old owner's scope no longer reaches it, and the new tutor
    // links only their own courses.
    let theirs = courses(store, other, 3).await;
    let mut replace = update_of(&edited);
    replace.courses = Some(list_of(&[theirs[2], theirs[0], theirs[1]]));
    match store
        .update_curriculum(created.id, ItemScope::TutoredBy(owner), replace.clone())
        .await
    {
        Err(WriteCurriculumError::NotFound) => {}
        other => panic!("the old owner's scope: {other:?}"),
    }
    let replaced = store
        .update_curriculum(created.id, ItemScope::TutoredBy(other), replace)
        .await
        .unwrap_or_else(|e| panic!("update_curriculum: {e}"));
    assert_eq!(replaced.courses.ids(), [theirs[2], theirs[0], theirs[1]]);
    let detail = store
        .curriculum(created.id)
        .await
        .unwrap_or_else(|e| panic!("curriculum: {e}"))
        .unwrap_or_else(|| panic!("not found"));
    let shown: Vec<ItemId> = detail.courses.iter().map(|course| course.id).collect();
    assert_eq!(shown, [theirs[2], theirs[0], theirs[1]]);
    match store
        .update_curriculum(
            CurriculumId::from_uuid(Uuid::now_v7()),
            ItemScope::Any,
            update_of(&replaced),
        )
        .await
    {
        Err(WriteCurriculumError::NotFound) => {}
        other => panic!("unknown id: {other:?}"),
    }
}

/// A delete within the scope hides the curriculum from the list and the detail and refuses
/// edits; its row and courses stay, and the sale view still reads it, marked deleted.
pub async fn a_deleted_curriculum_is_hidden_but_kept_for_history<S: CommerceStore>(store: &S) {
    let (owner, other) = (tutor(store).await, tutor(store).await);
    let ids = courses(store, owner, 2).await;
    let created = create(store, new_curriculum("Doomed", owner, &ids)).await;
    let kept = create(store, new_curriculum("Kept", owner, &ids)).await;
    let delete = |scope| store.delete_curriculum(created.id, scope, now());
    assert!(matches!(
        delete(ItemScope::TutoredBy(other)).await,
        Ok(false)
    ));
    assert!(matches!(
        delete(ItemScope::TutoredBy(owner)).await,
        Ok(true)
    ));
    assert!(matches!(delete(ItemScope::Any).await, Ok(false)), "once");
    assert!(matches!(store.curriculum(created.id).await, Ok(None)));
    assert_eq!(listed(store, query()).await, vec![kept.id]);
    match store
        .update_curriculum(created.id, ItemScope::Any, update_of(&created))
        .await
    {
        Err(WriteCurriculumError::NotFound) => {}
        other => panic!("a deleted curriculum: {other:?}"),
    }
    let sale = store
        .curriculum_for_sale(created.id)
        .await
        .unwrap_or_else(|e| panic!("curriculum_for_sale: {e}"))
        .unwrap_or_else(|| panic!("a deleted curriculum is kept"));
    assert!(sale.deleted);
    assert_eq!(sale.course_ids, ids);
    assert_eq!(sale.name.as_str(), "Doomed");
}

/// `q` matches when every word is in the name or the description, in any case; punctuation
/// alone finds nothing and query syntax is plain text; edits are searched as they now read.
pub async fn search_is_the_and_of_plain_words<S: CommerceStore>(store: &S) {
    let owner = tutor(store).await;
    let ids = courses(store, owner, 1).await;
    let mut react = new_curriculum("React Hooks Deep-Dive", owner, &ids);
    react.description = Some(
        ItemDescription::parse("State and effects, 파이썬 없이").unwrap_or_else(|e| panic!("{e}")),
    );
    let react = create(store, react).await;
    let mut rust = new_curriculum("Rust & async", owner, &ids);
    rust.description = None;
    let rust = create(store, rust).await;
    for (text, expected) in [
        ("react", vec![react.id]),
        ("HOOKS effects", vec![react.id]),
        ("deep dive", vec![react.id]),
        ("파이썬", vec![react.id]),
        ("react rust", vec![]),
        ("async", vec![rust.id]),
        ("rust | react", vec![]),
        ("rust & !react", vec![]),
        ("&|!", vec![]),
        ("nothing", vec![]),
    ] {
        let found = listed(
            store,
            CurriculumQuery {
                search: search(text),
                ..query()
            },
        )
        .await;
        assert_eq!(found, expected, "q={text}");
    }
    let mut update = update_of(&rust);
    update.name = Some(name("Go routines"));
    store
        .update_curriculum(rust.id, ItemScope::Any, update)
        .await
        .unwrap_or_else(|e| panic!("update_curriculum: {e}"));
    let by = |text| CurriculumQuery {
        search: search(text),
        ..query()
    };
    assert_eq!(listed(store, by("rust")).await, Vec::<CurriculumId>::new());
    assert_eq!(listed(store, by("routines")).await, vec![rust.id]);
    store
        .delete_curriculum(react.id, ItemScope::Any, now())
        .await
        .unwrap_or_else(|e| panic!("delete_curriculum: {e}"));
    assert_eq!(listed(store, by("react")).await, Vec::<CurriculumId>::new());
}

/// Category and level match exactly; the price range includes both ends; filters combine.
pub async fn filters_by_category_level_and_inclusive_price<S: CommerceStore>(store: &S) {
    let owner = tutor(store).await;
    let ids = courses(store, owner, 1).await;
    let mut made = Vec::new();
    for (price, category, level) in [
        (0, Category::React, SkillLevel::Beginner),
        (10_000, Category::React, SkillLevel::Advanced),
        (20_000, Category::Aws, SkillLevel::Beginner),
        (30_000, Category::Db, SkillLevel::Advanced),
    ] {
        let mut new = new_curriculum(&format!("Priced {price}"), owner, &ids);
        new.price = money(price);
        new.category = category;
        new.skill_level = level;
        made.push(create(store, new).await.id);
    }
    let newest_first = |picked: &[usize]| -> Vec<CurriculumId> {
        let mut ids: Vec<CurriculumId> = picked.iter().map(|&n| made[n]).collect();
        ids.reverse();
        ids
    };
    let range = |min, max| PriceRange::new(min, max).unwrap_or_else(|e| panic!("{e}"));
    for (filter, expected) in [
        (query(), newest_first(&[0, 1, 2, 3])),
        (
            CurriculumQuery {
                category: Some(Category::React),
                ..query()
            },
            newest_first(&[0, 1]),
        ),
        (
            CurriculumQuery {
                skill_level: Some(SkillLevel::Advanced),
                ..query()
            },
            newest_first(&[1, 3]),
        ),
        (
            CurriculumQuery {
                price: range(Some(10_000), Some(20_000)),
                ..query()
            },
            newest_first(&[1, 2]),
        ),
        (
            CurriculumQuery {
                price: range(Some(10_001), Some(19_999)),
                ..query()
            },
            vec![],
        ),
        (
            CurriculumQuery {
                price: range(None, Some(0)),
                ..query()
            },
            newest_first(&[0]),
        ),
        (
            CurriculumQuery {
                price: range(Some(30_000), None),
                ..query()
            },
            newest_first(&[3]),
        ),
        (
            CurriculumQuery {
                category: Some(Category::React),
                skill_level: Some(SkillLevel::Advanced),
                price: range(Some(5_000), None),
                search: search("priced"),
                ..query()
            },
            newest_first(&[1]),
        ),
    ] {
        let found = listed(store, filter.clone()).await;
        assert_eq!(found, expected, "{filter:?}");
    }
}

/// Curricula created at `offsets` minutes before `base`, in that order.
async fn created_at<S: CommerceStore>(
    store: &S,
    owner: UserId,
    ids: &[ItemId],
    base: DateTime<Utc>,
    offsets: &[i64],
) -> Vec<Curriculum> {
    let mut made = Vec::new();
    for minutes in offsets {
        let mut new = new_curriculum(&format!("Paged {}", tag()), owner, ids);
        new.now = base - Duration::minutes(*minutes);
        made.push(create(store, new).await);
    }
    made
}

/// Pages of two, newest first, while newer curricula arrive between pages (and two share an
/// instant): every curriculum shows exactly once, in order.
pub async fn keyset_pages_neither_skip_nor_repeat_while_rows_arrive<S: CommerceStore>(store: &S) {
    let owner = tutor(store).await;
    let ids = courses(store, owner, 1).await;
    let base = now() - Duration::hours(1);
    let made = created_at(
        store,
        owner,
        &ids,
        base,
        &[70, 60, 50, 50, 40, 30, 20, 10, 10],
    )
    .await;
    let limit = PageLimit::new(2).unwrap_or_else(|e| panic!("{e:?}"));
    let mut seen: HashMap<CurriculumId, u32> = HashMap::new();
    let mut order = Vec::new();
    let mut after = None;
    for _ in 0..20 {
        let page = store
            .list_curricula(CurriculumQuery {
                after,
                limit,
                ..query()
            })
            .await
            .unwrap_or_else(|e| panic!("list_curricula: {e}"));
        assert!(page.len() <= 3, "at most limit + 1 rows");
        for curriculum in page.iter().take(2) {
            *seen.entry(curriculum.id).or_default() += 1;
            order.push((curriculum.created_at, curriculum.id));
        }
        // Rows arrive between pages: newer than every row, so before the cursor.
        create(
            store,
            new_curriculum(&format!("Arrival {}", tag()), owner, &ids),
        )
        .await;
        if page.len() <= 2 {
            break;
        }
        after = page.get(1).map(CurriculumCursor::after);
    }
    for curriculum in &made {
        assert_eq!(seen.get(&curriculum.id), Some(&1), "{:?}", curriculum.id);
    }
    assert!(seen.values().all(|times| *times == 1), "{seen:?}");
    let mut sorted = order.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(order, sorted, "newest first, ids breaking ties");
}

/// Ten edits at once, each replacing the course list with its own: every one succeeds and the
/// stored list is exactly one of them, whole (never a mix, never a lost or doubled row).
pub async fn concurrent_edits_leave_one_whole_course_list<S: CommerceStore>(store: &S) {
    let owner = tutor(store).await;
    let pool = courses(store, owner, 12).await;
    let created = create(store, new_curriculum("Contended", owner, &pool[..1])).await;
    let lists: Vec<Vec<ItemId>> = (0..10)
        .map(|n| vec![pool[n], pool[n + 1], pool[n + 2]])
        .collect();
    let outcomes = join_all(lists.iter().map(|ids| {
        let mut update = update_of(&created);
        update.courses = Some(list_of(ids));
        store.update_curriculum(created.id, ItemScope::Any, update)
    }))
    .await;
    for outcome in &outcomes {
        assert!(outcome.is_ok(), "{outcome:?}");
    }
    let detail = store
        .curriculum(created.id)
        .await
        .unwrap_or_else(|e| panic!("curriculum: {e}"))
        .unwrap_or_else(|| panic!("not found"));
    let stored = detail.curriculum.courses.ids().to_vec();
    assert!(lists.contains(&stored), "a whole list: {stored:?}");
    let shown: Vec<ItemId> = detail.courses.iter().map(|course| course.id).collect();
    assert_eq!(shown, stored);
}

/// Within a tutor's scope, every course must be taught by that tutor: a course of another
/// tutor is refused, named, and nothing is written (an unknown course is named first); an
/// admin's scope links any course.
pub async fn a_tutor_links_only_the_courses_they_teach<S: CommerceStore>(store: &S) {
    let (owner, other) = (tutor(store).await, tutor(store).await);
    let mine = courses(store, owner, 2).await;
    let theirs = courses(store, other, 1).await[0];
    let scope = ItemScope::TutoredBy(owner);
    let new = new_curriculum("Borrowed", owner, &[mine[0], theirs]);
    let id = new.id;
    match store.create_curriculum(scope, new).await {
        Err(WriteCurriculumError::ForeignCourses(foreign)) => assert_eq!(foreign, vec![theirs]),
        other => panic!("expected ForeignCourses, got {other:?}"),
    }
    assert!(matches!(store.curriculum_for_sale(id).await, Ok(None)));
    let nothing = ItemId::from_uuid(Uuid::now_v7());
    match store
        .create_curriculum(scope, new_curriculum("Both", owner, &[theirs, nothing]))
        .await
    {
        Err(WriteCurriculumError::UnknownCourses(missing)) => assert_eq!(missing, vec![nothing]),
        other => panic!("expected UnknownCourses, got {other:?}"),
    }
    let own = store
        .create_curriculum(scope, new_curriculum("Own", owner, &mine))
        .await
        .unwrap_or_else(|e| panic!("create_curriculum: {e}"));
    let mut update = update_of(&own);
    update.name = Some(name("Widened"));
    update.courses = Some(list_of(&[mine[1], theirs]));
    match store.update_curriculum(own.id, scope, update.clone()).await {
        Err(WriteCurriculumError::ForeignCourses(foreign)) => assert_eq!(foreign, vec![theirs]),
        other => panic!("expected ForeignCourses, got {other:?}"),
    }
    let stored = store
        .curriculum(own.id)
        .await
        .unwrap_or_else(|e| panic!("curriculum: {e}"))
        .unwrap_or_else(|| panic!("not found"));
    assert_eq!(stored.curriculum, own, "a refused edit writes nothing");
    let widened = store
        .update_curriculum(own.id, ItemScope::Any, update)
        .await
        .unwrap_or_else(|e| panic!("an admin links any course: {e}"));
    assert_eq!(widened.courses.ids(), [mine[1], theirs]);
    create(store, new_curriculum("Admin's", owner, &[theirs])).await;
}

/// The tutor a curriculum is given to is checked in the write: a member, an admin, a
/// deactivated tutor or nobody is refused and nothing is written.
pub async fn the_tutor_is_checked_in_the_write<S: CommerceStore>(store: &S) {
    let owner = tutor(store).await;
    let ids = courses(store, owner, 1).await;
    let gone = tutor(store).await;
    store
        .update_user(
            gone,
            &UserChanges {
                is_active: Some(false),
                ..UserChanges::default()
            },
            RevokeSessions::All,
            now(),
        )
        .await
        .unwrap_or_else(|e| panic!("update_user: {e}"));
    let mut refused = Vec::new();
    for role in [Role::Member, Role::Admin] {
        let user = store
            .insert_user(new_user(&format!("cur{}", tag()), role))
            .await
            .unwrap_or_else(|e| panic!("insert_user: {e}"));
        refused.push(user.id);
    }
    refused.push(gone);
    refused.push(UserId::from_uuid(Uuid::now_v7()));
    let kept = create(store, new_curriculum("Kept", owner, &ids)).await;
    for named in refused {
        let new = new_curriculum("Misnamed", named, &ids);
        let id = new.id;
        match store.create_curriculum(ItemScope::Any, new).await {
            Err(WriteCurriculumError::TutorNotFound) => {}
            other => panic!("create for {named:?}: expected TutorNotFound, got {other:?}"),
        }
        assert!(matches!(store.curriculum_for_sale(id).await, Ok(None)));
        let mut update = update_of(&kept);
        update.tutor_id = Some(named);
        update.price = Some(money(1));
        match store
            .update_curriculum(kept.id, ItemScope::Any, update)
            .await
        {
            Err(WriteCurriculumError::TutorNotFound) => {}
            other => panic!("update to {named:?}: expected TutorNotFound, got {other:?}"),
        }
    }
    let stored = store
        .curriculum(kept.id)
        .await
        .unwrap_or_else(|e| panic!("curriculum: {e}"))
        .unwrap_or_else(|| panic!("not found"));
    assert_eq!(stored.curriculum, kept, "a refused edit writes nothing");
}

/// Edits of different fields at once: each sets only its own field, so every change holds
/// (none is undone by another written from an older read).
pub async fn concurrent_edits_of_different_fields_all_hold<S: CommerceStore>(store: &S) {
    let (owner, other) = (tutor(store).await, tutor(store).await);
    let ids = courses(store, owner, 2).await;
    let created = create(store, new_curriculum("Contended fields", owner, &ids[..1])).await;
    let edit = |change: &dyn Fn(&mut CurriculumUpdate)| {
        let mut update = update_of(&created);
        change(&mut update);
        update
    };
    let edits = [
        edit(&|update| update.name = Some(name("Renamed at once"))),
        edit(&|update| update.description = Some(None)),
        edit(&|update| update.price = Some(money(12_345))),
        edit(&|update| update.category = Some(Category::Aws)),
        edit(&|update| update.skill_level = Some(SkillLevel::Advanced)),
        edit(&|update| update.tutor_id = Some(other)),
        edit(&|update| update.courses = Some(list_of(&[ids[1], ids[0]]))),
    ];
    let outcomes = join_all(
        edits
            .into_iter()
            .map(|update| store.update_curriculum(created.id, ItemScope::Any, update)),
    )
    .await;
    for outcome in &outcomes {
        assert!(outcome.is_ok(), "{outcome:?}");
    }
    let stored = store
        .curriculum(created.id)
        .await
        .unwrap_or_else(|e| panic!("curriculum: {e}"))
        .unwrap_or_else(|| panic!("not found"))
        .curriculum;
    assert_eq!(stored.name.as_str(), "Renamed at once");
    assert_eq!(stored.description, None);
    assert_eq!(stored.price, money(12_345));
    assert_eq!(
        (stored.category, stored.skill_level, stored.tutor_id),
        (Category::Aws, SkillLevel::Advanced, other)
    );
    assert_eq!(stored.courses.ids(), [ids[1], ids[0]]);
}
