//! Mocked ports and sample values for the tickets use-case tests.

use super::{Tickets, TicketsPorts};
use crate::accounts::Principal;
use crate::ports::system::MockClock;
use crate::ports::tickets::{MockConcertRepository, MockSeatHoldRepository};
use crate::ports::waiting_room::{MockWaitingRoom, PlaceStatus, QueuePlace, QueueToken};
use chrono::{DateTime, Duration, TimeZone, Utc};
use reserva_domain::accounts::{Role, SessionId, UserId};
use reserva_domain::exams::BusinessZone;
use reserva_domain::tickets::{
    Availability, Concert, ConcertId, ConcertTitle, HoldId, HoldStatus, Performance, PerformanceId,
    SeatCount, SeatHold, SeatNumber, TicketPolicy,
};
use reserva_domain::wallet::Money;
use std::sync::Arc;

pub(crate) const SEOUL: BusinessZone = BusinessZone::new(chrono_tz::Asia::Seoul);

/// 2026-11-25 12:00 in Seoul.
pub(crate) fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 3, 0, 0)
        .single()
        .unwrap_or_default()
}

pub(crate) fn principal(role: Role) -> Principal {
    Principal {
        user_id: UserId::from_uuid(uuid::Uuid::now_v7()),
        session_id: SessionId::from_uuid(uuid::Uuid::now_v7()),
        role,
    }
}

pub(crate) fn concert_id() -> ConcertId {
    ConcertId::from_uuid(uuid::Uuid::now_v7())
}

/// A performance of `concert` ten days ahead with ten seats.
pub(crate) fn performance(concert: ConcertId) -> Performance {
    let starts_at = now() + Duration::days(10);
    Performance {
        id: PerformanceId::from_uuid(uuid::Uuid::now_v7()),
        concert_id: concert,
        starts_at,
        local_date: SEOUL.date_of(starts_at),
        seats: SeatCount::new(10).expect("valid"),
        cancelled_at: None,
    }
}

/// A concert with one performance on sale.
pub(crate) fn concert(id: ConcertId) -> Concert {
    Concert {
        id,
        title: ConcertTitle::parse("Winter Gala").expect("valid"),
        price: Money::new(30_000).expect("valid"),
        performances: vec![performance(id)],
        created_at: now(),
    }
}

/// A live hold of `user` on seat 3 of a performance of `concert`.
pub(crate) fn hold(user: UserId, concert: ConcertId) -> SeatHold {
    SeatHold {
        id: HoldId::from_uuid(uuid::Uuid::now_v7()),
        performance_id: PerformanceId::from_uuid(uuid::Uuid::now_v7()),
        concert_id: concert,
        seat: SeatNumber::new(3).expect("valid"),
        user_id: user,
        price: Money::new(30_000).expect("valid"),
        status: HoldStatus::Held,
        created_at: now(),
        expires_at: now() + Duration::minutes(5),
    }
}

/// A well-formed token of `concert`.
pub(crate) fn token(concert: ConcertId) -> QueueToken {
    QueueToken::new(concert, "0123456789abcdef0123456789abcdef")
}

pub(crate) fn place(token: QueueToken, user: UserId, status: PlaceStatus) -> QueuePlace {
    QueuePlace {
        token,
        user_id: user,
        status,
        availability: Availability::PossiblyAvailable,
        admitted_recently: 0,
    }
}

pub(crate) fn active() -> PlaceStatus {
    PlaceStatus::Active {
        until: now() + Duration::minutes(10),
    }
}

pub(crate) struct Fixture {
    pub concerts: MockConcertRepository,
    pub holds: MockSeatHoldRepository,
    pub room: MockWaitingRoom,
}

impl Fixture {
    pub fn new() -> Self {
        Self {
            concerts: MockConcertRepository::new(),
            holds: MockSeatHoldRepository::new(),
            room: MockWaitingRoom::new(),
        }
    }

    /// The room answers every poll of `token` by `user` with an active place.
    pub fn active_token(&mut self, token: &QueueToken, user: UserId) {
        let token = token.clone();
        self.room
            .expect_poll()
            .returning(move |polled, _, _, _| Ok(Some(place(polled.clone(), user, active()))))
            .withf(move |polled, who, _, _| *polled == token && *who == user);
    }

    pub fn tickets(self) -> Tickets {
        let mut clock = MockClock::new();
        clock.expect_now().returning(now);
        let ports = TicketsPorts {
            concerts: Arc::new(self.concerts),
            holds: Arc::new(self.holds),
            room: Arc::new(self.room),
            clock: Arc::new(clock),
        };
        Tickets::new(ports, TicketPolicy::default(), SEOUL)
    }
}
