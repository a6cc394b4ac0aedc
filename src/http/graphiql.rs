//! The GraphiQL playground, served from assets compiled into the binary.
//!
//! Offline machines and locked-down networks cannot load GraphiQL from a
//! CDN, so GraphiQL 4.1.2 (UMD build), React 18.3.1 and the start-up script
//! ship in `assets/graphiql/`. They are compiled in **gzip-compressed only**
//! (`assets/graphiql/compress` writes the `.gz` files; a test checks they
//! match the sources): 0.66 MB in the binary instead of 1.6 MB, and no
//! compression work per request. Browsers (every one sends
//! `Accept-Encoding: gzip`) get those bytes as they are; a client that
//! refuses gzip gets them inflated on the fly, the rare path.
//!
//! Caching: every asset has a strong `ETag` (a digest of its bytes, one per
//! encoding) and answers `If-None-Match` with 304. The vendored files live
//! under a versioned path (`/graphiql/4.1.2/`, pinned by a test on their
//! digests) and the page links our own `init.js` with its digest
//! (`init.js?v=…`), so both are `immutable` for a year; an `init.js` asked
//! for without the current digest must be revalidated. The page loads
//! without a token; the user pastes one into its headers editor (or opens
//! it with `#token=…`).

use std::fmt::Write as _;
use std::io::Read as _;
use std::sync::OnceLock;

use axum::extract::{Path, RawQuery};
use axum::response::{Html, IntoResponse, Response};
use http::header::{
    ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG,
    IF_NONE_MATCH, VARY,
};
use http::request::Parts;
use http::{HeaderMap, HeaderValue, StatusCode};
use sha2::{Digest as _, Sha256};

use super::stage::BasePath;

/// Path prefix of the assets; the version makes long caching safe.
pub const ASSET_PREFIX: &str = "/graphiql/4.1.2";

/// For names that can never serve other bytes: the versioned vendored
/// files, and `init.js` asked for with its current digest.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// For `init.js` without (or with a stale) digest: cache, but revalidate.
const REVALIDATE: &str = "no-cache";

/// One compiled-in asset.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    /// Vendored under the versioned [`ASSET_PREFIX`]; otherwise versioned
    /// by the digest in the page's link.
    vendored: bool,
    gzip: &'static [u8],
    digest: OnceLock<String>,
}

impl Asset {
    const fn new(
        name: &'static str,
        content_type: &'static str,
        vendored: bool,
        gzip: &'static [u8],
    ) -> Self {
        Self {
            name,
            content_type,
            vendored,
            gzip,
            digest: OnceLock::new(),
        }
    }

    /// First 16 hex digits of the SHA-256 of the compressed bytes (which
    /// `gzip -n` makes a function of the source alone), computed once.
    fn digest(&self) -> &str {
        self.digest.get_or_init(|| {
            Sha256::digest(self.gzip).iter().take(8).fold(
                String::with_capacity(16),
                |mut hex, b| {
                    let _ = write!(hex, "{b:02x}");
                    hex
                },
            )
        })
    }
}

const JS: &str = "text/javascript; charset=utf-8";

static ASSETS: [Asset; 5] = [
    Asset::new(
        "graphiql.min.js",
        JS,
        true,
        include_bytes!("../../assets/graphiql/graphiql.min.js.gz"),
    ),
    Asset::new(
        "graphiql.min.css",
        "text/css; charset=utf-8",
        true,
        include_bytes!("../../assets/graphiql/graphiql.min.css.gz"),
    ),
    Asset::new(
        "react.production.min.js",
        JS,
        true,
        include_bytes!("../../assets/graphiql/react.production.min.js.gz"),
    ),
    Asset::new(
        "react-dom.production.min.js",
        JS,
        true,
        include_bytes!("../../assets/graphiql/react-dom.production.min.js.gz"),
    ),
    Asset::new(
        "init.js",
        JS,
        false,
        include_bytes!("../../assets/graphiql/init.js.gz"),
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
    let init = ASSETS
        .iter()
        .find(|a| a.name == "init.js")
        .map_or("", Asset::digest);
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
<script src="{assets}/init.js?v={init}"></script>
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

/// Whether `headers` accept a gzip-coded answer (RFC 9110, 12.5.3): an
/// explicit `gzip` (or `x-gzip`) entry decides by its weight, else `*`
/// does; no header at all gets identity, which suits `curl` without
/// `--compressed`.
fn accepts_gzip(headers: &HeaderMap) -> bool {
    let mut explicit = None;
    let mut wildcard = None;
    for entry in headers
        .get_all(ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
    {
        let mut parts = entry.split(';');
        let coding = parts.next().unwrap_or_default().trim();
        let weight = parts
            .find_map(|p| {
                let p = p.trim();
                p.strip_prefix("q=").or_else(|| p.strip_prefix("Q="))
            })
            .map_or(1.0, |q| q.trim().parse::<f32>().unwrap_or(0.0));
        if coding.eq_ignore_ascii_case("gzip") || coding.eq_ignore_ascii_case("x-gzip") {
            explicit = Some(weight);
        } else if coding == "*" {
            wildcard = Some(weight);
        }
    }
    explicit.or(wildcard).is_some_and(|q| q > 0.0)
}

/// Whether `If-None-Match` names `etag` (weak comparison, as RFC 9110
/// asks for GET).
fn not_modified(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == "*" || tag == etag)
}

/// `GET /graphiql/4.1.2/{file}`: one bundled asset, gzip-coded when the
/// client accepts it, with its `ETag` and cache lifetime.
pub async fn asset(
    Path(file): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let Some(asset) = ASSETS.iter().find(|a| a.name == file) else {
        return super::not_found().await;
    };
    let digest = asset.digest();
    let versioned = asset.vendored
        || query
            .as_deref()
            .is_some_and(|q| q.split('&').any(|pair| pair == format!("v={digest}")));
    let cache_control = if versioned { IMMUTABLE } else { REVALIDATE };
    let gzip = accepts_gzip(&headers);
    let etag = if gzip {
        format!("\"{digest}-gzip\"")
    } else {
        format!("\"{digest}\"")
    };
    let unchanged = not_modified(&headers, &etag);
    let mut response = if unchanged {
        StatusCode::NOT_MODIFIED.into_response()
    } else if gzip {
        let mut response = asset.gzip.into_response();
        response
            .headers_mut()
            .insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        response
    } else {
        let mut plain = Vec::with_capacity(asset.gzip.len() * 4);
        if flate2::read::GzDecoder::new(asset.gzip)
            .read_to_end(&mut plain)
            .is_err()
        {
            // The bytes are compiled in and checked by a test: unreachable
            // unless the build itself is broken.
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
        plain.into_response()
    };
    let headers = response.headers_mut();
    if !unchanged {
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
    }
    headers.insert(CACHE_CONTROL, HeaderValue::from_static(cache_control));
    headers.insert(VARY, HeaderValue::from_static("accept-encoding"));
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(ETAG, value);
    }
    response
}
