//! Bearer-token authentication and the admin role.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::StatusCode;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use crate::helpers::{SECRET, TestApp, data, error_code};

const QUERY: &str = "{ pricingTiers { edges { node { id } } } }";
const CREATE: &str = "mutation { createPricingTier(input: {name: \"T\", currency: \"USD\", ratePerMinute: \"1\"}) { id } }";

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn sign(claims: &Value, algorithm: Algorithm, secret: &str) -> String {
    switchboard::auth::crypto::install();
    jsonwebtoken::encode(
        &Header::new(algorithm),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

fn hs256(claims: &Value) -> String {
    sign(claims, Algorithm::HS256, SECRET)
}

async fn assert_rejected(app: &TestApp, token: &str, why: &str) {
    let reply = app.post_graphql(Some(token), QUERY, json!({})).await;
    assert_eq!(
        reply.status,
        StatusCode::UNAUTHORIZED,
        "{why}: {}",
        reply.text()
    );
    let body = reply.json();
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{why}");
    assert!(body.get("data").is_none(), "{why}: {body}");
}

#[tokio::test]
async fn a_request_without_a_token_is_401_unauthenticated() {
    let app = TestApp::spawn().await;
    let reply = app.post_graphql(None, QUERY, json!({})).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.headers["www-authenticate"], "Bearer");
    assert_eq!(error_code(&reply.json()), "UNAUTHENTICATED");
}

#[tokio::test]
async fn a_valid_token_is_accepted() {
    let app = TestApp::spawn().await;
    let user = app.create_user("valid").await;
    let token = hs256(&json!({"sub": user.to_string(), "exp": now() + 60}));
    let reply = app.post_graphql(Some(&token), QUERY, json!({})).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    data(&reply.json());
}

#[tokio::test]
async fn a_valid_token_whose_subject_is_no_active_user_is_401() {
    let app = TestApp::spawn().await;
    let exp = now() + 60;
    assert_rejected(
        &app,
        &app.stranger_token(),
        "a subject that is not a user id",
    )
    .await;
    let unknown = uuid::Uuid::now_v7().to_string();
    assert_rejected(
        &app,
        &hs256(&json!({"sub": unknown, "exp": exp})),
        "an unknown user",
    )
    .await;
    assert_rejected(&app, &hs256(&json!({"exp": exp})), "no subject").await;
}

#[tokio::test]
async fn forged_expired_and_malformed_tokens_are_401() {
    let app = TestApp::spawn().await;
    let exp = now() + 600;
    let header = |alg: &str| URL_SAFE_NO_PAD.encode(json!({"alg": alg, "typ": "JWT"}).to_string());
    let payload =
        URL_SAFE_NO_PAD.encode(json!({"sub": "x", "exp": exp, "roles": ["admin"]}).to_string());
    let cases = [
        ("garbage", "not.a.jwt".to_owned()),
        (
            "wrong secret",
            sign(
                &json!({"exp": exp}),
                Algorithm::HS256,
                "another-secret-0123456789abcdef-xyz",
            ),
        ),
        ("expired", hs256(&json!({"exp": now() - 120}))),
        ("no exp", hs256(&json!({"sub": "x"}))),
        (
            "string exp",
            hs256(&json!({"sub": "x", "exp": exp.to_string()})),
        ),
        (
            "not yet valid",
            hs256(&json!({"exp": exp, "nbf": now() + 300})),
        ),
        ("alg none", format!("{}.{payload}.", header("none"))),
        (
            "HS512 instead of HS256",
            sign(&json!({"exp": exp}), Algorithm::HS512, SECRET),
        ),
        ("RS256 header on an HMAC signature", {
            let token = hs256(&json!({"exp": exp, "roles": ["admin"]}));
            let mut parts: Vec<&str> = token.split('.').collect();
            let forged = header("RS256");
            parts[0] = &forged;
            parts.join(".")
        }),
        ("tampered payload", {
            let token = hs256(&json!({"exp": exp, "roles": ["user"]}));
            let parts: Vec<&str> = token.split('.').collect();
            format!("{}.{payload}.{}", parts[0], parts[2])
        }),
    ];
    for (why, token) in cases {
        assert_rejected(&app, &token, why).await;
    }
    let reply = app
        .send(
            http::Request::post("/graphql")
                .header("content-type", "application/json")
                .header(
                    "authorization",
                    format!("Basic {}", hs256(&json!({"exp": exp}))),
                )
                .body(axum::body::Body::from(json!({"query": QUERY}).to_string()))
                .unwrap(),
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNAUTHORIZED,
        "a non-Bearer scheme"
    );
}

#[tokio::test]
async fn issuer_and_audience_are_enforced_when_configured() {
    let app = TestApp::spawn_with(&[
        ("JWT_ISSUER", "https://auth.example.com"),
        ("JWT_AUDIENCE", "switchboard"),
    ])
    .await;
    let exp = now() + 600;
    let good = hs256(
        &json!({"exp": exp, "iss": "https://auth.example.com", "aud": "switchboard", "roles": ["admin"]}),
    );
    let reply = app.post_graphql(Some(&good), QUERY, json!({})).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(
        app.post_graphql(Some(&app.admin_token()), QUERY, json!({}))
            .await
            .status,
        StatusCode::OK
    );
    for (why, claims) in [
        (
            "wrong issuer",
            json!({"exp": exp, "iss": "https://evil.example.com", "aud": "switchboard"}),
        ),
        ("missing issuer", json!({"exp": exp, "aud": "switchboard"})),
        (
            "wrong audience",
            json!({"exp": exp, "iss": "https://auth.example.com", "aud": "other"}),
        ),
        (
            "missing audience",
            json!({"exp": exp, "iss": "https://auth.example.com"}),
        ),
    ] {
        assert_rejected(&app, &hs256(&claims), why).await;
    }
}

#[tokio::test]
async fn admins_are_recognised_by_roles_or_cognito_groups() {
    let app = TestApp::spawn().await;
    let exp = now() + 600;
    let by_role = hs256(&json!({"exp": exp, "roles": ["support", "admin"]}));
    let by_group = hs256(&json!({"exp": exp, "cognito:groups": ["admin"]}));
    let user = app.create_user("support").await;
    let neither = hs256(
        &json!({"exp": exp, "sub": user.to_string(), "roles": ["support"], "cognito:groups": ["billing"]}),
    );
    for (token, name) in [(&by_role, "A"), (&by_group, "B")] {
        let query = CREATE.replace("\"T\"", &format!("\"{name}\""));
        let body = app
            .post_graphql(Some(token), &query, json!({}))
            .await
            .json();
        data(&body);
    }
    let body = app
        .post_graphql(Some(&neither), CREATE, json!({}))
        .await
        .json();
    assert_eq!(error_code(&body), "FORBIDDEN");
}
