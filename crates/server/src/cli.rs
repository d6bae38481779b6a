//! The command line: `reserva [serve]`, `migrate`, `admin create`, `exams`, `wallet verify`,
//! `seed catalog`, `catalog verify`, `config`, `openapi`.
//! What is printed here is for operators, so it says what to do next, not how the code works.

mod catalog;

pub use catalog::{
    CatalogCommand, SEED_PASSWORD, SEED_TUTOR_EMAIL, SeedCatalogArgs, SeedCommand, catalog_verify,
    catalog_verify_with, seed, seed_catalog_into, seed_summary,
};

use crate::application::{self, Application, StartupError};
use crate::settings::{Secret, Settings};
use crate::stores;
use chrono::{DateTime, NaiveDate, Utc};
use clap::{Parser, Subcommand};
use reserva_application::accounts::SignupCommand;
use reserva_application::ports::exams::Slot;
use reserva_application::ports::tickets::SeatAudit;
use reserva_application::ports::wallet::LedgerAudit;
use reserva_domain::exams::{BookingPolicy, BusinessZone};
use std::fmt::Write as _;
use std::io::IsTerminal as _;
use std::path::PathBuf;

/// The variable `reserva admin create` takes the password from when no one can type it.
pub const ADMIN_PASSWORD_VARIABLE: &str = "RESERVA_ADMIN_PASSWORD";

const ABOUT: &str = "Reserva: a reservation and booking backend (accounts and hourly exam slots)";

const LONG_ABOUT: &str = "Reserva: a reservation and booking backend. Accounts with JWT access \
tokens and rotating refresh tokens, and hourly exam slots whose capacity is never oversold, \
behind a JSON HTTP API.

Without a command it runs the HTTP server (the same as `reserva serve`). Settings come from \
./reserva.toml (or --config FILE), then RESERVA_<SECTION>__<KEY> environment variables, then \
DATABASE_URL and REDIS_URL; `reserva config` prints the result.";

const AFTER_HELP: &str = "Examples:
  reserva                                 serve on http://127.0.0.1:8080 (API docs at /docs/)
  reserva migrate                         apply pending database migrations
  reserva admin create --email admin@example.com --username admin
                                          make an administrator (password prompted, or
                                          read from RESERVA_ADMIN_PASSWORD)
  reserva exams slots --date 2026-12-10   capacity and bookings of each hour of a date
  reserva wallet verify                   audit the ledger and the seats (exit 1 on a
                                          violation, 3 when the store cannot be read)
  reserva seed catalog --tests 1000 --courses 1000 --users 10
                                          a benchmark catalog (default 1,000,000 of each)
  reserva catalog verify                  audit the catalog's counts and registrations
                                          (exit 1 on a violation, 3 when unreadable)
  reserva config                          the effective settings, passwords redacted";

/// The parsed command line (`reserva --help` shows [`ABOUT`] and [`LONG_ABOUT`], not this).
#[derive(Debug, Parser)]
#[command(
    name = "reserva",
    version,
    about = ABOUT,
    long_about = LONG_ABOUT,
    after_help = AFTER_HELP
)]
pub struct Cli {
    /// TOML configuration file (default: ./reserva.toml if it exists).
    #[arg(long, short, global = true, env = "RESERVA_CONFIG")]
    pub config: Option<PathBuf>,
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server (the default).
    Serve,
    /// Apply pending database migrations (or revert them all).
    Migrate {
        /// Revert every migration instead (destroys all data).
        #[arg(long)]
        revert_all: bool,
    },
    /// Administrator accounts.
    Admin {
        /// What to do.
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Exam slots: fill levels and generation.
    Exams {
        /// What to do.
        #[command(subcommand)]
        command: ExamsCommand,
    },
    /// Wallet and ledger: audits.
    Wallet {
        /// What to do.
        #[command(subcommand)]
        command: WalletCommand,
    },
    /// Generated data for benchmarks.
    Seed {
        /// What to generate.
        #[command(subcommand)]
        command: SeedCommand,
    },
    /// Tests and courses: audits.
    Catalog {
        /// What to do.
        #[command(subcommand)]
        command: CatalogCommand,
    },
    /// Print the effective configuration (secrets redacted).
    Config,
    /// Print the OpenAPI document.
    Openapi,
}

/// `reserva admin …`.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an administrator. The password is prompted for on a terminal; without one (scripts,
    /// containers) it is read from RESERVA_ADMIN_PASSWORD.
    Create {
        /// Login e-mail.
        #[arg(long)]
        email: String,
        /// Username.
        #[arg(long)]
        username: String,
    },
}

/// `reserva exams …`.
#[derive(Debug, Subcommand)]
pub enum ExamsCommand {
    /// Show every hour of a date (business time zone) with capacity, confirmed and remaining,
    /// and which hours cannot be booked now (lead time, horizon, full).
    Slots {
        /// The date, like 2026-12-10.
        #[arg(long)]
        date: chrono::NaiveDate,
    },
    /// Create any missing slot across the booking horizon now (the server also does it hourly).
    EnsureSlots,
}

/// `reserva wallet …`.
#[derive(Debug, Subcommand)]
pub enum WalletCommand {
    /// Audit the ledger (every wallet balance is the sum of its entries and not negative, every
    /// transfer's two entries cancel out) and the seats (none sold twice, no live hold on a sold
    /// seat, every booking paid). Exits 0 when clean, 1 on any violation, 3 when the store
    /// cannot be read.
    Verify,
}

/// The exit status of `reserva wallet verify` when the audit found violations.
pub const VIOLATIONS_FOUND: u8 = 1;
/// The exit status of `reserva wallet verify` when the store could not be audited (unreachable
/// or failing): distinct from [`VIOLATIONS_FOUND`], since nothing is known to be wrong.
pub const AUDIT_UNAVAILABLE: u8 = 3;

/// Runs `reserva wallet verify`: prints both audits; `Ok(true)` when both are clean.
///
/// # Errors
/// A message for the operator when the store cannot be audited.
pub async fn wallet_verify(settings: &Settings) -> Result<bool, String> {
    let store = application::connect_store(settings)
        .await
        .map_err(|e| e.to_string())?;
    // The audits read only the store: an in-process room keeps them independent of Redis.
    let room = std::sync::Arc::new(reserva_adapter_memory::MemorySharedState::new());
    let tickets = application::tickets(settings, &store, room, &application::system_clock())
        .map_err(|e| e.to_string())?;
    let wallet = application::wallet(&store, &application::system_clock());
    let ledger = wallet.verify().await.map_err(|e| e.to_string())?;
    let seats = tickets.verify_seats().await.map_err(|e| e.to_string())?;
    print!("{}", audit_report(&ledger, &seats));
    Ok(ledger.violations.is_empty() && seats.violations.is_empty())
}

/// The `reserva wallet verify` report: what was checked, then each violation on its own line.
fn audit_report(ledger: &LedgerAudit, seats: &SeatAudit) -> String {
    let mut report = format!(
        "ledger: {} account(s), {} transfer(s) checked, {} violation(s)\n",
        ledger.accounts_checked,
        ledger.transfers_checked,
        ledger.violations.len()
    );
    for violation in &ledger.violations {
        let _ = writeln!(report, "  ledger violation: {violation}");
    }
    let _ = writeln!(
        report,
        "seats: {} seat(s) checked, {} violation(s)",
        seats.seats_checked,
        seats.violations.len()
    );
    for violation in &seats.violations {
        let _ = writeln!(report, "  seat violation: {violation}");
    }
    report.push_str(
        if ledger.violations.is_empty() && seats.violations.is_empty() {
            "clean\n"
        } else {
            "VIOLATIONS FOUND\n"
        },
    );
    report
}

/// Runs `reserva exams …`.
///
/// # Errors
/// A message for the operator.
pub async fn exams(settings: &Settings, command: ExamsCommand) -> Result<(), String> {
    let (store, _) = application::connect(settings)
        .await
        .map_err(|e| e.to_string())?;
    let exams = application::exams(settings, &store, &application::system_clock())
        .map_err(|e| e.to_string())?;
    match command {
        ExamsCommand::EnsureSlots => {
            let created = exams.ensure_slots().await.map_err(|e| e.to_string())?;
            println!("created {created} slot(s); every hour of the horizon exists");
        }
        ExamsCommand::Slots { date } => {
            let slots = exams.fill_levels(date).await.map_err(|e| e.to_string())?;
            print!(
                "{}",
                fill_level_report(date, exams.zone(), exams.policy(), &slots, Utc::now())
            );
        }
    }
    Ok(())
}

/// Whether an hour can be booked now, as `POST /api/v1/exam-reservations` decides it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HourMark {
    /// A one-hour reservation of at most the remaining headcount would be accepted.
    Bookable,
    /// Starts sooner than the lead time (`outside_booking_window`).
    InsideLeadTime,
    /// Starts beyond the horizon (`outside_booking_window`).
    BeyondHorizon,
    /// No place left (`capacity_exceeded`).
    Full,
}

impl HourMark {
    fn of(slot: &Slot, policy: BookingPolicy, now: DateTime<Utc>) -> Self {
        // The same rule the create use case applies to a reservation's hours.
        if slot.starts_at < now + policy.lead_time() {
            Self::InsideLeadTime
        } else if !policy.is_bookable(slot.starts_at, now) {
            Self::BeyondHorizon
        } else if slot.remaining() == 0 {
            Self::Full
        } else {
            Self::Bookable
        }
    }

    const fn label(self) -> &'static str {
        match self {
            Self::Bookable => "",
            Self::InsideLeadTime => "lead time",
            Self::BeyondHorizon => "beyond horizon",
            Self::Full => "full",
        }
    }
}

/// The `reserva exams slots` table: every stored hour of `date`, each marked when the API would
/// refuse to book it at `now`, and a legend for the marks that appear.
fn fill_level_report(
    date: NaiveDate,
    zone: BusinessZone,
    policy: BookingPolicy,
    slots: &[Slot],
    now: DateTime<Utc>,
) -> String {
    let tz = zone.tz();
    let mut report = format!(
        "{date} ({zone})\nhour   capacity  confirmed  remaining   fill  not bookable now\n"
    );
    let mut seen = Vec::new();
    for slot in slots {
        let local = slot.starts_at.with_timezone(&tz).format("%H:%M");
        let fill = f64::from(slot.confirmed) * 100.0 / f64::from(slot.capacity.max(1));
        let mark = HourMark::of(slot, policy, now);
        if !seen.contains(&mark) {
            seen.push(mark);
        }
        let line = format!(
            "{local}  {:>8}  {:>9}  {:>9}  {fill:>5.1}%  {}",
            slot.capacity,
            slot.confirmed,
            slot.remaining(),
            mark.label()
        );
        report.push_str(line.trim_end());
        report.push('\n');
    }
    if slots.is_empty() {
        report.push_str("no slots on this date (outside the generated horizon)\n");
        return report;
    }
    let earliest = (now + policy.lead_time()).with_timezone(&tz);
    let latest = (now + policy.horizon()).with_timezone(&tz);
    for mark in [
        HourMark::InsideLeadTime,
        HourMark::BeyondHorizon,
        HourMark::Full,
    ] {
        if !seen.contains(&mark) {
            continue;
        }
        let meaning = match mark {
            HourMark::InsideLeadTime => format!(
                "starts less than {} hours from now (before {}): booking it answers 400 \
                 outside_booking_window",
                policy.lead_time().num_hours(),
                earliest.format("%Y-%m-%d %H:%M")
            ),
            HourMark::BeyondHorizon => format!(
                "starts more than {} days from now (after {}): booking it answers 400 \
                 outside_booking_window",
                policy.horizon().num_days(),
                latest.format("%Y-%m-%d %H:%M")
            ),
            HourMark::Full | HourMark::Bookable => {
                "no place left: booking it answers 409 capacity_exceeded".to_owned()
            }
        };
        let _ = writeln!(report, "{}: {meaning}", mark.label());
    }
    report
}

/// Where `reserva admin create` gets the password.
#[derive(Debug, PartialEq, Eq)]
enum PasswordSource {
    /// From [`ADMIN_PASSWORD_VARIABLE`].
    Variable(String),
    /// Typed twice at a prompt.
    Prompt,
}

/// The variable wins; else a prompt, which needs a terminal: without one (a script, a container,
/// CI) the prompt would fail with an obscure "No such device or address".
fn password_source(
    variable: Option<std::ffi::OsString>,
    stdin_is_terminal: bool,
) -> Result<PasswordSource, String> {
    match variable {
        Some(value) => value
            .into_string()
            .map(PasswordSource::Variable)
            .map_err(|_| format!("{ADMIN_PASSWORD_VARIABLE} is not valid UTF-8")),
        None if stdin_is_terminal => Ok(PasswordSource::Prompt),
        None => Err(format!(
            "no terminal to prompt for the administrator's password: set {ADMIN_PASSWORD_VARIABLE} \
             (for example {ADMIN_PASSWORD_VARIABLE}='…' reserva admin create --email … --username …)"
        )),
    }
}

fn read_password() -> Result<String, String> {
    let source = password_source(
        std::env::var_os(ADMIN_PASSWORD_VARIABLE),
        std::io::stdin().is_terminal(),
    )?;
    if let PasswordSource::Variable(password) = source {
        return Ok(password);
    }
    let unreadable = |error: std::io::Error| {
        format!("reading the password: {error} (or set {ADMIN_PASSWORD_VARIABLE})")
    };
    let first = rpassword::prompt_password("Password: ").map_err(unreadable)?;
    let second = rpassword::prompt_password("Password (again): ").map_err(unreadable)?;
    if first == second {
        Ok(first)
    } else {
        Err("the passwords differ".into())
    }
}

/// Runs `reserva admin create`.
///
/// # Errors
/// A message for the operator.
pub async fn create_admin(
    settings: &Settings,
    email: String,
    username: String,
) -> Result<(), String> {
    let password = read_password()?;
    create_administrator(settings, email, username, password).await
}

/// Creates an administrator with the same rules as signup.
///
/// # Errors
/// A message for the operator.
pub async fn create_administrator(
    settings: &Settings,
    email: String,
    username: String,
    password: String,
) -> Result<(), String> {
    // Creating a user signs no token, so without a configured key a throwaway one will do, and
    // the warning about a generated development key stays where it matters: `reserva serve`.
    let mut settings = settings.clone();
    if settings.auth.jwt_secret.is_none() {
        let throwaway = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        settings.auth.jwt_secret = Some(Secret::new(throwaway));
    }
    let settings = &settings;
    let (store, shared) = application::connect(settings)
        .await
        .map_err(|e| e.to_string())?;
    let accounts = application::accounts(settings, &store, &shared, &application::system_clock())
        .map_err(|e| e.to_string())?;
    let command = SignupCommand {
        email,
        username,
        password: password.clone(),
        password_confirm: password,
    };
    match accounts.create_administrator(command).await {
        Ok(user) => {
            println!(
                "created administrator {} <{}> ({})",
                user.username, user.email, user.id
            );
            Ok(())
        }
        Err(error) => {
            use reserva_application::UseCaseError as _;
            let details: Vec<String> = error
                .violations()
                .iter()
                .map(|v| format!("{}: {}", v.field, v.message))
                .collect();
            Err(format!(
                "{} ({}) {}",
                error,
                error.code(),
                details.join("; ")
            ))
        }
    }
}

/// Runs `reserva migrate`.
///
/// # Errors
/// A message for the operator.
pub async fn migrate(settings: &Settings, revert_all: bool) -> Result<(), String> {
    let versions = if revert_all {
        stores::revert_all(settings).await
    } else {
        stores::migrate(settings).await
    }
    .map_err(|error| error.to_string())?;
    let verb = if revert_all { "reverted" } else { "applied" };
    if versions.is_empty() {
        println!(
            "nothing to do: {} migrations",
            if revert_all { "no" } else { "no pending" }
        );
    }
    for version in versions {
        println!("{verb} {version}");
    }
    Ok(())
}

/// Runs the server until SIGINT or SIGTERM, then shuts down gracefully.
///
/// # Errors
/// Start-up failures.
pub async fn serve(settings: &Settings) -> Result<(), StartupError> {
    let application = Application::build(settings).await?;
    let address = application.local_addr();
    tracing::info!(%address, "listening");
    println!("Reserva listening on http://{address}");
    println!(
        "API docs (Swagger UI): http://{address}/docs/  ·  OpenAPI: http://{address}/api/openapi.json"
    );
    let stop = application.stop_handle();
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutdown requested; finishing in-flight requests");
        stop.stop(true).await;
    });
    application
        .run_until_stopped()
        .await
        .map_err(|source| StartupError::Bind {
            address: address.to_string(),
            source,
        })?;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(error) => {
                    tracing::error!(%error, "cannot listen for SIGTERM");
                    drop(interrupt.await);
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {},
            _ = terminate.recv() => {},
        }
    }
    #[cfg(not(unix))]
    drop(interrupt.await);
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    const SEOUL: BusinessZone = BusinessZone::new(chrono_tz::Asia::Seoul);

    /// 2026-11-25 12:30 in Seoul: the lead time ends at 2026-11-28 12:30.
    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 25, 3, 30, 0)
            .single()
            .expect("valid instant")
    }

    fn day(date: NaiveDate, confirmed: impl Fn(u32) -> u32) -> Vec<Slot> {
        reserva_domain::exams::hours_of_date(date, SEOUL)
            .into_iter()
            .zip(0..)
            .map(|(starts_at, hour)| Slot {
                starts_at,
                capacity: 50_000,
                confirmed: confirmed(hour),
            })
            .collect()
    }

    fn marked_hours(report: &str, label: &str) -> Vec<String> {
        report
            .lines()
            .filter(|line| line.len() > 5 && line.ends_with(label))
            .map(|line| line[..5].to_owned())
            .collect()
    }

    #[test]
    fn hours_inside_the_lead_time_are_marked_as_the_api_refuses_them() {
        let date = NaiveDate::from_ymd_opt(2026, 11, 28).expect("date");
        let slots = day(date, |hour| if hour == 20 { 50_000 } else { 0 });
        let policy = BookingPolicy::default();
        let report = fill_level_report(date, SEOUL, policy, &slots, now());
        let too_soon: Vec<String> = (0..=12).map(|hour| format!("{hour:02}:00")).collect();
        assert_eq!(marked_hours(&report, "lead time"), too_soon, "{report}");
        assert_eq!(marked_hours(&report, "full"), ["20:00"], "{report}");
        // Exactly the hours the create use case accepts are left unmarked.
        for slot in &slots {
            let local = slot.starts_at.with_timezone(&SEOUL.tz()).format("%H:%M");
            let line = report
                .lines()
                .find(|line| line.starts_with(&local.to_string()))
                .expect("every hour has a line");
            let accepted = policy.is_bookable(slot.starts_at, now()) && slot.remaining() > 0;
            assert_eq!(line.ends_with('%'), accepted, "{line}");
        }
        assert!(
            report.contains(
                "lead time: starts less than 72 hours from now (before 2026-11-28 12:30): booking \
                 it answers 400 outside_booking_window"
            ),
            "{report}"
        );
        assert!(report.contains("full: no place left"), "{report}");
        assert!(
            !report.contains("beyond horizon:"),
            "no legend for absent marks"
        );
    }

    #[test]
    fn hours_beyond_the_horizon_are_marked_and_a_bookable_day_has_no_legend() {
        let policy = BookingPolicy::default();
        let last = NaiveDate::from_ymd_opt(2027, 2, 23).expect("the horizon's last date");
        let report = fill_level_report(last, SEOUL, policy, &day(last, |_| 0), now());
        let beyond: Vec<String> = (13..24).map(|hour| format!("{hour:02}:00")).collect();
        assert_eq!(marked_hours(&report, "beyond horizon"), beyond, "{report}");
        assert!(
            report.contains("starts more than 90 days from now"),
            "{report}"
        );

        let open = NaiveDate::from_ymd_opt(2026, 12, 10).expect("date");
        let report = fill_level_report(open, SEOUL, policy, &day(open, |_| 10), now());
        assert_eq!(report.lines().count(), 2 + 24, "{report}");
        assert!(
            report.lines().skip(2).all(|line| line.ends_with('%')),
            "{report}"
        );
    }

    #[test]
    fn a_date_without_slots_says_so() {
        let date = NaiveDate::from_ymd_opt(2030, 1, 1).expect("date");
        let report = fill_level_report(date, SEOUL, BookingPolicy::default(), &[], now());
        assert!(report.ends_with("no slots on this date (outside the generated horizon)\n"));
    }

    #[test]
    fn the_lead_time_boundary_is_the_api_s() {
        let policy = BookingPolicy::default();
        let slot = |starts_at| Slot {
            starts_at,
            capacity: 10,
            confirmed: 0,
        };
        let boundary = now() + Duration::hours(72);
        assert_eq!(
            HourMark::of(&slot(boundary), policy, now()),
            HourMark::Bookable
        );
        assert_eq!(
            HourMark::of(&slot(boundary - Duration::seconds(1)), policy, now()),
            HourMark::InsideLeadTime
        );
    }

    #[test]
    fn the_audit_report_lists_every_violation_and_ends_with_the_verdict() {
        let clean = audit_report(
            &LedgerAudit {
                accounts_checked: 3,
                transfers_checked: 2,
                violations: vec![],
            },
            &SeatAudit {
                seats_checked: 50,
                violations: vec![],
            },
        );
        assert_eq!(
            clean,
            "ledger: 3 account(s), 2 transfer(s) checked, 0 violation(s)\n\
             seats: 50 seat(s) checked, 0 violation(s)\nclean\n"
        );
        let broken = audit_report(
            &LedgerAudit {
                violations: vec!["wallet 1 balance 5 != entries 4".into()],
                ..LedgerAudit::default()
            },
            &SeatAudit {
                violations: vec!["seat 3 sold twice".into()],
                ..SeatAudit::default()
            },
        );
        assert!(
            broken.contains("  ledger violation: wallet 1 balance 5 != entries 4\n"),
            "{broken}"
        );
        assert!(
            broken.contains("  seat violation: seat 3 sold twice\n"),
            "{broken}"
        );
        assert!(broken.ends_with("VIOLATIONS FOUND\n"), "{broken}");
    }

    #[test]
    fn without_a_terminal_the_password_must_come_from_the_variable() {
        let error = password_source(None, false).expect_err("nobody can type it");
        assert!(error.contains("RESERVA_ADMIN_PASSWORD"), "{error}");
        assert_eq!(password_source(None, true), Ok(PasswordSource::Prompt));
        assert_eq!(
            password_source(Some("secret123".into()), false),
            Ok(PasswordSource::Variable("secret123".into()))
        );
    }

    #[test]
    fn help_opens_with_what_reserva_is() {
        use clap::CommandFactory as _;
        let help = Cli::command().render_long_help().to_string();
        assert!(
            help.starts_with("Reserva: a reservation and booking backend."),
            "{help}"
        );
        assert!(help.contains("RESERVA_ADMIN_PASSWORD"), "{help}");
    }
}
