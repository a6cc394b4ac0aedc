//! The HTTP edge: one [`router`] for every way a request arrives
//! (`axum::serve` locally, `lambda_http::run` on Lambda, `oneshot` in
//! tests), so there is no behaviour that differs between them.
//!
//! Routes: `POST`/`GET /graphql`, GraphiQL at `/` (and at `/graphql` for
//! browsers), its assets under `/graphiql/`, and `GET /health`.

pub mod cors;
pub mod documents;
pub mod graphiql;
pub mod graphql;
pub mod negotiate;
pub mod stage;

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::HeaderValue;
use lambda_http::RequestExt as _;
use lambda_http::request::RequestContext;
use tracing::Instrument as _;

use crate::auth::TokenVerifier;
use crate::config::{Config, Limits};
use crate::graphql::{AppSchema, build_schema};
use crate::metrics::{Emitter, Finished, RequestMetrics, Sink};
use crate::store::Store;
use documents::Documents;

/// Everything a request handler needs, built once per process.
#[derive(Clone)]
pub struct AppState {
    /// The executable schema (it holds the store).
    pub schema: AppSchema,
    /// Checks bearer tokens.
    pub verifier: Arc<TokenVerifier>,
    /// Request limits.
    pub limits: Limits,
    /// Trusted documents and the persisted-query cache.
    pub documents: Arc<Documents>,
    /// Browser origins allowed to call the API.
    pub cors_allowed_origins: Arc<[String]>,
    /// The store, for each request's data loaders and for checking that a
    /// token's user exists and is active.
    pub store: Store,
    /// Writes each request's metrics line (or nothing, when off).
    pub metrics: Emitter,
    /// Longest one GraphQL request may take.
    pub request_timeout: std::time::Duration,
}

impl AppState {
    /// State for `config` over `store`, sending email through an SES client
    /// built from the environment on first use.
    pub fn new(config: &Config, store: Store) -> Self {
        let mailer = crate::mail::Mailer::from_env_lazily(config.invitation_mail.clone());
        Self::with_mailer(config, store, mailer)
    }

    /// State for `config` over `store`, sending email through `mailer`.
    pub fn with_mailer(config: &Config, store: Store, mailer: crate::mail::Mailer) -> Self {
        let store = store
            .with_read_limit(config.limits.list_read_limit)
            .with_audit_retention(config.audit_retention_days);
        Self {
            schema: build_schema(store.clone(), config, mailer),
            verifier: Arc::new(TokenVerifier::new(&config.jwt)),
            limits: config.limits,
            documents: Arc::new(Documents::new(
                config.documents.trusted.clone(),
                config.documents.enforce_admins,
                config.documents.cache_size,
            )),
            cors_allowed_origins: config.cors_allowed_origins.clone().into(),
            store,
            request_timeout: config.request_timeout,
            metrics: Emitter::new(
                config.metrics_namespace.clone(),
                if config.metrics_enabled {
                    Sink::Stdout
                } else {
                    Sink::Off
                },
            ),
        }
    }
}

/// The one router: routes behind the edge middleware (request id, log span,
/// stage prefix), which runs before routing so stripped paths match.
pub fn router(state: AppState) -> Router {
    let cors = cors::layer(&state.cors_allowed_origins);
    let metrics = state.metrics.clone();
    let routes = Router::new()
        .route("/", get(graphiql::index))
        .route(
            "/graphql",
            get(graphql::get)
                .post(graphql::post)
                .layer(middleware::from_fn_with_state(
                    state.clone(),
                    graphql::within_deadline,
                )),
        )
        .route(
            &format!("{}/{{file}}", graphiql::ASSET_PREFIX),
            get(graphiql::asset),
        )
        .route("/health", get(health))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state);
    // CORS is outermost: a preflight never carries a token, and every
    // answer, a 401 included, must carry the CORS headers or the browser
    // shows the page only "Failed to fetch".
    let preflight = cors
        .is_some()
        .then(|| middleware::from_fn(cors::no_content_preflight));
    let edge = tower::ServiceBuilder::new()
        .option_layer(preflight)
        .option_layer(cors)
        .layer(middleware::from_fn_with_state(metrics, edge))
        .service(routes);
    Router::new().fallback_service(edge)
}

/// Unknown paths get a JSON error with a code, like every other error.
pub(crate) async fn not_found() -> Response {
    graphql::error_response(
        http::StatusCode::NOT_FOUND,
        negotiate::Format::Json,
        crate::graphql::error::Code::NotFound,
        "no such route; the API is at /graphql",
    )
}

/// A known path with a method it does not serve (axum adds `Allow`).
async fn method_not_allowed() -> Response {
    graphql::error_response(
        http::StatusCode::METHOD_NOT_ALLOWED,
        negotiate::Format::Json,
        crate::graphql::error::Code::MethodNotAllowed,
        "this method is not allowed here",
    )
}

/// `GET /health`: liveness only; it touches no dependency.
async fn health() -> Response {
    axum::Json(serde_json::json!({"status": "ok"})).into_response()
}

/// The id of a request: API Gateway's, a valid incoming `x-request-id`, or
/// a fresh UUIDv7.
fn request_id(request: &Request) -> String {
    let from_gateway = request.request_context_ref().and_then(|ctx| match ctx {
        RequestContext::ApiGatewayV2(ctx) => ctx.request_id.clone(),
        RequestContext::ApiGatewayV1(ctx) => ctx.request_id.clone(),
        _ => None,
    });
    from_gateway
        .or_else(|| {
            request
                .headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .filter(|v| {
                    !v.is_empty()
                        && v.len() <= 128
                        && v.bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
                })
                .map(str::to_owned)
        })
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string())
}

/// The X-Ray trace id of a request: the `x-amzn-trace-id` header (API
/// Gateway, a load balancer), else what the Lambda runtime put in
/// `_X_AMZN_TRACE_ID` for the current invocation.
fn trace_id(request: &Request) -> Option<String> {
    request
        .headers()
        .get("x-amzn-trace-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.len() <= 256)
        .map(str::to_owned)
        .or_else(|| std::env::var("_X_AMZN_TRACE_ID").ok())
}

/// Every request: stage prefix stripped, a request id and trace id on its
/// log span (so on every line it logs), one summary log line, and, when
/// metrics are on, one EMF metrics line.
async fn edge(State(metrics): State<Emitter>, request: Request, next: Next) -> Response {
    let mut request = stage::strip_stage_prefix(request);
    let id = request_id(&request);
    request
        .extensions_mut()
        .insert(crate::graphql::audit::RequestId(id.clone()));
    let trace = trace_id(&request);
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        trace_id = trace.as_deref(),
        method = %request.method(),
        path = %request.uri().path(),
        operation = tracing::field::Empty,
    );
    async move {
        let started = Instant::now();
        let mut response = if metrics.enabled() {
            let recorded = Arc::new(RequestMetrics::default());
            let response = crate::metrics::scope(recorded.clone(), next.run(request)).await;
            metrics.emit(
                &recorded,
                &Finished {
                    request_id: &id,
                    trace_id: trace.as_deref(),
                    status: response.status().as_u16(),
                    duration: started.elapsed(),
                },
            );
            response
        } else {
            next.run(request).await
        };
        tracing::info!(
            status = response.status().as_u16(),
            duration_ms = started.elapsed().as_secs_f64() * 1000.0,
            "request completed"
        );
        if let Ok(value) = HeaderValue::from_str(&id) {
            response.headers_mut().insert("x-request-id", value);
        }
        response
    }
    .instrument(span)
    .await
}
