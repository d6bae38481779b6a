//! `UserRepository` and `SessionRepository` on PostgreSQL.

mod sessions;
mod users;

use crate::query_error;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as QueryError};
use reserva_application::DependencyError;
use reserva_application::ports::accounts::{UserCredentials, UserWriteError};
use reserva_domain::accounts::User;
use reserva_sql_support::accounts::StoredUser;
use uuid::Uuid;

/// A transaction of this module that failed.
type TxError = reserva_sql_support::TxError<UserWriteError>;

#[derive(Queryable, Selectable)]
#[diesel(table_name = crate::schema::users, check_for_backend(diesel::pg::Pg))]
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
        StoredUser {
            id: self.id,
            email: self.email,
            username: self.username,
            password_hash: self.password_hash,
            role: self.role,
            is_active: self.is_active,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
        .into_credentials()
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
