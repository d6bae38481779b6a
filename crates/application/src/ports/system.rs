//! Time and health: the two things every use case and the operations endpoints need.

use crate::DependencyError;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// The source of "now". Use cases never read the system clock directly, so tests can fix time.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait Clock: Send + Sync {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;
}

/// The real clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A dependency whose reachability decides readiness (`/readyz`).
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait HealthProbe: Send + Sync {
    /// A short name for reports: `database`, `shared_state`.
    fn component(&self) -> &'static str;

    /// Round-trips to the dependency.
    ///
    /// # Errors
    /// MUST return [`DependencyError::Unavailable`] when the dependency cannot answer.
    async fn ping(&self) -> Result<(), DependencyError>;
}
