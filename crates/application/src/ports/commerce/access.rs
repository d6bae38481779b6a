//! Reading course access. Access is written by the checkout's payment transaction (granted for
//! every course of a paid order) and by its refund (revoked), inside the adapters; here are the
//! reads, each the condition of `domain::commerce::has_access`.

use crate::DependencyError;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reserva_domain::accounts::UserId;
use reserva_domain::catalog::ItemId;
use reserva_domain::commerce::AccessGrant;

/// A live grant with the course's title.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CourseAccess {
    /// The grant.
    pub grant: AccessGrant,
    /// The course's current title.
    pub title: String,
}

/// Course access.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait AccessRepository: Send + Sync {
    /// The user's grants that are live at `now` (not revoked, `granted_at ≤ now < expires_at`),
    /// each with its course's title (deleted courses included: what was bought stays studied).
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    async fn live_access(
        &self,
        user: UserId,
        now: DateTime<Utc>,
    ) -> Result<Vec<CourseAccess>, DependencyError>;

    /// Whether the user may study the course at `now`.
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    async fn has_access(
        &self,
        user: UserId,
        course: ItemId,
        now: DateTime<Utc>,
    ) -> Result<bool, DependencyError>;
}
