//! Users: sign-up, look-ups, the admin list and changes (with the sessions they revoke).

use super::{TxError, UserRow, refusal};
use crate::schema::{exam_reservations, sessions, users};
use crate::{SqliteStore, instant, micros, uuid};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use reserva_application::DependencyError;
use reserva_application::ports::accounts::{
    NewUser, RevokeSessions, UpdatedUser, UserChanges, UserCredentials, UserQuery, UserRepository,
    UserWriteError,
};
use reserva_domain::accounts::{Email, Role, SessionId, User, UserId};
use reserva_domain::exams::ReservationStatus;
use reserva_sql_support::like_pattern;

/// Refuses `changes` when they would take the last active administrator's access away. Write
/// transactions are `BEGIN IMMEDIATE`, so no other write runs between this read and the update.
fn keep_an_admin(
    connection: &mut SqliteConnection,
    id: &str,
    changes: &UserChanges,
) -> Result<(), TxError> {
    if !changes.removes_admin_access() {
        return Ok(());
    }
    let admins: Vec<String> = users::table
        .filter(users::role.eq(Role::Admin.as_str()))
        .filter(users::is_active.eq(true))
        .select(users::id)
        .load(connection)?;
    if admins == [id] {
        return Err(TxError::Refused(UserWriteError::LastAdmin));
    }
    Ok(())
}

fn apply_user_changes(
    connection: &mut SqliteConnection,
    id: &str,
    changes: &UserChanges,
    revoke: RevokeSessions,
    now: i64,
) -> Result<(UserRow, Vec<String>), TxError> {
    keep_an_admin(connection, id, changes)?;
    let row: Option<UserRow> = diesel::update(users::table.find(id))
        .set(reserva_sql_support::user_changeset!(users, changes, now))
        .returning(UserRow::as_returning())
        .get_result(connection)
        .optional()?;
    let Some(row) = row else {
        return Err(TxError::Refused(UserWriteError::NotFound));
    };
    let live = sessions::table
        .filter(sessions::user_id.eq(id))
        .filter(sessions::revoked_at.is_null());
    let revoked = match revoke {
        RevokeSessions::None => Vec::new(),
        RevokeSessions::All => diesel::update(live)
            .set(sessions::revoked_at.eq(now))
            .returning(sessions::id)
            .get_results(connection)?,
        RevokeSessions::AllExcept(kept) => {
            diesel::update(live.filter(sessions::id.ne(kept.as_uuid().to_string())))
                .set(sessions::revoked_at.eq(now))
                .returning(sessions::id)
                .get_results(connection)?
        }
    };
    if changes.is_active == Some(false) {
        // A deactivated account's pending requests go with it (docs/modules/accounts.md, DELETE /users/me).
        diesel::update(
            exam_reservations::table
                .filter(exam_reservations::user_id.eq(id))
                .filter(exam_reservations::status.eq(ReservationStatus::Pending.as_str())),
        )
        .set((
            exam_reservations::status.eq(ReservationStatus::Cancelled.as_str()),
            exam_reservations::cancelled_at.eq(now),
            exam_reservations::updated_at.eq(now),
        ))
        .execute(connection)?;
    }
    Ok((row, revoked))
}

#[async_trait]
impl UserRepository for SqliteStore {
    async fn insert_user(&self, new_user: NewUser) -> Result<User, UserWriteError> {
        let row = self
            .write(move |connection| {
                diesel::insert_into(users::table)
                    .values((
                        users::id.eq(new_user.id.as_uuid().to_string()),
                        users::email.eq(new_user.email.as_str()),
                        users::username.eq(new_user.username.as_str()),
                        users::password_hash.eq(new_user.password_hash.as_phc()),
                        users::role.eq(new_user.role.as_str()),
                        users::is_active.eq(true),
                        users::created_at.eq(micros(new_user.now)),
                        users::updated_at.eq(micros(new_user.now)),
                    ))
                    .returning(UserRow::as_returning())
                    .get_result(connection)
                    .map_err(TxError::Query)
            })
            .await
            .map_err(refusal)?;
        Ok(row.into_user()?)
    }

    async fn find_user(&self, id: UserId) -> Result<Option<User>, DependencyError> {
        Ok(self
            .find_credentials(id)
            .await?
            .map(|credentials| credentials.user))
    }

    async fn find_credentials_by_email(
        &self,
        email: &Email,
    ) -> Result<Option<UserCredentials>, DependencyError> {
        let email = email.as_str().to_owned();
        self.read(move |connection| {
            users::table
                .filter(users::email.eq(email))
                .select(UserRow::as_select())
                .first(connection)
                .optional()
        })
        .await?
        .map(UserRow::into_credentials)
        .transpose()
    }

    async fn find_credentials(
        &self,
        id: UserId,
    ) -> Result<Option<UserCredentials>, DependencyError> {
        let id = id.as_uuid().to_string();
        self.read(move |connection| {
            users::table
                .find(id)
                .select(UserRow::as_select())
                .first(connection)
                .optional()
        })
        .await?
        .map(UserRow::into_credentials)
        .transpose()
    }

    async fn list_users(&self, query: &UserQuery) -> Result<Vec<User>, DependencyError> {
        let query = query.clone();
        let rows: Vec<UserRow> = self
            .read(move |connection| {
                let mut select = users::table
                    .select(UserRow::as_select())
                    .order(users::id.desc())
                    .limit(i64::from(query.limit.get()) + 1)
                    .into_boxed();
                if let Some(role) = query.role {
                    select = select.filter(users::role.eq(role.as_str()));
                }
                if let Some(before) = query.before {
                    select = select.filter(users::id.lt(before.as_uuid().to_string()));
                }
                if let Some(search) = query.search.as_deref().filter(|s| !s.is_empty()) {
                    // E-mails are stored lowercased (Unicode) and SQLite's LIKE folds ASCII
                    // letters only: lowercase the search so `JÖRG` finds `jörg@…`.
                    let pattern = like_pattern(&search.to_lowercase());
                    select = select.filter(
                        users::email
                            .like(pattern.clone())
                            .escape('\\')
                            .or(users::username.like(pattern).escape('\\')),
                    );
                }
                select.load(connection)
            })
            .await?;
        rows.into_iter().map(UserRow::into_user).collect()
    }

    async fn update_user(
        &self,
        id: UserId,
        changes: &UserChanges,
        revoke: RevokeSessions,
        now: DateTime<Utc>,
    ) -> Result<UpdatedUser, UserWriteError> {
        let changes = changes.clone();
        let (row, revoked) = self
            .write(move |connection| {
                apply_user_changes(
                    connection,
                    &id.as_uuid().to_string(),
                    &changes,
                    revoke,
                    micros(now),
                )
            })
            .await
            .map_err(refusal)?;
        Ok(UpdatedUser {
            user: row.into_user()?,
            revoked_sessions: revoked
                .iter()
                .map(|id| uuid(id).map(SessionId::from_uuid))
                .collect::<Result<_, _>>()?,
        })
    }

    async fn users_changed_since(
        &self,
        since: DateTime<Utc>,
    ) -> Result<Vec<(UserId, DateTime<Utc>)>, DependencyError> {
        let since = micros(since);
        let rows: Vec<(String, i64)> = self
            .read(move |connection| {
                users::table
                    .filter(users::updated_at.ge(since))
                    .select((users::id, users::updated_at))
                    .load(connection)
            })
            .await?;
        rows.into_iter()
            .map(|(id, updated_at)| Ok((UserId::from_uuid(uuid(&id)?), instant(updated_at)?)))
            .collect()
    }
}
