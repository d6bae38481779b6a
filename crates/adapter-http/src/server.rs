//! The HTTP server: app assembly, middleware order, extractor limits, time and connection limits,
//! binding and shutdown.

use crate::body_deadline::{BodyTimeout, limit_body_time};
use crate::errors::{no_route, path_error};
use crate::input::{json_error, query_error};
use crate::metrics::Metrics;
use crate::middleware::{LateHeaders, RequestDeadline, request_context};
use crate::openapi::ApiDoc;
use crate::routes;
use crate::state::ApiState;
use actix_cors::Cors;
use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::{DefaultHeaders, from_fn};
use actix_web::{App, HttpServer, web};
use std::net::{SocketAddr, TcpListener};
use std::time::Duration;
use utoipa::OpenApi as _;
use utoipa_actix_web::AppExt as _;
use utoipa_actix_web::service_config::ServiceConfig;
use utoipa_swagger_ui::{Config, SwaggerUi};

/// How the HTTP server behaves.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Largest accepted JSON body; larger ones get 413.
    pub body_limit_bytes: usize,
    /// Origins allowed by CORS (`*` for any); empty allows no cross-origin calls.
    pub cors_allowed_origins: Vec<String>,
    /// Worker threads; 0 means one per core.
    pub workers: usize,
    /// Time a client has to send its request headers (408 and closed after it).
    pub client_request_timeout: Duration,
    /// Time a client has to send its request body, counted from the end of its headers (408
    /// `request_timeout` and closed after it).
    pub body_timeout: Duration,
    /// Time a request may take from the end of its headers to its answer; after it the handler
    /// is dropped and the request answered 503 (`outcome_unknown` for a write). `None`: no limit.
    pub request_timeout: Option<Duration>,
    /// Connections each worker holds at most; beyond, new ones wait in the listen backlog. The
    /// server sizes it so all workers together stay below the open-files limit.
    pub max_connections_per_worker: usize,
    /// Idle keep-alive time.
    pub keep_alive: Duration,
    /// Graceful shutdown waits this long for in-flight requests.
    pub shutdown_timeout: Duration,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            body_limit_bytes: 64 * 1024,
            cors_allowed_origins: Vec::new(),
            workers: 0,
            client_request_timeout: Duration::from_secs(5),
            body_timeout: Duration::from_secs(10),
            request_timeout: Some(Duration::from_secs(10)),
            max_connections_per_worker: 25_000,
            keep_alive: Duration::from_secs(30),
            shutdown_timeout: Duration::from_secs(10),
        }
    }
}

/// A bound, not yet running, HTTP server.
pub struct HttpApi {
    server: Server,
    address: SocketAddr,
}

/// Stops a running [`HttpApi`] from elsewhere (a signal handler, a test).
#[derive(Clone)]
pub struct StopHandle(ServerHandle);

impl StopHandle {
    /// Stops accepting connections; with `graceful`, waits for in-flight requests first.
    pub async fn stop(&self, graceful: bool) {
        self.0.stop(graceful).await;
    }
}

fn configure_v1(config: &mut web::ServiceConfig) {
    routes::api_v1(&mut ServiceConfig::new(config));
}

fn configure_operations(config: &mut web::ServiceConfig) {
    routes::operations::configure(&mut ServiceConfig::new(config));
}

/// The OpenAPI document, collected from the same registrations the server uses.
pub(crate) fn build_openapi() -> utoipa::openapi::OpenApi {
    let (_, mut openapi) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .service(utoipa_actix_web::scope("/api/v1").configure(routes::api_v1))
        .configure(routes::operations::configure)
        .split_for_parts();
    crate::openapi::complete(&mut openapi);
    openapi
}

/// The headers `security_headers` adds to every answer (the late 503 too, see [`LateHeaders`]).
pub(crate) const SECURITY_HEADERS: [(&str, &str); 4] = [
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
    ("Cache-Control", "no-store"),
];

/// The response headers a cross-origin caller may read.
pub(crate) const EXPOSED_HEADERS: [&str; 2] = ["x-request-id", "retry-after"];

pub(crate) fn cors(origins: &[String]) -> Cors {
    let cors = Cors::default()
        .allowed_methods(["GET", "POST", "PATCH", "DELETE"])
        .allowed_headers([
            "authorization",
            "content-type",
            "idempotency-key",
            "queue-token",
        ])
        .expose_headers(EXPOSED_HEADERS)
        .max_age(3600);
    if origins.iter().any(|origin| origin == "*") {
        return cors.allow_any_origin();
    }
    origins
        .iter()
        .fold(cors, |cors, origin| cors.allowed_origin(origin))
}

pub(crate) fn security_headers() -> DefaultHeaders {
    SECURITY_HEADERS
        .into_iter()
        .fold(DefaultHeaders::new(), |headers, header| headers.add(header))
}

impl HttpApi {
    /// Binds `listener` (port 0 picks a free port) and prepares the server.
    ///
    /// # Errors
    /// When the listener cannot be used.
    pub fn bind(
        listener: TcpListener,
        state: ApiState,
        settings: &HttpSettings,
    ) -> std::io::Result<Self> {
        let address = listener.local_addr()?;
        let state = web::Data::new(state);
        let metrics = web::Data::new(Metrics::new());
        let openapi = build_openapi();
        let http = settings.clone();
        let deadline = settings.request_timeout.map(RequestDeadline);
        let factory = move || {
            let json = web::JsonConfig::default()
                .limit(http.body_limit_bytes)
                .error_handler(json_error);
            let docs = SwaggerUi::new("/docs/{_:.*}")
                .url("/api/openapi.json", openapi.clone())
                .config(
                    Config::default()
                        .persist_authorization(true)
                        .try_it_out_enabled(true),
                );
            let app = App::new();
            let app = match deadline {
                Some(deadline) => app.app_data(deadline),
                None => app,
            };
            app.app_data(LateHeaders::new(&http.cors_allowed_origins))
                .app_data(state.clone())
                .app_data(metrics.clone())
                .app_data(json)
                .app_data(BodyTimeout(http.body_timeout))
                .app_data(web::QueryConfig::default().error_handler(query_error))
                .app_data(web::PathConfig::default().error_handler(path_error))
                .service(web::scope("/api/v1").configure(configure_v1))
                .configure(configure_operations)
                .service(docs)
                .service(web::redirect("/docs", "/docs/"))
                .default_service(web::to(no_route))
                // CORS inside the body deadline: it answers a preflight itself and drops its
                // body, which the deadline then holds unread, so actix closes the connection
                // instead of draining a dribbled chunked body with no timer running.
                .wrap(cors(&http.cors_allowed_origins))
                .wrap(from_fn(limit_body_time))
                .wrap(security_headers())
                .wrap(from_fn(request_context))
        };
        let mut server = HttpServer::new(factory)
            .client_request_timeout(settings.client_request_timeout)
            .max_connections(settings.max_connections_per_worker.max(1))
            .keep_alive(settings.keep_alive)
            .shutdown_timeout(settings.shutdown_timeout.as_secs())
            .disable_signals();
        if settings.workers > 0 {
            server = server.workers(settings.workers);
        }
        let server = server.listen(listener)?.run();
        Ok(Self { server, address })
    }

    /// The bound address (useful with port 0).
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.address
    }

    /// A handle to stop the server.
    #[must_use]
    pub fn stop_handle(&self) -> StopHandle {
        StopHandle(self.server.handle())
    }

    /// Serves until stopped.
    ///
    /// # Errors
    /// When the server fails.
    pub async fn run(self) -> std::io::Result<()> {
        self.server.await
    }
}
