//! What every port of this adapter shares: maps whose entries expire, pruned as they are written
//! so memory stays bounded by the live entries, and the mutex guard that reports a poisoned lock
//! as a failure instead of panicking again.

use reserva_application::DependencyError;
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

/// Every this many writes to a map, its expired entries are removed.
pub(crate) const PRUNE_EVERY: u64 = 256;
/// A map larger than this is pruned on every write (until it shrinks again).
pub(crate) const PRUNE_ABOVE: usize = 4096;

/// A map of entries that expire, pruned every [`PRUNE_EVERY`] writes or when it grows large.
#[derive(Debug)]
pub(crate) struct Expiring<K, V> {
    pub(crate) entries: HashMap<K, V>,
    writes: u64,
}

impl<K, V> Default for Expiring<K, V> {
    fn default() -> Self {
        Self {
            entries: HashMap::new(),
            writes: 0,
        }
    }
}

impl<K, V> Expiring<K, V> {
    /// Counts one write attempt and, if due, removes every entry for which `is_live` is false.
    pub(crate) fn note_write(&mut self, is_live: impl FnMut(&V) -> bool) {
        self.writes = self.writes.wrapping_add(1);
        if self.writes.is_multiple_of(PRUNE_EVERY) || self.entries.len() > PRUNE_ABOVE {
            self.prune(is_live);
        }
    }

    fn prune(&mut self, mut is_live: impl FnMut(&V) -> bool) {
        self.entries.retain(|_, value| is_live(value));
    }
}

/// Locks a mutex; a poisoned one means a panic mid-update, reported as a failure.
pub(crate) fn guard<'a, T>(
    mutex: &'a Mutex<T>,
    what: &str,
) -> Result<MutexGuard<'a, T>, DependencyError> {
    mutex
        .lock()
        .map_err(|_| DependencyError::Failed(format!("in-memory {what} state is poisoned")))
}

/// Writes 100 entries that lapse almost at once, waits until they have, then writes one lasting
/// entry (`"live"`) [`PRUNE_EVERY`] times: a port whose map prunes then holds only that entry.
#[cfg(test)]
pub(crate) async fn lapse_then_write_live<Write, Written>(mut write: Write)
where
    Write: FnMut(String, std::time::Duration) -> Written,
    Written: Future<Output = ()>,
{
    let short = std::time::Duration::from_millis(20);
    for index in 0..100 {
        write(format!("key-{index}"), short).await;
    }
    tokio::time::sleep(short * 3).await;
    for _ in 0..PRUNE_EVERY {
        write("live".to_owned(), std::time::Duration::from_secs(30)).await;
    }
}
