//! Tests and courses: writes checked by their own `WHERE` (kind, not deleted, the tutor's
//! scope) and keyset lists over the partial indexes of items that are not deleted.

use super::rows::{ITEM_COLUMNS, ItemRow, ListedRow, all};
use crate::{query_error, write_outcome_error};
use chrono::{DateTime, Utc};
use diesel::OptionalExtension;
use diesel::result::{DatabaseErrorKind, Error as QueryError};
use diesel::sql_types::{BigInt, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use reserva_application::DependencyError;
use reserva_application::ports::catalog::{
    CatalogQuery, ItemScope, ItemUpdate, ListedItem, NewItem, UpdateItemError,
};
use reserva_domain::accounts::UserId;
use reserva_domain::catalog::{
    CatalogCursor, CatalogItem, CatalogSort, CourseDetails, ItemId, ItemKind,
};
use reserva_domain::paging::PageLimit;
use uuid::Uuid;

/// Whether the viewer (the placeholder `viewer`) holds a live registration for `i`: one probe
/// of the partial unique index `(user_id, item_id)` per row of the page.
///
/// Not `EXISTS (…)`: PostgreSQL may turn an `EXISTS` in the select list into a hashed sub-plan,
/// which reads *all* the viewer's live registrations into a hash table on every statement and
/// then looks each row up in it. Its generic plans did: a viewer with 633 registrations paid
/// 0.69 ms a page for it, against 0.11 ms with a probe per row, and the cost grew with every
/// registration. A scalar sub-select with `LIMIT 1` is never hashed.
fn is_registered(viewer: &str) -> String {
    format!(
        "coalesce((SELECT true FROM catalog_registrations r \
         WHERE r.user_id = {viewer} AND r.item_id = i.id AND r.status <> 'cancelled' LIMIT 1), \
         false) AS is_registered"
    )
}

fn course_parts(
    course: Option<CourseDetails>,
) -> (Option<&'static str>, Option<&'static str>, Option<Uuid>) {
    course.map_or((None, None, None), |course| {
        (
            Some(course.category.as_str()),
            Some(course.skill_level.as_str()),
            Some(course.tutor_id.as_uuid()),
        )
    })
}

const fn tutor(scope: ItemScope) -> Option<Uuid> {
    match scope {
        ItemScope::Any => None,
        ItemScope::TutoredBy(tutor) => Some(tutor.as_uuid()),
    }
}

/// Stores a new item.
pub(super) async fn create(
    connection: &mut AsyncPgConnection,
    item: &NewItem,
) -> Result<CatalogItem, DependencyError> {
    let (category, skill_level, tutor_id) = course_parts(item.course);
    let row: ItemRow = crate::prepared::sql_query(format!(
        "INSERT INTO catalog_items AS i (id, kind, title, description, price, starts_at, ends_at,
                                         category, skill_level, tutor_id, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)
         RETURNING {ITEM_COLUMNS}"
    ))
    .bind::<SqlUuid, _>(item.id.as_uuid())
    .bind::<Text, _>(item.kind.as_str())
    .bind::<Text, _>(item.title.as_str())
    .bind::<Nullable<Text>, _>(item.description.as_ref().map(|d| d.as_str()))
    .bind::<BigInt, _>(item.price.get())
    .bind::<Timestamptz, _>(item.schedule.starts_at())
    .bind::<Timestamptz, _>(item.schedule.ends_at())
    .bind::<Nullable<Text>, _>(category)
    .bind::<Nullable<Text>, _>(skill_level)
    .bind::<Nullable<SqlUuid>, _>(tutor_id)
    .bind::<Timestamptz, _>(item.now)
    .get_result(connection)
    .await
    .map_err(write_outcome_error)?;
    row.into_item()
}

/// One item of `kind`, not deleted, with `viewer`'s `is_registered`.
pub(super) async fn find(
    connection: &mut AsyncPgConnection,
    kind: ItemKind,
    id: ItemId,
    viewer: UserId,
) -> Result<Option<ListedItem>, DependencyError> {
    let row: Option<ListedRow> = crate::prepared::sql_query(format!(
        "SELECT {ITEM_COLUMNS}, {} FROM catalog_items i
         WHERE i.id = $1 AND i.kind = $3 AND i.deleted_at IS NULL",
        is_registered("$2")
    ))
    .bind::<SqlUuid, _>(id.as_uuid())
    .bind::<SqlUuid, _>(viewer.as_uuid())
    .bind::<Text, _>(kind.as_str())
    .get_result(connection)
    .await
    .optional()
    .map_err(query_error)?;
    row.map(ListedRow::into_listed).transpose()
}

fn update_refusal(error: QueryError) -> UpdateItemError {
    match &error {
        QueryError::DatabaseError(DatabaseErrorKind::CheckViolation, _) => {
            UpdateItemError::Conflict
        }
        _ => UpdateItemError::Dependency(write_outcome_error(error)),
    }
}

/// Replaces an item's editable fields within `scope`.
pub(super) async fn update(
    connection: &mut AsyncPgConnection,
    kind: ItemKind,
    id: ItemId,
    scope: ItemScope,
    update: &ItemUpdate,
) -> Result<CatalogItem, UpdateItemError> {
    let (category, skill_level, tutor_id) = course_parts(update.course);
    let row: Option<ItemRow> = crate::prepared::sql_query(format!(
        "UPDATE catalog_items AS i
         SET title = $4, description = $5, price = $6, starts_at = $7, ends_at = $8,
             category = $9, skill_level = $10, tutor_id = $11, updated_at = $12
         WHERE i.id = $1 AND i.kind = $2 AND i.deleted_at IS NULL
           AND ($3::uuid IS NULL OR i.tutor_id = $3)
         RETURNING {ITEM_COLUMNS}"
    ))
    .bind::<SqlUuid, _>(id.as_uuid())
    .bind::<Text, _>(kind.as_str())
    .bind::<Nullable<SqlUuid>, _>(tutor(scope))
    .bind::<Text, _>(update.title.as_str())
    .bind::<Nullable<Text>, _>(update.description.as_ref().map(|d| d.as_str()))
    .bind::<BigInt, _>(update.price.get())
    .bind::<Timestamptz, _>(update.schedule.starts_at())
    .bind::<Timestamptz, _>(update.schedule.ends_at())
    .bind::<Nullable<Text>, _>(category)
    .bind::<Nullable<Text>, _>(skill_level)
    .bind::<Nullable<SqlUuid>, _>(tutor_id)
    .bind::<Timestamptz, _>(update.now)
    .get_result(connection)
    .await
    .optional()
    .map_err(update_refusal)?;
    let row = row.ok_or(UpdateItemError::NotFound)?;
    Ok(row.into_item()?)
}

/// Soft-deletes an item within `scope`; `false` when there was none.
pub(super) async fn delete(
    connection: &mut AsyncPgConnection,
    kind: ItemKind,
    id: ItemId,
    scope: ItemScope,
    now: DateTime<Utc>,
) -> Result<bool, DependencyError> {
    let deleted = crate::prepared::sql_query(
        "UPDATE catalog_items SET deleted_at = $4, updated_at = $4
         WHERE id = $1 AND kind = $2 AND deleted_at IS NULL
           AND ($3::uuid IS NULL OR tutor_id = $3)",
    )
    .bind::<SqlUuid, _>(id.as_uuid())
    .bind::<Text, _>(kind.as_str())
    .bind::<Nullable<SqlUuid>, _>(tutor(scope))
    .bind::<Timestamptz, _>(now)
    .execute(connection)
    .await
    .map_err(write_outcome_error)?;
    Ok(deleted > 0)
}

/// The search as the text `plainto_tsquery('simple', …)` takes: the words of
/// [`reserva_domain::catalog::SearchText::words`] (letters, digits and `_` only, so no tsquery
/// syntax can reach the parser) joined by spaces, which it ANDs. `None` when there are none:
/// such a search matches nothing.
pub(crate) fn tsquery_words(words: &[String]) -> Option<String> {
    (!words.is_empty()).then(|| words.join(" "))
}

/// How many items, in the list's order and after its other filters, a search walks before it
/// turns to the GIN index. A common word (the first page of a word in 10 % of the items needs
/// about 210 rows) is answered by the walk, which stops as soon as the page is full; a rare one
/// reads its few matches from the index instead. Neither can be told apart beforehand: the
/// planner estimates a word outside the statistics' most common ones at a fixed share, and
/// counting the matches first reads the word's whole posting list (100,000 entries for a common
/// word, several milliseconds) on every request.
const WALK_CANDIDATES: u32 = 1_000;

/// How a page is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plan {
    /// No search: the sort's index from the cursor.
    Plain,
    /// A search: at most [`WALK_CANDIDATES`] rows of the sort's index, filtered by the words.
    Walk,
    /// A search: the matches from the GIN index, then filtered and sorted.
    Narrow,
}

/// The row counts a page's statement may fetch, written into its SQL as literals.
const FETCH_SIZES: [u16; 7] = [2, 6, 11, 21, 26, 51, 101];

/// How many rows a page's statement fetches: the page and one more (which tells whether there is a
/// next page), rounded up to one of [`FETCH_SIZES`]. The count is a literal, not a parameter: a
/// prepared statement's generic plan knows its `LIMIT` then (with a parameter the planner assumes
/// a tenth of the table and rejects the index walk), so PostgreSQL can reuse one plan per shape
/// instead of planning every call; and the few sizes keep the shapes, which each connection
/// caches, few. Rows beyond the page and one are dropped after the read.
fn fetched(limit: PageLimit) -> u16 {
    let wanted = limit.get() + 1;
    FETCH_SIZES
        .into_iter()
        .find(|&size| size >= wanted)
        .unwrap_or(wanted)
}

/// The page's SQL. Placeholders: `$1` viewer, `$2` the words (searches), then the open instant and
/// the cursor's values, in that order. The kind is a literal (one of two fixed words, never
/// input), so PostgreSQL matches the kind's own sort indexes, whose predicate names it, in the
/// generic plans too.
///
/// Every shape reads the sort's index from the cursor and each kept entry's row through the
/// entry's own pointer. With `status=available` the schedule is an index condition: the sort
/// indexes carry `starts_at` and `ends_at` as trailing key columns (migration 000011), and a
/// B-tree tests a condition on a key column on each entry inside the index, so the entries of
/// items that are not open are skipped without reading their rows (about 14 of every 15 tests).
///
/// The walks take their values (the open instant, the cursor, the words) through one-row
/// sub-selects, `(SELECT $n)`, which the planner sees as parameters even when it knows the
/// bound values. So a value-specific plan is never cheaper in its estimate than the generic one,
/// and PostgreSQL reuses the prepared statement's generic plan from the sixth call on instead of
/// planning every call again (about half of a list's database time: with a different instant
/// in every call each plan was new). The plans are the same walks either way. The words are
/// parsed once per statement, not once per walked row. The narrowing read keeps plain
/// parameters: it is the rare case, and its estimate of the matches is what picks the GIN read.
fn page_sql(query: &CatalogQuery, plan: Plan) -> String {
    let walk = plan != Plan::Narrow;
    let mut next = if plan == Plan::Plain { 2 } else { 3 };
    let mut placeholder = || {
        let current = next;
        next += 1;
        if walk {
            format!("(SELECT ${current})")
        } else {
            format!("${current}")
        }
    };
    let kind = query.kind.as_str();
    let mut filters = format!("i.kind = '{kind}' AND i.deleted_at IS NULL");
    if query.open_at.is_some() {
        let at = placeholder();
        filters.push_str(&format!(" AND i.starts_at <= {at} AND i.ends_at >= {at}"));
    }
    match query.after {
        Some(CatalogCursor::Created { .. }) => filters.push_str(&format!(
            " AND (i.created_at, i.id) < ({}, {})",
            placeholder(),
            placeholder()
        )),
        Some(CatalogCursor::Popular { .. }) => filters.push_str(&format!(
            " AND (i.registration_count, i.created_at, i.id) < ({}, {}, {})",
            placeholder(),
            placeholder(),
            placeholder()
        )),
        None => {}
    }
    let order = match query.sort {
        CatalogSort::Created => "ORDER BY i.created_at DESC, i.id DESC",
        CatalogSort::Popular => "ORDER BY i.registration_count DESC, i.created_at DESC, i.id DESC",
    };
    let limit = fetched(query.limit);
    let is_registered = is_registered("$1");
    match plan {
        Plan::Plain => format!(
            "SELECT {ITEM_COLUMNS}, {is_registered} FROM catalog_items i
             WHERE {filters} {order} LIMIT {limit}"
        ),
        // The outer query filters the walked rows as they come (no sort above the inner LIMIT,
        // so it stops at the page's last match); the page is put in order again in Rust.
        Plan::Walk => format!(
            "SELECT {ITEM_COLUMNS}, {is_registered} FROM (
                 SELECT * FROM catalog_items i WHERE {filters} {order} LIMIT {WALK_CANDIDATES}
             ) i
             WHERE i.search_vector @@ (SELECT plainto_tsquery('simple', $2))
             LIMIT {limit}"
        ),
        Plan::Narrow => format!(
            "WITH hits AS MATERIALIZED (
                 SELECT id FROM catalog_items
                 WHERE kind = '{kind}' AND deleted_at IS NULL
                   AND search_vector @@ plainto_tsquery('simple', $2))
             SELECT {ITEM_COLUMNS}, {is_registered} FROM catalog_items i
             JOIN hits ON hits.id = i.id
             WHERE {filters} {order} LIMIT {limit}"
        ),
    }
}

/// Reads one page by `plan`.
async fn page(
    connection: &mut AsyncPgConnection,
    query: &CatalogQuery,
    words: Option<&str>,
    plan: Plan,
) -> Result<Vec<ListedItem>, DependencyError> {
    let mut statement = crate::prepared::sql_query(page_sql(query, plan))
        .bind::<SqlUuid, _>(query.viewer.as_uuid());
    if let Some(words) = words {
        statement = statement.bind::<Text, _>(words.to_owned());
    }
    if let Some(at) = query.open_at {
        statement = statement.bind::<Timestamptz, _>(at);
    }
    match query.after {
        Some(CatalogCursor::Created { created_at, id }) => {
            statement = statement
                .bind::<Timestamptz, _>(created_at)
                .bind::<SqlUuid, _>(id.as_uuid());
        }
        Some(CatalogCursor::Popular {
            registration_count,
            created_at,
            id,
        }) => {
            statement = statement
                .bind::<BigInt, _>(registration_count)
                .bind::<Timestamptz, _>(created_at)
                .bind::<SqlUuid, _>(id.as_uuid());
        }
        None => {}
    }
    let rows: Vec<ListedRow> = statement.load(connection).await.map_err(query_error)?;
    let mut items = all(rows, ListedRow::into_listed)?;
    if plan == Plan::Walk {
        sort(&mut items, query.sort);
    }
    items.truncate(usize::from(query.limit.get()) + 1);
    Ok(items)
}

/// Puts a page in its sort's order (newest first, or most registrations first), ids breaking
/// ties, as the indexes order them.
fn sort(items: &mut [ListedItem], by: CatalogSort) {
    items.sort_by(|a, b| {
        let (a, b) = (&a.item, &b.item);
        let newest = (b.created_at, b.id).cmp(&(a.created_at, a.id));
        match by {
            CatalogSort::Created => newest,
            CatalogSort::Popular => b.registration_count.cmp(&a.registration_count).then(newest),
        }
    });
}

/// A page of items in `query.sort` order: the sort's partial index read backwards from the
/// cursor (a row comparison the index answers), filtered by availability and the search. A
/// search first walks a bounded stretch of that index; when the stretch does not fill the
/// page, the matches are read from the GIN index instead (the exact answer either way: a walk
/// that fills the page has found its first rows in order).
pub(super) async fn list(
    connection: &mut AsyncPgConnection,
    query: &CatalogQuery,
) -> Result<Vec<ListedItem>, DependencyError> {
    if query
        .after
        .is_some_and(|cursor| cursor.sort() != query.sort)
    {
        return Err(DependencyError::Failed(
            "a catalog cursor of another sort".into(),
        ));
    }
    let Some(search) = &query.search else {
        return page(connection, query, None, Plan::Plain).await;
    };
    let Some(words) = tsquery_words(&search.words()) else {
        return Ok(Vec::new());
    };
    let walked = page(connection, query, Some(&words), Plan::Walk).await?;
    if walked.len() > usize::from(query.limit.get()) {
        return Ok(walked);
    }
    page(connection, query, Some(&words), Plan::Narrow).await
}

#[cfg(test)]
mod tests {
    use super::{FETCH_SIZES, Plan, fetched, page_sql, tsquery_words};
    use crate::test_support::TemporaryDatabase;
    use chrono::Utc;
    use diesel::QueryableByName;
    use diesel::sql_types::{BigInt, Text, Timestamptz, Uuid as SqlUuid};
    use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
    use reserva_application::ports::catalog::CatalogQuery;
    use reserva_domain::accounts::UserId;
    use reserva_domain::catalog::{CatalogCursor, CatalogSort, ItemId, ItemKind, SearchText};
    use reserva_domain::paging::PageLimit;
    use uuid::Uuid;

    #[test]
    fn every_page_size_fetches_one_more_row_from_a_few_fixed_sizes() {
        for size in 1..=PageLimit::MAX {
            let limit = PageLimit::new(i64::from(size)).unwrap();
            let fetched = fetched(limit);
            assert!(fetched > size, "{size}: {fetched}");
            assert!(fetched <= 2 * (size + 1), "{size}: {fetched}");
            assert!(FETCH_SIZES.contains(&fetched), "{size}: {fetched}");
        }
        assert_eq!(fetched(PageLimit::DEFAULT), 21);
    }

    #[test]
    fn only_plain_words_reach_the_tsquery() {
        let words = SearchText::parse("Rust & 'sql' | !async:*")
            .unwrap()
            .words();
        assert_eq!(tsquery_words(&words).as_deref(), Some("rust sql async"));
        let nothing = SearchText::parse("&|!").unwrap().words();
        assert_eq!(tsquery_words(&nothing), None);
    }

    /// One line of an `EXPLAIN`.
    #[derive(QueryableByName)]
    struct Line {
        #[diesel(sql_type = Text, column_name = "QUERY PLAN")]
        line: String,
    }

    /// The plan's lines for one page statement (`EXPLAIN`, the open instant and a cursor bound).
    async fn plan(
        connection: &mut AsyncPgConnection,
        query: &CatalogQuery,
        plan: Plan,
    ) -> Vec<String> {
        let mut statement = diesel::sql_query(format!("EXPLAIN {}", page_sql(query, plan)))
            .into_boxed::<diesel::pg::Pg>()
            .bind::<SqlUuid, _>(query.viewer.as_uuid());
        if plan != Plan::Plain {
            statement = statement.bind::<Text, _>("rust");
        }
        statement = statement.bind::<Timestamptz, _>(query.open_at.unwrap());
        statement = match query.after.unwrap() {
            CatalogCursor::Created { created_at, id } => statement
                .bind::<Timestamptz, _>(created_at)
                .bind::<SqlUuid, _>(id.as_uuid()),
            CatalogCursor::Popular {
                registration_count,
                created_at,
                id,
            } => statement
                .bind::<BigInt, _>(registration_count)
                .bind::<Timestamptz, _>(created_at)
                .bind::<SqlUuid, _>(id.as_uuid()),
        };
        let lines: Vec<Line> = statement.load(connection).await.unwrap();
        lines.into_iter().map(|line| line.line).collect()
    }

    /// `status=available` is decided inside the kind's sort index (the schedule's trailing key
    /// columns, migration 000011): an index condition, never a filter on rows read from the
    /// table, for both kinds and both sorts, for a plain page and for a search's walk.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn open_lists_test_the_schedule_inside_the_sort_index() {
        let database = TemporaryDatabase::create().await;
        let mut connection = AsyncPgConnection::establish(&database.settings(1).url)
            .await
            .unwrap();
        // an empty table: only the index's shape is looked at, whatever the planner would
        // cost a scan of no rows at
        connection
            .batch_execute("SET enable_seqscan = off; SET enable_bitmapscan = off")
            .await
            .unwrap();
        let now = Utc::now();
        let id = ItemId::from_uuid(Uuid::now_v7());
        let cursors = [
            (
                CatalogSort::Created,
                CatalogCursor::Created {
                    created_at: now,
                    id,
                },
                "created",
            ),
            (
                CatalogSort::Popular,
                CatalogCursor::Popular {
                    registration_count: 3,
                    created_at: now,
                    id,
                },
                "popular",
            ),
        ];
        for (kind, (sort, cursor, order)) in [ItemKind::Test, ItemKind::Course]
            .into_iter()
            .flat_map(|kind| cursors.map(|cursor| (kind, cursor)))
        {
            let index = format!("catalog_{}s_{order}_idx", kind.as_str());
            let query = CatalogQuery {
                kind,
                viewer: UserId::from_uuid(Uuid::now_v7()),
                open_at: Some(now),
                search: None,
                sort,
                after: Some(cursor),
                limit: PageLimit::DEFAULT,
            };
            for shape in [Plan::Plain, Plan::Walk] {
                let lines = plan(&mut connection, &query, shape).await;
                let text = lines.join("\n");
                let scan = lines
                    .iter()
                    .position(|line| line.contains(&format!("Index Scan using {index}")))
                    .unwrap_or_else(|| panic!("{sort:?} {shape:?}: no walk of {index}:\n{text}"));
                let condition = &lines[scan + 1];
                assert!(
                    condition.contains("Index Cond:")
                        && condition.contains("starts_at <=")
                        && condition.contains("ends_at >="),
                    "{sort:?} {shape:?}: the schedule is not an index condition:\n{text}"
                );
                assert!(
                    !lines
                        .iter()
                        .any(|line| line.contains("Filter:") && line.contains("starts_at")),
                    "{sort:?} {shape:?}: the schedule is filtered on rows:\n{text}"
                );
            }
        }
    }

    /// A new viewer's first page of tests, newest first.
    fn first_page_of_tests(open_at: Option<chrono::DateTime<Utc>>) -> CatalogQuery {
        CatalogQuery {
            kind: ItemKind::Test,
            viewer: UserId::from_uuid(Uuid::now_v7()),
            open_at,
            search: None,
            sort: CatalogSort::Created,
            after: None,
            limit: PageLimit::DEFAULT,
        }
    }

    /// A connection to `database` holding `count` tests, open from an hour ago for a day, one
    /// second apart in age.
    async fn with_open_tests(database: &TemporaryDatabase, count: u32) -> AsyncPgConnection {
        let mut connection = AsyncPgConnection::establish(&database.settings(1).url)
            .await
            .unwrap();
        connection
            .batch_execute(&format!(
                "INSERT INTO catalog_items (id, kind, title, price, starts_at, ends_at, created_at,
                                            updated_at)
                 SELECT gen_random_uuid(), 'test', 'Test ' || n, 1000, now() - interval '1 hour',
                        now() + interval '1 day', now() - n * interval '1 second', now()
                 FROM generate_series(1, {count}) AS n"
            ))
            .await
            .unwrap();
        connection
    }

    /// `is_registered` probes the viewer's registration of each row of the page, whatever the
    /// table's size, in the generic plan a prepared statement settles on: never a hashed
    /// sub-plan that reads all the viewer's registrations first (an `EXISTS` in the select
    /// list became one here, with 20,000 tests analyzed; no registration is needed, scans of
    /// the empty table are only turned off so the index's shape shows).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn is_registered_probes_each_row_in_the_generic_plan() {
        let database = TemporaryDatabase::create().await;
        let mut connection = with_open_tests(&database, 20_000).await;
        connection
            .batch_execute(
                "ANALYZE catalog_items;
                 SET plan_cache_mode = force_generic_plan;
                 SET enable_seqscan = off; SET enable_bitmapscan = off",
            )
            .await
            .unwrap();
        let query = first_page_of_tests(None);
        connection
            .batch_execute(&format!(
                "PREPARE page(uuid) AS {}",
                page_sql(&query, Plan::Plain)
            ))
            .await
            .unwrap();
        let lines: Vec<Line> = diesel::sql_query(format!(
            "EXPLAIN EXECUTE page('{}')",
            query.viewer.as_uuid()
        ))
        .load(&mut connection)
        .await
        .unwrap();
        let text = lines
            .into_iter()
            .map(|line| line.line)
            .collect::<Vec<_>>()
            .join("\n");
        assert!(
            text.contains("Index Cond: ((user_id = $1) AND (item_id = i.id))"),
            "{text}"
        );
        assert!(!text.contains("hashed"), "{text}");
    }

    /// The buffers the first `EXPLAIN (ANALYZE, BUFFERS)` line of `statement` counts (hits and
    /// reads): what one run of the statement touched.
    async fn buffers(connection: &mut AsyncPgConnection, statement: &str) -> u64 {
        let lines: Vec<Line> = diesel::sql_query(format!(
            "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING OFF, SUMMARY OFF) {statement}"
        ))
        .load(connection)
        .await
        .unwrap();
        let text = lines
            .into_iter()
            .map(|line| line.line)
            .collect::<Vec<_>>()
            .join("\n");
        let line = text
            .lines()
            .find(|line| line.trim_start().starts_with("Buffers: shared"))
            .unwrap_or_else(|| panic!("no buffers counted:\n{text}"));
        ["hit=", "read="]
            .into_iter()
            .filter_map(|counter| {
                let (_, after) = line.split_once(counter)?;
                after
                    .split(|c: char| !c.is_ascii_digit())
                    .next()?
                    .parse::<u64>()
                    .ok()
            })
            .sum()
    }

    /// An item's dead versions cost a list nothing once a scan has seen them dead (migration
    /// 000013). Every registration change is an UPDATE of the count, a key of the popular
    /// indexes, so never HOT: each writes a new version and a new entry into every index. With
    /// the created index's deduplication, the entries of one item's versions shared a posting
    /// list with the live one, which no scan can mark dead, so every page of open tests followed
    /// all the dead versions of its often-registered items into the table, on every request:
    /// a few hundred more buffers here. Now the first page after the updates marks them, and
    /// the next is as cheap as before them, give or take the index's new leaf pages.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_page_skips_the_dead_versions_of_its_items_once_seen() {
        let database = TemporaryDatabase::create().await;
        let mut connection = with_open_tests(&database, 2_000).await;
        // apart: a VACUUM refuses to run in the implicit transaction of several statements
        connection
            .batch_execute("VACUUM ANALYZE catalog_items")
            .await
            .unwrap();
        connection
            .batch_execute("SET enable_seqscan = off; SET enable_bitmapscan = off")
            .await
            .unwrap();
        let query = first_page_of_tests(Some(Utc::now()));
        connection
            .batch_execute(&format!(
                "PREPARE page(uuid, timestamptz) AS {}",
                page_sql(&query, Plan::Plain)
            ))
            .await
            .unwrap();
        let execute = format!("EXECUTE page('{}', now())", query.viewer.as_uuid());
        let before = buffers(&mut connection, &execute).await;
        // the page's 21 items registered for 30 times, then the next 40 items (on the same leaf
        // page) 10 times, one statement at a time as applies do, while another request's
        // snapshot is open (as under load): the old versions are not yet dead to everyone when
        // their entries are written, so the index cannot drop them then, and the full page is
        // deduplicated instead of split (folding the page's live versions in too)
        let mut reader = AsyncPgConnection::establish(&database.settings(1).url)
            .await
            .unwrap();
        reader
            .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM users")
            .await
            .unwrap();
        for (times, items) in [(30, "LIMIT 21"), (10, "LIMIT 40 OFFSET 21")] {
            for _ in 0..times {
                connection
                    .batch_execute(&format!(
                        "UPDATE catalog_items SET registration_count = registration_count + 1
                         WHERE id IN (SELECT id FROM catalog_items
                                      ORDER BY created_at DESC, id DESC {items})"
                    ))
                    .await
                    .unwrap();
            }
        }
        reader.batch_execute("COMMIT").await.unwrap();
        let hot: Vec<Line> = diesel::sql_query(
            "SELECT (n_tup_upd - n_tup_hot_upd)::text AS \"QUERY PLAN\" FROM pg_stat_user_tables
             WHERE relname = 'catalog_items'",
        )
        .load(&mut connection)
        .await
        .unwrap();
        let first = buffers(&mut connection, &execute).await;
        let after = buffers(&mut connection, &execute).await;
        assert!(
            after <= before + 21,
            "{before} buffers before the updates, {first} on the first page after them, \
             {after} on the next (non-HOT updates: {})",
            hot.as_slice()
                .first()
                .map_or("?", |line| line.line.as_str())
        );
    }
}
