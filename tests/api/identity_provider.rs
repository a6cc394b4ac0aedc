//! Tokens from an identity provider: RS256 keys from `fixtures/rsa` (ring
//! cannot generate RSA keys; these three exist only for tests) and ES256
//! keys generated here, published as a JWKS by a local HTTP server, and
//! every way such a token can be wrong.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use http::StatusCode;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ring::rand::SystemRandom;
use ring::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _, RsaKeyPair, RsaPublicKeyComponents,
};
use serde_json::{Value, json};

use crate::helpers::{TestApp, data, error_code};

const ISSUER: &str = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Test";
const CLIENT_ID: &str = "app-client-id";
const QUERY: &str = "{ pricingTiers { edges { cursor } } }";

/// A signing key and the JWK that publishes its public half.
struct SigningKey {
    kid: String,
    algorithm: Algorithm,
    encoding: EncodingKey,
    jwk: Value,
    /// The public key as PEM, for the confusion attack.
    public_pem: String,
}

fn pem(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

/// The test RSA key pair (private PKCS#8, public SPKI) for a `kid`: keys
/// that one test holds at once ("old" and "new", "rsa-1" and "rsa-2",
/// a published key and a "stranger") are always different ones.
fn rsa_fixture(kid: &str) -> (&'static str, &'static str) {
    match kid {
        "new" | "rsa-2" => (
            include_str!("fixtures/rsa/key-2.pem"),
            include_str!("fixtures/rsa/key-2.pub.pem"),
        ),
        "stranger" => (
            include_str!("fixtures/rsa/key-3.pem"),
            include_str!("fixtures/rsa/key-3.pub.pem"),
        ),
        _ => (
            include_str!("fixtures/rsa/key-1.pem"),
            include_str!("fixtures/rsa/key-1.pub.pem"),
        ),
    }
}

/// The DER inside a PEM block.
fn der_of(pem_text: &str) -> Vec<u8> {
    let body: String = pem_text
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    STANDARD.decode(body).unwrap()
}

fn rsa_key(kid: &str) -> SigningKey {
    switchboard::auth::crypto::install();
    let (private_pem, public_pem) = rsa_fixture(kid);
    let pair = RsaKeyPair::from_pkcs8(&der_of(private_pem)).unwrap();
    let public: RsaPublicKeyComponents<Vec<u8>> = pair.public().into();
    SigningKey {
        kid: kid.to_owned(),
        algorithm: Algorithm::RS256,
        encoding: EncodingKey::from_rsa_pem(private_pem.as_bytes()).unwrap(),
        jwk: json!({
            "kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
            "n": URL_SAFE_NO_PAD.encode(&public.n),
            "e": URL_SAFE_NO_PAD.encode(&public.e),
        }),
        public_pem: public_pem.to_owned(),
    }
}

fn ec_key(kid: &str) -> SigningKey {
    let pkcs8 =
        EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
            .unwrap();
    let pair = EcdsaKeyPair::from_pkcs8(
        &ECDSA_P256_SHA256_FIXED_SIGNING,
        pkcs8.as_ref(),
        &SystemRandom::new(),
    )
    .unwrap();
    let point = pair.public_key().as_ref();
    assert_eq!(
        (point.len(), point[0]),
        (65, 4),
        "an uncompressed P-256 point"
    );
    SigningKey {
        kid: kid.to_owned(),
        algorithm: Algorithm::ES256,
        encoding: EncodingKey::from_ec_pem(pem("PRIVATE KEY", pkcs8.as_ref()).as_bytes()).unwrap(),
        jwk: json!({
            "kty": "EC", "kid": kid, "alg": "ES256", "use": "sig", "crv": "P-256",
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&point[33..]),
        }),
        public_pem: String::new(),
    }
}

fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

impl SigningKey {
    fn sign(&self, claims: &Value) -> String {
        switchboard::auth::crypto::install();
        let mut header = Header::new(self.algorithm);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding).unwrap()
    }
}

/// A Cognito access token's claims: `client_id` and `token_use`, no `aud`.
fn access_claims(extra: &Value) -> Value {
    let mut claims = json!({
        "sub": "cognito-user-1", "iss": ISSUER, "client_id": CLIENT_ID,
        "token_use": "access", "exp": now() + 300, "iat": now(),
        "cognito:groups": ["admin"],
    });
    for (k, v) in extra.as_object().unwrap() {
        claims[k] = v.clone();
    }
    claims
}

/// A Cognito id token's claims: `aud` and `token_use: id`.
fn id_claims(extra: &Value) -> Value {
    let mut claims = json!({
        "sub": "cognito-user-2", "iss": ISSUER, "aud": CLIENT_ID,
        "token_use": "id", "exp": now() + 300, "iat": now(),
        "custom:switchboard_user_id": "0190-switchboard-user",
    });
    for (k, v) in extra.as_object().unwrap() {
        claims[k] = v.clone();
    }
    claims
}

/// What the JWKS server serves and how often it was asked.
#[derive(Clone, Default)]
struct Provider {
    keys: Arc<Mutex<Vec<Value>>>,
    up: Arc<Mutex<bool>>,
    fetches: Arc<AtomicUsize>,
}

impl Provider {
    fn publish(&self, keys: &[&SigningKey]) {
        *self.keys.lock().unwrap() = keys.iter().map(|k| k.jwk.clone()).collect();
    }
    fn set_up(&self, up: bool) {
        *self.up.lock().unwrap() = up;
    }
    fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}

async fn jwks(State(provider): State<Provider>) -> Response {
    provider.fetches.fetch_add(1, Ordering::SeqCst);
    if !*provider.up.lock().unwrap() {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    axum::Json(json!({"keys": *provider.keys.lock().unwrap()})).into_response()
}

/// Starts a JWKS server on a free local port.
async fn start_provider(up: bool) -> (Provider, String) {
    let provider = Provider::default();
    provider.set_up(up);
    let app = axum::Router::new()
        .route("/.well-known/jwks.json", axum::routing::get(jwks))
        .with_state(provider.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/.well-known/jwks.json",
        listener.local_addr().unwrap()
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    (provider, url)
}

/// A Switchboard user, as a token's user claim names it (a caller who is no
/// admin must be one).
async fn a_user(app: &TestApp) -> String {
    let user = app
        .store
        .users()
        .create(&switchboard::domain::user::NewUser {
            email: format!("idp-{}@example.com", uuid::Uuid::now_v7().simple()),
            first_name: "Id".into(),
            last_name: "Provider".into(),
            password_hash: "x".into(),
        })
        .await
        .unwrap();
    user.id.to_string()
}

/// An app trusting only the provider (no HS256 secret), with the Cognito
/// issuer and app client, reading the user id from a custom attribute.
async fn app_for(url: &str) -> TestApp {
    app_with(url, &[]).await
}

/// Like [`app_for`], with more variables.
async fn app_with(url: &str, more: &[(&str, &str)]) -> TestApp {
    let mut vars = vec![
        ("JWT_SECRET", ""),
        ("JWT_JWKS_URL", url),
        ("JWT_ISSUER", ISSUER),
        ("JWT_AUDIENCE", CLIENT_ID),
        ("JWT_USER_CLAIM", "custom:switchboard_user_id"),
    ];
    vars.extend_from_slice(more);
    let app = TestApp::spawn_with(&vars).await;
    app.prefetch_keys().await;
    app
}

async fn status_with(app: &TestApp, token: &str) -> (StatusCode, Value) {
    let reply = app.post_graphql(Some(token), QUERY, json!({})).await;
    (reply.status, reply.json())
}

async fn accepted(app: &TestApp, token: &str) -> bool {
    let (status, body) = status_with(app, token).await;
    if status == StatusCode::OK {
        data(&body);
        true
    } else {
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        assert_eq!(error_code(&body), "UNAUTHENTICATED");
        false
    }
}

#[tokio::test]
async fn rs256_and_es256_tokens_from_the_provider_are_accepted_in_cognitos_shapes() {
    let (provider, url) = start_provider(true).await;
    let (rsa, ec) = (rsa_key("rsa-1"), ec_key("ec-1"));
    provider.publish(&[&rsa, &ec]);
    let app = app_for(&url).await;
    assert_eq!(provider.fetches(), 1, "fetched during init");
    let user = a_user(&app).await;
    for key in [&rsa, &ec] {
        assert!(accepted(&app, &key.sign(&access_claims(&json!({})))).await);
        let id_token = id_claims(&json!({"custom:switchboard_user_id": user}));
        assert!(accepted(&app, &key.sign(&id_token)).await);
    }
    // The access token's group makes an admin: mutations run.
    let admin = rsa.sign(&access_claims(&json!({})));
    let reply = app
        .post_graphql(
            Some(&admin),
            "mutation { createPricingTier(input: {name: \"idp\", currency: \"EUR\", ratePerMinute: \"1\"}) { id } }",
            json!({}),
        )
        .await;
    data(&reply.json());
    // Without the group, the same caller may read but not write.
    let plain = rsa.sign(&access_claims(
        &json!({"cognito:groups": [], "custom:switchboard_user_id": user}),
    ));
    let reply = app
        .post_graphql(
            Some(&plain),
            "mutation { deletePricingTier(id: \"0190a000-0000-7000-8000-000000000000\") }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&reply.json()), "FORBIDDEN");
    assert_eq!(provider.fetches(), 1, "known keys are not fetched again");
}

#[tokio::test]
async fn every_wrong_claim_is_refused() {
    let (provider, url) = start_provider(true).await;
    let key = rsa_key("rsa-1");
    provider.publish(&[&key]);
    let app = app_for(&url).await;
    let cases = [
        ("expired", access_claims(&json!({"exp": now() - 120}))),
        ("not yet valid", access_claims(&json!({"nbf": now() + 600}))),
        (
            "wrong issuer",
            access_claims(&json!({"iss": "https://evil.example"})),
        ),
        ("no issuer", {
            let mut c = access_claims(&json!({}));
            c.as_object_mut().unwrap().remove("iss");
            c
        }),
        (
            "access token for another client",
            access_claims(&json!({"client_id": "other"})),
        ),
        (
            "id token for another audience",
            id_claims(&json!({"aud": "other"})),
        ),
        (
            "id token shaped as access",
            id_claims(&json!({"token_use": "access"})),
        ),
        (
            "refresh token use",
            id_claims(&json!({"token_use": "refresh"})),
        ),
        ("no exp", {
            let mut c = access_claims(&json!({}));
            c.as_object_mut().unwrap().remove("exp");
            c
        }),
    ];
    for (case, claims) in cases {
        assert!(
            !accepted(&app, &key.sign(&claims)).await,
            "{case} was accepted"
        );
    }
    let (_, body) = status_with(
        &app,
        &key.sign(&access_claims(&json!({"exp": now() - 120}))),
    )
    .await;
    assert_eq!(body["errors"][0]["message"], "the token has expired");
}

#[tokio::test]
async fn alg_none_and_the_hs256_confusion_attack_are_refused() {
    let (provider, url) = start_provider(true).await;
    let key = rsa_key("rsa-1");
    provider.publish(&[&key]);
    let app = app_for(&url).await;
    let claims = access_claims(&json!({}));
    // `alg: none`, unsigned.
    let header = URL_SAFE_NO_PAD.encode(json!({"alg": "none", "kid": "rsa-1"}).to_string());
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    assert!(!accepted(&app, &format!("{header}.{payload}.")).await);
    // HS256 "signed" with the RSA public key, naming the RSA key's kid.
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("rsa-1".into());
    let forged = jsonwebtoken::encode(
        &header,
        &claims,
        &EncodingKey::from_secret(key.public_pem.as_bytes()),
    )
    .unwrap();
    assert!(!accepted(&app, &forged).await);
    // The same with the JWK's modulus bytes as the secret.
    let n = key.jwk["n"].as_str().unwrap();
    let forged =
        jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(n.as_bytes())).unwrap();
    assert!(!accepted(&app, &forged).await);
    // An ES256 token naming an RSA key.
    let ec = ec_key("rsa-1");
    assert!(!accepted(&app, &ec.sign(&claims)).await);
    // A genuine token still works.
    assert!(accepted(&app, &key.sign(&claims)).await);
}

#[tokio::test]
async fn a_rotated_key_is_picked_up_once_and_unknown_kids_cost_one_fetch_per_interval() {
    let (provider, url) = start_provider(true).await;
    let (old, new) = (rsa_key("old"), rsa_key("new"));
    provider.publish(&[&old]);
    let app = app_for(&url).await;
    assert!(accepted(&app, &old.sign(&access_claims(&json!({})))).await);
    // Rotation: the provider now publishes only the new key.
    provider.publish(&[&new]);
    assert!(accepted(&app, &new.sign(&access_claims(&json!({})))).await);
    assert_eq!(provider.fetches(), 2, "one refetch for the new kid");
    // The old key is gone with the refetch.
    assert!(!accepted(&app, &old.sign(&access_claims(&json!({})))).await);
    // Unknown kids within the interval are refused without fetching.
    let stranger = rsa_key("stranger");
    for _ in 0..5 {
        assert!(!accepted(&app, &stranger.sign(&access_claims(&json!({})))).await);
    }
    assert_eq!(provider.fetches(), 2, "no refetch within five minutes");
}

#[tokio::test]
async fn a_withdrawn_key_stops_working_once_the_set_is_older_than_its_max_age() {
    let (provider, url) = start_provider(true).await;
    let (withdrawn, kept) = (rsa_key("old"), rsa_key("new"));
    provider.publish(&[&withdrawn, &kept]);
    let app = app_with(&url, &[("JWT_JWKS_MAX_AGE", "1s")]).await;
    assert!(accepted(&app, &withdrawn.sign(&access_claims(&json!({})))).await);
    assert_eq!(provider.fetches(), 1);
    // The provider withdraws a compromised key. Its tokens name a known
    // kid, so no unknown-kid refetch would ever notice.
    provider.publish(&[&kept]);
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    assert!(!accepted(&app, &withdrawn.sign(&access_claims(&json!({})))).await);
    assert_eq!(provider.fetches(), 2, "one renewal, by the first request");
    assert!(accepted(&app, &kept.sign(&access_claims(&json!({})))).await);
    assert_eq!(provider.fetches(), 2, "the renewed set is used as it is");
    // A renewal that brings no usable key (an empty or broken document)
    // keeps the keys known: it never locks every caller out.
    provider.publish(&[]);
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    assert!(accepted(&app, &kept.sign(&access_claims(&json!({})))).await);
    assert_eq!(provider.fetches(), 3);
}

#[tokio::test]
async fn a_provider_down_at_start_is_tried_again_when_a_token_arrives() {
    let (provider, url) = start_provider(false).await;
    let key = ec_key("ec-1");
    provider.publish(&[&key]);
    let app = app_for(&url).await;
    assert_eq!(provider.fetches(), 1);
    provider.set_up(true);
    let user = a_user(&app).await;
    let token = key.sign(&id_claims(&json!({"custom:switchboard_user_id": user})));
    assert!(accepted(&app, &token).await);
    assert_eq!(provider.fetches(), 2);
}

#[tokio::test]
async fn a_provider_down_mid_run_keeps_known_keys_working_and_never_hangs_a_request() {
    let (provider, url) = start_provider(true).await;
    let key = rsa_key("rsa-1");
    provider.publish(&[&key]);
    let app = app_for(&url).await;
    provider.set_up(false);
    assert!(accepted(&app, &key.sign(&access_claims(&json!({})))).await);
    let rotated = rsa_key("rsa-2");
    assert!(!accepted(&app, &rotated.sign(&access_claims(&json!({})))).await);
    assert_eq!(provider.fetches(), 2, "the refetch was tried and failed");
    assert!(accepted(&app, &key.sign(&access_claims(&json!({})))).await);
}

#[tokio::test]
async fn a_provider_that_never_answers_fails_the_fetch_on_its_timeout() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
    let held = tokio::spawn(async move {
        let mut sockets = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            sockets.push(socket);
        }
    });
    // Without the fetch timeout this would never return; the bound only
    // keeps a regression from hanging the suite.
    let app = tokio::time::timeout(std::time::Duration::from_mins(1), app_for(&url))
        .await
        .expect("init must not hang on the provider");
    let key = rsa_key("rsa-1");
    let refused = tokio::time::timeout(
        std::time::Duration::from_mins(1),
        accepted(&app, &key.sign(&access_claims(&json!({})))),
    )
    .await
    .expect("a request must not hang on the provider");
    assert!(!refused);
    held.abort();
}

#[tokio::test]
async fn the_user_id_comes_from_the_configured_claim() {
    let (provider, url) = start_provider(true).await;
    let key = rsa_key("rsa-1");
    provider.publish(&[&key]);
    let app = app_for(&url).await;
    let token = key.sign(&id_claims(&json!({})));
    let principal = app
        .verifier()
        .verify(&token)
        .await
        .expect("a valid id token");
    assert_eq!(principal.user_id.as_deref(), Some("0190-switchboard-user"));
    assert_eq!(principal.subject, "cognito-user-2");
    assert!(!principal.is_admin);
}
