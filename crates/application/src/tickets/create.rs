//! Creating a concert (admins): its title, price and performances are checked together, every
//! performance gets its seats, and the concert's waiting room gets its first inventory.

use super::{Tickets, room_update_failed};
use crate::accounts::Principal;
use crate::ports::tickets::{NewConcert, NewPerformance};
use crate::ports::waiting_room::RoomInventory;
use crate::{DependencyError, ErrorClass, FieldViolation, UseCaseError};
use chrono::{DateTime, Utc};
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tickets::test_support::{Fixture, now, principal};
    use chrono::Duration;
    use reserva_domain::accounts::Role;
    use reserva_domain::tickets::Performance;

    fn command(starts: Vec<DateTime<Utc>>) -> CreateConcertCommand {
        CreateConcertCommand {
            title: "  Winter Gala ".into(),
            price: 30_000,
            performances: starts,
            seats: None,
        }
    }

    /// What a store answers to an insert: what it was given.
    fn stored(new: NewConcert) -> Result<Concert, DependencyError> {
        Ok(Concert {
            id: new.id,
            title: new.title,
            price: new.price,
            performances: new
                .performances
                .into_iter()
                .map(|p| Performance {
                    id: p.id,
                    concert_id: new.id,
                    starts_at: p.starts_at,
                    local_date: p.local_date,
                    seats: p.seats,
                    cancelled_at: None,
                })
                .collect(),
            created_at: new.now,
        })
    }

    fn storing(fixture: &mut Fixture) {
        fixture.concerts.expect_insert_concert().returning(stored);
    }

    #[tokio::test]
    async fn admins_create_with_default_seats_sorted_dates_and_an_opened_room() {
        let later = now() + Duration::days(20);
        let sooner = now() + Duration::days(10) + Duration::hours(16);
        let mut fixture = Fixture::new();
        fixture
            .concerts
            .expect_insert_concert()
            .withf(move |new| {
                new.title.as_str() == "Winter Gala"
                    && new.price.get() == 30_000
                    && new.performances.iter().map(|p| p.starts_at).eq([sooner, later])
                    && new.performances.iter().all(|p| p.seats.get() == 50)
                    // 2026-12-05 19:00 UTC is 2026-12-06 in Seoul.
                    && new.performances[0].local_date.to_string() == "2026-12-06"
            })
            .times(1)
            .returning(stored);
        fixture
            .room
            .expect_set_inventory()
            .withf(|_, inventory| inventory.unsold_seats == 100 && inventory.holds.is_empty())
            .times(1)
            .returning(|_, _| Ok(()));
        let created = fixture
            .tickets()
            .create_concert(&principal(Role::Admin), command(vec![later, sooner]))
            .await
            .expect("created");
        assert_eq!(created.performances.len(), 2);
    }

    #[tokio::test]
    async fn a_room_that_cannot_be_opened_does_not_fail_the_creation() {
        let mut fixture = Fixture::new();
        storing(&mut fixture);
        fixture
            .room
            .expect_set_inventory()
            .returning(|_, _| Err(DependencyError::Unavailable("redis down".into())));
        let mut explicit = command(vec![now() + Duration::days(1)]);
        explicit.seats = Some(7);
        let created = fixture
            .tickets()
            .create_concert(&principal(Role::Admin), explicit)
            .await
            .expect("created");
        assert_eq!(created.performances[0].seats.get(), 7);
    }

    #[tokio::test]
    async fn only_admins_create() {
        for role in [Role::Member, Role::Tutor] {
            let result = Fixture::new()
                .tickets()
                .create_concert(&principal(role), command(vec![now() + Duration::days(1)]))
                .await;
            let error = result.expect_err("forbidden");
            assert_eq!(
                (error.class(), error.code()),
                (ErrorClass::Forbidden, "forbidden")
            );
        }
    }

    fn codes(error: &CreateConcertError) -> Vec<(&'static str, &'static str)> {
        error
            .violations()
            .iter()
            .map(|v| (v.field, v.code))
            .collect()
    }

    #[tokio::test]
    async fn every_broken_rule_is_a_field_violation() {
        let tickets = Fixture::new().tickets();
        let admin = principal(Role::Admin);
        let soon = now() + Duration::days(1);
        let cases: Vec<(CreateConcertCommand, Vec<(&str, &str)>)> = vec![
            (
                CreateConcertCommand {
                    title: "   ".into(),
                    price: -1,
                    performances: vec![],
                    seats: Some(51),
                },
                vec![
                    ("title", "title_empty"),
                    ("price", "negative_amount"),
                    ("seats", "invalid_seat_count"),
                    ("performances", "no_performances"),
                ],
            ),
            (
                CreateConcertCommand {
                    title: "x".repeat(201),
                    seats: Some(0),
                    ..command(vec![soon])
                },
                vec![("title", "title_too_long"), ("seats", "invalid_seat_count")],
            ),
            (
                command(vec![soon, now(), soon]),
                vec![
                    ("performances", "performance_in_past"),
                    ("performances", "duplicate_performance"),
                ],
            ),
            (
                command(
                    (1..=101)
                        .map(|hours| now() + Duration::hours(hours))
                        .collect(),
                ),
                vec![("performances", "too_many_performances")],
            ),
        ];
        for (command, expected) in cases {
            let error = tickets
                .create_concert(&admin, command.clone())
                .await
                .expect_err("invalid");
            assert_eq!(error.class(), ErrorClass::InvalidInput);
            assert_eq!(codes(&error), expected, "{command:?}");
        }
        let control = CreateConcertCommand {
            title: "bad\u{7}title".into(),
            ..command(vec![soon])
        };
        let error = tickets
            .create_concert(&admin, control)
            .await
            .expect_err("invalid");
        assert_eq!(error.violations()[0].field, "title");
        // exactly 100 is fine
        let mut fixture = Fixture::new();
        storing(&mut fixture);
        fixture.room.expect_set_inventory().returning(|_, _| Ok(()));
        let hundred = command((1..=100).map(|h| now() + Duration::hours(h)).collect());
        assert!(
            fixture
                .tickets()
                .create_concert(&admin, hundred)
                .await
                .is_ok()
        );
    }
}
