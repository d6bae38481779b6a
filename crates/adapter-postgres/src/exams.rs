//! `ExamSlotRepository` and `ReservationRepository` on PostgreSQL.
//!
//! Every capacity change runs in one transaction that first locks the reservation row(s), then the
//! slot rows it touches in ascending order (`FOR UPDATE`), checks the rule, and writes. The lock
//! order is the same everywhere, so transactions queue instead of deadlocking. Confirms that
//! arrive together are written together, in one transaction per batch (see [`confirm_all`]).

use crate::batch::{BatchQueue, Drainer, Unwritten, write_isolating};
use crate::schema::{exam_reservations, exam_slots};
use crate::{PostgresStore, query_error, write_outcome_error};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as QueryError};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use reserva_application::DependencyError;
use reserva_application::ports::exams::{
    ExamSlotRepository, NewReservation, ReservationQuery, ReservationRepository,
    ReservationWriteError, Slot, check_capacity_change,
};
use reserva_domain::accounts::UserId;
use reserva_domain::exams::{Headcount, HourRange, Reservation, ReservationId, ReservationStatus};
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

#[derive(Queryable, Selectable)]
#[diesel(table_name = exam_slots, check_for_backend(diesel::pg::Pg))]
struct SlotRow {
    starts_at: DateTime<Utc>,
    capacity: i32,
    confirmed: i32,
}

impl SlotRow {
    fn into_slot(self) -> Result<Slot, DependencyError> {
        let corrupt = |_| DependencyError::Failed("stored slot has a negative count".into());
        Ok(Slot {
            starts_at: self.starts_at,
            capacity: u32::try_from(self.capacity).map_err(corrupt)?,
            confirmed: u32::try_from(self.confirmed).map_err(corrupt)?,
        })
    }
}

#[derive(Queryable, QueryableByName, Selectable)]
#[diesel(table_name = exam_reservations, check_for_backend(diesel::pg::Pg))]
struct ReservationRow {
    id: Uuid,
    user_id: Uuid,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    headcount: i32,
    status: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    confirmed_at: Option<DateTime<Utc>>,
    cancelled_at: Option<DateTime<Utc>>,
}

impl ReservationRow {
    fn into_reservation(self) -> Result<Reservation, DependencyError> {
        let corrupt = |what: &str| {
            DependencyError::Failed(format!("stored reservation has an invalid {what}"))
        };
        Ok(Reservation {
            id: ReservationId::from_uuid(self.id),
            user_id: UserId::from_uuid(self.user_id),
            range: HourRange::from_stored(self.starts_at, self.ends_at)
                .map_err(|_| corrupt("range"))?,
            headcount: Headcount::new(i64::from(self.headcount))
                .map_err(|_| corrupt("headcount"))?,
            status: self.status.parse().map_err(|()| corrupt("status"))?,
            created_at: self.created_at,
            updated_at: self.updated_at,
            confirmed_at: self.confirmed_at,
            cancelled_at: self.cancelled_at,
        })
    }
}

/// Failures inside a transaction: a rule the store refuses, or the database itself.
enum TxError {
    Refused(ReservationWriteError),
    Query(QueryError),
}

impl From<QueryError> for TxError {
    fn from(error: QueryError) -> Self {
        Self::Query(error)
    }
}

impl From<DependencyError> for TxError {
    fn from(error: DependencyError) -> Self {
        Self::Refused(ReservationWriteError::Dependency(error))
    }
}

impl From<TxError> for ReservationWriteError {
    fn from(error: TxError) -> Self {
        match error {
            TxError::Refused(error) => error,
            // Every transaction here writes: an answer lost on the way may hide a COMMIT.
            TxError::Query(error) => Self::Dependency(write_outcome_error(error)),
        }
    }
}

fn people(headcount: Headcount) -> i32 {
    i32::try_from(headcount.get()).unwrap_or(i32::MAX)
}

/// Locks the reservation row and checks its status.
async fn lock_reservation(
    connection: &mut AsyncPgConnection,
    id: ReservationId,
    expected: ReservationStatus,
) -> Result<Reservation, TxError> {
    let row: Option<ReservationRow> = exam_reservations::table
        .find(id.as_uuid())
        .select(ReservationRow::as_select())
        .for_update()
        .first(connection)
        .await
        .optional()?;
    let Some(row) = row else {
        return Err(TxError::Refused(ReservationWriteError::NotFound));
    };
    let reservation = row.into_reservation()?;
    if reservation.status != expected {
        return Err(TxError::Refused(ReservationWriteError::StatusChanged {
            current: reservation.status,
        }));
    }
    Ok(reservation)
}

/// Locks the slots starting in `[from, to)`, in ascending order.
async fn lock_slots(
    connection: &mut AsyncPgConnection,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Slot>, TxError> {
    let rows: Vec<SlotRow> = exam_slots::table
        .filter(exam_slots::starts_at.ge(from))
        .filter(exam_slots::starts_at.lt(to))
        .order(exam_slots::starts_at.asc())
        .select(SlotRow::as_select())
        .for_update()
        .load(connection)
        .await?;
    Ok(rows
        .into_iter()
        .map(SlotRow::into_slot)
        .collect::<Result<_, _>>()?)
}

/// Adds `delta` people to every slot of `range` (negative to give places back).
async fn shift_counts(
    connection: &mut AsyncPgConnection,
    range: &HourRange,
    delta: i32,
) -> Result<(), TxError> {
    diesel::update(
        exam_slots::table
            .filter(exam_slots::starts_at.ge(range.starts_at()))
            .filter(exam_slots::starts_at.lt(range.ends_at())),
    )
    .set(exam_slots::confirmed.eq(exam_slots::confirmed + delta))
    .execute(connection)
    .await?;
    Ok(())
}

/// Writes `sql` with each `$n` (one digit) replaced by the bind `bind` pushes for `n`.
fn walk_numbered<'b>(
    sql: &str,
    mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
    mut bind: impl FnMut(
        char,
        &mut diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
    ) -> diesel::QueryResult<()>,
) -> diesel::QueryResult<()> {
    let mut parts = sql.split('$');
    out.push_sql(parts.next().unwrap_or_default());
    for part in parts {
        let digit = part.chars().next().unwrap_or('0');
        bind(digit, &mut out)?;
        out.push_sql(&part[digit.len_utf8()..]);
    }
    Ok(())
}

fn unknown_parameter(digit: char) -> diesel::result::Error {
    diesel::result::Error::QueryBuilderError(format!("unknown parameter ${digit}").into())
}

/// Creating reservations, as one statement in autocommit for a whole batch: each row is inserted
/// only if every hour it covers has a slot with room for its headcount, counted by the statement
/// itself (one round trip and one commit for the batch, instead of a read and an insert each).
const INSERT_IF_ROOM: &str = "
INSERT INTO exam_reservations (id, user_id, starts_at, ends_at, headcount, status, created_at, updated_at)
SELECT v.id, v.user_id, v.starts_at, v.ends_at, v.headcount, 'pending', v.created_at, v.created_at
  FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[], $4::timestamptz[], $5::int[],
              $6::timestamptz[], $7::bigint[])
       AS v(id, user_id, starts_at, ends_at, headcount, created_at, hours)
 WHERE (SELECT count(*) FROM exam_slots s
         WHERE s.starts_at >= v.starts_at AND s.starts_at < v.ends_at
           AND s.confirmed + v.headcount <= s.capacity) = v.hours
RETURNING *";

/// [`INSERT_IF_ROOM`] with its parameters (one array per column), as a query diesel prepares once
/// per connection and reuses whatever the batch size (a `sql_query` would be parsed and planned
/// on every call).
#[derive(Debug, Default)]
struct InsertIfRoomStatement {
    ids: Vec<Uuid>,
    user_ids: Vec<Uuid>,
    starts_at: Vec<DateTime<Utc>>,
    ends_at: Vec<DateTime<Utc>>,
    headcounts: Vec<i32>,
    created_at: Vec<DateTime<Utc>>,
    hours: Vec<i64>,
}

impl InsertIfRoomStatement {
    fn new(batch: &[NewReservation]) -> Self {
        let mut statement = Self::default();
        for new in batch {
            statement.ids.push(new.id.as_uuid());
            statement.user_ids.push(new.user_id.as_uuid());
            statement.starts_at.push(new.range.starts_at());
            statement.ends_at.push(new.range.ends_at());
            statement.headcounts.push(people(new.headcount));
            statement.created_at.push(new.now);
            statement
                .hours
                .push(i64::try_from(new.range.hours().len()).unwrap_or(i64::MAX));
        }
        statement
    }
}

impl diesel::query_builder::QueryId for InsertIfRoomStatement {
    type QueryId = Self;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl diesel::query_builder::Query for InsertIfRoomStatement {
    type SqlType = diesel::sql_types::Untyped;
}

impl diesel::query_builder::QueryFragment<diesel::pg::Pg> for InsertIfRoomStatement {
    fn walk_ast<'b>(
        &'b self,
        out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
    ) -> diesel::QueryResult<()> {
        use diesel::sql_types::{Array, BigInt, Integer, Timestamptz, Uuid as SqlUuid};
        walk_numbered(INSERT_IF_ROOM, out, |digit, out| match digit {
            '1' => out.push_bind_param::<Array<SqlUuid>, _>(&self.ids),
            '2' => out.push_bind_param::<Array<SqlUuid>, _>(&self.user_ids),
            '3' => out.push_bind_param::<Array<Timestamptz>, _>(&self.starts_at),
            '4' => out.push_bind_param::<Array<Timestamptz>, _>(&self.ends_at),
            '5' => out.push_bind_param::<Array<Integer>, _>(&self.headcounts),
            '6' => out.push_bind_param::<Array<Timestamptz>, _>(&self.created_at),
            '7' => out.push_bind_param::<Array<BigInt>, _>(&self.hours),
            _ => Err(unknown_parameter(digit)),
        })
    }
}

/// Marks a batch's confirmed reservations, each with its own request's time.
const MARK_CONFIRMED: &str = "
UPDATE exam_reservations r
   SET status = 'confirmed', confirmed_at = v.at, updated_at = v.at
  FROM unnest($1::uuid[], $2::timestamptz[]) AS v(id, at)
 WHERE r.id = v.id
RETURNING r.*";

/// [`MARK_CONFIRMED`] with its parameters, prepared once per connection.
#[derive(Debug, Default)]
struct MarkConfirmedStatement {
    ids: Vec<Uuid>,
    at: Vec<DateTime<Utc>>,
}

impl diesel::query_builder::QueryId for MarkConfirmedStatement {
    type QueryId = Self;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl diesel::query_builder::Query for MarkConfirmedStatement {
    type SqlType = diesel::sql_types::Untyped;
}

impl diesel::query_builder::QueryFragment<diesel::pg::Pg> for MarkConfirmedStatement {
    fn walk_ast<'b>(
        &'b self,
        out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
    ) -> diesel::QueryResult<()> {
        use diesel::sql_types::{Array, Timestamptz, Uuid as SqlUuid};
        walk_numbered(MARK_CONFIRMED, out, |digit, out| match digit {
            '1' => out.push_bind_param::<Array<SqlUuid>, _>(&self.ids),
            '2' => out.push_bind_param::<Array<Timestamptz>, _>(&self.at),
            _ => Err(unknown_parameter(digit)),
        })
    }
}

/// How many slot reads go in one batch at most.
const MAX_READ_BATCH: usize = 1024;

/// A slot read: the hours from, to.
type SlotRange = (DateTime<Utc>, DateTime<Utc>);

/// Slot reads waiting to be answered together.
pub(crate) type SlotReadQueue = BatchQueue<SlotRange, Result<Vec<Slot>, DependencyError>>;

/// How many reservations go in one insert at most.
const MAX_INSERT_BATCH: usize = 256;

/// What became of a reservation to insert if its hours have room.
pub(crate) type InsertOutcome = Result<Option<Reservation>, DependencyError>;

/// Reservations waiting to be inserted together.
pub(crate) type InsertQueue = BatchQueue<NewReservation, InsertOutcome>;

/// How many confirms go in one transaction at most.
const MAX_CONFIRM_BATCH: usize = 256;

/// How many writes may wait for a batch, per queue; the next one gets a 503 at once. Eight full
/// batches: more would only wait past the acquire timeout anyway.
pub(crate) const MAX_WAITING: usize = 8 * MAX_CONFIRM_BATCH;

/// A confirm waiting for its batch.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConfirmRequest {
    id: ReservationId,
    now: DateTime<Utc>,
}

/// What became of a confirm.
pub(crate) type ConfirmOutcome = Result<Reservation, ReservationWriteError>;

/// Confirms waiting to be written together (group commit).
pub(crate) type ConfirmQueue = BatchQueue<ConfirmRequest, ConfirmOutcome>;

/// Confirms `requests` in one transaction, in order, as if one after another: each one takes its
/// headcount in every covered hour or fails on its own (not found, not pending — also when an
/// earlier request of the batch confirmed it —, a missing slot or a full hour, naming it).
///
/// Locks are taken as everywhere else: the reservation rows first (in id order), then the slots of
/// every covered hour, in ascending order. The rule is checked against
/// the locked counts, which the batch updates as it goes; then each touched hour is updated
/// once, and the confirmed reservations in one statement (each with its own request's time). A hot hour thus costs one row lock,
/// one update and one commit per batch instead of per confirm.
async fn confirm_all(
    connection: &mut AsyncPgConnection,
    requests: &[ConfirmRequest],
) -> Result<Vec<Result<Reservation, ReservationWriteError>>, TxError> {
    let mut ids: Vec<Uuid> = requests.iter().map(|r| r.id.as_uuid()).collect();
    ids.sort_unstable();
    ids.dedup();
    let rows: Vec<ReservationRow> = exam_reservations::table
        .filter(exam_reservations::id.eq_any(&ids))
        .order(exam_reservations::id.asc())
        .select(ReservationRow::as_select())
        .for_update()
        .load(connection)
        .await?;
    let mut found = HashMap::with_capacity(rows.len());
    for row in rows {
        let reservation = row.into_reservation()?;
        found.insert(reservation.id, reservation);
    }
    // Only the hours the pending ones cover (not everything between the earliest and the latest),
    // in ascending order like every other capacity change.
    let mut hours: Vec<DateTime<Utc>> = found
        .values()
        .filter(|r| r.status == ReservationStatus::Pending)
        .flat_map(|r| r.range.hours())
        .collect();
    hours.sort_unstable();
    hours.dedup();
    let rows: Vec<SlotRow> = exam_slots::table
        .filter(exam_slots::starts_at.eq_any(&hours))
        .order(exam_slots::starts_at.asc())
        .select(SlotRow::as_select())
        .for_update()
        .load(connection)
        .await?;
    let mut slots: Vec<Slot> = rows
        .into_iter()
        .map(SlotRow::into_slot)
        .collect::<Result<_, _>>()?;
    let mut taken: BTreeMap<DateTime<Utc>, i32> = BTreeMap::new();
    let mut confirmed = MarkConfirmedStatement::default();
    let mut outcomes = Vec::with_capacity(requests.len());
    for request in requests {
        let outcome = match found.get_mut(&request.id) {
            None => Err(ReservationWriteError::NotFound),
            Some(r) if r.status != ReservationStatus::Pending => {
                Err(ReservationWriteError::StatusChanged { current: r.status })
            }
            Some(r) => check_capacity_change(&slots, None, (&r.range, r.headcount)).map(|()| {
                let covered = |slot: &&mut Slot| {
                    r.range.starts_at() <= slot.starts_at && slot.starts_at < r.range.ends_at()
                };
                for slot in slots.iter_mut().filter(covered) {
                    slot.confirmed = slot.confirmed.saturating_add(r.headcount.get());
                    *taken.entry(slot.starts_at).or_default() += people(r.headcount);
                }
                r.status = ReservationStatus::Confirmed;
                confirmed.ids.push(r.id.as_uuid());
                confirmed.at.push(request.now);
            }),
        };
        outcomes.push(outcome);
    }
    for (hour, people) in taken {
        diesel::update(exam_slots::table.find(hour))
            .set(exam_slots::confirmed.eq(exam_slots::confirmed + people))
            .execute(connection)
            .await?;
    }
    let written: Vec<ReservationRow> = confirmed.load(connection).await?;
    let mut written: HashMap<ReservationId, Reservation> = written
        .into_iter()
        .map(|row| row.into_reservation().map(|r| (r.id, r)))
        .collect::<Result<_, _>>()?;
    Ok(requests
        .iter()
        .zip(outcomes)
        .map(|(request, outcome)| {
            outcome.and_then(|()| {
                written.remove(&request.id).ok_or_else(|| {
                    ReservationWriteError::Dependency(DependencyError::Failed(
                        "a confirmed reservation was not written".into(),
                    ))
                })
            })
        })
        .collect())
}

/// Why a queued write has no outcome, as a dependency failure: a full queue or a write that waited
/// too long means the database is not keeping up (503, retry later; nothing was written); a batch
/// that did not finish may have committed (503 `outcome_unknown`).
fn unwritten_error(unwritten: Unwritten) -> DependencyError {
    match unwritten {
        Unwritten::Full => {
            DependencyError::Unavailable("database: too many writes waiting for a batch".into())
        }
        Unwritten::TimedOut => {
            DependencyError::Unavailable("database: no batch took the write in time".into())
        }
        Unwritten::Abandoned => DependencyError::Unavailable(
            "database: the batch queue was abandoned (shutting down)".into(),
        ),
        Unwritten::Unknown => DependencyError::Indeterminate(
            "database: the batch carrying the write did not finish".into(),
        ),
    }
}

/// Whether a transaction failed only because it lost a race PostgreSQL resolves by aborting it.
fn worth_retrying(error: &TxError) -> bool {
    match error {
        TxError::Query(QueryError::DatabaseError(DatabaseErrorKind::SerializationFailure, _)) => {
            true
        }
        TxError::Query(QueryError::DatabaseError(_, info)) => {
            info.message().contains("deadlock detected")
        }
        _ => false,
    }
}

impl PostgresStore {
    /// Writes queued confirms, batch after batch, until none wait. If a batch fails on something
    /// one confirm can cause (a row that does not convert), each confirm is retried alone.
    async fn drain_confirms(self, drainer: Drainer<ConfirmRequest, ConfirmOutcome>) {
        drainer
            .drain(MAX_CONFIRM_BATCH, self.batch_time_limit, |requests| {
                let store = self.clone();
                async move {
                    write_isolating(
                        &requests,
                        |batch: Vec<ConfirmRequest>| {
                            let store = store.clone();
                            async move { store.confirm_batch(&batch).await }
                        },
                        |error| {
                            matches!(
                                error,
                                ReservationWriteError::Dependency(DependencyError::Failed(_))
                            )
                        },
                        Err,
                    )
                    .await
                }
            })
            .await;
    }

    /// Inserts queued reservations, batch after batch, until none wait. One bad row (a user
    /// deleted meanwhile) fails only itself; a transient failure (pool or statement timeout, an
    /// outage) would fail each row again, so it answers the whole batch at once.
    async fn drain_inserts(self, drainer: Drainer<NewReservation, InsertOutcome>) {
        drainer
            .drain(MAX_INSERT_BATCH, self.batch_time_limit, |requests| {
                let store = self.clone();
                async move {
                    write_isolating(
                        &requests,
                        |batch: Vec<NewReservation>| {
                            let store = store.clone();
                            async move { store.insert_batch(&batch).await }
                        },
                        |error| matches!(error, DependencyError::Failed(_)),
                        Err,
                    )
                    .await
                }
            })
            .await;
    }

    /// [`INSERT_IF_ROOM`] for `batch`: for each request, its stored reservation, or `None` when an
    /// hour lacked a slot or room. The statement commits on its own, so a row that comes back
    /// unreadable fails only its own request, never the batch (whose rows are written).
    async fn insert_batch(
        &self,
        batch: &[NewReservation],
    ) -> Result<Vec<InsertOutcome>, DependencyError> {
        let mut connection = self.connection().await?;
        let rows: Vec<ReservationRow> = InsertIfRoomStatement::new(batch)
            .load(&mut connection)
            .await
            .map_err(write_outcome_error)?;
        let mut stored: HashMap<Uuid, ReservationRow> =
            rows.into_iter().map(|row| (row.id, row)).collect();
        Ok(batch
            .iter()
            .map(|new| {
                stored
                    .remove(&new.id.as_uuid())
                    .map(|row| {
                        row.into_reservation().map_err(|error| {
                            // Written, but unreadable: the caller cannot be told what it got.
                            DependencyError::Indeterminate(format!("{error} (it was written)"))
                        })
                    })
                    .transpose()
            })
            .collect())
    }

    /// Answers queued slot reads, batch after batch, with one query per distinct range.
    async fn drain_slot_reads(
        self,
        drainer: Drainer<SlotRange, Result<Vec<Slot>, DependencyError>>,
    ) {
        drainer
            .drain(MAX_READ_BATCH, self.batch_time_limit, |ranges| {
                let store = self.clone();
                async move {
                    let mut distinct = ranges.clone();
                    distinct.sort_unstable();
                    distinct.dedup();
                    let answers = store.read_ranges(&distinct).await;
                    ranges
                        .iter()
                        .map(|range| {
                            distinct.binary_search(range).map_or_else(
                                |_| {
                                    Err(DependencyError::Failed(
                                        "a batched slot read lost its range".into(),
                                    ))
                                },
                                |index| answers[index].clone(),
                            )
                        })
                        .collect()
                }
            })
            .await;
    }

    /// The slots of each range, one query each: the first here, the others in tasks of their own,
    /// so a batch of many dates runs on several pooled connections at once.
    async fn read_ranges(&self, ranges: &[SlotRange]) -> Vec<Result<Vec<Slot>, DependencyError>> {
        let mut others = tokio::task::JoinSet::new();
        for (index, &(from, to)) in ranges.iter().enumerate().skip(1) {
            let store = self.clone();
            others.spawn(async move { (index, store.read_range(from, to).await) });
        }
        let lost = || Err(DependencyError::Failed("a slot read task failed".into()));
        let mut answers: Vec<_> = ranges.iter().map(|_| lost()).collect();
        if let (Some(&(from, to)), Some(first)) = (ranges.first(), answers.first_mut()) {
            *first = self.read_range(from, to).await;
        }
        while let Some(joined) = others.join_next().await {
            match joined {
                Ok((index, answer)) => answers[index] = answer,
                Err(error) => tracing::error!(%error, "slot read task failed"),
            }
        }
        answers
    }

    /// The slots starting in `[from, to)`, in order.
    async fn read_range(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Slot>, DependencyError> {
        let mut connection = self.connection().await?;
        let rows: Vec<SlotRow> = exam_slots::table
            .filter(exam_slots::starts_at.ge(from))
            .filter(exam_slots::starts_at.lt(to))
            .order(exam_slots::starts_at.asc())
            .select(SlotRow::as_select())
            .load(&mut connection)
            .await
            .map_err(query_error)?;
        rows.into_iter().map(SlotRow::into_slot).collect()
    }

    /// [`confirm_all`] in a transaction, retried when PostgreSQL aborted it to break a deadlock.
    async fn confirm_batch(
        &self,
        requests: &[ConfirmRequest],
    ) -> Result<Vec<Result<Reservation, ReservationWriteError>>, ReservationWriteError> {
        let mut attempts = 0;
        loop {
            let mut connection = self.connection().await?;
            let result = connection
                .transaction(async |connection| confirm_all(connection, requests).await)
                .await;
            match result {
                Err(error) if attempts < 3 && worth_retrying(&error) => attempts += 1,
                other => return other.map_err(ReservationWriteError::from),
            }
        }
    }
}

async fn cancel(
    connection: &mut AsyncPgConnection,
    id: ReservationId,
    expected: ReservationStatus,
    now: DateTime<Utc>,
) -> Result<ReservationRow, TxError> {
    let reservation = lock_reservation(connection, id, expected).await?;
    if reservation.status == ReservationStatus::Confirmed {
        let range = reservation.range;
        lock_slots(connection, range.starts_at(), range.ends_at()).await?;
        shift_counts(connection, &range, -people(reservation.headcount)).await?;
    }
    Ok(diesel::update(exam_reservations::table.find(id.as_uuid()))
        .set((
            exam_reservations::status.eq(ReservationStatus::Cancelled.as_str()),
            exam_reservations::cancelled_at.eq(now),
            exam_reservations::updated_at.eq(now),
        ))
        .returning(ReservationRow::as_returning())
        .get_result(connection)
        .await?)
}

async fn edit(
    connection: &mut AsyncPgConnection,
    id: ReservationId,
    expected: ReservationStatus,
    range: HourRange,
    headcount: Headcount,
    now: DateTime<Utc>,
) -> Result<ReservationRow, TxError> {
    let current = lock_reservation(connection, id, expected).await?;
    if current.status == ReservationStatus::Confirmed {
        let old = current.range;
        let from = old.starts_at().min(range.starts_at());
        let to = old.ends_at().max(range.ends_at());
        let slots = lock_slots(connection, from, to).await?;
        check_capacity_change(&slots, Some((&old, current.headcount)), (&range, headcount))
            .map_err(TxError::Refused)?;
        shift_counts(connection, &old, -people(current.headcount)).await?;
        shift_counts(connection, &range, people(headcount)).await?;
    }
    Ok(diesel::update(exam_reservations::table.find(id.as_uuid()))
        .set((
            exam_reservations::starts_at.eq(range.starts_at()),
            exam_reservations::ends_at.eq(range.ends_at()),
            exam_reservations::headcount.eq(people(headcount)),
            exam_reservations::updated_at.eq(now),
        ))
        .returning(ReservationRow::as_returning())
        .get_result(connection)
        .await?)
}

#[async_trait]
impl ExamSlotRepository for PostgresStore {
    async fn ensure_slots(
        &self,
        hours: &[DateTime<Utc>],
        capacity: u32,
    ) -> Result<u64, DependencyError> {
        if hours.is_empty() {
            return Ok(0);
        }
        let capacity = i32::try_from(capacity)
            .map_err(|_| DependencyError::Failed("capacity too large".into()))?;
        let rows: Vec<_> = hours
            .iter()
            .map(|hour| {
                (
                    exam_slots::starts_at.eq(*hour),
                    exam_slots::capacity.eq(capacity),
                )
            })
            .collect();
        let mut connection = self.connection().await?;
        let created = diesel::insert_into(exam_slots::table)
            .values(&rows)
            .on_conflict_do_nothing()
            .execute(&mut connection)
            .await
            .map_err(query_error)?;
        Ok(created as u64)
    }

    /// Reads that arrive while a batch of reads runs go together in the next batch, one query
    /// per distinct range: under load, one query answers many requests. A read never joins a
    /// query that started before it arrived, so it sees every write committed before it.
    async fn slots_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Slot>, DependencyError> {
        let store = self.clone();
        self.slot_reads
            .submit((from, to), self.queue_wait, |drainer| {
                tokio::spawn(store.drain_slot_reads(drainer));
            })
            .await
            .unwrap_or_else(|unread| {
                Err(DependencyError::Unavailable(format!(
                    "database: slot read not answered ({unread:?})"
                )))
            })
    }
}

#[async_trait]
impl ReservationRepository for PostgresStore {
    async fn insert_reservation(
        &self,
        new: NewReservation,
    ) -> Result<Reservation, DependencyError> {
        let mut connection = self.connection().await?;
        let row = diesel::insert_into(exam_reservations::table)
            .values((
                exam_reservations::id.eq(new.id.as_uuid()),
                exam_reservations::user_id.eq(new.user_id.as_uuid()),
                exam_reservations::starts_at.eq(new.range.starts_at()),
                exam_reservations::ends_at.eq(new.range.ends_at()),
                exam_reservations::headcount.eq(people(new.headcount)),
                exam_reservations::status.eq(ReservationStatus::Pending.as_str()),
                exam_reservations::created_at.eq(new.now),
                exam_reservations::updated_at.eq(new.now),
            ))
            .returning(ReservationRow::as_returning())
            .get_result(&mut connection)
            .await
            .map_err(write_outcome_error)?;
        row.into_reservation().map_err(|error| {
            // Written, but unreadable: the caller cannot be told what it got.
            DependencyError::Indeterminate(format!("{error} (it was written)"))
        })
    }

    async fn insert_reservation_if_room(
        &self,
        new: NewReservation,
    ) -> Result<Option<Reservation>, DependencyError> {
        let store = self.clone();
        self.inserts
            .submit(new, self.queue_wait, |drainer| {
                tokio::spawn(store.drain_inserts(drainer));
            })
            .await
            .unwrap_or_else(|unwritten| Err(unwritten_error(unwritten)))
    }

    async fn find_reservation(
        &self,
        id: ReservationId,
    ) -> Result<Option<Reservation>, DependencyError> {
        let mut connection = self.connection().await?;
        exam_reservations::table
            .find(id.as_uuid())
            .select(ReservationRow::as_select())
            .first(&mut connection)
            .await
            .optional()
            .map_err(query_error)?
            .map(ReservationRow::into_reservation)
            .transpose()
    }

    async fn list_reservations(
        &self,
        query: &ReservationQuery,
    ) -> Result<Vec<Reservation>, DependencyError> {
        let mut connection = self.connection().await?;
        let mut select = exam_reservations::table
            .select(ReservationRow::as_select())
            .order(exam_reservations::id.desc())
            .limit(i64::from(query.limit.get()) + 1)
            .into_boxed();
        if let Some(user) = query.user_id {
            select = select.filter(exam_reservations::user_id.eq(user.as_uuid()));
        }
        if let Some(status) = query.status {
            select = select.filter(exam_reservations::status.eq(status.as_str()));
        }
        if let Some(from) = query.from {
            select = select.filter(exam_reservations::ends_at.gt(from));
        }
        if let Some(to) = query.to {
            select = select.filter(exam_reservations::starts_at.lt(to));
        }
        if let Some(before) = query.before {
            select = select.filter(exam_reservations::id.lt(before.as_uuid()));
        }
        let rows: Vec<ReservationRow> = select.load(&mut connection).await.map_err(query_error)?;
        rows.into_iter()
            .map(ReservationRow::into_reservation)
            .collect()
    }

    async fn update_reservation(
        &self,
        id: ReservationId,
        expected: ReservationStatus,
        range: HourRange,
        headcount: Headcount,
        now: DateTime<Utc>,
    ) -> Result<Reservation, ReservationWriteError> {
        let mut connection = self.connection().await?;
        let row = connection
            .transaction(async |connection| {
                edit(connection, id, expected, range, headcount, now).await
            })
            .await?;
        Ok(row.into_reservation()?)
    }

    async fn confirm_reservation(
        &self,
        id: ReservationId,
        now: DateTime<Utc>,
    ) -> Result<Reservation, ReservationWriteError> {
        let store = self.clone();
        self.confirms
            .submit(ConfirmRequest { id, now }, self.queue_wait, |drainer| {
                tokio::spawn(store.drain_confirms(drainer));
            })
            .await
            .unwrap_or_else(|unwritten| Err(unwritten_error(unwritten).into()))
    }

    async fn cancel_reservation(
        &self,
        id: ReservationId,
        expected: ReservationStatus,
        now: DateTime<Utc>,
    ) -> Result<Reservation, ReservationWriteError> {
        let mut connection = self.connection().await?;
        let row = connection
            .transaction(async |connection| cancel(connection, id, expected, now).await)
            .await?;
        Ok(row.into_reservation()?)
    }
}
