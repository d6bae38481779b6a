//! `UserRepository` and `SessionRepository` on PostgreSQL.

use crate::schema::{exam_reservations, refresh_tokens, sessions, users};
use crate::{PostgresStore, query_error};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as QueryError};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use reserva_application::DependencyError;
use reserva_application::ports::accounts::{
    NewSession, NewUser, RefreshRotation, RevokeSessions, SessionRepository, SessionSelector,
    UpdatedUser, UserChanges, UserCredentials, UserQuery, UserRepository, UserWriteError,
};
use reserva_application::ports::security::RefreshTokenHash;
use reserva_domain::accounts::{Email, PasswordHash, SessionId, User, UserId, Username};
use uuid::Uuid;

#[derive(Queryable, Selectable)]
#[diesel(table_name = users, check_for_backend(diesel::pg::Pg))]
struct UserRow {
    id: Uuid,
    email: String,
    username: String,
    password_hash: String,
    role: String,
    is_active: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl UserRow {
    fn into_credentials(self) -> Result<UserCredentials, DependencyError> {
        let corrupt =
            |what: &str| DependencyError::Failed(format!("stored user has an invalid {what}"));
        let user = User {
            id: UserId::from_uuid(self.id),
            email: Email::parse(&self.email).map_err(|_| corrupt("e-mail"))?,
            username: Username::parse(&self.username).map_err(|_| corrupt("username"))?,
            role: self.role.parse().map_err(|_| corrupt("role"))?,
            is_active: self.is_active,
            created_at: self.created_at,
            updated_at: self.updated_at,
        };
        Ok(UserCredentials {
            user,
            password_hash: PasswordHash::from_phc(self.password_hash),
        })
    }

    fn into_user(self) -> Result<User, DependencyError> {
        self.into_credentials().map(|credentials| credentials.user)
    }
}

/// Maps a unique violation to the field it concerns.
fn write_error(error: QueryError) -> UserWriteError {
    if let QueryError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) = &error {
        match info.constraint_name() {
            Some("users_email_key") => return UserWriteError::EmailTaken,
            Some("users_username_lower_key") => return UserWriteError::UsernameTaken,
            _ => {}
        }
    }
    UserWriteError::Dependency(query_error(error))
}

/// `%`, `_` and `\` match themselves in the search.
pub(crate) fn like_pattern(search: &str) -> String {
    let mut pattern = String::with_capacity(search.len() + 2);
    pattern.push('%');
    for character in search.chars() {
        if matches!(character, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(character);
    }
    pattern.push('%');
    pattern
}

enum TxError {
    Write(UserWriteError),
    Query(QueryError),
}

impl From<QueryError> for TxError {
    fn from(error: QueryError) -> Self {
        Self::Query(error)
    }
}

impl From<TxError> for UserWriteError {
    fn from(error: TxError) -> Self {
        match error {
            TxError::Write(error) => error,
            TxError::Query(error) => write_error(error),
        }
    }
}

async fn apply_user_changes(
    connection: &mut AsyncPgConnection,
    id: Uuid,
    changes: &UserChanges,
    revoke: RevokeSessions,
    now: DateTime<Utc>,
) -> Result<(UserRow, Vec<Uuid>), TxError> {
    let row: Option<UserRow> = diesel::update(users::table.find(id))
        .set((
            changes
                .username
                .as_ref()
                .map(|username| users::username.eq(username.as_str().to_owned())),
            changes
                .password_hash
                .as_ref()
                .map(|hash| users::password_hash.eq(hash.as_phc().to_owned())),
            changes.role.map(|role| users::role.eq(role.as_str())),
            changes.is_active.map(|active| users::is_active.eq(active)),
            users::updated_at.eq(now),
        ))
        .returning(UserRow::as_returning())
        .get_result(connection)
        .await
        .optional()?;
    let Some(row) = row else {
        return Err(TxError::Write(UserWriteError::NotFound));
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
        // A deactivated account's pending requests go with it (PRODUCT.md, DELETE /users/me).
        diesel::update(
            exam_reservations::table
                .filter(exam_reservations::user_id.eq(id))
                .filter(exam_reservations::status.eq("pending")),
        )
        .set((
            exam_reservations::status.eq("cancelled"),
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
            .await?;
        Ok(UpdatedUser {
            user: row.into_user()?,
            revoked_sessions: revoked.into_iter().map(SessionId::from_uuid).collect(),
        })
    }
}

/// What a presented refresh token is, read under a row lock.
#[derive(Queryable)]
struct PresentedToken {
    session_id: Uuid,
    expires_at: DateTime<Utc>,
    used_at: Option<DateTime<Utc>>,
}

async fn rotate(
    connection: &mut AsyncPgConnection,
    presented: &str,
    next: &str,
    next_expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<RefreshRotation, QueryError> {
    // The row lock makes concurrent presentations of one token queue up here; each then sees
    // what the one before it did.
    let token: Option<PresentedToken> = refresh_tokens::table
        .find(presented)
        .select((
            refresh_tokens::session_id,
            refresh_tokens::expires_at,
            refresh_tokens::used_at,
        ))
        .for_update()
        .first(connection)
        .await
        .optional()?;
    let Some(token) = token else {
        return Ok(RefreshRotation::Rejected);
    };
    if token.used_at.is_some() {
        diesel::update(
            sessions::table
                .find(token.session_id)
                .filter(sessions::revoked_at.is_null()),
        )
        .set(sessions::revoked_at.eq(now))
        .execute(connection)
        .await?;
        return Ok(RefreshRotation::ReuseDetected {
            session_id: SessionId::from_uuid(token.session_id),
        });
    }
    let owner: Option<(Uuid, Option<DateTime<Utc>>, bool)> = sessions::table
        .inner_join(users::table)
        .filter(sessions::id.eq(token.session_id))
        .select((users::id, sessions::revoked_at, users::is_active))
        .first(connection)
        .await
        .optional()?;
    let Some((user_id, None, true)) = owner else {
        return Ok(RefreshRotation::Rejected);
    };
    if token.expires_at <= now {
        return Ok(RefreshRotation::Rejected);
    }
    diesel::update(refresh_tokens::table.find(presented))
        .set(refresh_tokens::used_at.eq(now))
        .execute(connection)
        .await?;
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::token_hash.eq(next),
            refresh_tokens::session_id.eq(token.session_id),
            refresh_tokens::expires_at.eq(next_expires_at),
            refresh_tokens::created_at.eq(now),
        ))
        .execute(connection)
        .await?;
    Ok(RefreshRotation::Rotated {
        user_id: UserId::from_uuid(user_id),
        session_id: SessionId::from_uuid(token.session_id),
    })
}

#[async_trait]
impl SessionRepository for PostgresStore {
    async fn start_session(&self, session: NewSession) -> Result<(), DependencyError> {
        let mut connection = self.connection().await?;
        connection
            .transaction(async |connection| {
                diesel::insert_into(sessions::table)
                    .values((
                        sessions::id.eq(session.id.as_uuid()),
                        sessions::user_id.eq(session.user_id.as_uuid()),
                        sessions::created_at.eq(session.now),
                    ))
                    .execute(connection)
                    .await?;
                diesel::insert_into(refresh_tokens::table)
                    .values((
                        refresh_tokens::token_hash.eq(session.refresh_token.as_str()),
                        refresh_tokens::session_id.eq(session.id.as_uuid()),
                        refresh_tokens::expires_at.eq(session.refresh_expires_at),
                        refresh_tokens::created_at.eq(session.now),
                    ))
                    .execute(connection)
                    .await?;
                Ok::<_, QueryError>(())
            })
            .await
            .map_err(query_error)
    }

    async fn rotate_refresh_token(
        &self,
        presented: &RefreshTokenHash,
        next: &RefreshTokenHash,
        next_expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<RefreshRotation, DependencyError> {
        let mut connection = self.connection().await?;
        let (presented, next) = (presented.as_str().to_owned(), next.as_str().to_owned());
        connection
            .transaction(async |connection| {
                rotate(connection, &presented, &next, next_expires_at, now).await
            })
            .await
            .map_err(query_error)
    }

    async fn revoke_session(
        &self,
        user_id: UserId,
        selector: &SessionSelector,
        now: DateTime<Utc>,
    ) -> Result<Option<SessionId>, DependencyError> {
        let mut connection = self.connection().await?;
        let session: Option<Uuid> = match selector {
            SessionSelector::Id(id) => Some(id.as_uuid()),
            SessionSelector::RefreshToken(hash) => refresh_tokens::table
                .find(hash.as_str())
                .select(refresh_tokens::session_id)
                .first(&mut connection)
                .await
                .optional()
                .map_err(query_error)?,
        };
        let Some(session) = session else {
            return Ok(None);
        };
        let owned = sessions::table
            .filter(sessions::id.eq(session))
            .filter(sessions::user_id.eq(user_id.as_uuid()));
        let found: Option<Uuid> = owned
            .select(sessions::id)
            .first(&mut connection)
            .await
            .optional()
            .map_err(query_error)?;
        if found.is_some() {
            diesel::update(owned.filter(sessions::revoked_at.is_null()))
                .set(sessions::revoked_at.eq(now))
                .execute(&mut connection)
                .await
                .map_err(query_error)?;
        }
        Ok(found.map(SessionId::from_uuid))
    }
}
