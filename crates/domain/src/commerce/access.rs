//! Course access: a paid order opens each of its courses (a curriculum: each course in it) for
//! [`ACCESS_DAYS`] from payment; a refund withdraws it. [`has_access`] is the one rule, and the
//! stores query the same condition.

use super::OrderId;
use crate::accounts::UserId;
use crate::catalog::ItemId;
use chrono::{DateTime, Duration, Utc};
use std::collections::BTreeMap;

/// How long a payment opens a course: 730 days (two years, as the source system sold it).
pub const ACCESS_DAYS: i64 = 730;

/// When access granted at `paid_at` ends (exclusive).
#[must_use]
pub fn access_expires_at(paid_at: DateTime<Utc>) -> DateTime<Utc> {
    paid_at + Duration::days(ACCESS_DAYS)
}

/// One grant of access to a course by an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessGrant {
    /// Who may study.
    pub user_id: UserId,
    /// What.
    pub course_id: ItemId,
    /// The paid order that granted it.
    pub order_id: OrderId,
    /// From (the payment).
    pub granted_at: DateTime<Utc>,
    /// Until (exclusive).
    pub expires_at: DateTime<Utc>,
    /// Withdrawn by a refund.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl AccessGrant {
    /// Whether this grant is live at `now`: not revoked and `granted_at ≤ now < expires_at`.
    #[must_use]
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.granted_at <= now && now < self.expires_at
    }
}

/// Whether `user` may study `course` at `now`, given their grants.
#[must_use]
pub fn has_access(
    grants: &[AccessGrant],
    user: UserId,
    course: ItemId,
    now: DateTime<Utc>,
) -> bool {
    grants
        .iter()
        .any(|grant| grant.user_id == user && grant.course_id == course && grant.is_live(now))
}

/// The live grants at `now`, one per course: of several (a course bought alone and again in a
/// curriculum), the one that lasts longest, then the latest order.
#[must_use]
pub fn live_courses(grants: Vec<AccessGrant>, now: DateTime<Utc>) -> Vec<AccessGrant> {
    let mut best: BTreeMap<ItemId, AccessGrant> = BTreeMap::new();
    for grant in grants.into_iter().filter(|grant| grant.is_live(now)) {
        match best.get(&grant.course_id) {
            Some(kept)
                if (kept.expires_at, kept.order_id) >= (grant.expires_at, grant.order_id) => {}
            _ => {
                best.insert(grant.course_id, grant);
            }
        }
    }
    let mut live: Vec<AccessGrant> = best.into_values().collect();
    live.sort_by_key(|grant| std::cmp::Reverse((grant.expires_at, grant.course_id)));
    live
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use uuid::Uuid;

    fn at(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, day, 0, 0, 0)
            .single()
            .unwrap_or_default()
    }

    fn grant(user: UserId, course: ItemId, paid_at: DateTime<Utc>) -> AccessGrant {
        AccessGrant {
            user_id: user,
            course_id: course,
            order_id: OrderId::from_uuid(Uuid::now_v7()),
            granted_at: paid_at,
            expires_at: access_expires_at(paid_at),
            revoked_at: None,
        }
    }

    #[test]
    fn access_lasts_exactly_730_days() {
        let user = UserId::from_uuid(Uuid::now_v7());
        let course = ItemId::from_uuid(Uuid::now_v7());
        let paid = at(1);
        let grants = [grant(user, course, paid)];
        let end = paid + Duration::days(730);
        assert!(!has_access(
            &grants,
            user,
            course,
            paid - Duration::microseconds(1)
        ));
        assert!(has_access(&grants, user, course, paid));
        assert!(has_access(
            &grants,
            user,
            course,
            end - Duration::microseconds(1)
        ));
        assert!(
            !has_access(&grants, user, course, end),
            "the end is exclusive"
        );
    }

    #[test]
    fn a_revoked_grant_or_another_users_or_course_gives_nothing() {
        let user = UserId::from_uuid(Uuid::now_v7());
        let course = ItemId::from_uuid(Uuid::now_v7());
        let mut revoked = grant(user, course, at(1));
        revoked.revoked_at = Some(at(2));
        assert!(!has_access(&[revoked], user, course, at(3)));
        let other = UserId::from_uuid(Uuid::now_v7());
        let grants = [grant(other, course, at(1))];
        assert!(!has_access(&grants, user, course, at(3)));
        let grants = [grant(user, ItemId::from_uuid(Uuid::now_v7()), at(1))];
        assert!(!has_access(&grants, user, course, at(3)));
    }

    #[test]
    fn live_courses_keep_one_longest_grant_per_course() {
        let user = UserId::from_uuid(Uuid::now_v7());
        let (a, b, c) = (
            ItemId::from_uuid(Uuid::now_v7()),
            ItemId::from_uuid(Uuid::now_v7()),
            ItemId::from_uuid(Uuid::now_v7()),
        );
        let early = grant(user, a, at(1));
        let later = grant(user, a, at(5));
        let mut revoked = grant(user, b, at(2));
        revoked.revoked_at = Some(at(3));
        let other = grant(user, c, at(2));
        let live = live_courses(vec![early, later.clone(), revoked, other.clone()], at(10));
        assert_eq!(live, vec![later, other]);
    }
}
