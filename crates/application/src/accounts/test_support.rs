//! Mocked ports for the accounts use-case tests.

use super::{AccountPolicy, Accounts, AccountsPorts};
use crate::ports::accounts::{MockSessionRepository, MockUserRepository, UserWriteError};
use crate::ports::security::{MockAccessTokenCodec, MockPasswordHasher, MockRefreshTokenMinter};
use crate::ports::shared_state::{MockRateLimiter, MockSessionRevocations};
use crate::ports::system::MockClock;
use chrono::{DateTime, TimeZone, Utc};
use reserva_domain::accounts::{Email, Role, User, UserId, Username};
use std::sync::Arc;

pub(crate) fn fixed_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 9, 0, 0)
        .single()
        .unwrap_or_default()
}

pub(crate) fn member(id: UserId, email: &str) -> User {
    user_with_role(id, email, Role::Member)
}

pub(crate) fn user_with_role(id: UserId, email: &str, role: Role) -> User {
    let (Ok(email), Ok(username)) = (Email::parse(email), Username::parse("someone")) else {
        panic!("test fixture values must be valid");
    };
    User {
        id,
        email,
        username,
        role,
        is_active: true,
        created_at: fixed_now(),
        updated_at: fixed_now(),
    }
}

/// One mock per port; set expectations, then call [`Fixture::accounts`].
pub(crate) struct Fixture {
    pub users: MockUserRepository,
    pub sessions: MockSessionRepository,
    pub passwords: MockPasswordHasher,
    pub access_tokens: MockAccessTokenCodec,
    pub refresh_tokens: MockRefreshTokenMinter,
    pub revocations: MockSessionRevocations,
    pub rate_limiter: MockRateLimiter,
}

impl Fixture {
    pub fn new() -> Self {
        Self {
            users: MockUserRepository::new(),
            sessions: MockSessionRepository::new(),
            passwords: MockPasswordHasher::new(),
            access_tokens: MockAccessTokenCodec::new(),
            refresh_tokens: MockRefreshTokenMinter::new(),
            revocations: MockSessionRevocations::new(),
            rate_limiter: MockRateLimiter::new(),
        }
    }

    /// A role or activity change is marked, then refused by the store with `error`.
    pub fn store_refuses_update(&mut self, error: UserWriteError) {
        self.revocations
            .expect_mark_user_changed()
            .returning(|_, _| Ok(()));
        self.users
            .expect_update_user()
            .return_once(move |_, _, _, _| Err(error));
    }

    pub fn accounts(self) -> Accounts {
        let mut clock = MockClock::new();
        clock.expect_now().returning(fixed_now);
        Accounts::new(
            AccountsPorts {
                users: Arc::new(self.users),
                sessions: Arc::new(self.sessions),
                passwords: Arc::new(self.passwords),
                access_tokens: Arc::new(self.access_tokens),
                refresh_tokens: Arc::new(self.refresh_tokens),
                revocations: Arc::new(self.revocations),
                rate_limiter: Arc::new(self.rate_limiter),
                clock: Arc::new(clock),
            },
            AccountPolicy::default(),
        )
    }
}
