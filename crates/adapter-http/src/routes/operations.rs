//! Operations endpoints: liveness, readiness, metrics.

use crate::errors::ApiError;
use crate::metrics::Metrics;
use crate::state::ApiState;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

/// Registers `/healthz`, `/readyz` and `/metrics`.
pub(crate) fn configure(config: &mut ServiceConfig<'_>) {
    config.service(healthz).service(readyz).service(metrics);
}

/// Liveness or readiness report.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct HealthReport {
    /// `ok` or `ready`.
    status: &'static str,
    /// Each dependency and whether it answered (`up`) — readiness only.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    checks: BTreeMap<&'static str, &'static str>,
}

/// The process is alive.
#[utoipa::path(tag = "operations", responses((status = 200, body = HealthReport)))]
#[get("/healthz")]
async fn healthz() -> web::Json<HealthReport> {
    web::Json(HealthReport {
        status: "ok",
        checks: BTreeMap::new(),
    })
}

/// The database and shared state answer: the instance can take traffic.
#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, body = HealthReport),
        (status = 503, description = "A dependency is down", body = crate::errors::Problem),
    )
)]
#[get("/readyz")]
async fn readyz(state: web::Data<ApiState>) -> Result<web::Json<HealthReport>, ApiError> {
    let mut checks = BTreeMap::new();
    let mut down = Vec::new();
    for probe in &state.health_probes {
        let answer = tokio_timeout(probe.ping()).await;
        let up = matches!(answer, Some(Ok(())));
        checks.insert(probe.component(), if up { "up" } else { "down" });
        if !up {
            down.push(probe.component());
        }
    }
    if down.is_empty() {
        Ok(web::Json(HealthReport {
            status: "ready",
            checks,
        }))
    } else {
        tracing::warn!(?down, "not ready");
        let detail = format!("unavailable: {}", down.join(", "));
        Err(ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "not_ready", detail).with_retry_after(5))
    }
}

async fn tokio_timeout<T>(future: impl std::future::Future<Output = T>) -> Option<T> {
    actix_web::rt::time::timeout(Duration::from_secs(2), future)
        .await
        .ok()
}

/// Prometheus metrics in the OpenMetrics text format.
#[utoipa::path(tag = "operations", responses((status = 200, content_type = "application/openmetrics-text", body = String)))]
#[get("/metrics")]
async fn metrics(metrics: web::Data<Metrics>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(metrics.render())
}
