//! `UserRepository` and `SessionRepository` on SQLite.

use crate::schema::{exam_reservations, refresh_tokens, sessions, users};
use crate::{SqliteStore, instant, micros, query_error, uuid};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as QueryError};
use reserva_application::DependencyError;
use reserva_application::ports::accounts::{
    NewSession, NewUser, RefreshRotation, RevokeSessions, SessionRepository, SessionSelector,
    UpdatedUser, UserChanges, UserCredentials, UserQuery, UserRepository, UserWriteError,
};
use reserva_application::ports::security::RefreshTokenHash;
use reserva_domain::accounts::{Email, PasswordHash, SessionId, User, UserId, Username};

#[derive(Queryable, Selectable)]
#[diesel(table_name = users, check_for_backend(diesel::sqlite::Sqlite))]
struct UserRow {
    id: String,
    email: String,
    username: String,
    password_hash: String,
    role: String,
    is_active: bool,
    created_at: i64,
    updated_at: i64,
}

impl UserRow {
    fn into_credentials(self) -> Result<UserCredentials, DependencyError> {
        let corrupt =
            |what: &str| DependencyError::Failed(format!("stored user has an invalid {what}"));
        let user = User {
            id: UserId::from_uuid(uuid(&self.id)?),
            email: Email::parse(&self.email).map_err(|_| corrupt("e-mail"))?,
            username: Username::parse(&self.username).map_err(|_| corrupt("username"))?,
            role: self.role.parse().map_err(|_| corrupt("role"))?,
            is_active: self.is_active,
            created_at: instant(self.created_at)?,
            updated_at: instant(self.updated_at)?,
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

/// Failures inside a write: a refusal, or the database itself.
enum TxError {
    Write(UserWriteError),
    Query(QueryError),
}

impl From<QueryError> for TxError {
    fn from(error: QueryError) -> Self {
        Self::Query(error)
    }
}

impl From<DependencyError> for TxError {
    fn from(error: DependencyError) -> Self {
        Self::Write(UserWriteError::Dependency(error))
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

/// Maps a unique violation to the field it concerns. SQLite names the column or the index in its
/// message: `UNIQUE constraint failed: users.email`, `… index 'users_username_lower_key'`.
fn write_error(error: QueryError) -> UserWriteError {
    if let QueryError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) = &error {
        let message = info.message();
        if message.contains("users.email") {
            return UserWriteError::EmailTaken;
        }
        if message.contains("users_username_lower_key") {
            return UserWriteError::UsernameTaken;
        }
    }
    UserWriteError::Dependency(query_error(error))
}

/// `%`, `_` and `\` match themselves in the search (used with `ESCAPE '\'`).
fn like_pattern(search: &str) -> String {
    let mut pattern = String::with_capacity(search.len() + 2);
    pattern.push('%');
    for character in search.to_lowercase().chars() {
        if matches!(character, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(character);
    }
    pattern.push('%');
    pattern
}

fn apply_user_changes(
    connection: &mut SqliteConnection,
    id: &str,
    changes: &UserChanges,
    revoke: RevokeSessions,
    now: i64,
) -> Result<(UserRow, Vec<String>), TxError> {
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
        .optional()?;
    let Some(row) = row else {
        return Err(TxError::Write(UserWriteError::NotFound));
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
            .map_err(UserWriteError::from)?;
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
                    let pattern = like_pattern(search);
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
            .map_err(UserWriteError::from)?;
        Ok(UpdatedUser {
            user: row.into_user()?,
            revoked_sessions: revoked
                .iter()
                .map(|id| uuid(id).map(SessionId::from_uuid))
                .collect::<Result<_, _>>()?,
        })
    }
}

fn rotate(
    connection: &mut SqliteConnection,
    presented: &str,
    next: &str,
    next_expires_at: i64,
    now: i64,
) -> Result<RefreshRotation, TxError> {
    // The immediate transaction makes this the only writer: no row locks are needed.
    let token: Option<(String, i64, Option<i64>)> = refresh_tokens::table
        .find(presented)
        .select((
            refresh_tokens::session_id,
            refresh_tokens::expires_at,
            refresh_tokens::used_at,
        ))
        .first(connection)
        .optional()?;
    let Some((session_id, expires_at, used_at)) = token else {
        return Ok(RefreshRotation::Rejected);
    };
    let session = SessionId::from_uuid(uuid(&session_id)?);
    if used_at.is_some() {
        diesel::update(
            sessions::table
                .find(&session_id)
                .filter(sessions::revoked_at.is_null()),
        )
        .set(sessions::revoked_at.eq(now))
        .execute(connection)?;
        return Ok(RefreshRotation::ReuseDetected {
            session_id: session,
        });
    }
    let owner: Option<(String, Option<i64>, bool)> = sessions::table
        .inner_join(users::table)
        .filter(sessions::id.eq(&session_id))
        .select((users::id, sessions::revoked_at, users::is_active))
        .first(connection)
        .optional()?;
    let Some((user_id, None, true)) = owner else {
        return Ok(RefreshRotation::Rejected);
    };
    if expires_at <= now {
        return Ok(RefreshRotation::Rejected);
    }
    diesel::update(refresh_tokens::table.find(presented))
        .set(refresh_tokens::used_at.eq(now))
        .execute(connection)?;
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::token_hash.eq(next),
            refresh_tokens::session_id.eq(&session_id),
            refresh_tokens::expires_at.eq(next_expires_at),
            refresh_tokens::created_at.eq(now),
        ))
        .execute(connection)?;
    Ok(RefreshRotation::Rotated {
        user_id: UserId::from_uuid(uuid(&user_id)?),
        session_id: session,
    })
}

fn dependency(error: TxError) -> DependencyError {
    match error {
        TxError::Query(error) => query_error(error),
        TxError::Write(UserWriteError::Dependency(error)) => error,
        TxError::Write(other) => DependencyError::Failed(other.to_string()),
    }
}

#[async_trait]
impl SessionRepository for SqliteStore {
    async fn start_session(&self, session: NewSession) -> Result<(), DependencyError> {
        self.write(move |connection| {
            let id = session.id.as_uuid().to_string();
            diesel::insert_into(sessions::table)
                .values((
                    sessions::id.eq(&id),
                    sessions::user_id.eq(session.user_id.as_uuid().to_string()),
                    sessions::created_at.eq(micros(session.now)),
                ))
                .execute(connection)?;
            diesel::insert_into(refresh_tokens::table)
                .values((
                    refresh_tokens::token_hash.eq(session.refresh_token.as_str()),
                    refresh_tokens::session_id.eq(&id),
                    refresh_tokens::expires_at.eq(micros(session.refresh_expires_at)),
                    refresh_tokens::created_at.eq(micros(session.now)),
                ))
                .execute(connection)?;
            Ok::<_, TxError>(())
        })
        .await
        .map_err(dependency)
    }

    async fn rotate_refresh_token(
        &self,
        presented: &RefreshTokenHash,
        next: &RefreshTokenHash,
        next_expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<RefreshRotation, DependencyError> {
        let (presented, next) = (presented.as_str().to_owned(), next.as_str().to_owned());
        self.write(move |connection| {
            rotate(
                connection,
                &presented,
                &next,
                micros(next_expires_at),
                micros(now),
            )
        })
        .await
        .map_err(dependency)
    }

    async fn revoke_session(
        &self,
        user_id: UserId,
        selector: &SessionSelector,
        now: DateTime<Utc>,
    ) -> Result<Option<SessionId>, DependencyError> {
        let selector = selector.clone();
        let found: Option<String> = self
            .write(move |connection| {
                let session: Option<String> = match selector {
                    SessionSelector::Id(id) => Some(id.as_uuid().to_string()),
                    SessionSelector::RefreshToken(hash) => refresh_tokens::table
                        .find(hash.as_str())
                        .select(refresh_tokens::session_id)
                        .first(connection)
                        .optional()?,
                };
                let Some(session) = session else {
                    return Ok(None);
                };
                let owned = sessions::table
                    .filter(sessions::id.eq(session))
                    .filter(sessions::user_id.eq(user_id.as_uuid().to_string()));
                let found: Option<String> = owned
                    .clone()
                    .select(sessions::id)
                    .first(connection)
                    .optional()?;
                if found.is_some() {
                    diesel::update(owned.filter(sessions::revoked_at.is_null()))
                        .set(sessions::revoked_at.eq(micros(now)))
                        .execute(connection)?;
                }
                Ok::<_, TxError>(found)
            })
            .await
            .map_err(dependency)?;
        found
            .map(|id| uuid(&id).map(SessionId::from_uuid))
            .transpose()
    }
}
