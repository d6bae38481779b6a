//! Scheduled jobs. Each run takes the distributed lock, so with several instances one does the
//! work; the work itself is idempotent, so a run that overlaps another (a lock lost to its TTL)
//! is harmless.

use reserva_application::exams::Exams;
use reserva_application::ports::shared_state::DistributedLock;
use std::sync::Arc;
use std::time::Duration;

const SLOT_LOCK: &str = "jobs:exam-slots";

/// Creates missing slots now, then keeps the horizon rolling forward every `interval`.
pub(crate) fn spawn_slot_roller(exams: Exams, lock: Arc<dyn DistributedLock>, interval: Duration) {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticker.tick().await;
        loop {
            ticker.tick().await;
            roll_slots_once(&exams, lock.as_ref()).await;
        }
    });
}

/// One locked run of slot generation.
pub(crate) async fn roll_slots_once(exams: &Exams, lock: &dyn DistributedLock) {
    let token = match lock.try_acquire(SLOT_LOCK, Duration::from_secs(600)).await {
        Ok(Some(token)) => token,
        Ok(None) => {
            tracing::debug!("slot generation is running on another instance");
            return;
        }
        Err(error) => {
            tracing::warn!(%error, "slot generation skipped: lock unavailable");
            return;
        }
    };
    match exams.ensure_slots().await {
        Ok(created) => tracing::info!(created, "exam slots rolled forward"),
        Err(error) => tracing::warn!(%error, "slot generation failed; will retry next run"),
    }
    if let Err(error) = lock.release(SLOT_LOCK, &token).await {
        tracing::warn!(%error, "slot lock release failed; it expires by itself");
    }
}
