//! GraphiQL's assets over HTTP: compiled in gzip-coded, `Content-Encoding`
//! negotiated by `Accept-Encoding`, `ETag` and a year of `immutable`
//! caching on versioned names only.

use std::io::Read as _;

use axum::body::Body;
use http::{Request, StatusCode};
use sha2::{Digest as _, Sha256};

use crate::helpers::{Reply, TestApp};

const VENDORED: [&str; 4] = [
    "graphiql.min.js",
    "graphiql.min.css",
    "react.production.min.js",
    "react-dom.production.min.js",
];
const ALL: [&str; 5] = [
    "graphiql.min.js",
    "graphiql.min.css",
    "react.production.min.js",
    "react-dom.production.min.js",
    "init.js",
];
const BROWSER_ENCODINGS: &str = "gzip, deflate, br, zstd";

fn source(name: &str) -> Vec<u8> {
    std::fs::read(format!("assets/graphiql/{name}")).expect("asset source")
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut plain = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut plain)
        .expect("valid gzip");
    plain
}

fn header<'a>(reply: &'a Reply, name: &str) -> Option<&'a str> {
    reply.headers.get(name).and_then(|v| v.to_str().ok())
}

async fn fetch(app: &TestApp, url: &str, headers: &[(&str, &str)]) -> Reply {
    let mut request = Request::get(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    app.send(request.body(Body::empty()).unwrap()).await
}

#[test]
fn the_compressed_graphiql_assets_match_their_sources() {
    for name in ALL {
        let compressed = std::fs::read(format!("assets/graphiql/{name}.gz")).expect("gzip file");
        assert!(
            gunzip(&compressed) == source(name),
            "assets/graphiql/{name}.gz is stale: run assets/graphiql/compress"
        );
    }
}

#[test]
fn the_vendored_assets_are_the_release_their_versioned_path_names() {
    // Served as immutable under /graphiql/4.1.2/: replacing one of them
    // without moving ASSET_PREFIX would leave browsers on the old bytes
    // for a year.
    let pinned = [
        "867226ba8af5ce7949903fc53932f78dac9f4bfc6cc8da0fd3869b8bc6c5256b",
        "30487e07635d312a63f647b140d37740a73c53332b0975bf4b1fe985ca6ec885",
        "d949f1c3687aedadcedac85261865f29b17cd273997e7f6b2bfc53b2f9d4c4dd",
        "35f4f974f4b2bcd44da73963347f8952e341f83909e4498227d4e26b98f66f0d",
    ];
    for (name, digest) in VENDORED.iter().zip(pinned) {
        let actual: String = Sha256::digest(source(name))
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            actual, digest,
            "{name} changed: move ASSET_PREFIX to its new version"
        );
    }
}

#[tokio::test]
async fn a_browser_gets_each_asset_gzip_coded_with_an_etag_and_a_year_of_cache() {
    let app = TestApp::spawn().await;
    for name in VENDORED {
        let reply = fetch(
            &app,
            &format!("/graphiql/4.1.2/{name}"),
            &[("accept-encoding", BROWSER_ENCODINGS)],
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{name}");
        assert_eq!(header(&reply, "content-encoding"), Some("gzip"), "{name}");
        assert_eq!(header(&reply, "vary"), Some("accept-encoding"), "{name}");
        assert_eq!(
            header(&reply, "cache-control"),
            Some("public, max-age=31536000, immutable"),
            "{name}"
        );
        let etag = header(&reply, "etag").expect("an ETag");
        assert!(etag.starts_with('"') && etag.ends_with("-gzip\""), "{etag}");
        assert!(gunzip(&reply.bytes) == source(name), "{name} body differs");
        assert!(reply.bytes.len() < source(name).len(), "{name} not smaller");
    }
}

#[tokio::test]
async fn a_client_that_does_not_accept_gzip_gets_the_plain_bytes_with_another_etag() {
    let app = TestApp::spawn().await;
    let url = "/graphiql/4.1.2/react.production.min.js";
    let gzip_etag = header(
        &fetch(&app, url, &[("accept-encoding", "gzip")]).await,
        "etag",
    )
    .unwrap()
    .to_owned();
    for accept in [None, Some("identity"), Some("gzip;q=0, *"), Some("br")] {
        let headers: Vec<(&str, &str)> =
            accept.map(|a| ("accept-encoding", a)).into_iter().collect();
        let reply = fetch(&app, url, &headers).await;
        assert_eq!(reply.status, StatusCode::OK, "{accept:?}");
        assert_eq!(header(&reply, "content-encoding"), None, "{accept:?}");
        assert_eq!(header(&reply, "vary"), Some("accept-encoding"));
        assert!(
            reply.bytes == source("react.production.min.js"),
            "{accept:?}"
        );
        let etag = header(&reply, "etag").expect("an ETag");
        assert_ne!(etag, gzip_etag, "each encoding is its own representation");
    }
    for accept in ["*", "GZIP;q=0.5", "x-gzip"] {
        let reply = fetch(&app, url, &[("accept-encoding", accept)]).await;
        assert_eq!(header(&reply, "content-encoding"), Some("gzip"), "{accept}");
    }
}

#[tokio::test]
async fn a_cached_asset_is_revalidated_with_304_and_no_body() {
    let app = TestApp::spawn().await;
    let url = "/graphiql/4.1.2/graphiql.min.css";
    let first = fetch(&app, url, &[("accept-encoding", BROWSER_ENCODINGS)]).await;
    let etag = header(&first, "etag").unwrap().to_owned();
    let again = fetch(
        &app,
        url,
        &[
            ("accept-encoding", BROWSER_ENCODINGS),
            ("if-none-match", &etag),
        ],
    )
    .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.bytes.is_empty());
    assert_eq!(header(&again, "etag"), Some(etag.as_str()));
    assert_eq!(header(&again, "vary"), Some("accept-encoding"));
    // The gzip ETag does not validate the plain representation.
    let plain = fetch(&app, url, &[("if-none-match", &etag)]).await;
    assert_eq!(plain.status, StatusCode::OK);
    assert!(plain.bytes == source("graphiql.min.css"));
}

#[tokio::test]
async fn init_js_is_immutable_only_under_the_digest_the_page_links() {
    let app = TestApp::spawn().await;
    let page = fetch(&app, "/", &[("accept", "text/html")]).await.text();
    let start = page
        .find("/graphiql/4.1.2/init.js?v=")
        .expect("init.js link");
    let url = &page[start..page[start..].find('"').map(|end| start + end).unwrap()];
    let linked = fetch(&app, url, &[("accept-encoding", "gzip")]).await;
    assert_eq!(linked.status, StatusCode::OK, "{url}");
    assert_eq!(
        header(&linked, "cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    assert!(gunzip(&linked.bytes) == source("init.js"));
    for stale in ["/graphiql/4.1.2/init.js", "/graphiql/4.1.2/init.js?v=0000"] {
        let reply = fetch(&app, stale, &[("accept-encoding", "gzip")]).await;
        assert_eq!(reply.status, StatusCode::OK, "{stale}");
        assert_eq!(header(&reply, "cache-control"), Some("no-cache"), "{stale}");
        assert_eq!(header(&reply, "etag"), header(&linked, "etag"));
    }
}
