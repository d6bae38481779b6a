//! The two ways the PostgreSQL store answers a search (the conformance suite's few rows only
//! ever take the second): a bounded walk of the sort's index filtered by the words, which
//! answers a page when it fills it, and otherwise the matches read from the GIN index first.
//! A common word's pages (and the last, partly filled ones) and a rare word's must come out the
//! same, in order, without skips or repeats.
#![expect(clippy::unwrap_used)] // test helpers fail loudly

use chrono::{DateTime, Duration, Utc};
use reserva_adapter_postgres::PostgresStore;
use reserva_adapter_postgres::test_support::TemporaryDatabase;
use reserva_application::ports::catalog::{
    CatalogQuery, CatalogRepository, CatalogSeeder, NewItem,
};
use reserva_domain::accounts::UserId;
use reserva_domain::catalog::{
    CatalogCursor, CatalogSort, ItemDescription, ItemId, ItemKind, ItemTitle, Schedule, SearchText,
    price,
};
use reserva_domain::paging::PageLimit;
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
    let mut items: Vec<NewItem> = (0..COMMON)
        .map(|n| item(n, &format!("Rust course {n}"), now))
        .collect();
    items.extend((0..30).map(|n| item(COMMON + n, &format!("Rare topic {n}"), now)));
    assert_eq!(
        store.insert_items(&items).await,
        Ok(u64::try_from(items.len()).unwrap())
    );
    store.recount().await.unwrap();
    (store, items)
}

/// Every page of a created-order search, followed to the end.
async fn all_pages(
    store: &PostgresStore,
    words: &str,
    open_at: Option<DateTime<Utc>>,
) -> Vec<ItemId> {
    let mut found = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .list_items(CatalogQuery {
                kind: ItemKind::Test,
                viewer: UserId::from_uuid(Uuid::now_v7()),
                open_at,
                search: Some(SearchText::parse(words).unwrap()),
                sort: CatalogSort::Created,
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
        after = Some(CatalogCursor::Created {
            created_at: last.item.created_at,
            id: last.item.id,
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
