//! Concerts: admins create them (with their performances and seats); every user lists and reads
//! them.

use super::{Tickets, room_update_failed};
use crate::accounts::Principal;
use crate::ports::tickets::{NewConcert, NewPerformance};
use crate::ports::waiting_room::RoomInventory;
use crate::{DependencyError, ErrorClass, FieldViolation, UseCaseError};
use chrono::{DateTime, Utc};
use reserva_domain::paging::PageLimit;
use reserva_domain::tickets::{Concert, ConcertId, ConcertTitle, PerformanceId, SeatCount};
use reserva_domain::wallet::Money;
use std::collections::HashSet;
use thiserror::Error;

/// The most performances one concert may be created with.
pub const MAX_PERFORMANCES: usize = 100;

/// A concert as an admin asked for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateConcertCommand {
    /// Title.
    pub title: String,
    /// Price of one seat.
    pub price: i64,
    /// When each performance starts.
    pub performances: Vec<DateTime<Utc>>,
    /// Seats of every performance; the policy's default when absent.
    pub seats: Option<i64>,
}

/// Why creating a concert failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CreateConcertError {
    /// Not an admin.
    #[error("only admins may create concerts")]
    Forbidden,
    /// The input breaks a rule (title, price, performances, seats).
    #[error("invalid concert")]
    Invalid(Vec<FieldViolation>),
    /// A dependency failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

impl UseCaseError for CreateConcertError {
    fn class(&self) -> ErrorClass {
        match self {
            Self::Forbidden => ErrorClass::Forbidden,
            Self::Invalid(_) => ErrorClass::InvalidInput,
            Self::Dependency(error) => error.class(),
        }
    }
    fn code(&self) -> &'static str {
        match self {
            Self::Forbidden => "forbidden",
            Self::Invalid(_) => "validation_failed",
            Self::Dependency(error) => error.code(),
        }
    }
    fn violations(&self) -> &[FieldViolation] {
        match self {
            Self::Invalid(violations) => violations,
            _ => &[],
        }
    }
}

/// One page of concerts, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConcertPage {
    /// Concerts.
    pub items: Vec<Concert>,
    /// Start of the next page, if any.
    pub next: Option<ConcertId>,
}

/// Why listing concerts failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ListConcertsError {
    /// A dependency failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

impl UseCaseError for ListConcertsError {
    fn class(&self) -> ErrorClass {
        match self {
            Self::Dependency(error) => error.class(),
        }
    }
    fn code(&self) -> &'static str {
        match self {
            Self::Dependency(error) => error.code(),
        }
    }
}

/// Why reading a concert failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum GetConcertError {
    /// No such concert.
    #[error("concert not found")]
    NotFound,
    /// A dependency failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

impl UseCaseError for GetConcertError {
    fn class(&self) -> ErrorClass {
        match self {
            Self::NotFound => ErrorClass::NotFound,
            Self::Dependency(error) => error.class(),
        }
    }
    fn code(&self) -> &'static str {
        match self {
            Self::NotFound => "not_found",
            Self::Dependency(error) => error.code(),
        }
    }
}

impl Tickets {
    /// Creates a concert with its performances (each with its seats), and opens its room.
    ///
    /// # Errors
    /// `Forbidden` for non-admins, `Invalid` listing every broken rule, `Dependency`.
    #[tracing::instrument(skip_all, fields(user_id = %principal.user_id))]
    pub async fn create_concert(
        &self,
        principal: &Principal,
        command: CreateConcertCommand,
    ) -> Result<Concert, CreateConcertError> {
        if !principal.is_admin() {
            return Err(CreateConcertError::Forbidden);
        }
        let now = self.now();
        let new = self
            .validate_concert(&command, now)
            .map_err(CreateConcertError::Invalid)?;
        let concert = self.ports.concerts.insert_concert(new).await?;
        let unsold_seats = concert
            .performances
            .iter()
            .map(|performance| u32::from(performance.seats.get()))
            .sum();
        let inventory = RoomInventory {
            unsold_seats,
            holds: Vec::new(),
        };
        if let Err(error) = self.ports.room.set_inventory(concert.id, &inventory).await {
            room_update_failed("set_inventory", concert.id, &error);
        }
        Ok(concert)
    }

    /// Checks every rule of a new concert at `now`, collecting all that are broken.
    fn validate_concert(
        &self,
        command: &CreateConcertCommand,
        now: DateTime<Utc>,
    ) -> Result<NewConcert, Vec<FieldViolation>> {
        let mut violations = Vec::new();
        let title = ConcertTitle::parse(&command.title)
            .map_err(|rule| violations.push(FieldViolation::new("title", rule.code(), rule)))
            .ok();
        let price = Money::new(command.price)
            .map_err(|rule| violations.push(FieldViolation::new("price", "negative_amount", rule)))
            .ok();
        let seats = match command.seats {
            None => Some(self.policy.default_seats),
            Some(count) => SeatCount::new(count)
                .map_err(|rule| {
                    violations.push(FieldViolation::new("seats", "invalid_seat_count", rule));
                })
                .ok(),
        };
        violations.extend(performance_violations(&command.performances, now));
        match (title, price, seats) {
            (Some(title), Some(price), Some(seats)) if violations.is_empty() => {
                let mut starts: Vec<DateTime<Utc>> = command.performances.clone();
                starts.sort_unstable();
                let performances = starts
                    .into_iter()
                    .map(|starts_at| NewPerformance {
                        id: PerformanceId::from_uuid(uuid::Uuid::now_v7()),
                        starts_at,
                        local_date: self.zone.date_of(starts_at),
                        seats,
                    })
                    .collect();
                Ok(NewConcert {
                    id: ConcertId::from_uuid(uuid::Uuid::now_v7()),
                    title,
                    price,
                    performances,
                    now,
                })
            }
            _ => Err(violations),
        }
    }

    /// Concerts, newest first.
    ///
    /// # Errors
    /// `Dependency`.
    pub async fn list_concerts(
        &self,
        _principal: &Principal,
        before: Option<ConcertId>,
        limit: PageLimit,
    ) -> Result<ConcertPage, ListConcertsError> {
        let mut items = self.ports.concerts.list_concerts(before, limit).await?;
        let next = super::bookings::cut_page(&mut items, limit, |concert| concert.id);
        Ok(ConcertPage { items, next })
    }

    /// One concert with its performances (cancelled ones included).
    ///
    /// # Errors
    /// `NotFound`, `Dependency`.
    pub async fn get_concert(
        &self,
        _principal: &Principal,
        id: ConcertId,
    ) -> Result<Concert, GetConcertError> {
        self.ports
            .concerts
            .find_concert(id)
            .await?
            .ok_or(GetConcertError::NotFound)
    }
}

/// The broken rules of a list of performance starts: 1 to [`MAX_PERFORMANCES`] of them, each in
/// the future, no two at the same instant. Each rule is reported once.
fn performance_violations(starts: &[DateTime<Utc>], now: DateTime<Utc>) -> Vec<FieldViolation> {
    let mut violations = Vec::new();
    if starts.is_empty() {
        violations.push(FieldViolation::new(
            "performances",
            "no_performances",
            "a concert needs at least one performance",
        ));
    }
    if starts.len() > MAX_PERFORMANCES {
        violations.push(FieldViolation::new(
            "performances",
            "too_many_performances",
            format!("a concert may have at most {MAX_PERFORMANCES} performances"),
        ));
    }
    if starts.iter().any(|starts_at| *starts_at <= now) {
        violations.push(FieldViolation::new(
            "performances",
            "performance_in_past",
            "every performance must start in the future",
        ));
    }
    let mut seen = HashSet::new();
    if !starts.iter().all(|starts_at| seen.insert(*starts_at)) {
        violations.push(FieldViolation::new(
            "performances",
            "duplicate_performance",
            "two performances start at the same instant",
        ));
    }
    violations
}
