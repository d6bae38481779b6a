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
        let mut report = SweepReport {
            expired_holds,
            ..SweepReport::default()
        };
        // Page through every concert on sale, not only the first batch.
        let mut after = None;
        loop {
            let concerts = self
                .ports
                .concerts
                .concerts_on_sale(now, after, SWEEP_BATCH)
                .await?;
            for &concert in &concerts {
                match self.resync_room(concert, now).await {
                    Ok(()) => report.rooms_synced += 1,
                    Err(RoomSync::Store(error)) => return Err(error),
                    Err(RoomSync::Room(error)) => {
                        tracing::warn!(%concert, %error, "waiting room not resynchronised");
                        report.rooms_failed += 1;
                    }
                }
            }
            if concerts.len() < SWEEP_BATCH as usize {
                return Ok(report);
            }
            after = concerts.last().copied();
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::tickets::ConcertInventory;
    use crate::tickets::test_support::{Fixture, concert_id, now};

    #[tokio::test]
    async fn tidies_holds_then_resyncs_every_room_on_sale_counting_room_failures() {
        let (first, second) = (concert_id(), concert_id());
        let mut fixture = Fixture::new();
        fixture
            .holds
            .expect_sweep_expired_holds()
            .withf(|at, limit| *at == now() && *limit == SWEEP_BATCH)
            .times(1)
            .returning(|_, _| Ok(3));
        fixture
            .concerts
            .expect_concerts_on_sale()
            .times(1)
            .returning(move |_, _, _| Ok(vec![first, second]));
        fixture
            .concerts
            .expect_inventory()
            .times(2)
            .returning(|_, _| {
                Ok(ConcertInventory {
                    unsold_seats: 5,
                    holds: vec![],
                })
            });
        fixture
            .room
            .expect_set_inventory()
            .times(2)
            .returning(move |concert, inventory| {
                assert_eq!(inventory.unsold_seats, 5);
                if concert == first {
                    Ok(())
                } else {
                    Err(DependencyError::Unavailable("redis".into()))
                }
            });
        let report = fixture.tickets().sweep().await;
        assert_eq!(
            report,
            Ok(SweepReport {
                expired_holds: 3,
                rooms_synced: 1,
                rooms_failed: 1,
            })
        );
    }

    #[tokio::test]
    async fn every_page_of_concerts_on_sale_is_resynchronised() {
        let full: Vec<_> = (0..SWEEP_BATCH).map(|_| concert_id()).collect();
        let last = full.last().copied();
        let tail = concert_id();
        let mut fixture = Fixture::new();
        fixture
            .holds
            .expect_sweep_expired_holds()
            .returning(|_, _| Ok(0));
        let mut pages = mockall::Sequence::new();
        fixture
            .concerts
            .expect_concerts_on_sale()
            .withf(|_, after, _| after.is_none())
            .times(1)
            .in_sequence(&mut pages)
            .returning(move |_, _, _| Ok(full.clone()));
        fixture
            .concerts
            .expect_concerts_on_sale()
            .withf(move |_, after, _| *after == last)
            .times(1)
            .in_sequence(&mut pages)
            .returning(move |_, _, _| Ok(vec![tail]));
        fixture
            .concerts
            .expect_inventory()
            .returning(|_, _| Ok(ConcertInventory::default()));
        fixture.room.expect_set_inventory().returning(|_, _| Ok(()));
        let report = fixture.tickets().sweep().await;
        assert_eq!(report.map(|r| r.rooms_synced), Ok(SWEEP_BATCH + 1));
    }

    #[tokio::test]
    async fn a_failing_store_fails_the_sweep() {
        let mut fixture = Fixture::new();
        fixture
            .holds
            .expect_sweep_expired_holds()
            .returning(|_, _| Err(DependencyError::Unavailable("db".into())));
        fixture.concerts.expect_concerts_on_sale().never();
        assert!(fixture.tickets().sweep().await.is_err());

        let mut fixture = Fixture::new();
        fixture
            .holds
            .expect_sweep_expired_holds()
            .returning(|_, _| Ok(0));
        fixture
            .concerts
            .expect_concerts_on_sale()
            .returning(|_, _, _| Ok(vec![concert_id()]));
        fixture
            .concerts
            .expect_inventory()
            .returning(|_, _| Err(DependencyError::Unavailable("db".into())));
        fixture.room.expect_set_inventory().never();
        assert!(fixture.tickets().sweep().await.is_err());
    }

    #[tokio::test]
    async fn verify_seats_asks_the_store_at_now() {
        let mut fixture = Fixture::new();
        fixture
            .holds
            .expect_verify_seats()
            .withf(|at| *at == now())
            .returning(|_| {
                Ok(SeatAudit {
                    seats_checked: 50,
                    violations: vec![],
                })
            });
        assert_eq!(
            fixture
                .tickets()
                .verify_seats()
                .await
                .map(|a| a.seats_checked),
            Ok(50)
        );
    }
}
