//! `UserRepository` and `SessionRepository` on SQLite.

mod sessions;
mod users;

use crate::{instant, query_error, uuid};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as QueryError};
use reserva_application::DependencyError;
use reserva_application::ports::accounts::{UserCredentials, UserWriteError};
use reserva_domain::accounts::User;
use reserva_sql_support::accounts::StoredUser;

/// A transaction of this module that failed.
type TxError = reserva_sql_support::TxError<UserWriteError>;

#[derive(Queryable, Selectable)]
#[diesel(table_name = crate::schema::users, check_for_backend(diesel::sqlite::Sqlite))]
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
        StoredUser {
            id: uuid(&self.id)?,
            email: self.email,
            username: self.username,
            password_hash: self.password_hash,
            role: self.role,
            is_active: self.is_active,
            created_at: instant(self.created_at)?,
            updated_at: instant(self.updated_at)?,
        }
        .into_credentials()
    }

    fn into_user(self) -> Result<User, DependencyError> {
        self.into_credentials().map(|credentials| credentials.user)
    }
}

/// The port's error for a failed write.
fn refusal(error: TxError) -> UserWriteError {
    error.into_refusal(write_error)
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
