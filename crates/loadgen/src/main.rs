//! `reserva-load`: drives a running Reserva over HTTP with the exam workloads of
//! `docs/benchmarks/SOURCE-SYSTEM.md`, or a concert on-sale through the waiting room
//! (`--workload onsale`), the catalog workloads (`--workload catalog`) or the commerce checkout
//! (`--workload checkout`), and prints requests/s and latency percentiles per run.
//!
//! A Rust tool rather than wrk alone because the workloads need state: 200 users' tokens, the
//! pending reservations that E-CONFIRM must confirm exactly once each, and a check afterwards
//! that no hour was oversold. It runs outside the service crates, so its HTTP client stack never
//! reaches the server binary.

mod buyer;
mod capacity;
mod catalog;
mod checkout;
mod client;
mod onsale;
mod report;
mod stats;
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
    /// What to run.
    #[arg(long, value_enum, default_value = "exams")]
    workload: Workload,
    /// onsale, seats, catalog: a file of user ids, one per line (the script seeds them).
    #[arg(long)]
    user_ids: Option<String>,
    /// onsale, seats, catalog: the server's JWT secret, to sign the users' access tokens.
    #[arg(long, env = "RESERVA_LOAD_JWT_SECRET")]
    jwt_secret: Option<String>,
    /// onsale: seats of each of the two performances.
    #[arg(long, default_value_t = 50)]
    seats_per_performance: u32,
    /// onsale: how often a waiting user polls, in milliseconds.
    #[arg(long, default_value_t = 1000)]
    poll_interval_ms: u64,
    /// onsale: the sale gives up after this long.
    #[arg(long, default_value_t = 300)]
    sale_timeout_seconds: u64,
    /// catalog: the G-SEARCH words (`reserva seed catalog` puts each in about 10 % of titles).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "kubernetes,graphql,terraform,elixir,haskell,kafka,webassembly,tensorflow,flutter,solidity"
    )]
    search_words: Vec<String>,
    /// catalog: open tests G-APPLY-SPREAD spreads over (200 applies each).
    #[arg(long, default_value_t = 2_000)]
    spread_tests: usize,
    /// catalog: run only G-APPLY-SPREAD and G-APPLY-HOT (with their checks), not the reads.
    #[arg(long)]
    applies_only: bool,
    /// catalog: write the read workloads' tokens and paths for wrk into this directory (see
    /// `scripts/wrk/catalog-reads.lua`), and the applies' tests and users (see
    /// `scripts/wrk/catalog-applies.lua`), and stop, without running anything.
    #[arg(long)]
    wrk_inputs: Option<String>,
    /// checkout: a file of course ids, one per line, each priced within an order's limit.
    #[arg(long)]
    course_ids: Option<String>,
}

/// The workloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Workload {
    /// E-GET, E-POST, E-CONFIRM and the capacity probe.
    Exams,
    /// A concert on-sale through the waiting room.
    Onsale,
    /// The seat path's capacity (hold, charge, pay) with a room that admits everyone.
    Seats,
    /// The catalog workloads G-LIST, G-LIST-F, G-SEARCH, G-SEARCH-F, G-APPLY-SPREAD and
    /// G-APPLY-HOT, with the apply checks.
    Catalog,
    /// Commerce checkout end to end: order, the provider's ready, the approval and its callback.
    Checkout,
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
