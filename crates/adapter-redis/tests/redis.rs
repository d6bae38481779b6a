//! Redis-specific behaviour: key prefixes, unreachable or hung servers, secret-free output.
//! Runs against a real Redis (`TEST_REDIS_URL`, default `redis://127.0.0.1:6379`).

#![expect(clippy::unwrap_used)]

mod support;

use chrono::Utc;
use deadpool_redis::redis;
use reserva_adapter_redis::{RedisSettings, RedisSharedState};
use reserva_application::DependencyError;
use reserva_application::ports::shared_state::{
    AccessMarks, DistributedLock, RateLimiter, SessionRevocations,
};
use reserva_application::ports::system::HealthProbe;
use reserva_domain::accounts::{SessionId, UserId};
use std::time::{Duration, Instant};

async fn raw_connection() -> redis::aio::MultiplexedConnection {
    redis::Client::open(support::redis_url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

async fn exists(connection: &mut redis::aio::MultiplexedConnection, key: &str) -> bool {
    redis::cmd("EXISTS")
        .arg(key)
        .query_async::<i64>(connection)
        .await
        .unwrap()
        == 1
}

#[tokio::test]
async fn every_key_carries_the_prefix() {
    let settings = support::settings();
    let prefix = settings.key_prefix.clone();
    let state = support::connect_with(&settings).await;
    let session = SessionId::from_uuid(uuid::Uuid::new_v4());

    let token = state
        .try_acquire("job", Duration::from_secs(30))
        .await
        .unwrap()
        .unwrap();
    state
        .hit("login:alice", Duration::from_secs(30))
        .await
        .unwrap();
    state
        .revoke(session, Utc::now() + chrono::Duration::minutes(5))
        .await
        .unwrap();

    let mut raw = raw_connection().await;
    assert!(exists(&mut raw, &format!("{prefix}lock:job")).await);
    assert!(exists(&mut raw, &format!("{prefix}rate:login:alice")).await);
    assert!(exists(&mut raw, &format!("{prefix}revoked:{session}")).await);
    let stored: String = redis::cmd("GET")
        .arg(format!("{prefix}lock:job"))
        .query_async(&mut raw)
        .await
        .unwrap();
    assert_eq!(stored, token.as_str());
    let revoked_ttl: i64 = redis::cmd("PTTL")
        .arg(format!("{prefix}revoked:{session}"))
        .query_async(&mut raw)
        .await
        .unwrap();
    assert!(
        revoked_ttl > 0 && revoked_ttl <= 5 * 60 * 1000,
        "{revoked_ttl}"
    );

    let other = support::connect().await;
    assert!(
        other
            .try_acquire("job", Duration::from_secs(30))
            .await
            .unwrap()
            .is_some(),
        "another prefix is another namespace"
    );
    let user = UserId::from_uuid(uuid::Uuid::now_v7());
    state
        .mark_user_changed(user, Utc::now() + chrono::Duration::minutes(5))
        .await
        .unwrap();
    assert!(exists(&mut raw, &format!("{prefix}user-changed:{user}")).await);
    let marks = other.access_marks(session, user).await.unwrap();
    assert_eq!(
        (marks.session_revoked, marks.user_changed),
        (false, false),
        "another prefix sees neither mark"
    );
    assert_eq!(state.claim_rebuild(Duration::from_secs(15)).await, Ok(true));
    state.restore_marks(&[], &[]).await.unwrap();
    assert!(exists(&mut raw, &format!("{prefix}marks:epoch")).await);
    assert_eq!(other.marks_lost().await, Ok(true), "nor the epoch");

    state.withdraw("login:alice").await.unwrap();
    let withdrawn: i64 = redis::cmd("GET")
        .arg(format!("{prefix}rate:login:alice"))
        .query_async(&mut raw)
        .await
        .unwrap();
    assert_eq!(withdrawn, 0, "the withdrawal went to the prefixed key");
    assert!(state.release("job", &token).await.unwrap());
    assert!(!exists(&mut raw, &format!("{prefix}lock:job")).await);
}

#[tokio::test]
async fn probe_pings_redis() {
    let state = support::connect().await;
    assert_eq!(state.component(), "shared_state");
    assert_eq!(state.ping().await, Ok(()));
}

#[tokio::test]
async fn an_unreachable_redis_is_unavailable_quickly() {
    let started = Instant::now();
    let result = RedisSharedState::connect(&RedisSettings {
        url: "redis://user:s3cret-pw@127.0.0.1:1".into(),
        key_prefix: "test:".into(),
        max_connections: 2,
        timeout: Duration::from_secs(1),
    })
    .await;
    let Err(DependencyError::Unavailable(message)) = result else {
        panic!("expected Unavailable, got {result:?}")
    };
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert!(!message.contains("s3cret-pw"), "{message}");
}

#[tokio::test]
async fn a_hung_redis_is_unavailable_not_a_hang() {
    // Accepts connections and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let started = Instant::now();
    let result = RedisSharedState::connect(&RedisSettings {
        url: format!("redis://:s3cret-pw@127.0.0.1:{port}"),
        key_prefix: "test:".into(),
        max_connections: 2,
        timeout: Duration::from_millis(500),
    })
    .await;
    hold.abort();
    let Err(DependencyError::Unavailable(message)) = result else {
        panic!("expected Unavailable, got {result:?}")
    };
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert!(!message.contains("s3cret-pw"), "{message}");
}

#[test]
fn settings_debug_hides_the_password() {
    let settings = RedisSettings {
        url: "redis://reserva:s3cret-pw@cache.internal:6379/2".into(),
        key_prefix: "reserva:".into(),
        max_connections: 4,
        timeout: Duration::from_secs(1),
    };
    let printed = format!("{settings:?}");
    assert!(!printed.contains("s3cret-pw"), "{printed}");
    assert!(printed.contains("cache.internal:6379/2"), "{printed}");
    assert!(printed.contains("reserva:"), "{printed}");
}

/// The marks epoch travels in the marks' own `MGET`: a fresh (or flushed, or restarted) Redis
/// reads as having lost its marks until `restore_marks` sets the epoch, and again once the epoch
/// key is gone — without any failed command on this client to tell it so.
#[tokio::test]
async fn the_marks_epoch_is_read_with_the_marks() {
    let settings = support::settings();
    let epoch = format!("{}marks:epoch", settings.key_prefix);
    let state = support::connect_with(&settings).await;
    let (session, user) = (
        SessionId::from_uuid(uuid::Uuid::now_v7()),
        UserId::from_uuid(uuid::Uuid::now_v7()),
    );
    let lost = AccessMarks {
        marks_lost: true,
        ..AccessMarks::default()
    };
    assert_eq!(state.access_marks(session, user).await, Ok(lost));
    assert_eq!(state.marks_lost().await, Ok(true));
    let until = Utc::now() + chrono::Duration::minutes(15);
    assert_eq!(state.claim_rebuild(Duration::from_secs(15)).await, Ok(true));
    state.restore_marks(&[(session, until)], &[]).await.unwrap();
    let mut connection = raw_connection().await;
    assert!(exists(&mut connection, &epoch).await);
    let ttl: i64 = redis::cmd("PTTL")
        .arg(&epoch)
        .query_async(&mut connection)
        .await
        .unwrap();
    assert_eq!(ttl, -1, "the epoch never expires");
    assert_eq!(
        state.access_marks(session, user).await,
        Ok(AccessMarks {
            session_revoked: true,
            user_changed: false,
            marks_lost: false,
        })
    );
    assert_eq!(state.marks_lost().await, Ok(false));
    redis::cmd("DEL")
        .arg(&epoch)
        .query_async::<()>(&mut connection)
        .await
        .unwrap();
    let marks = state.access_marks(session, user).await.unwrap();
    assert!(marks.marks_lost && marks.session_revoked, "{marks:?}");
}

/// A rebuild whose claim vanished before it finished (Redis restarted or was flushed under it,
/// taking the marks it had written so far) must not set the epoch: that would vouch for marks
/// Redis no longer has. It fails, the epoch stays absent, and the next claim rebuilds again.
#[tokio::test]
async fn a_rebuild_that_lost_its_claim_sets_no_epoch() {
    let settings = support::settings();
    let (epoch, claim) = (
        format!("{}marks:epoch", settings.key_prefix),
        format!("{}marks:rebuild", settings.key_prefix),
    );
    let state = support::connect_with(&settings).await;
    let until = Utc::now() + chrono::Duration::minutes(15);
    let session = SessionId::from_uuid(uuid::Uuid::now_v7());
    assert_eq!(state.claim_rebuild(Duration::from_secs(15)).await, Ok(true));
    let mut connection = raw_connection().await;
    let _: i64 = redis::cmd("DEL")
        .arg(&claim)
        .query_async(&mut connection)
        .await
        .unwrap();
    assert!(state.restore_marks(&[(session, until)], &[]).await.is_err());
    assert!(
        !exists(&mut connection, &epoch).await,
        "no epoch without the claim"
    );
    assert_eq!(state.marks_lost().await, Ok(true));

    // another instance's claim is not this one's either
    let _: () = redis::cmd("SET")
        .arg(&claim)
        .arg("someone-else")
        .query_async(&mut connection)
        .await
        .unwrap();
    assert!(state.restore_marks(&[(session, until)], &[]).await.is_err());
    assert!(
        !exists(&mut connection, &epoch).await,
        "no epoch under another's claim"
    );
    let _: i64 = redis::cmd("DEL")
        .arg(&claim)
        .query_async(&mut connection)
        .await
        .unwrap();

    assert_eq!(state.claim_rebuild(Duration::from_secs(15)).await, Ok(true));
    assert_eq!(state.restore_marks(&[(session, until)], &[]).await, Ok(()));
    assert!(exists(&mut connection, &epoch).await);
    assert!(
        !exists(&mut connection, &claim).await,
        "the claim is given back"
    );
}
