//! Sessions and their rotating refresh tokens: a rotation, its repeat within the grace window,
//! and reuse, decided inside one `BEGIN IMMEDIATE` transaction.

use super::TxError;
use crate::schema::{refresh_tokens, sessions, users};
use crate::{SqliteStore, instant, micros, query_error, uuid};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use reserva_application::DependencyError;
use reserva_application::ports::accounts::{
    NewSession, RefreshRotation, RotationRequest, SessionRepository, SessionSelector,
    UserWriteError,
};
use reserva_domain::accounts::{SessionId, UserId};

fn rotate(
    connection: &mut SqliteConnection,
    request: &RotationRequest,
) -> Result<RefreshRotation, TxError> {
    let now = micros(request.now);
    // The immediate transaction makes this the only writer: no row locks are needed.
    let token: Option<(String, i64, Option<i64>)> = refresh_tokens::table
        .find(request.presented.as_str())
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
    if let Some(used_at) = used_at {
        let rotated_at = instant(used_at)?;
        if request.within_grace(rotated_at)
            && let Some(user_id) = repeated(connection, &session_id, request, used_at)?
        {
            return Ok(RefreshRotation::Repeated {
                user_id,
                session_id: session,
                rotated_at,
            });
        }
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
    let Some(user_id) = live_owner(connection, &session_id)? else {
        return Ok(RefreshRotation::Rejected);
    };
    if expires_at <= now {
        return Ok(RefreshRotation::Rejected);
    }
    diesel::update(refresh_tokens::table.find(request.presented.as_str()))
        .set(refresh_tokens::used_at.eq(now))
        .execute(connection)?;
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::token_hash.eq(request.next.as_str()),
            refresh_tokens::session_id.eq(&session_id),
            refresh_tokens::expires_at.eq(micros(request.next_expires_at)),
            refresh_tokens::created_at.eq(now),
        ))
        .execute(connection)?;
    Ok(RefreshRotation::Rotated {
        user_id,
        session_id: session,
    })
}

/// The owner of the session if it is unrevoked and its user active.
fn live_owner(
    connection: &mut SqliteConnection,
    session_id: &str,
) -> Result<Option<UserId>, TxError> {
    let owner: Option<(String, Option<i64>, bool)> = sessions::table
        .inner_join(users::table)
        .filter(sessions::id.eq(session_id))
        .select((users::id, sessions::revoked_at, users::is_active))
        .first(connection)
        .optional()?;
    let Some((user_id, None, true)) = owner else {
        return Ok(None);
    };
    Ok(Some(UserId::from_uuid(uuid(&user_id)?)))
}

/// The owner, if `request.next` is the token stored by the rotation that used the presented one
/// at `used_at` (same session, created at that instant), still unused and unexpired, in a live
/// session: the presentation repeats that rotation.
fn repeated(
    connection: &mut SqliteConnection,
    session_id: &str,
    request: &RotationRequest,
    used_at: i64,
) -> Result<Option<UserId>, TxError> {
    let successor: Option<String> = refresh_tokens::table
        .find(request.next.as_str())
        .filter(refresh_tokens::session_id.eq(session_id))
        .filter(refresh_tokens::created_at.eq(used_at))
        .filter(refresh_tokens::used_at.is_null())
        .filter(refresh_tokens::expires_at.gt(micros(request.now)))
        .select(refresh_tokens::token_hash)
        .first(connection)
        .optional()?;
    match successor {
        Some(_) => live_owner(connection, session_id),
        None => Ok(None),
    }
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
        request: &RotationRequest,
    ) -> Result<RefreshRotation, DependencyError> {
        let request = request.clone();
        self.write(move |connection| rotate(connection, &request))
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

    async fn is_session_live(
        &self,
        user_id: UserId,
        session: SessionId,
    ) -> Result<bool, DependencyError> {
        let live: Option<String> = self
            .read(move |connection| {
                sessions::table
                    .filter(sessions::id.eq(session.as_uuid().to_string()))
                    .filter(sessions::user_id.eq(user_id.as_uuid().to_string()))
                    .filter(sessions::revoked_at.is_null())
                    .select(sessions::id)
                    .first(connection)
                    .optional()
            })
            .await?;
        Ok(live.is_some())
    }

    async fn sessions_revoked_since(
        &self,
        since: DateTime<Utc>,
    ) -> Result<Vec<(SessionId, DateTime<Utc>)>, DependencyError> {
        let since = micros(since);
        let rows: Vec<(String, Option<i64>)> = self
            .read(move |connection| {
                sessions::table
                    .filter(sessions::revoked_at.ge(since))
                    .select((sessions::id, sessions::revoked_at))
                    .load(connection)
            })
            .await?;
        rows.into_iter()
            .filter_map(|(id, revoked_at)| Some((id, revoked_at?)))
            .map(|(id, revoked_at)| Ok((SessionId::from_uuid(uuid(&id)?), instant(revoked_at)?)))
            .collect()
    }
}
