//! The exam workloads of `docs/benchmarks/SOURCE-SYSTEM.md` (E-GET, E-POST, E-CONFIRM) and the correctness probe.

use crate::Options;
use crate::client::{Api, Reply};
use crate::report::{HEADER, RunStats};
use chrono::{Duration as Days, NaiveDate, SecondsFormat, TimeZone, Utc};
use chrono_tz::Asia::Seoul;
use futures_util::future::join_all;
use reqwest::Method;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

fn seoul_hour(date: NaiveDate, hour: u32) -> String {
    let local = Seoul
        .from_local_datetime(&date.and_hms_opt(hour, 0, 0).unwrap_or_default())
        .earliest();
    local
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, false))
        .unwrap_or_default()
}

pub(crate) async fn token_of(api: &Api, email: &str, password: &str) -> Result<String, String> {
    let reply = api
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(&json!({"email": email, "password": password})),
        )
        .await?;
    reply.body["access_token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("login of {email} failed: {} {}", reply.status, reply.body))
}

async fn user_tokens(api: &Api, count: usize) -> Result<Vec<String>, String> {
    let mut tokens = Vec::with_capacity(count);
    for index in 0..count {
        let (email, name) = (format!("load{index}@example.com"), format!("load{index}"));
        let signup = json!({"email": email, "username": name, "password": "secret123", "password_confirm": "secret123"});
        let reply = api
            .call(Method::POST, "/api/v1/auth/signup", None, Some(&signup))
            .await?;
        if reply.status != 201 && reply.status != 409 {
            return Err(format!("signup failed: {} {}", reply.status, reply.body));
        }
        tokens.push(token_of(api, &email, "secret123").await?);
    }
    Ok(tokens)
}

/// Runs `connections` workers until `duration` passes; each request is made by `request(i)`.
pub(crate) async fn timed<F, Fut>(connections: usize, duration: Duration, request: F) -> RunStats
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Option<bool>> + Send,
{
    let request = Arc::new(request);
    let counter = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let deadline = started + duration;
    let workers = (0..connections).map(|_| {
        let (request, counter) = (request.clone(), counter.clone());
        tokio::spawn(async move {
            let mut stats = RunStats::default();
            while Instant::now() < deadline {
                let index = counter.fetch_add(1, Ordering::Relaxed);
                let sent = Instant::now();
                match request(index).await {
                    None => break,
                    Some(expected) => {
                        stats.latencies.push(sent.elapsed());
                        stats.unexpected += usize::from(!expected);
                    }
                }
            }
            stats
        })
    });
    let mut total = RunStats::default();
    for stats in join_all(workers).await.into_iter().flatten() {
        total.merge(stats);
    }
    total.elapsed = started.elapsed();
    total
}

fn ok(reply: Result<Reply, String>, status: u16) -> bool {
    reply.is_ok_and(|reply| reply.status == status)
}

/// Everything, printed as one table plus the probe's verdict.
pub(crate) async fn run_all(options: &Options) -> Result<(), String> {
    let setup = Api::new(&options.base_url, 8, false)?;
    let admin = token_of(&setup, &options.admin_email, &options.admin_password).await?;
    match options.workload {
        crate::Workload::Onsale => return crate::onsale::run(options, &admin).await,
        crate::Workload::Seats => return crate::capacity::run(options, &admin).await,
        crate::Workload::Catalog => return crate::catalog::run(options).await,
        crate::Workload::Checkout => return crate::checkout::run(options).await,
        crate::Workload::Exams => {}
    }
    let tokens = Arc::new(user_tokens(&setup, options.users).await?);
    let date = Utc::now().with_timezone(&Seoul).date_naive() + Days::days(10);
    let hot_hour = seoul_hour(date, 10);
    let next_hour = seoul_hour(date, 11);
    let pending = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    println!("date D = {date}, hot hour {hot_hour}\n\n{HEADER}");
    for close in if options.close_too {
        vec![false, true]
    } else {
        vec![false]
    } {
        for &connections in &options.connections {
            let api = Api::new(&options.base_url, connections, close)?;
            let (api_get, tokens_get, path) = (
                api.clone(),
                tokens.clone(),
                format!("/api/v1/exam-slots?date={date}"),
            );
            let stats = timed(connections, options.duration(), move |i| {
                let (api, token, path) = (
                    api_get.clone(),
                    tokens_get[i % tokens_get.len()].clone(),
                    path.clone(),
                );
                async move {
                    Some(ok(
                        api.call(Method::GET, &path, Some(&token), None).await,
                        200,
                    ))
                }
            })
            .await;
            println!("{}", stats.row("E-GET", connections, close));

            let (api_post, tokens_post, sink) = (api.clone(), tokens.clone(), pending.clone());
            let body = json!({"starts_at": hot_hour, "ends_at": next_hour, "headcount": 1});
            let stats = timed(connections, options.duration(), move |i| {
                let (api, token, body, sink) = (
                    api_post.clone(),
                    tokens_post[i % tokens_post.len()].clone(),
                    body.clone(),
                    sink.clone(),
                );
                async move {
                    let reply = api
                        .call(
                            Method::POST,
                            "/api/v1/exam-reservations",
                            Some(&token),
                            Some(&body),
                        )
                        .await;
                    let id = reply
                        .as_ref()
                        .ok()
                        .filter(|r| r.status == 201)
                        .and_then(|r| r.body["id"].as_str().map(str::to_owned));
                    if let (Some(id), Ok(mut ids)) = (&id, sink.lock()) {
                        ids.push(id.clone());
                    }
                    Some(id.is_some())
                }
            })
            .await;
            println!("{}", stats.row("E-POST", connections, close));
        }
    }
    let ids: Vec<String> = pending.lock().map(|ids| ids.clone()).unwrap_or_default();
    let ids = Arc::new(ids.into_iter().take(50_000).collect::<Vec<_>>());
    let mut offset = 0;
    for &connections in &options.connections {
        let api = Api::new(&options.base_url, connections, false)?;
        let (ids_run, admin_run, start) = (ids.clone(), admin.clone(), offset);
        let stats = timed(connections, options.duration(), move |i| {
            let (api, admin, id) = (
                api.clone(),
                admin_run.clone(),
                ids_run.get(start + i).cloned(),
            );
            async move {
                let id = id?;
                Some(ok(
                    api.call(
                        Method::POST,
                        &format!("/api/v1/exam-reservations/{id}/confirm"),
                        Some(&admin),
                        Some(&json!({})),
                    )
                    .await,
                    200,
                ))
            }
        })
        .await;
        offset += stats.latencies.len();
        println!("{}", stats.row("E-CONFIRM", connections, false));
    }
    probe(&setup, &admin, &tokens, date).await
}

/// 300 reservations of 700 on a fresh hour (at most 71 fit); 290 confirmed once each and 10
/// twice at the same instant by 32 concurrent clients. Exactly 71 must win, with no 5xx.
async fn probe(api: &Api, admin: &str, tokens: &[String], date: NaiveDate) -> Result<(), String> {
    let (start, end) = (seoul_hour(date, 20), seoul_hour(date, 21));
    let mut ids = Vec::new();
    for index in 0..300 {
        let body = json!({"starts_at": start, "ends_at": end, "headcount": 700});
        let reply = api
            .call(
                Method::POST,
                "/api/v1/exam-reservations",
                Some(&tokens[index % tokens.len()]),
                Some(&body),
            )
            .await?;
        ids.push(
            reply.body["id"]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| format!("probe create: {} {}", reply.status, reply.body))?,
        );
    }
    let mut work: Vec<String> = ids.clone();
    work.extend(ids.iter().take(10).cloned());
    let client = api.clone();
    let queue = Arc::new(AtomicUsize::new(0));
    let work = Arc::new(work);
    let started = Instant::now();
    let workers = (0..32).map(|_| {
        let (api, queue, work, admin) = (
            client.clone(),
            queue.clone(),
            work.clone(),
            admin.to_owned(),
        );
        tokio::spawn(async move {
            let mut statuses = Vec::new();
            loop {
                let index = queue.fetch_add(1, Ordering::Relaxed);
                let Some(id) = work.get(index) else { break };
                let reply = api
                    .call(
                        Method::POST,
                        &format!("/api/v1/exam-reservations/{id}/confirm"),
                        Some(&admin),
                        Some(&json!({})),
                    )
                    .await;
                statuses.push(reply.map_or(0, |r| r.status));
            }
            statuses
        })
    });
    let statuses: Vec<u16> = join_all(workers)
        .await
        .into_iter()
        .flatten()
        .flatten()
        .collect();
    let elapsed = started.elapsed();
    let won = statuses.iter().filter(|s| **s == 200).count();
    let refused = statuses.iter().filter(|s| **s == 409).count();
    let other = statuses.len() - won - refused;
    let slots = api
        .call(
            Method::GET,
            &format!("/api/v1/exam-slots?date={date}"),
            Some(&tokens[0]),
            None,
        )
        .await?;
    let remaining: Value = slots.body["slots"]
        .as_array()
        .and_then(|s| {
            s.iter()
                .find(|slot| slot["starts_at"] == start.as_str())
                .map(|slot| slot["remaining"].clone())
        })
        .unwrap_or(Value::Null);
    println!(
        "\nprobe: {} confirms in {} ms: {won} confirmed, {refused} refused (409), {other} other; hour remaining {remaining}",
        statuses.len(),
        elapsed.as_millis()
    );
    if won == 71 && other == 0 && remaining == json!(300) {
        println!("probe: PASS (71 × 700 = 49,700 of 50,000; no duplicate confirm counted)");
        Ok(())
    } else {
        Err("probe: FAIL — the capacity invariant was broken".into())
    }
}
