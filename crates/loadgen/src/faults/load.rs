//! The mixed load: an exam flash crowd with confirms, wallet top-ups, catalog applies and
//! cancels paid from the wallet, and a concert on-sale through the waiting room. Every request
//! goes through [`Client`], so it is logged and retried like a careful client would.

use crate::client::Client;
use chrono::{Duration as Days, NaiveDate, SecondsFormat, TimeZone, Utc};
use chrono_tz::Asia::Seoul;
use reqwest::Method;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A tiny xorshift generator: the load needs variety, not statistics.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub(crate) fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % bound.max(1)
    }
}

/// What a waiting-room answer said, for the queue-order check.
#[derive(Clone, Debug)]
pub(crate) struct QueueEvent {
    pub user: usize,
    pub concert: usize,
    pub token: String,
    pub join: bool,
    pub sent_ms: u64,
    pub received_ms: u64,
    pub epoch_sent: u64,
    pub epoch_received: u64,
    pub active: bool,
    pub position: i64,
}

/// The run's shared state.
pub(crate) struct Load {
    pub client: Arc<Client>,
    pub admin: String,
    pub members: Vec<String>,
    pub buyers: Vec<String>,
    pub date: NaiveDate,
    pub tests: Vec<(String, i64)>,
    pub concerts: Vec<String>,
    pub pending: Mutex<Vec<String>>,
    pub queue: Mutex<Vec<QueueEvent>>,
    pub stop: AtomicBool,
    /// A buyer's mean pause between two purchases.
    pub pace: Duration,
    /// When the load started (set by [`Load::start`]); a new flash crowd every sixth of the run.
    pub started: Mutex<Option<Instant>>,
    pub seconds: u64,
}

/// The price of every concert seat.
const SEAT_PRICE: i64 = 10_000;

fn seoul_hour(date: NaiveDate, hour: u32) -> String {
    date.and_hms_opt(hour, 0, 0)
        .and_then(|t| Seoul.from_local_datetime(&t).earliest())
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, false))
        .unwrap_or_default()
}

async fn login(client: &Client, email: &str, password: &str) -> Result<String, String> {
    let body = json!({"email": email, "password": password});
    let reply = client
        .plain(
            "setup.login",
            Method::POST,
            "/api/v1/auth/login",
            "",
            Some(&body),
            &[],
        )
        .await
        .ok_or("login: no answer")?;
    reply.body["access_token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("login {email}: {} {}", reply.status, reply.body))
}

async fn user(client: &Client, name: &str) -> Result<String, String> {
    let email = format!("{name}@example.com");
    let body = json!({"email": email, "username": name, "password": "secret123", "password_confirm": "secret123"});
    let reply = client
        .plain(
            "setup.signup",
            Method::POST,
            "/api/v1/auth/signup",
            "",
            Some(&body),
            &[],
        )
        .await
        .ok_or("signup: no answer")?;
    if reply.status != 201 {
        return Err(format!("signup {name}: {} {}", reply.status, reply.body));
    }
    login(client, &email, "secret123").await
}

async fn created(
    client: &Client,
    kind: &'static str,
    path: &str,
    admin: &str,
    body: &Value,
) -> Result<String, String> {
    let reply = client
        .plain(kind, Method::POST, path, admin, Some(body), &[])
        .await
        .ok_or_else(|| format!("{kind}: no answer"))?;
    reply.body["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("{kind}: {} {}", reply.status, reply.body))
}

impl Load {
    /// Users, an exam date, catalog tests and two concerts.
    pub(crate) async fn prepare(
        client: Arc<Client>,
        members: usize,
        buyers: usize,
        seconds: u64,
    ) -> Result<Self, String> {
        let admin = login(
            &client,
            crate::infra::ADMIN_EMAIL,
            crate::infra::ADMIN_PASSWORD,
        )
        .await?;
        let mut member_tokens = Vec::new();
        for index in 0..members {
            member_tokens.push(user(&client, &format!("member{index}")).await?);
        }
        let mut buyer_tokens = Vec::new();
        for index in 0..buyers {
            buyer_tokens.push(user(&client, &format!("buyer{index}")).await?);
        }
        let at = |hours: i64| {
            (Utc::now() + Days::hours(hours))
                .with_timezone(&Seoul)
                .to_rfc3339_opts(SecondsFormat::Secs, false)
        };
        let mut tests = Vec::new();
        for index in 0..4_i64 {
            let price = 1_000 * (index + 1);
            let body = json!({"title": format!("Fault test {index}"), "description": "harness",
                "price": price, "starts_at": at(-24), "ends_at": at(24 * 7)});
            tests.push((
                created(&client, "setup.test", "/api/v1/admin/tests", &admin, &body).await?,
                price,
            ));
        }
        let mut concerts = Vec::new();
        for index in 0..2_i64 {
            let performances: Vec<Value> = (0..8)
                .map(|d| json!({"starts_at": at(24 * (30 + d + 10 * index))}))
                .collect();
            let body = json!({"title": format!("Fault concert {index}"), "price": SEAT_PRICE,
                "performances": performances, "seats": 10});
            concerts.push(
                created(
                    &client,
                    "setup.concert",
                    "/api/v1/admin/concerts",
                    &admin,
                    &body,
                )
                .await?,
            );
        }
        Ok(Self {
            client,
            admin,
            members: member_tokens,
            buyers: buyer_tokens,
            date: Utc::now().with_timezone(&Seoul).date_naive() + Days::days(10),
            tests,
            concerts,
            pending: Mutex::new(Vec::new()),
            queue: Mutex::new(Vec::new()),
            stop: AtomicBool::new(false),
            pace: Duration::from_secs(seconds) / 10,
            started: Mutex::new(None),
            seconds,
        })
    }

    /// Marks the start of the load.
    pub(crate) fn start(&self) {
        if let Ok(mut started) = self.started.lock() {
            *started = Some(Instant::now());
        }
    }

    /// The date of the current flash crowd: the first date, then the next one every sixth of
    /// the run, so four fresh hours open to the crowd (and to the confirms) through every fault.
    fn crowd_date(&self) -> NaiveDate {
        let elapsed = self
            .started
            .lock()
            .ok()
            .and_then(|s| s.map(|s| s.elapsed()))
            .unwrap_or_default();
        let phase = elapsed.as_secs() * 6 / self.seconds.max(1);
        self.date + Days::days(i64::try_from(phase.min(6)).unwrap_or(0))
    }

    fn going(&self, deadline: Instant) -> bool {
        Instant::now() < deadline && !self.stop.load(Ordering::Relaxed)
    }

    /// One member: exam reservations on the flash-crowd date, wallet top-ups, catalog applies
    /// and cancels, slot reads.
    pub(crate) async fn member(self: Arc<Self>, index: usize, deadline: Instant) {
        let token = self.members[index].clone();
        let mut rng = Rng::new(index as u64 + 1);
        let mut live: Vec<(usize, String)> = Vec::new();
        let client = &self.client;
        while self.going(deadline) {
            match rng.below(10) {
                0..=3 => {
                    let hour = u32::try_from(rng.below(4)).unwrap_or(0) + 10;
                    let date = self.crowd_date();
                    let body = json!({"starts_at": seoul_hour(date, hour),
                        "ends_at": seoul_hour(date, hour + 1),
                        "headcount": 500 + rng.below(2_500)});
                    let reply = client
                        .keyed(
                            "exam.create",
                            Method::POST,
                            "/api/v1/exam-reservations",
                            &token,
                            &body,
                            &[],
                        )
                        .await;
                    let id = match reply {
                        Some(r) if r.status == 201 => r.body["id"].as_str().map(str::to_owned),
                        // The answer was lost mid-write: look the reservation up, as the API
                        // asks, rather than retry blindly.
                        Some(r) if r.body["code"] == "outcome_unknown" => {
                            match r.body["resource_id"].as_str() {
                                Some(id) => {
                                    let path = format!("/api/v1/exam-reservations/{id}");
                                    client
                                        .plain("exam.lookup", Method::GET, &path, &token, None, &[])
                                        .await
                                        .filter(|r| r.status == 200)
                                        .map(|_| id.to_owned())
                                }
                                None => None,
                            }
                        }
                        _ => None,
                    };
                    if let (Some(id), Ok(mut pending)) = (id, self.pending.lock()) {
                        pending.push(id);
                    }
                }
                4 | 5 => {
                    let body = json!({"amount": 1_000 + rng.below(20_000)});
                    client
                        .keyed(
                            "wallet.charge",
                            Method::POST,
                            "/api/v1/wallet/charges",
                            &token,
                            &body,
                            &[],
                        )
                        .await;
                }
                6..=8 => {
                    let item = usize::try_from(rng.below(self.tests.len() as u64)).unwrap_or(0);
                    if let Some(at) = live.iter().position(|(i, _)| *i == item) {
                        let (_, payment) = live.swap_remove(at);
                        let path = format!("/api/v1/me/payments/{payment}/cancel");
                        client
                            .plain("catalog.cancel", Method::POST, &path, &token, None, &[])
                            .await;
                    } else {
                        let (test, price) = &self.tests[item];
                        let body = json!({"amount": price, "payment_method": "wallet"});
                        let path = format!("/api/v1/tests/{test}/apply");
                        let reply = client
                            .keyed("catalog.apply", Method::POST, &path, &token, &body, &[])
                            .await;
                        if let Some(id) = reply
                            .filter(|r| r.status == 201)
                            .and_then(|r| r.body["payment"]["id"].as_str().map(str::to_owned))
                        {
                            live.push((item, id));
                        }
                    }
                }
                _ => {
                    let path = format!("/api/v1/exam-slots?date={}", self.date);
                    client
                        .plain("exam.slots", Method::GET, &path, &token, None, &[])
                        .await;
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The administrator confirming pending reservations, each under its own key.
    pub(crate) async fn confirmer(self: Arc<Self>, deadline: Instant) {
        while self.going(deadline) {
            let next = self.pending.lock().ok().and_then(|mut p| p.pop());
            let Some(id) = next else {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            };
            let path = format!("/api/v1/exam-reservations/{id}/confirm");
            self.client
                .keyed(
                    "exam.confirm",
                    Method::POST,
                    &path,
                    &self.admin,
                    &json!({}),
                    &[],
                )
                .await;
        }
    }

    fn note(&self, user: usize, sent_ms: u64, epoch_sent: u64, join: bool, body: &Value) {
        let Some(token) = body["token"].as_str() else {
            return;
        };
        let event = QueueEvent {
            user,
            concert: user % self.concerts.len(),
            token: token.to_owned(),
            join,
            sent_ms,
            received_ms: self.client.now_ms(),
            epoch_sent,
            epoch_received: self.client.redis_epoch.load(Ordering::SeqCst),
            active: body["status"] == "active",
            position: body["position"].as_i64().unwrap_or(-1),
        };
        if let Ok(mut queue) = self.queue.lock() {
            queue.push(event);
        }
    }

    /// One buyer: joins a concert's line, polls until admitted, holds a seat, tops up and pays;
    /// then joins again for another date, until the run ends or the concert is sold out.
    pub(crate) async fn buyer(self: Arc<Self>, index: usize, deadline: Instant) {
        let token = self.buyers[index].clone();
        let concert = self.concerts[index % self.concerts.len()].clone();
        let mut rng = Rng::new(1_000 + index as u64);
        let mut bought = std::collections::HashSet::new();
        let client = &self.client;
        'join: while self.going(deadline) {
            let (sent_ms, epoch) = (client.now_ms(), client.redis_epoch.load(Ordering::SeqCst));
            let body = json!({"concert_id": concert});
            let Some(joined) = client
                .plain(
                    "queue.join",
                    Method::POST,
                    "/api/v1/queue/tokens",
                    &token,
                    Some(&body),
                    &[],
                )
                .await
            else {
                continue;
            };
            if joined.status == 409 {
                return; // nothing on sale any more
            }
            if !matches!(joined.status, 200 | 201) {
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
            self.note(index, sent_ms, epoch, true, &joined.body);
            let Some(queue) = joined.body["token"].as_str().map(str::to_owned) else {
                continue;
            };
            let mut active = joined.body["status"] == "active";
            while self.going(deadline) {
                if !active {
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    let (sent_ms, epoch) =
                        (client.now_ms(), client.redis_epoch.load(Ordering::SeqCst));
                    let headers = [("queue-token", queue.as_str())];
                    let Some(place) = client
                        .plain(
                            "queue.poll",
                            Method::GET,
                            "/api/v1/queue/tokens/current",
                            &token,
                            None,
                            &headers,
                        )
                        .await
                    else {
                        continue;
                    };
                    if place.status != 200 {
                        continue 'join;
                    }
                    self.note(index, sent_ms, epoch, false, &place.body);
                    if place.body["availability"] == "sold_out" && place.body["status"] != "active"
                    {
                        return;
                    }
                    active = place.body["status"] == "active";
                    continue;
                }
                match self
                    .buy(&token, &queue, &concert, &mut rng, &mut bought)
                    .await
                {
                    // A pause between purchases spreads each buyer's dates over the whole
                    // run, so the sale is still going when the faults come.
                    Bought::Yes => {
                        let pause = self.pace.mul_f64(0.5 + rng.below(1_000) as f64 / 1_000.0);
                        let left = deadline.saturating_duration_since(Instant::now());
                        tokio::time::sleep(pause.min(left)).await;
                        continue 'join;
                    }
                    Bought::Retry => continue 'join,
                    Bought::SoldOut => return,
                }
            }
        }
    }

    /// One seat on a date not `bought` yet (one booking per user, concert and date).
    async fn buy(
        &self,
        token: &str,
        queue: &str,
        concert: &str,
        rng: &mut Rng,
        bought: &mut std::collections::HashSet<String>,
    ) -> Bought {
        let client = &self.client;
        let headers = [("queue-token", queue)];
        let path = format!("/api/v1/concerts/{concert}/dates");
        let Some(dates) = client
            .plain("seat.dates", Method::GET, &path, token, None, &headers)
            .await
        else {
            return Bought::Retry;
        };
        let performances: Vec<String> = dates.body["dates"]
            .as_array()
            .map(|d| {
                d.iter()
                    .filter(|d| d["free_seats"].as_i64().unwrap_or(0) > 0)
                    .filter_map(|d| d["performance_id"].as_str().map(str::to_owned))
                    .filter(|p| !bought.contains(p))
                    .collect()
            })
            .unwrap_or_default();
        if dates.status == 200 && performances.is_empty() {
            return Bought::SoldOut;
        }
        for _ in 0..3 {
            let pick = usize::try_from(rng.below(performances.len() as u64)).unwrap_or(0);
            let Some(performance) = performances.get(pick) else {
                return Bought::Retry;
            };
            let path = format!("/api/v1/performances/{performance}/seats");
            let Some(seats) = client
                .plain("seat.list", Method::GET, &path, token, None, &headers)
                .await
            else {
                return Bought::Retry;
            };
            let free: Vec<u64> = seats.body["seats"]
                .as_array()
                .map(|s| {
                    s.iter()
                        .filter(|s| s["status"] == "available")
                        .filter_map(|s| s["number"].as_u64())
                        .collect()
                })
                .unwrap_or_default();
            let Some(&seat) = free.get(usize::try_from(rng.below(free.len() as u64)).unwrap_or(0))
            else {
                continue;
            };
            let body = json!({"performance_id": performance, "seat_number": seat});
            let Some(hold) = client
                .keyed(
                    "seat.hold",
                    Method::POST,
                    "/api/v1/seat-holds",
                    token,
                    &body,
                    &headers,
                )
                .await
            else {
                return Bought::Retry;
            };
            if hold.status != 201 {
                if hold.body["code"] == "seat_unavailable" {
                    continue;
                }
                return Bought::Retry;
            }
            let Some(hold) = hold.body["id"].as_str().map(str::to_owned) else {
                return Bought::Retry;
            };
            let charge = json!({"amount": SEAT_PRICE});
            client
                .keyed(
                    "wallet.charge",
                    Method::POST,
                    "/api/v1/wallet/charges",
                    token,
                    &charge,
                    &[],
                )
                .await;
            let path = format!("/api/v1/seat-holds/{hold}/pay");
            let paid = client
                .keyed("seat.pay", Method::POST, &path, token, &json!({}), &headers)
                .await;
            if paid.is_some_and(|p| p.status == 201) {
                bought.insert(performance.clone());
                return Bought::Yes;
            }
            // Not paid (outage): give the seat back rather than sit on it until it expires.
            let path = format!("/api/v1/seat-holds/{hold}");
            client
                .plain("seat.release", Method::DELETE, &path, token, None, &[])
                .await;
            return Bought::Retry;
        }
        Bought::Retry
    }
}

enum Bought {
    Yes,
    Retry,
    SoldOut,
}
