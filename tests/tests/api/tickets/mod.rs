//! Tickets over HTTP on both backends: a concert's whole story from its creation to a refund,
//! every refusal of the waiting room and the seat routes, and races for seats. The request
//! builders shared by the submodules are here.

mod concurrency;
mod refusals;
mod story;

use crate::helpers::{JWT_SECRET, TestApp, unique};
use chrono::{Duration, SecondsFormat, Utc};
use serde_json::{Value, json};

/// A request with a bearer token and, when given, a `Queue-Token`.
fn with_queue(
    request: reqwest::RequestBuilder,
    bearer: &str,
    queue: Option<&str>,
) -> reqwest::RequestBuilder {
    let request = request.bearer_auth(bearer);
    match queue {
        Some(token) => request.header("Queue-Token", token),
        None => request,
    }
}

impl TestApp {
    /// A GET with a bearer token and maybe a `Queue-Token`.
    pub async fn get_queued(
        &self,
        path: &str,
        bearer: &str,
        queue: Option<&str>,
    ) -> crate::helpers::Answer {
        self.send(with_queue(self.client.get(self.url(path)), bearer, queue))
            .await
    }

    /// A POST with a bearer token and maybe a `Queue-Token`.
    pub async fn post_queued(
        &self,
        path: &str,
        body: &Value,
        bearer: &str,
        queue: Option<&str>,
    ) -> crate::helpers::Answer {
        let request = self.client.post(self.url(path)).json(body);
        self.send(with_queue(request, bearer, queue)).await
    }

    /// A member without a login: signed up (for the user row), with an access token signed by
    /// the test secret, as login would issue it. Saves a password hash per user in the races.
    pub async fn quick_member(&self, name: &str) -> (String, String) {
        let user = self.signup(name).await;
        let id = user["id"].as_str().expect("id").to_owned();
        let now = Utc::now().timestamp();
        let claims = json!({"sub": id, "sid": uuid::Uuid::now_v7(), "role": "member",
            "iat": now, "exp": now + 900, "iss": "reserva", "aud": "reserva-api",
            "jti": uuid::Uuid::new_v4()});
        let key = jsonwebtoken::EncodingKey::from_secret(JWT_SECRET.as_bytes());
        let token =
            jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &key).expect("signed");
        (token, id)
    }
}

/// An instant `days` from now, as a request carries it.
fn in_days(days: i64) -> String {
    (Utc::now() + Duration::days(days))
        .with_timezone(&chrono_tz::Asia::Seoul)
        .to_rfc3339_opts(SecondsFormat::Secs, false)
}

/// Creates a concert (as `admin`) with a performance on each of `days` from now; returns the
/// concert's id and its performances' ids, earliest first.
async fn concert(
    app: &TestApp,
    admin: &str,
    price: i64,
    days: &[i64],
    seats: i64,
) -> (String, Vec<String>) {
    let performances: Vec<Value> = days
        .iter()
        .map(|day| json!({"starts_at": in_days(*day)}))
        .collect();
    let body = json!({"title": unique("Gala "), "price": price, "performances": performances,
        "seats": seats});
    let answer = app.post("/api/v1/admin/concerts", &body, Some(admin)).await;
    assert_eq!(answer.status, 201, "{:#}", answer.body);
    let id = answer.body["id"].as_str().expect("id").to_owned();
    let performances = answer.body["performances"]
        .as_array()
        .expect("performances")
        .iter()
        .map(|performance| performance["id"].as_str().expect("id").to_owned())
        .collect();
    (id, performances)
}

/// Joins the concert's line; returns the whole answer body (token, status, position, …).
async fn join(app: &TestApp, member: &str, concert: &str) -> Value {
    let body = json!({"concert_id": concert});
    let answer = app.post("/api/v1/queue/tokens", &body, Some(member)).await;
    assert!(
        answer.status == 201 || answer.status == 200,
        "{:#}",
        answer.body
    );
    answer.body
}

/// Joins and asserts the caller is active at once; returns the queue token.
async fn active_token(app: &TestApp, member: &str, concert: &str) -> String {
    let place = join(app, member, concert).await;
    assert_eq!(place["status"], "active", "{place:#}");
    place["token"].as_str().expect("token").to_owned()
}

/// Holds `seat` of `performance`; returns the answer.
async fn hold(
    app: &TestApp,
    member: &str,
    queue: &str,
    performance: &str,
    seat: i64,
) -> crate::helpers::Answer {
    let body = json!({"performance_id": performance, "seat_number": seat});
    app.post_queued("/api/v1/seat-holds", &body, member, Some(queue))
        .await
}

/// Charges the caller's wallet and asserts it worked.
async fn charge(app: &TestApp, member: &str, amount: i64) {
    let body = json!({"amount": amount});
    let answer = app
        .post("/api/v1/wallet/charges", &body, Some(member))
        .await;
    assert_eq!(answer.status, 201, "{:#}", answer.body);
}

/// The caller's balance.
async fn balance(app: &TestApp, member: &str) -> i64 {
    let answer = app.get("/api/v1/wallet", Some(member)).await;
    assert_eq!(answer.status, 200, "{:#}", answer.body);
    answer.body["balance"].as_i64().expect("balance")
}
