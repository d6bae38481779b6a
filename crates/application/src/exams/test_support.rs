//! Mocked ports for the exams use-case tests.

use super::{Exams, ExamsPorts};
use crate::accounts::Principal;
use crate::ports::exams::{MockExamSlotRepository, MockReservationRepository};
use crate::ports::system::MockClock;
use chrono::{DateTime, Duration, TimeZone, Utc};
use reserva_domain::accounts::{Role, SessionId, UserId};
use reserva_domain::exams::{
    BookingPolicy, BusinessZone, Headcount, HourRange, Reservation, ReservationId,
    ReservationStatus,
};
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

/// A reservation of `owner` ten days ahead for two hours.
pub(crate) fn reservation(owner: UserId, status: ReservationStatus) -> Reservation {
    let start = now() + Duration::days(10);
    Reservation {
        id: ReservationId::from_uuid(uuid::Uuid::now_v7()),
        user_id: owner,
        range: HourRange::new(start, start + Duration::hours(2), SEOUL).expect("whole hours"),
        headcount: Headcount::new(100).expect("valid"),
        status,
        created_at: now(),
        updated_at: now(),
        confirmed_at: None,
        cancelled_at: None,
    }
}

pub(crate) struct Fixture {
    pub slots: MockExamSlotRepository,
    pub reservations: MockReservationRepository,
}

impl Fixture {
    pub fn new() -> Self {
        Self {
            slots: MockExamSlotRepository::new(),
            reservations: MockReservationRepository::new(),
        }
    }

    pub fn exams(self) -> Exams {
        let mut clock = MockClock::new();
        clock.expect_now().returning(now);
        let ports = ExamsPorts {
            slots: Arc::new(self.slots),
            reservations: Arc::new(self.reservations),
            clock: Arc::new(clock),
        };
        Exams::new(ports, BookingPolicy::default(), SEOUL)
    }
}
