//! CORS for browser apps on other origins, by tower-http's layer.
//!
//! Only the exact origins configured (`CORS_ALLOWED_ORIGINS`) are allowed;
//! with none configured no CORS header is ever sent, so browsers keep the
//! same-origin policy. Preflights are answered by the layer itself, before
//! authentication (they never carry a token).

use std::time::Duration;

use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use http::{HeaderValue, Method};
use tower_http::cors::{AllowOrigin, CorsLayer};

/// How long a browser may cache a preflight answer.
pub const MAX_AGE: Duration = Duration::from_mins(10);

/// The CORS layer for `origins`, or `None` when there are none.
pub fn layer(origins: &[String]) -> Option<CorsLayer> {
    let origins: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|origin| HeaderValue::from_str(origin).ok())
        .collect();
    if origins.is_empty() {
        return None;
    }
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([AUTHORIZATION, CONTENT_TYPE, ACCEPT])
            .max_age(MAX_AGE),
    )
}

/// Preflight answers carry no body; tower-http sends them as 200, this
/// makes them 204 No Content, as the issue and most gateways do.
pub async fn no_content_preflight(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let preflight = request.method() == Method::OPTIONS
        && request
            .headers()
            .contains_key(http::header::ACCESS_CONTROL_REQUEST_METHOD);
    let mut response = next.run(request).await;
    if preflight && response.status() == http::StatusCode::OK {
        *response.status_mut() = http::StatusCode::NO_CONTENT;
    }
    response
}
