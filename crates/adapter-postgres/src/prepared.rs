//! Raw SQL that diesel prepares once per connection and then reuses.
//!
//! `diesel::sql_query` marks its statement unsafe to cache, so diesel-async prepares it anew on
//! every call: one round trip to parse and describe it, a second to bind and run it, and a plan
//! made each time. [`sql_query`] builds the same statements with the same
//! `.bind::<SqlType, _>(value)` calls, but leaves them cacheable: their query id is not static,
//! so diesel keys its per-connection cache by the SQL text, and each distinct text is parsed once
//! per connection; every later call is one round trip that PostgreSQL may answer from a cached
//! plan.
//!
//! Only SQL whose text comes from a bounded set may go through here (constants, or texts assembled
//! from a fixed number of shapes): each distinct text stays in the cache for the connection's life.
//! Values always go in binds, never in the text.

use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::HasSqlType;
use std::marker::PhantomData;

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
pub(crate) use prepared_statement;

/// Writes `sql` with each `$n` replaced by the bind `bind` pushes for parameter `n` (a parameter
/// used twice is bound twice).
pub(crate) fn walk_numbered<'b>(
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

pub(crate) fn unknown_parameter(number: usize) -> diesel::result::Error {
    diesel::result::Error::QueryBuilderError(format!("unknown parameter ${number}").into())
}

/// One parameter's value with its SQL type.
struct Bind<ST, Value> {
    value: Value,
    sql_type: PhantomData<ST>,
}

impl<ST, Value> QueryFragment<Pg> for Bind<ST, Value>
where
    Pg: HasSqlType<ST>,
    Value: ToSql<ST, Pg>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> diesel::QueryResult<()> {
        out.push_bind_param::<ST, Value>(&self.value)
    }
}

/// A statement's SQL text with `$1`, `$2`… placeholders and its binds, cacheable.
pub(crate) struct Prepared<'a> {
    sql: String,
    binds: Vec<Box<dyn QueryFragment<Pg> + Send + Sync + 'a>>,
}

/// One column of a batch's rows, for an array bind (`unnest($n::type[])`): `field` of every row,
/// in order.
pub(crate) fn column<Row, Value>(rows: &[Row], field: impl Fn(&Row) -> Value) -> Vec<Value> {
    rows.iter().map(field).collect()
}

/// `sql` as a statement diesel prepares once per connection (see the module documentation).
pub(crate) fn sql_query<'a>(sql: impl Into<String>) -> Prepared<'a> {
    Prepared {
        sql: sql.into(),
        binds: Vec::new(),
    }
}

impl<'a> Prepared<'a> {
    /// Binds the next parameter (`$1` first), as `diesel::sql_query(…).bind` does.
    pub(crate) fn bind<ST, Value>(mut self, value: Value) -> Self
    where
        Pg: HasSqlType<ST>,
        Value: ToSql<ST, Pg> + Send + Sync + 'a,
        ST: Send + Sync + 'a,
    {
        self.binds.push(Box::new(Bind {
            value,
            sql_type: PhantomData::<ST>,
        }));
        self
    }
}

impl QueryId for Prepared<'_> {
    type QueryId = ();
    /// Not static: diesel then keys its statement cache by the SQL text.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for Prepared<'_> {
    type SqlType = diesel::sql_types::Untyped;
}

impl QueryFragment<Pg> for Prepared<'_> {
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, Pg>) -> diesel::QueryResult<()> {
        walk_numbered(&self.sql, out, |number, out| {
            let bind = number
                .checked_sub(1)
                .and_then(|index| self.binds.get(index))
                .ok_or_else(|| unknown_parameter(number))?;
            bind.walk_ast(out.reborrow())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::query_builder::QueryBuilder;
    use diesel::sql_types::{BigInt, Text};

    fn sql_and_cacheable(query: &impl QueryFragment<Pg>) -> diesel::QueryResult<(String, bool)> {
        let mut builder = diesel::pg::PgQueryBuilder::default();
        query.to_sql(&mut builder, &Pg)?;
        Ok((builder.finish(), query.is_safe_to_cache_prepared(&Pg)?))
    }

    #[test]
    fn a_prepared_statement_keeps_its_placeholders_and_stays_cacheable() {
        let query = sql_query("SELECT $1::text, $2::bigint, $1")
            .bind::<Text, _>("a")
            .bind::<BigInt, _>(1_i64);
        // A parameter used twice is bound twice, so diesel numbers it anew.
        assert_eq!(
            sql_and_cacheable(&query).unwrap(),
            ("SELECT $1::text, $2::bigint, $3".to_owned(), true)
        );
        // diesel's own raw query is never cached: the reason this module exists.
        let raw = diesel::sql_query("SELECT $1::text").bind::<Text, _>("a");
        assert!(!sql_and_cacheable(&raw).unwrap().1);
    }

    #[test]
    fn a_placeholder_without_its_bind_is_an_error() {
        let query = sql_query("SELECT $1, $2").bind::<Text, _>("a");
        assert!(sql_and_cacheable(&query).is_err());
        assert!(sql_and_cacheable(&sql_query("SELECT $0")).is_err());
        assert!(sql_and_cacheable(&sql_query("SELECT $x")).is_err());
    }

    #[test]
    fn parameters_are_read_with_all_their_digits() {
        let (head, numbered) = split_numbered("SELECT $1, $10,$2");
        assert_eq!(head, "SELECT ");
        let numbered: Vec<_> = numbered.map(Result::ok).collect();
        assert_eq!(numbered, [Some((1, ", ")), Some((10, ",")), Some((2, ""))]);
    }
}
