//! A thin JSON client over reqwest.

use reqwest::header::{CONNECTION, HeaderValue};
use serde_json::Value;

/// A client for one base URL.
#[derive(Clone)]
pub(crate) struct Api {
    http: reqwest::Client,
    base: String,
    close: bool,
}

/// Status and parsed body.
pub(crate) struct Reply {
    pub status: u16,
    pub body: Value,
}

impl Api {
    pub(crate) fn new(base: &str, connections: usize, close: bool) -> Result<Self, String> {
        let mut builder = reqwest::Client::builder().pool_max_idle_per_host(connections);
        if close {
            builder = builder.pool_max_idle_per_host(0);
        }
        let http = builder.build().map_err(|e| e.to_string())?;
        Ok(Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
            close,
        })
    }

    pub(crate) async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Result<Reply, String> {
        self.call_with(method, path, token, body, &[]).await
    }

    /// The status of an authenticated GET whose body is received in full and dropped unparsed,
    /// as wrk measures: read workloads only count statuses, and parsing every body into JSON
    /// would spend on the load tool the CPU the server shares with it.
    pub(crate) async fn get_status(&self, path: &str, token: &str) -> Result<u16, String> {
        let mut request = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(token);
        if self.close {
            request = request.header(CONNECTION, HeaderValue::from_static("close"));
        }
        let response = request.send().await.map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        response.bytes().await.map_err(|e| e.to_string())?;
        Ok(status)
    }

    /// [`Api::call`] with extra request headers (`Queue-Token`).
    pub(crate) async fn call_with(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Result<Reply, String> {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        if self.close {
            request = request.header(CONNECTION, HeaderValue::from_static("close"));
        }
        let response = request.send().await.map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let text = response.text().await.map_err(|e| e.to_string())?;
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Ok(Reply { status, body })
    }
}
