//! The test harness: a [`TestApp`] per test, with its own table in the one
//! DynamoDB Local that `scripts/test` starts, driven through the same
//! router production runs (`tower::ServiceExt::oneshot`, no sockets).

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use axum::Router;
use axum::body::Body;
use bytes::Bytes;
use http::{HeaderMap, Request, StatusCode};
use http_body_util::BodyExt as _;
use serde_json::{Value, json};
use switchboard::auth::{TokenIssuer, TokenVerifier};
use switchboard::config::Config;
use switchboard::http::{AppState, router};
use switchboard::store::{self, Store, tables};
use switchboard::telemetry;
use tower::ServiceExt as _;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// The JWT secret every test app uses.
pub const SECRET: &str = "test-secret-0123456789abcdef-0123456789";
/// The account-secret HMAC key every test app uses.
pub const ACCOUNT_KEY: &str = "test-account-key-0123456789abcdef-01234";

/// A running app over a fresh table.
pub struct TestApp {
    pub router: Router,
    pub store: Store,
    issuer: TokenIssuer,
    verifier: Arc<TokenVerifier>,
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

/// Everything the gateway logs during the test run, as JSON lines.
///
/// One global subscriber for the whole test binary: a per-test scoped
/// subscriber (`set_default`) misses events when another test thread
/// registers the same callsite concurrently. Tests that inspect logs pick
/// out their own lines by request id. With `SWITCHBOARD_TEST_LOG=1` every
/// line is also echoed to stderr (where internal error details go).
#[derive(Clone, Default)]
pub struct LogCapture(Arc<Mutex<Vec<u8>>>);

impl Write for LogCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        if std::env::var_os("SWITCHBOARD_TEST_LOG").is_some() {
            let _ = std::io::stderr().write_all(buf);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for LogCapture {
    type Writer = LogCapture;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl LogCapture {
    /// Everything logged so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    /// Every line logged so far, parsed (panics on a line that is not JSON).
    pub fn lines(&self) -> Vec<Value> {
        self.text()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not a JSON log line: {l}")))
            .collect()
    }
}

/// The global capture, installed with the production subscriber at the
/// production default level (`info`) on first use.
pub fn logs() -> &'static LogCapture {
    static LOGS: OnceLock<LogCapture> = OnceLock::new();
    LOGS.get_or_init(|| {
        let capture = LogCapture::default();
        let _ = tracing::subscriber::set_global_default(telemetry::subscriber(
            capture.clone(),
            EnvFilter::new("info"),
            false,
        ));
        capture
    })
}

impl TestApp {
    /// An app with default configuration.
    pub async fn spawn() -> Self {
        Self::spawn_with(&[]).await
    }

    /// An app with extra configuration variables.
    pub async fn spawn_with(vars: &[(&str, &str)]) -> Self {
        logs();
        require_dynamodb_local();
        let table = format!("test_{}", uuid::Uuid::now_v7().simple());
        let mut env: HashMap<String, String> = HashMap::from([
            ("JWT_SECRET".into(), SECRET.into()),
            ("ACCOUNT_SECRET_KEY".into(), ACCOUNT_KEY.into()),
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
        Self::over_store_with(store, &[])
    }

    /// An app over a store of the test's making, with extra configuration
    /// variables.
    pub fn over_store_with(store: Store, vars: &[(&str, &str)]) -> Self {
        let mut env = HashMap::from([
            ("JWT_SECRET".to_owned(), SECRET.to_owned()),
            ("ACCOUNT_SECRET_KEY".to_owned(), ACCOUNT_KEY.to_owned()),
        ]);
        for (k, v) in vars {
            env.insert((*k).into(), (*v).into());
        }
        Self::over(store, &Config::from_vars(&env).expect("test configuration"))
    }

    /// Another app over this app's table whose DynamoDB calls are counted
    /// by operation, with extra configuration variables.
    pub async fn counted(&self, vars: &[(&str, &str)]) -> (Self, CallCounter) {
        let counter = CallCounter::default();
        let config = switchboard::store::aws_config(&switchboard::store::Timeouts::default()).await;
        let dynamodb = aws_sdk_dynamodb::config::Builder::from(&config)
            .interceptor(counter.clone())
            .build();
        let store = Store::new(
            aws_sdk_dynamodb::Client::from_conf(dynamodb),
            self.store.table_name().to_owned(),
        );
        (Self::over_store_with(store, vars), counter)
    }

    /// Another app over this app's table whose emails go to a mail service
    /// that refuses every connection (an SES outage).
    pub async fn with_mail_down(&self) -> Self {
        let env = HashMap::from([
            ("JWT_SECRET".to_owned(), SECRET.to_owned()),
            ("ACCOUNT_SECRET_KEY".to_owned(), ACCOUNT_KEY.to_owned()),
        ]);
        let config = Config::from_vars(&env).expect("test configuration");
        let aws = switchboard::store::aws_config(&switchboard::store::Timeouts::default()).await;
        let ses = aws_sdk_sesv2::config::Builder::from(&aws)
            .endpoint_url("http://127.0.0.1:1")
            .build();
        let mailer = switchboard::mail::Mailer::with_client(
            config.invitation_mail.clone(),
            aws_sdk_sesv2::Client::from_conf(ses),
        );
        let state = AppState::with_mailer(&config, self.store.clone(), mailer);
        Self {
            verifier: state.verifier.clone(),
            router: router(state),
            store: self.store.clone(),
            issuer: TokenIssuer::new(&config.jwt),
        }
    }

    /// An app with extra configuration variables whose metrics lines are
    /// kept in memory, returned beside it.
    pub async fn spawn_with_metrics(vars: &[(&str, &str)]) -> (Self, Arc<Mutex<Vec<String>>>) {
        let app = Self::spawn_with(vars).await;
        let lines = Arc::new(Mutex::new(Vec::new()));
        let mut env = HashMap::from([
            ("JWT_SECRET".to_owned(), SECRET.to_owned()),
            ("ACCOUNT_SECRET_KEY".to_owned(), ACCOUNT_KEY.to_owned()),
        ]);
        for (k, v) in vars {
            env.insert((*k).into(), (*v).into());
        }
        let config = Config::from_vars(&env).expect("test configuration");
        let sink = switchboard::metrics::Sink::Memory(lines.clone());
        let app = Self::over_with_metrics(app.store.clone(), &config, Some(sink));
        (app, lines)
    }

    /// An app over `store` with a configuration of the test's making.
    pub fn over(store: Store, config: &Config) -> Self {
        Self::over_with_metrics(store, config, None)
    }

    fn over_with_metrics(
        store: Store,
        config: &Config,
        metrics: Option<switchboard::metrics::Sink>,
    ) -> Self {
        logs();
        let mut state = AppState::new(config, store.clone());
        if let Some(sink) = metrics {
            state.metrics = switchboard::metrics::Emitter::new("Switchboard", sink);
        }
        Self {
            verifier: state.verifier.clone(),
            router: router(state),
            store,
            issuer: TokenIssuer::new(&config.jwt),
        }
    }

    /// Fetches the identity provider's keys, as the app's init does.
    pub async fn prefetch_keys(&self) {
        self.verifier.prefetch().await;
    }

    /// The app's token verifier.
    pub fn verifier(&self) -> &TokenVerifier {
        &self.verifier
    }

    /// An issuer for the shared test secret, for apps this harness did not
    /// build (a spawned binary).
    pub fn issuer_for_tests() -> TokenIssuer {
        let env = HashMap::from([
            ("JWT_SECRET".to_owned(), SECRET.to_owned()),
            ("ACCOUNT_SECRET_KEY".to_owned(), ACCOUNT_KEY.to_owned()),
        ]);
        TokenIssuer::new(&Config::from_vars(&env).expect("test configuration").jwt)
    }

    /// A token with the admin role.
    pub fn admin_token(&self) -> String {
        self.issuer
            .mint("admin@example.com", true, Duration::from_mins(10))
    }

    /// A token with the platform role `role` (`support`, `billing`,
    /// `telephony-edge`, `admin`) and no user.
    pub fn platform_token(&self, role: &str) -> String {
        self.issuer.mint_with_roles(
            &format!("{role}@platform"),
            &[role],
            Duration::from_mins(10),
        )
    }

    /// A valid token without the admin role whose subject is no user: the
    /// gateway refuses it (401).
    pub fn stranger_token(&self) -> String {
        self.issuer
            .mint("user@example.com", false, Duration::from_mins(10))
    }

    /// A token acting as user `id` (no admin role).
    pub fn token_for(&self, id: uuid::Uuid) -> String {
        self.issuer
            .mint(&id.to_string(), false, Duration::from_mins(10))
    }

    /// Creates a user with a unique email (tagged `tag`) directly in the
    /// store and returns its id.
    pub async fn create_user(&self, tag: &str) -> uuid::Uuid {
        self.create_user_with_email(&format!(
            "{tag}-{}@example.com",
            uuid::Uuid::now_v7().simple()
        ))
        .await
    }

    /// Creates a user with `email` directly in the store.
    pub async fn create_user_with_email(&self, email: &str) -> uuid::Uuid {
        self.store
            .users()
            .create(&switchboard::domain::user::NewUser {
                email: email.to_owned(),
                first_name: "Test".into(),
                last_name: "User".into(),
                password_hash: "$argon2id$v=19$m=19456,t=2,p=1$test".into(),
            })
            .await
            .expect("create a test user")
            .id
    }

    /// Runs a GraphQL request with `token` and returns the JSON body
    /// (asserting HTTP 200).
    pub async fn graphql_with(&self, token: &str, query: &str, variables: Value) -> Value {
        let reply = self.post_graphql(Some(token), query, variables).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        reply.json()
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
        self.post_graphql_as_request(token, query, variables, None)
            .await
    }

    /// POSTs a GraphQL request with `token` and, if given, an
    /// `x-request-id` to find its log lines by.
    pub async fn post_graphql_as_request(
        &self,
        token: Option<&str>,
        query: &str,
        variables: Value,
        request_id: Option<&str>,
    ) -> Reply {
        let mut builder = Request::post("/graphql")
            .header("content-type", "application/json")
            .header("accept", "application/json");
        if let Some(token) = token {
            builder = builder.header("authorization", format!("Bearer {token}"));
        }
        if let Some(id) = request_id {
            builder = builder.header("x-request-id", id);
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

    /// Runs a GraphQL request as a fresh, signed-in user who belongs to no
    /// customer.
    pub async fn graphql_as_user(&self, query: &str, variables: Value) -> Value {
        let user = self.create_user("signed-in").await;
        self.graphql_with(&self.token_for(user), query, variables)
            .await
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

/// Counts the DynamoDB calls a client makes, by operation (`Query`,
/// `BatchGetItem`, …), as the `x-amz-target` header names them.
#[derive(Clone, Debug, Default)]
pub struct CallCounter(Arc<Mutex<HashMap<String, usize>>>);

impl CallCounter {
    /// Calls of `operation` so far.
    pub fn count(&self, operation: &str) -> usize {
        self.0.lock().unwrap().get(operation).copied().unwrap_or(0)
    }

    /// Forgets every call so far.
    pub fn reset(&self) {
        self.0.lock().unwrap().clear();
    }

    /// Every call so far by operation, forgetting them.
    pub fn take(&self) -> std::collections::BTreeMap<String, usize> {
        std::mem::take(&mut *self.0.lock().unwrap())
            .into_iter()
            .collect()
    }
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "CallCounter"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let target = context
            .request()
            .headers()
            .get("x-amz-target")
            .unwrap_or_default();
        let operation = target.rsplit('.').next().unwrap_or(target).to_owned();
        *self.0.lock().unwrap().entry(operation).or_default() += 1;
        Ok(())
    }
}

/// A customer created through the API as admin: its id and its owner's id.
/// `overrides` are merged into a minimal valid input.
pub async fn create_customer(app: &TestApp, overrides: Value) -> (uuid::Uuid, uuid::Uuid) {
    let tag = uuid::Uuid::now_v7().simple().to_string();
    let mut input = json!({
        "customerType": "BUSINESS",
        "firstName": "Owen",
        "lastName": "Owner",
        "email": format!("owner-{tag}@example.com"),
        "password": "correct horse battery",
        "companyName": format!("Company {tag}"),
        "country": "GB",
        "currency": "GBP",
    });
    for (k, v) in overrides.as_object().expect("overrides are an object") {
        input[k] = v.clone();
    }
    let body = app
        .graphql(
            "mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { id owner { id } } }",
            json!({ "input": input }),
        )
        .await;
    let created = &data(&body)["createCustomer"];
    let id = |v: &Value| uuid::Uuid::parse_str(v.as_str().expect("an id")).expect("a uuid");
    (id(&created["id"]), id(&created["owner"]["id"]))
}
