//! What an admitted user sees before choosing: the concert's dates with free seats, and one
//! performance's seat map. Both need the caller's active token for the concert.

use super::Tickets;
use super::access::{QueueAccessError, parse_token};
use crate::accounts::Principal;
use crate::ports::tickets::{PerformanceAvailability, SeatMap};
use crate::{DependencyError, ErrorClass, UseCaseError};
use reserva_domain::tickets::{ConcertId, PerformanceId};
use thiserror::Error;

/// Why the dates of a concert could not be listed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AvailableDatesError {
    /// The queue token does not let the caller through.
    #[error(transparent)]
    Queue(#[from] QueueAccessError),
    /// A dependency failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

impl UseCaseError for AvailableDatesError {
    fn class(&self) -> ErrorClass {
        match self {
            Self::Queue(error) => error.class(),
            Self::Dependency(error) => error.class(),
        }
    }
    fn code(&self) -> &'static str {
        match self {
            Self::Queue(error) => error.code(),
            Self::Dependency(error) => error.code(),
        }
    }
}

/// Why a seat map could not be shown.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SeatMapError {
    /// The queue token does not let the caller through.
    #[error(transparent)]
    Queue(#[from] QueueAccessError),
    /// No such performance.
    #[error("performance not found")]
    NotFound,
    /// A dependency failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

impl UseCaseError for SeatMapError {
    fn class(&self) -> ErrorClass {
        match self {
            Self::Queue(error) => error.class(),
            Self::NotFound => ErrorClass::NotFound,
            Self::Dependency(error) => error.class(),
        }
    }
    fn code(&self) -> &'static str {
        match self {
            Self::Queue(error) => error.code(),
            Self::NotFound => "not_found",
            Self::Dependency(error) => error.code(),
        }
    }
}

impl Tickets {
    /// The concert's performances on sale with at least one free seat, earliest first.
    ///
    /// # Errors
    /// `Queue` (no, invalid, waiting or another concert's token), `Dependency`.
    pub async fn available_dates(
        &self,
        principal: &Principal,
        token: Option<&str>,
        concert: ConcertId,
    ) -> Result<Vec<PerformanceAvailability>, AvailableDatesError> {
        let token = parse_token(token)?;
        self.require_active(principal, &token, concert).await?;
        Ok(self
            .ports
            .concerts
            .available_performances(concert, self.now())
            .await?)
    }

    /// Every seat of a performance with its state now.
    ///
    /// # Errors
    /// `Queue`, `NotFound`, `Dependency`.
    pub async fn seat_map(
        &self,
        principal: &Principal,
        token: Option<&str>,
        performance: PerformanceId,
    ) -> Result<SeatMap, SeatMapError> {
        let token = parse_token(token)?;
        // One read gives both the seats and the concert the token must be for; nothing of it
        // is shown until the token passes.
        let map = self
            .ports
            .concerts
            .seat_map(performance, self.now())
            .await?
            .ok_or(SeatMapError::NotFound)?;
        self.require_active(principal, &token, map.performance.concert_id)
            .await?;
        Ok(map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::waiting_room::PlaceStatus;
    use crate::tickets::test_support::{Fixture, concert_id, performance, place, principal, token};
    use reserva_domain::accounts::Role;
    use reserva_domain::tickets::SeatState;

    #[tokio::test]
    async fn dates_need_an_active_token_of_the_concert() {
        let caller = principal(Role::Member);
        let id = concert_id();
        let mine = token(id);
        let mut fixture = Fixture::new();
        fixture.active_token(&mine, caller.user_id);
        fixture
            .concerts
            .expect_available_performances()
            .withf(move |concert, _| *concert == id)
            .returning(move |concert, _| {
                Ok(vec![PerformanceAvailability {
                    performance: performance(concert),
                    free_seats: 4,
                }])
            });
        let tickets = fixture.tickets();
        let dates = tickets
            .available_dates(&caller, Some(mine.as_str()), id)
            .await;
        assert_eq!(dates.map(|d| d[0].free_seats), Ok(4));
        let elsewhere = tickets
            .available_dates(&caller, Some(mine.as_str()), concert_id())
            .await;
        assert_eq!(
            elsewhere.map_err(|e| e.code()),
            Err("queue_token_wrong_concert")
        );

        let mut fixture = Fixture::new();
        fixture.room.expect_poll().returning(|token, user, _, _| {
            Ok(Some(place(
                token.clone(),
                user,
                PlaceStatus::Waiting { position: 2 },
            )))
        });
        fixture.concerts.expect_available_performances().never();
        let waiting = fixture
            .tickets()
            .available_dates(&caller, Some(mine.as_str()), id)
            .await
            .expect_err("waiting");
        assert_eq!(
            (waiting.class(), waiting.code()),
            (ErrorClass::Forbidden, "queue_token_not_active")
        );
    }

    #[tokio::test]
    async fn a_seat_map_is_shown_only_to_an_active_token_of_its_concert() {
        let caller = principal(Role::Member);
        let id = concert_id();
        let mine = token(id);
        let stored = performance(id);
        let wanted = stored.id;
        let mut fixture = Fixture::new();
        fixture.active_token(&mine, caller.user_id);
        fixture
            .concerts
            .expect_seat_map()
            .returning(move |asked, _| {
                Ok((asked == wanted).then(|| SeatMap {
                    performance: stored.clone(),
                    seats: stored
                        .seats
                        .seats()
                        .map(|n| (n, SeatState::Available))
                        .collect(),
                }))
            });
        let tickets = fixture.tickets();
        let map = tickets.seat_map(&caller, Some(mine.as_str()), wanted).await;
        assert_eq!(map.map(|m| m.seats.len()), Ok(10));
        let missing = tickets
            .seat_map(
                &caller,
                Some(mine.as_str()),
                PerformanceId::from_uuid(uuid::Uuid::now_v7()),
            )
            .await;
        assert_eq!(missing.map_err(|e| e.code()), Err("not_found"));
        let none = tickets.seat_map(&caller, None, wanted).await;
        assert_eq!(none.map_err(|e| e.code()), Err("queue_token_required"));
        let other = token(concert_id());
        let mut fixture = Fixture::new();
        fixture.active_token(&other, caller.user_id);
        let copy = performance(id);
        fixture.concerts.expect_seat_map().returning(move |_, _| {
            Ok(Some(SeatMap {
                performance: copy.clone(),
                seats: vec![],
            }))
        });
        let wrong = fixture
            .tickets()
            .seat_map(&caller, Some(other.as_str()), wanted)
            .await;
        assert_eq!(
            wrong.map_err(|e| e.code()),
            Err("queue_token_wrong_concert")
        );
    }
}
