//! How tests talk to the server: requests with or without a bearer token, answers read fully,
//! and the account shortcuts (sign up, log in, become an administrator) most tests begin with.

use super::{Answer, TestApp};
use serde_json::{Value, json};

impl TestApp {
    pub async fn send(&self, request: reqwest::RequestBuilder) -> Answer {
        let response = request.send().await.expect("request sent");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body read");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Answer {
            status,
            headers,
            body,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    fn with_token(
        &self,
        request: reqwest::RequestBuilder,
        token: Option<&str>,
    ) -> reqwest::RequestBuilder {
        match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Answer {
        self.send(self.with_token(self.client.get(self.url(path)), token))
            .await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Answer {
        self.send(self.with_token(self.client.delete(self.url(path)), token))
            .await
    }

    pub async fn post(&self, path: &str, body: &Value, token: Option<&str>) -> Answer {
        self.send(self.with_token(self.client.post(self.url(path)).json(body), token))
            .await
    }

    /// A POST with an `Idempotency-Key`.
    pub async fn post_with_key(&self, path: &str, body: &Value, token: &str, key: &str) -> Answer {
        let request = self
            .client
            .post(self.url(path))
            .json(body)
            .bearer_auth(token)
            .header("Idempotency-Key", key);
        self.send(request).await
    }

    pub async fn patch(&self, path: &str, body: &Value, token: Option<&str>) -> Answer {
        self.send(self.with_token(self.client.patch(self.url(path)).json(body), token))
            .await
    }

    /// Signs up `name` (e-mail `name@example.com`, password `secret123`).
    pub async fn signup(&self, name: &str) -> Value {
        let body = json!({"email": format!("{name}@example.com"), "username": name, "password": "secret123", "password_confirm": "secret123"});
        let answer = self.post("/api/v1/auth/signup", &body, None).await;
        assert_eq!(answer.status, 201, "{:#}", answer.body);
        answer.body
    }

    /// Logs in and returns the token response.
    pub async fn login(&self, name: &str, password: &str) -> Answer {
        let body = json!({"email": format!("{name}@example.com"), "password": password});
        self.post("/api/v1/auth/login", &body, None).await
    }

    /// Signs up and logs in; returns (access token, refresh token, user id).
    pub async fn member(&self, name: &str) -> (String, String, String) {
        let user = self.signup(name).await;
        let answer = self.login(name, "secret123").await;
        assert_eq!(answer.status, 200, "{:#}", answer.body);
        let text = |key: &str| answer.body[key].as_str().expect("token").to_owned();
        (
            text("access_token"),
            text("refresh_token"),
            user["id"].as_str().expect("id").to_owned(),
        )
    }

    /// Creates an administrator the way an operator does (`reserva admin create`) and logs in.
    pub async fn admin(&self, name: &str) -> (String, String) {
        let email = format!("{name}@example.com");
        reserva_server::cli::create_administrator(
            &self.settings,
            email,
            name.into(),
            "secret123".into(),
        )
        .await
        .expect("admin created");
        let answer = self.login(name, "secret123").await;
        assert_eq!(answer.status, 200, "{:#}", answer.body);
        let token = answer.body["access_token"]
            .as_str()
            .expect("token")
            .to_owned();
        let id = answer.body["user"]["id"].as_str().expect("id").to_owned();
        (token, id)
    }
}
