//! `WaitingRoom`: one concert's room in nine keys under the hash tag `{room:<concert>}` (so a
//! Cluster keeps them in one slot), `{prefix}{room:<concert>}:meta` and its siblings, and every
//! port call one run of `waiting_room.lua`, atomic across instances. Arrival order is a
//! counter incremented by the script; time is the caller's `now` (never Redis `TIME`), in
//! microseconds, which a sorted set's double scores hold exactly.
//!
//! Every call refreshes the expiry of all the room's keys, so a room nobody calls any more
//! disappears as a whole; a room whose keys expired answers `InventoryUnknown` and is reloaded.

use crate::RedisSharedState;
use crate::client::{millis, redis_error};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deadpool_redis::redis::{Script, ScriptInvocation};
use reserva_application::DependencyError;
use reserva_application::ports::waiting_room::{
    PlaceStatus, QueuePlace, QueueToken, RoomError, RoomInventory, RoomRules, WaitingRoom,
};
use reserva_domain::accounts::UserId;
use reserva_domain::tickets::{Availability, ConcertId, HoldId};
use std::sync::LazyLock;
use std::time::Duration;

/// Every operation of the room; see the file for its keys, arguments and answers.
static ROOM: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("waiting_room.lua")));

/// The room's keys, in the order the script reads them.
const PARTS: [&str; 9] = [
    "meta", "waiting", "seen", "active", "users", "owners", "holds", "sold", "admitted",
];

/// Key expiry for a room whose rules no call has brought yet (inventory calls carry none).
const UNRULED_TTL: Duration = Duration::from_secs(3600);
/// The shortest key expiry, however short the room's periods.
const MIN_TTL: Duration = Duration::from_secs(60);

/// A room call's answer: code, token, position, active until (µs), free seats, admitted.
type Answer = (i64, String, i64, i64, i64, i64);

fn micros(duration: Duration) -> i64 {
    i64::try_from(duration.as_micros()).unwrap_or(i64::MAX)
}

/// How long the keys of a room outlive its last call: a few of its periods.
fn key_ttl(rules: &RoomRules) -> Duration {
    let periods = rules.active_ttl.saturating_add(rules.idle_timeout);
    periods
        .saturating_mul(3)
        .saturating_add(rules.rate_window)
        .max(MIN_TTL)
}

fn count(value: i64, what: &str) -> Result<u64, DependencyError> {
    u64::try_from(value)
        .map_err(|_| DependencyError::Failed(format!("waiting room returned {what} {value}")))
}

impl RedisSharedState {
    fn room_script(&self, concert: ConcertId, operation: &str) -> ScriptInvocation<'static> {
        let mut invocation = ROOM.prepare_invoke();
        for part in PARTS {
            invocation.key(format!(
                "{}{{room:{concert}}}:{part}",
                self.client.key_prefix
            ));
        }
        invocation.arg(operation);
        invocation
    }

    /// A room call (join, poll, finish) on `concert`'s room with its rules and `user`, `token`.
    fn room_call(
        &self,
        operation: &str,
        concert: ConcertId,
        token: &QueueToken,
        user: UserId,
        now: DateTime<Utc>,
        rules: &RoomRules,
    ) -> ScriptInvocation<'static> {
        let mut invocation = self.room_script(concert, operation);
        invocation
            .arg(now.timestamp_micros())
            .arg(rules.max_active)
            .arg(rules.admission_margin)
            .arg(micros(rules.active_ttl))
            .arg(micros(rules.idle_timeout))
            .arg(micros(rules.rate_window))
            .arg(millis(key_ttl(rules)))
            .arg(user.to_string())
            .arg(token.as_str());
        invocation
    }

    /// An inventory call on `concert` with its own arguments.
    async fn inventory_call(
        &self,
        what: &str,
        concert: ConcertId,
        operation: &str,
        arguments: Vec<String>,
    ) -> Result<(), DependencyError> {
        let mut invocation = self.room_script(concert, operation);
        invocation.arg(millis(UNRULED_TTL));
        for argument in arguments {
            invocation.arg(argument);
        }
        self.client
            .bounded(what, |mut connection| async move {
                invocation
                    .invoke_async::<i64>(&mut connection)
                    .await
                    .map(drop)
                    .map_err(|error| redis_error(&error))
            })
            .await
    }

    async fn place_call(
        &self,
        what: &str,
        invocation: ScriptInvocation<'static>,
        user: UserId,
    ) -> Result<Option<QueuePlace>, RoomError> {
        let answer: Answer = self
            .client
            .bounded(what, |mut connection| async move {
                invocation
                    .invoke_async(&mut connection)
                    .await
                    .map_err(|error| redis_error(&error))
            })
            .await?;
        place_of(answer, user)
    }
}

fn place_of(answer: Answer, user: UserId) -> Result<Option<QueuePlace>, RoomError> {
    let (code, token, position, until, free, recent) = answer;
    let status = match code {
        -2 => return Err(RoomError::Closed),
        -1 => return Err(RoomError::InventoryUnknown),
        0 => return Ok(None),
        1 => PlaceStatus::Waiting {
            position: count(position, "position")?,
        },
        2 => PlaceStatus::Active {
            until: DateTime::from_timestamp_micros(until).ok_or_else(|| {
                DependencyError::Failed(format!("waiting room returned instant {until}"))
            })?,
        },
        other => {
            return Err(
                DependencyError::Failed(format!("waiting room returned code {other}")).into(),
            );
        }
    };
    let token = QueueToken::parse(&token)
        .ok_or_else(|| DependencyError::Failed(format!("waiting room returned token {token:?}")))?;
    let free = u32::try_from(count(free, "free seats")?).unwrap_or(u32::MAX);
    Ok(Some(QueuePlace {
        token,
        user_id: user,
        status,
        availability: Availability::of(free),
        admitted_recently: count(recent, "admission count")?,
    }))
}

#[async_trait]
impl WaitingRoom for RedisSharedState {
    async fn join(
        &self,
        concert: ConcertId,
        user: UserId,
        new_token: QueueToken,
        now: DateTime<Utc>,
        rules: RoomRules,
    ) -> Result<QueuePlace, RoomError> {
        if new_token.concert() != concert {
            return Err(DependencyError::Failed(format!(
                "a token for another concert was offered to the room of {concert}"
            ))
            .into());
        }
        let invocation = self.room_call("join", concert, &new_token, user, now, &rules);
        self.place_call("waiting room join", invocation, user)
            .await?
            .ok_or_else(|| DependencyError::Failed("waiting room join gave no place".into()).into())
    }

    async fn poll(
        &self,
        token: &QueueToken,
        user: UserId,
        now: DateTime<Utc>,
        rules: RoomRules,
    ) -> Result<Option<QueuePlace>, RoomError> {
        let invocation = self.room_call("poll", token.concert(), token, user, now, &rules);
        self.place_call("waiting room poll", invocation, user).await
    }

    async fn finish(
        &self,
        token: &QueueToken,
        user: UserId,
        now: DateTime<Utc>,
        rules: RoomRules,
    ) -> Result<bool, DependencyError> {
        let invocation = self.room_call("finish", token.concert(), token, user, now, &rules);
        let finished: i64 = self
            .client
            .bounded("waiting room finish", |mut connection| async move {
                invocation
                    .invoke_async(&mut connection)
                    .await
                    .map_err(|error| redis_error(&error))
            })
            .await?;
        Ok(finished == 1)
    }

    async fn set_inventory(
        &self,
        concert: ConcertId,
        inventory: &RoomInventory,
    ) -> Result<(), DependencyError> {
        let mut arguments = Vec::with_capacity(1 + 2 * inventory.holds.len());
        arguments.push(inventory.unsold_seats.to_string());
        for (hold, expires_at) in &inventory.holds {
            arguments.push(hold.to_string());
            arguments.push(expires_at.timestamp_micros().to_string());
        }
        self.inventory_call("waiting room inventory", concert, "inventory", arguments)
            .await
    }

    async fn hold_recorded(
        &self,
        concert: ConcertId,
        hold: HoldId,
        expires_at: DateTime<Utc>,
    ) -> Result<(), DependencyError> {
        let arguments = vec![hold.to_string(), expires_at.timestamp_micros().to_string()];
        self.inventory_call("waiting room hold", concert, "hold", arguments)
            .await
    }

    async fn hold_released(&self, concert: ConcertId, hold: HoldId) -> Result<(), DependencyError> {
        self.inventory_call(
            "waiting room release",
            concert,
            "release",
            vec![hold.to_string()],
        )
        .await
    }

    async fn sale_recorded(&self, concert: ConcertId, hold: HoldId) -> Result<(), DependencyError> {
        self.inventory_call("waiting room sale", concert, "sale", vec![hold.to_string()])
            .await
    }

    async fn close(&self, concert: ConcertId) -> Result<(), DependencyError> {
        self.inventory_call("waiting room close", concert, "close", Vec::new())
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_outlive_a_few_periods_and_never_less_than_a_minute() {
        let rules = RoomRules {
            max_active: 10,
            admission_margin: 1,
            active_ttl: Duration::from_secs(600),
            idle_timeout: Duration::from_secs(120),
            rate_window: Duration::from_secs(60),
        };
        assert_eq!(key_ttl(&rules), Duration::from_secs(3 * 720 + 60));
        let short = RoomRules {
            active_ttl: Duration::from_secs(1),
            idle_timeout: Duration::from_secs(1),
            rate_window: Duration::ZERO,
            ..rules
        };
        assert_eq!(key_ttl(&short), MIN_TTL);
    }
}
