//! The Lambda path: real API Gateway event JSON, parsed by `lambda_http`
//! exactly as `lambda_http::run` does, through the same router.

use http::StatusCode;
use http_body_util::BodyExt as _;
use serde_json::Value;
use tower::ServiceExt as _;

use crate::helpers::{TestApp, data};

struct LambdaReply {
    status: StatusCode,
    headers: http::HeaderMap,
    body: String,
}

async fn invoke(app: &TestApp, event_file: &str) -> LambdaReply {
    let event = std::fs::read_to_string(format!("infra/events/{event_file}"))
        .expect("event fixture")
        .replace("REPLACE_WITH_TOKEN", &app.admin_token());
    let request = lambda_http::request::from_str(&event).expect("lambda_http parses the event");
    let response = app.router.clone().oneshot(request).await.unwrap();
    let (parts, body) = response.into_parts();
    LambdaReply {
        status: parts.status,
        headers: parts.headers,
        body: String::from_utf8(body.collect().await.unwrap().to_bytes().to_vec()).unwrap(),
    }
}

#[tokio::test]
async fn an_http_api_v2_event_runs_a_query() {
    let app = TestApp::spawn().await;
    let reply = invoke(&app, "http-api-v2-graphql.json").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let body: Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(data(&body)["pricingTiers"]["edges"], serde_json::json!([]));
    assert_eq!(reply.headers["x-request-id"], "Vq1ZhgYzIAMEVdQ=");
}

#[tokio::test]
async fn a_rest_api_v1_event_under_a_stage_runs_a_mutation() {
    let app = TestApp::spawn().await;
    let reply = invoke(&app, "rest-api-v1-graphql.json").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(
        reply.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/graphql-response+json")
    );
    let body: Value = serde_json::from_str(&reply.body).unwrap();
    let tier = &data(&body)["createPricingTier"];
    assert_eq!(tier["name"], "Lambda");
    assert_eq!(tier["callCost"], "0.1000");
    let listed = app
        .graphql("{ defaultPricingTier { name } }", serde_json::json!({}))
        .await;
    assert_eq!(data(&listed)["defaultPricingTier"]["name"], "Lambda");
}

#[tokio::test]
async fn graphiql_behind_a_stage_links_its_assets_and_endpoint_under_the_stage() {
    let app = TestApp::spawn().await;
    let reply = invoke(&app, "http-api-v2-graphiql-prod-stage.json").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(
        reply.body.contains("data-endpoint=\"/prod/graphql\""),
        "{}",
        reply.body
    );
    assert!(
        reply
            .body
            .contains("src=\"/prod/graphiql/4.1.2/graphiql.min.js\"")
    );
}

#[tokio::test]
async fn created_by_ip_comes_from_api_gateways_context_never_from_a_header() {
    let app = TestApp::spawn().await;
    let mut event: Value = serde_json::from_str(
        &std::fs::read_to_string("infra/events/http-api-v2-graphql.json").unwrap(),
    )
    .unwrap();
    let tag = uuid::Uuid::now_v7().simple().to_string();
    let mutation = serde_json::json!({
        "query": "mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { id createdByIp } }",
        "variables": {"input": {
            "customerType": "PERSONAL", "firstName": "Ip", "lastName": "Check",
            "email": format!("ip-{tag}@example.com"), "password": "correct horse battery",
            "country": "GB", "currency": "GBP"
        }}
    });
    event["body"] = Value::String(mutation.to_string());
    event["isBase64Encoded"] = Value::Bool(false);
    event["headers"]["x-forwarded-for"] = Value::String("198.51.100.99".into());
    let text = event
        .to_string()
        .replace("REPLACE_WITH_TOKEN", &app.admin_token());
    let request = lambda_http::request::from_str(&text).expect("lambda_http parses the event");
    let response = app.router.clone().oneshot(request).await.unwrap();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        data(&body)["createCustomer"]["createdByIp"],
        "203.0.113.10",
        "the request context's sourceIp, not X-Forwarded-For"
    );
}
