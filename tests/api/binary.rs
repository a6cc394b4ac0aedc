//! The `switchboard` binary as users and Lambda run it: configuration
//! checked at start-up, the subcommands, a real TCP server, and the real
//! Lambda runtime loop against a stand-in Runtime API.

use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::Path;
use axum::routing::{get, post};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::sync::mpsc;

use crate::helpers::{SECRET, TestApp, data, error_code};

fn switchboard() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_switchboard"));
    command
        .env_remove("AWS_LAMBDA_RUNTIME_API")
        .env("JWT_SECRET", SECRET)
        .env("ACCOUNT_SECRET_KEY", crate::helpers::ACCOUNT_KEY)
        .env("RUST_LOG", "warn");
    command
}

fn unique_table() -> String {
    format!("test_{}", uuid::Uuid::now_v7().simple())
}

/// Kills the child when the test ends, however it ends.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn start_up_fails_fast_naming_a_missing_or_malformed_variable() {
    for (variable, value, expected) in [
        ("JWT_SECRET", None, "JWT_SECRET"),
        ("JWT_SECRET", Some("short"), "at least 32 bytes"),
        ("ACCOUNT_SECRET_KEY", None, "ACCOUNT_SECRET_KEY"),
        ("MAX_BODY_BYTES", Some("lots"), "MAX_BODY_BYTES"),
        (
            "GRAPHQL_INTROSPECTION",
            Some("sometimes"),
            "GRAPHQL_INTROSPECTION",
        ),
    ] {
        let mut command = switchboard();
        command.args(["serve", "--port", "0"]);
        match value {
            Some(value) => command.env(variable, value),
            None => command.env_remove(variable),
        };
        let output = command.output().unwrap();
        assert!(!output.status.success(), "{variable}={value:?} started");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expected), "{variable}: {stderr}");
    }
    // Started without a command, a PORT that is no port number is an
    // error too, not a quiet start on 3000.
    let output = switchboard()
        .env("TABLE_NAME", unique_table())
        .env("PORT", "80a")
        .output()
        .unwrap();
    assert!(!output.status.success(), "PORT=80a started");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("PORT: `80a` is not a port number"),
        "{stderr}"
    );
}

#[test]
fn print_schema_prints_the_exported_sdl() {
    let output = switchboard().arg("print-schema").output().unwrap();
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        std::fs::read_to_string("schema.graphql").unwrap()
    );
}

#[test]
fn create_tables_is_idempotent() {
    let table = unique_table();
    let first = switchboard()
        .arg("create-tables")
        .env("TABLE_NAME", &table)
        .output()
        .unwrap();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&first.stdout).trim(),
        format!("created table {table}")
    );
    let second = switchboard()
        .arg("create-tables")
        .env("TABLE_NAME", &table)
        .output()
        .unwrap();
    assert!(second.status.success());
    assert_eq!(
        String::from_utf8_lossy(&second.stdout).trim(),
        format!("table {table} already exists")
    );
}

#[tokio::test]
async fn the_token_command_mints_tokens_the_gateway_accepts() {
    let app = TestApp::spawn().await;
    let mint = |admin: bool| {
        let mut command = switchboard();
        command.args(["token", "--sub", "ops@example.com", "--ttl", "5m"]);
        if admin {
            command.arg("--admin");
        }
        let output = command.output().unwrap();
        assert!(output.status.success());
        String::from_utf8(output.stdout).unwrap().trim().to_owned()
    };
    let create = "mutation { createPricingTier(input: {name: \"Cli\", currency: \"USD\", ratePerMinute: \"1\"}) { name } }";
    let admin = app
        .post_graphql(Some(&mint(true)), create, json!({}))
        .await
        .json();
    assert_eq!(data(&admin)["createPricingTier"]["name"], "Cli");
    let user = app
        .post_graphql(Some(&mint(false)), create, json!({}))
        .await
        .json();
    // A non-admin token must name an active user; `ops@example.com` is none.
    assert_eq!(error_code(&user), "UNAUTHENTICATED");
}

async fn free_port() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

/// One HTTP/1.1 exchange over a fresh connection; returns status and body.
async fn http(port: u16, request: String) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let status = response[9..12].parse().unwrap();
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// Starts `switchboard serve` over a fresh table; returns it and its port.
async fn serve() -> (Running, u16) {
    serve_with(false).await
}

/// As [`serve`]; with `port_from_env`, the port is given as `PORT` instead
/// of `--port`.
async fn serve_with(port_from_env: bool) -> (Running, u16) {
    let table = unique_table();
    let setup = switchboard()
        .arg("create-tables")
        .env("TABLE_NAME", &table)
        .output()
        .unwrap();
    assert!(setup.status.success());
    let port = free_port().await;
    let mut command = switchboard();
    command
        .arg("serve")
        .env("TABLE_NAME", &table)
        .stdout(Stdio::null());
    if port_from_env {
        command.env("PORT", port.to_string());
    } else {
        command.args(["--port", &port.to_string()]);
    }
    let server = Running(command.spawn().unwrap());
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return (server, port);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("switchboard serve did not open its port");
}

#[tokio::test]
async fn serve_answers_over_tcp() {
    let (_server, port) = serve().await;
    let (status, body) = http(
        port,
        "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".into(),
    )
    .await;
    assert_eq!((status, body.as_str()), (200, "{\"status\":\"ok\"}"));

    let token = crate::helpers::TestApp::issuer_for_tests().mint("t", true, Duration::from_mins(1));
    let payload = json!({"query": "{ defaultPricingTier { id } }"}).to_string();
    let request = format!(
        "POST /graphql HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\n\
         Authorization: Bearer {token}\r\nContent-Length: {}\r\n\r\n{payload}",
        payload.len()
    );
    let (status, body) = http(port, request).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({"data": {"defaultPricingTier": null}})
    );
}

/// A stand-in for the Lambda Runtime API: hands out one event, then holds
/// the next poll open; reports what the function answered.
async fn runtime_api(event: String) -> (u16, mpsc::Receiver<(String, Value)>) {
    let (tx, rx) = mpsc::channel(4);
    let pending = Arc::new(Mutex::new(Some(event)));
    let report = |kind: &'static str, tx: mpsc::Sender<(String, Value)>| {
        move |Path(_id): Path<String>, body: String| async move {
            let value = serde_json::from_str(&body).unwrap_or(Value::String(body));
            let _ = tx.send((kind.to_owned(), value)).await;
            http::StatusCode::ACCEPTED
        }
    };
    let init_tx = tx.clone();
    let app = Router::new()
        .route(
            "/2018-06-01/runtime/invocation/next",
            get(move || {
                let next = pending.lock().unwrap().take();
                async move {
                    match next {
                        Some(event) => (
                            [
                                ("lambda-runtime-aws-request-id", "8476a536-e9f4-11e8-9739-2dfe598c3fcd"),
                                ("lambda-runtime-deadline-ms", "4102444800000"),
                                ("lambda-runtime-invoked-function-arn", "arn:aws:lambda:us-east-1:123456789012:function:switchboard"),
                                ("lambda-runtime-trace-id", "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1"),
                                ("content-type", "application/json"),
                            ],
                            event,
                        ),
                        None => std::future::pending().await,
                    }
                }
            }),
        )
        .route("/2018-06-01/runtime/invocation/{id}/response", post(report("response", tx.clone())))
        .route("/2018-06-01/runtime/invocation/{id}/error", post(report("error", tx)))
        .route(
            "/2018-06-01/runtime/init/error",
            post(move |body: String| async move {
                let _ = init_tx.send(("init error".into(), Value::String(body))).await;
                http::StatusCode::ACCEPTED
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (port, rx)
}

#[tokio::test]
async fn on_lambda_the_binary_answers_api_gateway_events_through_the_runtime_api() {
    let app = TestApp::spawn().await;
    let event = std::fs::read_to_string("infra/events/http-api-v2-graphql.json")
        .unwrap()
        .replace("REPLACE_WITH_TOKEN", &app.admin_token());
    let (port, mut answers) = runtime_api(event).await;
    let _function = Running(
        switchboard()
            .env("AWS_LAMBDA_RUNTIME_API", format!("127.0.0.1:{port}"))
            .env("AWS_LAMBDA_FUNCTION_NAME", "switchboard")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "test")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "test")
            .env("TABLE_NAME", app.store.table_name())
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let (kind, answer) = tokio::time::timeout(Duration::from_secs(30), answers.recv())
        .await
        .expect("the function answered within 30 s")
        .unwrap();
    assert_eq!(kind, "response", "{answer}");
    assert_eq!(answer["statusCode"], 200, "{answer}");
    assert_eq!(answer["isBase64Encoded"], false);
    assert!(
        answer["headers"]["content-type"]
            .as_str()
            .unwrap()
            .starts_with("application/json")
    );
    let body: Value = serde_json::from_str(answer["body"].as_str().unwrap()).unwrap();
    assert_eq!(data(&body)["pricingTiers"]["edges"], json!([]));
}

#[tokio::test]
async fn the_server_passes_the_graphql_over_http_audit() {
    let node_path = std::env::var("SWITCHBOARD_NODE_PATH").expect(
        "SWITCHBOARD_NODE_PATH names the graphql-http install; run the tests with scripts/test",
    );
    let (_server, port) = serve().await;
    let token =
        crate::helpers::TestApp::issuer_for_tests().mint("audit", true, Duration::from_mins(5));
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg("scripts/graphql-http-audit.cjs")
            .env("NODE_PATH", node_path)
            .env("AUDIT_URL", format!("http://127.0.0.1:{port}/graphql"))
            .env("AUDIT_TOKEN", token)
            .output()
    })
    .await
    .unwrap()
    .expect("run node");
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{report}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(report.contains(" passed, 0 failed"), "{report}");
}

#[tokio::test]
async fn serve_takes_its_port_from_the_environment() {
    let (_server, port) = serve_with(true).await;
    let (status, _) = http(
        port,
        "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".into(),
    )
    .await;
    assert_eq!(status, 200);
}
