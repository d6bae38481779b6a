//! Bulk loading for `reserva seed catalog`: multi-row inserts over arrays (`unnest`), a few
//! thousand rows per statement, into an empty catalog without its secondary indexes (built once
//! after the load, see [`CatalogSeeder::defer_item_indexes`]), and one recount at the end. Seeded payments are rows only: they
//! post no ledger transfers (a million provider → revenue transfers would prove nothing about
//! the lists the seed is for).

use crate::{PostgresStore, write_outcome_error};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::result::Error as QueryError;
use diesel::sql_types::{Array, BigInt, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, RunQueryDsl, SimpleAsyncConnection};
use futures_util::{StreamExt, TryStreamExt, stream};
use reserva_application::DependencyError;
use reserva_application::ports::catalog::{CatalogSeeder, NewItem, SeedRegistration, SeedUser};
use reserva_domain::catalog::RegistrationStatus;
use std::future::Future;
use uuid::Uuid;

/// Rows per statement: large enough that round trips do not count, small enough that one
/// statement's arrays stay a few megabytes.
const CHUNK: usize = 5_000;

const INSERT_ITEMS: &str = "\
INSERT INTO catalog_items (id, kind, title, description, price, starts_at, ends_at, category,
                           skill_level, tutor_id, created_at, updated_at)
SELECT id, kind, title, description, price, starts_at, ends_at, category, skill_level, tutor_id,
       created_at, created_at
FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::timestamptz[],
            $7::timestamptz[], $8::text[], $9::text[], $10::uuid[], $11::timestamptz[])
    AS row (id, kind, title, description, price, starts_at, ends_at, category, skill_level,
            tutor_id, created_at)";

const INSERT_USERS: &str = "\
INSERT INTO users (id, email, username, password_hash, role, is_active, created_at, updated_at)
SELECT id, email, username, $4, 'member', true, created_at, created_at
FROM unnest($1::uuid[], $2::text[], $3::text[], $5::timestamptz[])
    AS row (id, email, username, created_at)";

/// The payments and their registrations, in one statement.
const INSERT_REGISTRATIONS: &str = "\
WITH rows AS (
    SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::uuid[], $6::text[],
                         $7::bigint[], $8::timestamptz[], $9::text[])
        AS row (payment_id, registration_id, user_id, kind, item_id, item_title, amount, paid_at,
                status)
), payments AS (
    INSERT INTO catalog_payments (id, user_id, kind, item_id, item_title, amount, method, status,
                                  provider_reference, created_at, paid_at)
    SELECT payment_id, user_id, kind, item_id, item_title, amount, 'card', 'paid', 'seed',
           paid_at, paid_at
    FROM rows
)
INSERT INTO catalog_registrations (id, payment_id, user_id, kind, item_id, status, registered_at)
SELECT registration_id, payment_id, user_id, kind, item_id, status, paid_at FROM rows";

/// Every count from the live registrations, in one statement (only rows that change are
/// written).
/// Counted from the registrations (a few rows) rather than by grouping every item: the items
/// that have live registrations get their number, and those counted but with none left (found
/// through the popular list's index) go back to zero.
const RECOUNT: &str = "\
WITH counted AS (
    SELECT item_id, count(*) AS n FROM catalog_registrations
    WHERE status <> 'cancelled' GROUP BY item_id
), set_counts AS (
    UPDATE catalog_items i SET registration_count = counted.n
    FROM counted WHERE counted.item_id = i.id AND i.registration_count <> counted.n
)
UPDATE catalog_items i SET registration_count = 0
WHERE i.registration_count > 0
  AND NOT EXISTS (SELECT 1 FROM counted WHERE counted.item_id = i.id)";

/// Runs the statement `$query` (over `$connection`) in a transaction of `$store`'s without the
/// statement timeout (a bulk statement may take longer than a request's); its rows written.
macro_rules! bulk {
    ($store:expr, |$connection:ident| $query:expr) => {{
        let mut connection = $store.connection().await?;
        connection
            .transaction(async |$connection| {
                $connection
                    .batch_execute("SET LOCAL statement_timeout = 0")
                    .await?;
                $query.execute($connection).await
            })
            .await
            .map_err(write_outcome_error)?
    }};
}

const fn written(rows: usize) -> u64 {
    rows as u64
}

/// How many chunks of one batch are written at once, each on its own connection: PostgreSQL
/// spends most of a bulk insert computing the search vectors and index entries, which several
/// backends do in parallel.
const PARALLEL: usize = 4;

/// Runs the chunks' writes, [`PARALLEL`] at a time; the rows written.
async fn run_all<Write>(writes: Vec<Write>) -> Result<u64, DependencyError>
where
    Write: Future<Output = Result<usize, DependencyError>>,
{
    let written_rows: Vec<usize> = stream::iter(writes)
        .buffer_unordered(PARALLEL)
        .try_collect()
        .await?;
    Ok(written_rows.into_iter().map(written).sum())
}

async fn insert_item_chunk(
    store: &PostgresStore,
    chunk: &[NewItem],
) -> Result<usize, DependencyError> {
    let course = |get: fn(&NewItem) -> Option<&'static str>| -> Vec<Option<&'static str>> {
        chunk.iter().map(get).collect()
    };
    let ids: Vec<Uuid> = chunk.iter().map(|item| item.id.as_uuid()).collect();
    let kinds: Vec<&str> = chunk.iter().map(|item| item.kind.as_str()).collect();
    let titles: Vec<&str> = chunk.iter().map(|item| item.title.as_str()).collect();
    let descriptions: Vec<Option<&str>> = chunk
        .iter()
        .map(|item| item.description.as_ref().map(|d| d.as_str()))
        .collect();
    let prices: Vec<i64> = chunk.iter().map(|item| item.price.get()).collect();
    let starts: Vec<DateTime<Utc>> = chunk.iter().map(|item| item.schedule.starts_at()).collect();
    let ends: Vec<DateTime<Utc>> = chunk.iter().map(|item| item.schedule.ends_at()).collect();
    let categories = course(|item| item.course.map(|c| c.category.as_str()));
    let levels = course(|item| item.course.map(|c| c.skill_level.as_str()));
    let tutors: Vec<Option<Uuid>> = chunk
        .iter()
        .map(|item| item.course.map(|c| c.tutor_id.as_uuid()))
        .collect();
    let created: Vec<DateTime<Utc>> = chunk.iter().map(|item| item.now).collect();
    Ok(bulk!(store, |connection| (diesel::sql_query(INSERT_ITEMS)
        .bind::<Array<SqlUuid>, _>(&ids)
        .bind::<Array<Text>, _>(&kinds)
        .bind::<Array<Text>, _>(&titles)
        .bind::<Array<Nullable<Text>>, _>(&descriptions)
        .bind::<Array<BigInt>, _>(&prices)
        .bind::<Array<Timestamptz>, _>(&starts)
        .bind::<Array<Timestamptz>, _>(&ends)
        .bind::<Array<Nullable<Text>>, _>(&categories)
        .bind::<Array<Nullable<Text>>, _>(&levels)
        .bind::<Array<Nullable<SqlUuid>>, _>(&tutors)
        .bind::<Array<Timestamptz>, _>(&created))))
}

async fn insert_user_chunk(
    store: &PostgresStore,
    chunk: &[SeedUser],
) -> Result<usize, DependencyError> {
    let Some(first) = chunk.first() else {
        return Ok(0);
    };
    if chunk
        .iter()
        .any(|user| user.password_hash != first.password_hash)
    {
        return Err(DependencyError::Failed(
            "seed users of one batch must share their password hash".into(),
        ));
    }
    let ids: Vec<Uuid> = chunk.iter().map(|user| user.id.as_uuid()).collect();
    let emails: Vec<&str> = chunk.iter().map(|user| user.email.as_str()).collect();
    let names: Vec<&str> = chunk.iter().map(|user| user.username.as_str()).collect();
    let created: Vec<DateTime<Utc>> = chunk.iter().map(|user| user.now).collect();
    let hash = first.password_hash.as_str();
    Ok(bulk!(store, |connection| (diesel::sql_query(INSERT_USERS)
        .bind::<Array<SqlUuid>, _>(&ids)
        .bind::<Array<Text>, _>(&emails)
        .bind::<Array<Text>, _>(&names)
        .bind::<Text, _>(hash)
        .bind::<Array<Timestamptz>, _>(&created))))
}

async fn insert_registration_chunk(
    store: &PostgresStore,
    chunk: &[SeedRegistration],
) -> Result<usize, DependencyError> {
    let payments: Vec<Uuid> = chunk.iter().map(|r| r.payment_id.as_uuid()).collect();
    let ids: Vec<Uuid> = chunk.iter().map(|r| r.registration_id.as_uuid()).collect();
    let users: Vec<Uuid> = chunk.iter().map(|r| r.user_id.as_uuid()).collect();
    let kinds: Vec<&str> = chunk.iter().map(|r| r.kind.as_str()).collect();
    let items: Vec<Uuid> = chunk.iter().map(|r| r.item_id.as_uuid()).collect();
    let titles: Vec<&str> = chunk.iter().map(|r| r.item_title.as_str()).collect();
    let amounts: Vec<i64> = chunk.iter().map(|r| r.amount.get()).collect();
    let paid: Vec<DateTime<Utc>> = chunk.iter().map(|r| r.paid_at).collect();
    let statuses: Vec<&str> = chunk
        .iter()
        .map(|r| RegistrationStatus::initial(r.kind).as_str())
        .collect();
    Ok(bulk!(store, |connection| (diesel::sql_query(
        INSERT_REGISTRATIONS
    )
    .bind::<Array<SqlUuid>, _>(&payments)
    .bind::<Array<SqlUuid>, _>(&ids)
    .bind::<Array<SqlUuid>, _>(&users)
    .bind::<Array<Text>, _>(&kinds)
    .bind::<Array<SqlUuid>, _>(&items)
    .bind::<Array<Text>, _>(&titles)
    .bind::<Array<BigInt>, _>(&amounts)
    .bind::<Array<Timestamptz>, _>(&paid)
    .bind::<Array<Text>, _>(&statuses))))
}

#[derive(diesel::QueryableByName)]
struct Filled {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    filled: bool,
}

#[derive(diesel::QueryableByName)]
struct Deferred {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(diesel::QueryableByName)]
struct Definition {
    #[diesel(sql_type = Text)]
    definition: String,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    present: bool,
}

/// Records the secondary indexes of catalog_items (the lists' and the search's: never the
/// primary key, a unique or an exclusion index, which guard the rows while they are loaded),
/// each by its `regclass` name and its `CREATE INDEX` statement as PostgreSQL prints it; the
/// names, to drop in the same transaction.
const RECORD_DEFERRED: &str = "\
INSERT INTO catalog_deferred_indexes (name, definition)
SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
FROM pg_index i
WHERE i.indrelid = 'catalog_items'::regclass
  AND NOT i.indisprimary AND NOT i.indisunique AND NOT i.indisexclusion
RETURNING name";

/// Memory for one index build (PostgreSQL's default of 64 MB makes the search index's build
/// spill; the builds run [`PARALLEL`] at once).
const BUILD_MEMORY: &str = "256MB";

/// Builds the deferred index `name`, if still deferred: its record is deleted in the same
/// transaction (so a concurrent builder waits, then finds nothing), and a failure keeps both.
/// A record whose index exists again (made by hand or by a later migration) is only deleted.
/// Whether it was built here.
async fn build_index(store: &PostgresStore, name: String) -> Result<usize, DependencyError> {
    let mut connection = store.connection().await?;
    connection
        .transaction(async |connection| {
            connection
                .batch_execute(&format!(
                    "SET LOCAL statement_timeout = 0; SET LOCAL maintenance_work_mem = '{BUILD_MEMORY}'"
                ))
                .await?;
            let claimed: Vec<Definition> = diesel::sql_query(
                "DELETE FROM catalog_deferred_indexes WHERE name = $1
                 RETURNING definition, to_regclass(name) IS NOT NULL AS present",
            )
            .bind::<Text, _>(&name)
            .load(connection)
            .await?;
            let mut built = 0;
            for deferred in claimed.iter().filter(|deferred| !deferred.present) {
                // Only what PostgreSQL printed for one index: the extended protocol (a
                // prepared statement) refuses a second statement in the text.
                if !deferred.definition.starts_with("CREATE INDEX ") {
                    return Err(QueryError::QueryBuilderError(
                        format!("the deferred index {name} is not a CREATE INDEX statement").into(),
                    ));
                }
                diesel::sql_query(&deferred.definition)
                    .execute(connection)
                    .await?;
                built += 1;
            }
            Ok(built)
        })
        .await
        .map_err(write_outcome_error)
}

/// Builds every deferred index, [`PARALLEL`] at once, the search index (the longest) first.
async fn build_deferred(store: &PostgresStore) -> Result<u64, DependencyError> {
    let mut connection = store.connection().await?;
    let deferred: Vec<Deferred> = diesel::sql_query(
        "SELECT name FROM catalog_deferred_indexes
         ORDER BY definition LIKE '% USING gin %' DESC, name",
    )
    .load(&mut connection)
    .await
    .map_err(write_outcome_error)?;
    drop(connection);
    run_all(
        deferred
            .into_iter()
            .map(|deferred| build_index(store, deferred.name))
            .collect(),
    )
    .await
}

#[async_trait]
impl CatalogSeeder for PostgresStore {
    /// In one transaction that holds catalog_items exclusively: when the table is empty, its
    /// secondary indexes are recorded in catalog_deferred_indexes and dropped (indexes an
    /// interrupted load left there stay deferred). When it holds rows, nothing is dropped, and
    /// what an interrupted load left is built.
    async fn defer_item_indexes(&self) -> Result<u64, DependencyError> {
        let mut connection = self.connection().await?;
        let deferred = connection
            .transaction(async |connection| {
                // A list holds the table only for its statement; a longer wait fails the seed
                // (the statement timeout, 1 s by default, would end the wait first).
                connection
                    .batch_execute(
                        "SET LOCAL statement_timeout = '30s'; SET LOCAL lock_timeout = '5s'; \
                         LOCK TABLE catalog_items IN ACCESS EXCLUSIVE MODE",
                    )
                    .await?;
                let table: Filled =
                    diesel::sql_query("SELECT EXISTS (SELECT 1 FROM catalog_items) AS filled")
                        .get_result(connection)
                        .await?;
                if table.filled {
                    return Ok(None);
                }
                let dropped: Vec<Deferred> =
                    diesel::sql_query(RECORD_DEFERRED).load(connection).await?;
                for index in &dropped {
                    // A name PostgreSQL printed (`regclass`), quoted where it must be.
                    connection
                        .batch_execute(&format!("DROP INDEX {}", index.name))
                        .await?;
                }
                let all: Vec<Deferred> =
                    diesel::sql_query("SELECT name FROM catalog_deferred_indexes")
                        .load(connection)
                        .await?;
                Ok(Some(written(all.len())))
            })
            .await
            .map_err(write_outcome_error)?;
        drop(connection);
        match deferred {
            Some(deferred) => Ok(deferred),
            None => build_deferred(self).await.map(|_| 0),
        }
    }

    async fn deferred_item_indexes(&self) -> Result<Vec<String>, DependencyError> {
        let mut connection = self.connection().await?;
        let deferred: Vec<Deferred> =
            diesel::sql_query("SELECT name FROM catalog_deferred_indexes ORDER BY name")
                .load(&mut connection)
                .await
                .map_err(crate::query_error)?;
        Ok(deferred.into_iter().map(|deferred| deferred.name).collect())
    }

    async fn build_item_indexes(&self) -> Result<u64, DependencyError> {
        build_deferred(self).await
    }

    async fn insert_items(&self, items: &[NewItem]) -> Result<u64, DependencyError> {
        let writes = items
            .chunks(CHUNK)
            .map(|chunk| insert_item_chunk(self, chunk));
        run_all(writes.collect()).await
    }

    async fn insert_users(&self, users: &[SeedUser]) -> Result<u64, DependencyError> {
        let writes = users
            .chunks(CHUNK)
            .map(|chunk| insert_user_chunk(self, chunk));
        run_all(writes.collect()).await
    }

    async fn insert_registrations(
        &self,
        registrations: &[SeedRegistration],
    ) -> Result<u64, DependencyError> {
        let writes = registrations
            .chunks(CHUNK)
            .map(|chunk| insert_registration_chunk(self, chunk));
        run_all(writes.collect()).await
    }

    async fn recount(&self) -> Result<(), DependencyError> {
        bulk!(self, |connection| diesel::sql_query(RECOUNT));
        // ANALYZE, so the planner knows the new rows: the lists' walks need no visibility map
        // (the sort indexes test the schedule in their keys, migration 000011), so no VACUUM.
        // One statement per call, on one connection, whose timeout is restored either way.
        let mut connection = self.connection().await?;
        connection
            .batch_execute("SET statement_timeout = 0")
            .await
            .map_err(write_outcome_error)?;
        let analyzed = connection
            .batch_execute("ANALYZE users, catalog_items, catalog_payments, catalog_registrations")
            .await;
        let restored = connection.batch_execute("RESET statement_timeout").await;
        analyzed.and(restored).map_err(write_outcome_error)
    }
}
