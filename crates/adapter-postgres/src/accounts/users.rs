//! Users: sign-up, look-ups, the admin list and changes (with the sessions they revoke).

use super::{TxError, UserRow, write_error};
use crate::schema::{exam_reservations, sessions, users};
use crate::{PostgresStore, query_error};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use reserva_application::DependencyError;
use reserva_application::ports::accounts::{
    NewUser, RevokeSessions, UpdatedUser, UserChanges, UserCredentials, UserQuery, UserRepository,
    UserWriteError,
};
use reserva_domain::accounts::{Email, Role, SessionId, User, UserId};
use reserva_domain::exams::ReservationStatus;
use reserva_sql_support::like_pattern;
use uuid::Uuid;

/// Refuses `changes` when they would take the last active administrator's access away. Every
/// such update first locks all active administrators' rows, in id order, so two removed at once
/// queue here; under READ COMMITTED the second then re-checks each row it waited for and no
/// longer finds the first among the administrators.
async fn keep_an_admin(
    connection: &mut AsyncPgConnection,
    id: Uuid,
    changes: &UserChanges,
) -> Result<(), TxError> {
    if !changes.removes_admin_access() {
        return Ok(());
    }
    let admins: Vec<Uuid> = users::table
        .filter(users::role.eq(Role::Admin.as_str()))
        .filter(users::is_active.eq(true))
        .select(users::id)
        .order(users::id)
        .for_update()
        .load(connection)
        .await?;
    if admins == [id] {
        return Err(TxError::Refused(UserWriteError::LastAdmin));
    }
    Ok(())
}

async fn apply_user_changes(
    connection: &mut AsyncPgConnection,
    id: Uuid,
    changes: &UserChanges,
    revoke: RevokeSessions,
    now: DateTime<Utc>,
) -> Result<(UserRow, Vec<Uuid>), TxError> {
    keep_an_admin(connection, id, changes).await?;
    let row: Option<UserRow> = diesel::update(users::table.find(id))
        .set(reserva_sql_support::user_changeset!(users, changes, now))
        .returning(UserRow::as_returning())
        .get_result(connection)
        .await
        .optional()?;
    let Some(row) = row else {
        return Err(TxError::Refused(UserWriteError::NotFound));
    };
    let live = sessions::table
        .filter(sessions::user_id.eq(id))
        .filter(sessions::revoked_at.is_null());
    let revoked = match revoke {
        RevokeSessions::None => Vec::new(),
        RevokeSessions::All => {
            diesel::update(live)
                .set(sessions::revoked_at.eq(now))
                .returning(sessions::id)
                .get_results(connection)
                .await?
        }
        RevokeSessions::AllExcept(kept) => {
            diesel::update(live.filter(sessions::id.ne(kept.as_uuid())))
                .set(sessions::revoked_at.eq(now))
                .returning(sessions::id)
                .get_results(connection)
                .await?
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
        .execute(connection)
        .await?;
    }
    Ok((row, revoked))
}

#[async_trait]
impl UserRepository for PostgresStore {
    async fn insert_user(&self, new_user: NewUser) -> Result<User, UserWriteError> {
        let mut connection = self.connection().await?;
        let row = diesel::insert_into(users::table)
            .values((
                users::id.eq(new_user.id.as_uuid()),
                users::email.eq(new_user.email.as_str()),
                users::username.eq(new_user.username.as_str()),
                users::password_hash.eq(new_user.password_hash.as_phc()),
                users::role.eq(new_user.role.as_str()),
                users::is_active.eq(true),
                users::created_at.eq(new_user.now),
                users::updated_at.eq(new_user.now),
            ))
            .returning(UserRow::as_returning())
            .get_result(&mut connection)
            .await
            .map_err(write_error)?;
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
        let mut connection = self.connection().await?;
        users::table
            .filter(users::email.eq(email.as_str()))
            .select(UserRow::as_select())
            .first(&mut connection)
            .await
            .optional()
            .map_err(query_error)?
            .map(UserRow::into_credentials)
            .transpose()
    }

    async fn find_credentials(
        &self,
        id: UserId,
    ) -> Result<Option<UserCredentials>, DependencyError> {
        let mut connection = self.connection().await?;
        users::table
            .find(id.as_uuid())
            .select(UserRow::as_select())
            .first(&mut connection)
            .await
            .optional()
            .map_err(query_error)?
            .map(UserRow::into_credentials)
            .transpose()
    }

    async fn list_users(&self, query: &UserQuery) -> Result<Vec<User>, DependencyError> {
        let mut connection = self.connection().await?;
        let mut select = users::table
            .select(UserRow::as_select())
            .order(users::id.desc())
            .limit(i64::from(query.limit.get()) + 1)
            .into_boxed();
        if let Some(role) = query.role {
            select = select.filter(users::role.eq(role.as_str()));
        }
        if let Some(before) = query.before {
            select = select.filter(users::id.lt(before.as_uuid()));
        }
        if let Some(search) = query.search.as_deref().filter(|s| !s.is_empty()) {
            let pattern = like_pattern(search);
            select = select.filter(
                users::email
                    .ilike(pattern.clone())
                    .or(users::username.ilike(pattern)),
            );
        }
        let rows: Vec<UserRow> = select.load(&mut connection).await.map_err(query_error)?;
        rows.into_iter().map(UserRow::into_user).collect()
    }

    async fn update_user(
        &self,
        id: UserId,
        changes: &UserChanges,
        revoke: RevokeSessions,
        now: DateTime<Utc>,
    ) -> Result<UpdatedUser, UserWriteError> {
        let mut connection = self.connection().await?;
        let changes = changes.clone();
        let (row, revoked) = connection
            .transaction(async |connection| {
                apply_user_changes(connection, id.as_uuid(), &changes, revoke, now).await
            })
            .await
            .map_err(|error: TxError| error.into_refusal(write_error))?;
        Ok(UpdatedUser {
            user: row.into_user()?,
            revoked_sessions: revoked.into_iter().map(SessionId::from_uuid).collect(),
        })
    }

    async fn users_changed_since(
        &self,
        since: DateTime<Utc>,
    ) -> Result<Vec<(UserId, DateTime<Utc>)>, DependencyError> {
        let mut connection = self.connection().await?;
        let rows: Vec<(Uuid, DateTime<Utc>)> = users::table
            .filter(users::updated_at.ge(since))
            .select((users::id, users::updated_at))
            .load(&mut connection)
            .await
            .map_err(query_error)?;
        Ok(rows
            .into_iter()
            .map(|(id, updated_at)| (UserId::from_uuid(id), updated_at))
            .collect())
    }
}
