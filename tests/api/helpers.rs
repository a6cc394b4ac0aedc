//! The test harness: a [`TestApp`] per test, with its own table in the one
//! DynamoDB Local that `scripts/test` starts, driven through the same
//! router production runs (`tower::ServiceExt::oneshot`, no sockets).

use std::collections::HashMap;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use bytes::Bytes;
use http::{HeaderMap, Request, StatusCode};
use http_body_util::BodyExt as _;
use serde_json::{Value, json};
use switchboard::auth::TokenIssuer;
use switchboard::config::Config;
use switchboard::http::{AppState, router};
use switchboard::store::{self, Store, tables};
use tower::ServiceExt as _;

/// The JWT secret every test app uses.
pub const SECRET: &str = "test-secret-0123456789abcdef-0123456789";

/// A running app over a fresh table.
pub struct TestApp {
    pub router: Router,
    pub store: Store,
    issuer: TokenIssuer,
}

/// What an HTTP exchange returned.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub bytes: Bytes,
}

impl Reply {
    /// The body as JSON (panics with the body text if it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes).unwrap_or_else(|_| {
            panic!(
                "response is not JSON ({}): {}",
                self.status,
                String::from_utf8_lossy(&self.bytes)
            )
        })
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }

    /// The `Content-Type` header.
    pub fn content_type(&self) -> &str {
        self.headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }
}

/// Fails the test with a pointer to the right command when DynamoDB Local
/// is not configured.
fn require_dynamodb_local() {
    assert!(
        std::env::var_os("AWS_ENDPOINT_URL_DYNAMODB").is_some(),
        "integration tests need DynamoDB Local; run them with `scripts/test`, \
         which starts one and sets AWS_ENDPOINT_URL_DYNAMODB"
    );
}

/// With `SWITCHBOARD_TEST_LOG=1`, the gateway's logs (where internal error
/// details go) are printed with each test's output.
fn init_test_log() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    if std::env::var_os("SWITCHBOARD_TEST_LOG").is_some() {
        ONCE.call_once(|| {
            let _ = tracing_subscriber::fmt()
                .with_env_filter("warn,switchboard=debug")
                .with_test_writer()
                .try_init();
        });
    }
}

impl TestApp {
    /// An app with default configuration.
    pub async fn spawn() -> Self {
        Self::spawn_with(&[]).await
    }

    /// An app with extra configuration variables.
    pub async fn spawn_with(vars: &[(&str, &str)]) -> Self {
        init_test_log();
        require_dynamodb_local();
        let table = format!("test_{}", uuid::Uuid::now_v7().simple());
        let mut env: HashMap<String, String> = HashMap::from([
            ("JWT_SECRET".into(), SECRET.into()),
            ("TABLE_NAME".into(), table.clone()),
        ]);
        for (k, v) in vars {
            env.insert((*k).into(), (*v).into());
        }
        let config = Config::from_vars(&env).expect("test configuration");
        let client = store::client_from_env().await;
        tables::create_table(&client, &table)
            .await
            .expect("create the test table in DynamoDB Local");
        Self::over(Store::new(client, table), &config)
    }

    /// An app over a store of the test's making (a faulty client, say),
    /// with default configuration.
    pub fn over_store(store: Store) -> Self {
        let env = HashMap::from([("JWT_SECRET".to_owned(), SECRET.to_owned())]);
        Self::over(store, &Config::from_vars(&env).expect("test configuration"))
    }

    fn over(store: Store, config: &Config) -> Self {
        let state = AppState::new(config, store.clone());
        Self {
            router: router(state),
            store,
            issuer: TokenIssuer::new(&config.jwt),
        }
    }

    /// An issuer for the shared test secret, for apps this harness did not
    /// build (a spawned binary).
    pub fn issuer_for_tests() -> TokenIssuer {
        let env = HashMap::from([("JWT_SECRET".to_owned(), SECRET.to_owned())]);
        TokenIssuer::new(&Config::from_vars(&env).expect("test configuration").jwt)
    }

    /// A token with the admin role.
    pub fn admin_token(&self) -> String {
        self.issuer
            .mint("admin@example.com", true, Duration::from_mins(10))
    }

    /// A valid token without the admin role.
    pub fn user_token(&self) -> String {
        self.issuer
            .mint("user@example.com", false, Duration::from_mins(10))
    }

    /// Sends a raw request through the router.
    pub async fn send(&self, request: Request<Body>) -> Reply {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("the router is infallible");
        let (parts, body) = response.into_parts();
        Reply {
            status: parts.status,
            headers: parts.headers,
            bytes: body.collect().await.expect("body").to_bytes(),
        }
    }

    /// POSTs a GraphQL request with `token` (or none).
    pub async fn post_graphql(&self, token: Option<&str>, query: &str, variables: Value) -> Reply {
        let mut builder = Request::post("/graphql")
            .header("content-type", "application/json")
            .header("accept", "application/json");
        if let Some(token) = token {
            builder = builder.header("authorization", format!("Bearer {token}"));
        }
        let body = json!({"query": query, "variables": variables}).to_string();
        self.send(builder.body(Body::from(body)).unwrap()).await
    }

    /// Runs a GraphQL request as admin and returns the JSON body.
    pub async fn graphql(&self, query: &str, variables: Value) -> Value {
        let reply = self
            .post_graphql(Some(&self.admin_token()), query, variables)
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        reply.json()
    }

    /// Runs a GraphQL request as a non-admin user.
    pub async fn graphql_as_user(&self, query: &str, variables: Value) -> Value {
        let reply = self
            .post_graphql(Some(&self.user_token()), query, variables)
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        reply.json()
    }
}

/// The first error's `extensions.code`.
pub fn error_code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("expected an error with a code, got {body}"))
}

/// The first error's `extensions.field`.
pub fn error_field(body: &Value) -> &str {
    body["errors"][0]["extensions"]["field"]
        .as_str()
        .unwrap_or_else(|| panic!("expected an error with a field, got {body}"))
}

/// Asserts the body has no errors and returns `data`.
pub fn data(body: &Value) -> &Value {
    assert!(body.get("errors").is_none(), "unexpected errors: {body}");
    &body["data"]
}
