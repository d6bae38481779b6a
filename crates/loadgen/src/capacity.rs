//! What the seat path sustains when the waiting room is not the limit (`--workload seats`): the
//! server runs with a room that admits everyone, one concert has a performance per 50 users, every
//! user joins (and is active at once), and then holds one seat, charges and pays, each step for
//! every user with `connections` requests in flight. It measures holds/s, charges/s and
//! payments/s of the database paths themselves; the on-sale (`--workload onsale`) shows what a
//! real room with 100 active users lets through.

use crate::Options;
use crate::client::{Api, Reply};
use crate::stats::Ledger;
use chrono::{Duration as Days, SecondsFormat, Utc};
use futures_util::future::join_all;
use reqwest::Method;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::Semaphore;

/// One user's tokens and the seat it goes for.
#[derive(Clone)]
struct Buyer {
    access: String,
    queue: String,
    performance: String,
    seat: usize,
    hold: Option<String>,
}

/// Every buyer's request of one step, `connections` at a time; prints the step's rate.
async fn step<F>(
    name: &'static str,
    api: &Api,
    buyers: &[Buyer],
    connections: usize,
    ledger: &Arc<Ledger>,
    expected: u16,
    request: F,
) -> Vec<Option<Reply>>
where
    F: Fn(&Buyer) -> (Method, String, Option<Value>),
{
    let gate = Arc::new(Semaphore::new(connections));
    let started = Instant::now();
    let calls = buyers.iter().map(|buyer| {
        let (method, path, body) = request(buyer);
        let (api, gate, ledger) = (api.clone(), gate.clone(), ledger.clone());
        let (access, queue) = (buyer.access.clone(), buyer.queue.clone());
        tokio::spawn(async move {
            let _permit = gate.acquire().await.ok()?;
            let sent = Instant::now();
            let headers = [("queue-token", queue.as_str())];
            let reply = api
                .call_with(method, &path, Some(&access), body.as_ref(), &headers)
                .await
                .ok()?;
            ledger.record(name, sent.elapsed(), reply.status, expected);
            Some(reply)
        })
    });
    let replies: Vec<Option<Reply>> = join_all(calls)
        .await
        .into_iter()
        .map(|joined| joined.ok().flatten())
        .collect();
    let elapsed = started.elapsed().as_secs_f64().max(f64::EPSILON);
    let ok = replies
        .iter()
        .filter(|reply| reply.as_ref().is_some_and(|r| r.status == expected))
        .count();
    println!(
        "{name}: {ok} of {} answered {expected} in {elapsed:.2} s = {:.0}/s",
        replies.len(),
        ok as f64 / elapsed
    );
    replies
}

/// The capacity run.
pub(crate) async fn run(options: &Options, admin: &str) -> Result<(), String> {
    let path = options
        .user_ids
        .as_deref()
        .ok_or("--user-ids is required")?;
    let secret = options
        .jwt_secret
        .as_deref()
        .ok_or("--jwt-secret is required")?;
    let mut tokens = crate::onsale::signed_tokens(path, secret)?;
    tokens.truncate(5_000); // a concert has at most 100 performances of 50 seats
    let connections = options.connections.iter().copied().max().unwrap_or(64);
    let api = Api::new(&options.base_url, connections, false)?;
    let performances = tokens.len().div_ceil(50);
    let at = |hours: usize| {
        let start = Utc::now() + Days::days(40) + Days::hours(i64::try_from(hours).unwrap_or(0));
        json!({ "starts_at": start.to_rfc3339_opts(SecondsFormat::Secs, true) })
    };
    let body = json!({
        "title": format!("Capacity {}", Utc::now().timestamp()),
        "price": 50_000,
        "performances": (0..performances).map(at).collect::<Vec<_>>(),
        "seats": 50,
    });
    let created = api
        .call(
            Method::POST,
            "/api/v1/admin/concerts",
            Some(admin),
            Some(&body),
        )
        .await?;
    let concert = created.body["id"].as_str().map(str::to_owned);
    let concert = concert.ok_or_else(|| format!("create: {} {}", created.status, created.body))?;
    let ids: Vec<String> = created.body["performances"]
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|p| p["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    println!(
        "capacity: {} users, one concert of {} performances x 50 seats, {connections} connections",
        tokens.len(),
        ids.len()
    );
    let mut buyers: Vec<Buyer> = tokens
        .into_iter()
        .enumerate()
        .map(|(index, access)| Buyer {
            access,
            queue: String::new(),
            performance: ids.get(index / 50).cloned().unwrap_or_default(),
            seat: index % 50 + 1,
            hold: None,
        })
        .collect();
    let ledger = Arc::new(Ledger::default());
    let join = json!({ "concert_id": concert });
    let joined = step("join", &api, &buyers, connections, &ledger, 201, |_| {
        (
            Method::POST,
            "/api/v1/queue/tokens".into(),
            Some(join.clone()),
        )
    })
    .await;
    for (buyer, reply) in buyers.iter_mut().zip(joined) {
        let reply = reply.ok_or("a join failed")?;
        if reply.body["status"] != "active" {
            return Err("a user waits: run the server with a room that admits everyone".into());
        }
        buyer.queue = reply.body["token"].as_str().unwrap_or_default().to_owned();
    }
    let held = step("hold", &api, &buyers, connections, &ledger, 201, |buyer| {
        let body = json!({ "performance_id": buyer.performance, "seat_number": buyer.seat });
        (Method::POST, "/api/v1/seat-holds".into(), Some(body))
    })
    .await;
    for (buyer, reply) in buyers.iter_mut().zip(held) {
        buyer.hold = reply.and_then(|r| r.body["id"].as_str().map(str::to_owned));
    }
    let charge = json!({ "amount": 50_000 });
    step("charge", &api, &buyers, connections, &ledger, 201, |_| {
        (
            Method::POST,
            "/api/v1/wallet/charges".into(),
            Some(charge.clone()),
        )
    })
    .await;
    let paying: Vec<Buyer> = buyers
        .iter()
        .filter(|b| b.hold.is_some())
        .cloned()
        .collect();
    step("pay", &api, &paying, connections, &ledger, 201, |buyer| {
        let hold = buyer.hold.clone().unwrap_or_default();
        (Method::POST, format!("/api/v1/seat-holds/{hold}/pay"), None)
    })
    .await;
    println!("\n{}", ledger.table());
    Ok(())
}
