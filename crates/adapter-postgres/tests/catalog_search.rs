//! The two ways the PostgreSQL store answers a search (the conformance suite's few rows only
//! ever take the second): a bounded walk of the sort's index filtered by the words, which
//! answers a page when it fills it, and otherwise the matches read from the GIN index first.
//! A common word's pages (and the last, partly filled ones) and a rare word's must come out the
//! same, in order, without skips or repeats. And `status=available` lists, which skip the items
//! that are not open inside the sort's index (the schedule is in its keys), page alike in both
//! sorts, also once PostgreSQL reuses a statement's generic plan (from a connection's sixth call
//! on).
#![expect(clippy::unwrap_used)] // test helpers fail loudly

use chrono::{DateTime, Duration, Utc};
use reserva_adapter_postgres::PostgresStore;
use reserva_adapter_postgres::test_support::TemporaryDatabase;
use reserva_application::ports::catalog::{
    CatalogQuery, CatalogRepository, CatalogSeeder, NewItem, RegistrationRepository,
    SeedRegistration, SeedUser,
};
use reserva_domain::accounts::UserId;
use reserva_domain::catalog::{
    CatalogCursor, CatalogSort, ItemDescription, ItemId, ItemKind, ItemTitle, RegistrationId,
    Schedule, SearchText, price,
};
use reserva_domain::paging::PageLimit;
use reserva_domain::wallet::{Money, PaymentId};
use uuid::Uuid;

/// Items in the common word's search: more than the store's bound for a rare one.
const COMMON: u64 = 1_300;

fn item(n: u64, title: &str, now: DateTime<Utc>) -> NewItem {
    let minutes = i64::try_from(n).unwrap_or(0);
    // every third item is open now; the rest start tomorrow
    let starts = if n.is_multiple_of(3) {
        now - Duration::hours(1)
    } else {
        now + Duration::days(1)
    };
    NewItem {
        id: ItemId::from_uuid(Uuid::now_v7()),
        kind: ItemKind::Test,
        title: ItemTitle::parse(title).unwrap(),
        description: Some(ItemDescription::parse(&format!("number {n}")).unwrap()),
        price: price(10_000).unwrap(),
        schedule: Schedule::new(starts, starts + Duration::days(2)).unwrap(),
        course: None,
        // a few share an instant, so ties are broken by id
        now: now - Duration::minutes(minutes / 2),
    }
}

async fn seeded(now: DateTime<Utc>) -> (PostgresStore, Vec<NewItem>) {
    let store = TemporaryDatabase::create().await.into_store().await;
    let items = seed(&store, now).await;
    (store, items)
}

async fn seed(store: &PostgresStore, now: DateTime<Utc>) -> Vec<NewItem> {
    let mut items: Vec<NewItem> = (0..COMMON)
        .map(|n| item(n, &format!("Rust course {n}"), now))
        .collect();
    items.extend((0..30).map(|n| item(COMMON + n, &format!("Rare topic {n}"), now)));
    assert_eq!(
        store.insert_items(&items).await,
        Ok(u64::try_from(items.len()).unwrap())
    );
    store.recount().await.unwrap();
    items
}

/// Every page of a created-order search, followed to the end.
async fn all_pages(
    store: &PostgresStore,
    words: &str,
    open_at: Option<DateTime<Utc>>,
) -> Vec<ItemId> {
    followed(store, Some(words), open_at, CatalogSort::Created).await
}

/// Every page of a list, 50 at a time, followed to the end by its cursors.
async fn followed(
    store: &PostgresStore,
    words: Option<&str>,
    open_at: Option<DateTime<Utc>>,
    sort: CatalogSort,
) -> Vec<ItemId> {
    let mut found = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .list_items(CatalogQuery {
                kind: ItemKind::Test,
                viewer: UserId::from_uuid(Uuid::now_v7()),
                open_at,
                search: words.map(|words| SearchText::parse(words).unwrap()),
                sort,
                after,
                limit: PageLimit::new(50).unwrap(),
            })
            .await
            .unwrap();
        let more = page.len() > 50;
        for listed in page.iter().take(50) {
            found.push(listed.item.id);
        }
        let Some(last) = page.get(49).filter(|_| more) else {
            return found;
        };
        after = Some(match sort {
            CatalogSort::Created => CatalogCursor::Created {
                created_at: last.item.created_at,
                id: last.item.id,
            },
            CatalogSort::Popular => CatalogCursor::Popular {
                registration_count: last.item.registration_count,
                created_at: last.item.created_at,
                id: last.item.id,
            },
        });
    }
}

fn expected(items: &[NewItem], word: &str, open_at: Option<DateTime<Utc>>) -> Vec<ItemId> {
    let mut matching: Vec<&NewItem> = items
        .iter()
        .filter(|item| item.title.as_str().to_lowercase().contains(word))
        .filter(|item| open_at.is_none_or(|at| item.schedule.is_open(at)))
        .collect();
    matching.sort_by_key(|item| std::cmp::Reverse((item.now, item.id.as_uuid())));
    matching.into_iter().map(|item| item.id).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn common_and_rare_searches_page_alike() {
    let now = chrono::DateTime::from_timestamp(1_796_000_000, 0).unwrap_or_default();
    let (store, items) = seeded(now).await;
    let common = all_pages(&store, "RUST", None).await;
    assert_eq!(common.len(), usize::try_from(COMMON).unwrap());
    assert_eq!(common, expected(&items, "rust", None));
    let open = all_pages(&store, "rust", Some(now)).await;
    assert_eq!(open, expected(&items, "rust", Some(now)));
    let rare = all_pages(&store, "rare topic", None).await;
    assert_eq!(rare.len(), 30);
    assert_eq!(rare, expected(&items, "rare", None));
    let rare_open = all_pages(&store, "rare", Some(now)).await;
    assert_eq!(rare_open, expected(&items, "rare", Some(now)));
    assert!(all_pages(&store, "rust rare", None).await.is_empty());
}

/// Gives every seventh item, the `n`-th, `n % 5` registrations (0 to 4, by four users), so the popular
/// order mixes counts, creation instants and ids; returns each item's count.
async fn registered(store: &PostgresStore, items: &[NewItem], now: DateTime<Utc>) -> Vec<i64> {
    let users: Vec<SeedUser> = (0..4)
        .map(|n| SeedUser {
            id: UserId::from_uuid(Uuid::now_v7()),
            email: format!("seed-{n}@seed.reserva.invalid"),
            username: format!("seed{n}"),
            password_hash: "not a hash".to_owned(),
            now,
        })
        .collect();
    store.insert_users(&users).await.unwrap();
    let mut counts = vec![0_i64; items.len()];
    let mut registrations = Vec::new();
    for (n, item) in items.iter().enumerate().step_by(7) {
        for user in users.iter().take(n % 5) {
            registrations.push(SeedRegistration {
                payment_id: PaymentId::from_uuid(Uuid::now_v7()),
                registration_id: RegistrationId::from_uuid(Uuid::now_v7()),
                user_id: user.id,
                kind: ItemKind::Test,
                item_id: item.id,
                item_title: item.title.as_str().to_owned(),
                amount: Money::new(10_000).unwrap(),
                paid_at: now,
            });
            counts[n] += 1;
        }
    }
    store.insert_registrations(&registrations).await.unwrap();
    store.recount().await.unwrap();
    counts
}

fn expected_open(
    items: &[NewItem],
    counts: &[i64],
    open_at: DateTime<Utc>,
    sort: CatalogSort,
) -> Vec<ItemId> {
    let mut open: Vec<(i64, &NewItem)> = counts
        .iter()
        .copied()
        .zip(items)
        .filter(|(_, item)| item.schedule.is_open(open_at))
        .collect();
    open.sort_by_key(|(count, item)| {
        let count = if sort == CatalogSort::Popular {
            *count
        } else {
            0
        };
        std::cmp::Reverse((count, item.now, item.id.as_uuid()))
    });
    open.into_iter().map(|(_, item)| item.id).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_lists_page_alike_in_both_sorts_with_custom_and_generic_plans() {
    let now = chrono::DateTime::from_timestamp(1_796_000_000, 0).unwrap_or_default();
    let database = TemporaryDatabase::create().await;
    // One connection: every call below prepares on it and reuses, so from the sixth call of a
    // statement on PostgreSQL may answer it from its generic plan.
    let store = PostgresStore::connect(&database.settings(1)).await.unwrap();
    let items = seed(&store, now).await;
    let counts = registered(&store, &items, now).await;
    assert!(counts.iter().filter(|count| **count > 0).count() > 100);
    for round in 0..3 {
        for sort in [CatalogSort::Created, CatalogSort::Popular] {
            let want = expected_open(&items, &counts, now, sort);
            assert_eq!(want.len(), 444, "every third of 1,330 items is open");
            let got = followed(&store, None, Some(now), sort).await;
            assert_eq!(got, want, "round {round}, {sort:?}");
        }
        let open = followed(&store, Some("rust"), Some(now), CatalogSort::Created).await;
        assert_eq!(open, expected(&items, "rust", Some(now)), "round {round}");
        let rare_open = followed(&store, Some("rare"), Some(now), CatalogSort::Created).await;
        assert_eq!(
            rare_open,
            expected(&items, "rare", Some(now)),
            "round {round}"
        );
    }
}

#[derive(diesel::QueryableByName, Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct IndexDefinition {
    #[diesel(sql_type = diesel::sql_types::Text)]
    definition: String,
}

/// Every index of catalog_items, as PostgreSQL prints it, sorted.
async fn indexes_of_items(
    connection: &mut diesel_async::AsyncPgConnection,
) -> Vec<IndexDefinition> {
    use diesel_async::RunQueryDsl;
    let mut indexes: Vec<IndexDefinition> = diesel::sql_query(
        "SELECT pg_get_indexdef(indexrelid) AS definition FROM pg_index
         WHERE indrelid = 'catalog_items'::regclass",
    )
    .load(connection)
    .await
    .unwrap();
    indexes.sort();
    indexes
}

/// Every index of catalog_items, as PostgreSQL prints it, and the deferred records.
async fn item_indexes(url: &str) -> (Vec<IndexDefinition>, Vec<IndexDefinition>) {
    use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
    let mut connection = AsyncPgConnection::establish(url).await.unwrap();
    let indexes = indexes_of_items(&mut connection).await;
    let mut deferred: Vec<IndexDefinition> =
        diesel::sql_query("SELECT definition FROM catalog_deferred_indexes")
            .load(&mut connection)
            .await
            .unwrap();
    deferred.sort();
    (indexes, deferred)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_load_into_an_empty_catalog_sets_its_indexes_aside_and_builds_them_as_they_were() {
    let database = TemporaryDatabase::create().await;
    let url = database.url.clone();
    let store = database.into_store().await;
    let (migrated, none) = item_indexes(&url).await;
    assert!(none.is_empty());
    // the primary key and the six list and search indexes of the migrations
    assert_eq!(migrated.len(), 7);

    assert_eq!(store.defer_item_indexes().await, Ok(6));
    let (kept, deferred) = item_indexes(&url).await;
    assert_eq!(kept.len(), 1);
    assert!(kept[0].definition.contains("catalog_items_pkey"));
    let mut secondary: Vec<IndexDefinition> = migrated
        .iter()
        .filter(|index| !index.definition.contains("catalog_items_pkey"))
        .map(|index| IndexDefinition {
            definition: index.definition.clone(),
        })
        .collect();
    secondary.sort();
    assert_eq!(deferred, secondary);
    // asked again while the catalog is still empty, the same six stay aside
    assert_eq!(store.defer_item_indexes().await, Ok(6));

    let now = Utc::now();
    let items: Vec<NewItem> = (0..200)
        .map(|n| item(n, &format!("Rare topic {n}"), now))
        .collect();
    assert_eq!(store.insert_items(&items).await, Ok(200));
    assert_eq!(store.build_item_indexes().await, Ok(6));
    let (rebuilt, deferred) = item_indexes(&url).await;
    assert_eq!(rebuilt, migrated);
    assert!(deferred.is_empty());
    // nothing is left to build, and the rebuilt search index answers
    assert_eq!(store.build_item_indexes().await, Ok(0));
    store.recount().await.unwrap();
    assert_eq!(
        followed(&store, Some("rare"), None, CatalogSort::Created).await,
        expected(&items, "rare", None)
    );

    // a catalog that holds items keeps its indexes
    assert_eq!(store.defer_item_indexes().await, Ok(0));
    assert_eq!(item_indexes(&url).await.0, migrated);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn indexes_an_interrupted_load_left_aside_are_reported_then_built_by_the_next_seed() {
    let database = TemporaryDatabase::create().await;
    let url = database.url.clone();
    let store = database.into_store().await;
    let (migrated, _) = item_indexes(&url).await;
    assert_eq!(store.defer_item_indexes().await, Ok(6));
    let now = Utc::now();
    let items: Vec<NewItem> = (0..50)
        .map(|n| item(n, &format!("Left {n}"), now))
        .collect();
    assert_eq!(store.insert_items(&items).await, Ok(50));
    // the load stops here, killed: the audit names the six unbuilt indexes
    let audit = store.verify_catalog().await.unwrap();
    let unbuilt: Vec<&String> = audit
        .violations
        .iter()
        .filter(|violation| violation.contains("is not built"))
        .collect();
    assert_eq!(unbuilt.len(), 6, "{:?}", audit.violations);
    // and so does the start-up check
    assert_eq!(store.deferred_item_indexes().await.unwrap().len(), 6);
    // the next seed finds items, so it sets nothing aside and builds what was left first
    assert_eq!(store.defer_item_indexes().await, Ok(0));
    assert_eq!(item_indexes(&url).await, (migrated, Vec::new()));
    store.recount().await.unwrap();
    assert!(store.verify_catalog().await.unwrap().violations.is_empty());
}

/// Runs `statement` on `url`.
async fn execute(url: &str, statement: &str) {
    use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
    let mut connection = AsyncPgConnection::establish(url).await.unwrap();
    connection.batch_execute(statement).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unique_index_stays_while_the_others_are_set_aside() {
    let database = TemporaryDatabase::create().await;
    let url = database.url.clone();
    let store = database.into_store().await;
    execute(
        &url,
        "CREATE UNIQUE INDEX catalog_items_extra_unique ON catalog_items (id, kind)",
    )
    .await;
    let (migrated, _) = item_indexes(&url).await;
    assert_eq!(migrated.len(), 8);
    assert_eq!(store.defer_item_indexes().await, Ok(6));
    let (kept, deferred) = item_indexes(&url).await;
    assert_eq!(kept.len(), 2, "{kept:?}");
    assert!(
        kept.iter()
            .any(|index| index.definition.contains("extra_unique"))
    );
    assert!(
        deferred
            .iter()
            .all(|index| !index.definition.contains("UNIQUE"))
    );
    assert_eq!(store.deferred_item_indexes().await.unwrap().len(), 6);
    assert_eq!(store.build_item_indexes().await, Ok(6));
    assert_eq!(item_indexes(&url).await, (migrated, Vec::new()));
    assert!(store.deferred_item_indexes().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_whose_index_exists_again_is_dropped_and_one_that_is_no_index_is_refused() {
    let database = TemporaryDatabase::create().await;
    let url = database.url.clone();
    let store = database.into_store().await;
    let (migrated, _) = item_indexes(&url).await;
    assert_eq!(store.defer_item_indexes().await, Ok(6));
    // someone made one of them again by hand meanwhile
    execute(
        &url,
        "CREATE INDEX catalog_tests_created_idx ON catalog_items (created_at DESC, id DESC,
                starts_at, ends_at) WITH (deduplicate_items = off)
         WHERE deleted_at IS NULL AND kind = 'test'",
    )
    .await;
    assert_eq!(store.build_item_indexes().await, Ok(5));
    assert_eq!(item_indexes(&url).await, (migrated.clone(), Vec::new()));

    // a record that is not one CREATE INDEX statement is never run, and stays recorded
    execute(
        &url,
        "INSERT INTO catalog_deferred_indexes (name, definition)
         VALUES ('catalog_items_evil', 'DROP TABLE catalog_items')",
    )
    .await;
    assert!(store.build_item_indexes().await.is_err());
    let (indexes, deferred) = item_indexes(&url).await;
    assert_eq!(indexes, migrated);
    assert_eq!(deferred.len(), 1);
    // nor one that hides a second statement behind a first
    execute(
        &url,
        "UPDATE catalog_deferred_indexes SET definition =
           'CREATE INDEX catalog_items_evil ON catalog_items (title); DROP TABLE catalog_items'",
    )
    .await;
    assert!(store.build_item_indexes().await.is_err());
    assert_eq!(item_indexes(&url).await.0, migrated);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reverting_the_deferral_migration_builds_what_a_load_left_aside() {
    let database = TemporaryDatabase::create().await;
    let url = database.url.clone();
    let store = database.into_store().await;
    let (migrated, _) = item_indexes(&url).await;
    assert_eq!(store.defer_item_indexes().await, Ok(6));
    assert_eq!(item_indexes(&url).await.0.len(), 1);
    execute(
        &url,
        include_str!(
            "../../../migrations/postgres/2026-12-03-000012_catalog_deferred_indexes/down.sql"
        ),
    )
    .await;
    use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
    let mut connection = AsyncPgConnection::establish(&url).await.unwrap();
    assert_eq!(indexes_of_items(&mut connection).await, migrated);
    #[derive(diesel::QueryableByName)]
    struct Gone {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        gone: bool,
    }
    let table: Gone =
        diesel::sql_query("SELECT to_regclass('catalog_deferred_indexes') IS NULL AS gone")
            .get_result(&mut connection)
            .await
            .unwrap();
    assert!(table.gone);
}

/// Migration 000013 (no deduplication in the indexes whose keys are unique per item) reaches the
/// indexes a load has set aside too: their records are built with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_deduplication_migration_reaches_indexes_a_load_set_aside() {
    const DOWN: &str = include_str!(
        "../../../migrations/postgres/2026-12-07-000013_catalog_killable_versions/down.sql"
    );
    const UP: &str = include_str!(
        "../../../migrations/postgres/2026-12-07-000013_catalog_killable_versions/up.sql"
    );
    let database = TemporaryDatabase::create().await;
    let url = database.url.clone();
    let store = database.into_store().await;
    let (migrated, _) = item_indexes(&url).await;
    let without: Vec<_> = migrated
        .iter()
        .filter(|index| index.definition.contains("deduplicate_items=off"))
        .collect();
    // the primary key and the four sort indexes
    assert_eq!(without.len(), 5, "{migrated:?}");
    execute(&url, DOWN).await;
    assert!(
        item_indexes(&url)
            .await
            .0
            .iter()
            .all(|index| !index.definition.contains("deduplicate_items"))
    );
    assert_eq!(store.defer_item_indexes().await, Ok(6));
    execute(&url, UP).await;
    let (kept, deferred) = item_indexes(&url).await;
    assert_eq!(kept.len(), 1);
    assert!(
        kept[0].definition.contains("deduplicate_items=off"),
        "{kept:?}"
    );
    assert_eq!(
        deferred
            .iter()
            .filter(|index| index.definition.contains("WITH (deduplicate_items=off)"))
            .count(),
        4,
        "{deferred:?}"
    );
    assert_eq!(store.build_item_indexes().await, Ok(6));
    assert_eq!(item_indexes(&url).await, (migrated, Vec::new()));
}
