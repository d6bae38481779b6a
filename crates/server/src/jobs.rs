//! Scheduled jobs (exam slots, the tickets sweeper, the payments reconciler, the checkout sweep). Each run takes the
//! distributed lock, so with several instances one does the work; the work itself is idempotent, so a run that overlaps another (a lock lost to its TTL)
//! is harmless.

use reserva_application::accounts::{Accounts, MarksUpkeep};
use reserva_application::catalog::Catalog;
use reserva_application::commerce::Checkout;
use reserva_application::exams::Exams;
use reserva_application::ports::shared_state::DistributedLock;
use reserva_application::tickets::Tickets;
use std::sync::Arc;
use std::time::Duration;

const SLOT_LOCK: &str = "jobs:exam-slots";
const SWEEP_LOCK: &str = "jobs:tickets-sweep";
const RECONCILE_LOCK: &str = "jobs:payments-reconcile";
const CHECKOUT_SWEEP_LOCK: &str = "jobs:checkout-sweep";
/// The reconciler lock outlives a run that hangs by this much at least (a run of slow lookups
/// takes a while; an overlap is harmless, only wasteful).
const MIN_RECONCILE_LOCK: Duration = Duration::from_secs(60);
/// Pending payments and owed refunds one reconciler run takes on at most (each kind).
const RECONCILE_BATCH: u32 = 100;
/// The sweep lock outlives a run that hangs by this much at least, so a crashed holder does not
/// stop sweeping for long.
const MIN_SWEEP_LOCK: Duration = Duration::from_secs(30);

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

/// How often every instance writes the revocation marks it owes and checks that shared state
/// still has its marks (rebuilding them if it lost them): a revocation made while Redis was down
/// is in Redis within this long of its return, and a Redis restarted empty is rebuilt as soon.
pub(crate) const MARKS_UPKEEP_INTERVAL: Duration = Duration::from_secs(2);

/// Runs [`marks_upkeep_once`] every `interval` on this instance (not under the job lock: the
/// owed marks are this instance's own, and the rebuild has its own claim), starting one period
/// after start-up (start-up runs one itself before serving).
pub(crate) fn spawn_marks_upkeep(accounts: Accounts, interval: Duration) {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticker.tick().await;
        loop {
            ticker.tick().await;
            marks_upkeep_once(&accounts).await;
        }
    });
}

/// One upkeep of the revocation marks; a failure is logged and retried next period (bearer
/// checks read storage meanwhile, so nothing is trusted that should not be).
pub(crate) async fn marks_upkeep_once(accounts: &Accounts) -> Option<MarksUpkeep> {
    match accounts.maintain_marks().await {
        Ok(upkeep) => {
            if upkeep == MarksUpkeep::RebuildElsewhere {
                tracing::debug!("revocation marks are being rebuilt by another instance");
            }
            Some(upkeep)
        }
        Err(error) => {
            tracing::warn!(%error, "revocation marks upkeep failed; will retry next period");
            None
        }
    }
}

/// Tidies expired holds and resynchronises the waiting rooms every `interval`, starting one
/// period after start-up.
pub(crate) fn spawn_sweeper(tickets: Tickets, lock: Arc<dyn DistributedLock>, interval: Duration) {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticker.tick().await;
        loop {
            ticker.tick().await;
            sweep_once(&tickets, lock.as_ref(), interval).await;
        }
    });
}

/// One locked sweep. A sweep that overlaps another (its lock lapsed) only tidies and resyncs
/// twice: both are idempotent.
pub(crate) async fn sweep_once(tickets: &Tickets, lock: &dyn DistributedLock, interval: Duration) {
    let ttl = (interval * 4).max(MIN_SWEEP_LOCK);
    let token = match lock.try_acquire(SWEEP_LOCK, ttl).await {
        Ok(Some(token)) => token,
        Ok(None) => {
            tracing::debug!("the tickets sweep is running on another instance");
            return;
        }
        Err(error) => {
            tracing::warn!(%error, "tickets sweep skipped: lock unavailable");
            return;
        }
    };
    match tickets.sweep().await {
        Ok(report) if report.rooms_failed > 0 => tracing::warn!(
            expired_holds = report.expired_holds,
            rooms_synced = report.rooms_synced,
            rooms_failed = report.rooms_failed,
            "tickets swept; some waiting rooms were not resynchronised"
        ),
        Ok(report) => tracing::debug!(
            expired_holds = report.expired_holds,
            rooms_synced = report.rooms_synced,
            "tickets swept"
        ),
        Err(error) => tracing::warn!(%error, "tickets sweep failed; will retry next run"),
    }
    if let Err(error) = lock.release(SWEEP_LOCK, &token).await {
        tracing::warn!(%error, "sweep lock release failed; it expires by itself");
    }
}

/// Resolves pending payments and owed refunds at the provider every `interval`, starting one
/// period after start-up.
pub(crate) fn spawn_reconciler(
    catalog: Catalog,
    lock: Arc<dyn DistributedLock>,
    interval: Duration,
) {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticker.tick().await;
        loop {
            ticker.tick().await;
            reconcile_once(&catalog, lock.as_ref(), interval).await;
        }
    });
}

/// One locked reconciler run. A run that overlaps another (its lock lapsed) asks the provider
/// twice about the same payments: lookups and refunds are idempotent by payment id, and settling
/// or failing a payment that is no longer pending changes nothing.
pub(crate) async fn reconcile_once(
    catalog: &Catalog,
    lock: &dyn DistributedLock,
    interval: Duration,
) {
    let ttl = (interval * 4).max(MIN_RECONCILE_LOCK);
    let token = match lock.try_acquire(RECONCILE_LOCK, ttl).await {
        Ok(Some(token)) => token,
        Ok(None) => {
            tracing::debug!("the payments reconciler is running on another instance");
            return;
        }
        Err(error) => {
            tracing::warn!(%error, "payments reconciler skipped: lock unavailable");
            return;
        }
    };
    match catalog.reconcile(RECONCILE_BATCH).await {
        Ok(report) if report.settled + report.failed + report.refunded + report.left > 0 => {
            tracing::info!(
                settled = report.settled,
                failed = report.failed,
                refunded = report.refunded,
                left = report.left,
                "payments reconciled"
            );
        }
        Ok(_) => tracing::debug!("payments reconciled: nothing pending"),
        Err(error) => tracing::warn!(%error, "payments reconciler failed; will retry next run"),
    }
    if let Err(error) = lock.release(RECONCILE_LOCK, &token).await {
        tracing::warn!(%error, "reconciler lock release failed; it expires by itself");
    }
}

/// Expires unapproved checkouts (asking the provider first) and retries owed refunds every
/// `interval`, starting one period after start-up.
pub(crate) fn spawn_checkout_sweep(
    checkout: Checkout,
    lock: Arc<dyn DistributedLock>,
    interval: Duration,
) {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticker.tick().await;
        loop {
            ticker.tick().await;
            checkout_sweep_once(&checkout, lock.as_ref(), interval).await;
        }
    });
}

/// One locked checkout sweep. An overlapping run is harmless: lookups and refunds are
/// idempotent by checkout id, a callback applied twice is a replay, and expiring a payment no
/// longer ready changes nothing.
pub(crate) async fn checkout_sweep_once(
    checkout: &Checkout,
    lock: &dyn DistributedLock,
    interval: Duration,
) {
    let ttl = (interval * 4).max(MIN_RECONCILE_LOCK);
    let token = match lock.try_acquire(CHECKOUT_SWEEP_LOCK, ttl).await {
        Ok(Some(token)) => token,
        Ok(None) => {
            tracing::debug!("the checkout sweep is running on another instance");
            return;
        }
        Err(error) => {
            tracing::warn!(%error, "checkout sweep skipped: lock unavailable");
            return;
        }
    };
    match checkout.sweep().await {
        Ok(report) if report.expired + report.resolved + report.refunds_done + report.left > 0 => {
            tracing::info!(
                expired = report.expired,
                resolved = report.resolved,
                refunds_done = report.refunds_done,
                left = report.left,
                "checkouts swept"
            );
        }
        Ok(_) => tracing::debug!("checkouts swept: nothing due"),
        Err(error) => tracing::warn!(%error, "checkout sweep failed; will retry next run"),
    }
    if let Err(error) = lock.release(CHECKOUT_SWEEP_LOCK, &token).await {
        tracing::warn!(%error, "checkout sweep lock release failed; it expires by itself");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::{Secret, Settings};
    use reserva_adapter_memory::MemorySharedState;

    /// Tickets over a fresh SQLite file and an in-process room and lock.
    async fn tickets(name: &str) -> (Tickets, Arc<MemorySharedState>, std::path::PathBuf) {
        let path = std::env::temp_dir().join(format!(
            "reserva-sweep-{name}-{}.db",
            uuid::Uuid::new_v4().simple()
        ));
        let mut settings = Settings::default();
        settings.database.url = Secret::new(format!("sqlite://{}", path.display()));
        let store = crate::application::connect_store(&settings)
            .await
            .expect("a fresh SQLite store");
        let shared = Arc::new(MemorySharedState::new());
        let tickets = crate::application::tickets(
            &settings,
            &store,
            shared.clone(),
            &crate::application::system_clock(),
        )
        .expect("default policy");
        (tickets, shared, path)
    }

    /// The catalog over a fresh SQLite file and the default simulated provider.
    async fn catalog(name: &str) -> (Catalog, std::path::PathBuf) {
        let path = std::env::temp_dir().join(format!(
            "reserva-reconcile-{name}-{}.db",
            uuid::Uuid::new_v4().simple()
        ));
        let mut settings = Settings::default();
        settings.database.url = Secret::new(format!("sqlite://{}", path.display()));
        let store = crate::application::connect_store(&settings)
            .await
            .expect("a fresh SQLite store");
        let gateway = crate::stores::payment_gateway(&settings);
        (
            crate::application::catalog(
                &settings,
                &store,
                gateway,
                &crate::application::system_clock(),
            ),
            path,
        )
    }

    #[tokio::test]
    async fn a_reconciler_run_takes_the_lock_and_gives_it_back() {
        let (catalog, path) = catalog("free").await;
        let lock = MemorySharedState::new();
        reconcile_once(&catalog, &lock, Duration::from_secs(5)).await;
        let again = lock
            .try_acquire(RECONCILE_LOCK, Duration::from_secs(5))
            .await;
        assert!(matches!(again, Ok(Some(_))), "released after the run");
        let _ = std::fs::remove_file(path);
    }

    #[tokio::test]
    async fn a_reconciler_run_fails_a_pending_payment_the_provider_never_saw() {
        use chrono::Utc;
        use reserva_application::ports::accounts::NewUser;
        use reserva_application::ports::catalog::{Begun, NewItem, PaymentIntent};
        use reserva_domain::accounts::{Email, PasswordHash, Role, UserId, Username};
        use reserva_domain::catalog::{ItemId, ItemKind, ItemTitle, Schedule};
        use reserva_domain::wallet::{Money, PaymentId, PaymentMethod, PaymentStatus};

        let path = std::env::temp_dir().join(format!(
            "reserva-reconcile-pending-{}.db",
            uuid::Uuid::new_v4().simple()
        ));
        let mut settings = Settings::default();
        settings.database.url = Secret::new(format!("sqlite://{}", path.display()));
        // Every pending payment is old enough at once (validation would refuse 0; the job does not
        // validate).
        settings.payments.reconcile_after_seconds = 0;
        let store = crate::application::connect_store(&settings)
            .await
            .expect("a fresh SQLite store");
        let now = Utc::now();
        let user = store
            .users
            .insert_user(NewUser {
                id: UserId::from_uuid(uuid::Uuid::now_v7()),
                email: Email::parse("payer@example.com").expect("e-mail"),
                username: Username::parse("payer").expect("username"),
                password_hash: PasswordHash::from_phc("$argon2id$v=19$fake$payer".into()),
                role: Role::Member,
                now,
            })
            .await
            .expect("user stored");
        let price = Money::new(5_000).expect("money");
        let item = store
            .items
            .create_item(NewItem {
                id: ItemId::from_uuid(uuid::Uuid::now_v7()),
                kind: ItemKind::Test,
                title: ItemTitle::parse("Reconciled test").expect("title"),
                description: None,
                price,
                schedule: Schedule::new(
                    now - chrono::Duration::days(1),
                    now + chrono::Duration::days(1),
                )
                .expect("schedule"),
                course: None,
                now,
            })
            .await
            .expect("item stored");
        let intent = |payment_id| PaymentIntent {
            payment_id,
            user_id: user.id,
            kind: ItemKind::Test,
            item_id: item.id,
            amount: price,
            method: PaymentMethod::Card,
            now,
        };
        let stuck = PaymentId::from_uuid(uuid::Uuid::now_v7());
        let begun = store.registrations.begin_payment(intent(stuck)).await;
        assert!(matches!(begun, Ok(Begun::New(_))), "{begun:?}");
        // The provider of this process never heard of it, as after a lost request.
        let gateway = crate::stores::payment_gateway(&settings);
        let catalog = crate::application::catalog(
            &settings,
            &store,
            gateway,
            &crate::application::system_clock(),
        );
        let lock = MemorySharedState::new();
        reconcile_once(&catalog, &lock, Duration::from_secs(5)).await;

        let later = Utc::now() + chrono::Duration::seconds(1);
        let pending = store.registrations.pending_payments(later, 10).await;
        assert_eq!(pending.map(|rows| rows.len()).ok(), Some(0), "resolved");
        let failed = store.registrations.fail_payment(stuck, later).await;
        assert_eq!(
            failed.map(|payment| payment.status).ok(),
            Some(PaymentStatus::Failed),
            "failed by the run"
        );
        let fresh = PaymentId::from_uuid(uuid::Uuid::now_v7());
        let again = store.registrations.begin_payment(intent(fresh)).await;
        assert!(
            matches!(again, Ok(Begun::New(_))),
            "the place is free: {again:?}"
        );
        let _ = std::fs::remove_file(path);
    }

    #[tokio::test]
    async fn a_reconciler_run_held_elsewhere_is_skipped_and_leaves_the_lock_alone() {
        let (catalog, path) = catalog("held").await;
        let lock = MemorySharedState::new();
        let other = lock
            .try_acquire(RECONCILE_LOCK, Duration::from_secs(60))
            .await
            .expect("lock")
            .expect("free");
        reconcile_once(&catalog, &lock, Duration::from_secs(5)).await;
        assert_eq!(
            lock.release(RECONCILE_LOCK, &other).await,
            Ok(true),
            "still the other's"
        );
        let _ = std::fs::remove_file(path);
    }

    #[tokio::test]
    async fn a_sweep_runs_under_the_lock_and_gives_it_back() {
        let (tickets, lock, path) = tickets("free").await;
        sweep_once(&tickets, lock.as_ref(), Duration::from_secs(15)).await;
        let again = lock.try_acquire(SWEEP_LOCK, Duration::from_secs(5)).await;
        assert!(matches!(again, Ok(Some(_))), "released after the run");
        let _ = std::fs::remove_file(path);
    }

    #[tokio::test]
    async fn a_sweep_held_elsewhere_is_skipped_and_leaves_the_lock_alone() {
        let (tickets, lock, path) = tickets("held").await;
        let other = lock
            .try_acquire(SWEEP_LOCK, Duration::from_secs(60))
            .await
            .expect("lock")
            .expect("free");
        sweep_once(&tickets, lock.as_ref(), Duration::from_secs(15)).await;
        assert_eq!(
            lock.release(SWEEP_LOCK, &other).await,
            Ok(true),
            "still the other's"
        );
        let _ = std::fs::remove_file(path);
    }
}
