//! The concert port: concerts with their performances and seats, and what is left on sale.

use super::seats::{free_counts, seats_of, unsold_seats};
use super::{ConcertRow, PerformanceRow, date_text, performance_row};
use crate::schema::{concerts, performances, seats};
use crate::{SqliteStore, instant, micros, uuid};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use reserva_application::DependencyError;
use reserva_application::ports::tickets::{
    ConcertInventory, ConcertRepository, NewConcert, PerformanceAvailability, SeatMap,
};
use reserva_domain::paging::PageLimit;
use reserva_domain::tickets::{Concert, ConcertId, HoldId, PerformanceId, SeatNumber};
use reserva_sql_support::tickets::seat_state;
use std::collections::HashMap;

type TxError = reserva_sql_support::TxError<DependencyError>;

fn insert(connection: &mut SqliteConnection, new: &NewConcert) -> Result<(), TxError> {
    let id = new.id.as_uuid().to_string();
    diesel::insert_into(concerts::table)
        .values((
            concerts::id.eq(&id),
            concerts::title.eq(new.title.as_str()),
            concerts::price.eq(new.price.get()),
            concerts::created_at.eq(micros(new.now)),
        ))
        .execute(connection)?;
    for performance in &new.performances {
        let performance_id = performance.id.as_uuid().to_string();
        diesel::insert_into(performances::table)
            .values((
                performances::id.eq(&performance_id),
                performances::concert_id.eq(&id),
                performances::starts_at.eq(micros(performance.starts_at)),
                performances::local_date.eq(date_text(performance.local_date)),
                performances::seat_count.eq(i32::from(performance.seats.get())),
            ))
            .execute(connection)?;
        let rows: Vec<_> = performance
            .seats
            .seats()
            .map(|seat| {
                (
                    seats::performance_id.eq(performance_id.clone()),
                    seats::seat_number.eq(i32::from(seat.get())),
                )
            })
            .collect();
        diesel::insert_into(seats::table)
            .values(&rows)
            .execute(connection)?;
    }
    Ok(())
}

/// The concerts of `rows` with their performances, earliest first, in the order of `rows`.
fn with_performances(
    connection: &mut SqliteConnection,
    rows: Vec<ConcertRow>,
) -> Result<Vec<Concert>, DependencyError> {
    let ids: Vec<&str> = rows.iter().map(|row| row.id.as_str()).collect();
    let stored: Vec<PerformanceRow> = performances::table
        .filter(performances::concert_id.eq_any(&ids))
        .order((performances::starts_at.asc(), performances::id.asc()))
        .select(PerformanceRow::as_select())
        .load(connection)
        .map_err(crate::query_error)?;
    let mut by_concert: HashMap<String, Vec<_>> = HashMap::new();
    for row in stored {
        let concert = row.concert_id.clone();
        by_concert
            .entry(concert)
            .or_default()
            .push(row.into_performance()?);
    }
    rows.into_iter()
        .map(|row| {
            let performances = by_concert.remove(&row.id).unwrap_or_default();
            row.into_concert(performances)
        })
        .collect()
}

/// Concerts, each with its performances, as `load` selects them.
fn concerts_where(
    connection: &mut SqliteConnection,
    load: impl FnOnce(&mut SqliteConnection) -> QueryResult<Vec<ConcertRow>>,
) -> Result<Vec<Concert>, DependencyError> {
    let rows = load(connection).map_err(crate::query_error)?;
    with_performances(connection, rows)
}

#[async_trait]
impl ConcertRepository for SqliteStore {
    async fn insert_concert(&self, new: NewConcert) -> Result<Concert, DependencyError> {
        let id = new.id;
        self.write(move |connection| insert(connection, &new))
            .await
            .map_err(|error: TxError| error.into_refusal(crate::query_error))?;
        self.find_concert(id)
            .await?
            .ok_or_else(|| DependencyError::Failed("the stored concert is missing".into()))
    }

    async fn find_concert(&self, id: ConcertId) -> Result<Option<Concert>, DependencyError> {
        let id = id.as_uuid().to_string();
        let found = self
            .snapshot(move |connection| {
                Ok(concerts_where(connection, |connection| {
                    concerts::table
                        .find(id)
                        .select(ConcertRow::as_select())
                        .load(connection)
                }))
            })
            .await??;
        Ok(found.into_iter().next())
    }

    async fn list_concerts(
        &self,
        before: Option<ConcertId>,
        limit: PageLimit,
    ) -> Result<Vec<Concert>, DependencyError> {
        self.snapshot(move |connection| {
            Ok(concerts_where(connection, |connection| {
                let mut select = concerts::table
                    .select(ConcertRow::as_select())
                    .order(concerts::id.desc())
                    .limit(i64::from(limit.get()) + 1)
                    .into_boxed();
                if let Some(before) = before {
                    select = select.filter(concerts::id.lt(before.as_uuid().to_string()));
                }
                select.load(connection)
            }))
        })
        .await?
    }

    async fn find_performance(
        &self,
        id: PerformanceId,
    ) -> Result<Option<reserva_domain::tickets::Performance>, DependencyError> {
        let id = id.as_uuid().to_string();
        self.read(move |connection| performance_row(connection, &id))
            .await?
            .map(PerformanceRow::into_performance)
            .transpose()
    }

    async fn available_performances(
        &self,
        concert: ConcertId,
        now: DateTime<Utc>,
    ) -> Result<Vec<PerformanceAvailability>, DependencyError> {
        let concert = concert.as_uuid().to_string();
        let now = micros(now);
        let (rows, counts) = self
            .snapshot(move |connection| {
                let rows: Vec<PerformanceRow> = performances::table
                    .filter(performances::concert_id.eq(&concert))
                    .filter(performances::cancelled_at.is_null())
                    .filter(performances::starts_at.gt(now))
                    .order((performances::starts_at.asc(), performances::id.asc()))
                    .select(PerformanceRow::as_select())
                    .load(connection)?;
                Ok((rows, free_counts(connection, &concert, now)?))
            })
            .await?;
        let free: HashMap<String, i64> = counts.into_iter().collect();
        let mut available = Vec::new();
        for row in rows {
            let free_seats = free.get(&row.id).copied().unwrap_or(0);
            if free_seats > 0 {
                available.push(PerformanceAvailability {
                    performance: row.into_performance()?,
                    free_seats: u32::try_from(free_seats).unwrap_or(u32::MAX),
                });
            }
        }
        Ok(available)
    }

    async fn seat_map(
        &self,
        performance: PerformanceId,
        now: DateTime<Utc>,
    ) -> Result<Option<SeatMap>, DependencyError> {
        let id = performance.as_uuid().to_string();
        let Some((row, seats)) = self
            .snapshot(move |connection| {
                let Some(row) = performance_row(connection, &id)? else {
                    return Ok(None);
                };
                Ok(Some((row, seats_of(connection, &id)?)))
            })
            .await?
        else {
            return Ok(None);
        };
        let seats = seats
            .into_iter()
            .map(|seat| {
                let booking = seat.booking_id.as_deref().map(uuid).transpose()?;
                let expires_at = seat.hold_expires_at.map(instant).transpose()?;
                let number = SeatNumber::new(seat.seat_number)
                    .map_err(|_| DependencyError::Failed("stored seat number is corrupt".into()))?;
                Ok((number, seat_state(booking, expires_at, now)))
            })
            .collect::<Result<_, DependencyError>>()?;
        Ok(Some(SeatMap {
            performance: row.into_performance()?,
            seats,
        }))
    }

    async fn concerts_on_sale(
        &self,
        now: DateTime<Utc>,
        after: Option<ConcertId>,
        limit: u32,
    ) -> Result<Vec<ConcertId>, DependencyError> {
        let now = micros(now);
        // Hyphenated lowercase UUID text sorts as the UUIDs do.
        let after = after.map_or_else(String::new, |id| id.as_uuid().to_string());
        let ids: Vec<String> = self
            .read(move |connection| {
                performances::table
                    .filter(performances::cancelled_at.is_null())
                    .filter(performances::starts_at.gt(now))
                    .filter(performances::concert_id.gt(after))
                    .select(performances::concert_id)
                    .distinct()
                    .order(performances::concert_id.asc())
                    .limit(i64::from(limit))
                    .load(connection)
            })
            .await?;
        ids.iter()
            .map(|id| uuid(id).map(ConcertId::from_uuid))
            .collect()
    }

    async fn inventory(
        &self,
        concert: ConcertId,
        now: DateTime<Utc>,
    ) -> Result<ConcertInventory, DependencyError> {
        let concert = concert.as_uuid().to_string();
        let now = micros(now);
        let seats = self
            .read(move |connection| unsold_seats(connection, &concert, now))
            .await?;
        let unsold_seats = u32::try_from(seats.len()).unwrap_or(u32::MAX);
        let mut holds = Vec::new();
        for seat in seats {
            if let (Some(hold), Some(expires)) = (seat.hold_id, seat.hold_expires_at)
                && expires > now
            {
                holds.push((HoldId::from_uuid(uuid(&hold)?), instant(expires)?));
            }
        }
        Ok(ConcertInventory {
            unsold_seats,
            holds,
        })
    }
}
