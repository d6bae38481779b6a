//! The caller's course access now: the courses they may study, one entry per course.

use super::Shopping;
use crate::DependencyError;
use crate::accounts::Principal;
use crate::ports::commerce::access::CourseAccess;
use reserva_domain::commerce::live_courses;
use std::collections::HashMap;

impl Shopping {
    /// The courses the caller may study now, one entry per course (the grant that lasts
    /// longest), latest expiry first.
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    #[tracing::instrument(skip_all, fields(user_id = %principal.user_id))]
    pub async fn my_access(
        &self,
        principal: &Principal,
    ) -> Result<Vec<CourseAccess>, DependencyError> {
        let now = self.now();
        let stored = self
            .ports
            .access
            .live_access(principal.user_id, now)
            .await?;
        let titles: HashMap<_, _> = stored
            .iter()
            .map(|access| (access.grant.course_id, access.title.clone()))
            .collect();
        let grants = stored.into_iter().map(|access| access.grant).collect();
        Ok(live_courses(grants, now)
            .into_iter()
            .map(|grant| CourseAccess {
                title: titles.get(&grant.course_id).cloned().unwrap_or_default(),
                grant,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commerce::test_support::{Fixture, course, now, principal};
    use chrono::Duration;
    use reserva_domain::commerce::{AccessGrant, OrderId};

    #[tokio::test]
    async fn one_entry_per_course_and_only_live_ones() {
        let caller = principal();
        let course_id = course().course().expect("a course");
        let grant = |paid_days_ago: i64, revoked: bool| CourseAccess {
            grant: AccessGrant {
                user_id: caller.user_id,
                course_id,
                order_id: OrderId::from_uuid(uuid::Uuid::now_v7()),
                granted_at: now() - Duration::days(paid_days_ago),
                expires_at: now() - Duration::days(paid_days_ago) + Duration::days(730),
                revoked_at: revoked.then(now),
            },
            title: "Rust".into(),
        };
        let newer = grant(1, false);
        let stored = vec![grant(10, false), newer.clone(), grant(0, true)];
        let mut fixture = Fixture::new();
        fixture
            .access
            .expect_live_access()
            .withf(move |user, at| *user == caller.user_id && *at == now())
            .return_once(move |_, _| Ok(stored));
        let access = fixture.shopping().my_access(&caller).await.expect("access");
        assert_eq!(access, vec![newer]);
    }
}
