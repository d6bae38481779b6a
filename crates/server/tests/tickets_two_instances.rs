//! Tickets with two real `reserva` processes on one PostgreSQL + Redis: the waiting room's
//! arrival order, the seats and the ledger must hold across processes, not just across the
//! threads of one; `reserva wallet verify` audits the outcome.

#[allow(
    dead_code,
    reason = "each test file uses its own part of the shared helpers"
)]
mod support;

use futures_util::future::join_all;
use reserva_adapter_postgres::test_support::TemporaryDatabase;
use serde_json::{Value, json};
use std::collections::HashSet;
use support::tickets::{concert, join, post_queued};
use support::{
    Instance, RedisPrefix, client, command, create_admin, login, members, send, sql, start_command,
    wallet_verify,
};

/// A concert of 50 seats on sale through two instances, with a crowd of members ready.
/// Fields drop in order: the processes end before their database and Redis keys go.
struct Sale {
    instances: [Instance; 2],
    database: TemporaryDatabase,
    prefix: RedisPrefix,
    concert: String,
    performance: String,
    /// Access tokens and user ids, in creation order.
    crowd: Vec<(String, String)>,
}

impl Sale {
    /// Two instances admitting at most `max_active` users with `margin` beyond the free seats.
    async fn open(name: &str, max_active: u32, margin: u32, crowd: usize) -> Self {
        let database = TemporaryDatabase::create().await;
        let prefix = RedisPrefix::new(name);
        let instance = || {
            let mut command = command(&database.url, &prefix.0);
            command
                .env("RESERVA_TICKETS__QUEUE_MAX_ACTIVE", max_active.to_string())
                .env(
                    "RESERVA_TICKETS__QUEUE_ADMISSION_MARGIN",
                    margin.to_string(),
                );
            start_command(command)
        };
        let instances = [instance(), instance()];
        create_admin(&database.url, &prefix.0);
        let base = &instances[0].base_url;
        let admin = login(&client(), base, "root@example.com", "secret123").await;
        let (concert, performance) = concert(base, &admin, 1_000, 50).await;
        let crowd = members(&database.url, crowd);
        Self {
            instances,
            database,
            prefix,
            concert,
            performance,
            crowd,
        }
    }

    /// The instance that serves the `index`th member: they alternate.
    fn base(&self, index: usize) -> &str {
        &self.instances[index % 2].base_url
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queue_positions_follow_arrival_across_two_processes() {
    // One active place and no margin: everyone after the first waits.
    let sale = Sale::open("tickets-queue", 1, 0, 160).await;
    let (crowd, concert_id, client) = (&sale.crowd, &sale.concert, client());
    let bases = [sale.base(0), sale.base(1)];

    for (index, (bearer, _)) in crowd[..60].iter().enumerate() {
        let (status, place) = join(&client, bases[index % 2], bearer, concert_id).await;
        assert_eq!(status, 201, "{place:#}");
        let expected = if index == 0 { "active" } else { "waiting" };
        assert_eq!(place["status"], expected, "joiner {index}: {place:#}");
        assert_eq!(place["position"], index, "joiner {index}: {place:#}");
    }

    let concurrent = crowd[60..].iter().enumerate().map(|(index, (bearer, _))| {
        let (client, base, concert_id) = (&client, bases[index % 2], concert_id);
        async move { join(client, base, bearer, concert_id).await }
    });
    let mut positions: Vec<u64> = join_all(concurrent)
        .await
        .into_iter()
        .map(|(status, place)| {
            assert_eq!(status, 201, "{place:#}");
            assert_eq!(place["status"], "waiting", "{place:#}");
            place["position"].as_u64().expect("position")
        })
        .collect();
    positions.sort_unstable();
    assert_eq!(positions, (60..160).collect::<Vec<u64>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_racing_for_seats_and_payments_never_oversell() {
    // Everyone is let in at once: a margin as large as the crowd lifts the inventory cap.
    let sale = Sale::open("tickets-race", 1_000, 1_000, 100).await;
    let (crowd, concert_id, client) = (&sale.crowd, &sale.concert, client());
    let (performance, database) = (&sale.performance, &sale.database);
    let bases = [sale.base(0), sale.base(1)];

    let tokens = join_all(crowd.iter().enumerate().map(|(index, (bearer, _))| {
        let (client, base, concert_id) = (&client, bases[index % 2], concert_id);
        async move {
            let (status, place) = join(client, base, bearer, concert_id).await;
            assert_eq!(status, 201, "{place:#}");
            assert_eq!(place["status"], "active", "{place:#}");
            place["token"].as_str().expect("token").to_owned()
        }
    }))
    .await;

    // Users 2k and 2k + 1 want seat k + 1, one through each instance.
    let attempts = crowd
        .iter()
        .zip(&tokens)
        .enumerate()
        .map(|(index, ((bearer, _), queue))| {
            let seat = index / 2 + 1;
            let url = format!("{}/api/v1/seat-holds", bases[index % 2]);
            let body = json!({"performance_id": performance, "seat_number": seat});
            let client = &client;
            async move { (seat, post_queued(client, url, bearer, queue, body).await) }
        });
    let mut held = HashSet::new();
    let mut winners = Vec::new();
    for (index, (seat, (status, body))) in join_all(attempts).await.into_iter().enumerate() {
        match status {
            201 => {
                assert!(held.insert(seat), "seat {seat} held twice");
                winners.push((index, body["id"].as_str().expect("hold id").to_owned()));
            }
            409 => assert_eq!(body["code"], "seat_unavailable", "{body:#}"),
            other => panic!("unexpected {other}: {body:#}"),
        }
    }
    assert_eq!(held.len(), 50, "every seat held once");

    // Ten winners charge a fresh wallet twice at once, once on each instance, then pay each
    // hold on both instances at once.
    let buyers = &winners[..10];
    let charges = buyers.iter().flat_map(|(index, _)| {
        bases.map(|base| {
            let request = client
                .post(format!("{base}/api/v1/wallet/charges"))
                .bearer_auth(&crowd[*index].0)
                .json(&json!({"amount": 5_000}));
            async move {
                let (status, body) = send(request).await;
                assert_eq!(status, 201, "{body:#}");
            }
        })
    });
    join_all(charges).await;
    let payments = buyers.iter().flat_map(|(index, hold)| {
        bases.map(|base| {
            let url = format!("{base}/api/v1/seat-holds/{hold}/pay");
            let (client, bearer, queue) = (&client, &crowd[*index].0, &tokens[*index]);
            async move { post_queued(client, url, bearer, queue, json!({})).await }
        })
    });
    let answers = join_all(payments).await;
    for pair in answers.chunks(2) {
        let paid: Vec<&Value> = pair
            .iter()
            .filter(|(status, _)| *status == 201)
            .map(|(_, body)| body)
            .collect();
        assert!(!paid.is_empty(), "{pair:?}");
        assert!(
            paid.iter().all(|body| body["id"] == paid[0]["id"]),
            "{pair:?}"
        );
        for (status, body) in pair {
            // The loser finds the hold paid, or its queue token already finished by the payment.
            let refused = matches!(
                (status, body["code"].as_str()),
                (409, Some("hold_already_paid")) | (401, Some("queue_token_invalid"))
            );
            assert!(*status == 201 || refused, "{status}: {body:#}");
        }
    }
    assert_eq!(sql(&database.url, "SELECT count(*) FROM bookings"), ["10"]);

    let clean = wallet_verify(&database.url, &sale.prefix.0);
    let report = String::from_utf8_lossy(&clean.stdout);
    assert_eq!(clean.status.code(), Some(0), "{report}");
    assert!(report.contains("clean"), "{report}");

    // One wallet's balance no longer matches its entries.
    let owner = &crowd[buyers[0].0].1;
    sql(
        &database.url,
        &format!(
            "UPDATE ledger_accounts SET balance = balance + 1 \
             WHERE kind = 'user_wallet' AND owner = '{owner}'"
        ),
    );
    let corrupt = wallet_verify(&database.url, &sale.prefix.0);
    let report = String::from_utf8_lossy(&corrupt.stdout);
    assert_eq!(corrupt.status.code(), Some(1), "{report}");
    assert!(report.contains("ledger violation"), "{report}");
}
