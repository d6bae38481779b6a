//! Reading the catalog: every user lists tests or courses (open now only, searched, newest or
//! most popular first, in keyset pages) and reads one, each with whether they are registered.

use super::Catalog;
use crate::accounts::Principal;
use crate::ports::catalog::{CatalogQuery, ListedItem};
use crate::{DependencyError, ErrorClass, FieldViolation, UseCaseError};
use reserva_domain::catalog::{CatalogCursor, CatalogSort, ItemId, ItemKind, SearchText};
use reserva_domain::paging::PageLimit;
use thiserror::Error;

/// One page of tests or courses, in the list's order.
pub type ItemPage = crate::Page<ListedItem, CatalogCursor>;

/// Which items to list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListItems {
    /// Tests or courses.
    pub kind: ItemKind,
    /// `status=available`: only items open now (`starts_at ≤ now ≤ ends_at`).
    pub available: bool,
    /// Full-text search (blank: none).
    pub q: Option<String>,
    /// Order.
    pub sort: CatalogSort,
    /// After this row: a cursor of the same sort.
    pub after: Option<CatalogCursor>,
    /// Page size.
    pub limit: PageLimit,
}

crate::error::invalid_or_dependency_error!(
    /// Why listing items failed.
    ListItemsError,
    /// The search text or the cursor is invalid (`q`: the search's code; `cursor`:
    /// `invalid_cursor`, a cursor of another sort).
    "invalid list request"
);

/// Why reading an item failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum GetItemError {
    /// No such item of that kind, or deleted.
    #[error("item not found")]
    NotFound,
    /// A dependency failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

impl UseCaseError for GetItemError {
    fn class(&self) -> ErrorClass {
        match self {
            Self::NotFound => ErrorClass::NotFound,
            Self::Dependency(error) => error.class(),
        }
    }
    fn code(&self) -> &'static str {
        match self {
            Self::NotFound => "item_not_found",
            Self::Dependency(error) => error.code(),
        }
    }
}

/// Where the next page starts after `listed`, in `sort` order.
fn cursor_of(sort: CatalogSort, listed: &ListedItem) -> CatalogCursor {
    let item = &listed.item;
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

/// A search from a query parameter: blank means none.
pub(super) fn parse_search(
    raw: Option<&str>,
    violations: &mut Vec<FieldViolation>,
) -> Option<SearchText> {
    let raw = raw.filter(|text| !text.trim().is_empty())?;
    SearchText::parse(raw)
        .map_err(|rule| violations.push(FieldViolation::new("q", rule.code(), rule)))
        .ok()
}

impl Catalog {
    /// A page of tests or courses with the caller's `is_registered`.
    ///
    /// # Errors
    /// `Invalid` (search text, a cursor of another sort), `Dependency`.
    #[tracing::instrument(skip_all, fields(user_id = %principal.user_id, kind = request.kind.as_str()))]
    pub async fn list_items(
        &self,
        principal: &Principal,
        request: ListItems,
    ) -> Result<ItemPage, ListItemsError> {
        let mut violations = Vec::new();
        let search = parse_search(request.q.as_deref(), &mut violations);
        if request
            .after
            .is_some_and(|cursor| cursor.sort() != request.sort)
        {
            violations.push(FieldViolation::new(
                "cursor",
                "invalid_cursor",
                format!(
                    "the cursor does not belong to sort={}",
                    request.sort.as_str()
                ),
            ));
        }
        if !violations.is_empty() {
            return Err(ListItemsError::Invalid(violations));
        }
        let query = CatalogQuery {
            kind: request.kind,
            viewer: principal.user_id,
            open_at: request.available.then(|| self.now()),
            search,
            sort: request.sort,
            after: request.after,
            limit: request.limit,
        };
        let rows = self.ports.items.list_items(query).await?;
        let sort = request.sort;
        Ok(ItemPage::from_rows(rows, request.limit, |listed| {
            cursor_of(sort, listed)
        }))
    }

    /// One test or course with the caller's `is_registered`.
    ///
    /// # Errors
    /// `NotFound` (also a deleted item, or an item of the other kind), `Dependency`.
    #[tracing::instrument(skip_all, fields(user_id = %principal.user_id, kind = kind.as_str(), item_id = %id))]
    pub async fn get_item(
        &self,
        principal: &Principal,
        kind: ItemKind,
        id: ItemId,
    ) -> Result<ListedItem, GetItemError> {
        self.ports
            .items
            .item(kind, id, principal.user_id)
            .await?
            .ok_or(GetItemError::NotFound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::test_support::{Fixture, item, listed, now, principal};
    use chrono::Duration;
    use reserva_domain::accounts::Role;

    fn request(sort: CatalogSort) -> ListItems {
        ListItems {
            kind: ItemKind::Course,
            available: false,
            q: None,
            sort,
            after: None,
            limit: PageLimit::new(2).unwrap_or_default(),
        }
    }

    fn rows(count: usize) -> Vec<ListedItem> {
        (0..count)
            .map(|n| {
                let mut row = listed(item(
                    ItemKind::Course,
                    UserId::from_uuid(uuid::Uuid::now_v7()),
                ));
                row.item.registration_count = 10 - i64::try_from(n).unwrap_or(0);
                row
            })
            .collect()
    }

    use reserva_domain::accounts::UserId;

    #[tokio::test]
    async fn available_asks_for_items_open_now_with_the_search_and_the_viewer() {
        let caller = principal(Role::Member);
        let mut fixture = Fixture::new();
        fixture
            .items
            .expect_list_items()
            .withf(move |query| {
                query.kind == ItemKind::Course
                    && query.viewer == caller.user_id
                    && query.open_at == Some(now())
                    && query.search.as_ref().map(SearchText::as_str) == Some("rust async")
                    && query.sort == CatalogSort::Created
                    && query.limit.get() == 2
            })
            .times(1)
            .returning(|_| Ok(rows(1)));
        let asked = ListItems {
            available: true,
            q: Some(" rust async ".into()),
            ..request(CatalogSort::Created)
        };
        let page = fixture
            .catalog()
            .list_items(&caller, asked)
            .await
            .expect("listed");
        assert_eq!((page.items.len(), page.next), (1, None));
    }

    #[tokio::test]
    async fn every_item_otherwise_and_a_blank_search_is_none() {
        let mut fixture = Fixture::new();
        fixture
            .items
            .expect_list_items()
            .withf(|query| query.open_at.is_none() && query.search.is_none())
            .times(1)
            .returning(|_| Ok(vec![]));
        let asked = ListItems {
            q: Some("   ".into()),
            ..request(CatalogSort::Popular)
        };
        let page = fixture
            .catalog()
            .list_items(&principal(Role::Member), asked)
            .await;
        assert_eq!(page.map(|p| p.items.len()), Ok(0));
    }

    #[tokio::test]
    async fn the_next_cursor_is_of_the_lists_sort() {
        for sort in [CatalogSort::Created, CatalogSort::Popular] {
            let stored = rows(3);
            let last = stored[1].item.clone();
            let mut fixture = Fixture::new();
            fixture
                .items
                .expect_list_items()
                .return_once(move |_| Ok(stored));
            let page = fixture
                .catalog()
                .list_items(&principal(Role::Member), request(sort))
                .await
                .expect("listed");
            let expected = match sort {
                CatalogSort::Created => CatalogCursor::Created {
                    created_at: last.created_at,
                    id: last.id,
                },
                CatalogSort::Popular => CatalogCursor::Popular {
                    registration_count: last.registration_count,
                    created_at: last.created_at,
                    id: last.id,
                },
            };
            assert_eq!((page.items.len(), page.next), (2, Some(expected)));
        }
    }

    #[tokio::test]
    async fn a_cursor_of_another_sort_and_a_bad_search_are_refused() {
        let mut fixture = Fixture::new();
        fixture.items.expect_list_items().never();
        let catalog = fixture.catalog();
        let created = CatalogCursor::Created {
            created_at: now() - Duration::days(1),
            id: ItemId::from_uuid(uuid::Uuid::now_v7()),
        };
        let asked = ListItems {
            after: Some(created),
            q: Some("a b c d e f g h i j k".into()),
            ..request(CatalogSort::Popular)
        };
        let error = catalog
            .list_items(&principal(Role::Member), asked)
            .await
            .expect_err("invalid");
        assert_eq!(error.class(), ErrorClass::InvalidInput);
        let codes: Vec<_> = error
            .violations()
            .iter()
            .map(|v| (v.field, v.code))
            .collect();
        assert_eq!(
            codes,
            [("q", "search_too_long"), ("cursor", "invalid_cursor")]
        );
        // the same cursor with its own sort is fine
        let mut fixture = Fixture::new();
        fixture
            .items
            .expect_list_items()
            .withf(move |query| query.after == Some(created))
            .returning(|_| Ok(vec![]));
        let own = ListItems {
            after: Some(created),
            ..request(CatalogSort::Created)
        };
        assert!(
            fixture
                .catalog()
                .list_items(&principal(Role::Member), own)
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn reads_one_of_its_kind_or_not_found() {
        let caller = principal(Role::Member);
        let stored = listed(item(ItemKind::Test, caller.user_id));
        let id = stored.item.id;
        let mut fixture = Fixture::new();
        fixture
            .items
            .expect_item()
            .withf(move |_, _, viewer| *viewer == caller.user_id)
            .returning(move |kind, wanted, _| {
                Ok((kind == ItemKind::Test && wanted == id).then(|| stored.clone()))
            });
        let catalog = fixture.catalog();
        let found = catalog.get_item(&caller, ItemKind::Test, id).await;
        assert_eq!(found.map(|l| l.item.id), Ok(id));
        let error = catalog
            .get_item(&caller, ItemKind::Course, id)
            .await
            .expect_err("other kind");
        assert_eq!(
            (error.class(), error.code()),
            (ErrorClass::NotFound, "item_not_found")
        );
    }
}
