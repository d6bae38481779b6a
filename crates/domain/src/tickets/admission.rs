//! The waiting room's rules: how many users may be active, whether anything is left to wait for,
//! and how long a waiting user can expect to wait.
//!
//! Unlike a waiting room that only meters traffic, ours knows the inventory: it admits no more
//! users looking for a seat than there are free seats plus a margin, and tells waiting users
//! `sold_out` as soon as every seat is sold or held.

use std::time::Duration;

/// What the room knows at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RoomCounts {
    /// Users active now.
    pub active: u32,
    /// Seats on sale and neither sold nor under a live hold.
    pub free_seats: u32,
    /// Live holds on seats on sale (each made by a user who is, or recently was, active).
    pub live_holds: u32,
}

/// How many waiting users may be admitted now.
///
/// Two caps: at most `max_active` users active at once, and at most `free_seats + margin`
/// active users *looking* for a seat. An active user who holds a seat counts against that seat,
/// so the second cap is `active - live_holds <= free_seats + margin`. The margin covers users who
/// are admitted but never choose (they time out) without leaving seats unsold meanwhile.
#[must_use]
pub fn admissible(counts: RoomCounts, max_active: u32, margin: u32) -> u32 {
    let by_inventory = counts
        .free_seats
        .saturating_add(margin)
        .saturating_add(counts.live_holds);
    max_active.min(by_inventory).saturating_sub(counts.active)
}

/// What a waiting user is told about the seats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Availability {
    /// Some seat is neither sold nor held: waiting may pay off.
    PossiblyAvailable,
    /// Every seat is sold or held. Held seats come back if their holds expire, so this can turn
    /// into `PossiblyAvailable` again.
    SoldOut,
}

impl Availability {
    /// From the free-seat count.
    #[must_use]
    pub const fn of(free_seats: u32) -> Self {
        if free_seats == 0 {
            Self::SoldOut
        } else {
            Self::PossiblyAvailable
        }
    }

    /// `possibly_available` or `sold_out`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::PossiblyAvailable => "possibly_available",
            Self::SoldOut => "sold_out",
        }
    }
}

/// The expected wait of the user at `position` (1 = next in line), in whole seconds, rounded up.
///
/// `admitted` users were admitted during the last `window`: that measured rate is used when
/// there is one. Before anyone has been admitted in the window, the estimate assumes every active
/// place turns over once per `active_ttl`, the slowest the room can go while anyone is active.
#[must_use]
pub fn eta_seconds(
    position: u64,
    admitted: u64,
    window: Duration,
    max_active: u32,
    active_ttl: Duration,
) -> u64 {
    if position == 0 {
        return 0;
    }
    let (users, per) = if admitted > 0 && !window.is_zero() {
        (admitted, window)
    } else {
        (u64::from(max_active.max(1)), active_ttl)
    };
    // position * per / users, rounded up, in milliseconds to keep sub-second rates exact enough.
    let per_ms = u64::try_from(per.as_millis()).unwrap_or(u64::MAX);
    let wait_ms = position.saturating_mul(per_ms).div_ceil(users);
    wait_ms.div_ceil(1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn counts(active: u32, free_seats: u32, live_holds: u32) -> RoomCounts {
        RoomCounts {
            active,
            free_seats,
            live_holds,
        }
    }

    #[test]
    fn an_empty_room_with_seats_admits_up_to_its_cap() {
        assert_eq!(admissible(counts(0, 100, 0), 100, 10), 100);
        assert_eq!(admissible(counts(0, 100, 0), 20, 10), 20);
        assert_eq!(admissible(counts(20, 100, 0), 20, 10), 0);
    }

    #[test]
    fn no_more_seekers_than_free_seats_plus_margin() {
        // 5 free seats, margin 2: 7 seekers at most.
        assert_eq!(admissible(counts(0, 5, 0), 100, 2), 7);
        assert_eq!(admissible(counts(7, 5, 0), 100, 2), 0);
        // 3 of the 7 active users now hold seats: 2 free remain, so 4 seekers may be active.
        assert_eq!(admissible(counts(7, 2, 3), 100, 2), 0);
        assert_eq!(admissible(counts(4, 2, 3), 100, 2), 3);
    }

    #[test]
    fn sold_out_admits_nobody_beyond_the_margin() {
        assert_eq!(admissible(counts(0, 0, 0), 100, 0), 0);
        assert_eq!(admissible(counts(0, 0, 0), 100, 3), 3);
        assert_eq!(Availability::of(0), Availability::SoldOut);
        assert_eq!(Availability::of(1), Availability::PossiblyAvailable);
        assert_eq!(Availability::SoldOut.as_str(), "sold_out");
    }

    #[test]
    fn held_seats_coming_back_reopen_the_room() {
        // all 50 seats held by 50 active users: nobody more
        assert_eq!(admissible(counts(50, 0, 50), 100, 0), 0);
        // ten holds expire (their users timed out too): ten seats free, ten places open
        assert_eq!(admissible(counts(40, 10, 40), 100, 0), 10);
    }

    #[test]
    fn eta_follows_the_measured_rate() {
        let minute = Duration::from_secs(60);
        // 30 admitted in the last minute: 2 s per user.
        assert_eq!(eta_seconds(1, 30, minute, 100, minute * 10), 2);
        assert_eq!(eta_seconds(15, 30, minute, 100, minute * 10), 30);
        assert_eq!(eta_seconds(0, 30, minute, 100, minute * 10), 0);
        // 7 admitted per minute: position 1 waits ceil(60/7) = 9 s.
        assert_eq!(eta_seconds(1, 7, minute, 100, minute * 10), 9);
    }

    #[test]
    fn eta_without_a_measurement_assumes_one_turnover_per_active_lifetime() {
        let ttl = Duration::from_secs(600);
        // 100 places turning over every 600 s: 6 s per user.
        assert_eq!(eta_seconds(10, 0, Duration::from_secs(60), 100, ttl), 60);
        assert_eq!(eta_seconds(1, 0, Duration::ZERO, 0, ttl), 600);
    }
}
