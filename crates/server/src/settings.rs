//! Typed configuration: defaults, then an optional TOML file, then `RESERVA_…` environment
//! variables (`RESERVA_SERVER__PORT=9000`), then `DATABASE_URL` / `REDIS_URL`. Secrets are wrapped
//! so they never print; `reserva config` shows connection URLs with only their passwords hidden.

use reserva_domain::exams::BusinessZone;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::path::Path;
use thiserror::Error;

/// A secret value (URL with password, signing key). Its `Debug` never reveals it, and neither does
/// its `Serialize`: that writes `[redacted]`, or, for a copy made by [`Secret::printable_url`], the
/// URL with its passwords redacted ([`redact_url`]).
#[derive(Clone)]
pub struct Secret {
    value: String,
    /// Set only on the copies `reserva config` prints: the value is a connection URL whose host
    /// and database an operator needs to see.
    printable_url: bool,
}

impl Secret {
    /// Wraps a secret.
    #[must_use]
    pub fn new(value: String) -> Self {
        Self {
            value,
            printable_url: false,
        }
    }

    /// The secret itself, for the one place that needs it.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.value
    }

    /// A copy that serializes as the URL without its passwords, for printing.
    #[must_use]
    fn printable_url(&self) -> Self {
        Self {
            value: self.value.clone(),
            printable_url: true,
        }
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl Eq for Secret {}

impl fmt::Debug for Secret {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("\"[redacted]\"")
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self::new)
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.printable_url {
            serializer.serialize_str(&redact_url(&self.value))
        } else {
            serializer.serialize_str("[redacted]")
        }
    }
}

/// Query parameters whose value is a credential (libpq's `password`, redis-rs' `pass`, ...).
const SECRET_QUERY_KEYS: [&str; 6] = ["password", "pass", "passwd", "pwd", "sslpassword", "token"];

/// A connection URL as `reserva config` shows it: the password of its user info and credential
/// query parameters become `***`, everything else is kept, since the scheme, host and database
/// are what an operator checks. `postgres://app:pw@db/reserva` → `postgres://app:***@db/reserva`;
/// `sqlite://./reserva.db` is shown as is.
#[must_use]
pub fn redact_url(url: &str) -> String {
    let (before_query, query) = match url.find(['?', '#']) {
        Some(at) => url.split_at(at),
        None => (url, ""),
    };
    // User info ends at the last `@` before the query, so an unescaped `/` or `@` in a password
    // cannot make part of it look like a host or a path.
    let main = match before_query.rfind('@') {
        Some(at) => {
            let (userinfo, host) = before_query.split_at(at);
            let user_start = userinfo.find("://").map_or(0, |scheme_end| scheme_end + 3);
            match userinfo[user_start..].find(':') {
                Some(colon) => format!("{}:***{host}", &userinfo[..user_start + colon]),
                None => before_query.to_owned(),
            }
        }
        None => before_query.to_owned(),
    };
    let query = query
        .split_inclusive(['?', '&', '#'])
        .map(|part| {
            let (pair, separator) = part
                .strip_suffix(['?', '&', '#'])
                .map_or((part, ""), |pair| (pair, &part[pair.len()..]));
            match pair.split_once('=') {
                Some((key, _))
                    if SECRET_QUERY_KEYS.contains(&key.to_ascii_lowercase().as_str()) =>
                {
                    format!("{key}=***{separator}")
                }
                _ => part.to_owned(),
            }
        })
        .collect::<String>();
    main + &query
}

/// Everything configurable.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// HTTP server.
    pub server: ServerSettings,
    /// The store.
    pub database: DatabaseSettings,
    /// Shared state.
    pub redis: RedisSettings,
    /// Tokens and login throttling.
    pub auth: AuthSettings,
    /// Business rules' settings.
    pub business: BusinessSettings,
    /// Exam slot policy.
    pub exams: ExamSettings,
    /// Concerts, seat holds and the waiting room.
    pub tickets: TicketSettings,
    /// The payment provider of catalog registrations, and its reconciler.
    pub payments: PaymentSettings,
    /// Commerce checkout: the provider's callback secret, the sweep, the simulated provider.
    pub commerce: CommerceSettings,
    /// Logging.
    pub log: LogSettings,
}

/// `[server]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerSettings {
    /// Interface to listen on.
    pub host: String,
    /// Port; 0 picks a free one.
    pub port: u16,
    /// Worker threads; 0 = one per core.
    pub workers: usize,
    /// Largest JSON body accepted (413 above).
    pub body_limit_bytes: usize,
    /// Time a client has to send its request headers (408 after it).
    pub client_request_timeout_ms: u64,
    /// Time a client has to send its request body once the headers are in (408 after it).
    pub body_timeout_ms: u64,
    /// Time any request may take from the end of its headers to its answer (503 after it,
    /// `outcome_unknown` for a write): the bound on waiting for a dependency that stopped
    /// answering. Must exceed `database.acquire_timeout_ms + database.statement_timeout_ms`, so
    /// a query's own limits fire first while the database still answers.
    pub request_timeout_ms: u64,
    /// Connections held at most; 0 = as many as fit below the open-files limit.
    pub max_connections: usize,
    /// Idle keep-alive.
    pub keep_alive_seconds: u64,
    /// Graceful shutdown waits this long for in-flight requests.
    pub shutdown_timeout_seconds: u64,
    /// CORS origins (`*` for any); empty: no cross-origin calls.
    pub cors_allowed_origins: Vec<String>,
    /// Proxies (addresses or CIDR networks) whose `X-Forwarded-For` names the client; empty:
    /// the peer address is the client. Only the proxy in front of the service belongs here.
    pub trusted_proxies: Vec<String>,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: 8080,
            workers: 0,
            body_limit_bytes: 64 * 1024,
            client_request_timeout_ms: 5_000,
            body_timeout_ms: 10_000,
            request_timeout_ms: 10_000,
            max_connections: 0,
            keep_alive_seconds: 30,
            shutdown_timeout_seconds: 10,
            cors_allowed_origins: Vec::new(),
            trusted_proxies: Vec::new(),
        }
    }
}

/// `[database]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `sqlite://./reserva.db` (default) or `postgres://user@host/db`; also read from `DATABASE_URL`.
    pub url: Secret,
    /// Pool size.
    pub max_connections: usize,
    /// PostgreSQL: catalog list and search statements run at once at most; the others wait
    /// their turn (within `acquire_timeout_ms`). About three per database core.
    pub list_concurrency: usize,
    /// Waiting longer than this for a pooled connection answers 503.
    pub acquire_timeout_ms: u64,
    /// PostgreSQL `statement_timeout` on every connection.
    pub statement_timeout_ms: u64,
    /// Apply pending migrations when the server starts.
    pub migrate_on_start: bool,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self {
            url: Secret::new("sqlite://./reserva.db".into()),
            max_connections: 16,
            list_concurrency: 6,
            acquire_timeout_ms: 2_000,
            statement_timeout_ms: 5_000,
            migrate_on_start: true,
        }
    }
}

/// `[redis]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct RedisSettings {
    /// Unset: in-process shared state (one instance only). Also read from `REDIS_URL`.
    pub url: Option<Secret>,
    /// Prefix of every key, so deployments can share a Redis.
    pub key_prefix: String,
    /// Pool size.
    pub max_connections: usize,
    /// Connect / wait / command timeout.
    pub timeout_ms: u64,
}

impl Default for RedisSettings {
    fn default() -> Self {
        Self {
            url: None,
            key_prefix: "reserva:".into(),
            max_connections: 32,
            timeout_ms: 1_000,
        }
    }
}

/// `[auth]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthSettings {
    /// HS256 key, at least 32 bytes. Unset: a random one per start (development only).
    pub jwt_secret: Option<Secret>,
    /// Access-token lifetime.
    pub access_token_ttl_seconds: u64,
    /// Refresh-token lifetime.
    pub refresh_token_ttl_days: u64,
    /// Seconds after a rotation in which the rotated refresh token, presented again, answers
    /// the same new pair instead of revoking the session (tabs refreshing at once); 0: never.
    pub refresh_grace_seconds: u64,
    /// Password attempts on one account from one client address per window before 429.
    pub login_failure_limit: u32,
    /// Password attempts from one client address across all accounts per window.
    pub login_address_limit: u32,
    /// Password attempts on one account from all addresses per window: a ceiling well above the
    /// others, so one guesser cannot lock the owner out.
    pub login_account_limit: u32,
    /// The window of all three.
    pub login_failure_window_seconds: u64,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            jwt_secret: None,
            access_token_ttl_seconds: 15 * 60,
            refresh_token_ttl_days: 14,
            refresh_grace_seconds: 10,
            login_failure_limit: 5,
            login_address_limit: 20,
            login_account_limit: 100,
            login_failure_window_seconds: 15 * 60,
        }
    }
}

/// The longest refresh grace window: within it a stolen, just-rotated token is not detected.
const MAX_REFRESH_GRACE_SECONDS: u64 = 60;

/// `[business]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct BusinessSettings {
    /// IANA zone that defines "a date" and "an hour", and the offset of returned timestamps.
    /// Written as its name (`Asia/Seoul`); parsed once, when the settings load.
    #[serde(with = "zone_name")]
    pub time_zone: BusinessZone,
}

impl Default for BusinessSettings {
    fn default() -> Self {
        Self {
            time_zone: BusinessZone::new(chrono_tz::Asia::Seoul),
        }
    }
}

/// `business.time_zone` as its IANA name: an unknown name fails loading, so every later user
/// holds a parsed zone and none parses the name again.
mod zone_name {
    use reserva_domain::exams::BusinessZone;
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(
        zone: &BusinessZone,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(zone.tz().name())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<BusinessZone, D::Error> {
        let name = String::deserialize(deserializer)?;
        name.parse::<chrono_tz::Tz>()
            .map(BusinessZone::new)
            .map_err(|_| {
                D::Error::custom(format!("{name} is not an IANA time zone like Asia/Seoul"))
            })
    }
}

/// `[exams]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExamSettings {
    /// People per hourly slot.
    pub capacity_per_hour: u32,
    /// A reservation must start at least this many hours from now.
    pub lead_time_hours: i64,
    /// ... and at most this many days from now (every covered hour).
    pub horizon_days: i64,
    /// Largest headcount of one reservation.
    pub max_headcount: u32,
    /// Longest reservation, in hours (400 `duration_too_long` beyond).
    pub max_duration_hours: i64,
    /// How often the slot generator rolls the horizon forward.
    pub slot_job_interval_minutes: u64,
}

impl Default for ExamSettings {
    fn default() -> Self {
        Self {
            capacity_per_hour: 50_000,
            lead_time_hours: 72,
            horizon_days: 90,
            max_headcount: 50_000,
            max_duration_hours: 24,
            slot_job_interval_minutes: 60,
        }
    }
}

impl ExamSettings {
    /// The validated policy.
    ///
    /// # Errors
    /// [`SettingsError::Invalid`] naming the rule.
    pub fn policy(&self) -> Result<reserva_domain::exams::BookingPolicy, SettingsError> {
        let max_duration =
            chrono::Duration::try_hours(self.max_duration_hours).ok_or_else(|| {
                SettingsError::Invalid {
                    field: "exams.max_duration_hours",
                    problem: "is out of range".into(),
                }
            })?;
        reserva_domain::exams::BookingPolicy::new(
            self.capacity_per_hour,
            chrono::Duration::hours(self.lead_time_hours),
            chrono::Duration::days(self.horizon_days),
            self.max_headcount,
            max_duration,
        )
        .map_err(|error| SettingsError::Invalid {
            field: "exams",
            problem: error.to_string(),
        })
    }
}

/// `[tickets]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct TicketSettings {
    /// How long a seat hold keeps its seat.
    pub hold_ttl_seconds: u64,
    /// Seats of a performance when the concert does not say (1 to 50).
    pub default_seats: i64,
    /// Users active at once in one concert's waiting room.
    pub queue_max_active: u32,
    /// How long an admitted user stays active at most.
    pub queue_active_ttl_seconds: u64,
    /// How long a waiting user keeps the place without polling.
    pub queue_idle_timeout_seconds: u64,
    /// Seekers admitted beyond the free seats.
    pub queue_admission_margin: u32,
    /// Over how long the admission rate behind the ETA is measured.
    pub queue_rate_window_seconds: u64,
    /// How often the sweeper tidies expired holds and resyncs the rooms (one instance at a time).
    pub sweep_interval_seconds: u64,
}

impl Default for TicketSettings {
    fn default() -> Self {
        Self {
            hold_ttl_seconds: 300,
            default_seats: 50,
            queue_max_active: 100,
            queue_active_ttl_seconds: 600,
            queue_idle_timeout_seconds: 120,
            queue_admission_margin: 10,
            queue_rate_window_seconds: 60,
            sweep_interval_seconds: 15,
        }
    }
}

impl TicketSettings {
    /// The validated policy.
    ///
    /// # Errors
    /// [`SettingsError::Invalid`] naming the rule.
    pub fn policy(&self) -> Result<reserva_domain::tickets::TicketPolicy, SettingsError> {
        let default_seats =
            reserva_domain::tickets::SeatCount::new(self.default_seats).map_err(|error| {
                SettingsError::Invalid {
                    field: "tickets.default_seats",
                    problem: error.to_string(),
                }
            })?;
        reserva_domain::tickets::TicketPolicy::new(
            std::time::Duration::from_secs(self.hold_ttl_seconds),
            default_seats,
            self.queue_max_active,
            std::time::Duration::from_secs(self.queue_active_ttl_seconds),
            std::time::Duration::from_secs(self.queue_idle_timeout_seconds),
            self.queue_admission_margin,
        )
        .map_err(|error| SettingsError::Invalid {
            field: "tickets",
            problem: error.to_string(),
        })
    }

    /// The window of the admission rate.
    #[must_use]
    pub const fn rate_window(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.queue_rate_window_seconds)
    }

    /// The sweeper's period.
    #[must_use]
    pub const fn sweep_interval(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.sweep_interval_seconds)
    }
}

/// Which payment provider charges cards, KakaoPay and bank transfers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PaymentProvider {
    /// The in-process simulated provider (`payments.simulator.*`): deterministic, per process.
    #[default]
    Simulated,
}

/// `[payments]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct PaymentSettings {
    /// The provider (only `simulated` so far).
    pub provider: PaymentProvider,
    /// How long one call to the provider may take before it counts as timed out.
    pub timeout_ms: u64,
    /// How often the reconciler resolves pending payments and owed refunds (one instance at a
    /// time).
    pub reconcile_interval_seconds: u64,
    /// How old a pending payment must be before the reconciler asks the provider about it; more
    /// than a request can wait for the provider (two calls of `timeout_ms`), so the reconciler
    /// never races a request still charging.
    pub reconcile_after_seconds: u64,
    /// How the simulated provider behaves.
    pub simulator: SimulatorSettings,
}

impl Default for PaymentSettings {
    fn default() -> Self {
        Self {
            provider: PaymentProvider::Simulated,
            timeout_ms: 3_000,
            reconcile_interval_seconds: 5,
            reconcile_after_seconds: 30,
            simulator: SimulatorSettings::default(),
        }
    }
}

impl PaymentSettings {
    /// How often the reconciler runs.
    #[must_use]
    pub const fn reconcile_interval(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.reconcile_interval_seconds)
    }

    /// How old a pending payment must be before the reconciler looks it up.
    #[must_use]
    pub const fn reconcile_after(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.reconcile_after_seconds)
    }

    /// The simulated provider's rules (with the adapter's deadline, `timeout_ms`).
    #[must_use]
    pub fn simulator_rules(&self) -> reserva_adapter_memory::SimulatorRules {
        let simulator = &self.simulator;
        reserva_adapter_memory::SimulatorRules {
            latency_ms: simulator.latency_ms,
            decline_amounts: simulator.decline_amounts.clone(),
            timeout_amounts: simulator.timeout_amounts.clone(),
            lost_amounts: simulator.lost_amounts.clone(),
            late_amounts: simulator.late_amounts.clone(),
            late_ms: simulator.late_ms,
            timeout_ms: self.timeout_ms,
        }
    }
}

/// `[payments.simulator]`: rules by amount, applied to the first attempt of a payment id.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimulatorSettings {
    /// Delay before every answer.
    pub latency_ms: u64,
    /// Charges of these amounts are declined.
    pub decline_amounts: Vec<i64>,
    /// Charges of these amounts are made, then their answer is lost (a timeout).
    pub timeout_amounts: Vec<i64>,
    /// Charges of these amounts are lost before the provider sees them (a timeout, nothing
    /// charged).
    pub lost_amounts: Vec<i64>,
    /// Charges of these amounts are made and answered `late_ms` later.
    pub late_amounts: Vec<i64>,
    /// The extra delay of `late_amounts`.
    pub late_ms: u64,
}

/// `[commerce]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct CommerceSettings {
    /// The secret shared with the checkout provider, which signs its callbacks with it (at
    /// least 32 bytes). Absent: a random one is generated at start, with a warning (the
    /// simulated provider signs with it too, so that works for one process only).
    pub provider_secret: Option<Secret>,
    /// How often the checkout sweep expires unapproved payments and retries owed refunds (one
    /// instance at a time).
    pub sweep_interval_seconds: u64,
    /// How the simulated checkout provider behaves (with `payments.provider = "simulated"`).
    pub simulator: CheckoutSimulatorSettings,
}

impl Default for CommerceSettings {
    fn default() -> Self {
        Self {
            provider_secret: None,
            sweep_interval_seconds: 30,
            simulator: CheckoutSimulatorSettings::default(),
        }
    }
}

impl CommerceSettings {
    /// How often the sweep runs.
    #[must_use]
    pub const fn sweep_interval(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.sweep_interval_seconds)
    }

    /// The simulated checkout provider's rules.
    #[must_use]
    pub fn simulator_rules(&self) -> reserva_adapter_memory::CheckoutSimulatorRules {
        let simulator = &self.simulator;
        reserva_adapter_memory::CheckoutSimulatorRules {
            decline_ready_amounts: simulator.decline_ready_amounts.clone(),
            timeout_ready_amounts: simulator.timeout_ready_amounts.clone(),
            timeout_refund_amounts: simulator.timeout_refund_amounts.clone(),
            deliver_twice: simulator.deliver_twice,
            late_seconds: simulator.late_seconds,
            ..reserva_adapter_memory::CheckoutSimulatorRules::default()
        }
    }
}

/// `[commerce.simulator]`: the simulated checkout provider's switches (amount rules apply to
/// the first attempt of a payment id).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct CheckoutSimulatorSettings {
    /// Checkouts of these amounts are declined at ready.
    pub decline_ready_amounts: Vec<i64>,
    /// Checkouts of these amounts are made ready, and the answer is lost.
    pub timeout_ready_amounts: Vec<i64>,
    /// The first refund of these amounts is made, and its answer is lost.
    pub timeout_refund_amounts: Vec<i64>,
    /// Every callback is delivered twice.
    pub deliver_twice: bool,
    /// Callbacks are signed this many seconds in the past (over 300: stale).
    pub late_seconds: i64,
}

/// `[log]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogSettings {
    /// `text` or `json`.
    pub format: LogFormat,
    /// `tracing` filter; `RUST_LOG` wins when set.
    pub filter: String,
}

impl Default for LogSettings {
    fn default() -> Self {
        Self {
            format: LogFormat::Text,
            filter: "info".into(),
        }
    }
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable.
    Text,
    /// One JSON object per line.
    Json,
}

/// Configuration that cannot be loaded or is invalid.
#[derive(Debug, Error)]
pub enum SettingsError {
    /// File or environment unreadable, or a value of the wrong type.
    #[error("configuration: {0}")]
    Load(#[from] config::ConfigError),
    /// A value breaks a rule.
    #[error("configuration: {field} {problem}")]
    Invalid {
        /// Dotted name of the setting.
        field: &'static str,
        /// What is wrong.
        problem: String,
    },
}

impl Settings {
    /// The settings as `reserva config` prints them: pretty JSON in which secrets (the JWT key)
    /// read `[redacted]` and connection URLs show everything but their passwords.
    ///
    /// # Errors
    /// Only if serialisation fails, which would be a bug.
    pub fn to_redacted_json(&self) -> Result<String, serde_json::Error> {
        let mut shown = self.clone();
        shown.database.url = self.database.url.printable_url();
        shown.redis.url = self.redis.url.as_ref().map(Secret::printable_url);
        serde_json::to_string_pretty(&shown)
    }

    /// The `RESERVA_<SECTION>__<KEY>` variables only: others with the prefix, such as
    /// `RESERVA_ADMIN_PASSWORD` (read by `reserva admin create`), are not configuration keys.
    fn section_variables(
        variables: impl Iterator<Item = (String, String)>,
    ) -> std::collections::HashMap<String, String> {
        variables
            .filter(|(name, _)| {
                name.strip_prefix("RESERVA_")
                    .is_some_and(|rest| rest.contains("__"))
            })
            .collect()
    }

    /// Loads defaults → `file` (or `./reserva.toml` if present) → environment, and validates.
    ///
    /// # Errors
    /// [`SettingsError`] naming the offending setting.
    pub fn load(file: Option<&Path>) -> Result<Self, SettingsError> {
        let mut builder = config::Config::builder();
        builder = match file {
            Some(path) => builder.add_source(config::File::from(path).required(true)),
            None => builder.add_source(config::File::with_name("reserva.toml").required(false)),
        };
        builder = builder.add_source(
            config::Environment::with_prefix("RESERVA")
                .prefix_separator("_")
                .separator("__")
                .try_parsing(true)
                .list_separator(",")
                .with_list_parse_key("server.cors_allowed_origins")
                .with_list_parse_key("server.trusted_proxies")
                .with_list_parse_key("payments.simulator.decline_amounts")
                .with_list_parse_key("payments.simulator.timeout_amounts")
                .with_list_parse_key("payments.simulator.lost_amounts")
                .with_list_parse_key("payments.simulator.late_amounts")
                .source(Some(Self::section_variables(std::env::vars()))),
        );
        for (variable, key) in [("DATABASE_URL", "database.url"), ("REDIS_URL", "redis.url")] {
            let value = std::env::var(variable)
                .ok()
                .filter(|value| !value.is_empty());
            builder = builder.set_override_option(key, value)?;
        }
        let settings: Self = builder.build()?.try_deserialize()?;
        settings.validate()?;
        Ok(settings)
    }

    /// Checks rules serde cannot express.
    ///
    /// # Errors
    /// [`SettingsError::Invalid`].
    pub fn validate(&self) -> Result<(), SettingsError> {
        let invalid = |field, problem: &str| {
            Err(SettingsError::Invalid {
                field,
                problem: problem.into(),
            })
        };
        self.exams.policy()?;
        if self.exams.slot_job_interval_minutes == 0 {
            return invalid("exams.slot_job_interval_minutes", "must be positive");
        }
        self.tickets.policy()?;
        if self.tickets.queue_rate_window_seconds == 0 {
            return invalid("tickets.queue_rate_window_seconds", "must be positive");
        }
        if self.tickets.sweep_interval_seconds == 0 {
            return invalid("tickets.sweep_interval_seconds", "must be positive");
        }
        let payments = &self.payments;
        if payments.timeout_ms == 0 || payments.reconcile_interval_seconds == 0 {
            return invalid(
                "payments.timeout_ms / payments.reconcile_interval_seconds",
                "must be positive",
            );
        }
        if payments.reconcile_after_seconds.saturating_mul(1_000)
            <= payments.timeout_ms.saturating_mul(2)
        {
            return invalid(
                "payments.reconcile_after_seconds",
                "must exceed twice payments.timeout_ms (a charge and its lookup), or the \
                 reconciler would race requests still charging",
            );
        }
        if self
            .auth
            .jwt_secret
            .as_ref()
            .is_some_and(|secret| secret.expose().len() < 32)
        {
            return invalid("auth.jwt_secret", "must be at least 32 bytes");
        }
        if self
            .commerce
            .provider_secret
            .as_ref()
            .is_some_and(|secret| secret.expose().len() < 32)
        {
            return invalid("commerce.provider_secret", "must be at least 32 bytes");
        }
        if self.commerce.sweep_interval_seconds == 0 {
            return invalid("commerce.sweep_interval_seconds", "must be positive");
        }
        if self.auth.access_token_ttl_seconds == 0 || self.auth.refresh_token_ttl_days == 0 {
            return invalid("auth.*_ttl", "must be positive");
        }
        if self.auth.refresh_grace_seconds > MAX_REFRESH_GRACE_SECONDS {
            return invalid("auth.refresh_grace_seconds", "must be at most 60");
        }
        let auth = &self.auth;
        let limits = [
            auth.login_failure_limit,
            auth.login_address_limit,
            auth.login_account_limit,
        ];
        if limits.contains(&0) || auth.login_failure_window_seconds == 0 {
            return invalid("auth.login_*", "must be positive");
        }
        if let Err(entry) =
            reserva_adapter_http::TrustedProxies::parse(self.server.trusted_proxies.as_slice())
        {
            return invalid(
                "server.trusted_proxies",
                &format!("has {entry:?}, which is neither an IP address nor a CIDR network"),
            );
        }
        if self.database.max_connections == 0 || self.redis.max_connections == 0 {
            return invalid("*.max_connections", "must be positive");
        }
        if self.database.list_concurrency == 0 {
            return invalid("database.list_concurrency", "must be positive");
        }
        if self.server.client_request_timeout_ms == 0 || self.server.body_timeout_ms == 0 {
            return invalid("server.*_timeout_ms", "must be positive");
        }
        if self.server.request_timeout_ms
            <= self
                .database
                .acquire_timeout_ms
                .saturating_add(self.database.statement_timeout_ms)
        {
            return invalid(
                "server.request_timeout_ms",
                "must exceed database.acquire_timeout_ms + database.statement_timeout_ms, or a \
                 slow query is cut off as an unknown outcome before its own limit ends it",
            );
        }
        if self.server.body_limit_bytes < 1024 {
            return invalid("server.body_limit_bytes", "must be at least 1024");
        }
        let url = self.database.url.expose();
        if !(url.starts_with("sqlite:")
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://"))
        {
            return invalid(
                "database.url",
                "must start with sqlite:, postgres:// or postgresql://",
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_section_variables_are_configuration() {
        let variables = [
            ("RESERVA_SERVER__PORT", "9000"),
            ("RESERVA_ADMIN_PASSWORD", "secret123"),
            ("RESERVA_AUTH__JWT_SECRET", "x"),
            ("SERVER__PORT", "1"),
        ]
        .map(|(name, value)| (name.to_owned(), value.to_owned()));
        let mut kept: Vec<String> = Settings::section_variables(variables.into_iter())
            .into_keys()
            .collect();
        kept.sort();
        assert_eq!(kept, ["RESERVA_AUTH__JWT_SECRET", "RESERVA_SERVER__PORT"]);
    }

    #[test]
    fn payments_settings_refuse_a_reconciler_that_would_race_requests() {
        let mut settings = Settings::default();
        assert_eq!(settings.payments.timeout_ms, 3_000);
        assert_eq!(settings.payments.reconcile_interval_seconds, 5);
        assert_eq!(settings.payments.reconcile_after_seconds, 30);
        settings.payments.reconcile_after_seconds = 6;
        assert!(
            settings.validate().is_err(),
            "6 s is not more than two 3 s calls"
        );
        settings.payments.reconcile_after_seconds = 7;
        assert!(settings.validate().is_ok());
        settings.payments.reconcile_interval_seconds = 0;
        assert!(settings.validate().is_err());
        settings.payments.reconcile_interval_seconds = 5;
        settings.payments.timeout_ms = 0;
        assert!(settings.validate().is_err());
    }

    #[test]
    fn the_simulator_takes_its_rules_and_the_adapter_deadline_from_settings() {
        let mut settings = Settings::default();
        settings.payments.timeout_ms = 250;
        settings.payments.simulator.decline_amounts = vec![4_000];
        settings.payments.simulator.late_ms = 9;
        let rules = settings.payments.simulator_rules();
        assert_eq!(rules.timeout_ms, 250);
        assert_eq!(rules.decline_amounts, [4_000]);
        assert_eq!(rules.late_ms, 9);
    }

    #[test]
    fn defaults_are_valid_and_secrets_never_print() {
        let mut settings = Settings::default();
        assert!(settings.validate().is_ok());
        settings.auth.jwt_secret = Some(Secret::new("x".repeat(40)));
        settings.database.url = Secret::new("postgres://app:hunter2@db/reserva".into());
        let printed = format!("{settings:?}");
        assert!(
            !printed.contains("hunter2") && !printed.contains("xxxx"),
            "{printed}"
        );
    }

    #[test]
    fn urls_lose_their_passwords_and_nothing_else() {
        for (url, shown) in [
            ("sqlite://./reserva.db", "sqlite://./reserva.db"),
            ("sqlite:reserva.db?mode=rwc", "sqlite:reserva.db?mode=rwc"),
            (
                "postgres://app:hunter2@db/reserva",
                "postgres://app:***@db/reserva",
            ),
            (
                "postgres://app@db:5432/reserva",
                "postgres://app@db:5432/reserva",
            ),
            (
                "postgresql://app:hun%40ter@db/reserva?sslmode=require",
                "postgresql://app:***@db/reserva?sslmode=require",
            ),
            (
                "postgres://db/reserva?user=app&password=hunter2&connect_timeout=5",
                "postgres://db/reserva?user=app&password=***&connect_timeout=5",
            ),
            ("redis://:hunter2@cache:6379/0", "redis://:***@cache:6379/0"),
            (
                "rediss://default:hunter2@cache",
                "rediss://default:***@cache",
            ),
            ("redis://127.0.0.1:6379", "redis://127.0.0.1:6379"),
            (
                "redis+unix:///run/redis.sock?pass=hunter2",
                "redis+unix:///run/redis.sock?pass=***",
            ),
            (
                "postgres://app:hu/nt@er2@db/reserva",
                "postgres://app:***@db/reserva",
            ),
        ] {
            assert_eq!(redact_url(url), shown, "{url}");
        }
    }

    #[test]
    fn the_printed_configuration_shows_urls_without_passwords() {
        let mut settings = Settings::default();
        let printed = settings.to_redacted_json().unwrap_or_default();
        assert!(printed.contains("\"sqlite://./reserva.db\""), "{printed}");
        settings.database.url = Secret::new("postgres://app:hunter2@db/reserva".into());
        settings.redis.url = Some(Secret::new("redis://:swordfish@cache:6379".into()));
        settings.auth.jwt_secret = Some(Secret::new("k".repeat(40)));
        let printed = settings.to_redacted_json().unwrap_or_default();
        assert!(
            printed.contains("postgres://app:***@db/reserva"),
            "{printed}"
        );
        assert!(printed.contains("redis://:***@cache:6379"), "{printed}");
        assert!(
            printed.contains("\"jwt_secret\": \"[redacted]\""),
            "{printed}"
        );
        for secret in ["hunter2", "swordfish", "kkkk"] {
            assert!(!printed.contains(secret), "{printed}");
        }
    }

    #[test]
    fn trusted_proxies_must_be_addresses_or_networks() {
        let mut settings = Settings::default();
        settings.server.trusted_proxies = vec!["172.28.0.10".into(), "10.0.0.0/8".into()];
        assert!(settings.validate().is_ok());
        settings.server.trusted_proxies.push("nginx".into());
        let error = settings
            .validate()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            error.contains("server.trusted_proxies") && error.contains("nginx"),
            "{error}"
        );
        let mut settings = Settings::default();
        settings.auth.login_address_limit = 0;
        assert!(settings.validate().is_err());
    }

    #[test]
    fn invalid_values_name_their_setting() {
        let mut settings = Settings::default();
        settings.auth.jwt_secret = Some(Secret::new("short".into()));
        assert!(settings.validate().is_err());
        let mut settings = Settings::default();
        settings.commerce.provider_secret = Some(Secret::new("s".repeat(31)));
        let error = settings.validate().err().map(|error| error.to_string());
        assert!(
            error.is_some_and(|text| text.contains("commerce.provider_secret")),
            "a short provider secret is refused"
        );
        settings.commerce.provider_secret = Some(Secret::new("s".repeat(32)));
        assert!(settings.validate().is_ok());
        settings.commerce.sweep_interval_seconds = 0;
        assert!(settings.validate().is_err());
        let mut settings = Settings::default();
        settings.database.url = Secret::new("mysql://x".into());
        assert!(settings.validate().is_err());
        let mut settings = Settings::default();
        settings.database.list_concurrency = 0;
        let error = settings.validate().err().map(|error| error.to_string());
        assert!(
            error.is_some_and(|text| text.contains("database.list_concurrency")),
            "no catalog list could ever run"
        );
        let mut settings = Settings::default();
        settings.auth.refresh_grace_seconds = 61;
        assert!(settings.validate().is_err());
        let mut settings = Settings::default();
        settings.exams.horizon_days = 2;
        let error = settings
            .validate()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(error.contains("exams"), "{error}");
        let mut settings = Settings::default();
        settings.exams.max_duration_hours = 0;
        assert!(
            settings.validate().is_err(),
            "a reservation lasts an hour at least"
        );
        let mut settings = Settings::default();
        settings.server.request_timeout_ms =
            settings.database.acquire_timeout_ms + settings.database.statement_timeout_ms;
        let error = settings
            .validate()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(error.contains("server.request_timeout_ms"), "{error}");
        settings.server.request_timeout_ms += 1;
        assert!(
            settings.validate().is_ok(),
            "one millisecond more is enough"
        );
    }

    #[test]
    fn tickets_defaults_are_the_products_and_nonsense_names_its_setting() {
        let settings = Settings::default();
        let policy = settings.tickets.policy().ok();
        assert_eq!(
            policy,
            Some(reserva_domain::tickets::TicketPolicy::default())
        );
        assert_eq!(
            settings.tickets.sweep_interval(),
            std::time::Duration::from_secs(15)
        );
        let message = |settings: &Settings| {
            settings
                .validate()
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        let mut settings = Settings::default();
        settings.tickets.default_seats = 51;
        assert!(
            message(&settings).contains("tickets.default_seats"),
            "{}",
            message(&settings)
        );
        let mut settings = Settings::default();
        settings.tickets.queue_max_active = 0;
        assert!(message(&settings).contains("tickets"));
        let mut settings = Settings::default();
        settings.tickets.hold_ttl_seconds = 0;
        assert!(settings.validate().is_err());
        let mut settings = Settings::default();
        settings.tickets.sweep_interval_seconds = 0;
        assert!(message(&settings).contains("tickets.sweep_interval_seconds"));
        let mut settings = Settings::default();
        settings.tickets.queue_rate_window_seconds = 0;
        assert!(message(&settings).contains("tickets.queue_rate_window_seconds"));
        let loaded = built(&[("tickets.hold_ttl_seconds", "60")]);
        assert_eq!(loaded.ok().map(|s| s.tickets.hold_ttl_seconds), Some(60));
    }

    /// Settings as `load` builds them from defaults, with `overrides` as if from the file.
    fn built(overrides: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        let mut builder = config::Config::builder();
        for (key, value) in overrides {
            builder = builder.set_override(*key, *value)?;
        }
        Ok(builder.build()?.try_deserialize()?)
    }

    #[test]
    fn the_time_zone_is_parsed_once_when_settings_load() {
        let settings = built(&[("business.time_zone", "America/New_York")]);
        assert_eq!(
            settings.ok().map(|s| s.business.time_zone),
            Some(BusinessZone::new(chrono_tz::America::New_York))
        );
        let error = built(&[("business.time_zone", "Mars/Olympus")])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            error.contains("business.time_zone") && error.contains("Mars/Olympus"),
            "{error}"
        );
        let written = serde_json::to_value(Settings::default()).unwrap_or_default();
        assert_eq!(
            written["business"]["time_zone"], "Asia/Seoul",
            "written as its name"
        );
    }
}
