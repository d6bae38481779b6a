//! One user of the on-sale: polls until admitted, then buys one seat (dates → seats → hold →
//! charge → pay), every request under the shared connection gate and recorded by kind.

use crate::client::{Api, Reply};
use crate::stats::Ledger;
use reqwest::Method;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// A user's access token and queue token.
pub(crate) struct Shopper {
    pub access: String,
    pub queue: String,
    /// Whether the room made this user active on joining (not admitted from the line later).
    pub active_at_join: bool,
}

/// A user shopping for one seat.
pub(crate) struct Buyer {
    pub api: Api,
    pub gate: Arc<Semaphore>,
    pub ledger: Arc<Ledger>,
    pub concert: String,
    pub index: usize,
    pub shopper: Shopper,
}

impl Buyer {
    /// One request under the connection gate, recorded under `name`.
    async fn call(
        &self,
        name: &'static str,
        method: Method,
        path: &str,
        body: Option<&Value>,
        expected: u16,
    ) -> Option<Reply> {
        let _permit = self.gate.acquire().await.ok()?;
        let sent = Instant::now();
        let queue = [("queue-token", self.shopper.queue.as_str())];
        let reply = self
            .api
            .call_with(method, path, Some(&self.shopper.access), body, &queue)
            .await
            .ok()?;
        self.ledger
            .record(name, sent.elapsed(), reply.status, expected);
        Some(reply)
    }

    pub(crate) async fn shop(
        &self,
        interval: Duration,
        deadline: Instant,
        sold: &AtomicUsize,
        admitted: &AtomicUsize,
        over: &AtomicBool,
        seats: usize,
    ) {
        let mut was_active = self.shopper.active_at_join;
        while Instant::now() < deadline && !over.load(Ordering::Relaxed) {
            let Some(place) = self
                .call(
                    "poll",
                    Method::GET,
                    "/api/v1/queue/tokens/current",
                    None,
                    200,
                )
                .await
            else {
                tokio::time::sleep(interval).await;
                continue;
            };
            if place.status != 200 {
                return; // token finished or lapsed
            }
            if place.body["status"] == "active" {
                if !was_active {
                    admitted.fetch_add(1, Ordering::Relaxed);
                    was_active = true;
                }
                if self.buy().await {
                    if sold.fetch_add(1, Ordering::Relaxed) + 1 >= seats {
                        over.store(true, Ordering::Relaxed);
                    }
                    return;
                }
            }
            tokio::time::sleep(interval).await;
        }
    }

    /// Dates → seats → hold (another free seat on a conflict, three tries) → charge → pay.
    async fn buy(&self) -> bool {
        let dates_path = format!("/api/v1/concerts/{}/dates", self.concert);
        let Some(dates) = self
            .call("dates", Method::GET, &dates_path, None, 200)
            .await
        else {
            return false;
        };
        let performances: Vec<String> = dates.body["dates"]
            .as_array()
            .map(|dates| {
                dates
                    .iter()
                    .filter_map(|d| d["performance_id"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        for attempt in 0..3 {
            let Some(performance) =
                performances.get((self.index + attempt) % performances.len().max(1))
            else {
                return false;
            };
            let Some(hold) = self.hold_a_seat(performance, attempt).await else {
                continue;
            };
            let charge = json!({ "amount": 50_000 });
            if self
                .call(
                    "charge",
                    Method::POST,
                    "/api/v1/wallet/charges",
                    Some(&charge),
                    201,
                )
                .await
                .is_none_or(|r| r.status != 201)
            {
                return false;
            }
            let pay = format!("/api/v1/seat-holds/{hold}/pay");
            return self
                .call("pay", Method::POST, &pay, Some(&json!({})), 201)
                .await
                .is_some_and(|r| r.status == 201);
        }
        false
    }

    async fn hold_a_seat(&self, performance: &str, attempt: usize) -> Option<String> {
        let seats_path = format!("/api/v1/performances/{performance}/seats");
        let seats = self
            .call("seats", Method::GET, &seats_path, None, 200)
            .await?;
        let free: Vec<u64> = seats.body["seats"]
            .as_array()?
            .iter()
            .filter(|seat| seat["status"] == "available")
            .filter_map(|seat| seat["number"].as_u64())
            .collect();
        let seat = *free.get((self.index * 7 + attempt) % free.len().max(1))?;
        let body = json!({ "performance_id": performance, "seat_number": seat });
        let reply = self
            .call("hold", Method::POST, "/api/v1/seat-holds", Some(&body), 201)
            .await?;
        (reply.status == 201)
            .then(|| reply.body["id"].as_str().map(str::to_owned))
            .flatten()
    }
}
