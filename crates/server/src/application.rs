//! Start-up: connect the adapters, wire them to the use cases, bind the HTTP server.

use crate::limits;
use crate::settings::{PaymentProvider, Settings};
use crate::stores::{self, SharedStatePorts, StorePorts};
use reserva_adapter_crypto::{Argon2PasswordHasher, HmacCallbacks, JwtAccessTokens, RefreshTokens};
use reserva_adapter_http::{ApiState, HttpApi, HttpSettings, StopHandle, TrustedProxies};
use reserva_adapter_memory::{MemorySharedState, SimulatedCheckoutProvider};
use reserva_application::DependencyError;
use reserva_application::accounts::{
    AccountPolicy, Accounts, AccountsPorts, FallbackRateLimiter, LoginLimits,
};
use reserva_application::catalog::{Catalog, CatalogPolicy, CatalogPorts};
use reserva_application::commerce::billing::{BillingAddresses, BillingPorts};
use reserva_application::commerce::{
    Checkout, CheckoutPorts, Curricula, CurriculaPorts, Shopping, ShoppingPorts,
};
use reserva_application::exams::{Exams, ExamsPorts};
use reserva_application::ports::checkout_provider::{
    CallbackCodec, CheckoutGateway, ProviderSimulator,
};
use reserva_application::ports::payments::PaymentGateway;
use reserva_application::ports::shared_state::RateLimiter;
use reserva_application::ports::system::{Clock, SystemClock};
use reserva_application::ports::waiting_room::WaitingRoom;
use reserva_application::tickets::{Tickets, TicketsPorts};
use reserva_application::wallet::{Wallet, WalletPorts};
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;
use thiserror::Error;

/// Why the service could not start.
#[derive(Debug, Error)]
pub enum StartupError {
    /// A dependency is unreachable or broken.
    #[error("{0}")]
    Dependency(#[from] DependencyError),
    /// The address cannot be bound.
    #[error("cannot listen on {address}: {source}")]
    Bind {
        /// host:port.
        address: String,
        /// Cause.
        source: std::io::Error,
    },
    /// A setting is unusable.
    #[error("configuration: {0}")]
    Settings(String),
}

/// The wired, bound service.
pub struct Application {
    api: HttpApi,
}

fn signing_secret(settings: &Settings) -> Vec<u8> {
    if let Some(secret) = &settings.auth.jwt_secret {
        return secret.expose().as_bytes().to_vec();
    }
    tracing::warn!(
        "no auth.jwt_secret configured (RESERVA_AUTH__JWT_SECRET): generated a random development \
         secret. Tokens will not survive a restart and instances will not accept each other's \
         tokens. Set a secret of at least 32 bytes in production."
    );
    let random = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    random.into_bytes()
}

/// The secret the checkout provider signs its callbacks with (a random one, with a warning,
/// when none is configured).
fn provider_secret(settings: &Settings) -> Vec<u8> {
    if let Some(secret) = &settings.commerce.provider_secret {
        return secret.expose().as_bytes().to_vec();
    }
    tracing::warn!(
        "no commerce.provider_secret configured (RESERVA_COMMERCE__PROVIDER_SECRET): generated a \
         random development secret. Only the simulated provider of this process can sign \
         callbacks this instance accepts. Set a secret of at least 32 bytes, shared with the \
         provider, in production."
    );
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
    .into_bytes()
}

/// The counters of the login limits: in shared state, and with Redis in this instance while
/// Redis is unreachable, so an outage neither stops logins nor lifts the limits
/// (`FallbackRateLimiter` says why).
fn login_limiter(shared: &SharedStatePorts) -> Arc<dyn RateLimiter> {
    if shared.kind == "redis" {
        Arc::new(FallbackRateLimiter::new(
            shared.rate_limiter.clone(),
            Arc::new(MemorySharedState::new()),
        ))
    } else {
        shared.rate_limiter.clone()
    }
}

/// Builds the accounts use cases over connected adapters.
pub(crate) fn accounts(
    settings: &Settings,
    store: &StorePorts,
    shared: &SharedStatePorts,
    clock: &Arc<dyn Clock>,
) -> Result<Accounts, StartupError> {
    let auth = &settings.auth;
    // One secret for both: a generated one must be the same for the JWTs and the successors.
    let secret = signing_secret(settings);
    let weak = |error: reserva_adapter_crypto::WeakSigningSecret| {
        StartupError::Settings(error.to_string())
    };
    let access_tokens = JwtAccessTokens::new(&secret).map_err(weak)?;
    let refresh_tokens = RefreshTokens::new(&secret).map_err(weak)?;
    let ports = AccountsPorts {
        users: store.users.clone(),
        sessions: store.sessions.clone(),
        passwords: Arc::new(Argon2PasswordHasher::default()),
        access_tokens: Arc::new(access_tokens),
        refresh_tokens: Arc::new(refresh_tokens),
        revocations: shared.revocations.clone(),
        rate_limiter: login_limiter(shared),
        clock: clock.clone(),
    };
    let policy = AccountPolicy {
        access_token_ttl: Duration::from_secs(auth.access_token_ttl_seconds),
        refresh_token_ttl: Duration::from_secs(auth.refresh_token_ttl_days * 24 * 3600),
        refresh_grace: Duration::from_secs(auth.refresh_grace_seconds),
        login_limits: LoginLimits {
            per_account_and_address: auth.login_failure_limit,
            per_address: auth.login_address_limit,
            per_account: auth.login_account_limit,
            window: Duration::from_secs(auth.login_failure_window_seconds),
        },
    };
    Ok(Accounts::new(ports, policy))
}

/// Builds the exams use cases over the connected store.
pub(crate) fn exams(
    settings: &Settings,
    store: &StorePorts,
    clock: &Arc<dyn Clock>,
) -> Result<Exams, StartupError> {
    let policy = settings
        .exams
        .policy()
        .map_err(|error| StartupError::Settings(error.to_string()))?;
    let ports = ExamsPorts {
        slots: store.slots.clone(),
        reservations: store.reservations.clone(),
        clock: clock.clone(),
    };
    Ok(Exams::new(ports, policy, settings.business.time_zone))
}

/// Builds the tickets use cases over the connected store and a waiting room (the shared
/// state's, or any other: `reserva wallet verify` reads only the store).
pub(crate) fn tickets(
    settings: &Settings,
    store: &StorePorts,
    room: Arc<dyn WaitingRoom>,
    clock: &Arc<dyn Clock>,
) -> Result<Tickets, StartupError> {
    let policy = settings
        .tickets
        .policy()
        .map_err(|error| StartupError::Settings(error.to_string()))?;
    let ports = TicketsPorts {
        concerts: store.concerts.clone(),
        holds: store.holds.clone(),
        room,
        clock: clock.clone(),
    };
    Ok(Tickets::new(ports, policy, settings.business.time_zone)
        .with_rate_window(settings.tickets.rate_window()))
}

/// Builds the wallet use cases over the connected store.
pub(crate) fn wallet(store: &StorePorts, clock: &Arc<dyn Clock>) -> Wallet {
    Wallet::new(WalletPorts {
        ledger: store.ledger.clone(),
        clock: clock.clone(),
    })
}

/// Builds the catalog use cases over the connected store and a payment provider (one per
/// process: the simulated provider keeps its records in it).
pub(crate) fn catalog(
    settings: &Settings,
    store: &StorePorts,
    gateway: Arc<dyn PaymentGateway>,
    clock: &Arc<dyn Clock>,
) -> Catalog {
    let ports = CatalogPorts {
        items: store.items.clone(),
        registrations: store.registrations.clone(),
        gateway,
        users: store.users.clone(),
        clock: clock.clone(),
    };
    let policy = CatalogPolicy {
        zone: settings.business.time_zone,
        reconcile_after: settings.payments.reconcile_after(),
    };
    Catalog::new(ports, policy)
}

/// Builds the curricula use cases over the connected store.
pub(crate) fn curricula(store: &StorePorts, clock: &Arc<dyn Clock>) -> Curricula {
    Curricula::new(CurriculaPorts {
        curricula: store.curricula.clone(),
        users: store.users.clone(),
        clock: clock.clone(),
    })
}

/// Builds the cart, order and access use cases over the connected store.
pub(crate) fn shopping(store: &StorePorts, clock: &Arc<dyn Clock>) -> Shopping {
    Shopping::new(ShoppingPorts {
        carts: store.carts.clone(),
        orders: store.orders.clone(),
        access: store.access.clone(),
        clock: clock.clone(),
    })
}

/// Builds the billing-address use cases over the connected store.
pub(crate) fn billing(store: &StorePorts, clock: &Arc<dyn Clock>) -> BillingAddresses {
    BillingAddresses::new(BillingPorts {
        addresses: store.billing.clone(),
        clock: clock.clone(),
    })
}

/// Builds the checkout use cases over the connected store, the callback codec and the checkout
/// provider (the simulated one, which also plays the user's side, per process).
pub(crate) fn checkout(
    settings: &Settings,
    store: &StorePorts,
    clock: &Arc<dyn Clock>,
) -> Result<Checkout, StartupError> {
    let codec = HmacCallbacks::new(&provider_secret(settings))
        .map_err(|error| StartupError::Settings(format!("commerce.provider_secret: {error}")))?;
    let codec: Arc<dyn CallbackCodec> = Arc::new(codec);
    let clock = clock.clone();
    let (gateway, simulator): (Arc<dyn CheckoutGateway>, Option<Arc<dyn ProviderSimulator>>) =
        match settings.payments.provider {
            PaymentProvider::Simulated => {
                let provider = Arc::new(SimulatedCheckoutProvider::new(
                    settings.commerce.simulator_rules(),
                    codec.clone(),
                    clock.clone(),
                ));
                (provider.clone(), Some(provider))
            }
        };
    Ok(Checkout::new(CheckoutPorts {
        checkouts: store.checkouts.clone(),
        orders: store.orders.clone(),
        gateway,
        codec,
        simulator,
        clock,
    }))
}

/// The real clock, for the CLI and the jobs' tests.
pub(crate) fn system_clock() -> Arc<dyn Clock> {
    Arc::new(SystemClock)
}

/// Connects the store, migrating it first when configured.
pub(crate) async fn connect_store(settings: &Settings) -> Result<StorePorts, StartupError> {
    if settings.database.migrate_on_start {
        let applied = stores::migrate(settings).await?;
        if !applied.is_empty() {
            tracing::info!(?applied, "applied migrations");
        }
    }
    Ok(stores::connect_store(settings).await?)
}

/// Warns when a catalog load set item indexes aside and has not built them (one in progress, or
/// one that was killed): the lists and the search then walk the whole table, and time out on a
/// large one. Not a start-up failure: the rows are all there, and a load may be running.
async fn warn_of_deferred_indexes(store: &StorePorts) {
    match store.seeder.deferred_item_indexes().await {
        Ok(deferred) if !deferred.is_empty() => tracing::warn!(
            ?deferred,
            "catalog indexes set aside by a bulk load are not built: lists and searches will be \
             slow until they are (a running `reserva seed catalog` builds them when its load \
             ends; after a killed one, `reserva seed catalog --tests 0 --courses 0 --users 0` \
             builds them)"
        ),
        Ok(_) => {}
        Err(error) => tracing::warn!(%error, "cannot read the catalog's deferred indexes"),
    }
}

/// Connects the store (migrating it first when configured) and the shared state.
pub(crate) async fn connect(
    settings: &Settings,
) -> Result<(StorePorts, SharedStatePorts), StartupError> {
    let store = connect_store(settings).await?;
    let shared = stores::connect_shared_state(settings).await?;
    tracing::info!(
        store = store.kind,
        shared_state = shared.kind,
        "adapters connected"
    );
    if shared.kind == "memory" {
        tracing::info!("REDIS_URL is not set: shared state is in-process, run one instance only");
    }
    Ok((store, shared))
}

impl Application {
    /// Connects everything and binds the listener (port 0 picks a free port).
    ///
    /// # Errors
    /// [`StartupError`] when a dependency, the address or a setting is unusable.
    pub async fn build(settings: &Settings) -> Result<Self, StartupError> {
        Self::build_with_clock(settings, system_clock()).await
    }

    /// [`Application::build`] with every use case (and so every job) and the checkout's simulated
    /// provider reading "now" from `clock` instead of the system's: the black-box tests move it
    /// to cross time limits (the 7-day refund window) through the real HTTP surface. Not
    /// reachable from the settings. Not moved: shared-state TTLs (Redis's own clock) and the
    /// catalog's simulated gateway, which keeps no time.
    ///
    /// # Errors
    /// [`StartupError`] when a dependency, the address or a setting is unusable.
    pub async fn build_with_clock(
        settings: &Settings,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, StartupError> {
        let open_files = limits::raise_open_files();
        let (store, shared) = connect(settings).await?;
        warn_of_deferred_indexes(&store).await;
        let exams = exams(settings, &store, &clock)?;
        // Slots must exist before the first booking; the job then keeps the horizon rolling.
        let created = exams.ensure_slots().await?;
        tracing::info!(created, "exam slots ensured across the booking horizon");
        let interval = Duration::from_secs(settings.exams.slot_job_interval_minutes * 60);
        crate::jobs::spawn_slot_roller(exams.clone(), shared.lock.clone(), interval);
        let tickets = tickets(settings, &store, shared.room.clone(), &clock)?;
        crate::jobs::spawn_sweeper(
            tickets.clone(),
            shared.lock.clone(),
            settings.tickets.sweep_interval(),
        );
        let catalog = catalog(settings, &store, stores::payment_gateway(settings), &clock);
        crate::jobs::spawn_reconciler(
            catalog.clone(),
            shared.lock.clone(),
            settings.payments.reconcile_interval(),
        );
        let checkout = checkout(settings, &store, &clock)?;
        crate::jobs::spawn_checkout_sweep(
            checkout.clone(),
            shared.lock.clone(),
            settings.commerce.sweep_interval(),
        );
        let trusted_proxies = TrustedProxies::parse(settings.server.trusted_proxies.as_slice())
            .map_err(|entry| StartupError::Settings(format!("server.trusted_proxies: {entry}")))?;
        let accounts = accounts(settings, &store, &shared, &clock)?;
        // A fresh or restarted Redis has no marks epoch: rebuild the marks once before serving,
        // so bearer checks trust shared state from the first request instead of reading storage.
        crate::jobs::marks_upkeep_once(&accounts).await;
        crate::jobs::spawn_marks_upkeep(accounts.clone(), crate::jobs::MARKS_UPKEEP_INTERVAL);
        let state = ApiState {
            accounts,
            catalog,
            curricula: curricula(&store, &clock),
            shopping: shopping(&store, &clock),
            billing: billing(&store, &clock),
            checkout,
            exams,
            tickets,
            wallet: wallet(&store, &clock),
            idempotency: shared.idempotency.clone(),
            health_probes: vec![store.probe.clone(), shared.probe.clone()],
            time_zone: settings.business.time_zone,
            trusted_proxies,
        };
        let server = &settings.server;
        let address = format!("{}:{}", server.host, server.port);
        let bind_error = |source| StartupError::Bind {
            address: address.clone(),
            source,
        };
        let listener = TcpListener::bind(&address).map_err(bind_error)?;
        let budget = limits::connection_budget(settings, open_files.map(|files| files.soft));
        tracing::info!(
            max_connections = budget.total(),
            per_worker = budget.per_worker,
            workers = budget.workers,
            kept_for_pools_and_files = budget.reserved,
            "connection bound"
        );
        let http = HttpSettings {
            body_limit_bytes: server.body_limit_bytes,
            cors_allowed_origins: server.cors_allowed_origins.clone(),
            workers: server.workers,
            client_request_timeout: Duration::from_millis(server.client_request_timeout_ms),
            body_timeout: Duration::from_millis(server.body_timeout_ms),
            request_timeout: Some(Duration::from_millis(server.request_timeout_ms)),
            max_connections_per_worker: budget.per_worker,
            keep_alive: Duration::from_secs(server.keep_alive_seconds),
            shutdown_timeout: Duration::from_secs(server.shutdown_timeout_seconds),
        };
        let api = HttpApi::bind(listener, state, &http).map_err(bind_error)?;
        Ok(Self { api })
    }

    /// Where the server listens.
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.api.local_addr()
    }

    /// A handle to stop the server.
    #[must_use]
    pub fn stop_handle(&self) -> StopHandle {
        self.api.stop_handle()
    }

    /// Serves until stopped.
    ///
    /// # Errors
    /// When the server fails.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.api.run().await
    }
}
