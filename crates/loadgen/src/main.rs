//! `reserva-load`: drives a running Reserva over HTTP with the exam workloads of
//! `docs/benchmarks/SOURCE-SYSTEM.md` and prints requests/s and latency percentiles per run.
//!
//! A Rust tool rather than wrk alone because the workloads need state: 200 users' tokens, the
//! pending reservations that E-CONFIRM must confirm exactly once each, and a check afterwards
//! that no hour was oversold. It runs outside the service crates, so its HTTP client stack never
//! reaches the server binary.

mod client;
mod report;
mod workloads;

use clap::Parser;
use std::time::Duration;

/// Command-line options.
#[derive(Debug, Parser)]
#[command(
    name = "reserva-load",
    about = "Exam workloads against a running Reserva"
)]
pub struct Options {
    /// Server base URL.
    #[arg(long, default_value = "http://127.0.0.1:18080")]
    base_url: String,
    /// An administrator's e-mail (create one with `reserva admin create`).
    #[arg(long)]
    admin_email: String,
    /// The administrator's password.
    #[arg(long, env = "RESERVA_LOAD_ADMIN_PASSWORD")]
    admin_password: String,
    /// Users whose tokens requests rotate over.
    #[arg(long, default_value_t = 200)]
    users: usize,
    /// Length of each timed run, in seconds.
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// Concurrent connections of each run (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "32,64")]
    connections: Vec<usize>,
    /// Also run every workload with `Connection: close` (as gunicorn's sync workers force).
    #[arg(long)]
    close_too: bool,
}

impl Options {
    fn duration(&self) -> Duration {
        Duration::from_secs(self.seconds)
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let options = Options::parse();
    match workloads::run_all(&options).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("reserva-load: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
