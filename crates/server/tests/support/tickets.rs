//! The tickets routes as the process tests call them.
#![expect(clippy::expect_used)] // a test fails loudly on the unexpected

use super::{client, send};
use chrono::{Duration, SecondsFormat, Utc};
use serde_json::{Value, json};

/// Creates a concert with one performance in two days; its id and the performance's.
pub async fn concert(base: &str, admin: &str, price: i64, seats: i64) -> (String, String) {
    let starts_at = (Utc::now() + Duration::days(2)).to_rfc3339_opts(SecondsFormat::Secs, true);
    let body = json!({"title": "Gala", "price": price, "performances": [{"starts_at": starts_at}],
        "seats": seats});
    let request = client()
        .post(format!("{base}/api/v1/admin/concerts"))
        .bearer_auth(admin)
        .json(&body);
    let (status, body) = send(request).await;
    assert_eq!(status, 201, "{body:#}");
    let performance = body["performances"][0]["id"].as_str().expect("performance");
    (
        body["id"].as_str().expect("id").to_owned(),
        performance.to_owned(),
    )
}

/// `POST /queue/tokens` for `concert`; the status and body.
pub async fn join(
    client: &reqwest::Client,
    base: &str,
    bearer: &str,
    concert: &str,
) -> (u16, Value) {
    let request = client
        .post(format!("{base}/api/v1/queue/tokens"))
        .bearer_auth(bearer)
        .json(&json!({"concert_id": concert}));
    send(request).await
}

/// A POST with a bearer and a `Queue-Token`.
pub async fn post_queued(
    client: &reqwest::Client,
    url: String,
    bearer: &str,
    queue: &str,
    body: Value,
) -> (u16, Value) {
    let request = client
        .post(url)
        .bearer_auth(bearer)
        .header("Queue-Token", queue)
        .json(&body);
    send(request).await
}
