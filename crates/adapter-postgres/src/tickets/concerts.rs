//! `ConcertRepository` on the store: a concert, its performances and one row per seat written in
//! one transaction; availability counted from the seat rows at the instant asked about.

use super::rows::{ConcertRow, PerformanceRow, all};
use crate::schema::{concerts, performances};
use crate::{PostgresStore, query_error, write_outcome_error};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Int2, Nullable, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use reserva_application::DependencyError;
use reserva_application::ports::tickets::{
    ConcertInventory, ConcertRepository, NewConcert, PerformanceAvailability, SeatMap,
};
use reserva_domain::paging::PageLimit;
use reserva_domain::tickets::{Concert, ConcertId, HoldId, Performance, PerformanceId, SeatNumber};
use reserva_sql_support::tickets::seat_state;
use uuid::Uuid;

/// The performances of `concerts`, earliest first.
async fn performances_of(
    connection: &mut AsyncPgConnection,
    concerts: &[Uuid],
) -> Result<Vec<Performance>, DependencyError> {
    let rows: Vec<PerformanceRow> = performances::table
        .filter(performances::concert_id.eq_any(concerts))
        .order((performances::starts_at.asc(), performances::id.asc()))
        .select(PerformanceRow::as_select())
        .load(connection)
        .await
        .map_err(query_error)?;
    all(rows, PerformanceRow::into_performance)
}

/// Each concert with its performances.
async fn with_performances(
    connection: &mut AsyncPgConnection,
    rows: Vec<ConcertRow>,
) -> Result<Vec<Concert>, DependencyError> {
    let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
    let mut performances = performances_of(connection, &ids).await?;
    rows.into_iter()
        .map(|row| {
            let id = ConcertId::from_uuid(row.id);
            let (own, rest) = performances.drain(..).partition(|p| p.concert_id == id);
            performances = rest;
            row.into_concert(own)
        })
        .collect()
}

#[derive(QueryableByName)]
struct Free {
    #[diesel(embed)]
    performance: PerformanceRow,
    #[diesel(sql_type = BigInt)]
    free_seats: i64,
}

#[derive(QueryableByName)]
struct SeatRow {
    #[diesel(sql_type = Int2)]
    seat_number: i16,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    hold_expires_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    booking_id: Option<Uuid>,
}

#[derive(QueryableByName)]
struct ConcertIdRow {
    #[diesel(sql_type = SqlUuid)]
    concert_id: Uuid,
}

#[derive(QueryableByName)]
struct Unsold {
    #[diesel(sql_type = BigInt)]
    unsold: i64,
}

#[derive(QueryableByName)]
struct LiveHold {
    #[diesel(sql_type = SqlUuid)]
    hold_id: Uuid,
    #[diesel(sql_type = Timestamptz)]
    hold_expires_at: DateTime<Utc>,
}

fn count(value: i64) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

#[async_trait]
impl ConcertRepository for PostgresStore {
    async fn insert_concert(&self, new: NewConcert) -> Result<Concert, DependencyError> {
        let mut connection = self.connection().await?;
        let rows: Vec<PerformanceRow> = new
            .performances
            .iter()
            .map(|p| PerformanceRow {
                id: p.id.as_uuid(),
                concert_id: new.id.as_uuid(),
                starts_at: p.starts_at,
                local_date: p.local_date,
                seat_count: i16::try_from(p.seats.get()).unwrap_or(i16::MAX),
                cancelled_at: None,
            })
            .collect();
        let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
        connection
            .transaction(async |connection| {
                diesel::insert_into(concerts::table)
                    .values((
                        concerts::id.eq(new.id.as_uuid()),
                        concerts::title.eq(new.title.as_str()),
                        concerts::price.eq(new.price.get()),
                        concerts::created_at.eq(new.now),
                    ))
                    .execute(connection)
                    .await?;
                diesel::insert_into(performances::table)
                    .values(&rows)
                    .execute(connection)
                    .await?;
                diesel::sql_query(
                    "INSERT INTO seats (performance_id, seat_number)
                     SELECT p.id, n FROM performances p, generate_series(1, p.seat_count) n
                     WHERE p.id = ANY($1)",
                )
                .bind::<Array<SqlUuid>, _>(&ids)
                .execute(connection)
                .await
            })
            .await
            .map_err(write_outcome_error)?;
        let performances = all(rows, PerformanceRow::into_performance)?;
        let stored = ConcertRow {
            id: new.id.as_uuid(),
            title: new.title.as_str().to_owned(),
            price: new.price.get(),
            created_at: new.now,
        };
        stored.into_concert(performances)
    }

    async fn find_concert(&self, id: ConcertId) -> Result<Option<Concert>, DependencyError> {
        let mut connection = self.connection().await?;
        let rows: Vec<ConcertRow> = concerts::table
            .find(id.as_uuid())
            .select(ConcertRow::as_select())
            .load(&mut connection)
            .await
            .map_err(query_error)?;
        Ok(with_performances(&mut connection, rows).await?.pop())
    }

    async fn list_concerts(
        &self,
        before: Option<ConcertId>,
        limit: PageLimit,
    ) -> Result<Vec<Concert>, DependencyError> {
        let mut connection = self.connection().await?;
        let mut query = concerts::table
            .order(concerts::id.desc())
            .limit(i64::from(limit.get()) + 1)
            .select(ConcertRow::as_select())
            .into_boxed();
        if let Some(before) = before {
            query = query.filter(concerts::id.lt(before.as_uuid()));
        }
        let rows = query.load(&mut connection).await.map_err(query_error)?;
        with_performances(&mut connection, rows).await
    }

    async fn find_performance(
        &self,
        id: PerformanceId,
    ) -> Result<Option<Performance>, DependencyError> {
        let mut connection = self.connection().await?;
        let row: Option<PerformanceRow> = performances::table
            .find(id.as_uuid())
            .select(PerformanceRow::as_select())
            .first(&mut connection)
            .await
            .optional()
            .map_err(query_error)?;
        row.map(PerformanceRow::into_performance).transpose()
    }

    async fn available_performances(
        &self,
        concert: ConcertId,
        now: DateTime<Utc>,
    ) -> Result<Vec<PerformanceAvailability>, DependencyError> {
        let mut connection = self.connection().await?;
        let rows: Vec<Free> = diesel::sql_query(
            "SELECT * FROM (
                SELECT p.*, (SELECT count(*) FROM seats s
                              WHERE s.performance_id = p.id AND s.booking_id IS NULL
                                AND (s.hold_expires_at IS NULL OR s.hold_expires_at <= $2))
                            AS free_seats
                FROM performances p
                WHERE p.concert_id = $1 AND p.cancelled_at IS NULL AND p.starts_at > $2
             ) counted
             WHERE free_seats > 0
             ORDER BY starts_at, id",
        )
        .bind::<SqlUuid, _>(concert.as_uuid())
        .bind::<Timestamptz, _>(now)
        .load(&mut connection)
        .await
        .map_err(query_error)?;
        rows.into_iter()
            .map(|row| {
                Ok(PerformanceAvailability {
                    performance: row.performance.into_performance()?,
                    free_seats: count(row.free_seats),
                })
            })
            .collect()
    }

    async fn seat_map(
        &self,
        performance: PerformanceId,
        now: DateTime<Utc>,
    ) -> Result<Option<SeatMap>, DependencyError> {
        let Some(found) = self.find_performance(performance).await? else {
            return Ok(None);
        };
        let mut connection = self.connection().await?;
        let rows: Vec<SeatRow> = diesel::sql_query(
            "SELECT seat_number, hold_expires_at, booking_id FROM seats
             WHERE performance_id = $1 ORDER BY seat_number",
        )
        .bind::<SqlUuid, _>(performance.as_uuid())
        .load(&mut connection)
        .await
        .map_err(query_error)?;
        let seats = rows
            .into_iter()
            .map(|row| {
                let number = SeatNumber::new(i64::from(row.seat_number))
                    .map_err(|_| DependencyError::Failed("stored seat out of range".into()))?;
                Ok((number, seat_state(row.booking_id, row.hold_expires_at, now)))
            })
            .collect::<Result<_, DependencyError>>()?;
        Ok(Some(SeatMap {
            performance: found,
            seats,
        }))
    }

    async fn concerts_on_sale(
        &self,
        now: DateTime<Utc>,
        after: Option<ConcertId>,
        limit: u32,
    ) -> Result<Vec<ConcertId>, DependencyError> {
        let mut connection = self.connection().await?;
        let rows: Vec<ConcertIdRow> = diesel::sql_query(
            "SELECT DISTINCT concert_id FROM performances
             WHERE cancelled_at IS NULL AND starts_at > $1
               AND ($3::uuid IS NULL OR concert_id > $3)
             ORDER BY concert_id LIMIT $2",
        )
        .bind::<Timestamptz, _>(now)
        .bind::<BigInt, _>(i64::from(limit))
        .bind::<diesel::sql_types::Nullable<SqlUuid>, _>(after.map(|id| id.as_uuid()))
        .load(&mut connection)
        .await
        .map_err(query_error)?;
        Ok(rows
            .into_iter()
            .map(|row| ConcertId::from_uuid(row.concert_id))
            .collect())
    }

    async fn inventory(
        &self,
        concert: ConcertId,
        now: DateTime<Utc>,
    ) -> Result<ConcertInventory, DependencyError> {
        const ON_SALE: &str = "FROM seats s JOIN performances p ON p.id = s.performance_id
             WHERE p.concert_id = $1 AND p.cancelled_at IS NULL AND p.starts_at > $2
               AND s.booking_id IS NULL";
        let mut connection = self.connection().await?;
        let unsold: Unsold = diesel::sql_query(format!("SELECT count(*) AS unsold {ON_SALE}"))
            .bind::<SqlUuid, _>(concert.as_uuid())
            .bind::<Timestamptz, _>(now)
            .get_result(&mut connection)
            .await
            .map_err(query_error)?;
        let holds: Vec<LiveHold> = diesel::sql_query(format!(
            "SELECT s.hold_id, s.hold_expires_at {ON_SALE} AND s.hold_expires_at > $2
             ORDER BY s.hold_expires_at, s.hold_id"
        ))
        .bind::<SqlUuid, _>(concert.as_uuid())
        .bind::<Timestamptz, _>(now)
        .load(&mut connection)
        .await
        .map_err(query_error)?;
        Ok(ConcertInventory {
            unsold_seats: count(unsold.unsold),
            holds: holds
                .into_iter()
                .map(|hold| (HoldId::from_uuid(hold.hold_id), hold.hold_expires_at))
                .collect(),
        })
    }
}
