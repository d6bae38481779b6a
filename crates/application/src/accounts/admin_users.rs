//! User administration: list, read, change role or active flag, deactivate. Admins only.

use super::{Accounts, Principal, removes_own_admin_access};
use crate::ports::accounts::{RevokeSessions, UserChanges, UserQuery, UserWriteError};
use crate::{DependencyError, ErrorClass, FieldViolation, UseCaseError};
use reserva_domain::accounts::{Role, User, UserId};
use reserva_domain::paging::PageLimit;
use thiserror::Error;

/// Filters and page of the user list.
#[derive(Debug, Clone, Default)]
pub struct ListUsersCommand {
    /// Only this role.
    pub role: Option<Role>,
    /// Case-insensitive substring of e-mail or username.
    pub search: Option<String>,
    /// Continue after this user (the previous page's last item).
    pub before: Option<UserId>,
    /// Page size.
    pub limit: PageLimit,
}

/// One page of users, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserPage {
    /// The users.
    pub items: Vec<User>,
    /// Where the next page starts, if there is one.
    pub next: Option<UserId>,
}

/// What an admin may change on a user.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AdminUserChanges {
    /// New role.
    pub role: Option<Role>,
    /// Activate or deactivate.
    pub is_active: Option<bool>,
}

/// Why an administration call failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AdminUserError {
    /// The caller is not an admin.
    #[error("administrators only")]
    Forbidden,
    /// No such user.
    #[error("user not found")]
    NotFound,
    /// An admin tried to demote or deactivate themselves (which could leave nobody in charge).
    #[error("administrators cannot remove their own administrator access")]
    OwnAdminAccess,
    /// The change would leave no active administrator (two removing each other at once).
    #[error("the last active administrator cannot lose administrator access")]
    LastAdmin,
    /// Bad filter or change.
    #[error("invalid request")]
    Invalid(Vec<FieldViolation>),
    /// A dependency failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

impl UseCaseError for AdminUserError {
    fn class(&self) -> ErrorClass {
        match self {
            Self::Forbidden => ErrorClass::Forbidden,
            Self::NotFound => ErrorClass::NotFound,
            Self::OwnAdminAccess | Self::LastAdmin => ErrorClass::Conflict,
            Self::Invalid(_) => ErrorClass::InvalidInput,
            Self::Dependency(error) => error.class(),
        }
    }
    fn code(&self) -> &'static str {
        match self {
            Self::Forbidden => "forbidden",
            Self::NotFound => "not_found",
            Self::OwnAdminAccess => "own_admin_access",
            Self::LastAdmin => "last_admin",
            Self::Invalid(_) => "validation_failed",
            Self::Dependency(error) => error.code(),
        }
    }
    fn violations(&self) -> &[FieldViolation] {
        match self {
            Self::Invalid(violations) => violations,
            _ => &[],
        }
    }
}

impl From<UserWriteError> for AdminUserError {
    fn from(error: UserWriteError) -> Self {
        match error {
            UserWriteError::NotFound => Self::NotFound,
            UserWriteError::LastAdmin => Self::LastAdmin,
            UserWriteError::Dependency(error) => Self::Dependency(error),
            UserWriteError::EmailTaken | UserWriteError::UsernameTaken => Self::Dependency(
                DependencyError::Failed("unexpected uniqueness conflict".into()),
            ),
        }
    }
}

fn require_admin(principal: &Principal) -> Result<(), AdminUserError> {
    if principal.is_admin() {
        Ok(())
    } else {
        Err(AdminUserError::Forbidden)
    }
}

impl Accounts {
    /// Lists users, newest first, filtered by role and search text.
    ///
    /// # Errors
    /// `Forbidden`, `Invalid` (search longer than 100 characters), `Dependency`.
    pub async fn list_users(
        &self,
        principal: &Principal,
        command: ListUsersCommand,
    ) -> Result<UserPage, AdminUserError> {
        require_admin(principal)?;
        let search = command
            .search
            .map(|text| text.trim().to_owned())
            .filter(|t| !t.is_empty());
        if search
            .as_ref()
            .is_some_and(|text| text.chars().count() > 100)
        {
            let rule = "must be at most 100 characters";
            return Err(AdminUserError::Invalid(vec![FieldViolation::new(
                "q", "too_long", rule,
            )]));
        }
        let query = UserQuery {
            role: command.role,
            search,
            before: command.before,
            limit: command.limit,
        };
        let mut items = self.ports.users.list_users(&query).await?;
        let limit = usize::from(command.limit.get());
        let next = if items.len() > limit {
            items.truncate(limit);
            items.last().map(|user| user.id)
        } else {
            None
        };
        Ok(UserPage { items, next })
    }

    /// One user.
    ///
    /// # Errors
    /// `Forbidden`, `NotFound`, `Dependency`.
    pub async fn get_user(
        &self,
        principal: &Principal,
        id: UserId,
    ) -> Result<User, AdminUserError> {
        require_admin(principal)?;
        self.ports
            .users
            .find_user(id)
            .await?
            .ok_or(AdminUserError::NotFound)
    }

    /// Changes a user's role or active flag; the change applies to their live access tokens at
    /// once. Deactivation also ends all their sessions.
    ///
    /// # Errors
    /// `Forbidden`, `NotFound`, `OwnAdminAccess`, `LastAdmin`, `Invalid` (nothing to change),
    /// `Dependency`.
    #[tracing::instrument(skip_all, fields(admin = %principal.user_id, user_id = %id))]
    pub async fn update_user(
        &self,
        principal: &Principal,
        id: UserId,
        changes: AdminUserChanges,
    ) -> Result<User, AdminUserError> {
        require_admin(principal)?;
        if changes == AdminUserChanges::default() {
            let rule = "give role or is_active";
            return Err(AdminUserError::Invalid(vec![FieldViolation::new(
                "role",
                "nothing_to_change",
                rule,
            )]));
        }
        let update = UserChanges {
            role: changes.role,
            is_active: changes.is_active,
            ..UserChanges::default()
        };
        if removes_own_admin_access(principal, id, &update) {
            return Err(AdminUserError::OwnAdminAccess);
        }
        let revoke = if changes.is_active == Some(false) {
            RevokeSessions::All
        } else {
            RevokeSessions::None
        };
        self.mark_user_changed(id).await?;
        let updated = self
            .ports
            .users
            .update_user(id, &update, revoke, self.now())
            .await?;
        self.revoke_access(&updated.revoked_sessions).await;
        Ok(updated.user)
    }

    /// Deactivates a user (soft delete) and ends their sessions.
    ///
    /// # Errors
    /// As [`Accounts::update_user`].
    pub async fn deactivate_user(
        &self,
        principal: &Principal,
        id: UserId,
    ) -> Result<(), AdminUserError> {
        let changes = AdminUserChanges {
            is_active: Some(false),
            role: None,
        };
        self.update_user(principal, id, changes).await.map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DependencyError;
    use crate::accounts::test_support::{Fixture, fixed_now, member};
    use crate::ports::accounts::UpdatedUser;
    use reserva_domain::accounts::SessionId;

    fn caller(role: Role) -> Principal {
        Principal {
            user_id: UserId::from_uuid(uuid::Uuid::now_v7()),
            session_id: SessionId::from_uuid(uuid::Uuid::now_v7()),
            role,
        }
    }

    fn some_user() -> User {
        member(UserId::from_uuid(uuid::Uuid::now_v7()), "a@b.co")
    }

    #[tokio::test]
    async fn members_and_tutors_are_forbidden_everywhere() {
        for role in [Role::Member, Role::Tutor] {
            let accounts = Fixture::new().accounts();
            let who = caller(role);
            let id = who.user_id;
            assert_eq!(
                accounts
                    .list_users(&who, ListUsersCommand::default())
                    .await
                    .err(),
                Some(AdminUserError::Forbidden)
            );
            assert_eq!(
                accounts.get_user(&who, id).await.err(),
                Some(AdminUserError::Forbidden)
            );
            assert_eq!(
                accounts.deactivate_user(&who, id).await.err(),
                Some(AdminUserError::Forbidden)
            );
        }
    }

    #[tokio::test]
    async fn list_asks_for_one_extra_row_to_know_about_a_next_page() {
        let rows: Vec<User> = (0..3).map(|_| some_user()).collect();
        let expected_next = rows[1].id;
        let mut fixture = Fixture::new();
        fixture
            .users
            .expect_list_users()
            .withf(|query| query.limit.get() == 2 && query.search.as_deref() == Some("ann"))
            .return_once(move |_| Ok(rows));
        let command = ListUsersCommand {
            search: Some("  ann ".into()),
            limit: PageLimit::new(2).unwrap_or_default(),
            ..ListUsersCommand::default()
        };
        let page = fixture
            .accounts()
            .list_users(&caller(Role::Admin), command)
            .await;
        assert_eq!(
            page.map(|p| (p.items.len(), p.next)),
            Ok((2, Some(expected_next)))
        );
    }

    #[tokio::test]
    async fn last_page_has_no_next_and_long_search_is_invalid() {
        let mut fixture = Fixture::new();
        fixture
            .users
            .expect_list_users()
            .return_once(|_| Ok(vec![some_user()]));
        let page = fixture
            .accounts()
            .list_users(&caller(Role::Admin), ListUsersCommand::default())
            .await;
        assert_eq!(page.map(|p| p.next), Ok(None));
        let command = ListUsersCommand {
            search: Some("x".repeat(101)),
            ..ListUsersCommand::default()
        };
        let result = Fixture::new()
            .accounts()
            .list_users(&caller(Role::Admin), command)
            .await;
        assert!(matches!(result, Err(AdminUserError::Invalid(_))));
    }

    #[tokio::test]
    async fn admins_cannot_lock_themselves_out() {
        let admin = caller(Role::Admin);
        let accounts = Fixture::new().accounts();
        let demote = AdminUserChanges {
            role: Some(Role::Member),
            is_active: None,
        };
        assert_eq!(
            accounts
                .update_user(&admin, admin.user_id, demote)
                .await
                .err(),
            Some(AdminUserError::OwnAdminAccess)
        );
        assert_eq!(
            accounts.deactivate_user(&admin, admin.user_id).await.err(),
            Some(AdminUserError::OwnAdminAccess)
        );
        let nothing = AdminUserChanges::default();
        assert!(matches!(
            accounts.update_user(&admin, admin.user_id, nothing).await,
            Err(AdminUserError::Invalid(_))
        ));
    }

    #[tokio::test]
    async fn the_stores_last_admin_guard_is_a_conflict() {
        let mut fixture = Fixture::new();
        fixture.store_refuses_update(UserWriteError::LastAdmin);
        let target = UserId::from_uuid(uuid::Uuid::now_v7());
        let result = fixture
            .accounts()
            .deactivate_user(&caller(Role::Admin), target)
            .await;
        assert_eq!(
            result.map_err(|e| (e.code(), e.class())),
            Err(("last_admin", ErrorClass::Conflict))
        );
    }

    #[tokio::test]
    async fn deactivation_revokes_sessions_and_unknown_ids_are_not_found() {
        let session = SessionId::from_uuid(uuid::Uuid::now_v7());
        let mut fixture = Fixture::new();
        fixture
            .users
            .expect_update_user()
            .withf(|_, changes, revoke, _| {
                changes.is_active == Some(false) && *revoke == RevokeSessions::All
            })
            .return_once(move |id, _, _, _| {
                Ok(UpdatedUser {
                    user: member(id, "a@b.co"),
                    revoked_sessions: vec![session],
                })
            });
        fixture
            .revocations
            .expect_mark_user_changed()
            .times(1)
            .returning(|_, _| Ok(()));
        fixture
            .revocations
            .expect_revoke()
            .times(1)
            .returning(|_, _| Ok(()));
        let target = UserId::from_uuid(uuid::Uuid::now_v7());
        assert_eq!(
            fixture
                .accounts()
                .deactivate_user(&caller(Role::Admin), target)
                .await,
            Ok(())
        );

        let mut fixture = Fixture::new();
        fixture.users.expect_find_user().returning(|_| Ok(None));
        assert_eq!(
            fixture
                .accounts()
                .get_user(&caller(Role::Admin), target)
                .await,
            Err(AdminUserError::NotFound)
        );
        let mut fixture = Fixture::new();
        fixture.store_refuses_update(UserWriteError::NotFound);
        let promote = AdminUserChanges {
            role: Some(Role::Tutor),
            is_active: None,
        };
        assert_eq!(
            fixture
                .accounts()
                .update_user(&caller(Role::Admin), target, promote)
                .await
                .err(),
            Some(AdminUserError::NotFound)
        );
    }

    #[tokio::test]
    async fn a_role_change_marks_the_user_before_writing_it() {
        let target = UserId::from_uuid(uuid::Uuid::now_v7());
        let mut order = mockall::Sequence::new();
        let mut fixture = Fixture::new();
        let ttl = chrono::Duration::minutes(15); // the default access-token lifetime
        fixture
            .revocations
            .expect_mark_user_changed()
            .withf(move |user, until| *user == target && *until == fixed_now() + ttl * 2)
            .times(1)
            .in_sequence(&mut order)
            .returning(|_, _| Ok(()));
        fixture
            .users
            .expect_update_user()
            .withf(|_, changes, revoke, _| {
                changes.role == Some(Role::Member) && *revoke == RevokeSessions::None
            })
            .times(1)
            .in_sequence(&mut order)
            .return_once(|id, _, _, _| {
                Ok(UpdatedUser {
                    user: member(id, "a@b.co"),
                    revoked_sessions: Vec::new(),
                })
            });
        let demote = AdminUserChanges {
            role: Some(Role::Member),
            is_active: None,
        };
        let updated = fixture
            .accounts()
            .update_user(&caller(Role::Admin), target, demote)
            .await;
        assert_eq!(updated.map(|user| user.role), Ok(Role::Member));
    }

    #[tokio::test]
    async fn an_unmarkable_change_is_not_written() {
        let mut fixture = Fixture::new();
        fixture
            .revocations
            .expect_mark_user_changed()
            .returning(|_, _| Err(DependencyError::Unavailable("redis down".into())));
        fixture.users.expect_update_user().never();
        let promote = AdminUserChanges {
            role: Some(Role::Admin),
            is_active: None,
        };
        let target = UserId::from_uuid(uuid::Uuid::now_v7());
        let result = fixture
            .accounts()
            .update_user(&caller(Role::Admin), target, promote)
            .await;
        assert!(matches!(result, Err(AdminUserError::Dependency(_))));
    }
}
