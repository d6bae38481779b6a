//! Per-request-kind figures of the on-sale: latencies, answers by status, and rates.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

#[derive(Default)]
struct Kind {
    latencies: Vec<Duration>,
    statuses: BTreeMap<u16, usize>,
    expected: usize,
}

/// Everything the sale's requests answered, by kind (`join`, `poll`, `hold`, …).
#[derive(Default)]
pub(crate) struct Ledger {
    kinds: Mutex<BTreeMap<&'static str, Kind>>,
}

fn percentile(sorted: &[Duration], fraction: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((sorted.len() as f64) * fraction).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1].as_secs_f64() * 1000.0
}

impl Ledger {
    pub(crate) fn record(&self, name: &'static str, latency: Duration, status: u16, expected: u16) {
        if let Ok(mut kinds) = self.kinds.lock() {
            let kind = kinds.entry(name).or_default();
            kind.latencies.push(latency);
            *kind.statuses.entry(status).or_default() += 1;
            kind.expected += usize::from(status == expected);
        }
    }

    /// A markdown table: requests, expected answers, p50/p99 and every status seen, per kind.
    pub(crate) fn table(&self) -> String {
        let Ok(mut kinds) = self.kinds.lock() else {
            return String::new();
        };
        let mut out = String::from(
            "| request | count | expected answer | p50 ms | p99 ms | answers by status |\n|---|---|---|---|---|---|",
        );
        for (name, kind) in kinds.iter_mut() {
            kind.latencies.sort_unstable();
            let statuses: Vec<String> = kind
                .statuses
                .iter()
                .map(|(status, count)| format!("{status}: {count}"))
                .collect();
            out.push_str(&format!(
                "\n| {name} | {} | {} | {:.1} | {:.1} | {} |",
                kind.latencies.len(),
                kind.expected,
                percentile(&kind.latencies, 0.5),
                percentile(&kind.latencies, 0.99),
                statuses.join(", ")
            ));
        }
        out
    }

    /// Expected answers per second of the sale, per kind.
    pub(crate) fn print_rates(&self, elapsed: Duration) {
        let Ok(kinds) = self.kinds.lock() else {
            return;
        };
        let seconds = elapsed.as_secs_f64().max(f64::EPSILON);
        let rates: Vec<String> = ["hold", "charge", "pay", "poll"]
            .iter()
            .filter_map(|name| kinds.get(name).map(|kind| (name, kind)))
            .map(|(name, kind)| format!("{name} {:.1}/s", kind.expected as f64 / seconds))
            .collect();
        println!(
            "successful requests per second over the sale: {}",
            rates.join(", ")
        );
        let failures: usize = kinds
            .values()
            .flat_map(|kind| kind.statuses.iter())
            .filter(|(status, _)| **status >= 500)
            .map(|(_, count)| count)
            .sum();
        println!("5xx answers in the whole run: {failures}");
    }
}
