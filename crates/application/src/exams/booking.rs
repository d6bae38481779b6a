//! The checks creating and editing a reservation share: the shape, window, duration and headcount
//! rules, and the advisory room check (the binding one happens at confirmation, under locks).

use super::{Exams, NoRoom};
use crate::{DependencyError, FieldViolation};
use chrono::{DateTime, Utc};
use reserva_domain::exams::{Headcount, HourRange, HourRangeError, WindowViolation, fits};

fn range_violation(error: HourRangeError) -> FieldViolation {
    match error {
        HourRangeError::StartNotOnTheHour => {
            FieldViolation::new("starts_at", "not_on_the_hour", error)
        }
        HourRangeError::EndNotOnTheHour => FieldViolation::new("ends_at", "not_on_the_hour", error),
        HourRangeError::EndsBeforeStart => {
            FieldViolation::new("ends_at", "ends_before_start", error)
        }
    }
}

impl Exams {
    /// Validates range and headcount against the policy at `now`; the broken rules otherwise,
    /// which each use case answers as its own `Invalid`.
    pub(super) fn validate(
        &self,
        starts_at: DateTime<Utc>,
        ends_at: DateTime<Utc>,
        headcount: i64,
    ) -> Result<(HourRange, Headcount), Vec<FieldViolation>> {
        let mut violations = Vec::new();
        let range = HourRange::new(starts_at, ends_at, self.zone)
            .map_err(|e| violations.push(range_violation(e)))
            .ok();
        let headcount = Headcount::new(headcount)
            .map_err(|rule| {
                violations.push(FieldViolation::new("headcount", "invalid_headcount", rule))
            })
            .ok();
        let (Some(range), Some(headcount)) = (range, headcount) else {
            return Err(violations);
        };
        self.policy
            .check(&range, headcount, self.now())
            .map_err(|violation| {
                let field = match violation {
                    WindowViolation::HeadcountTooLarge { .. } => "headcount",
                    WindowViolation::TooLong { .. } => "ends_at",
                    WindowViolation::TooSoon { .. } | WindowViolation::BeyondHorizon { .. } => {
                        "starts_at"
                    }
                };
                vec![FieldViolation::new(field, violation.code(), violation)]
            })?;
        Ok((range, headcount))
    }

    /// Refuses a range if any covered hour lacks a slot or room for `headcount` more confirmed
    /// people. Generic over the caller's error enum, which holds both refusals.
    pub(super) async fn check_room<E>(
        &self,
        range: &HourRange,
        headcount: Headcount,
    ) -> Result<(), E>
    where
        E: From<NoRoom> + From<DependencyError>,
    {
        let slots = self
            .ports
            .slots
            .slots_between(range.starts_at(), range.ends_at())
            .await?;
        for hour in range.hours() {
            let refusal = match slots.iter().find(|slot| slot.starts_at == hour) {
                None => NoRoom::SlotUnavailable {
                    hour: self.local(hour),
                },
                Some(slot) if !fits(slot.confirmed, headcount, slot.capacity) => {
                    NoRoom::CapacityExceeded {
                        hour: self.local(hour),
                    }
                }
                Some(_) => continue,
            };
            return Err(refusal.into());
        }
        Ok(())
    }
}
