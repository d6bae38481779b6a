//! `CatalogRepository`: items, their edits within a scope, and the lists (both orders, keyset
//! pages, the open filter and full-text search) with the viewer's `is_registered`.

use super::ItemRow;
use super::search::match_query;
use crate::schema::{catalog_items, catalog_registrations};
use crate::{SqliteStore, micros, query_error};
use async_trait::async_trait;
use diesel::dsl::{Eq, Filter, exists, sql};
use diesel::expression::SqlLiteral;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as QueryError};
use diesel::sql_types::{BigInt, Bool, Text};
use diesel::sqlite::Sqlite;
use reserva_application::DependencyError;
use reserva_application::ports::catalog::{
    CatalogQuery, CatalogRepository, ItemScope, ItemUpdate, ListedItem, NewItem, UpdateItemError,
};
use reserva_domain::accounts::UserId;
use reserva_domain::catalog::{
    CatalogCursor, CatalogItem, CatalogSort, CourseDetails, ItemId, ItemKind,
};

type UpdateTx = reserva_sql_support::TxError<UpdateItemError>;
type ItemTx = reserva_sql_support::TxError<DependencyError>;

/// The course columns of an item: all set for a course, all null for a test.
pub(super) fn course_columns(
    course: Option<CourseDetails>,
) -> (Option<String>, Option<String>, Option<String>) {
    course.map_or((None, None, None), |details| {
        (
            Some(details.category.as_str().to_owned()),
            Some(details.skill_level.as_str().to_owned()),
            Some(details.tutor_id.as_uuid().to_string()),
        )
    })
}

/// The viewer's live registrations for the item of the outer row.
type LiveRegistrations = Filter<
    Filter<
        Filter<catalog_registrations::table, Eq<catalog_registrations::user_id, String>>,
        Eq<catalog_registrations::item_id, catalog_items::id>,
    >,
    SqlLiteral<Bool>,
>;

/// Whether `viewer` holds a live registration for the item of the outer row.
fn registered(viewer: String) -> diesel::dsl::exists<LiveRegistrations> {
    exists(
        catalog_registrations::table
            .filter(catalog_registrations::user_id.eq(viewer))
            .filter(catalog_registrations::item_id.eq(catalog_items::id))
            // A literal, as in the partial index's own condition.
            .filter(sql::<Bool>("catalog_registrations.status <> 'cancelled'")),
    )
}

fn listed((row, is_registered): (ItemRow, bool)) -> Result<ListedItem, DependencyError> {
    Ok(ListedItem {
        item: row.into_item()?,
        is_registered,
    })
}

/// The live item of `kind` with this id, if any.
fn live_item(
    connection: &mut SqliteConnection,
    kind: ItemKind,
    id: ItemId,
) -> QueryResult<Option<ItemRow>> {
    catalog_items::table
        .filter(catalog_items::id.eq(id.as_uuid().to_string()))
        .filter(catalog_items::kind.eq(kind.as_str()))
        .filter(catalog_items::deleted_at.is_null())
        .select(ItemRow::as_select())
        .first(connection)
        .optional()
}

/// Whether `scope` reaches the stored item: any, or a course taught by the tutor.
fn in_scope(row: &ItemRow, scope: ItemScope) -> bool {
    match scope {
        ItemScope::Any => true,
        ItemScope::TutoredBy(tutor) => {
            row.kind == ItemKind::Course.as_str()
                && row.tutor_id.as_deref() == Some(tutor.as_uuid().to_string().as_str())
        }
    }
}

fn update(
    connection: &mut SqliteConnection,
    kind: ItemKind,
    id: ItemId,
    scope: ItemScope,
    update: &ItemUpdate,
) -> Result<ItemRow, UpdateTx> {
    let found = live_item(connection, kind, id)?;
    if !found.as_ref().is_some_and(|row| in_scope(row, scope)) {
        return Err(UpdateTx::Refused(UpdateItemError::NotFound));
    }
    let (category, skill_level, tutor_id) = course_columns(update.course);
    Ok(
        diesel::update(catalog_items::table.filter(catalog_items::id.eq(id.as_uuid().to_string())))
            .set((
                catalog_items::title.eq(update.title.as_str()),
                catalog_items::description.eq(update.description.as_ref().map(|d| d.as_str())),
                catalog_items::price.eq(update.price.get()),
                catalog_items::starts_at.eq(micros(update.schedule.starts_at())),
                catalog_items::ends_at.eq(micros(update.schedule.ends_at())),
                catalog_items::category.eq(category),
                catalog_items::skill_level.eq(skill_level),
                catalog_items::tutor_id.eq(tutor_id),
                catalog_items::updated_at.eq(micros(update.now)),
            ))
            .returning(ItemRow::as_returning())
            .get_result(connection)?,
    )
}

fn delete(
    connection: &mut SqliteConnection,
    kind: ItemKind,
    id: ItemId,
    scope: ItemScope,
    now: i64,
) -> QueryResult<bool> {
    let found = live_item(connection, kind, id)?;
    if !found.as_ref().is_some_and(|row| in_scope(row, scope)) {
        return Ok(false);
    }
    let deleted = diesel::update(
        catalog_items::table
            .filter(catalog_items::id.eq(id.as_uuid().to_string()))
            .filter(catalog_items::deleted_at.is_null()),
    )
    .set((
        catalog_items::deleted_at.eq(Some(now)),
        catalog_items::updated_at.eq(now),
    ))
    .execute(connection)?;
    Ok(deleted == 1)
}

/// From how many matches a search walks the list's index and probes each row instead of reading
/// every match and sorting them: reading 100,000 matches of a common word to keep 21 takes
/// ~100 ms, walking ~200 rows of the index ~2 ms; a rare word is the other way round (walking
/// finds its few rows only at the end of the index).
const DRIVE_LIMIT: i64 = 20_000;

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    value: i64,
}

/// The number of items matching `matching`, counted up to `limit`.
fn matches_up_to(
    connection: &mut SqliteConnection,
    matching: &str,
    limit: i64,
) -> QueryResult<i64> {
    diesel::sql_query(
        "SELECT count(*) AS value FROM (SELECT rowid FROM catalog_items_search \
         WHERE catalog_items_search MATCH ? LIMIT ?)",
    )
    .bind::<Text, _>(matching)
    .bind::<BigInt, _>(limit)
    .get_result::<Count>(connection)
    .map(|count| count.value)
}

/// A page of `query`; a search of at least `drive_limit` matches probes rows in the list's order
/// (see [`DRIVE_LIMIT`]).
fn list(
    connection: &mut SqliteConnection,
    query: &CatalogQuery,
    drive_limit: i64,
) -> QueryResult<Vec<(ItemRow, bool)>> {
    let matching = match &query.search {
        Some(search) => match match_query(search) {
            Some(matching) => Some(matching),
            // Only punctuation: no word to find.
            None => return Ok(Vec::new()),
        },
        None => None,
    };
    let mut rows = catalog_items::table
        .filter(catalog_items::kind.eq(query.kind.as_str()))
        .filter(catalog_items::deleted_at.is_null())
        .select((
            ItemRow::as_select(),
            registered(query.viewer.as_uuid().to_string()),
        ))
        .into_boxed::<Sqlite>();
    if let Some(at) = query.open_at {
        let at = micros(at);
        rows = rows
            .filter(catalog_items::starts_at.le(at))
            .filter(catalog_items::ends_at.ge(at));
    }
    if let Some(matching) = matching {
        rows = match matches_up_to(connection, &matching, drive_limit)? {
            0 => return Ok(Vec::new()),
            // Few matches: read them from the index, then sort them.
            found if found < drive_limit => rows.filter(
                sql::<Bool>(
                    "catalog_items.seq IN (SELECT rowid FROM catalog_items_search \
                     WHERE catalog_items_search MATCH ",
                )
                .bind::<Text, _>(matching)
                .sql(")"),
            ),
            // Many: walk the list's order and probe each row, so a page stops after its rows.
            _ => rows.filter(
                sql::<Bool>(
                    "EXISTS (SELECT 1 FROM catalog_items_search s \
                     WHERE s.catalog_items_search MATCH ",
                )
                .bind::<Text, _>(matching)
                .sql(" AND s.rowid = catalog_items.seq)"),
            ),
        };
    }
    // Row values, so the keyset is a range seek in the list's index.
    match query.after {
        Some(CatalogCursor::Created { created_at, id }) => {
            rows = rows.filter(
                sql::<Bool>("(catalog_items.created_at, catalog_items.id) < (")
                    .bind::<BigInt, _>(micros(created_at))
                    .sql(", ")
                    .bind::<Text, _>(id.as_uuid().to_string())
                    .sql(")"),
            );
        }
        Some(CatalogCursor::Popular {
            registration_count,
            created_at,
            id,
        }) => {
            rows = rows.filter(
                sql::<Bool>(
                    "(catalog_items.registration_count, catalog_items.created_at, \
                     catalog_items.id) < (",
                )
                .bind::<BigInt, _>(registration_count)
                .sql(", ")
                .bind::<BigInt, _>(micros(created_at))
                .sql(", ")
                .bind::<Text, _>(id.as_uuid().to_string())
                .sql(")"),
            );
        }
        None => {}
    }
    rows = match query.sort {
        CatalogSort::Created => {
            rows.order((catalog_items::created_at.desc(), catalog_items::id.desc()))
        }
        CatalogSort::Popular => rows.order((
            catalog_items::registration_count.desc(),
            catalog_items::created_at.desc(),
            catalog_items::id.desc(),
        )),
    };
    rows.limit(i64::from(query.limit.get()) + 1)
        .load(connection)
}

/// The refusal a broken check stands for: a combination the table refuses (starts ≥ ends, a
/// course without its details) that the use case's validation did not catch.
fn update_error(error: QueryError) -> UpdateItemError {
    match error {
        QueryError::DatabaseError(DatabaseErrorKind::CheckViolation, _) => {
            UpdateItemError::Conflict
        }
        other => UpdateItemError::Dependency(query_error(other)),
    }
}

#[async_trait]
impl CatalogRepository for SqliteStore {
    async fn create_item(&self, item: NewItem) -> Result<CatalogItem, DependencyError> {
        let row: ItemRow = self
            .write(move |connection| {
                let (category, skill_level, tutor_id) = course_columns(item.course);
                let now = micros(item.now);
                diesel::insert_into(catalog_items::table)
                    .values((
                        catalog_items::id.eq(item.id.as_uuid().to_string()),
                        catalog_items::kind.eq(item.kind.as_str()),
                        catalog_items::title.eq(item.title.as_str()),
                        catalog_items::description
                            .eq(item.description.as_ref().map(|d| d.as_str())),
                        catalog_items::price.eq(item.price.get()),
                        catalog_items::starts_at.eq(micros(item.schedule.starts_at())),
                        catalog_items::ends_at.eq(micros(item.schedule.ends_at())),
                        catalog_items::category.eq(category),
                        catalog_items::skill_level.eq(skill_level),
                        catalog_items::tutor_id.eq(tutor_id),
                        catalog_items::created_at.eq(now),
                        catalog_items::updated_at.eq(now),
                    ))
                    .returning(ItemRow::as_returning())
                    .get_result(connection)
                    .map_err(ItemTx::Query)
            })
            .await
            .map_err(|error: ItemTx| error.into_refusal(query_error))?;
        row.into_item()
    }

    async fn item(
        &self,
        kind: ItemKind,
        id: ItemId,
        viewer: UserId,
    ) -> Result<Option<ListedItem>, DependencyError> {
        let row: Option<(ItemRow, bool)> = self
            .read(move |connection| {
                catalog_items::table
                    .filter(catalog_items::id.eq(id.as_uuid().to_string()))
                    .filter(catalog_items::kind.eq(kind.as_str()))
                    .filter(catalog_items::deleted_at.is_null())
                    .select((
                        ItemRow::as_select(),
                        registered(viewer.as_uuid().to_string()),
                    ))
                    .first(connection)
                    .optional()
            })
            .await?;
        row.map(listed).transpose()
    }

    async fn update_item(
        &self,
        kind: ItemKind,
        id: ItemId,
        scope: ItemScope,
        changes: ItemUpdate,
    ) -> Result<CatalogItem, UpdateItemError> {
        let row = self
            .write(move |connection| update(connection, kind, id, scope, &changes))
            .await
            .map_err(|error: UpdateTx| error.into_refusal(update_error))?;
        Ok(row.into_item()?)
    }

    async fn delete_item(
        &self,
        kind: ItemKind,
        id: ItemId,
        scope: ItemScope,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool, DependencyError> {
        self.write(move |connection| {
            delete(connection, kind, id, scope, micros(now)).map_err(ItemTx::Query)
        })
        .await
        .map_err(|error: ItemTx| error.into_refusal(query_error))
    }

    async fn list_items(&self, query: CatalogQuery) -> Result<Vec<ListedItem>, DependencyError> {
        // One snapshot: the count that picks the plan and the page it reads.
        let rows = self
            .snapshot(move |connection| list(connection, &query, DRIVE_LIMIT))
            .await?;
        rows.into_iter().map(listed).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;
    use diesel::connection::SimpleConnection;
    use diesel_migrations::MigrationHarness;
    use reserva_domain::catalog::SearchText;
    use reserva_domain::paging::PageLimit;

    fn connection() -> SqliteConnection {
        let mut connection = SqliteConnection::establish(":memory:").unwrap();
        connection
            .run_pending_migrations(crate::MIGRATIONS)
            .unwrap();
        connection
            .batch_execute(
                "INSERT INTO users VALUES ('u', 'u@example.com', 'u', 'h', 'member', 1, 0, 0)",
            )
            .unwrap();
        connection
    }

    /// Both ways of searching (reading the matches, probing rows in order) give the same pages.
    #[test]
    fn probing_and_reading_matches_agree() {
        let mut connection = connection();
        let words = ["alpha", "beta", "gamma"];
        for n in 0..60_i64 {
            let title = format!(
                "{} {} item",
                words.get((n % 3) as usize).unwrap(),
                words.get((n % 2) as usize).unwrap()
            );
            diesel::sql_query(
                "INSERT INTO catalog_items (id, kind, title, price, starts_at, ends_at, \
                 registration_count, created_at, updated_at) \
                 VALUES (?, 'test', ?, 100, ?, ?, ?, ?, 0)",
            )
            .bind::<Text, _>(uuid::Uuid::now_v7().to_string())
            .bind::<Text, _>(title)
            .bind::<BigInt, _>(n)
            .bind::<BigInt, _>(n + 10)
            .bind::<BigInt, _>(n % 4)
            .bind::<BigInt, _>(n / 2)
            .execute(&mut connection)
            .unwrap();
        }
        let at = |micros: i64| DateTime::from_timestamp_micros(micros).unwrap();
        for (text, sort, open_at) in [
            ("alpha", CatalogSort::Created, None),
            ("alpha beta", CatalogSort::Popular, None),
            ("item", CatalogSort::Popular, Some(at(30))),
            ("gamma", CatalogSort::Created, Some(at(12))),
            ("none", CatalogSort::Created, None),
        ] {
            let mut query = CatalogQuery {
                kind: ItemKind::Test,
                viewer: UserId::from_uuid(uuid::Uuid::nil()),
                open_at,
                search: Some(SearchText::parse(text).unwrap()),
                sort,
                after: None,
                limit: PageLimit::new(4).unwrap(),
            };
            let mut pages = 0;
            loop {
                let read = list(&mut connection, &query, i64::MAX).unwrap();
                let probed = list(&mut connection, &query, 1).unwrap();
                let ids = |rows: &[(ItemRow, bool)]| -> Vec<String> {
                    rows.iter().map(|(row, _)| row.id.clone()).collect()
                };
                assert_eq!(ids(&read), ids(&probed), "{text} page {pages}");
                if read.len() <= 4 {
                    break;
                }
                let last = read.into_iter().nth(3).unwrap().0.into_item().unwrap();
                query.after = Some(match sort {
                    CatalogSort::Created => CatalogCursor::Created {
                        created_at: last.created_at,
                        id: last.id,
                    },
                    CatalogSort::Popular => CatalogCursor::Popular {
                        registration_count: last.registration_count,
                        created_at: last.created_at,
                        id: last.id,
                    },
                });
                pages += 1;
            }
            assert!(
                text == "none" || pages > 0 || open_at.is_some(),
                "{text}: one page only"
            );
        }
    }
}
