//! The concert on-sale of issue #10: thousands of users join one concert's waiting room within a
//! few seconds and compete for its seats (two performances of 50 seats) through the whole story:
//! join → poll until active → dates → seats → hold → charge → pay.
//!
//! Three phases, each measured on its own:
//! 1. joins: every user joins the room, `connections` requests in flight;
//! 2. polls: waiting users poll for `seconds` at `connections` connections, and then
//!    `GET /api/v1/users/me` for as long, so the two compare within one run;
//! 3. the sale: every user polls (once per `poll_interval_ms`) until admitted, then buys one seat;
//!    it ends when every seat is sold or after `sale_timeout_seconds`.
//!
//! Users are not signed up over HTTP: the script seeds them with one SQL statement and passes
//! their ids, and this tool signs their access tokens with the server's secret. Ten thousand
//! argon2 signups and logins would take minutes on two cores and measure argon2, not the sale.

use crate::Options;
use crate::buyer::{Buyer, Shopper};
use crate::client::Api;
use crate::report::{HEADER, RunStats};
use crate::stats::Ledger;
use chrono::{Duration as Days, SecondsFormat, Utc};
use futures_util::future::join_all;
use reqwest::Method;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// Signs an access token for `user` as the server would (HS256, issuer and audience of the
/// service, one hour).
fn access_token(secret: &[u8], user: &str) -> Result<String, String> {
    let now = Utc::now().timestamp();
    let claims = json!({
        "sub": user, "sid": uuid::Uuid::new_v4(), "role": "member",
        "iat": now, "exp": now + 3600, "iss": "reserva", "aud": "reserva-api",
    });
    let key = jsonwebtoken::EncodingKey::from_secret(secret);
    jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &key)
        .map_err(|error| error.to_string())
}

/// The access tokens of the users whose ids `path` lists, one per line.
pub(crate) fn signed_tokens(path: &str, secret: &str) -> Result<Vec<String>, String> {
    let ids = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    ids.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|id| access_token(secret.as_bytes(), id.trim()))
        .collect()
}

/// The whole on-sale; prints its tables and the sale's figures.
pub(crate) async fn run(options: &Options, admin: &str) -> Result<(), String> {
    let path = options
        .user_ids
        .as_deref()
        .ok_or("--user-ids is required for the onsale workload")?;
    let secret = options
        .jwt_secret
        .as_deref()
        .ok_or("--jwt-secret (or RESERVA_LOAD_JWT_SECRET) is required for onsale")?;
    let tokens = signed_tokens(path, secret)?;
    let connections = options.connections.iter().copied().max().unwrap_or(64);
    let api = Api::new(&options.base_url, connections, false)?;
    let concert = create_concert(&api, admin, options.seats_per_performance).await?;
    println!(
        "concert {concert}: 2 performances x {} seats, {} users, {connections} connections\n",
        options.seats_per_performance,
        tokens.len()
    );

    let ledger = Arc::new(Ledger::default());
    let shoppers = join_phase(&api, &tokens, &concert, connections, &ledger).await?;
    let (active, waiting): (Vec<_>, Vec<_>) = shoppers.iter().partition(|s| s.1);
    println!(
        "after the joins: {} active, {} waiting\n",
        active.len(),
        waiting.len()
    );
    println!("{HEADER}");
    let waiting_tokens: Arc<Vec<(String, String)>> = Arc::new(
        waiting
            .iter()
            .map(|(shopper, _)| (shopper.access.clone(), shopper.queue.clone()))
            .collect(),
    );
    poll_phase(&api, waiting_tokens, connections, options.duration()).await;
    let me_tokens = Arc::new(tokens.clone());
    let me_api = api.clone();
    let stats = crate::workloads::timed(connections, options.duration(), move |i| {
        let (api, token) = (me_api.clone(), me_tokens[i % me_tokens.len()].clone());
        async move {
            let reply = api
                .call(Method::GET, "/api/v1/users/me", Some(&token), None)
                .await;
            Some(reply.is_ok_and(|r| r.status == 200))
        }
    })
    .await;
    println!("{}", stats.row("GET /users/me", connections, false));

    let shoppers: Vec<Shopper> = shoppers.into_iter().map(|(shopper, _)| shopper).collect();
    sale_phase(options, &api, shoppers, &concert, connections, &ledger).await
}

async fn create_concert(api: &Api, admin: &str, seats: u32) -> Result<String, String> {
    let at = |days: i64| (Utc::now() + Days::days(days)).to_rfc3339_opts(SecondsFormat::Secs, true);
    let body = json!({
        "title": format!("On-sale {}", Utc::now().timestamp()),
        "price": 50_000,
        "performances": [{"starts_at": at(30)}, {"starts_at": at(31)}],
        "seats": seats,
    });
    let reply = api
        .call(
            Method::POST,
            "/api/v1/admin/concerts",
            Some(admin),
            Some(&body),
        )
        .await?;
    reply.body["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("create concert: {} {}", reply.status, reply.body))
}

/// Every user joins once; returns each shopper with whether it was active at once.
async fn join_phase(
    api: &Api,
    tokens: &[String],
    concert: &str,
    connections: usize,
    ledger: &Arc<Ledger>,
) -> Result<Vec<(Shopper, bool)>, String> {
    let gate = Arc::new(Semaphore::new(connections));
    let started = Instant::now();
    let joins = tokens.iter().map(|access| {
        let (api, gate, ledger, access) =
            (api.clone(), gate.clone(), ledger.clone(), access.clone());
        let body = json!({ "concert_id": concert });
        tokio::spawn(async move {
            let _permit = gate.acquire().await.ok()?;
            let sent = Instant::now();
            let reply = api
                .call(
                    Method::POST,
                    "/api/v1/queue/tokens",
                    Some(&access),
                    Some(&body),
                )
                .await
                .ok()?;
            ledger.record("join", sent.elapsed(), reply.status, 201);
            let queue = reply.body["token"].as_str()?.to_owned();
            let active = reply.body["status"] == "active";
            let shopper = Shopper {
                access,
                queue,
                active_at_join: active,
            };
            Some((shopper, active))
        })
    });
    let joined: Vec<(Shopper, bool)> = join_all(joins)
        .await
        .into_iter()
        .flatten()
        .flatten()
        .collect();
    let elapsed = started.elapsed();
    println!(
        "joins: {} of {} in {:.2} s = {:.0} joins/s",
        joined.len(),
        tokens.len(),
        elapsed.as_secs_f64(),
        joined.len() as f64 / elapsed.as_secs_f64().max(f64::EPSILON)
    );
    if joined.len() != tokens.len() {
        return Err(format!(
            "only {} of {} joins succeeded",
            joined.len(),
            tokens.len()
        ));
    }
    Ok(joined)
}

async fn poll_phase(
    api: &Api,
    waiting: Arc<Vec<(String, String)>>,
    connections: usize,
    duration: Duration,
) {
    if waiting.is_empty() {
        println!("| poll | (nobody waiting) |");
        return;
    }
    let api = api.clone();
    let stats: RunStats = crate::workloads::timed(connections, duration, move |i| {
        let (api, (access, queue)) = (api.clone(), waiting[i % waiting.len()].clone());
        async move {
            let reply = api
                .call_with(
                    Method::GET,
                    "/api/v1/queue/tokens/current",
                    Some(&access),
                    None,
                    &[("queue-token", &queue)],
                )
                .await;
            Some(reply.is_ok_and(|r| r.status == 200))
        }
    })
    .await;
    println!(
        "{}",
        stats.row("GET /queue/tokens/current", connections, false)
    );
}

/// Every shopper polls until admitted and buys one seat; ends when every seat is sold.
async fn sale_phase(
    options: &Options,
    api: &Api,
    shoppers: Vec<Shopper>,
    concert: &str,
    connections: usize,
    ledger: &Arc<Ledger>,
) -> Result<(), String> {
    let seats = 2 * options.seats_per_performance as usize;
    let gate = Arc::new(Semaphore::new(connections));
    let sold = Arc::new(AtomicUsize::new(0));
    let admitted = Arc::new(AtomicUsize::new(0));
    let over = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(options.sale_timeout_seconds);
    let interval = Duration::from_millis(options.poll_interval_ms);
    let tasks = shoppers.into_iter().enumerate().map(|(index, shopper)| {
        let buyer = Buyer {
            api: api.clone(),
            gate: gate.clone(),
            ledger: ledger.clone(),
            concert: concert.to_owned(),
            index,
            shopper,
        };
        let (sold, admitted, over) = (sold.clone(), admitted.clone(), over.clone());
        tokio::spawn(async move {
            buyer
                .shop(interval, deadline, &sold, &admitted, &over, seats)
                .await;
        })
    });
    join_all(tasks).await;
    let elapsed = started.elapsed();
    let sold = sold.load(Ordering::Relaxed);
    println!("\n{}", ledger.table());
    println!(
        "\nsale: {sold} of {seats} seats sold in {:.2} s; {} waiting users admitted from the line \
         during the sale ({:.1} admissions/s)",
        elapsed.as_secs_f64(),
        admitted.load(Ordering::Relaxed),
        admitted.load(Ordering::Relaxed) as f64 / elapsed.as_secs_f64().max(f64::EPSILON),
    );
    ledger.print_rates(elapsed);
    if sold == seats {
        Ok(())
    } else {
        Err(format!("sold {sold} of {seats} seats before the timeout"))
    }
}
