//! Documents built to hurt the server: each gets a coded error, and the
//! server keeps answering afterwards.

use axum::body::Body;
use http::{Request, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, data, error_code};

/// `{ __typename @skip(if: false, x: [[[…]]]) }`, `levels` deep.
fn deep_list_in_directive(levels: usize) -> String {
    format!(
        "{{ __typename @skip(if: false, x: {}1{}) }}",
        "[".repeat(levels),
        "]".repeat(levels)
    )
}

/// `{ pricingTiers(first: {a: {a: …}}) { … } }`, `levels` deep.
fn deep_object_in_argument(levels: usize) -> String {
    format!(
        "{{ pricingTiers(first: {}1{}) {{ pageInfo {{ hasNextPage }} }} }}",
        "{a: ".repeat(levels),
        "}".repeat(levels)
    )
}

async fn still_answers(app: &TestApp, token: &str) {
    let reply = app
        .post_graphql(
            Some(token),
            "{ pricingTiers { edges { cursor } } }",
            json!({}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    data(&reply.json());
}

fn assert_too_deep(body: &Value) {
    assert_eq!(error_code(body), "QUERY_TOO_COMPLEX", "{body}");
    assert!(body.get("data").is_none(), "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("64 levels"),
        "{body}"
    );
}

#[tokio::test]
async fn deeply_nested_argument_values_over_post_are_refused_and_the_server_survives() {
    let app = TestApp::spawn().await;
    let token = app.user_token();
    for document in [
        deep_list_in_directive(3_000),
        deep_object_in_argument(3_000),
        // Also as a mutation: the operation type does not matter.
        format!("mutation {}", deep_list_in_directive(3_000)),
    ] {
        let reply = app.post_graphql(Some(&token), &document, json!({})).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        assert_too_deep(&reply.json());
        still_answers(&app, &token).await;
    }
    // graphql-response+json makes it a 400, like the other request errors.
    let request = Request::post("/graphql")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .header("accept", "application/graphql-response+json")
        .body(Body::from(
            json!({"query": deep_list_in_directive(2_000)}).to_string(),
        ))
        .unwrap();
    let reply = app.send(request).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text());
    assert_too_deep(&reply.json());
}

#[tokio::test]
async fn deeply_nested_documents_over_get_are_refused_before_the_mutation_check_parses_them() {
    let app = TestApp::spawn().await;
    let token = app.user_token();
    for document in [
        deep_list_in_directive(3_000),
        format!("mutation {}", deep_object_in_argument(3_000)),
    ] {
        let qs = serde_urlencoded::to_string([("query", document.as_str())]).unwrap();
        let request = Request::get(format!("/graphql?{qs}"))
            .header("authorization", format!("Bearer {token}"))
            .header("accept", "application/json")
            .body(Body::empty())
            .unwrap();
        let reply = app.send(request).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        assert_too_deep(&reply.json());
        still_answers(&app, &token).await;
    }
}

#[tokio::test]
async fn deeply_nested_variables_are_refused_and_the_server_survives() {
    let app = TestApp::spawn().await;
    let token = app.user_token();
    let deep = format!("{}1{}", "[".repeat(3_000), "]".repeat(3_000));
    let body =
        format!(r#"{{"query": "query($x: Int) {{ __typename }}", "variables": {{"x": {deep}}}}}"#);
    let request = Request::post("/graphql")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(Body::from(body))
        .unwrap();
    let reply = app.send(request).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text());
    assert_eq!(error_code(&reply.json()), "BAD_REQUEST");
    still_answers(&app, &token).await;
}

#[tokio::test]
async fn the_nesting_limit_is_configurable_and_ordinary_nesting_passes() {
    let app = TestApp::spawn_with(&[("GRAPHQL_MAX_NESTING", "8")]).await;
    let token = app.user_token();
    let reply = app
        .post_graphql(Some(&token), &deep_list_in_directive(5), json!({}))
        .await;
    assert_eq!(data(&reply.json())["__typename"], "Query");
    let reply = app
        .post_graphql(Some(&token), &deep_list_in_directive(8), json!({}))
        .await;
    let body = reply.json();
    assert_eq!(error_code(&body), "QUERY_TOO_COMPLEX", "{body}");
}
