//! Latency collection and the printed table.

use std::time::Duration;

/// What one timed run measured.
#[derive(Debug, Default)]
pub(crate) struct RunStats {
    pub latencies: Vec<Duration>,
    pub unexpected: usize,
    pub elapsed: Duration,
}

impl RunStats {
    pub(crate) fn merge(&mut self, other: Self) {
        self.latencies.extend(other.latencies);
        self.unexpected += other.unexpected;
    }

    fn percentile(sorted: &[Duration], fraction: f64) -> f64 {
        if sorted.is_empty() {
            return 0.0;
        }
        let rank = ((sorted.len() as f64) * fraction).ceil() as usize;
        sorted[rank.clamp(1, sorted.len()) - 1].as_secs_f64() * 1000.0
    }

    /// One markdown table row.
    pub(crate) fn row(mut self, workload: &str, connections: usize, close: bool) -> String {
        self.latencies.sort_unstable();
        let count = self.latencies.len();
        let rate = count as f64 / self.elapsed.as_secs_f64().max(f64::EPSILON);
        format!(
            "| {workload} | c{connections}{} | {count} | {rate:.0} | {:.1} | {:.1} | {} |",
            if close { " close" } else { "" },
            Self::percentile(&self.latencies, 0.50),
            Self::percentile(&self.latencies, 0.99),
            self.unexpected,
        )
    }
}

pub(crate) const HEADER: &str = "| workload | connections | requests | req/s | p50 ms | p99 ms | unexpected answers |\n|---|---|---|---|---|---|---|";
