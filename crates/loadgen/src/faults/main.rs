//! `reserva-faults`: the fault harness. Starts its own PostgreSQL and Redis and three `reserva`
//! instances sharing them, drives a mixed load through all three (exam flash crowd and
//! confirms, wallet top-ups, catalog applies and cancels, a concert on-sale through the waiting
//! room) while it SIGKILLs and restarts an instance, stops Redis for ten seconds and restarts
//! PostgreSQL; then checks the invariants from the database and from its log of answers, prints
//! the figures and a verdict, and exits 1 on any violation (2 when the harness itself failed).
//!
//! Run it with `scripts/fault-harness` (docs/RELIABILITY.md).

mod checks;
mod client;
mod infra;
mod load;

use clap::Parser;
use client::{Client, Entry};
use infra::World;
use load::Load;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Command-line options.
#[derive(Debug, Parser)]
#[command(
    name = "reserva-faults",
    about = "Three reserva instances under load and faults; checks the invariants afterwards"
)]
struct Options {
    /// Length of the loaded run, in seconds (at least 40 per round: the faults need room).
    #[arg(long, default_value_t = 120)]
    seconds: u64,
    /// How many times the three faults are played, each round in its own slice of the run
    /// (SIGKILL at 20 % of it, a different instance each round; Redis stop at 40 %; PostgreSQL
    /// restart at 70 %).
    #[arg(long, default_value_t = 1)]
    rounds: u64,
    /// The server binary.
    #[arg(long, default_value = "target/release/reserva")]
    binary: PathBuf,
    /// Where the request log (requests.jsonl) and the servers' logs are kept.
    #[arg(long, default_value = "target/fault-harness")]
    out: PathBuf,
    /// Members making exam reservations, top-ups and catalog applies.
    #[arg(long, default_value_t = 12)]
    members: usize,
    /// Buyers in the concerts' waiting rooms.
    #[arg(long, default_value_t = 24)]
    buyers: usize,
}

/// A fault done, with when it started and ended (ms since the run started).
#[derive(Clone, Debug)]
struct Fault {
    what: String,
    started_ms: u64,
    ended_ms: u64,
}

type Shared = Arc<Mutex<World>>;

/// Runs `step` on the world off the async threads (pg_ctl and process waits block).
async fn on_world<T: Send + 'static>(
    world: &Shared,
    step: impl FnOnce(&mut World) -> T + Send + 'static,
) -> Result<T, String> {
    let world = world.clone();
    tokio::task::spawn_blocking(move || {
        world
            .lock()
            .map(|mut w| step(&mut w))
            .map_err(|_| "world lock poisoned".to_owned())
    })
    .await
    .map_err(|e| e.to_string())?
}

/// The schedule: SIGKILL instance 1 at 20 % and restart it 3 s later; Redis down at 40 % for
/// 10 s; PostgreSQL restarted at 70 %.
async fn faults(
    world: Shared,
    client: Arc<Client>,
    seconds: u64,
    rounds: u64,
) -> Result<Vec<Fault>, String> {
    let started = Instant::now();
    let round_length = seconds as f64 / rounds as f64;
    let mut done = Vec::new();
    for round in 0..rounds {
        let at = |fraction: f64| {
            started + Duration::from_secs_f64(round_length * (round as f64 + fraction))
        };
        // Instance 1 first (as a single round always did), then 2, then 0.
        let victim = usize::try_from((round + 1) % 3).unwrap_or(1);

        tokio::time::sleep_until(at(0.2).into()).await;
        let begin = client.now_ms();
        on_world(&world, move |w| w.kill(victim)).await?;
        tokio::time::sleep(Duration::from_secs(3)).await;
        on_world(&world, move |w| w.launch(victim)).await??;
        done.push(Fault {
            what: format!("SIGKILL instance {victim}, restarted 3 s later"),
            started_ms: begin,
            ended_ms: client.now_ms(),
        });

        tokio::time::sleep_until(at(0.4).into()).await;
        let begin = client.now_ms();
        client
            .redis_epoch
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        on_world(&world, |w| w.redis.down()).await?;
        tokio::time::sleep(Duration::from_secs(10)).await;
        on_world(&world, |w| w.redis.up()).await??;
        done.push(Fault {
            what: "Redis stopped (SIGTERM, no persistence) for 10 s, started again".into(),
            started_ms: begin,
            ended_ms: client.now_ms(),
        });

        tokio::time::sleep_until(at(0.7).into()).await;
        let begin = client.now_ms();
        on_world(&world, |w| w.postgres.restart()).await??;
        done.push(Fault {
            what: "PostgreSQL restarted (pg_ctl restart -m fast)".into(),
            started_ms: begin,
            ended_ms: client.now_ms(),
        });
    }
    Ok(done)
}

fn percentile(sorted: &[f64], fraction: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((sorted.len() as f64) * fraction).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn statuses(entries: &[&Entry]) -> String {
    let mut by: BTreeMap<u16, usize> = BTreeMap::new();
    for entry in entries {
        *by.entry(entry.status).or_default() += 1;
    }
    by.iter()
        .map(|(s, n)| {
            if *s == 0 {
                format!("no answer: {n}")
            } else {
                format!("{s}: {n}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The figures: requests, answers by status, throughput, latency, per kind and per fault.
fn report(log: &[Entry], elapsed: Duration, faults: &[Fault]) {
    let all: Vec<&Entry> = log
        .iter()
        .filter(|e| !e.kind.starts_with("setup"))
        .collect();
    let mut latencies: Vec<f64> = all
        .iter()
        .filter(|e| e.status != 0)
        .map(|e| e.latency_ms)
        .collect();
    latencies.sort_by(f64::total_cmp);
    let seconds = elapsed.as_secs_f64().max(f64::EPSILON);
    let retries = all.iter().filter(|e| e.attempt > 1).count();
    println!("\n## Figures\n");
    println!(
        "attempts: {} in {seconds:.1} s = {:.1}/s ({retries} of them retries)",
        all.len(),
        all.len() as f64 / seconds
    );
    println!("answers by status: {}", statuses(&all));
    println!(
        "latency of answered attempts: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        latencies.last().copied().unwrap_or(0.0)
    );
    let mut kinds: BTreeMap<&str, Vec<&Entry>> = BTreeMap::new();
    for entry in &all {
        kinds.entry(entry.kind).or_default().push(entry);
    }
    println!(
        "\n| request | attempts | p50 ms | p99 ms | answers by status |\n|---|---|---|---|---|"
    );
    for (kind, entries) in &kinds {
        let mut l: Vec<f64> = entries
            .iter()
            .filter(|e| e.status != 0)
            .map(|e| e.latency_ms)
            .collect();
        l.sort_by(f64::total_cmp);
        println!(
            "| {kind} | {} | {:.1} | {:.1} | {} |",
            entries.len(),
            percentile(&l, 0.5),
            percentile(&l, 0.99),
            statuses(entries)
        );
    }
    println!("\n## Faults\n");
    for fault in faults {
        let during: Vec<&Entry> = all
            .iter()
            .filter(|e| e.sent_ms >= fault.started_ms && e.sent_ms <= fault.ended_ms)
            .copied()
            .collect();
        println!(
            "- {} ms → {} ms: {}",
            fault.started_ms, fault.ended_ms, fault.what
        );
        let mut kinds: BTreeMap<&str, Vec<&Entry>> = BTreeMap::new();
        for entry in &during {
            kinds.entry(entry.kind).or_default().push(entry);
        }
        for (kind, entries) in &kinds {
            println!("  - meanwhile {kind}: {}", statuses(entries));
        }
    }
}

/// After each fault, every instance answered a 2xx again within 30 s: recovery without a
/// restart (beyond the killed instance's own).
fn recovered(log: &[Entry], faults: &[Fault], instances: usize) -> checks::Verdict {
    let mut violations = Vec::new();
    for fault in faults {
        for instance in 0..instances {
            let back = log.iter().any(|e| {
                e.instance == instance
                    && (200..300).contains(&e.status)
                    && e.sent_ms > fault.ended_ms
                    && e.sent_ms < fault.ended_ms + 30_000
            });
            if !back {
                violations.push(format!(
                    "instance {instance}: no 2xx within 30 s after \"{}\"",
                    fault.what
                ));
            }
        }
    }
    checks::Verdict {
        name: "every instance recovers within 30 s of each fault".into(),
        violations,
    }
}

async fn run(options: &Options, world: Shared) -> Result<bool, String> {
    let bases = on_world(&world, |w| w.base_urls()).await?;
    let client = Arc::new(Client::new(
        bases.clone(),
        &options.out.join("requests.jsonl"),
    )?);
    println!("instances: {}", bases.join(", "));
    let load = Arc::new(
        Load::prepare(
            client.clone(),
            options.members,
            options.buyers,
            options.seconds,
        )
        .await?,
    );
    println!(
        "prepared: {} members, {} buyers, exam date {}, {} tests, {} concerts; load for {} s, {} round(s) of faults",
        load.members.len(),
        load.buyers.len(),
        load.date,
        load.tests.len(),
        load.concerts.len(),
        options.seconds,
        options.rounds
    );
    let started = Instant::now();
    load.start();
    let deadline = started + Duration::from_secs(options.seconds);
    let mut tasks = Vec::new();
    for index in 0..load.members.len() {
        tasks.push(tokio::spawn(load.clone().member(index, deadline)));
    }
    for _ in 0..2 {
        tasks.push(tokio::spawn(load.clone().confirmer(deadline)));
    }
    for index in 0..load.buyers.len() {
        tasks.push(tokio::spawn(load.clone().buyer(index, deadline)));
    }
    let faults = faults(
        world.clone(),
        client.clone(),
        options.seconds,
        options.rounds,
    )
    .await?;
    for task in tasks {
        let _ = task.await;
    }
    let elapsed = started.elapsed();
    let log: Vec<Entry> = client.log.lock().map(|l| l.clone()).unwrap_or_default();
    let queue = load.queue.lock().map(|q| q.clone()).unwrap_or_default();
    report(&log, elapsed, &faults);

    let url = on_world(&world, |w| w.postgres.url()).await?;
    let cli_world = world.clone();
    let mut verdicts = tokio::task::spawn_blocking(move || {
        checks::all(
            &url,
            || {
                cli_world
                    .lock()
                    .map(|w| w.cli())
                    .unwrap_or_else(|_| std::process::Command::new("false"))
            },
            &log,
            &queue,
        )
        .map(|mut v| {
            v.push(recovered(&log, &faults, bases.len()));
            v
        })
    })
    .await
    .map_err(|e| e.to_string())??;
    verdicts.sort_by_key(|v| v.violations.is_empty());
    println!("\n## Invariants\n");
    let mut clean = true;
    for verdict in &verdicts {
        let ok = verdict.violations.is_empty();
        clean &= ok;
        println!("- [{}] {}", if ok { "PASS" } else { "FAIL" }, verdict.name);
        for violation in verdict.violations.iter().take(10) {
            println!("    - {violation}");
        }
        if verdict.violations.len() > 10 {
            println!("    - … {} more", verdict.violations.len() - 10);
        }
    }
    Ok(clean)
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let options = Options::parse();
    if options.rounds == 0 || options.seconds < 40 * options.rounds {
        eprintln!(
            "reserva-faults: --rounds must be at least 1 and --seconds at least 40 per round"
        );
        return std::process::ExitCode::from(2);
    }
    let scratch = std::env::temp_dir().join(format!("reserva-faults-{}", std::process::id()));
    if let Err(error) = std::fs::create_dir_all(&options.out) {
        eprintln!("reserva-faults: {}: {error}", options.out.display());
        return std::process::ExitCode::from(2);
    }
    // Registered before anything starts, so Ctrl-C (SIGINT) or a CI timeout (SIGTERM) during
    // start-up too ends in the teardown below rather than leaving PostgreSQL behind.
    let signals = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        .and_then(|int| {
            Ok((
                int,
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?,
            ))
        });
    let Ok((mut interrupt, mut terminate)) = signals else {
        eprintln!("reserva-faults: cannot handle signals");
        return std::process::ExitCode::from(2);
    };
    println!(
        "starting PostgreSQL, Redis and 3 reserva instances in {}",
        scratch.display()
    );
    let world = match World::start(&options.binary, &scratch, 3) {
        Ok(world) => Arc::new(Mutex::new(world)),
        Err(error) => {
            eprintln!("reserva-faults: start-up failed: {error}");
            let _ = std::fs::remove_dir_all(&scratch);
            return std::process::ExitCode::from(2);
        }
    };
    // A hard bound on the whole run: start-up and set-up, the load, and the checks.
    let bound = Duration::from_secs(options.seconds + 300);
    let outcome = tokio::select! {
        outcome = tokio::time::timeout(bound, run(&options, world.clone())) => {
            outcome.unwrap_or_else(|_| Err(format!("the run took longer than {} s", bound.as_secs())))
        }
        _ = interrupt.recv() => Err("interrupted (SIGINT): tearing down".into()),
        _ = terminate.recv() => Err("terminated (SIGTERM): tearing down".into()),
    };
    if let Ok(mut world) = world.lock() {
        world.shutdown();
        for index in 0..3 {
            let _ = std::fs::copy(
                scratch.join(format!("reserva-{index}.log")),
                options.out.join(format!("reserva-{index}.log")),
            );
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    match outcome {
        Ok(true) => {
            println!(
                "\nVERDICT: PASS (request log: {})",
                options.out.join("requests.jsonl").display()
            );
            std::process::ExitCode::SUCCESS
        }
        Ok(false) => {
            println!(
                "\nVERDICT: FAIL (request log: {})",
                options.out.join("requests.jsonl").display()
            );
            std::process::ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("reserva-faults: {error}");
            std::process::ExitCode::from(2)
        }
    }
}
