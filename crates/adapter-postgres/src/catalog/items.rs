//! Tests and courses: writes checked by their own `WHERE` (kind, not deleted, the tutor's
//! scope) and keyset lists over the partial indexes of items that are not deleted.

use super::rows::{ITEM_COLUMNS, ItemRow, ListedRow, all};
use crate::{query_error, write_outcome_error};
use chrono::{DateTime, Utc};
use diesel::OptionalExtension;
use diesel::pg::Pg;
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
use uuid::Uuid;

/// Whether the viewer `$2` holds a live registration for `i` (the partial unique index).
const IS_REGISTERED: &str = "EXISTS (SELECT 1 FROM catalog_registrations r \
     WHERE r.user_id = $2 AND r.item_id = i.id AND r.status <> 'cancelled') AS is_registered";

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
    let row: ItemRow = diesel::sql_query(format!(
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
    let row: Option<ListedRow> = diesel::sql_query(format!(
        "SELECT {ITEM_COLUMNS}, {IS_REGISTERED} FROM catalog_items i
         WHERE i.id = $1 AND i.kind = $3 AND i.deleted_at IS NULL"
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
    let row: Option<ItemRow> = diesel::sql_query(format!(
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
    let deleted = diesel::sql_query(
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
pub(super) fn tsquery_words(words: &[String]) -> Option<String> {
    (!words.is_empty()).then(|| words.join(" "))
}

/// Below this many matches a search is read from the GIN index first.
const FEW_MATCHES: i64 = 1_000;

#[derive(diesel::QueryableByName)]
struct Matches {
    #[diesel(sql_type = BigInt)]
    matches: i64,
}

/// Whether the search has fewer than [`FEW_MATCHES`] matches among `kind`'s items (counted up to
/// that bound: a few milliseconds either way). The planner cannot know it: a word outside the
/// statistics' most common ones is estimated at a fixed share of the rows, and a walk of the
/// sort's index for a word that occurs once reads every item.
async fn few_matches(
    connection: &mut AsyncPgConnection,
    kind: ItemKind,
    words: &str,
) -> Result<bool, DependencyError> {
    let counted: Matches = diesel::sql_query(
        "SELECT count(*) AS matches FROM (
             SELECT 1 FROM catalog_items
             WHERE kind = $1 AND deleted_at IS NULL
               AND search_vector @@ plainto_tsquery('simple', $2)
             LIMIT $3) found",
    )
    .bind::<Text, _>(kind.as_str())
    .bind::<Text, _>(words)
    .bind::<BigInt, _>(FEW_MATCHES)
    .get_result(connection)
    .await
    .map_err(query_error)?;
    Ok(counted.matches < FEW_MATCHES)
}

/// A page of items in `query.sort` order: the sort's partial index read backwards from the
/// cursor (a row comparison the index answers), filtered by availability and the search.
pub(super) async fn list(
    connection: &mut AsyncPgConnection,
    query: &CatalogQuery,
) -> Result<Vec<ListedItem>, DependencyError> {
    let words = match &query.search {
        Some(search) => match tsquery_words(&search.words()) {
            Some(words) => Some(words),
            None => return Ok(Vec::new()),
        },
        None => None,
    };
    if query
        .after
        .is_some_and(|cursor| cursor.sort() != query.sort)
    {
        return Err(DependencyError::Failed(
            "a catalog cursor of another sort".into(),
        ));
    }
    let narrow = match &words {
        Some(words) => few_matches(connection, query.kind, words).await?,
        None => false,
    };
    let mut next = 3;
    let mut placeholder = || {
        let current = next;
        next += 1;
        format!("${current}")
    };
    // A rare search reads its few matches from the GIN index first; a common one walks the
    // sort's index and filters (its first page is found within a few hundred rows).
    let mut sql = if narrow {
        format!(
            "WITH hits AS MATERIALIZED (
                 SELECT id FROM catalog_items
                 WHERE kind = $1 AND deleted_at IS NULL
                   AND search_vector @@ plainto_tsquery('simple', {}))
             SELECT {ITEM_COLUMNS}, {IS_REGISTERED} FROM catalog_items i
             JOIN hits ON hits.id = i.id
             WHERE i.kind = $1 AND i.deleted_at IS NULL",
            placeholder()
        )
    } else {
        format!(
            "SELECT {ITEM_COLUMNS}, {IS_REGISTERED} FROM catalog_items i
             WHERE i.kind = $1 AND i.deleted_at IS NULL"
        )
    };
    let mut search_at = None;
    if words.is_some() && !narrow {
        search_at = Some(placeholder());
    }
    if query.open_at.is_some() {
        let at = placeholder();
        sql.push_str(&format!(" AND i.starts_at <= {at} AND i.ends_at >= {at}"));
    }
    if let Some(at) = search_at {
        sql.push_str(&format!(
            " AND i.search_vector @@ plainto_tsquery('simple', {at})"
        ));
    }
    match query.after {
        Some(CatalogCursor::Created { .. }) => sql.push_str(&format!(
            " AND (i.created_at, i.id) < ({}, {})",
            placeholder(),
            placeholder()
        )),
        Some(CatalogCursor::Popular { .. }) => sql.push_str(&format!(
            " AND (i.registration_count, i.created_at, i.id) < ({}, {}, {})",
            placeholder(),
            placeholder(),
            placeholder()
        )),
        None => {}
    }
    sql.push_str(match query.sort {
        CatalogSort::Created => " ORDER BY i.created_at DESC, i.id DESC",
        CatalogSort::Popular => " ORDER BY i.registration_count DESC, i.created_at DESC, i.id DESC",
    });
    sql.push_str(&format!(" LIMIT {}", placeholder()));
    let mut statement = diesel::sql_query(sql)
        .into_boxed::<Pg>()
        .bind::<Text, _>(query.kind.as_str())
        .bind::<SqlUuid, _>(query.viewer.as_uuid());
    if let Some(words) = words {
        statement = statement.bind::<Text, _>(words);
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
    let rows: Vec<ListedRow> = statement
        .bind::<BigInt, _>(i64::from(query.limit.get()) + 1)
        .load(connection)
        .await
        .map_err(query_error)?;
    all(rows, ListedRow::into_listed)
}

#[cfg(test)]
mod tests {
    use super::tsquery_words;
    use reserva_domain::catalog::SearchText;

    #[test]
    fn only_plain_words_reach_the_tsquery() {
        let words = SearchText::parse("Rust & 'sql' | !async:*")
            .unwrap()
            .words();
        assert_eq!(tsquery_words(&words).as_deref(), Some("rust sql async"));
        let nothing = SearchText::parse("&|!").unwrap().words();
        assert_eq!(tsquery_words(&nothing), None);
    }
}
