//! Sessions and their rotating refresh tokens.

use crate::schema::{refresh_tokens, sessions, users};
use crate::{PostgresStore, query_error};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::result::Error as QueryError;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use reserva_application::DependencyError;
use reserva_application::ports::accounts::{
    NewSession, RefreshRotation, SessionRepository, SessionSelector,
};
use reserva_application::ports::security::RefreshTokenHash;
use reserva_domain::accounts::{SessionId, UserId};
use uuid::Uuid;

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
