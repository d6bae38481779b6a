//! The two statements a batch is written with, each prepared once per connection and reused
//! whatever the batch size (a `sql_query` would be parsed and planned on every call), with their
//! parameters as one array per column.

use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::query_builder::AstPass;
use reserva_application::ports::exams::NewReservation;
use reserva_sql_support::exams::people;
use uuid::Uuid;

/// A statement diesel may prepare once and reuse: its SQL never changes, only its parameters.
macro_rules! prepared_statement {
    ($statement:ty) => {
        impl diesel::query_builder::QueryId for $statement {
            type QueryId = Self;
            const HAS_STATIC_QUERY_ID: bool = true;
        }

        impl diesel::query_builder::Query for $statement {
            type SqlType = diesel::sql_types::Untyped;
        }
    };
}

/// Writes `sql` with each `$n` replaced by the bind `bind` pushes for parameter `n`.
fn walk_numbered<'b>(
    sql: &str,
    mut out: AstPass<'_, 'b, Pg>,
    mut bind: impl FnMut(usize, &mut AstPass<'_, 'b, Pg>) -> diesel::QueryResult<()>,
) -> diesel::QueryResult<()> {
    let (head, numbered) = split_numbered(sql);
    out.push_sql(head);
    for part in numbered {
        let (number, rest) = part?;
        bind(number, &mut out)?;
        out.push_sql(rest);
    }
    Ok(())
}

/// `sql` cut at each `$`: the text before the first, then each parameter's number (all its
/// digits: `$10` is ten) with the text that follows it.
fn split_numbered(
    sql: &str,
) -> (
    &str,
    impl Iterator<Item = diesel::QueryResult<(usize, &str)>>,
) {
    let mut parts = sql.split('$');
    let head = parts.next().unwrap_or_default();
    let numbered = parts.map(|part| {
        let digits = part.bytes().take_while(u8::is_ascii_digit).count();
        let number = part[..digits].parse::<usize>().map_err(|_| {
            diesel::result::Error::QueryBuilderError(
                format!("a '$' not followed by a parameter number: ${part}").into(),
            )
        })?;
        Ok((number, &part[digits..]))
    });
    (head, numbered)
}

fn unknown_parameter(number: usize) -> diesel::result::Error {
    diesel::result::Error::QueryBuilderError(format!("unknown parameter ${number}").into())
}

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

#[cfg(test)]
mod tests {
    use super::split_numbered;

    #[test]
    fn parameters_are_read_with_all_their_digits() {
        let (head, numbered) = split_numbered("SELECT $1, $10,$2");
        assert_eq!(head, "SELECT ");
        let numbered: Vec<_> = numbered.map(Result::ok).collect();
        assert_eq!(numbered, [Some((1, ", ")), Some((10, ",")), Some((2, ""))]);
    }

    #[test]
    fn a_dollar_without_a_number_is_an_error() {
        let (_, mut numbered) = split_numbered("SELECT $x");
        assert!(matches!(numbered.next(), Some(Err(_))));
    }
}
