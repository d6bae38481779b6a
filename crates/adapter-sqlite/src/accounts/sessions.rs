//! Sessions and their rotating refresh tokens.

use super::TxError;
use crate::schema::{refresh_tokens, sessions, users};
use crate::{SqliteStore, micros, query_error, uuid};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use reserva_application::DependencyError;
use reserva_application::ports::accounts::{
    NewSession, RefreshRotation, SessionRepository, SessionSelector, UserWriteError,
};
use reserva_application::ports::security::RefreshTokenHash;
use reserva_domain::accounts::{SessionId, UserId};

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
        TxError::Refused(UserWriteError::Dependency(error)) => error,
        TxError::Refused(other) => DependencyError::Failed(other.to_string()),
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
