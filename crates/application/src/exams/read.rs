//! Reading reservations: one by id (owner or admin), or a filtered page.

use super::Exams;
use crate::accounts::Principal;
use crate::ports::exams::ReservationQuery;
use crate::{DependencyError, ErrorClass, FieldViolation, UseCaseError};
use chrono::{DateTime, Utc};
use reserva_domain::accounts::UserId;
use reserva_domain::exams::{Reservation, ReservationId, ReservationStatus};
use reserva_domain::paging::PageLimit;
use thiserror::Error;

/// Filters and page of a reservation list.
#[derive(Debug, Clone, Default)]
pub struct ListReservationsCommand {
    /// Admins only: only this user's. Members always see only their own.
    pub user_id: Option<UserId>,
    /// Only this status.
    pub status: Option<ReservationStatus>,
    /// Only reservations ending after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Only reservations starting before this instant.
    pub to: Option<DateTime<Utc>>,
    /// The previous page's last id.
    pub before: Option<ReservationId>,
    /// Page size.
    pub limit: PageLimit,
}

/// One page of reservations, newest first.
pub type ReservationPage = crate::Page<Reservation, ReservationId>;

/// Why reading one reservation failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum GetReservationError {
    /// Absent, or not the caller's.
    #[error("reservation not found")]
    NotFound,
    /// A dependency failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

impl UseCaseError for GetReservationError {
    fn class(&self) -> ErrorClass {
        match self {
            Self::NotFound => ErrorClass::NotFound,
            Self::Dependency(error) => error.class(),
        }
    }
    fn code(&self) -> &'static str {
        match self {
            Self::NotFound => "not_found",
            Self::Dependency(error) => error.code(),
        }
    }
}

crate::error::invalid_or_dependency_error!(
    /// Why listing reservations failed.
    ListReservationsError,
    /// The filters contradict each other (`from` after `to`).
    "invalid reservation filters"
);

impl Exams {
    /// One reservation, for its owner or an admin.
    ///
    /// # Errors
    /// `NotFound` (also for other users' reservations), `Dependency`.
    pub async fn get_reservation(
        &self,
        principal: &Principal,
        id: ReservationId,
    ) -> Result<Reservation, GetReservationError> {
        let (reservation, _) = self
            .visible(principal, id)
            .await?
            .ok_or(GetReservationError::NotFound)?;
        Ok(reservation)
    }

    /// The caller's reservations, or anyone's for an admin.
    ///
    /// # Errors
    /// `Invalid` when `from` is after `to`, `Dependency`.
    pub async fn list_reservations(
        &self,
        principal: &Principal,
        command: ListReservationsCommand,
    ) -> Result<ReservationPage, ListReservationsError> {
        if let (Some(from), Some(to)) = (command.from, command.to)
            && from > to
        {
            return Err(ListReservationsError::Invalid(vec![FieldViolation::new(
                "from",
                "from_after_to",
                "must not be after to",
            )]));
        }
        let user_id = if principal.is_admin() {
            command.user_id
        } else {
            Some(principal.user_id)
        };
        let query = ReservationQuery {
            user_id,
            status: command.status,
            from: command.from,
            to: command.to,
            before: command.before,
            limit: command.limit,
        };
        let rows = self.ports.reservations.list_reservations(&query).await?;
        Ok(ReservationPage::from_rows(
            rows,
            command.limit,
            |reservation| reservation.id,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exams::test_support::{Fixture, now, principal, reservation};
    use reserva_domain::accounts::Role;

    #[tokio::test]
    async fn owners_and_admins_see_it_others_get_not_found() {
        let owner = principal(Role::Member);
        let stored = reservation(owner.user_id, ReservationStatus::Pending);
        let id = stored.id;
        for (caller, visible) in [
            (owner, true),
            (principal(Role::Admin), true),
            (principal(Role::Member), false),
            (principal(Role::Tutor), false),
        ] {
            let mut fixture = Fixture::new();
            let copy = stored.clone();
            fixture
                .reservations
                .expect_find_reservation()
                .returning(move |_| Ok(Some(copy.clone())));
            let result = fixture.exams().get_reservation(&caller, id).await;
            assert_eq!(result.is_ok(), visible, "{caller:?}");
            if !visible {
                assert_eq!(result, Err(GetReservationError::NotFound));
            }
        }
        let mut fixture = Fixture::new();
        fixture
            .reservations
            .expect_find_reservation()
            .returning(|_| Ok(None));
        assert_eq!(
            fixture.exams().get_reservation(&owner, id).await,
            Err(GetReservationError::NotFound)
        );
    }

    #[tokio::test]
    async fn members_only_ever_list_their_own() {
        let member = principal(Role::Member);
        let someone = UserId::from_uuid(uuid::Uuid::now_v7());
        let mut fixture = Fixture::new();
        fixture
            .reservations
            .expect_list_reservations()
            .withf(move |q| q.user_id == Some(member.user_id))
            .returning(|_| Ok(vec![]));
        let command = ListReservationsCommand {
            user_id: Some(someone),
            ..ListReservationsCommand::default()
        };
        assert!(
            fixture
                .exams()
                .list_reservations(&member, command)
                .await
                .is_ok()
        );

        let admin = principal(Role::Admin);
        let mut fixture = Fixture::new();
        fixture
            .reservations
            .expect_list_reservations()
            .withf(move |q| q.user_id == Some(someone))
            .returning(|_| Ok(vec![]));
        let command = ListReservationsCommand {
            user_id: Some(someone),
            ..ListReservationsCommand::default()
        };
        assert!(
            fixture
                .exams()
                .list_reservations(&admin, command)
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn pages_and_backwards_ranges() {
        let member = principal(Role::Member);
        let rows: Vec<Reservation> = (0..3)
            .map(|_| reservation(member.user_id, ReservationStatus::Pending))
            .collect();
        let expected = rows[1].id;
        let mut fixture = Fixture::new();
        fixture
            .reservations
            .expect_list_reservations()
            .return_once(move |_| Ok(rows));
        let command = ListReservationsCommand {
            limit: PageLimit::new(2).unwrap_or_default(),
            ..ListReservationsCommand::default()
        };
        let page = fixture.exams().list_reservations(&member, command).await;
        assert_eq!(
            page.map(|p| (p.items.len(), p.next)),
            Ok((2, Some(expected)))
        );
        let backwards = ListReservationsCommand {
            from: Some(now()),
            to: Some(now() - chrono::Duration::hours(1)),
            ..ListReservationsCommand::default()
        };
        let result = Fixture::new()
            .exams()
            .list_reservations(&member, backwards)
            .await;
        assert!(matches!(result, Err(ListReservationsError::Invalid(_))));
    }
}
