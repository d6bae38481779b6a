//! `reserva`: parse the command line, load configuration, run the command.

use clap::Parser as _;
use reserva_server::cli::{self, AdminCommand, CatalogCommand, Cli, Command, WalletCommand};
use reserva_server::{Settings, telemetry};
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load(cli.config.as_deref()) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("reserva: {error}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(&settings.log);
    let outcome = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => cli::serve(&settings)
            .await
            .map_err(|error| error.to_string()),
        Command::Migrate { revert_all } => cli::migrate(&settings, revert_all).await,
        Command::Admin {
            command: AdminCommand::Create { email, username },
        } => cli::create_admin(&settings, email, username).await,
        Command::Exams { command } => cli::exams(&settings, command).await,
        Command::Wallet {
            command: WalletCommand::Verify,
        } => {
            return match cli::wallet_verify(&settings).await {
                Ok(true) => ExitCode::SUCCESS,
                Ok(false) => ExitCode::from(cli::VIOLATIONS_FOUND),
                Err(error) => {
                    eprintln!("reserva: cannot audit the store: {error}");
                    ExitCode::from(cli::AUDIT_UNAVAILABLE)
                }
            };
        }
        Command::Seed { command } => cli::seed(&settings, command).await,
        Command::Catalog {
            command: CatalogCommand::Verify,
        } => {
            return match cli::catalog_verify(&settings).await {
                Ok(true) => ExitCode::SUCCESS,
                Ok(false) => ExitCode::from(cli::VIOLATIONS_FOUND),
                Err(error) => {
                    eprintln!("reserva: cannot audit the store: {error}");
                    ExitCode::from(cli::AUDIT_UNAVAILABLE)
                }
            };
        }
        Command::Config => settings
            .to_redacted_json()
            .map(|text| println!("{text}"))
            .map_err(|error| error.to_string()),
        Command::Openapi => reserva_adapter_http::openapi_json()
            .map(|text| println!("{text}"))
            .map_err(|error| error.to_string()),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("reserva: {error}");
            ExitCode::FAILURE
        }
    }
}
