//! The GraphiQL playground, served from assets compiled into the binary.
//!
//! Offline machines and locked-down networks cannot load GraphiQL from a
//! CDN, so GraphiQL 4.1.2 (UMD build), React 18.3.1 and the start-up script
//! ship in `assets/graphiql/` and are served under a versioned path with a
//! long cache lifetime. The page loads without a token; the user pastes one
//! into its headers editor (or opens it with `#token=…`).

use axum::extract::Path;
use axum::response::{Html, IntoResponse, Response};
use http::HeaderValue;
use http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use http::request::Parts;

use super::stage::BasePath;

/// Path prefix of the assets; the version makes long caching safe.
pub const ASSET_PREFIX: &str = "/graphiql/4.1.2";

/// Third-party files never change under a versioned path; our start-up
/// script may, so browsers must revalidate it.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const REVALIDATE: &str = "no-cache";

const ASSETS: &[(&str, &str, &str, &[u8])] = &[
    (
        "graphiql.min.js",
        "text/javascript; charset=utf-8",
        IMMUTABLE,
        include_bytes!("../../assets/graphiql/graphiql.min.js"),
    ),
    (
        "graphiql.min.css",
        "text/css; charset=utf-8",
        IMMUTABLE,
        include_bytes!("../../assets/graphiql/graphiql.min.css"),
    ),
    (
        "react.production.min.js",
        "text/javascript; charset=utf-8",
        IMMUTABLE,
        include_bytes!("../../assets/graphiql/react.production.min.js"),
    ),
    (
        "react-dom.production.min.js",
        "text/javascript; charset=utf-8",
        IMMUTABLE,
        include_bytes!("../../assets/graphiql/react-dom.production.min.js"),
    ),
    (
        "init.js",
        "text/javascript; charset=utf-8",
        REVALIDATE,
        include_bytes!("../../assets/graphiql/init.js"),
    ),
];

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                   img-src 'self' data:; font-src 'self' data:; connect-src 'self'; \
                   frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

fn escape_attribute(value: &str) -> String {
    value
        .replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The GraphiQL page, with asset and endpoint URLs under the request's
/// [`BasePath`] (the API Gateway stage, if any).
pub fn page(parts: &Parts) -> Response {
    let base = parts
        .extensions
        .get::<BasePath>()
        .map(|b| b.0.clone())
        .unwrap_or_default();
    let assets = escape_attribute(&format!("{base}{ASSET_PREFIX}"));
    let endpoint = escape_attribute(&format!("{base}/graphql"));
    let html = format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Switchboard GraphiQL</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{assets}/graphiql.min.css">
<style>body {{ margin: 0; }} #graphiql {{ height: 100vh; }}</style>
</head>
<body>
<div id="graphiql" data-endpoint="{endpoint}">Loading GraphiQL…</div>
<script src="{assets}/react.production.min.js"></script>
<script src="{assets}/react-dom.production.min.js"></script>
<script src="{assets}/graphiql.min.js"></script>
<script src="{assets}/init.js"></script>
</body>
</html>
"#
    );
    (
        [
            (CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP)),
            (CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        Html(html),
    )
        .into_response()
}

/// `GET /` : the playground.
pub async fn index(request: axum::extract::Request) -> Response {
    let (parts, _) = request.into_parts();
    page(&parts)
}

/// `GET /graphiql/4.1.2/{file}`: one bundled asset.
pub async fn asset(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|(name, _, _, _)| *name == file) {
        Some((_, content_type, cache_control, bytes)) => (
            [
                (CONTENT_TYPE, HeaderValue::from_static(content_type)),
                (CACHE_CONTROL, HeaderValue::from_static(cache_control)),
            ],
            *bytes,
        )
            .into_response(),
        None => super::not_found().await,
    }
}
