//! What operators see: one CloudWatch EMF metrics line per request, trace
//! ids on every log line, retryable errors marked as such.

use std::sync::{Arc, Mutex};

use axum::body::Body;
use http::Request;
use serde_json::{Value, json};

use crate::helpers::{TestApp, data, logs};

fn lines(captured: &Arc<Mutex<Vec<String>>>) -> Vec<Value> {
    captured
        .lock()
        .unwrap()
        .iter()
        .map(|l| serde_json::from_str(l).expect("an EMF line is JSON"))
        .collect()
}

fn line_for<'a>(lines: &'a [Value], request_id: &str) -> &'a Value {
    lines
        .iter()
        .find(|l| l["requestId"] == request_id)
        .unwrap_or_else(|| panic!("no metrics line for {request_id}: {lines:#?}"))
}

#[tokio::test]
async fn each_request_writes_one_emf_line_with_operation_latency_calls_and_errors() {
    let (app, captured) = TestApp::spawn_with_metrics(&[]).await;
    let token = app.admin_token();
    app.post_graphql_as_request(
        Some(&token),
        "query ListTiers { pricingTiers { edges { cursor } } defaultPricingTier { id } }",
        json!({}),
        Some("metrics-ok"),
    )
    .await;
    app.post_graphql_as_request(
        Some(&token),
        "{ pricingTier(id: \"not-a-uuid\") { id } }",
        json!({}),
        Some("metrics-bad"),
    )
    .await;
    app.post_graphql_as_request(None, "{ __typename }", json!({}), Some("metrics-401"))
        .await;
    // Without a token, a caller's own operation names mint no dimensions.
    app.post_graphql_as_request(
        None,
        "mutation Minted123 { acceptInvitation(token: \"x\", firstName: \"a\", lastName: \"b\", password: \"a long passphrase\") { userId } }",
        json!({}),
        Some("metrics-anonymous"),
    )
    .await;
    let all = lines(&captured);
    assert_eq!(all.len(), 4, "{all:#?}");
    let anonymous = line_for(&all, "metrics-anonymous");
    assert_eq!(anonymous["Operation"], "WithoutToken", "{anonymous}");
    assert_eq!(anonymous["Errors.FAILED_PRECONDITION"], 1, "{anonymous}");

    let ok = line_for(&all, "metrics-ok");
    assert_eq!(ok["Operation"], "ListTiers");
    assert!(ok["DynamoDBCalls"].as_u64().unwrap() >= 2, "{ok}");
    assert_eq!(ok["Errors"], 0);
    assert!(ok["Latency"].as_f64().unwrap() > 0.0);
    assert_eq!(ok["status"], 200);
    let directive = &ok["_aws"]["CloudWatchMetrics"][0];
    assert_eq!(directive["Namespace"], "Switchboard");
    assert_eq!(directive["Dimensions"], json!([["Operation"]]));
    let names: Vec<&str> = directive["Metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["Name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "Latency",
            "DynamoDBCalls",
            "ConsumedCapacity",
            "PasswordHashes",
            "Errors"
        ]
    );
    // Two reads (a list query and the default-tier pointer) of an empty
    // table: DynamoDB reports at least half a unit for each.
    assert!(ok["ConsumedCapacity"].as_f64().unwrap() >= 1.0, "{ok}");

    let bad = line_for(&all, "metrics-bad");
    assert_eq!(bad["ConsumedCapacity"], 0.0);
    assert_eq!(bad["Operation"], "(anonymous)");
    assert_eq!(bad["Errors"], 1);
    assert_eq!(bad["Errors.BAD_USER_INPUT"], 1);
    assert_eq!(
        bad["DynamoDBCalls"], 0,
        "a malformed id never reaches DynamoDB"
    );

    let refused = line_for(&all, "metrics-401");
    assert_eq!(refused["Errors.UNAUTHENTICATED"], 1);
    assert_eq!(refused["status"], 401);
    assert_eq!(
        refused["Operation"], "(none)",
        "refused before any operation ran"
    );
}

#[tokio::test]
async fn metrics_are_off_unless_asked_for_or_on_lambda() {
    let config = |vars: &[(&str, &str)]| {
        let mut env: std::collections::HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        env.insert("JWT_SECRET".into(), crate::helpers::SECRET.into());
        env.insert(
            "ACCOUNT_SECRET_KEY".into(),
            crate::helpers::ACCOUNT_KEY.into(),
        );
        switchboard::config::Config::from_vars(&env).unwrap()
    };
    assert!(!config(&[]).metrics_enabled);
    assert!(config(&[("AWS_LAMBDA_FUNCTION_NAME", "switchboard")]).metrics_enabled);
    assert!(!config(&[("AWS_LAMBDA_FUNCTION_NAME", "x"), ("METRICS", "off")]).metrics_enabled);
    assert!(config(&[("METRICS", "on")]).metrics_enabled);
    assert_eq!(
        config(&[("METRICS_NAMESPACE", "Ops")]).metrics_namespace,
        "Ops"
    );
}

#[tokio::test]
async fn the_trace_id_is_on_every_log_line_of_its_request() {
    let app = TestApp::spawn().await;
    let trace = "Root=1-67891233-abcdef012345678912345678;Parent=463ac35c9f6413ad;Sampled=1";
    let request = Request::post("/graphql")
        .header("authorization", format!("Bearer {}", app.admin_token()))
        .header("content-type", "application/json")
        .header("x-request-id", "traced-request")
        .header("x-amzn-trace-id", trace)
        .body(Body::from(
            json!({"query": "{ pricingTiers { edges { cursor } } }"}).to_string(),
        ))
        .unwrap();
    data(&app.send(request).await.json());
    let mine: Vec<Value> = logs()
        .lines()
        .into_iter()
        .filter(|l| l.to_string().contains("traced-request"))
        .collect();
    assert!(!mine.is_empty());
    for line in &mine {
        assert_eq!(line["span"]["trace_id"], trace, "{line}");
    }
}

#[tokio::test]
async fn a_mutation_reports_the_capacity_its_transaction_consumed() {
    let (app, captured) = TestApp::spawn_with_metrics(&[]).await;
    let reply = app
        .post_graphql_as_request(
            Some(&app.admin_token()),
            "mutation CreateTier { createPricingTier(input: {name: \"Metered\", currency: \"USD\", ratePerMinute: \"0.01\"}) { id } }",
            json!({}),
            Some("metrics-write"),
        )
        .await;
    data(&reply.json());
    let all = lines(&captured);
    let line = line_for(&all, "metrics-write");
    assert_eq!(line["Operation"], "CreateTier");
    // One transaction of four items (the tier, its name guard, the default
    // pointer and the audit event): a transactional write costs two units
    // per item.
    assert!(line["ConsumedCapacity"].as_f64().unwrap() >= 8.0, "{line}");
}

#[tokio::test]
async fn with_log_spans_the_request_its_execution_and_each_dynamodb_call_are_timed_with_the_trace_id()
 {
    use tracing::instrument::WithSubscriber as _;
    let app = TestApp::spawn().await;
    let capture = crate::helpers::LogCapture::default();
    let subscriber = switchboard::telemetry::subscriber(
        capture.clone(),
        switchboard::telemetry::default_filter(true),
        true,
    );
    let request = Request::post("/graphql")
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {}", app.admin_token()))
        .header("x-request-id", "spans-1")
        .header(
            "x-amzn-trace-id",
            "Root=1-5759e988-bd862e3fe1be46a994272793",
        )
        .body(Body::from(
            json!({"query": "query Tiers { pricingTiers { edges { cursor } } }"}).to_string(),
        ))
        .unwrap();
    let reply = app.send(request).with_subscriber(subscriber).await;
    data(&reply.json());
    let closed: Vec<Value> = capture
        .lines()
        .into_iter()
        .filter(|l| l["message"] == "close")
        .collect();
    let names: Vec<&str> = closed
        .iter()
        .filter_map(|l| l["span"]["name"].as_str())
        .collect();
    assert!(names.contains(&"request"), "{closed:#?}");
    assert!(names.contains(&"graphql"), "{closed:#?}");
    assert!(names.contains(&"DynamoDB.Query"), "{closed:#?}");
    let execution = closed
        .iter()
        .find(|l| l["span"]["name"] == "graphql")
        .unwrap();
    assert_eq!(execution["span"]["operation"], "Tiers");
    let call = closed
        .iter()
        .find(|l| l["span"]["name"] == "DynamoDB.Query")
        .unwrap();
    assert!(call["time.busy"].is_string(), "{call}");
    // The call's line carries the spans it ran in: the request's ids.
    let request_span = call["spans"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "request")
        .expect("the DynamoDB call ran inside the request span");
    assert_eq!(request_span["request_id"], "spans-1");
    assert_eq!(
        request_span["trace_id"],
        "Root=1-5759e988-bd862e3fe1be46a994272793"
    );
}
