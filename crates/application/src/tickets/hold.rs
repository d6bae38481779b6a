//! Holding a seat (an active token needed) and releasing a hold (its owner).

use super::access::{QueueAccessError, parse_token};
use super::{Tickets, room_update_failed};
use crate::accounts::Principal;
use crate::ports::tickets::{HoldError, NewHold, ReleaseError};
use crate::{DependencyError, ErrorClass, FieldViolation, UseCaseError};
use reserva_domain::tickets::{HoldId, PerformanceId, SeatHold, SeatNumber, SeatOutOfRange};
use thiserror::Error;

/// Why a seat could not be held.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum HoldSeatError {
    /// The queue token does not let the caller through.
    #[error(transparent)]
    Queue(#[from] QueueAccessError),
    /// The seat number is outside the performance's seats.
    #[error("invalid seat")]
    Invalid(Vec<FieldViolation>),
    /// No such performance.
    #[error("performance not found")]
    NotFound,
    /// The performance was cancelled or has started.
    #[error("performance is not on sale")]
    NotOnSale,
    /// Sold, or under a live hold.
    #[error("seat is not available")]
    SeatUnavailable,
    /// The caller already holds or owns a seat of this concert on this date.
    #[error("already holding or owning a seat for this date")]
    AlreadyHoldingForDate,
    /// A dependency failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

impl UseCaseError for HoldSeatError {
    fn class(&self) -> ErrorClass {
        match self {
            Self::Queue(error) => error.class(),
            Self::Invalid(_) => ErrorClass::InvalidInput,
            Self::NotFound => ErrorClass::NotFound,
            Self::NotOnSale | Self::SeatUnavailable | Self::AlreadyHoldingForDate => {
                ErrorClass::Conflict
            }
            Self::Dependency(error) => error.class(),
        }
    }
    fn code(&self) -> &'static str {
        match self {
            Self::Queue(error) => error.code(),
            Self::Invalid(_) => "validation_failed",
            Self::NotFound => "not_found",
            Self::NotOnSale => "not_on_sale",
            Self::SeatUnavailable => "seat_unavailable",
            Self::AlreadyHoldingForDate => "already_holding_for_date",
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

fn seat_out_of_range(rule: SeatOutOfRange) -> HoldSeatError {
    HoldSeatError::Invalid(vec![FieldViolation::new(
        "seat_number",
        "seat_out_of_range",
        rule,
    )])
}

/// Why a hold could not be released.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ReleaseHoldError {
    /// No such hold, or someone else's.
    #[error("hold not found")]
    NotFound,
    /// Paid: the seat stays sold.
    #[error("hold already paid")]
    AlreadyPaid,
    /// A dependency failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

impl UseCaseError for ReleaseHoldError {
    fn class(&self) -> ErrorClass {
        match self {
            Self::NotFound => ErrorClass::NotFound,
            Self::AlreadyPaid => ErrorClass::Conflict,
            Self::Dependency(error) => error.class(),
        }
    }
    fn code(&self) -> &'static str {
        match self {
            Self::NotFound => "not_found",
            Self::AlreadyPaid => "hold_already_paid",
            Self::Dependency(error) => error.code(),
        }
    }
}

impl Tickets {
    /// Holds a seat for the caller for the policy's hold time.
    ///
    /// # Errors
    /// `Queue`, `Invalid` (`seat_number`: `seat_out_of_range`), `NotFound`, `NotOnSale`,
    /// `SeatUnavailable`, `AlreadyHoldingForDate`, `Dependency`.
    #[tracing::instrument(skip_all, fields(user_id = %principal.user_id, performance_id = %performance))]
    pub async fn hold_seat(
        &self,
        principal: &Principal,
        token: Option<&str>,
        performance: PerformanceId,
        seat: i64,
    ) -> Result<SeatHold, HoldSeatError> {
        let token = parse_token(token)?;
        let seat = SeatNumber::new(seat).map_err(seat_out_of_range)?;
        let stored = self
            .ports
            .concerts
            .find_performance(performance)
            .await?
            .ok_or(HoldSeatError::NotFound)?;
        self.require_active(principal, &token, stored.concert_id)
            .await?;
        let seat = seat.within(stored.seats).map_err(seat_out_of_range)?;
        let now = self.now();
        let new = NewHold {
            id: HoldId::from_uuid(uuid::Uuid::now_v7()),
            performance_id: performance,
            seat,
            user_id: principal.user_id,
            now,
            expires_at: now + self.policy.hold_ttl,
        };
        let hold = self
            .ports
            .holds
            .hold_seat(new)
            .await
            .map_err(|error| match error {
                HoldError::PerformanceNotFound => HoldSeatError::NotFound,
                HoldError::NotOnSale => HoldSeatError::NotOnSale,
                HoldError::NoSuchSeat { count, .. } => seat_out_of_range(SeatOutOfRange { count }),
                HoldError::SeatUnavailable => HoldSeatError::SeatUnavailable,
                HoldError::AlreadyHoldingForDate => HoldSeatError::AlreadyHoldingForDate,
                HoldError::Dependency(error) => error.into(),
            })?;
        let recorded = self
            .ports
            .room
            .hold_recorded(hold.concert_id, hold.id, hold.expires_at)
            .await;
        if let Err(error) = recorded {
            room_update_failed("hold_recorded", hold.concert_id, &error);
        }
        Ok(hold)
    }

    /// Releases the caller's hold, freeing its seat. A hold already expired or released is
    /// fine (releasing is idempotent).
    ///
    /// # Errors
    /// `NotFound` (also someone else's), `AlreadyPaid`, `Dependency`.
    #[tracing::instrument(skip_all, fields(user_id = %principal.user_id, hold_id = %id))]
    pub async fn release_hold(
        &self,
        principal: &Principal,
        id: HoldId,
    ) -> Result<(), ReleaseHoldError> {
        let hold = self
            .ports
            .holds
            .release_hold(id, principal.user_id, self.now())
            .await
            .map_err(|error| match error {
                ReleaseError::NotFound => ReleaseHoldError::NotFound,
                ReleaseError::AlreadyPaid => ReleaseHoldError::AlreadyPaid,
                ReleaseError::Dependency(error) => error.into(),
            })?;
        // Unknown holds are ignored by the room, so telling it about a hold that had already
        // expired or been released is harmless.
        if let Err(error) = self
            .ports
            .room
            .hold_released(hold.concert_id, hold.id)
            .await
        {
            room_update_failed("hold_released", hold.concert_id, &error);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tickets::test_support::{Fixture, concert_id, hold, performance, principal, token};
    use reserva_domain::accounts::Role;

    /// A fixture whose performance (10 seats) exists and whose caller holds an active token.
    fn admitted(caller: &Principal) -> (Fixture, PerformanceId, String) {
        let concert = concert_id();
        let stored = performance(concert);
        let id = stored.id;
        let mine = token(concert);
        let mut fixture = Fixture::new();
        fixture
            .concerts
            .expect_find_performance()
            .returning(move |_| Ok(Some(stored.clone())));
        fixture.active_token(&mine, caller.user_id);
        (fixture, id, mine.as_str().to_owned())
    }

    #[tokio::test]
    async fn holds_for_the_policys_time_and_tells_the_room() {
        let caller = principal(Role::Member);
        let (mut fixture, performance, raw) = admitted(&caller);
        fixture
            .holds
            .expect_hold_seat()
            .withf(move |new| {
                new.seat.get() == 10
                    && new.user_id == caller.user_id
                    && new.expires_at - new.now == chrono::Duration::minutes(5)
            })
            .times(1)
            .returning(|new| {
                let mut made = hold(new.user_id, concert_id());
                made.id = new.id;
                made.expires_at = new.expires_at;
                Ok(made)
            });
        fixture
            .room
            .expect_hold_recorded()
            .times(1)
            .returning(|_, _, _| Ok(()));
        let result = fixture
            .tickets()
            .hold_seat(&caller, Some(&raw), performance, 10)
            .await;
        assert!(result.is_ok(), "{result:?}");
    }

    #[tokio::test]
    async fn a_room_that_misses_the_hold_does_not_fail_it() {
        let caller = principal(Role::Member);
        let (mut fixture, performance, raw) = admitted(&caller);
        fixture
            .holds
            .expect_hold_seat()
            .returning(|new| Ok(hold(new.user_id, concert_id())));
        fixture
            .room
            .expect_hold_recorded()
            .returning(|_, _, _| Err(DependencyError::Unavailable("redis".into())));
        let result = fixture
            .tickets()
            .hold_seat(&caller, Some(&raw), performance, 1)
            .await;
        assert!(result.is_ok(), "{result:?}");
    }

    #[tokio::test]
    async fn seats_outside_the_performance_are_validation_errors() {
        let caller = principal(Role::Member);
        for seat in [0, 11, 51, -3] {
            let (mut fixture, performance, raw) = admitted(&caller);
            fixture.holds.expect_hold_seat().never();
            let error = fixture
                .tickets()
                .hold_seat(&caller, Some(&raw), performance, seat)
                .await
                .expect_err("out of range");
            assert_eq!(error.class(), ErrorClass::InvalidInput, "{seat}");
            assert_eq!(
                (error.violations()[0].field, error.violations()[0].code),
                ("seat_number", "seat_out_of_range")
            );
        }
    }

    #[tokio::test]
    async fn the_stores_refusals_keep_their_codes() {
        let caller = principal(Role::Member);
        let cases = [
            (HoldError::PerformanceNotFound, "not_found"),
            (HoldError::NotOnSale, "not_on_sale"),
            (
                HoldError::NoSuchSeat { seat: 9, count: 8 },
                "validation_failed",
            ),
            (HoldError::SeatUnavailable, "seat_unavailable"),
            (HoldError::AlreadyHoldingForDate, "already_holding_for_date"),
            (
                HoldError::Dependency(DependencyError::Unavailable("db".into())),
                "service_unavailable",
            ),
        ];
        for (refusal, code) in cases {
            let (mut fixture, performance, raw) = admitted(&caller);
            fixture
                .holds
                .expect_hold_seat()
                .return_once(move |_| Err(refusal));
            fixture.room.expect_hold_recorded().never();
            let error = fixture
                .tickets()
                .hold_seat(&caller, Some(&raw), performance, 1)
                .await
                .expect_err("refused");
            assert_eq!(error.code(), code);
        }
    }

    #[tokio::test]
    async fn unknown_performances_and_missing_tokens_hold_nothing() {
        let caller = principal(Role::Member);
        let mut fixture = Fixture::new();
        fixture
            .concerts
            .expect_find_performance()
            .returning(|_| Ok(None));
        let raw = token(concert_id());
        let id = PerformanceId::from_uuid(uuid::Uuid::now_v7());
        let tickets = fixture.tickets();
        let error = tickets.hold_seat(&caller, Some(raw.as_str()), id, 1).await;
        assert_eq!(error.map_err(|e| e.code()), Err("not_found"));
        let error = tickets.hold_seat(&caller, None, id, 1).await;
        assert_eq!(error.map_err(|e| e.code()), Err("queue_token_required"));
    }

    #[tokio::test]
    async fn releasing_frees_the_seat_in_the_room_too() {
        let caller = principal(Role::Member);
        let held = hold(caller.user_id, concert_id());
        let (concert, id) = (held.concert_id, held.id);
        let mut fixture = Fixture::new();
        fixture
            .holds
            .expect_release_hold()
            .withf(move |hold, user, _| *hold == id && *user == caller.user_id)
            .return_once(move |_, _, _| Ok(held));
        fixture
            .room
            .expect_hold_released()
            .withf(move |c, h| *c == concert && *h == id)
            .times(1)
            .returning(|_, _| Err(DependencyError::Unavailable("redis".into())));
        assert_eq!(fixture.tickets().release_hold(&caller, id).await, Ok(()));

        for (refusal, code) in [
            (ReleaseError::NotFound, "not_found"),
            (ReleaseError::AlreadyPaid, "hold_already_paid"),
        ] {
            let mut fixture = Fixture::new();
            fixture
                .holds
                .expect_release_hold()
                .return_once(move |_, _, _| Err(refusal));
            fixture.room.expect_hold_released().never();
            let error = fixture.tickets().release_hold(&caller, id).await;
            assert_eq!(error.map_err(|e| e.code()), Err(code));
        }
    }
}
