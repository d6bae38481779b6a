//! The commerce checkout workload: each chain is one fresh user buying one course end to end
//! through the two-phase provider, as a browser and the provider would drive it:
//!
//! 1. `POST /api/v1/orders` with `{items: [{course_id}]}` (201, the order, pending);
//! 2. `POST /api/v1/orders/{id}/checkout` with `{payment_method: "card"}` (201: the provider's
//!    *ready*, a payment id and an approval address);
//! 3. `POST /api/v1/simulated-provider/payments/{payment_id}/approve` (2xx): the user's approval
//!    at the simulated provider, which sends the signed callback through the callback endpoint's
//!    own path (signature check, idempotent apply: payment paid, order paid, 730 days of access,
//!    ledger transfer).
//!
//! A chain's latency is the three requests together; a chain counts as expected only when all
//! three answered as above. Users are never reused (one pending order per user, and an owned
//! course cannot be ordered again), so a run needs as many users as chains. Checked afterwards
//! by the script from the database: every expected chain left one paid order with its access,
//! and `reserva wallet verify` is clean.

use crate::Options;
use crate::client::Api;
use crate::onsale::signed_tokens;
use reqwest::Method;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// The header of the checkout table.
const HEADER: &str = "| workload | connections | chains | chains/s | p50 ms | p99 ms | unexpected chains | chains by first failing step |\n|---|---|---|---|---|---|---|---|";

/// How a chain ended: `ok`, or the step that answered otherwise and its status (0: no answer).
fn outcome(step: &str, status: u16) -> String {
    format!("{step} {status}")
}

/// One chain for `token` buying `course`: `None` when every step answered as expected, else the
/// first step that did not, with its status.
async fn chain(api: &Api, token: &str, course: &str) -> Option<String> {
    let order = api
        .call(
            Method::POST,
            "/api/v1/orders",
            Some(token),
            Some(&json!({ "items": [{ "course_id": course }] })),
        )
        .await;
    let order = match order {
        Ok(reply) if reply.status == 201 => reply,
        Ok(reply) => return Some(outcome("order", reply.status)),
        Err(_) => return Some(outcome("order", 0)),
    };
    let Some(order_id) = order.body.get("id").and_then(|id| id.as_str()) else {
        return Some(outcome("order (no id)", 201));
    };
    let ready = api
        .call(
            Method::POST,
            &format!("/api/v1/orders/{order_id}/checkout"),
            Some(token),
            Some(&json!({ "payment_method": "card" })),
        )
        .await;
    let ready = match ready {
        Ok(reply) if reply.status == 201 => reply,
        Ok(reply) => return Some(outcome("checkout", reply.status)),
        Err(_) => return Some(outcome("checkout", 0)),
    };
    let Some(payment_id) = ready.body.get("payment_id").and_then(|id| id.as_str()) else {
        return Some(outcome("checkout (no payment_id)", 201));
    };
    let approved = api
        .call(
            Method::POST,
            &format!("/api/v1/simulated-provider/payments/{payment_id}/approve"),
            Some(token),
            None,
        )
        .await;
    match approved {
        Ok(reply) if (200..300).contains(&reply.status) => None,
        Ok(reply) => Some(outcome("approve", reply.status)),
        Err(_) => Some(outcome("approve", 0)),
    }
}

/// The course ids of `path`, one per line.
fn course_ids(path: &str) -> Result<Vec<String>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let ids: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(String::from)
        .collect();
    if ids.is_empty() {
        return Err(format!("{path} holds no course id"));
    }
    Ok(ids)
}

/// The checkout chain at each connection count, users taken fresh across the runs.
pub(crate) async fn run(options: &Options) -> Result<(), String> {
    let users = options
        .user_ids
        .as_deref()
        .ok_or("--user-ids is required for the checkout workload")?;
    let courses = options
        .course_ids
        .as_deref()
        .ok_or("--course-ids is required for the checkout workload")?;
    let secret = options
        .jwt_secret
        .as_deref()
        .ok_or("--jwt-secret (or RESERVA_LOAD_JWT_SECRET) is required for checkout")?;
    let tokens = Arc::new(signed_tokens(users, secret)?);
    let courses = Arc::new(course_ids(courses)?);
    println!(
        "{} users (one per chain), {} courses\n\n{HEADER}",
        tokens.len(),
        courses.len()
    );
    let mut offset = 0;
    let mut unexpected_total = 0;
    for &connections in &options.connections {
        let api = Api::new(&options.base_url, connections, false)?;
        let ends = Arc::new(Mutex::new(BTreeMap::<String, usize>::new()));
        let (users, courses, sink, start) = (tokens.clone(), courses.clone(), ends.clone(), offset);
        let stats = crate::workloads::timed(connections, options.duration(), move |i| {
            let index = start + i;
            let token = users.get(index).cloned();
            let course = courses[index % courses.len()].clone();
            let (api, sink) = (api.clone(), sink.clone());
            async move {
                let token = token?;
                let failed = chain(&api, &token, &course).await;
                let expected = failed.is_none();
                if let Ok(mut ends) = sink.lock() {
                    *ends
                        .entry(failed.unwrap_or_else(|| "ok".into()))
                        .or_insert(0) += 1;
                }
                Some(expected)
            }
        })
        .await;
        offset += stats.latencies.len();
        unexpected_total += stats.unexpected;
        let ends: Vec<String> = ends
            .lock()
            .map(|ends| ends.iter().map(|(end, n)| format!("{end}: {n}")).collect())
            .unwrap_or_default();
        println!(
            "{} {} |",
            stats.row(
                "CHECKOUT (order + ready + approve/callback)",
                connections,
                false
            ),
            ends.join(", ")
        );
        if offset >= tokens.len() {
            println!("(the run used every user: give it more with LOAD_USERS)");
        }
    }
    println!("\nchains sent: {offset}");
    if unexpected_total > 0 {
        return Err(format!(
            "checkout: {unexpected_total} chain(s) did not end paid"
        ));
    }
    Ok(())
}
