//! The two statements a batch is written with, each prepared once per connection and reused
//! whatever the batch size (a `sql_query` would be parsed and planned on every call), with their
//! parameters as one array per column.

use crate::prepared::{prepared_statement, unknown_parameter, walk_numbered};
use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::query_builder::AstPass;
use reserva_application::ports::exams::NewReservation;
use reserva_sql_support::exams::people;
use uuid::Uuid;

/// Creating reservations, as one statement in autocommit for a whole batch: each row is inserted
/// only if every hour it covers has a slot with room for its headcount, counted by the statement
/// itself (one round trip and one commit for the batch, instead of a read and an insert each).
pub(super) const INSERT_IF_ROOM: &str = "
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
pub(super) struct InsertIfRoomStatement {
    ids: Vec<Uuid>,
    user_ids: Vec<Uuid>,
    starts_at: Vec<DateTime<Utc>>,
    ends_at: Vec<DateTime<Utc>>,
    headcounts: Vec<i32>,
    created_at: Vec<DateTime<Utc>>,
    hours: Vec<i64>,
}

impl InsertIfRoomStatement {
    pub(super) fn new(batch: &[NewReservation]) -> Self {
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

prepared_statement!(InsertIfRoomStatement);

impl diesel::query_builder::QueryFragment<Pg> for InsertIfRoomStatement {
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, Pg>) -> diesel::QueryResult<()> {
        use diesel::sql_types::{Array, BigInt, Integer, Timestamptz, Uuid as SqlUuid};
        walk_numbered(INSERT_IF_ROOM, out, |number, out| match number {
            1 => out.push_bind_param::<Array<SqlUuid>, _>(&self.ids),
            2 => out.push_bind_param::<Array<SqlUuid>, _>(&self.user_ids),
            3 => out.push_bind_param::<Array<Timestamptz>, _>(&self.starts_at),
            4 => out.push_bind_param::<Array<Timestamptz>, _>(&self.ends_at),
            5 => out.push_bind_param::<Array<Integer>, _>(&self.headcounts),
            6 => out.push_bind_param::<Array<Timestamptz>, _>(&self.created_at),
            7 => out.push_bind_param::<Array<BigInt>, _>(&self.hours),
            _ => Err(unknown_parameter(number)),
        })
    }
}

/// Marks a batch's confirmed reservations, each with its own request's time.
pub(super) const MARK_CONFIRMED: &str = "
UPDATE exam_reservations r
   SET status = 'confirmed', confirmed_at = v.at, updated_at = v.at
  FROM unnest($1::uuid[], $2::timestamptz[]) AS v(id, at)
 WHERE r.id = v.id
RETURNING r.*";

/// [`MARK_CONFIRMED`] with its parameters, prepared once per connection.
#[derive(Debug, Default)]
pub(super) struct MarkConfirmedStatement {
    pub(super) ids: Vec<Uuid>,
    pub(super) at: Vec<DateTime<Utc>>,
}

prepared_statement!(MarkConfirmedStatement);

impl diesel::query_builder::QueryFragment<Pg> for MarkConfirmedStatement {
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, Pg>) -> diesel::QueryResult<()> {
        use diesel::sql_types::{Array, Timestamptz, Uuid as SqlUuid};
        walk_numbered(MARK_CONFIRMED, out, |number, out| match number {
            1 => out.push_bind_param::<Array<SqlUuid>, _>(&self.ids),
            2 => out.push_bind_param::<Array<Timestamptz>, _>(&self.at),
            _ => Err(unknown_parameter(number)),
        })
    }
}
