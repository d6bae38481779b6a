//! An hour's fill level and the capacity rule every store applies under its locks: the rule is
//! decided here, once; an adapter only decides how to lock the rows it reads and how to write.

use super::{Headcount, HourRange, fits};
use chrono::{DateTime, Utc};
use thiserror::Error;

/// One hour's fill level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    /// UTC start of the hour.
    pub starts_at: DateTime<Utc>,
    /// People the hour holds.
    pub capacity: u32,
    /// People confirmed in it.
    pub confirmed: u32,
}

impl Slot {
    /// Places left.
    #[must_use]
    pub const fn remaining(&self) -> u32 {
        self.capacity.saturating_sub(self.confirmed)
    }
}

/// Why a range of hours cannot take a headcount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum CapacityError {
    /// Confirmed people plus the headcount would pass this hour's capacity.
    #[error("capacity exceeded at {hour}")]
    Exceeded {
        /// The first hour without room.
        hour: DateTime<Utc>,
    },
    /// A covered hour has no slot (outside the generated horizon).
    #[error("no slot exists at {hour}")]
    MissingSlot {
        /// The first missing hour.
        hour: DateTime<Utc>,
    },
}

/// With `release` giving its headcount back to its hours, does `take` fit in every one of its
/// hours? `slots` are the stored slots covering both ranges, ordered by `starts_at`.
///
/// # Errors
/// [`CapacityError::MissingSlot`] or [`CapacityError::Exceeded`], naming the first hour of `take`
/// that fails.
pub fn check_capacity_change(
    slots: &[Slot],
    release: Option<(&HourRange, Headcount)>,
    take: (&HourRange, Headcount),
) -> Result<(), CapacityError> {
    let (range, headcount) = take;
    for hour in range.hours() {
        let Ok(index) = slots.binary_search_by_key(&hour, |slot| slot.starts_at) else {
            return Err(CapacityError::MissingSlot { hour });
        };
        let slot = slots[index];
        let released = release
            .filter(|(old, _)| old.starts_at() <= hour && hour < old.ends_at())
            .map_or(0, |(_, people)| people.get());
        let confirmed = slot.confirmed.saturating_sub(released);
        if !fits(confirmed, headcount, slot.capacity) {
            return Err(CapacityError::Exceeded { hour });
        }
    }
    Ok(())
}

/// Takes `headcount` more people in every slot of `slots` that `range` covers: what a store does
/// to the counts it has locked once [`check_capacity_change`] allowed the change.
pub fn take_capacity(slots: &mut [Slot], range: &HourRange, headcount: Headcount) {
    let covered =
        |slot: &&mut Slot| range.starts_at() <= slot.starts_at && slot.starts_at < range.ends_at();
    for slot in slots.iter_mut().filter(covered) {
        slot.confirmed = slot.confirmed.saturating_add(headcount.get());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exams::BusinessZone;
    use chrono::{Duration, TimeZone};
    use proptest::prelude::*;

    fn hour(index: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0)
            .single()
            .unwrap_or_default()
            + Duration::hours(index)
    }

    fn range(from: i64, to: i64) -> HourRange {
        HourRange::new(hour(from), hour(to), BusinessZone::new(chrono_tz::UTC))
            .unwrap_or_else(|error| panic!("{error}"))
    }

    fn people(count: i64) -> Headcount {
        Headcount::new(count).unwrap_or_else(|error| panic!("{error}"))
    }

    fn slots(confirmed: &[u32]) -> Vec<Slot> {
        (0_i64..)
            .zip(confirmed)
            .map(|(index, confirmed)| Slot {
                starts_at: hour(index),
                capacity: 10,
                confirmed: *confirmed,
            })
            .collect()
    }

    #[test]
    fn take_must_fit_in_every_hour() {
        let slots = slots(&[0, 6, 0]);
        assert_eq!(
            check_capacity_change(&slots, None, (&range(0, 3), people(4))),
            Ok(())
        );
        assert_eq!(
            check_capacity_change(&slots, None, (&range(0, 3), people(5))),
            Err(CapacityError::Exceeded { hour: hour(1) })
        );
    }

    #[test]
    fn released_places_count_only_in_their_own_hours() {
        let slots = slots(&[0, 6, 6]);
        let old = range(1, 2);
        assert_eq!(
            check_capacity_change(&slots, Some((&old, people(6))), (&range(1, 2), people(10))),
            Ok(())
        );
        assert_eq!(
            check_capacity_change(&slots, Some((&old, people(6))), (&range(1, 3), people(5))),
            Err(CapacityError::Exceeded { hour: hour(2) })
        );
    }

    #[test]
    fn an_hour_without_a_slot_is_named() {
        let slots = slots(&[0, 0]);
        assert_eq!(
            check_capacity_change(&slots, None, (&range(1, 4), people(1))),
            Err(CapacityError::MissingSlot { hour: hour(2) })
        );
    }

    #[test]
    fn taking_counts_only_the_covered_hours() {
        let mut slots = slots(&[1, 2, 3]);
        take_capacity(&mut slots, &range(1, 3), people(4));
        let counts: Vec<u32> = slots.iter().map(|slot| slot.confirmed).collect();
        assert_eq!(counts, [1, 6, 7]);
    }

    proptest! {
        #[test]
        fn what_is_allowed_never_passes_capacity(
            confirmed in proptest::collection::vec(0_u32..=10, 1..6),
            from in 0_i64..5, length in 1_i64..4, count in 1_i64..12,
        ) {
            let mut slots = slots(&confirmed);
            let range = range(from, from + length);
            if check_capacity_change(&slots, None, (&range, people(count))).is_ok() {
                take_capacity(&mut slots, &range, people(count));
                prop_assert!(slots.iter().all(|slot| slot.confirmed <= slot.capacity));
            }
        }
    }
}
