//! The production edge over HTTP: CORS for browser apps, persisted queries
//! and trusted documents.

use axum::body::Body;
use http::{Request, StatusCode};
use serde_json::{Value, json};
use switchboard::http::documents::sha256_hex;

use crate::helpers::{Reply, TestApp, data, error_code};

const APP: &str = "http://localhost:5173";
const TIERS: &str = "{ pricingTiers { edges { cursor } } }";

fn header<'a>(reply: &'a Reply, name: &str) -> Option<&'a str> {
    reply.headers.get(name).and_then(|v| v.to_str().ok())
}

async fn preflight(app: &TestApp, origin: &str) -> Reply {
    app.send(
        Request::options("/graphql")
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization,content-type",
            )
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

async fn post_from(app: &TestApp, origin: &str, token: Option<&str>) -> Reply {
    let mut builder = Request::post("/graphql")
        .header("origin", origin)
        .header("content-type", "application/json");
    if let Some(token) = token {
        builder = builder.header("authorization", format!("Bearer {token}"));
    }
    app.send(
        builder
            .body(Body::from(json!({ "query": TIERS }).to_string()))
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn an_allowed_origin_gets_its_preflight_answered_without_a_token() {
    let app = TestApp::spawn_with(&[(
        "CORS_ALLOWED_ORIGINS",
        "https://ops.example.com, http://localhost:5173",
    )])
    .await;
    let reply = preflight(&app, APP).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.text());
    assert_eq!(header(&reply, "access-control-allow-origin"), Some(APP));
    let methods = header(&reply, "access-control-allow-methods").unwrap();
    assert!(
        methods.contains("POST") && methods.contains("GET"),
        "{methods}"
    );
    let headers = header(&reply, "access-control-allow-headers")
        .unwrap()
        .to_ascii_lowercase();
    for name in ["authorization", "content-type", "accept"] {
        assert!(headers.contains(name), "{headers}");
    }
    assert_eq!(header(&reply, "access-control-max-age"), Some("600"));
    assert!(
        reply.headers.get_all("vary").iter().any(|v| v
            .to_str()
            .unwrap()
            .to_ascii_lowercase()
            .contains("origin")),
        "{:?}",
        reply.headers
    );
}

#[tokio::test]
async fn actual_requests_from_an_allowed_origin_carry_cors_headers_even_when_refused() {
    let app = TestApp::spawn_with(&[("CORS_ALLOWED_ORIGINS", APP)]).await;
    let ok = post_from(&app, APP, Some(&app.admin_token())).await;
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(header(&ok, "access-control-allow-origin"), Some(APP));
    data(&ok.json());
    // Without a token: the browser must still be able to read the 401.
    let refused = post_from(&app, APP, None).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(header(&refused, "access-control-allow-origin"), Some(APP));
    assert_eq!(error_code(&refused.json()), "UNAUTHENTICATED");
}

#[tokio::test]
async fn an_origin_not_listed_gets_no_cors_headers() {
    let app = TestApp::spawn_with(&[("CORS_ALLOWED_ORIGINS", APP)]).await;
    let reply = preflight(&app, "https://evil.example").await;
    assert_eq!(header(&reply, "access-control-allow-origin"), None);
    let reply = post_from(&app, "https://evil.example", Some(&app.admin_token())).await;
    assert_eq!(header(&reply, "access-control-allow-origin"), None);
}

#[tokio::test]
async fn without_configured_origins_no_cors_header_is_ever_sent() {
    let app = TestApp::spawn().await;
    let reply = preflight(&app, APP).await;
    assert_ne!(reply.status, StatusCode::NO_CONTENT);
    assert_eq!(header(&reply, "access-control-allow-origin"), None);
    let reply = post_from(&app, APP, Some(&app.admin_token())).await;
    assert_eq!(header(&reply, "access-control-allow-origin"), None);
}

fn persisted(hash: &str) -> Value {
    json!({"persistedQuery": {"version": 1, "sha256Hash": hash}})
}

async fn post_body(app: &TestApp, token: &str, body: &Value) -> Reply {
    app.send(
        Request::post("/graphql")
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap(),
    )
    .await
}

async fn get_hash(app: &TestApp, token: &str, hash: &str) -> Reply {
    let extensions = persisted(hash).to_string();
    let qs = serde_urlencoded::to_string([("extensions", extensions.as_str())]).unwrap();
    app.send(
        Request::get(format!("/graphql?{qs}"))
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn a_persisted_query_runs_by_hash_once_its_text_was_sent_also_over_get() {
    let app = TestApp::spawn().await;
    let token = app.token_for(app.create_user("caller").await);
    let hash = sha256_hex(TIERS);
    let unknown = post_body(&app, &token, &json!({"extensions": persisted(&hash)})).await;
    assert_eq!(unknown.status, StatusCode::OK);
    let body = unknown.json();
    assert_eq!(error_code(&body), "PERSISTED_QUERY_NOT_FOUND");
    assert_eq!(body["errors"][0]["message"], "PersistedQueryNotFound");
    let over_get = get_hash(&app, &token, &hash).await;
    assert_eq!(error_code(&over_get.json()), "PERSISTED_QUERY_NOT_FOUND");

    let registered = post_body(
        &app,
        &token,
        &json!({"query": TIERS, "extensions": persisted(&hash)}),
    )
    .await;
    data(&registered.json());
    let by_hash = post_body(&app, &token, &json!({"extensions": persisted(&hash)})).await;
    data(&by_hash.json());
    let over_get = get_hash(&app, &token, &hash).await;
    assert_eq!(over_get.status, StatusCode::OK, "{}", over_get.text());
    assert_eq!(data(&over_get.json())["pricingTiers"]["edges"], json!([]));
}

#[tokio::test]
async fn a_hash_that_does_not_match_its_text_or_another_version_is_a_bad_request() {
    let app = TestApp::spawn().await;
    let token = app.token_for(app.create_user("caller").await);
    let wrong = post_body(
        &app,
        &token,
        &json!({"query": TIERS, "extensions": persisted(&sha256_hex("{ __typename }"))}),
    )
    .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&wrong.json()), "BAD_REQUEST");
    let version = post_body(
        &app,
        &token,
        &json!({"query": TIERS, "extensions": {"persistedQuery": {"version": 2, "sha256Hash": sha256_hex(TIERS)}}}),
    )
    .await;
    assert_eq!(error_code(&version.json()), "BAD_REQUEST");
    let malformed = post_body(
        &app,
        &token,
        &json!({"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "nothex"}}}),
    )
    .await;
    assert_eq!(error_code(&malformed.json()), "BAD_REQUEST");
}

/// A manifest file as GraphQL Codegen's persisted-documents output writes
/// it: SHA-256 of the text → text.
fn manifest(documents: &[&str]) -> tempfile::NamedTempFile {
    let file = tempfile::NamedTempFile::new().unwrap();
    let map: serde_json::Map<String, Value> = documents
        .iter()
        .map(|d| (sha256_hex(d), json!(d)))
        .collect();
    std::fs::write(file.path(), Value::Object(map).to_string()).unwrap();
    file
}

#[tokio::test]
async fn with_trusted_documents_only_the_manifest_runs_for_callers_who_are_not_admins() {
    let file = manifest(&[TIERS]);
    let path = file.path().to_str().unwrap();
    let app = TestApp::spawn_with(&[("TRUSTED_DOCUMENTS", path)]).await;
    let user = app.token_for(app.create_user("caller").await);
    let hash = sha256_hex(TIERS);
    // By hash, over POST and GET, with no text ever sent.
    data(
        &post_body(&app, &user, &json!({"extensions": persisted(&hash)}))
            .await
            .json(),
    );
    data(&get_hash(&app, &user, &hash).await.json());
    // The same text sent in full is trusted too.
    data(
        &post_body(&app, &user, &json!({"query": TIERS}))
            .await
            .json(),
    );
    // Anything else is refused before parsing.
    let other = "{ __typename }";
    let free = post_body(&app, &user, &json!({"query": other})).await;
    assert_eq!(error_code(&free.json()), "FORBIDDEN");
    assert!(free.json().get("data").is_none());
    let registering = post_body(
        &app,
        &user,
        &json!({"query": other, "extensions": persisted(&sha256_hex(other))}),
    )
    .await;
    assert_eq!(error_code(&registering.json()), "FORBIDDEN");
    let unknown = get_hash(&app, &user, &sha256_hex(other)).await;
    assert_eq!(error_code(&unknown.json()), "PERSISTED_QUERY_NOT_FOUND");
    // Even a document that would crash the parser never reaches it.
    let deep = format!("{{ a(x: {}1{}) }}", "[".repeat(5_000), "]".repeat(5_000));
    let hostile = post_body(&app, &user, &json!({"query": deep})).await;
    assert_eq!(error_code(&hostile.json()), "FORBIDDEN");
    // Admins keep free-form queries (GraphiQL).
    let admin = post_body(&app, &app.admin_token(), &json!({"query": other})).await;
    assert_eq!(data(&admin.json())["__typename"], "Query");
}

#[tokio::test]
async fn admins_can_be_bound_by_the_manifest_too() {
    let file = manifest(&[TIERS]);
    let path = file.path().to_str().unwrap();
    let app = TestApp::spawn_with(&[
        ("TRUSTED_DOCUMENTS", path),
        ("TRUSTED_DOCUMENTS_ENFORCE_ADMINS", "true"),
    ])
    .await;
    let admin = app.admin_token();
    let free = post_body(&app, &admin, &json!({"query": "{ __typename }"})).await;
    assert_eq!(error_code(&free.json()), "FORBIDDEN");
    data(
        &post_body(
            &app,
            &admin,
            &json!({"extensions": persisted(&sha256_hex(TIERS))}),
        )
        .await
        .json(),
    );
}
