//! Sessions and their rotating refresh tokens: a rotation, its repeat within the grace window,
//! and reuse, decided under the presented token's row lock.

use crate::schema::{refresh_tokens, sessions, users};
use crate::{PostgresStore, query_error};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::result::Error as QueryError;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use reserva_application::DependencyError;
use reserva_application::ports::accounts::{
    NewSession, RefreshRotation, RotationRequest, SessionRepository, SessionSelector,
};
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
    request: &RotationRequest,
) -> Result<RefreshRotation, QueryError> {
    // The row lock makes concurrent presentations of one token queue up here; each then sees
    // what the one before it did.
    let token: Option<PresentedToken> = refresh_tokens::table
        .find(request.presented.as_str())
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
    let session_id = SessionId::from_uuid(token.session_id);
    if let Some(used_at) = token.used_at {
        if request.within_grace(used_at)
            && let Some(user_id) = repeated(connection, token.session_id, request, used_at).await?
        {
            return Ok(RefreshRotation::Repeated {
                user_id,
                session_id,
                rotated_at: used_at,
            });
        }
        diesel::update(
            sessions::table
                .find(token.session_id)
                .filter(sessions::revoked_at.is_null()),
        )
        .set(sessions::revoked_at.eq(request.now))
        .execute(connection)
        .await?;
        return Ok(RefreshRotation::ReuseDetected { session_id });
    }
    let Some(user_id) = live_owner(connection, token.session_id).await? else {
        return Ok(RefreshRotation::Rejected);
    };
    if token.expires_at <= request.now {
        return Ok(RefreshRotation::Rejected);
    }
    diesel::update(refresh_tokens::table.find(request.presented.as_str()))
        .set(refresh_tokens::used_at.eq(request.now))
        .execute(connection)
        .await?;
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::token_hash.eq(request.next.as_str()),
            refresh_tokens::session_id.eq(token.session_id),
            refresh_tokens::expires_at.eq(request.next_expires_at),
            refresh_tokens::created_at.eq(request.now),
        ))
        .execute(connection)
        .await?;
    Ok(RefreshRotation::Rotated {
        user_id,
        session_id,
    })
}

/// The owner of the session if it is unrevoked and its user active.
async fn live_owner(
    connection: &mut AsyncPgConnection,
    session_id: Uuid,
) -> Result<Option<UserId>, QueryError> {
    let owner: Option<(Uuid, Option<DateTime<Utc>>, bool)> = sessions::table
        .inner_join(users::table)
        .filter(sessions::id.eq(session_id))
        .select((users::id, sessions::revoked_at, users::is_active))
        .first(connection)
        .await
        .optional()?;
    Ok(match owner {
        Some((user_id, None, true)) => Some(UserId::from_uuid(user_id)),
        _ => None,
    })
}

/// The owner, if `request.next` is the token stored by the rotation that used the presented one
/// at `used_at` (same session, created at that instant), still unused and unexpired, in a live
/// session: the presentation repeats that rotation.
async fn repeated(
    connection: &mut AsyncPgConnection,
    session_id: Uuid,
    request: &RotationRequest,
    used_at: DateTime<Utc>,
) -> Result<Option<UserId>, QueryError> {
    let successor: Option<String> = refresh_tokens::table
        .find(request.next.as_str())
        .filter(refresh_tokens::session_id.eq(session_id))
        .filter(refresh_tokens::created_at.eq(used_at))
        .filter(refresh_tokens::used_at.is_null())
        .filter(refresh_tokens::expires_at.gt(request.now))
        .select(refresh_tokens::token_hash)
        .first(connection)
        .await
        .optional()?;
    match successor {
        Some(_) => live_owner(connection, session_id).await,
        None => Ok(None),
    }
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
        request: &RotationRequest,
    ) -> Result<RefreshRotation, DependencyError> {
        let mut connection = self.connection().await?;
        connection
            .transaction(async |connection| rotate(connection, request).await)
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

    async fn is_session_live(
        &self,
        user_id: UserId,
        session: SessionId,
    ) -> Result<bool, DependencyError> {
        let mut connection = self.connection().await?;
        let live: Option<Uuid> = sessions::table
            .filter(sessions::id.eq(session.as_uuid()))
            .filter(sessions::user_id.eq(user_id.as_uuid()))
            .filter(sessions::revoked_at.is_null())
            .select(sessions::id)
            .first(&mut connection)
            .await
            .optional()
            .map_err(query_error)?;
        Ok(live.is_some())
    }

    async fn sessions_revoked_since(
        &self,
        since: DateTime<Utc>,
    ) -> Result<Vec<(SessionId, DateTime<Utc>)>, DependencyError> {
        let mut connection = self.connection().await?;
        let rows: Vec<(Uuid, Option<DateTime<Utc>>)> = sessions::table
            .filter(sessions::revoked_at.ge(since))
            .select((sessions::id, sessions::revoked_at))
            .load(&mut connection)
            .await
            .map_err(query_error)?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, revoked_at)| Some((SessionId::from_uuid(id), revoked_at?)))
            .collect())
    }
}
