//! `CurriculumRepository` on PostgreSQL.

use crate::{PostgresStore, query_error, write_outcome_error};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::sql_types::{Array, BigInt, Bool, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel::{OptionalExtension, QueryableByName};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
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
use reserva_sql_support::commerce::check_linked_courses;
use reserva_sql_support::commerce::{StoredCurriculum, curriculum_course};
use uuid::Uuid;

type WriteTx = TxError<WriteCurriculumError>;

/// The columns of [`CurriculumRow`] (`c` is the curricula table's alias), the course ids in
/// their order included.
const COLUMNS: &str = "c.id, c.name, c.description, c.price, c.category, c.skill_level, \
     c.tutor_id, c.created_at, c.updated_at, c.deleted_at, \
     ARRAY(SELECT cc.course_id FROM curriculum_courses cc \
           WHERE cc.curriculum_id = c.id ORDER BY cc.position) AS course_ids";

#[derive(QueryableByName)]
struct CurriculumRow {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
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
    #[diesel(sql_type = SqlUuid)]
    tutor_id: Uuid,
    #[diesel(sql_type = Timestamptz)]
    created_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    updated_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    deleted_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Array<SqlUuid>)]
    course_ids: Vec<Uuid>,
}

impl CurriculumRow {
    fn into_curriculum(self) -> Result<Curriculum, DependencyError> {
        StoredCurriculum {
            id: self.id,
            name: self.name,
            description: self.description,
            price: self.price,
            category: self.category,
            skill_level: self.skill_level,
            tutor_id: self.tutor_id,
            created_at: self.created_at,
            updated_at: self.updated_at,
            deleted_at: self.deleted_at,
            course_ids: self.course_ids,
        }
        .into_curriculum()
    }
}

/// A curriculum with its courses' current titles and prices, in order.
#[derive(QueryableByName)]
struct DetailRow {
    #[diesel(embed)]
    curriculum: CurriculumRow,
    #[diesel(sql_type = Array<Text>)]
    course_titles: Vec<String>,
    #[diesel(sql_type = Array<BigInt>)]
    course_prices: Vec<i64>,
}

#[derive(QueryableByName)]
struct ForSaleRow {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = BigInt)]
    price: i64,
    #[diesel(sql_type = Bool)]
    deleted: bool,
    #[diesel(sql_type = Array<SqlUuid>)]
    course_ids: Vec<Uuid>,
}

#[derive(QueryableByName)]
struct IdRow {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
}

const fn tutor(scope: ItemScope) -> Option<Uuid> {
    match scope {
        ItemScope::Any => None,
        ItemScope::TutoredBy(tutor) => Some(tutor.as_uuid()),
    }
}

fn uuids(courses: &CourseList) -> Vec<Uuid> {
    courses.ids().iter().map(ItemId::as_uuid).collect()
}

#[derive(QueryableByName)]
struct CourseRow {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    tutor_id: Option<Uuid>,
}

/// Locks the listed courses that exist, are courses and are not deleted (`FOR SHARE`: a
/// concurrent soft delete or change of tutor waits for this transaction), and refuses the write
/// if any is not, or (within a tutor's scope) if any is taught by another tutor.
async fn check_courses(
    connection: &mut AsyncPgConnection,
    scope: ItemScope,
    courses: &CourseList,
) -> Result<(), WriteTx> {
    let found: Vec<CourseRow> = crate::prepared::sql_query(
        "SELECT i.id, i.tutor_id FROM catalog_items i
         WHERE i.id = ANY($1) AND i.kind = 'course' AND i.deleted_at IS NULL
         ORDER BY i.id FOR SHARE",
    )
    .bind::<Array<SqlUuid>, _>(uuids(courses))
    .load(connection)
    .await?;
    let found: Vec<(Uuid, Option<Uuid>)> = found
        .into_iter()
        .map(|row| (row.id, row.tutor_id))
        .collect();
    check_linked_courses(courses, &found, scope).map_err(TxError::Refused)
}

/// Refuses the write unless `tutor` is an active user with the tutor role, and keeps it so
/// until the write commits (`FOR SHARE`: a concurrent demotion or deactivation waits).
async fn check_tutor(connection: &mut AsyncPgConnection, tutor: UserId) -> Result<(), WriteTx> {
    let found: Option<IdRow> = crate::prepared::sql_query(
        "SELECT u.id FROM users u WHERE u.id = $1 AND u.role = 'tutor' AND u.is_active
         FOR SHARE",
    )
    .bind::<SqlUuid, _>(tutor.as_uuid())
    .get_result(connection)
    .await
    .optional()?;
    if found.is_some_and(|row| row.id == tutor.as_uuid()) {
        Ok(())
    } else {
        Err(TxError::Refused(WriteCurriculumError::TutorNotFound))
    }
}

/// Writes the curriculum's courses in their order (after any old ones were removed).
async fn insert_courses(
    connection: &mut AsyncPgConnection,
    id: CurriculumId,
    courses: &CourseList,
) -> Result<(), WriteTx> {
    crate::prepared::sql_query(
        "INSERT INTO curriculum_courses (curriculum_id, course_id, position)
         SELECT $1, listed.id, (listed.ordinal - 1)::integer
         FROM unnest($2::uuid[]) WITH ORDINALITY AS listed (id, ordinal)",
    )
    .bind::<SqlUuid, _>(id.as_uuid())
    .bind::<Array<SqlUuid>, _>(uuids(courses))
    .execute(connection)
    .await?;
    Ok(())
}

/// The curriculum as stored, deleted or not.
async fn stored(
    connection: &mut AsyncPgConnection,
    id: CurriculumId,
) -> Result<Curriculum, WriteTx> {
    let row: CurriculumRow =
        crate::prepared::sql_query(format!("SELECT {COLUMNS} FROM curricula c WHERE c.id = $1"))
            .bind::<SqlUuid, _>(id.as_uuid())
            .get_result(connection)
            .await?;
    Ok(row.into_curriculum()?)
}

async fn create_in(
    connection: &mut AsyncPgConnection,
    scope: ItemScope,
    new: &NewCurriculum,
) -> Result<Curriculum, WriteTx> {
    check_tutor(connection, new.tutor_id).await?;
    check_courses(connection, scope, &new.courses).await?;
    crate::prepared::sql_query(
        "INSERT INTO curricula (id, name, description, price, category, skill_level, tutor_id,
                                created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
    )
    .bind::<SqlUuid, _>(new.id.as_uuid())
    .bind::<Text, _>(new.name.as_str())
    .bind::<Nullable<Text>, _>(new.description.as_ref().map(|d| d.as_str()))
    .bind::<BigInt, _>(new.price.get())
    .bind::<Text, _>(new.category.as_str())
    .bind::<Text, _>(new.skill_level.as_str())
    .bind::<SqlUuid, _>(new.tutor_id.as_uuid())
    .bind::<Timestamptz, _>(new.now)
    .execute(connection)
    .await?;
    insert_courses(connection, new.id, &new.courses).await?;
    stored(connection, new.id).await
}

async fn update_in(
    connection: &mut AsyncPgConnection,
    id: CurriculumId,
    scope: ItemScope,
    update: &CurriculumUpdate,
) -> Result<Curriculum, WriteTx> {
    if let Some(tutor_id) = update.tutor_id {
        check_tutor(connection, tutor_id).await?;
    }
    // Only the fields given: the others keep the row's value as it is now (a concurrent edit
    // of another field, committed first, is kept).
    let updated: Option<IdRow> = crate::prepared::sql_query(
        "UPDATE curricula c
         SET name = coalesce($3, c.name),
             description = CASE WHEN $4 THEN $5 ELSE c.description END,
             price = coalesce($6, c.price),
             category = coalesce($7, c.category),
             skill_level = coalesce($8, c.skill_level),
             tutor_id = coalesce($9, c.tutor_id),
             updated_at = $10
         WHERE c.id = $1 AND c.deleted_at IS NULL AND ($2::uuid IS NULL OR c.tutor_id = $2)
         RETURNING c.id",
    )
    .bind::<SqlUuid, _>(id.as_uuid())
    .bind::<Nullable<SqlUuid>, _>(tutor(scope))
    .bind::<Nullable<Text>, _>(update.name.as_ref().map(CurriculumName::as_str))
    .bind::<Bool, _>(update.description.is_some())
    .bind::<Nullable<Text>, _>(
        update
            .description
            .as_ref()
            .and_then(|d| d.as_ref().map(|d| d.as_str())),
    )
    .bind::<Nullable<BigInt>, _>(update.price.map(|price| price.get()))
    .bind::<Nullable<Text>, _>(update.category.map(|category| category.as_str()))
    .bind::<Nullable<Text>, _>(update.skill_level.map(|level| level.as_str()))
    .bind::<Nullable<SqlUuid>, _>(update.tutor_id.map(|tutor| tutor.as_uuid()))
    .bind::<Timestamptz, _>(update.now)
    .get_result(connection)
    .await
    .optional()?;
    if updated.is_none() {
        return Err(TxError::Refused(WriteCurriculumError::NotFound));
    }
    if let Some(courses) = &update.courses {
        check_courses(connection, scope, courses).await?;
        crate::prepared::sql_query("DELETE FROM curriculum_courses WHERE curriculum_id = $1")
            .bind::<SqlUuid, _>(id.as_uuid())
            .execute(connection)
            .await?;
        insert_courses(connection, id, courses).await?;
    }
    stored(connection, id).await
}

fn write_refusal(error: WriteTx) -> WriteCurriculumError {
    error.into_refusal(|error| WriteCurriculumError::Dependency(write_outcome_error(error)))
}

/// The page's SQL and the values of its filters, in placeholder order.
struct Filters {
    sql: String,
    next: usize,
}

impl Filters {
    fn placeholder(&mut self) -> String {
        let current = self.next;
        self.next += 1;
        format!("${current}")
    }

    fn and(&mut self, condition: impl FnOnce(&str) -> String) {
        let placeholder = self.placeholder();
        self.sql.push_str(" AND ");
        self.sql.push_str(&condition(&placeholder));
    }
}

async fn list(
    connection: &mut AsyncPgConnection,
    query: &CurriculumQuery,
) -> Result<Vec<Curriculum>, DependencyError> {
    let words = match &query.search {
        Some(search) => match crate::catalog::tsquery_words(&search.words()) {
            Some(words) => Some(words),
            // Only punctuation: no word to find.
            None => return Ok(Vec::new()),
        },
        None => None,
    };
    let mut filters = Filters {
        sql: String::from("c.deleted_at IS NULL"),
        next: 1,
    };
    if words.is_some() {
        filters.and(|p| format!("c.search_vector @@ plainto_tsquery('simple', {p})"));
    }
    if query.category.is_some() {
        filters.and(|p| format!("c.category = {p}"));
    }
    if query.skill_level.is_some() {
        filters.and(|p| format!("c.skill_level = {p}"));
    }
    if query.price.min().is_some() {
        filters.and(|p| format!("c.price >= {p}"));
    }
    if query.price.max().is_some() {
        filters.and(|p| format!("c.price <= {p}"));
    }
    if query.after.is_some() {
        let (at, id) = (filters.placeholder(), filters.placeholder());
        filters
            .sql
            .push_str(&format!(" AND (c.created_at, c.id) < ({at}, {id})"));
    }
    // A literal LIMIT (the page and one more), so the plan knows it.
    let limit = u32::from(query.limit.get()) + 1;
    let mut statement = crate::prepared::sql_query(format!(
        "SELECT {COLUMNS} FROM curricula c WHERE {} \
         ORDER BY c.created_at DESC, c.id DESC LIMIT {limit}",
        filters.sql
    ));
    if let Some(words) = words {
        statement = statement.bind::<Text, _>(words);
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
            .bind::<Timestamptz, _>(after.created_at)
            .bind::<SqlUuid, _>(after.id.as_uuid());
    }
    let rows: Vec<CurriculumRow> = statement.load(connection).await.map_err(query_error)?;
    rows.into_iter()
        .map(CurriculumRow::into_curriculum)
        .collect()
}

#[async_trait]
impl CurriculumRepository for PostgresStore {
    async fn create_curriculum(
        &self,
        scope: ItemScope,
        curriculum: NewCurriculum,
    ) -> Result<Curriculum, WriteCurriculumError> {
        let mut connection = self.connection().await?;
        connection
            .transaction(async |connection| create_in(connection, scope, &curriculum).await)
            .await
            .map_err(write_refusal)
    }

    async fn curriculum(
        &self,
        id: CurriculumId,
    ) -> Result<Option<CurriculumDetail>, DependencyError> {
        let mut connection = self.connection().await?;
        let row: Option<DetailRow> = crate::prepared::sql_query(format!(
            "SELECT {COLUMNS},
                    ARRAY(SELECT i.title FROM curriculum_courses cc
                          JOIN catalog_items i ON i.id = cc.course_id
                          WHERE cc.curriculum_id = c.id ORDER BY cc.position) AS course_titles,
                    ARRAY(SELECT i.price FROM curriculum_courses cc
                          JOIN catalog_items i ON i.id = cc.course_id
                          WHERE cc.curriculum_id = c.id ORDER BY cc.position) AS course_prices
             FROM curricula c WHERE c.id = $1 AND c.deleted_at IS NULL"
        ))
        .bind::<SqlUuid, _>(id.as_uuid())
        .get_result(&mut connection)
        .await
        .optional()
        .map_err(query_error)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let ids = row.curriculum.course_ids.clone();
        if ids.len() != row.course_titles.len() || ids.len() != row.course_prices.len() {
            return Err(DependencyError::Failed(
                "curriculum courses changed within one statement".into(),
            ));
        }
        let courses = ids
            .into_iter()
            .zip(row.course_titles)
            .zip(row.course_prices)
            .map(|((id, title), price)| curriculum_course(id, title, price))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(CurriculumDetail {
            curriculum: row.curriculum.into_curriculum()?,
            courses,
        }))
    }

    async fn update_curriculum(
        &self,
        id: CurriculumId,
        scope: ItemScope,
        update: CurriculumUpdate,
    ) -> Result<Curriculum, WriteCurriculumError> {
        let mut connection = self.connection().await?;
        connection
            .transaction(async |connection| update_in(connection, id, scope, &update).await)
            .await
            .map_err(write_refusal)
    }

    async fn delete_curriculum(
        &self,
        id: CurriculumId,
        scope: ItemScope,
        now: DateTime<Utc>,
    ) -> Result<bool, DependencyError> {
        let mut connection = self.connection().await?;
        let deleted = crate::prepared::sql_query(
            "UPDATE curricula SET deleted_at = $3, updated_at = $3
             WHERE id = $1 AND deleted_at IS NULL AND ($2::uuid IS NULL OR tutor_id = $2)",
        )
        .bind::<SqlUuid, _>(id.as_uuid())
        .bind::<Nullable<SqlUuid>, _>(tutor(scope))
        .bind::<Timestamptz, _>(now)
        .execute(&mut connection)
        .await
        .map_err(write_outcome_error)?;
        Ok(deleted > 0)
    }

    async fn list_curricula(
        &self,
        query: CurriculumQuery,
    ) -> Result<Vec<Curriculum>, DependencyError> {
        let mut connection = self.connection().await?;
        list(&mut connection, &query).await
    }

    async fn curriculum_for_sale(
        &self,
        id: CurriculumId,
    ) -> Result<Option<CurriculumForSale>, DependencyError> {
        let mut connection = self.connection().await?;
        let row: Option<ForSaleRow> = crate::prepared::sql_query(
            "SELECT c.name, c.price, c.deleted_at IS NOT NULL AS deleted,
                    ARRAY(SELECT cc.course_id FROM curriculum_courses cc
                          WHERE cc.curriculum_id = c.id ORDER BY cc.position) AS course_ids
             FROM curricula c WHERE c.id = $1",
        )
        .bind::<SqlUuid, _>(id.as_uuid())
        .get_result(&mut connection)
        .await
        .optional()
        .map_err(query_error)?;
        row.map(|row| {
            Ok(CurriculumForSale {
                name: CurriculumName::from_stored(row.name),
                price: price(row.price).map_err(|_| {
                    DependencyError::Failed("stored curriculum price is corrupt".into())
                })?,
                course_ids: row.course_ids.into_iter().map(ItemId::from_uuid).collect(),
                deleted: row.deleted,
            })
        })
        .transpose()
    }
}
