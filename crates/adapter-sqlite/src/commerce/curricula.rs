//! `CurriculumRepository` on SQLite.

use super::stored_uuid;
use crate::catalog::match_query;
use crate::{SqliteStore, instant, micros, query_error, uuid};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Nullable, Text};
use diesel::sqlite::Sqlite;
use reserva_application::DependencyError;
use reserva_application::ports::catalog::ItemScope;
use reserva_application::ports::commerce::{
    CurriculumDetail, CurriculumForSale, CurriculumQuery, CurriculumRepository, CurriculumUpdate,
    NewCurriculum, WriteCurriculumError,
};
use reserva_domain::accounts::UserId;
use reserva_domain::catalog::{ItemId, price};
use reserva_domain::commerce::{CourseList, Curriculum, CurriculumId, CurriculumName};
use reserva_sql_support::TxError;
use reserva_sql_support::commerce::{StoredCurriculum, check_linked_courses, curriculum_course};

type WriteTx = TxError<WriteCurriculumError>;

/// The columns of [`CurriculumRow`] (`c` is the curricula table's alias), the course ids in
/// their order included (comma-separated: ids hold no comma).
const COLUMNS: &str = "c.id, c.name, c.description, c.price, c.category, c.skill_level, \
     c.tutor_id, c.created_at, c.updated_at, c.deleted_at, \
     (SELECT group_concat(cc.course_id, ',' ORDER BY cc.position) FROM curriculum_courses cc \
      WHERE cc.curriculum_id = c.id) AS course_ids";

#[derive(QueryableByName)]
struct CurriculumRow {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Nullable<Text>)]
    description: Option<String>,
    #[diesel(sql_type = BigInt)]
    price: i64,
    #[diesel(sql_type = Text)]
    category: String,
    #[diesel(sql_type = Text)]
    skill_level: String,
    #[diesel(sql_type = Text)]
    tutor_id: String,
    #[diesel(sql_type = BigInt)]
    created_at: i64,
    #[diesel(sql_type = BigInt)]
    updated_at: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    deleted_at: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    course_ids: Option<String>,
}

/// The ids of a comma-separated list.
fn ids(list: Option<&str>) -> Result<Vec<uuid::Uuid>, DependencyError> {
    list.map_or_else(
        || Ok(Vec::new()),
        |text| text.split(',').map(uuid).collect(),
    )
}

impl CurriculumRow {
    fn into_curriculum(self) -> Result<Curriculum, DependencyError> {
        StoredCurriculum {
            id: uuid(&self.id)?,
            name: self.name,
            description: self.description,
            price: self.price,
            category: self.category,
            skill_level: self.skill_level,
            tutor_id: uuid(&self.tutor_id)?,
            created_at: instant(self.created_at)?,
            updated_at: instant(self.updated_at)?,
            deleted_at: self.deleted_at.map(instant).transpose()?,
            course_ids: ids(self.course_ids.as_deref())?,
        }
        .into_curriculum()
    }
}

#[derive(QueryableByName)]
struct CourseRow {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Text)]
    title: String,
    #[diesel(sql_type = BigInt)]
    price: i64,
}

#[derive(QueryableByName)]
struct ForSaleRow {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = BigInt)]
    price: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    deleted_at: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    course_ids: Option<String>,
}

#[derive(QueryableByName)]
struct IdRow {
    #[diesel(sql_type = Text)]
    id: String,
}

fn tutor(scope: ItemScope) -> Option<String> {
    match scope {
        ItemScope::Any => None,
        ItemScope::TutoredBy(tutor) => Some(tutor.as_uuid().to_string()),
    }
}

#[derive(QueryableByName)]
struct CourseTutorRow {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Nullable<Text>)]
    tutor_id: Option<String>,
}

/// Refuses the write unless every listed course exists, is a course and is not deleted, and
/// (within a tutor's scope) is taught by that tutor (inside the write's `BEGIN IMMEDIATE`: no
/// delete or change of tutor can come between).
fn check_courses(
    connection: &mut SqliteConnection,
    scope: ItemScope,
    courses: &CourseList,
) -> Result<(), WriteTx> {
    let marks = vec!["?"; courses.ids().len()].join(", ");
    let mut statement = diesel::sql_query(format!(
        "SELECT id, tutor_id FROM catalog_items \
         WHERE kind = 'course' AND deleted_at IS NULL AND id IN ({marks})"
    ))
    .into_boxed::<Sqlite>();
    for id in courses.ids() {
        statement = statement.bind::<Text, _>(id.as_uuid().to_string());
    }
    let found: Vec<CourseTutorRow> = statement.load(connection)?;
    let found = found
        .iter()
        .map(|row| {
            Ok((
                stored_uuid(&row.id)?,
                row.tutor_id.as_deref().map(stored_uuid).transpose()?,
            ))
        })
        .collect::<Result<Vec<_>, diesel::result::Error>>()?;
    check_linked_courses(courses, &found, scope).map_err(TxError::Refused)
}

/// Refuses the write unless `tutor` is an active user with the tutor role (inside the write's
/// `BEGIN IMMEDIATE`: no demotion can come between).
fn check_tutor(connection: &mut SqliteConnection, tutor: UserId) -> Result<(), WriteTx> {
    let found: Option<IdRow> =
        diesel::sql_query("SELECT id FROM users WHERE id = ? AND role = 'tutor' AND is_active")
            .bind::<Text, _>(tutor.as_uuid().to_string())
            .get_result(connection)
            .optional()?;
    if found.is_some_and(|row| row.id == tutor.as_uuid().to_string()) {
        Ok(())
    } else {
        Err(TxError::Refused(WriteCurriculumError::TutorNotFound))
    }
}

fn insert_courses(
    connection: &mut SqliteConnection,
    id: CurriculumId,
    courses: &CourseList,
) -> Result<(), WriteTx> {
    for (position, course) in courses.ids().iter().enumerate() {
        diesel::sql_query(
            "INSERT INTO curriculum_courses (curriculum_id, course_id, position) VALUES (?, ?, ?)",
        )
        .bind::<Text, _>(id.as_uuid().to_string())
        .bind::<Text, _>(course.as_uuid().to_string())
        .bind::<BigInt, _>(i64::try_from(position).unwrap_or(i64::MAX))
        .execute(connection)?;
    }
    Ok(())
}

fn stored_row(
    connection: &mut SqliteConnection,
    id: CurriculumId,
    live_only: bool,
) -> QueryResult<Option<CurriculumRow>> {
    let live = if live_only {
        " AND c.deleted_at IS NULL"
    } else {
        ""
    };
    diesel::sql_query(format!(
        "SELECT {COLUMNS} FROM curricula c WHERE c.id = ?{live}"
    ))
    .bind::<Text, _>(id.as_uuid().to_string())
    .get_result(connection)
    .optional()
}

fn stored(connection: &mut SqliteConnection, id: CurriculumId) -> Result<Curriculum, WriteTx> {
    let row = stored_row(connection, id, false)?
        .ok_or_else(|| DependencyError::Failed("a written curriculum is gone".into()))?;
    Ok(row.into_curriculum()?)
}

fn create(
    connection: &mut SqliteConnection,
    scope: ItemScope,
    new: &NewCurriculum,
) -> Result<Curriculum, WriteTx> {
    check_tutor(connection, new.tutor_id)?;
    check_courses(connection, scope, &new.courses)?;
    let now = micros(new.now);
    diesel::sql_query(
        "INSERT INTO curricula (id, name, description, price, category, skill_level, tutor_id, \
                                created_at, updated_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind::<Text, _>(new.id.as_uuid().to_string())
    .bind::<Text, _>(new.name.as_str())
    .bind::<Nullable<Text>, _>(new.description.as_ref().map(|d| d.as_str()))
    .bind::<BigInt, _>(new.price.get())
    .bind::<Text, _>(new.category.as_str())
    .bind::<Text, _>(new.skill_level.as_str())
    .bind::<Text, _>(new.tutor_id.as_uuid().to_string())
    .bind::<BigInt, _>(now)
    .bind::<BigInt, _>(now)
    .execute(connection)?;
    insert_courses(connection, new.id, &new.courses)?;
    stored(connection, new.id)
}

fn update(
    connection: &mut SqliteConnection,
    id: CurriculumId,
    scope: ItemScope,
    update: &CurriculumUpdate,
) -> Result<Curriculum, WriteTx> {
    if let Some(tutor_id) = update.tutor_id {
        check_tutor(connection, tutor_id)?;
    }
    // Only the fields given: the others keep the row's value (the write holds the database's
    // write lock, so no other edit comes between).
    let updated = diesel::sql_query(
        "UPDATE curricula SET name = coalesce(?, name), \
                              description = CASE WHEN ? THEN ? ELSE description END, \
                              price = coalesce(?, price), category = coalesce(?, category), \
                              skill_level = coalesce(?, skill_level), \
                              tutor_id = coalesce(?, tutor_id), updated_at = ? \
         WHERE id = ? AND deleted_at IS NULL AND (? IS NULL OR tutor_id = ?)",
    )
    .bind::<Nullable<Text>, _>(update.name.as_ref().map(CurriculumName::as_str))
    .bind::<Bool, _>(update.description.is_some())
    .bind::<Nullable<Text>, _>(
        update
            .description
            .as_ref()
            .and_then(|description| description.as_ref().map(|d| d.as_str())),
    )
    .bind::<Nullable<BigInt>, _>(update.price.map(|price| price.get()))
    .bind::<Nullable<Text>, _>(update.category.map(|category| category.as_str()))
    .bind::<Nullable<Text>, _>(update.skill_level.map(|level| level.as_str()))
    .bind::<Nullable<Text>, _>(update.tutor_id.map(|tutor| tutor.as_uuid().to_string()))
    .bind::<BigInt, _>(micros(update.now))
    .bind::<Text, _>(id.as_uuid().to_string())
    .bind::<Nullable<Text>, _>(tutor(scope))
    .bind::<Nullable<Text>, _>(tutor(scope))
    .execute(connection)?;
    if updated == 0 {
        return Err(TxError::Refused(WriteCurriculumError::NotFound));
    }
    if let Some(courses) = &update.courses {
        check_courses(connection, scope, courses)?;
        diesel::sql_query("DELETE FROM curriculum_courses WHERE curriculum_id = ?")
            .bind::<Text, _>(id.as_uuid().to_string())
            .execute(connection)?;
        insert_courses(connection, id, courses)?;
    }
    stored(connection, id)
}

fn delete(
    connection: &mut SqliteConnection,
    id: CurriculumId,
    scope: ItemScope,
    now: i64,
) -> QueryResult<bool> {
    let deleted = diesel::sql_query(
        "UPDATE curricula SET deleted_at = ?, updated_at = ? \
         WHERE id = ? AND deleted_at IS NULL AND (? IS NULL OR tutor_id = ?)",
    )
    .bind::<BigInt, _>(now)
    .bind::<BigInt, _>(now)
    .bind::<Text, _>(id.as_uuid().to_string())
    .bind::<Nullable<Text>, _>(tutor(scope))
    .bind::<Nullable<Text>, _>(tutor(scope))
    .execute(connection)?;
    Ok(deleted > 0)
}

fn detail(
    connection: &mut SqliteConnection,
    id: CurriculumId,
) -> QueryResult<Option<(CurriculumRow, Vec<CourseRow>)>> {
    let Some(row) = stored_row(connection, id, true)? else {
        return Ok(None);
    };
    let courses = diesel::sql_query(
        "SELECT i.id, i.title, i.price FROM curriculum_courses cc \
         JOIN catalog_items i ON i.id = cc.course_id \
         WHERE cc.curriculum_id = ? ORDER BY cc.position",
    )
    .bind::<Text, _>(id.as_uuid().to_string())
    .load(connection)?;
    Ok(Some((row, courses)))
}

/// A page of curricula; `None` search words (only punctuation) were answered before.
fn list(
    connection: &mut SqliteConnection,
    query: &CurriculumQuery,
    matching: Option<&str>,
) -> QueryResult<Vec<CurriculumRow>> {
    let mut sql = format!("SELECT {COLUMNS} FROM curricula c WHERE c.deleted_at IS NULL");
    if matching.is_some() {
        sql.push_str(
            " AND c.seq IN (SELECT rowid FROM curricula_search WHERE curricula_search MATCH ?)",
        );
    }
    if query.category.is_some() {
        sql.push_str(" AND c.category = ?");
    }
    if query.skill_level.is_some() {
        sql.push_str(" AND c.skill_level = ?");
    }
    if query.price.min().is_some() {
        sql.push_str(" AND c.price >= ?");
    }
    if query.price.max().is_some() {
        sql.push_str(" AND c.price <= ?");
    }
    if query.after.is_some() {
        // Row values: a range seek in the list's index.
        sql.push_str(" AND (c.created_at, c.id) < (?, ?)");
    }
    sql.push_str(" ORDER BY c.created_at DESC, c.id DESC LIMIT ?");
    let mut statement = diesel::sql_query(sql).into_boxed::<Sqlite>();
    if let Some(matching) = matching {
        statement = statement.bind::<Text, _>(matching.to_owned());
    }
    if let Some(category) = query.category {
        statement = statement.bind::<Text, _>(category.as_str());
    }
    if let Some(level) = query.skill_level {
        statement = statement.bind::<Text, _>(level.as_str());
    }
    if let Some(min) = query.price.min() {
        statement = statement.bind::<BigInt, _>(min.get());
    }
    if let Some(max) = query.price.max() {
        statement = statement.bind::<BigInt, _>(max.get());
    }
    if let Some(after) = query.after {
        statement = statement
            .bind::<BigInt, _>(micros(after.created_at))
            .bind::<Text, _>(after.id.as_uuid().to_string());
    }
    statement
        .bind::<BigInt, _>(i64::from(query.limit.get()) + 1)
        .load(connection)
}

fn write_refusal(error: WriteTx) -> WriteCurriculumError {
    error.into_refusal(|error| WriteCurriculumError::Dependency(query_error(error)))
}

#[async_trait]
impl CurriculumRepository for SqliteStore {
    async fn create_curriculum(
        &self,
        scope: ItemScope,
        curriculum: NewCurriculum,
    ) -> Result<Curriculum, WriteCurriculumError> {
        self.write(move |connection| create(connection, scope, &curriculum))
            .await
            .map_err(write_refusal)
    }

    async fn curriculum(
        &self,
        id: CurriculumId,
    ) -> Result<Option<CurriculumDetail>, DependencyError> {
        let found = self
            .snapshot(move |connection| detail(connection, id))
            .await?;
        let Some((row, courses)) = found else {
            return Ok(None);
        };
        let courses = courses
            .into_iter()
            .map(|course| curriculum_course(uuid(&course.id)?, course.title, course.price))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(CurriculumDetail {
            curriculum: row.into_curriculum()?,
            courses,
        }))
    }

    async fn update_curriculum(
        &self,
        id: CurriculumId,
        scope: ItemScope,
        changes: CurriculumUpdate,
    ) -> Result<Curriculum, WriteCurriculumError> {
        self.write(move |connection| update(connection, id, scope, &changes))
            .await
            .map_err(write_refusal)
    }

    async fn delete_curriculum(
        &self,
        id: CurriculumId,
        scope: ItemScope,
        now: DateTime<Utc>,
    ) -> Result<bool, DependencyError> {
        self.write(move |connection| {
            delete(connection, id, scope, micros(now)).map_err(TxError::<DependencyError>::Query)
        })
        .await
        .map_err(|error: TxError<DependencyError>| error.into_refusal(query_error))
    }

    async fn list_curricula(
        &self,
        query: CurriculumQuery,
    ) -> Result<Vec<Curriculum>, DependencyError> {
        let matching = match &query.search {
            Some(search) => match match_query(search) {
                Some(matching) => Some(matching),
                // Only punctuation: no word to find.
                None => return Ok(Vec::new()),
            },
            None => None,
        };
        let rows = self
            .read(move |connection| list(connection, &query, matching.as_deref()))
            .await?;
        rows.into_iter()
            .map(CurriculumRow::into_curriculum)
            .collect()
    }

    async fn curriculum_for_sale(
        &self,
        id: CurriculumId,
    ) -> Result<Option<CurriculumForSale>, DependencyError> {
        let row: Option<ForSaleRow> = self
            .read(move |connection| {
                diesel::sql_query(
                    "SELECT c.name, c.price, c.deleted_at, \
                     (SELECT group_concat(cc.course_id, ',' ORDER BY cc.position) \
                      FROM curriculum_courses cc WHERE cc.curriculum_id = c.id) AS course_ids \
                     FROM curricula c WHERE c.id = ?",
                )
                .bind::<Text, _>(id.as_uuid().to_string())
                .get_result(connection)
                .optional()
            })
            .await?;
        row.map(|row| {
            Ok(CurriculumForSale {
                name: CurriculumName::from_stored(row.name),
                price: price(row.price).map_err(|_| {
                    DependencyError::Failed("stored curriculum price is corrupt".into())
                })?,
                course_ids: ids(row.course_ids.as_deref())?
                    .into_iter()
                    .map(ItemId::from_uuid)
                    .collect(),
                deleted: row.deleted_at.is_some(),
            })
        })
        .transpose()
    }
}
