//! The command line: `reserva [serve]`, `migrate`, `admin create`, `config`, `openapi`.

use crate::application::{self, Application, StartupError};
use crate::settings::Settings;
use crate::stores;
use clap::{Parser, Subcommand};
use reserva_application::accounts::SignupCommand;
use std::path::PathBuf;

/// Reserva: reservation and booking backend.
#[derive(Debug, Parser)]
#[command(name = "reserva", version, about)]
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
    /// Print the effective configuration (secrets redacted).
    Config,
    /// Print the OpenAPI document.
    Openapi,
}

/// `reserva admin …`.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an administrator. The password comes from RESERVA_ADMIN_PASSWORD or a prompt.
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
    /// Show every hour of a date (business time zone) with capacity, confirmed and remaining.
    Slots {
        /// The date, like 2026-12-10.
        #[arg(long)]
        date: chrono::NaiveDate,
    },
    /// Create any missing slot across the booking horizon now (the server also does it hourly).
    EnsureSlots,
}

/// Runs `reserva exams …`.
///
/// # Errors
/// A message for the operator.
pub async fn exams(settings: &Settings, command: ExamsCommand) -> Result<(), String> {
    let (store, _) = application::connect(settings)
        .await
        .map_err(|e| e.to_string())?;
    let exams = application::exams(settings, &store).map_err(|e| e.to_string())?;
    match command {
        ExamsCommand::EnsureSlots => {
            let created = exams.ensure_slots().await.map_err(|e| e.to_string())?;
            println!("created {created} slot(s); every hour of the horizon exists");
        }
        ExamsCommand::Slots { date } => {
            let slots = exams.fill_levels(date).await.map_err(|e| e.to_string())?;
            let zone = exams.zone().tz();
            println!(
                "{date} ({})\nhour   capacity  confirmed  remaining  fill",
                exams.zone()
            );
            for slot in &slots {
                let local = slot.starts_at.with_timezone(&zone).format("%H:%M");
                let fill = f64::from(slot.confirmed) * 100.0 / f64::from(slot.capacity.max(1));
                println!(
                    "{local}  {:>8}  {:>9}  {:>9}  {fill:>5.1}%",
                    slot.capacity,
                    slot.confirmed,
                    slot.remaining()
                );
            }
            if slots.is_empty() {
                println!("no slots on this date (outside the generated horizon)");
            }
        }
    }
    Ok(())
}

fn read_password() -> Result<String, String> {
    if let Ok(password) = std::env::var("RESERVA_ADMIN_PASSWORD") {
        return Ok(password);
    }
    let first =
        rpassword::prompt_password("Password: ").map_err(|e| format!("reading password: {e}"))?;
    let second = rpassword::prompt_password("Password (again): ")
        .map_err(|e| format!("reading password: {e}"))?;
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
    let (store, shared) = application::connect(settings)
        .await
        .map_err(|e| e.to_string())?;
    let accounts = application::accounts(settings, &store, &shared).map_err(|e| e.to_string())?;
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
