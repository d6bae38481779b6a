//! What the Redis waiting room does beyond the port's contract: its keys (prefix, hash tag,
//! expiry), a room whose keys expired asking to be reloaded, and a Redis that went away.
//! Runs against a real Redis (`TEST_REDIS_URL`, default `redis://127.0.0.1:6379`).

#![expect(clippy::unwrap_used)]

mod support;

use chrono::Utc;
use deadpool_redis::redis;
use reserva_adapter_redis::RedisSettings;
use reserva_application::DependencyError;
use reserva_application::ports::waiting_room::{
    QueueToken, RoomError, RoomInventory, RoomRules, WaitingRoom,
};
use reserva_domain::accounts::UserId;
use reserva_domain::tickets::{ConcertId, HoldId};
use std::time::Duration;
use uuid::Uuid;

const RULES: RoomRules = RoomRules {
    max_active: 1,
    admission_margin: 10,
    active_ttl: Duration::from_secs(600),
    idle_timeout: Duration::from_secs(120),
    rate_window: Duration::from_secs(60),
};

fn token(concert: ConcertId) -> QueueToken {
    QueueToken::new(concert, &Uuid::new_v4().simple().to_string())
}

fn user() -> UserId {
    UserId::from_uuid(Uuid::now_v7())
}

async fn raw_connection() -> redis::aio::MultiplexedConnection {
    redis::Client::open(support::redis_url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

fn inventory(unsold_seats: u32) -> RoomInventory {
    RoomInventory {
        unsold_seats,
        holds: Vec::new(),
    }
}

#[tokio::test]
async fn a_rooms_keys_share_its_hash_tag_and_expire() {
    let settings = support::settings();
    let prefix = settings.key_prefix.clone();
    let room = support::connect_with(&settings).await;
    let concert = ConcertId::from_uuid(Uuid::now_v7());
    let now = Utc::now();
    room.set_inventory(concert, &inventory(5)).await.unwrap();
    let hold = HoldId::from_uuid(Uuid::now_v7());
    room.hold_recorded(concert, hold, now + chrono::Duration::minutes(5))
        .await
        .unwrap();
    room.join(concert, user(), token(concert), now, RULES)
        .await
        .unwrap();
    room.join(concert, user(), token(concert), now, RULES)
        .await
        .unwrap();

    let mut raw = raw_connection().await;
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query_async(&mut raw)
        .await
        .unwrap();
    let tag = format!("{prefix}{{room:{concert}}}:");
    assert!(keys.len() >= 8, "{keys:?}");
    // A room nobody calls disappears: a few of its periods after the last call.
    let longest = 3 * 720 * 1000 + 60 * 1000;
    for key in &keys {
        assert!(key.starts_with(&tag), "{key} outside {tag}");
        let ttl: i64 = redis::cmd("PTTL")
            .arg(key)
            .query_async(&mut raw)
            .await
            .unwrap();
        assert!(ttl > 0 && ttl <= longest, "{key}: {ttl}");
    }
}

#[tokio::test]
async fn a_room_whose_inventory_expired_asks_to_be_reloaded() {
    let settings = support::settings();
    let prefix = settings.key_prefix.clone();
    let room = support::connect_with(&settings).await;
    let concert = ConcertId::from_uuid(Uuid::now_v7());
    let now = Utc::now();
    room.set_inventory(concert, &inventory(5)).await.unwrap();
    let place = room
        .join(concert, user(), token(concert), now, RULES)
        .await
        .unwrap();

    // As if the inventory's key had expired (or been evicted) while places remained.
    let mut raw = raw_connection().await;
    redis::cmd("DEL")
        .arg(format!("{prefix}{{room:{concert}}}:meta"))
        .query_async::<i64>(&mut raw)
        .await
        .unwrap();
    let join = room.join(concert, user(), token(concert), now, RULES).await;
    assert_eq!(join, Err(RoomError::InventoryUnknown));
    let poll = room.poll(&place.token, place.user_id, now, RULES).await;
    assert_eq!(poll, Err(RoomError::InventoryUnknown));
    room.set_inventory(concert, &inventory(5)).await.unwrap();
    let again = room.poll(&place.token, place.user_id, now, RULES).await;
    assert_eq!(again.map(|place| place.is_some()), Ok(true));
}

#[tokio::test]
async fn a_redis_that_went_away_is_unavailable() {
    // A proxy in front of Redis, stopped after the connection was made: dropping its task drops
    // the set of its pipes, which ends them.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let target = support::redis_url()
        .trim_start_matches("redis://")
        .trim_end_matches('/')
        .to_owned();
    let proxy = tokio::spawn(async move {
        let mut pipes = tokio::task::JoinSet::new();
        while let Ok((mut client, _)) = listener.accept().await {
            let mut server = tokio::net::TcpStream::connect(&target).await.unwrap();
            pipes.spawn(async move {
                let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
            });
        }
    });
    let settings = RedisSettings {
        url: format!("redis://127.0.0.1:{port}"),
        timeout: Duration::from_millis(500),
        ..support::settings()
    };
    let room = support::connect_with(&settings).await;
    let concert = ConcertId::from_uuid(Uuid::now_v7());
    room.set_inventory(concert, &inventory(5)).await.unwrap();
    proxy.abort();
    let _ = proxy.await;
    tokio::time::sleep(Duration::from_millis(50)).await;

    let now = Utc::now();
    let join = room.join(concert, user(), token(concert), now, RULES).await;
    assert!(
        matches!(
            join,
            Err(RoomError::Dependency(DependencyError::Unavailable(_)))
        ),
        "{join:?}"
    );
    let finish = room.finish(&token(concert), user(), now, RULES).await;
    assert!(
        matches!(finish, Err(DependencyError::Unavailable(_))),
        "{finish:?}"
    );
    let close = room.close(concert).await;
    assert!(
        matches!(close, Err(DependencyError::Unavailable(_))),
        "{close:?}"
    );
}
