//! The sweeper's work (one call per tick, run by one instance at a time): tidy holds that
//! expired, then give every on-sale concert's room a fresh copy of the store's inventory, which
//! repairs any room update that failed after its store write. And the seat audit of
//! `reserva wallet verify`.

use super::RoomSync;
use super::Tickets;
use crate::DependencyError;
use crate::ports::tickets::SeatAudit;

/// The most expired holds tidied, and rooms resynchronised, per sweep.
pub const SWEEP_BATCH: u32 = 1_000;

/// What one sweep did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SweepReport {
    /// Expired holds marked expired.
    pub expired_holds: u64,
    /// Rooms whose inventory was replaced by the store's.
    pub rooms_synced: u32,
    /// Rooms that could not be updated (logged; the next sweep tries again).
    pub rooms_failed: u32,
}

impl Tickets {
    /// Tidies expired holds and resynchronises the rooms of concerts on sale.
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails; a room that cannot be updated is logged and
    /// counted in `rooms_failed` instead, so one shared-state blip does not stop the store's
    /// tidying.
    #[tracing::instrument(skip_all)]
    pub async fn sweep(&self) -> Result<SweepReport, DependencyError> {
        let now = self.now();
        let expired_holds = self
            .ports
            .holds
            .sweep_expired_holds(now, SWEEP_BATCH)
            .await?;
        let concerts = self
            .ports
            .concerts
            .concerts_on_sale(now, SWEEP_BATCH)
            .await?;
        let mut report = SweepReport {
            expired_holds,
            ..SweepReport::default()
        };
        for concert in concerts {
            match self.resync_room(concert, now).await {
                Ok(()) => report.rooms_synced += 1,
                Err(RoomSync::Store(error)) => return Err(error),
                Err(RoomSync::Room(error)) => {
                    tracing::warn!(%concert, %error, "waiting room not resynchronised");
                    report.rooms_failed += 1;
                }
            }
        }
        Ok(report)
    }

    /// Checks every seat: sold at most once, no live hold on a sold seat, every booking with its
    /// payment.
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    pub async fn verify_seats(&self) -> Result<SeatAudit, DependencyError> {
        self.ports.holds.verify_seats(self.now()).await
    }
}
