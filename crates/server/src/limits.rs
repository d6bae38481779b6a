//! Open files and connections.
//!
//! Every connection is a file descriptor. A process that runs out of them cannot accept, open a
//! pooled database connection or write a file, so a crowd of slow clients would take down
//! `/healthz` with it. At start-up the soft limit of open files is raised to the hard one (the
//! most an unprivileged process may have; the default soft limit is often 1,024), and the HTTP
//! server is told to hold at most as many connections as fit below that limit once the pools,
//! the SQLite files and the runtime's own descriptors are set aside. Past the bound, new
//! connections wait in the listen backlog instead of failing everything else.

use crate::settings::Settings;

/// Descriptors kept for everything but client connections: listeners, the runtimes' epoll and
/// event descriptors, log output, the password-hashing threads, and slack.
const BASE_RESERVE: u64 = 256;

/// The open-files limit after start-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OpenFiles {
    /// The soft limit the process started with.
    pub(crate) before: u64,
    /// The soft limit in force.
    pub(crate) soft: u64,
    /// The hard limit.
    pub(crate) hard: u64,
}

/// Raises the soft open-files limit to the hard one and says so; `None` (with a warning) when
/// the limit cannot be read.
pub(crate) fn raise_open_files() -> Option<OpenFiles> {
    let read = || rlimit::Resource::NOFILE.get();
    let (before, _) = read()
        .map_err(|error| tracing::warn!(%error, "cannot read the open-files limit"))
        .ok()?;
    if let Err(error) = rlimit::increase_nofile_limit(u64::MAX) {
        tracing::warn!(%error, before, "cannot raise the open-files limit; keeping it");
    }
    let (soft, hard) = read().ok()?;
    tracing::info!(before, soft, hard, "open-files limit (soft raised to hard)");
    Some(OpenFiles { before, soft, hard })
}

/// How many connections the HTTP server may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ConnectionBudget {
    /// Worker threads.
    pub(crate) workers: usize,
    /// Connections per worker (actix counts them per worker).
    pub(crate) per_worker: usize,
    /// Descriptors kept for pools, files and the runtime.
    pub(crate) reserved: u64,
}

impl ConnectionBudget {
    /// Connections across all workers.
    pub(crate) const fn total(&self) -> usize {
        self.per_worker * self.workers
    }
}

/// The workers actix starts for `settings.server.workers` (0: one per core).
fn workers(settings: &Settings) -> usize {
    match settings.server.workers {
        0 => std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get),
        workers => workers,
    }
}

/// The connection bound below `open_files`: its soft limit minus what the pools (a SQLite
/// connection holds up to three files: the database, its WAL and its shared memory) and the
/// runtime need, lowered further to `server.max_connections` when that is set, and at least one
/// connection per worker.
pub(crate) fn connection_budget(settings: &Settings, open_files: Option<u64>) -> ConnectionBudget {
    let workers = workers(settings);
    let pools = 3 * settings.database.max_connections + settings.redis.max_connections;
    let reserved = BASE_RESERVE + u64::try_from(pools).unwrap_or(u64::MAX);
    let fit = open_files.map_or(usize::MAX, |limit| {
        usize::try_from(limit.saturating_sub(reserved)).unwrap_or(usize::MAX)
    });
    let total = match settings.server.max_connections {
        0 => fit,
        wanted => wanted.min(fit),
    };
    let per_worker = (total / workers).max(1);
    ConnectionBudget {
        workers,
        per_worker,
        reserved,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(workers: usize, max_connections: usize) -> Settings {
        let mut settings = Settings::default();
        settings.server.workers = workers;
        settings.server.max_connections = max_connections;
        settings
    }

    #[test]
    fn connections_stay_below_the_open_files_limit() {
        // 600 files, 16 database and 32 Redis connections: 256 + 48 + 32 = 336 kept back.
        let budget = connection_budget(&settings(2, 0), Some(600));
        assert_eq!((budget.reserved, budget.per_worker), (336, 132));
        assert_eq!(budget.total(), 264);
        let raised = connection_budget(&settings(2, 0), Some(20_000));
        assert_eq!(raised.total(), 20_000 - 336);
    }

    #[test]
    fn a_configured_bound_only_lowers_it() {
        assert_eq!(
            connection_budget(&settings(4, 1_000), Some(20_000)).total(),
            1_000
        );
        assert_eq!(
            connection_budget(&settings(2, 50_000), Some(600)).total(),
            264
        );
        assert_eq!(
            connection_budget(&settings(2, 0), Some(100)).per_worker,
            1,
            "a tiny limit still leaves each worker a connection"
        );
    }

    #[test]
    fn the_limit_is_raised_to_the_hard_one() {
        let files = raise_open_files().expect("readable on Linux");
        assert_eq!(files.soft, files.hard);
        assert!(files.soft >= files.before);
    }
}
