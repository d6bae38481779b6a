//! Whether this instance may trust the revocation marks in shared state, and the marks it owes
//! shared state because writing them failed.
//!
//! Shared state (Redis) only accelerates the bearer check: the database records every revoked
//! session and every role or activity change durably. The marks are a complete copy of the
//! recent revocations only while every mark write succeeds and shared state keeps its data. Once
//! this instance has seen shared state fail, neither is certain: its own writes failed, other
//! instances' writes may have failed in the same outage, and a restarted Redis has lost every
//! mark. So from a failure on, and for as long as any mark written or missed before it could
//! matter (two access-token lifetimes, the life of a changed-user mark), bearer checks read the
//! database instead of trusting an absent mark. Marks this instance could not write are kept here
//! and written again as soon as shared state answers, so that instances which never saw the
//! outage learn of them too.

use chrono::{DateTime, Utc};
use reserva_domain::accounts::SessionId;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// The trust state of one instance's accounts use cases (shared by their clones).
#[derive(Debug, Default)]
pub(super) struct MarksTrust {
    /// Until when absent marks prove nothing; `None`: shared state has not failed lately.
    distrust_until: Mutex<Option<DateTime<Utc>>>,
    /// Revocation marks that could not be written: the session, and until when its mark must live.
    unsent: Mutex<Vec<(SessionId, DateTime<Utc>)>>,
}

/// A poisoned lock only means a panic elsewhere while holding it; the data (an instant, a list)
/// is still whole, so it is used as it is rather than spreading the panic to every request.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl MarksTrust {
    /// Shared state failed at some instant: distrust absent marks until `until` (never shortening
    /// an earlier distrust).
    pub(super) fn distrust_until(&self, until: DateTime<Utc>) {
        let mut current = lock(&self.distrust_until);
        if current.is_none_or(|current| current < until) {
            *current = Some(until);
        }
    }

    /// Whether an absent mark proves nothing at `now`.
    pub(super) fn distrusted(&self, now: DateTime<Utc>) -> bool {
        lock(&self.distrust_until).is_some_and(|until| now < until)
    }

    /// Keeps a revocation mark to write again later.
    pub(super) fn owe(&self, session: SessionId, until: DateTime<Utc>) {
        lock(&self.unsent).push((session, until));
    }

    /// Takes every owed mark still worth writing at `now` (the caller gives back what fails).
    pub(super) fn take_owed(&self, now: DateTime<Utc>) -> Vec<(SessionId, DateTime<Utc>)> {
        let mut unsent = lock(&self.unsent);
        if unsent.is_empty() {
            return Vec::new();
        }
        std::mem::take(&mut *unsent)
            .into_iter()
            .filter(|(_, until)| now < *until)
            .collect()
    }

    /// Whether `session` has an owed revocation mark.
    pub(super) fn owes(&self, session: SessionId) -> bool {
        lock(&self.unsent).iter().any(|(owed, _)| *owed == session)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeDelta;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + TimeDelta::seconds(seconds)
    }

    #[test]
    fn distrust_lasts_until_its_end_and_is_never_shortened() {
        let trust = MarksTrust::default();
        assert!(!trust.distrusted(at(0)));
        trust.distrust_until(at(100));
        trust.distrust_until(at(50));
        assert!(trust.distrusted(at(99)));
        assert!(!trust.distrusted(at(100)));
    }

    #[test]
    fn owed_marks_are_taken_once_and_lapsed_ones_dropped() {
        let trust = MarksTrust::default();
        let (live, lapsed) = (
            SessionId::from_uuid(uuid::Uuid::now_v7()),
            SessionId::from_uuid(uuid::Uuid::now_v7()),
        );
        trust.owe(live, at(100));
        trust.owe(lapsed, at(10));
        assert!(trust.owes(live));
        assert_eq!(trust.take_owed(at(20)), vec![(live, at(100))]);
        assert!(!trust.owes(live));
        assert_eq!(trust.take_owed(at(20)), Vec::new());
    }
}
