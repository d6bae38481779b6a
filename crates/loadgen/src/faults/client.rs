//! A well-behaved client over the three instances: each attempt goes to the next instance in
//! turn; a timeout, a refused connection, a 503 or a 409 `idempotency_key_in_flight` is retried
//! with the SAME `Idempotency-Key`, a bounded number of times with backoff (honouring
//! `Retry-After`, capped). Every attempt is logged: method, path, key, instance, status,
//! latency, `Retry-After`, the effect id of the body.

use reqwest::Method;
use serde_json::{Value, json};
use std::io::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// One logged attempt.
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    /// Milliseconds since the run started, when the attempt was sent.
    pub sent_ms: u64,
    pub latency_ms: f64,
    pub instance: usize,
    pub method: &'static str,
    /// The kind of request (`exam.create`, `wallet.charge`, …), for the figures.
    pub kind: &'static str,
    pub path: String,
    pub key: Option<String>,
    pub attempt: u32,
    /// 0 when no answer came (timeout, connection refused or cut).
    pub status: u16,
    pub retry_after: Option<String>,
    pub code: Option<String>,
    pub effect: Option<String>,
    pub error: Option<String>,
}

/// The answer a caller sees after the retries.
pub(crate) struct Reply {
    pub status: u16,
    pub body: Value,
}

/// Shared by every task of a run.
pub(crate) struct Client {
    http: reqwest::Client,
    bases: Vec<String>,
    next: AtomicUsize,
    started: Instant,
    pub log: Mutex<Vec<Entry>>,
    file: Mutex<std::fs::File>,
    /// How many times Redis was stopped so far: waiting-room state does not survive a stop.
    pub redis_epoch: AtomicU64,
    max_attempts: u32,
}

/// The effect id an answer names, by request kind.
fn effect_of(kind: &str, body: &Value) -> Option<String> {
    let id = match kind {
        "wallet.charge" => &body["transfer_id"],
        "catalog.apply" => &body["payment"]["id"],
        "queue.join" | "queue.poll" => &body["token"],
        _ => &body["id"],
    };
    id.as_str().map(str::to_owned)
}

impl Client {
    pub(crate) fn new(bases: Vec<String>, log_path: &std::path::Path) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .connect_timeout(Duration::from_secs(1))
            .pool_max_idle_per_host(64)
            .build()
            .map_err(|e| e.to_string())?;
        let file =
            std::fs::File::create(log_path).map_err(|e| format!("{}: {e}", log_path.display()))?;
        Ok(Self {
            http,
            bases,
            next: AtomicUsize::new(0),
            started: Instant::now(),
            log: Mutex::new(Vec::new()),
            file: Mutex::new(file),
            redis_epoch: AtomicU64::new(0),
            max_attempts: 8,
        })
    }

    /// Milliseconds since the run started.
    pub(crate) fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn record(&self, entry: Entry) {
        let line = json!({
            "sent_ms": entry.sent_ms, "latency_ms": entry.latency_ms, "instance": entry.instance,
            "method": entry.method, "kind": entry.kind, "path": entry.path, "key": entry.key,
            "attempt": entry.attempt, "status": entry.status, "retry_after": entry.retry_after,
            "code": entry.code, "effect": entry.effect, "error": entry.error,
        });
        if let Ok(mut file) = self.file.lock() {
            let _ = writeln!(file, "{line}");
        }
        if let Ok(mut log) = self.log.lock() {
            log.push(entry);
        }
    }

    /// A keyed request (a booking or money POST): retried under the same key.
    pub(crate) async fn keyed(
        &self,
        kind: &'static str,
        method: Method,
        path: &str,
        token: &str,
        body: &Value,
        headers: &[(&str, &str)],
    ) -> Option<Reply> {
        let key = uuid::Uuid::new_v4().to_string();
        self.send(kind, method, path, token, Some(body), Some(&key), headers)
            .await
    }

    /// One logical request: attempts until a final answer or the attempts run out (None).
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn send(
        &self,
        kind: &'static str,
        method: Method,
        path: &str,
        token: &str,
        body: Option<&Value>,
        key: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Option<Reply> {
        let mut backoff = Duration::from_millis(150);
        for attempt in 1..=self.max_attempts {
            let instance = self.next.fetch_add(1, Ordering::Relaxed) % self.bases.len();
            let mut request = self
                .http
                .request(method.clone(), format!("{}{path}", self.bases[instance]));
            if !token.is_empty() {
                request = request.bearer_auth(token);
            }
            for (name, value) in headers {
                request = request.header(*name, *value);
            }
            if let Some(key) = key {
                request = request.header("Idempotency-Key", key);
            }
            if let Some(body) = body {
                request = request.json(body);
            }
            let sent_ms = self.now_ms();
            let sent = Instant::now();
            let outcome = match request.send().await {
                Ok(response) => {
                    let status = response.status().as_u16();
                    let retry_after = response
                        .headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned);
                    match response.text().await {
                        Ok(text) => Ok((
                            status,
                            retry_after,
                            serde_json::from_str(&text).unwrap_or(Value::Null),
                        )),
                        Err(error) => Err(error.to_string()),
                    }
                }
                Err(error) => Err(error.to_string()),
            };
            let latency_ms = sent.elapsed().as_secs_f64() * 1000.0;
            let mut entry = Entry {
                sent_ms,
                latency_ms,
                instance,
                method: method_name(&method),
                kind,
                path: path.to_owned(),
                key: key.map(str::to_owned),
                attempt,
                status: 0,
                retry_after: None,
                code: None,
                effect: None,
                error: None,
            };
            let wait = match outcome {
                Err(error) => {
                    entry.error = Some(error);
                    self.record(entry);
                    backoff
                }
                Ok((status, retry_after, body)) => {
                    let code = body["code"].as_str().map(str::to_owned);
                    // `outcome_unknown` is retried only where the key derives the effect's id
                    // (a charge's transfer, an apply's payment, a hold's payment: the API
                    // documents the retry as safe); elsewhere the API asks to look first, and
                    // its answer is replayed under the key, so the caller looks.
                    let unknown = code.as_deref() == Some("outcome_unknown");
                    let derived = matches!(kind, "wallet.charge" | "catalog.apply" | "seat.pay");
                    let retry = (status == 503 && (!unknown || derived))
                        || (status == 409 && code.as_deref() == Some("idempotency_key_in_flight"));
                    let hinted = retry_after
                        .as_deref()
                        .and_then(|s| s.trim().parse::<u64>().ok())
                        .map(Duration::from_secs);
                    entry.status = status;
                    entry.retry_after = retry_after;
                    entry.code = code;
                    if (200..300).contains(&status) {
                        entry.effect = effect_of(kind, &body);
                    }
                    self.record(entry);
                    if !retry {
                        return Some(Reply { status, body });
                    }
                    // Honour Retry-After, but never sleep more than 2 s at a time.
                    hinted.map_or(backoff, |h| h.min(Duration::from_secs(2)).max(backoff))
                }
            };
            tokio::time::sleep(wait).await;
            backoff = (backoff * 2).min(Duration::from_secs(2));
        }
        None
    }

    /// A keyless request, retried the same way.
    pub(crate) async fn plain(
        &self,
        kind: &'static str,
        method: Method,
        path: &str,
        token: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Option<Reply> {
        self.send(kind, method, path, token, body, None, headers)
            .await
    }
}

fn method_name(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        _ => "OTHER",
    }
}
