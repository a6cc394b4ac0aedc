//! Faults DynamoDB Local cannot produce on demand (unreachable, throttling,
//! server errors) and data that breaks the code's assumptions: clients get
//! a stable code and a generic message, never the SDK's or serde's text.

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_types::body::SdkBody;
use serde_json::{Value, json};
use switchboard::store::Store;

use crate::helpers::{TestApp, error_code};

const QUERY: &str = "query($id: ID!) { pricingTier(id: $id) { id name } }";

fn id() -> Value {
    json!({"id": uuid::Uuid::now_v7().to_string()})
}

fn assert_generic(body: &Value, code: &str, leaks: &[&str]) {
    assert_eq!(error_code(body), code, "{body}");
    // Only an unavailable store is worth retrying as it is.
    let retryable = &body["errors"][0]["extensions"]["retryable"];
    if code == "SERVICE_UNAVAILABLE" {
        assert_eq!(retryable, true, "{body}");
    } else {
        assert!(retryable.is_null(), "{body}");
    }
    let text = body.to_string();
    for leak in leaks {
        assert!(!text.contains(leak), "the response leaks `{leak}`: {text}");
    }
}

#[tokio::test]
async fn an_unreachable_store_is_service_unavailable_without_details() {
    // The gateway's own HTTP client: without one the SDK fails every
    // call at once, and the test would pass without reaching the socket.
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version_latest()
        .http_client(switchboard::store::http_client())
        .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
        .endpoint_url("http://127.0.0.1:9")
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::for_tests())
        .retry_config(RetryConfig::disabled())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(2))
                .build(),
        )
        .build();
    let app = TestApp::over_store(Store::new(Client::from_conf(config), "nowhere"));
    let body = app.graphql(QUERY, id()).await;
    assert_generic(
        &body,
        "SERVICE_UNAVAILABLE",
        &["127.0.0.1", "dispatch", "connect", "nowhere"],
    );
}

/// A DynamoDB error response exactly as it arrives on the wire, so the
/// SDK parses and classifies it as it would in production.
fn wire_error(status: u16, kind: &'static str, message: &'static str) -> HttpResponse {
    let body =
        json!({"__type": format!("com.amazonaws.dynamodb.v20120810#{kind}"), "message": message});
    let mut response =
        HttpResponse::new(status.try_into().unwrap(), SdkBody::from(body.to_string()));
    response
        .headers_mut()
        .insert("content-type", "application/x-amz-json-1.0");
    response
}

/// A client whose `BatchGetItem` (how a tier is read) fails with this error.
fn failing_client(status: u16, kind: &'static str, message: &'static str) -> Client {
    let rule =
        mock!(Client::batch_get_item).then_http_response(move || wire_error(status, kind, message));
    mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, &[&rule], |c| c
        .retry_config(RetryConfig::disabled()))
}

#[tokio::test]
async fn throttling_is_service_unavailable() {
    for (status, kind) in [
        (400, "ProvisionedThroughputExceededException"),
        (400, "ThrottlingException"),
        (400, "RequestLimitExceeded"),
        (500, "InternalServerError"),
        // Not throttling, but as transient: a plain write that met an item
        // a transaction held at that moment.
        (400, "TransactionConflictException"),
    ] {
        let client = failing_client(
            status,
            kind,
            "Rate of requests exceeds the allowed throughput for table secret_table",
        );
        let app = TestApp::over_store(Store::new(client, "secret_table"));
        let body = app.graphql(QUERY, id()).await;
        assert_generic(
            &body,
            "SERVICE_UNAVAILABLE",
            &["secret_table", "Throughput", "Rate of requests"],
        );
    }
}

#[tokio::test]
async fn a_missing_table_is_an_internal_error_with_a_generic_message() {
    let client = failing_client(
        400,
        "ResourceNotFoundException",
        "Cannot do operations on a non-existent table",
    );
    let app = TestApp::over_store(Store::new(client, "secret_table"));
    let body = app.graphql(QUERY, id()).await;
    assert_generic(
        &body,
        "INTERNAL_SERVER_ERROR",
        &["non-existent", "ResourceNotFound", "secret_table"],
    );
}

#[tokio::test]
async fn a_corrupt_item_is_an_internal_error_without_serde_text() {
    let app = TestApp::spawn().await;
    let id = uuid::Uuid::now_v7().to_string();
    let client = switchboard::store::client_from_env().await;
    client
        .put_item()
        .table_name(app.store.table_name())
        .item("pk", AttributeValue::S(format!("PRICING_TIER#{id}")))
        .item("sk", AttributeValue::S("PRICING_TIER".into()))
        .item("name", AttributeValue::N("42".into()))
        .send()
        .await
        .unwrap();
    let body = app.graphql(QUERY, json!({"id": id})).await;
    assert_generic(
        &body,
        "INTERNAL_SERVER_ERROR",
        &["invalid type", "missing field", "serde", "gsi1pk"],
    );
}

/// A DynamoDB endpoint that accepts connections and never answers, and an
/// app over it with these settings.
async fn app_over_a_silent_store(vars: &[(&str, &str)]) -> (TestApp, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let held = tokio::spawn(async move {
        let mut connections = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            connections.push(socket);
        }
    });
    let mut env: std::collections::HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    env.insert("JWT_SECRET".into(), crate::helpers::SECRET.into());
    env.insert(
        "ACCOUNT_SECRET_KEY".into(),
        crate::helpers::ACCOUNT_KEY.into(),
    );
    let timeouts = switchboard::config::Config::from_vars(&env)
        .unwrap()
        .dynamodb_timeouts;
    // The gateway's own HTTP client: without one the SDK fails every
    // call at once, and the test would pass without reaching the socket.
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version_latest()
        .http_client(switchboard::store::http_client())
        .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
        .endpoint_url(format!("http://{address}"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::for_tests())
        .timeout_config(timeouts.sdk_config())
        .build();
    let app = TestApp::over_store_with(Store::new(Client::from_conf(config), "silent"), vars);
    (app, held)
}

/// A DynamoDB endpoint that accepts connections and never answers: the
/// configured timeouts, not the Lambda's own, must end the request.
#[tokio::test]
async fn a_store_that_accepts_and_never_answers_is_service_unavailable_within_the_timeouts() {
    let (app, held) = app_over_a_silent_store(&[
        ("DYNAMODB_CONNECT_TIMEOUT_MS", "200"),
        ("DYNAMODB_ATTEMPT_TIMEOUT_MS", "300"),
        ("DYNAMODB_OPERATION_TIMEOUT_MS", "1000"),
    ])
    .await;
    // Without timeouts this would wait for ever; the bound here only keeps a
    // regression from hanging the suite.
    let body = tokio::time::timeout(Duration::from_mins(1), app.graphql(QUERY, id()))
        .await
        .expect("the request must end on the configured timeouts");
    assert_generic(
        &body,
        "SERVICE_UNAVAILABLE",
        &["silent", "timeout", "127.0.0.1"],
    );
    held.abort();
}

/// However long each DynamoDB call may take, the request as a whole ends
/// at `REQUEST_TIMEOUT_MS` with a retryable 503, before Lambda's own
/// timeout would cut it with a bare gateway error.
#[tokio::test]
async fn a_request_that_runs_past_its_deadline_is_a_retryable_503() {
    let (app, held) = app_over_a_silent_store(&[
        ("DYNAMODB_ATTEMPT_TIMEOUT_MS", "60000"),
        ("DYNAMODB_OPERATION_TIMEOUT_MS", "60000"),
        ("REQUEST_TIMEOUT_MS", "300"),
    ])
    .await;
    let reply = tokio::time::timeout(
        Duration::from_secs(30),
        app.post_graphql(Some(&app.admin_token()), QUERY, id()),
    )
    .await
    .expect("the request must end at its deadline, not the store's timeouts");
    assert_eq!(
        reply.status,
        http::StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        reply.text()
    );
    assert_eq!(reply.headers["retry-after"], "1");
    assert_generic(
        &reply.json(),
        "SERVICE_UNAVAILABLE",
        &["silent", "127.0.0.1"],
    );
    held.abort();
}

/// With the retry settings production uses: throttling is retried with
/// backoff, invisibly when it passes, and reported as retryable when it
/// does not.
#[tokio::test]
async fn throttling_is_retried_with_backoff_and_then_reported_as_retryable() {
    let throttled = || {
        wire_error(
            400,
            "ThrottlingException",
            "Rate of requests exceeds the allowed throughput",
        )
    };
    let passing = mock!(Client::batch_get_item)
        .sequence()
        .http_response(throttled)
        .times(2)
        .output(|| {
            aws_sdk_dynamodb::operation::batch_get_item::BatchGetItemOutput::builder().build()
        })
        .build();
    let client = mock_client!(aws_sdk_dynamodb, RuleMode::Sequential, &[&passing], |c| c
        .retry_config(switchboard::store::retry_config()));
    let app = TestApp::over_store(Store::new(client, "t"));
    let body = app.graphql(QUERY, id()).await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(body["data"]["pricingTier"], Value::Null);
    assert_eq!(
        passing.num_calls(),
        3,
        "two throttled attempts, then the one that passed"
    );

    let persistent = mock!(Client::batch_get_item).then_http_response(throttled);
    let client = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, &[&persistent], |c| c
        .retry_config(switchboard::store::retry_config()));
    let app = TestApp::over_store(Store::new(client, "t"));
    let body = app.graphql(QUERY, id()).await;
    assert_generic(
        &body,
        "SERVICE_UNAVAILABLE",
        &["Rate of requests", "Throttling"],
    );
    assert_eq!(persistent.num_calls(), 3, "three attempts, then the error");
}

/// A transaction DynamoDB cancelled for throttling, not for a condition:
/// retried by nobody as a collision, reported as retryable, nothing leaked.
#[tokio::test]
async fn a_transaction_cancelled_for_throttling_is_service_unavailable_not_a_conflict() {
    for reason in ["ThrottlingError", "ProvisionedThroughputExceeded"] {
        let rule = mock!(Client::transact_write_items).then_http_response(move || {
            let body = json!({
                "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
                "Message": format!("Transaction cancelled, please refer cancellation reasons for specific reasons [None, {reason}]"),
                "CancellationReasons": [
                    {"Code": "None"},
                    {"Code": reason, "Message": "Throughput exceeds the current capacity of secret_table"},
                ],
            });
            let mut response = HttpResponse::new(400.try_into().unwrap(), SdkBody::from(body.to_string()));
            response
                .headers_mut()
                .insert("content-type", "application/x-amz-json-1.0");
            response
        });
        let client = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, &[&rule], |c| c
            .retry_config(RetryConfig::disabled()));
        let app = TestApp::over_store(Store::new(client, "secret_table"));
        let body = app
            .graphql(
                "mutation { createPricingTier(input: {name: \"Gold\", currency: \"USD\", ratePerMinute: \"0.01\"}) { id } }",
                json!({}),
            )
            .await;
        assert_generic(
            &body,
            "SERVICE_UNAVAILABLE",
            &["secret_table", "Throughput", reason, "cancel"],
        );
        assert_eq!(
            rule.num_calls(),
            1,
            "a throttled transaction is not retried as if it had collided"
        );
    }
}
