//! Mocked ports for the accounts use-case tests, and a counting rate limiter: login limits are
//! about counts across calls, which a map states more plainly than mock expectations.

use super::{AccountPolicy, Accounts, AccountsPorts};
use crate::DependencyError;
use crate::ports::accounts::{MockSessionRepository, MockUserRepository, UserWriteError};
use crate::ports::security::{MockAccessTokenCodec, MockPasswordHasher, MockRefreshTokenMinter};
use crate::ports::shared_state::{MockSessionRevocations, RateLimiter, WindowCount};
use crate::ports::system::MockClock;
use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};
use reserva_domain::accounts::{Email, Role, User, UserId, Username};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The client address of the use-case tests.
pub(crate) const CLIENT: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));

/// Windows that never end, counted in a map; `down` makes every call `Unavailable`.
#[derive(Debug, Default)]
pub(crate) struct CountingLimiter {
    hits: Mutex<HashMap<String, u32>>,
    pub down: AtomicBool,
}

impl CountingLimiter {
    /// Hits counted for `key`.
    pub fn count(&self, key: &str) -> u32 {
        self.hits
            .lock()
            .map(|hits| hits.get(key).copied().unwrap_or(0))
            .unwrap_or(0)
    }

    /// Hits counted over every key.
    pub fn total(&self) -> u32 {
        self.hits
            .lock()
            .map(|hits| hits.values().sum())
            .unwrap_or(0)
    }

    fn change(&self, key: &str, by: fn(u32) -> u32) -> Result<u32, DependencyError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(DependencyError::Unavailable("shared state down".into()));
        }
        let mut hits = self
            .hits
            .lock()
            .map_err(|_| DependencyError::Failed("poisoned".into()))?;
        let count = hits.entry(key.to_owned()).or_default();
        *count = by(*count);
        Ok(*count)
    }
}

#[async_trait]
impl RateLimiter for CountingLimiter {
    async fn peek(&self, key: &str) -> Result<WindowCount, DependencyError> {
        let hits = self.change(key, |count| count)?;
        Ok(WindowCount {
            hits,
            resets_in: Duration::from_secs(42),
        })
    }

    async fn hit(&self, key: &str, _window: Duration) -> Result<WindowCount, DependencyError> {
        let hits = self.change(key, |count| count + 1)?;
        Ok(WindowCount {
            hits,
            resets_in: Duration::from_secs(42),
        })
    }

    async fn withdraw(&self, key: &str) -> Result<(), DependencyError> {
        self.change(key, |count| count.saturating_sub(1)).map(drop)
    }
}

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
    pub rate_limiter: Arc<CountingLimiter>,
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
            rate_limiter: Arc::default(),
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
                rate_limiter: self.rate_limiter,
                clock: Arc::new(clock),
            },
            AccountPolicy::default(),
        )
    }
}
