//! Migrations, pool limits and timeouts against the real PostgreSQL.
#![expect(clippy::unwrap_used)] // test helpers fail loudly

use diesel_async::{AsyncConnection, AsyncPgConnection};
use reserva_adapter_postgres::test_support::TemporaryDatabase;
use reserva_adapter_postgres::{
    MIGRATIONS, PostgresSettings, PostgresStore, revert_all_migrations, run_migrations,
};
use reserva_application::DependencyError;
use reserva_application::ports::accounts::UserRepository;
use reserva_application::ports::system::HealthProbe;
use reserva_domain::accounts::UserId;
use std::time::{Duration, Instant};

async fn table_count(url: &str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        count: i64,
    }
    let mut connection = AsyncPgConnection::establish(url).await.unwrap();
    let rows: Vec<Count> = diesel_async::RunQueryDsl::load(
        diesel::sql_query(
            "SELECT count(*) AS count FROM information_schema.tables \
             WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations'",
        ),
        &mut connection,
    )
    .await
    .unwrap();
    rows[0].count
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_apply_revert_and_reapply() {
    // accounts 3, exams 2, tickets 6 (concerts, performances, seats, seat_holds, ticket_claims,
    // bookings), wallet 3 (ledger_accounts, ledger_transfers, ledger_entries), catalog 4
    // (catalog_items, catalog_payments, catalog_registrations, catalog_deferred_indexes),
    // commerce 9 (curricula, curriculum_courses, billing_addresses, cart_items, orders,
    // order_items, order_payments, course_access, order_item_courses)
    const TABLES: i64 = 27;
    // Not `create`: its databases are clones of an already migrated template.
    let database = TemporaryDatabase::empty().await;
    let url = database.url.clone();
    let embedded = diesel::migration::MigrationSource::<diesel::pg::Pg>::migrations(&MIGRATIONS)
        .unwrap()
        .len();
    assert_eq!(table_count(&url).await, 0);
    let applied = run_migrations(&url).await.unwrap();
    assert_eq!(applied.len(), embedded);
    assert_eq!(table_count(&url).await, TABLES);
    assert_eq!(
        run_migrations(&url).await,
        Ok(vec![]),
        "nothing left to apply"
    );
    let reverted = revert_all_migrations(&url).await.unwrap();
    assert_eq!(reverted.len(), embedded);
    assert_eq!(table_count(&url).await, 0);
    let applied = run_migrations(&url).await.unwrap();
    assert_eq!(applied.len(), embedded);
    assert_eq!(table_count(&url).await, TABLES);
    let store = PostgresStore::connect(&database.settings(2)).await.unwrap();
    assert_eq!(
        store
            .find_user(UserId::from_uuid(uuid::Uuid::now_v7()))
            .await,
        Ok(None)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exhausted_pool_answers_unavailable_after_the_acquire_timeout() {
    let database = TemporaryDatabase::create().await;
    let settings = PostgresSettings {
        acquire_timeout: Duration::from_millis(300),
        ..database.settings(1)
    };
    let store = PostgresStore::connect(&settings).await.unwrap();
    let hog = store.clone();
    let hogging = tokio::spawn(async move {
        // The statement itself is fine; it just keeps the pooled connection for a while.
        let _ = hog.sleep_in_database(Duration::from_secs(2)).await;
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    let result = store
        .find_user(UserId::from_uuid(uuid::Uuid::now_v7()))
        .await;
    assert!(
        matches!(result, Err(DependencyError::Unavailable(_))),
        "{result:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    hogging.await.unwrap();
    assert_eq!(store.ping().await, Ok(()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_over_the_timeout_is_unavailable() {
    let database = TemporaryDatabase::create().await;
    let settings = PostgresSettings {
        statement_timeout: Duration::from_millis(200),
        ..database.settings(1)
    };
    let store = PostgresStore::connect(&settings).await.unwrap();
    let result = store.sleep_in_database(Duration::from_secs(2)).await;
    assert!(
        matches!(result, Err(DependencyError::Unavailable(_))),
        "{result:?}"
    );
    assert_eq!(
        store.ping().await,
        Ok(()),
        "the connection is usable afterwards"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_server_is_unavailable() {
    let settings = PostgresSettings {
        url: "postgres://postgres@127.0.0.1:1/none".into(),
        max_connections: 1,
        list_concurrency: 1,
        acquire_timeout: Duration::from_millis(500),
        statement_timeout: Duration::from_secs(1),
    };
    let result = PostgresStore::connect(&settings).await;
    assert!(
        matches!(result, Err(DependencyError::Unavailable(_))),
        "{result:?}"
    );
}

/// Writes `sql` on a connection of its own.
async fn execute(url: &str, sql: &str) {
    use diesel_async::SimpleAsyncConnection;
    let mut connection = AsyncPgConnection::establish(url).await.unwrap();
    connection.batch_execute(sql).await.unwrap();
}

/// A store with one slot and `count` pending reservations of 10 people in it; the one at
/// `corrupt` ends half past, a range no confirm can read. Returns the store, the ids, the hour.
async fn pending_in_one_hour(
    count: usize,
    corrupt: Option<usize>,
) -> (
    PostgresStore,
    Vec<uuid::Uuid>,
    chrono::DateTime<chrono::Utc>,
) {
    let database = TemporaryDatabase::create().await;
    let url = database.url.clone();
    let store = database.into_store().await;
    let (ids, hour) = seed_pending(&store, &url, count, corrupt).await;
    (store, ids, hour)
}

/// Seeds what [`pending_in_one_hour`] describes into the database at `url`.
async fn seed_pending(
    store: &PostgresStore,
    url: &str,
    count: usize,
    corrupt: Option<usize>,
) -> (Vec<uuid::Uuid>, chrono::DateTime<chrono::Utc>) {
    use chrono::{DurationRound, TimeDelta, Utc};
    use reserva_application::ports::exams::ExamSlotRepository;

    let hour = Utc::now().duration_trunc(TimeDelta::hours(1)).unwrap() + TimeDelta::days(5);
    store.ensure_slots(&[hour], 50_000).await.unwrap();
    let user = uuid::Uuid::now_v7();
    let ids: Vec<uuid::Uuid> = (0..count).map(|_| uuid::Uuid::now_v7()).collect();
    let rows: Vec<String> = ids
        .iter()
        .enumerate()
        .map(|(index, id)| {
            let minutes = if Some(index) == corrupt { 90 } else { 60 };
            format!(
                "('{id}', '{user}', '{hour}', '{hour}'::timestamptz + interval '{minutes} minutes', \
                 10, 'pending', now(), now())",
                hour = hour.to_rfc3339()
            )
        })
        .collect();
    execute(
        url,
        &format!(
            "INSERT INTO users (id, email, username, password_hash, role, created_at, updated_at) \
             VALUES ('{user}', 'c@example.com', 'corrupt', 'x', 'member', now(), now()); \
             INSERT INTO exam_reservations \
             (id, user_id, starts_at, ends_at, headcount, status, created_at, updated_at) \
             VALUES {}",
            rows.join(", ")
        ),
    )
    .await;
    (ids, hour)
}

/// Confirms every id at once, the one at index i at `now` + i seconds; returns the outcomes and
/// those times. Run on a current-thread runtime, every confirm is queued before the drainer
/// first runs, so all of them go in one batch.
async fn confirm_together(
    store: &PostgresStore,
    ids: &[uuid::Uuid],
) -> (
    Vec<
        Result<
            reserva_domain::exams::Reservation,
            reserva_application::ports::exams::ReservationWriteError,
        >,
    >,
    Vec<chrono::DateTime<chrono::Utc>>,
) {
    use chrono::{DurationRound, TimeDelta, Utc};
    use reserva_application::ports::exams::ReservationRepository;
    use reserva_domain::exams::ReservationId;

    let now = Utc::now().duration_trunc(TimeDelta::seconds(1)).unwrap();
    let times: Vec<_> = (0..ids.len())
        .map(|index| now + TimeDelta::seconds(i64::try_from(index).unwrap()))
        .collect();
    let outcomes = futures_util::future::join_all(
        ids.iter()
            .zip(&times)
            .map(|(id, at)| store.confirm_reservation(ReservationId::from_uuid(*id), *at)),
    )
    .await;
    (outcomes, times)
}

#[tokio::test]
async fn a_corrupt_reservation_fails_only_its_own_confirm_in_a_batch() {
    use reserva_application::ports::exams::{ExamSlotRepository, ReservationWriteError};
    use reserva_domain::exams::ReservationStatus;

    let (store, ids, hour) = pending_in_one_hour(9, Some(4)).await;
    let (outcomes, _) = confirm_together(&store, &ids).await;
    for (index, outcome) in outcomes.iter().enumerate() {
        if index == 4 {
            assert!(
                matches!(
                    outcome,
                    Err(ReservationWriteError::Dependency(DependencyError::Failed(
                        _
                    )))
                ),
                "the corrupt one fails: {outcome:?}"
            );
        } else {
            assert!(
                matches!(outcome, Ok(r) if r.status == ReservationStatus::Confirmed),
                "confirm {index} is not failed by another's row: {outcome:?}"
            );
        }
    }
    let slots = store
        .slots_between(hour, hour + chrono::TimeDelta::hours(1))
        .await
        .unwrap();
    assert_eq!(slots[0].confirmed, 80, "eight confirms of 10 people");
}

#[tokio::test]
async fn confirms_batched_together_keep_their_own_times() {
    let (store, ids, _) = pending_in_one_hour(6, None).await;
    let (outcomes, times) = confirm_together(&store, &ids).await;
    for (outcome, at) in outcomes.iter().zip(times) {
        assert!(
            matches!(outcome, Ok(r) if r.confirmed_at == Some(at) && r.updated_at == at),
            "{outcome:?} confirmed at {at}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_queued_behind_a_stalled_batch_give_up_after_the_acquire_timeout() {
    use diesel_async::SimpleAsyncConnection;
    use reserva_application::ports::exams::{ReservationRepository, ReservationWriteError};
    use reserva_domain::exams::{ReservationId, ReservationStatus};

    let database = TemporaryDatabase::create().await;
    let settings = PostgresSettings {
        acquire_timeout: Duration::from_millis(300),
        ..database.settings(2)
    };
    let store = PostgresStore::connect(&settings).await.unwrap();
    let (ids, _) = seed_pending(&store, &database.url, 1, None).await;
    // Another session locks the reservation: the batch confirming it waits on the lock.
    let mut locker = AsyncPgConnection::establish(&database.url).await.unwrap();
    locker
        .batch_execute(&format!(
            "BEGIN; SELECT 1 FROM exam_reservations WHERE id = '{}' FOR UPDATE",
            ids[0]
        ))
        .await
        .unwrap();
    let stalled = {
        let store = store.clone();
        let id = ReservationId::from_uuid(ids[0]);
        tokio::spawn(async move { store.confirm_reservation(id, chrono::Utc::now()).await })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    // Released late whatever happens, so a regression fails the timing below instead of hanging.
    let release = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(3)).await;
        locker.batch_execute("COMMIT").await.unwrap();
    });
    let started = Instant::now();
    let queued = futures_util::future::join_all((0..20).map(|_| {
        store.confirm_reservation(
            ReservationId::from_uuid(uuid::Uuid::now_v7()),
            chrono::Utc::now(),
        )
    }))
    .await;
    let waited = started.elapsed();
    for outcome in &queued {
        assert!(
            matches!(
                outcome,
                Err(ReservationWriteError::Dependency(DependencyError::Unavailable(m)))
                    if m.contains("in time")
            ),
            "{outcome:?}"
        );
    }
    assert!(
        waited < Duration::from_millis(1_500),
        "queued writes give up after about the acquire timeout, not after the stalled batch: \
         {waited:?}"
    );
    release.await.unwrap();
    let confirmed = stalled.await.unwrap();
    assert!(
        matches!(&confirmed, Ok(r) if r.status == ReservationStatus::Confirmed),
        "the stalled confirm itself completes once the lock is gone: {confirmed:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batched_slot_read_sees_every_write_made_before_it() {
    use reserva_application::ports::exams::{ExamSlotRepository, ReservationRepository};
    use reserva_domain::exams::ReservationId;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    let (store, ids, hour) = pending_in_one_hour(25, None).await;
    let until = hour + chrono::TimeDelta::hours(1);
    // Readers keep a batch of reads in flight at all times.
    let stop = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..8)
        .map(|_| {
            let (store, stop) = (store.clone(), Arc::clone(&stop));
            tokio::spawn(async move {
                let mut reads = 0_u32;
                while !stop.load(Ordering::Relaxed) {
                    store.slots_between(hour, until).await.unwrap();
                    reads += 1;
                }
                reads
            })
        })
        .collect();
    for (done, id) in ids.iter().enumerate() {
        store
            .confirm_reservation(ReservationId::from_uuid(*id), chrono::Utc::now())
            .await
            .unwrap();
        let slots = store.slots_between(hour, until).await.unwrap();
        assert_eq!(
            slots[0].confirmed,
            10 * (u32::try_from(done).unwrap() + 1),
            "a read issued after a confirm returned sees it"
        );
    }
    stop.store(true, Ordering::Relaxed);
    for reader in readers {
        assert!(reader.await.unwrap() > 0);
    }
}

// A current-thread runtime: all the reads are queued before the drainer runs, so one batch holds
// several distinct ranges, some asked twice.
#[tokio::test]
async fn a_batch_of_reads_answers_each_range_with_its_own_slots() {
    use chrono::{DurationRound, TimeDelta, Utc};
    use reserva_application::ports::exams::ExamSlotRepository;

    let store = TemporaryDatabase::create().await.into_store().await;
    let start = Utc::now().duration_trunc(TimeDelta::hours(1)).unwrap() + TimeDelta::days(5);
    let hours: Vec<_> = (0..10).map(|i| start + TimeDelta::hours(i)).collect();
    store.ensure_slots(&hours, 50_000).await.unwrap();
    let ranges: Vec<(i64, i64)> = vec![(0, 1), (2, 5), (0, 1), (4, 10), (9, 12), (20, 21)];
    let answers = futures_util::future::join_all(ranges.iter().map(|&(from, to)| {
        store.slots_between(start + TimeDelta::hours(from), start + TimeDelta::hours(to))
    }))
    .await;
    for (&(from, to), answer) in ranges.iter().zip(answers) {
        let got: Vec<_> = answer.unwrap().iter().map(|slot| slot.starts_at).collect();
        let expected: Vec<_> = hours
            .iter()
            .copied()
            .filter(|hour| {
                *hour >= start + TimeDelta::hours(from) && *hour < start + TimeDelta::hours(to)
            })
            .collect();
        assert_eq!(got, expected, "hours {from}..{to}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_ask_for_untranslated_error_messages() {
    // Errors are classified by their English messages; the server here defaults to C.UTF-8.
    let store = TemporaryDatabase::create().await.into_store().await;
    assert_eq!(store.setting("lc_messages").await.unwrap(), "C");
    assert_eq!(store.setting("TimeZone").await.unwrap(), "UTC");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_left_open_on_a_pooled_connection_is_ended_and_its_locks_freed() {
    #[derive(diesel::QueryableByName)]
    struct Held {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        held: i64,
    }
    const KEY: i64 = 4_242_424;
    let database = TemporaryDatabase::create().await;
    let settings = PostgresSettings {
        statement_timeout: Duration::from_millis(200),
        ..database.settings(1)
    };
    let store = PostgresStore::connect(&settings).await.unwrap();
    // idle_in_transaction_session_timeout: twice the statement timeout, at least 2 s.
    assert_eq!(
        store
            .setting("idle_in_transaction_session_timeout")
            .await
            .unwrap(),
        "2s"
    );
    let mut observer = AsyncPgConnection::establish(&database.url).await.unwrap();
    let held = async |observer: &mut AsyncPgConnection| -> i64 {
        let rows: Vec<Held> = diesel_async::RunQueryDsl::load(
            diesel::sql_query(format!(
                "SELECT count(*) AS held FROM pg_locks WHERE locktype = 'advisory' \
                 AND ((classid::bigint << 32) | objid::bigint) = {KEY}"
            )),
            observer,
        )
        .await
        .unwrap();
        rows[0].held
    };
    let started = Instant::now();
    store.abandon_open_transaction(KEY).await.unwrap();
    assert_eq!(
        held(&mut observer).await,
        1,
        "the abandoned transaction holds its lock"
    );
    while held(&mut observer).await > 0 {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the abandoned transaction still holds its lock after {:?}",
            started.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        started.elapsed() >= Duration::from_millis(1_500),
        "freed after {:?}: by something else than the idle timeout",
        started.elapsed()
    );
    // The pool discards the ended connection and serves the next request.
    assert_eq!(store.ping().await, Ok(()));
}
