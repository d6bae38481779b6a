//! Lists: both orders, keyset pages, the open filter, full-text search and `is_registered`.

use super::{
    CatalogStore, PRICE, create, fund, list, listed_ids, member, new_course, new_test,
    paid_by_card, paid_from_wallet, query, read, search, user,
};
use crate::support::{now, tag};
use chrono::{DateTime, Duration, Utc};
use reserva_application::ports::catalog::{CatalogQuery, ItemScope, ItemUpdate};
use reserva_domain::accounts::Role;
use reserva_domain::catalog::{
    CatalogCursor, CatalogItem, CatalogSort, ItemDescription, ItemId, ItemKind, Schedule,
};
use std::collections::HashMap;

/// Tests created `minutes` ago, one per entry, titled `List <tag> <n>`.
async fn tests_created_at<S: CatalogStore>(
    store: &S,
    base: DateTime<Utc>,
    minutes: &[i64],
) -> Vec<CatalogItem> {
    let mut items = Vec::new();
    for (index, minutes_ago) in minutes.iter().enumerate() {
        let new = new_test(
            &format!("List {} {index}", tag()),
            PRICE,
            base - Duration::minutes(*minutes_ago),
        );
        items.push(create(store, new).await);
    }
    items
}

fn ids(items: &[&CatalogItem]) -> Vec<ItemId> {
    items.iter().map(|item| item.id).collect()
}

/// Newest first by creation, or by registrations then creation; ties by id descending; `limit + 1`
/// rows.
pub async fn lists_in_created_and_popular_order<S: CatalogStore>(store: &S) {
    let viewer = member(store).await;
    let tutor = user(store, Role::Tutor).await;
    let base = now();
    // Two share a creation instant: the id breaks the tie, descending.
    let items = tests_created_at(store, base, &[40, 30, 20, 20]).await;
    let [oldest, older, tie_a, tie_b] = items.as_slice() else {
        panic!("four items");
    };
    let _course = create(store, new_course(&format!("Not a test {}", tag()), tutor)).await;
    let (tie_high, tie_low) = if tie_a.id.as_uuid() > tie_b.id.as_uuid() {
        (tie_a, tie_b)
    } else {
        (tie_b, tie_a)
    };
    let created = listed_ids(store, query(ItemKind::Test, viewer, CatalogSort::Created)).await;
    assert_eq!(created, ids(&[tie_high, tie_low, older, oldest]));

    // oldest: two registrations, older: one, the ties none.
    for _ in 0..2 {
        paid_by_card(store, member(store).await, oldest).await;
    }
    paid_by_card(store, member(store).await, older).await;
    let popular = list(store, query(ItemKind::Test, viewer, CatalogSort::Popular)).await;
    let order: Vec<_> = popular.iter().map(|l| l.item.id).collect();
    assert_eq!(order, ids(&[oldest, older, tie_high, tie_low]));
    let counts: Vec<_> = popular.iter().map(|l| l.item.registration_count).collect();
    assert_eq!(counts, [2, 1, 0, 0]);

    let courses = listed_ids(store, query(ItemKind::Course, viewer, CatalogSort::Created)).await;
    assert_eq!(courses.len(), 1);

    // At most limit + 1 rows.
    let short = listed_ids(
        store,
        CatalogQuery {
            limit: super::limit(2),
            ..query(ItemKind::Test, viewer, CatalogSort::Created)
        },
    )
    .await;
    assert_eq!(short, ids(&[tie_high, tie_low, older]));
}

/// The cursor after the last row of a page of `limit` rows.
fn cursor_after(item: &CatalogItem, sort: CatalogSort) -> CatalogCursor {
    match sort {
        CatalogSort::Created => CatalogCursor::Created {
            created_at: item.created_at,
            id: item.id,
        },
        CatalogSort::Popular => CatalogCursor::Popular {
            registration_count: item.registration_count,
            created_at: item.created_at,
            id: item.id,
        },
    }
}

/// Paging by cursor returns every row once, in both orders, while newer rows arrive between pages.
pub async fn keyset_pages_neither_skip_nor_repeat_while_rows_arrive<S: CatalogStore>(store: &S) {
    let viewer = member(store).await;
    let base = now() - Duration::hours(1);
    let items = tests_created_at(store, base, &[70, 60, 50, 50, 40, 30, 20, 10, 10]).await;
    // Some counts, so the popular order mixes count and creation.
    for item in items.iter().step_by(3) {
        paid_by_card(store, member(store).await, item).await;
    }
    for sort in [CatalogSort::Created, CatalogSort::Popular] {
        let mut seen: HashMap<ItemId, u32> = HashMap::new();
        let mut after = None;
        for _ in 0..20 {
            let page = list(
                store,
                CatalogQuery {
                    after,
                    limit: super::limit(2),
                    ..query(ItemKind::Test, viewer, sort)
                },
            )
            .await;
            for listed in page.iter().take(2) {
                *seen.entry(listed.item.id).or_default() += 1;
            }
            // Rows arrive between pages: newer than every row, so before the cursor.
            create(store, new_test(&format!("Arrival {}", tag()), PRICE, now())).await;
            if page.len() <= 2 {
                break;
            }
            after = page.get(1).map(|listed| cursor_after(&listed.item, sort));
        }
        for item in &items {
            assert_eq!(seen.get(&item.id), Some(&1), "{sort:?}: {:?}", item.id);
        }
        assert!(seen.values().all(|times| *times == 1), "{sort:?}: {seen:?}");
    }
}

/// `open_at` keeps items with `starts_at ≤ t ≤ ends_at`, both ends included.
pub async fn the_open_filter_includes_both_ends<S: CatalogStore>(store: &S) {
    let viewer = member(store).await;
    let starts = now() + Duration::days(3);
    let ends = starts + Duration::hours(2);
    let mut new = new_test(&format!("Window {}", tag()), PRICE, now());
    new.schedule = Schedule::new(starts, ends).unwrap_or_else(|e| panic!("{e}"));
    let item = create(store, new).await;
    let open_at = |at| CatalogQuery {
        open_at: Some(at),
        ..query(ItemKind::Test, viewer, CatalogSort::Created)
    };
    let one = Duration::microseconds(1);
    for (at, expected) in [
        (starts - one, false),
        (starts, true),
        (starts + Duration::hours(1), true),
        (ends, true),
        (ends + one, false),
    ] {
        let found = listed_ids(store, open_at(at)).await.contains(&item.id);
        assert_eq!(found, expected, "open at {at}");
    }
    let all = listed_ids(store, query(ItemKind::Test, viewer, CatalogSort::Created)).await;
    assert!(
        all.contains(&item.id),
        "no filter: closed items are listed too"
    );
}

/// Tests with these titles (and descriptions), created in order.
async fn titled<S: CatalogStore>(store: &S, rows: &[(&str, Option<&str>)]) -> Vec<CatalogItem> {
    let mut items = Vec::new();
    for (title, description) in rows {
        let mut new = new_test(title, PRICE, now());
        new.description =
            description.map(|d| ItemDescription::parse(d).unwrap_or_else(|e| panic!("{e}")));
        items.push(create(store, new).await);
    }
    items
}

async fn found<S: CatalogStore>(
    store: &S,
    viewer: reserva_domain::accounts::UserId,
    text: &str,
) -> Vec<ItemId> {
    let mut ids = listed_ids(
        store,
        CatalogQuery {
            search: Some(search(text)),
            ..query(ItemKind::Test, viewer, CatalogSort::Created)
        },
    )
    .await;
    ids.reverse();
    ids
}

/// Search matches items whose title or description holds every word, in any case.
pub async fn search_is_the_and_of_its_words_in_any_case<S: CatalogStore>(store: &S) {
    let viewer = member(store).await;
    let items = titled(
        store,
        &[
            ("Rust Async Basics", None),
            ("rust sync", Some("threads and locks")),
            ("Python ASYNC", None),
            ("Cooking", Some("Async recipes with RUST")),
            ("Rustacean guide", None),
            (
                "Vue.js 입문",
                Some("mail a@b.com, version 3.5, node-js/express"),
            ),
        ],
    )
    .await;
    let id = |index: usize| {
        items
            .get(index)
            .map_or_else(|| panic!("item {index}"), |i| i.id)
    };
    assert_eq!(found(store, viewer, "rust").await, [id(0), id(1), id(3)]);
    assert_eq!(found(store, viewer, "RUST async").await, [id(0), id(3)]);
    assert_eq!(found(store, viewer, "aSyNc").await, [id(0), id(2), id(3)]);
    assert_eq!(found(store, viewer, "locks").await, [id(1)]);
    assert_eq!(
        found(store, viewer, "rust python").await,
        Vec::<ItemId>::new()
    );
    assert_eq!(
        found(store, viewer, "nothing-like-it").await,
        Vec::<ItemId>::new()
    );
    // Punctuation separates words: "rust," and "(async)" are the words rust and async.
    assert_eq!(found(store, viewer, "rust, (async)").await, [id(0), id(3)]);
    // ... in the items too: a dotted name, an address, a version or a path are found by their
    // parts, as the search splits them.
    for query in ["vue", "vue.js", "JS 입문", "b.com", "3.5", "node express"] {
        assert_eq!(found(store, viewer, query).await, [id(5)], "{query}");
    }

    // The search follows edits: the old words no longer find the item, the new ones do.
    let edited = items.get(2).unwrap_or_else(|| panic!("item 2"));
    let edit = ItemUpdate {
        title: super::title("Haskell monads"),
        description: Some(ItemDescription::parse("lazy").unwrap_or_else(|e| panic!("{e}"))),
        price: edited.price,
        schedule: edited.schedule,
        course: None,
        now: now(),
    };
    store
        .update_item(ItemKind::Test, edited.id, ItemScope::Any, edit)
        .await
        .unwrap_or_else(|e| panic!("update_item: {e:?}"));
    assert_eq!(found(store, viewer, "python").await, Vec::<ItemId>::new());
    assert_eq!(found(store, viewer, "monads LAZY").await, [id(2)]);
    assert_eq!(found(store, viewer, "async").await, [id(0), id(3)]);
    // A deleted item is not found.
    let deleted = store
        .delete_item(ItemKind::Test, id(3), ItemScope::Any, now())
        .await;
    assert_eq!(deleted, Ok(true));
    assert_eq!(found(store, viewer, "async").await, [id(0)]);
}

/// Text of punctuation only finds nothing; operators and SQL in a search are plain words, never
/// syntax.
pub async fn punctuation_finds_nothing_and_query_syntax_is_plain_text<S: CatalogStore>(store: &S) {
    let viewer = member(store).await;
    let items = titled(
        store,
        &[
            ("Rust Async Basics", Some("100% practical")),
            ("Rustacean guide", None),
            ("Drop table tennis", None),
        ],
    )
    .await;
    let id = |index: usize| {
        items
            .get(index)
            .map_or_else(|| panic!("item {index}"), |i| i.id)
    };
    let none = Vec::<ItemId>::new();
    assert_eq!(found(store, viewer, "'%&|!").await, none);
    assert_eq!(found(store, viewer, "%").await, none);
    assert_eq!(found(store, viewer, "*").await, none);
    // Operators of the stores' query languages are words or separators, never syntax.
    assert_eq!(found(store, viewer, "rust OR python").await, none);
    assert_eq!(found(store, viewer, "rust NEAR async").await, none);
    assert_eq!(found(store, viewer, "rust AND async").await, none);
    assert_eq!(found(store, viewer, "\"rust async\"").await, [id(0)]);
    assert_eq!(found(store, viewer, "rust*").await, [id(0)]);
    assert_eq!(found(store, viewer, "-rust async").await, [id(0)]);
    assert_eq!(found(store, viewer, "rust & !async").await, [id(0)]);
    assert_eq!(found(store, viewer, "title:rust").await, none);
    assert_eq!(found(store, viewer, "ru%").await, none);
    assert_eq!(found(store, viewer, "100%").await, [id(0)]);
    assert_eq!(
        found(store, viewer, "'; DROP TABLE catalog_items; --").await,
        none
    );
    assert_eq!(found(store, viewer, "drop table").await, [id(2)]);
    assert_eq!(found(store, viewer, "' OR '1'='1").await, none);
    let all = listed_ids(store, query(ItemKind::Test, viewer, CatalogSort::Created)).await;
    assert_eq!(all.len(), 3, "the table is intact");
}

/// `is_registered` is the viewer's own, in reads and lists, and false once cancelled.
pub async fn is_registered_is_the_viewers_and_ends_with_cancel<S: CatalogStore>(store: &S) {
    let (buyer, other) = (member(store).await, member(store).await);
    fund(store, buyer, PRICE).await;
    let item = create(store, new_test(&format!("Mine {}", tag()), PRICE, now())).await;
    let untouched = create(
        store,
        new_test(&format!("Not mine {}", tag()), PRICE, now()),
    )
    .await;
    let settled = paid_from_wallet(store, buyer, &item).await;

    assert!(read(store, &item, buyer).await.is_registered);
    assert!(!read(store, &item, other).await.is_registered);
    assert!(!read(store, &untouched, buyer).await.is_registered);
    let registered = |viewer| async move {
        list(store, query(ItemKind::Test, viewer, CatalogSort::Created))
            .await
            .into_iter()
            .map(|l| (l.item.id, l.is_registered))
            .collect::<HashMap<_, _>>()
    };
    let seen = registered(buyer).await;
    assert_eq!(seen.get(&item.id), Some(&true));
    assert_eq!(seen.get(&untouched.id), Some(&false));
    assert_eq!(registered(other).await.get(&item.id), Some(&false));

    store
        .cancel_payment(buyer, settled.payment.id, now())
        .await
        .unwrap_or_else(|e| panic!("cancel_payment: {e:?}"));
    assert!(!read(store, &item, buyer).await.is_registered);
    assert_eq!(registered(buyer).await.get(&item.id), Some(&false));
}
