//! `CatalogSeeder` on SQLite: batches of multi-row inserts and the recount that makes every
//! count its live registrations (the conformance suite has no seeder cases: seeding is a tool).

mod support;

use chrono::{Duration, SubsecRound, Utc};
use reserva_application::ports::catalog::{
    CatalogQuery, CatalogRepository, CatalogSeeder, NewItem, RegistrationRepository,
    SeedRegistration, SeedUser,
};
use reserva_domain::accounts::UserId;
use reserva_domain::catalog::{
    CatalogSort, Category, CourseDetails, ItemId, ItemKind, ItemTitle, RegistrationId, Schedule,
    SkillLevel,
};
use reserva_domain::paging::PageLimit;
use reserva_domain::wallet::{Money, PaymentId};
use uuid::Uuid;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeded_rows_are_listed_with_recounted_counts() {
    let store = support::fresh().await;
    let now = Utc::now().trunc_subsecs(6);
    let users: Vec<SeedUser> = (0..5)
        .map(|n| SeedUser {
            id: UserId::from_uuid(Uuid::now_v7()),
            email: format!("seed-{n}@seed.reserva.invalid"),
            username: format!("seed{n}"),
            password_hash: "$argon2id$v=19$fake".into(),
            now,
        })
        .collect();
    assert_eq!(store.insert_users(&users).await, Ok(5));
    let tutor = users.first().unwrap().id;
    let items: Vec<NewItem> = (0..4_i64)
        .map(|n| NewItem {
            id: ItemId::from_uuid(Uuid::now_v7()),
            kind: if n == 3 {
                ItemKind::Course
            } else {
                ItemKind::Test
            },
            title: ItemTitle::parse(&format!("Seeded {n}")).unwrap(),
            description: None,
            price: Money::new(10_000 + n * 100).unwrap(),
            schedule: Schedule::new(now - Duration::days(1), now + Duration::days(1)).unwrap(),
            course: (n == 3).then_some(CourseDetails {
                category: Category::Db,
                skill_level: SkillLevel::Advanced,
                tutor_id: tutor,
            }),
            now: now - Duration::minutes(n),
        })
        .collect();
    assert_eq!(store.insert_items(&items).await, Ok(4));
    // Item n gets n registrations (of the first n users).
    let registrations: Vec<SeedRegistration> = items
        .iter()
        .enumerate()
        .flat_map(|(n, item)| {
            users.iter().take(n).map(|user| SeedRegistration {
                payment_id: PaymentId::from_uuid(Uuid::now_v7()),
                registration_id: RegistrationId::from_uuid(Uuid::now_v7()),
                user_id: user.id,
                kind: item.kind,
                item_id: item.id,
                item_title: item.title.as_str().to_owned(),
                amount: item.price,
                paid_at: now,
            })
        })
        .collect();
    assert_eq!(store.insert_registrations(&registrations).await, Ok(6));
    let before = store.verify_catalog().await.unwrap();
    assert!(
        !before.violations.is_empty(),
        "counts are not touched before the recount"
    );
    store.recount().await.unwrap();
    let audit = store.verify_catalog().await.unwrap();
    assert!(audit.violations.is_empty(), "{:#?}", audit.violations);
    assert_eq!(audit.items_checked, 4);

    let viewer = users.get(1).unwrap().id;
    let popular = store
        .list_items(CatalogQuery {
            kind: ItemKind::Test,
            viewer,
            open_at: Some(now),
            search: None,
            sort: CatalogSort::Popular,
            after: None,
            limit: PageLimit::DEFAULT,
        })
        .await
        .unwrap();
    let seen: Vec<_> = popular
        .iter()
        .map(|l| {
            (
                l.item.title.as_str().to_owned(),
                l.item.registration_count,
                l.is_registered,
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("Seeded 2".to_owned(), 2, true),
            ("Seeded 1".to_owned(), 1, false),
            ("Seeded 0".to_owned(), 0, false),
        ]
    );
    let course = store
        .item(ItemKind::Course, items.get(3).unwrap().id, viewer)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(course.item.registration_count, 3);
    assert!(course.is_registered);
}
