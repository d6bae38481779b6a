//! Picks the adapters from configuration: the store by `DATABASE_URL`'s scheme, the shared state
//! by whether `REDIS_URL` is set, the payment provider by `payments.provider`.

use crate::settings::{PaymentProvider, Settings};
use reserva_adapter_memory::{MemorySharedState, SimulatedGateway};
use reserva_adapter_postgres::{PostgresSettings, PostgresStore};
use reserva_adapter_redis::{RedisSettings, RedisSharedState};
use reserva_adapter_sqlite::{SqliteSettings, SqliteStore, parse_sqlite_url};
use reserva_application::DependencyError;
use reserva_application::ports::accounts::{SessionRepository, UserRepository};
use reserva_application::ports::catalog::{
    CatalogRepository, CatalogSeeder, RegistrationRepository,
};
use reserva_application::ports::commerce::CurriculumRepository;
use reserva_application::ports::commerce::access::AccessRepository;
use reserva_application::ports::commerce::billing::BillingAddressRepository;
use reserva_application::ports::commerce::cart::CartRepository;
use reserva_application::ports::commerce::checkout::CheckoutRepository;
use reserva_application::ports::commerce::orders::OrderRepository;
use reserva_application::ports::exams::{ExamSlotRepository, ReservationRepository};
use reserva_application::ports::payments::PaymentGateway;
use reserva_application::ports::shared_state::{
    DistributedLock, IdempotencyRecords, RateLimiter, SessionRevocations,
};
use reserva_application::ports::system::HealthProbe;
use reserva_application::ports::tickets::{ConcertRepository, SeatHoldRepository};
use reserva_application::ports::waiting_room::WaitingRoom;
use reserva_application::ports::wallet::WalletRepository;
use std::sync::Arc;
use std::time::Duration;

/// The repository ports, all served by one store.
#[derive(Clone)]
pub(crate) struct StorePorts {
    pub users: Arc<dyn UserRepository>,
    pub sessions: Arc<dyn SessionRepository>,
    pub slots: Arc<dyn ExamSlotRepository>,
    pub reservations: Arc<dyn ReservationRepository>,
    pub concerts: Arc<dyn ConcertRepository>,
    pub holds: Arc<dyn SeatHoldRepository>,
    pub ledger: Arc<dyn WalletRepository>,
    pub items: Arc<dyn CatalogRepository>,
    pub registrations: Arc<dyn RegistrationRepository>,
    /// Bulk loading of `reserva seed catalog`.
    pub seeder: Arc<dyn CatalogSeeder>,
    pub curricula: Arc<dyn CurriculumRepository>,
    pub carts: Arc<dyn CartRepository>,
    pub orders: Arc<dyn OrderRepository>,
    pub access: Arc<dyn AccessRepository>,
    pub billing: Arc<dyn BillingAddressRepository>,
    pub checkouts: Arc<dyn CheckoutRepository>,
    pub probe: Arc<dyn HealthProbe>,
    /// `sqlite` or `postgres`, for logs.
    pub kind: &'static str,
}

impl StorePorts {
    fn from<S>(store: S, kind: &'static str) -> Self
    where
        S: UserRepository
            + SessionRepository
            + ExamSlotRepository
            + ReservationRepository
            + ConcertRepository
            + SeatHoldRepository
            + WalletRepository
            + CatalogRepository
            + RegistrationRepository
            + CatalogSeeder
            + CurriculumRepository
            + CartRepository
            + OrderRepository
            + AccessRepository
            + BillingAddressRepository
            + CheckoutRepository
            + HealthProbe
            + 'static,
    {
        let store = Arc::new(store);
        Self {
            users: store.clone(),
            sessions: store.clone(),
            slots: store.clone(),
            reservations: store.clone(),
            concerts: store.clone(),
            holds: store.clone(),
            ledger: store.clone(),
            items: store.clone(),
            registrations: store.clone(),
            seeder: store.clone(),
            curricula: store.clone(),
            carts: store.clone(),
            orders: store.clone(),
            access: store.clone(),
            billing: store.clone(),
            checkouts: store.clone(),
            probe: store,
            kind,
        }
    }
}

/// The shared-state ports, all served by one adapter.
#[derive(Clone)]
pub(crate) struct SharedStatePorts {
    pub lock: Arc<dyn DistributedLock>,
    pub rate_limiter: Arc<dyn RateLimiter>,
    pub revocations: Arc<dyn SessionRevocations>,
    pub idempotency: Arc<dyn IdempotencyRecords>,
    pub room: Arc<dyn WaitingRoom>,
    pub probe: Arc<dyn HealthProbe>,
    /// `redis` or `memory`, for logs.
    pub kind: &'static str,
}

impl SharedStatePorts {
    fn from<
        S: DistributedLock
            + RateLimiter
            + SessionRevocations
            + IdempotencyRecords
            + WaitingRoom
            + HealthProbe
            + 'static,
    >(
        state: S,
        kind: &'static str,
    ) -> Self {
        let state = Arc::new(state);
        Self {
            lock: state.clone(),
            rate_limiter: state.clone(),
            revocations: state.clone(),
            idempotency: state.clone(),
            room: state.clone(),
            probe: state,
            kind,
        }
    }
}

fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// Applies pending migrations to the configured store; returns the versions applied.
pub(crate) async fn migrate(settings: &Settings) -> Result<Vec<String>, DependencyError> {
    let url = settings.database.url.expose();
    if is_postgres(url) {
        reserva_adapter_postgres::run_migrations(url).await
    } else {
        reserva_adapter_sqlite::run_migrations(&parse_sqlite_url(url)?).await
    }
}

/// Reverts every migration of the configured store; returns the versions reverted.
pub(crate) async fn revert_all(settings: &Settings) -> Result<Vec<String>, DependencyError> {
    let url = settings.database.url.expose();
    if is_postgres(url) {
        reserva_adapter_postgres::revert_all_migrations(url).await
    } else {
        reserva_adapter_sqlite::revert_all_migrations(&parse_sqlite_url(url)?).await
    }
}

/// Connects the configured store.
pub(crate) async fn connect_store(settings: &Settings) -> Result<StorePorts, DependencyError> {
    let database = &settings.database;
    let url = database.url.expose();
    if is_postgres(url) {
        let store = PostgresStore::connect(&PostgresSettings {
            url: url.to_owned(),
            max_connections: database.max_connections,
            list_concurrency: database.list_concurrency,
            acquire_timeout: Duration::from_millis(database.acquire_timeout_ms),
            statement_timeout: Duration::from_millis(database.statement_timeout_ms),
        })
        .await?;
        Ok(StorePorts::from(store, "postgres"))
    } else {
        let store = SqliteStore::connect(&SqliteSettings {
            path: parse_sqlite_url(url)?,
            max_connections: database.max_connections,
            busy_timeout: Duration::from_millis(database.acquire_timeout_ms.max(5_000)),
        })
        .await?;
        Ok(StorePorts::from(store, "sqlite"))
    }
}

/// The payment provider `payments.provider` names.
pub(crate) fn payment_gateway(settings: &Settings) -> Arc<dyn PaymentGateway> {
    match settings.payments.provider {
        PaymentProvider::Simulated => {
            Arc::new(SimulatedGateway::new(settings.payments.simulator_rules()))
        }
    }
}

/// Connects Redis if configured, else in-process state.
pub(crate) async fn connect_shared_state(
    settings: &Settings,
) -> Result<SharedStatePorts, DependencyError> {
    let redis = &settings.redis;
    match &redis.url {
        Some(url) => {
            let state = RedisSharedState::connect(&RedisSettings {
                url: url.expose().to_owned(),
                key_prefix: redis.key_prefix.clone(),
                max_connections: redis.max_connections,
                timeout: Duration::from_millis(redis.timeout_ms),
            })
            .await?;
            Ok(SharedStatePorts::from(state, "redis"))
        }
        None => Ok(SharedStatePorts::from(MemorySharedState::new(), "memory")),
    }
}
