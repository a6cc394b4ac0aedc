//! GraphQL over HTTP: methods, media types, status codes, limits, GraphiQL.

use axum::body::Body;
use http::{Request, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Reply, TestApp, data, error_code};

fn post(
    app: &TestApp,
    content_type: Option<&str>,
    accept: Option<&str>,
    body: &str,
) -> Request<Body> {
    let mut builder =
        Request::post("/graphql").header("authorization", format!("Bearer {}", app.admin_token()));
    if let Some(content_type) = content_type {
        builder = builder.header("content-type", content_type);
    }
    if let Some(accept) = accept {
        builder = builder.header("accept", accept);
    }
    builder.body(Body::from(body.to_owned())).unwrap()
}

fn get(app: &TestApp, query_string: &str, accept: &str) -> Request<Body> {
    Request::get(format!("/graphql?{query_string}"))
        .header("authorization", format!("Bearer {}", app.admin_token()))
        .header("accept", accept)
        .body(Body::empty())
        .unwrap()
}

fn encode(pairs: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(pairs).unwrap()
}

fn assert_error(reply: &Reply, status: StatusCode, code: &str) {
    assert_eq!(reply.status, status, "{}", reply.text());
    assert_eq!(error_code(&reply.json()), code, "{}", reply.text());
}

#[tokio::test]
async fn a_query_over_get_runs() {
    let app = TestApp::spawn().await;
    let qs = encode(&[
        (
            "query",
            "query Q($first: Int) { pricingTiers(first: $first) { pageInfo { hasNextPage } } }",
        ),
        ("variables", "{\"first\": 5}"),
        ("operationName", "Q"),
    ]);
    let reply = app.send(get(&app, &qs, "application/json")).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.content_type(), "application/json; charset=utf-8");
    assert_eq!(
        data(&reply.json())["pricingTiers"]["pageInfo"]["hasNextPage"],
        false
    );
}

#[tokio::test]
async fn a_mutation_over_get_is_405_and_does_nothing() {
    let app = TestApp::spawn().await;
    let mutation = "mutation { createPricingTier(input: {name: \"Get\", currency: \"USD\", ratePerMinute: \"1\"}) { id } }";
    let reply = app
        .send(get(
            &app,
            &encode(&[("query", mutation)]),
            "application/json",
        ))
        .await;
    assert_error(&reply, StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED");
    assert_eq!(reply.headers["allow"], "POST");
    // Chosen by operationName in a document that also has a query.
    let doc = format!(
        "query Q {{ __typename }} {}",
        mutation.replacen("mutation", "mutation M", 1)
    );
    let reply = app
        .send(get(
            &app,
            &encode(&[("query", &doc), ("operationName", "M")]),
            "application/json",
        ))
        .await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    let body = app
        .graphql(
            "{ pricingTiers(includeInactive: true) { edges { cursor } } }",
            json!({}),
        )
        .await;
    assert_eq!(data(&body)["pricingTiers"]["edges"], json!([]));
}

#[tokio::test]
async fn bodies_must_be_json_or_are_415() {
    let app = TestApp::spawn().await;
    let body = json!({"query": "{ __typename }"}).to_string();
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
        Some("application/json; charset=latin1"),
        None,
    ] {
        let reply = app.send(post(&app, content_type, None, &body)).await;
        assert_error(
            &reply,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
        );
    }
    let ok = app
        .send(post(
            &app,
            Some("application/json; charset=utf-8"),
            None,
            &body,
        ))
        .await;
    assert_eq!(ok.status, StatusCode::OK);
}

#[tokio::test]
async fn malformed_requests_and_batches_are_400() {
    let app = TestApp::spawn().await;
    for body in [
        "{not json",
        "[{\"query\": \"{ __typename }\"}, {\"query\": \"{ __typename }\"}]",
        "\"just a string\"",
        "{\"variables\": {}}",
        "{\"query\": 42}",
        "{\"query\": \"{ __typename }\", \"variables\": \"x\"}",
    ] {
        let reply = app
            .send(post(&app, Some("application/json"), None, body))
            .await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "BAD_REQUEST");
    }
}

#[tokio::test]
async fn bodies_over_the_limit_are_413() {
    let app = TestApp::spawn_with(&[("MAX_BODY_BYTES", "2048")]).await;
    let padding = " ".repeat(4096);
    let body = format!("{{\"query\": \"{{ __typename {padding} }}\"}}");
    let reply = app
        .send(post(&app, Some("application/json"), None, &body))
        .await;
    assert_error(&reply, StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE");
    // Without a Content-Length (chunked), the cap still holds.
    let stream = futures::stream::iter(vec![Ok::<_, std::io::Error>(bytes::Bytes::from(body))]);
    let chunked = Request::post("/graphql")
        .header("authorization", format!("Bearer {}", app.admin_token()))
        .header("content-type", "application/json")
        .body(Body::from_stream(stream))
        .unwrap();
    assert_error(
        &app.send(chunked).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "PAYLOAD_TOO_LARGE",
    );
    let small = app
        .send(post(
            &app,
            Some("application/json"),
            None,
            "{\"query\": \"{ __typename }\"}",
        ))
        .await;
    assert_eq!(small.status, StatusCode::OK);
}

#[tokio::test]
async fn the_response_type_follows_the_accept_header() {
    let app = TestApp::spawn().await;
    let body = json!({"query": "{ __typename }"}).to_string();
    let cases = [
        (None, "application/json; charset=utf-8"),
        (Some("application/json"), "application/json; charset=utf-8"),
        (Some("*/*"), "application/json; charset=utf-8"),
        (
            Some("application/graphql-response+json"),
            "application/graphql-response+json; charset=utf-8",
        ),
        (
            Some("application/graphql-response+json, application/json;q=0.9"),
            "application/graphql-response+json; charset=utf-8",
        ),
    ];
    for (accept, expected) in cases {
        let reply = app
            .send(post(&app, Some("application/json"), accept, &body))
            .await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.content_type(), expected, "Accept: {accept:?}");
        assert_eq!(data(&reply.json())["__typename"], "Query");
    }
    let reply = app
        .send(post(
            &app,
            Some("application/json"),
            Some("text/xml"),
            &body,
        ))
        .await;
    assert_error(&reply, StatusCode::NOT_ACCEPTABLE, "NOT_ACCEPTABLE");
}

#[tokio::test]
async fn request_errors_have_no_data_and_are_400_only_for_graphql_response_json() {
    let app = TestApp::spawn().await;
    let cases = [
        ("{ pricingTiers(", "GRAPHQL_PARSE_FAILED"),
        ("{ noSuchField }", "GRAPHQL_VALIDATION_FAILED"),
        (
            "query A { __typename } query B { __typename }",
            "GRAPHQL_VALIDATION_FAILED",
        ),
    ];
    for (query, code) in cases {
        let body = json!({"query": query}).to_string();
        let strict = app
            .send(post(
                &app,
                Some("application/json"),
                Some("application/graphql-response+json"),
                &body,
            ))
            .await;
        assert_error(&strict, StatusCode::BAD_REQUEST, code);
        assert!(strict.json().get("data").is_none(), "{}", strict.text());
        let legacy = app
            .send(post(
                &app,
                Some("application/json"),
                Some("application/json"),
                &body,
            ))
            .await;
        assert_error(&legacy, StatusCode::OK, code);
        assert!(legacy.json().get("data").is_none());
    }
    let unknown_op =
        json!({"query": "query A { __typename }", "operationName": "Nope"}).to_string();
    let reply = app
        .send(post(&app, Some("application/json"), None, &unknown_op))
        .await;
    assert_error(&reply, StatusCode::OK, "GRAPHQL_VALIDATION_FAILED");
}

#[tokio::test]
async fn field_errors_keep_partial_data_with_status_200() {
    let app = TestApp::spawn().await;
    let body = json!({"query": "{ a: __typename pricingTier(id: \"bad\") { id } }"}).to_string();
    let reply = app
        .send(post(
            &app,
            Some("application/json"),
            Some("application/graphql-response+json"),
            &body,
        ))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let json = reply.json();
    assert_eq!(json["data"]["a"], "Query");
    assert_eq!(json["data"]["pricingTier"], Value::Null);
    assert_eq!(error_code(&json), "BAD_USER_INPUT");
}

#[tokio::test]
async fn alias_floods_of_typename_are_refused() {
    let app = TestApp::spawn().await;
    let flood: String = (0..1000).map(|i| format!("a{i}: __typename ")).collect();
    let body = app.graphql(&format!("{{ {flood} }}"), json!({})).await;
    assert_eq!(error_code(&body), "QUERY_TOO_COMPLEX");
    let many_fields: String = (0..600).map(|_| "__typename ").collect();
    let body = app
        .graphql(&format!("{{ {many_fields} }}"), json!({}))
        .await;
    assert_eq!(error_code(&body), "QUERY_TOO_COMPLEX");
    let fine: String = (0..10).map(|i| format!("a{i}: __typename ")).collect();
    data(&app.graphql(&format!("{{ {fine} }}"), json!({})).await);
}

#[tokio::test]
async fn depth_and_complexity_limits_are_configurable() {
    let app =
        TestApp::spawn_with(&[("GRAPHQL_MAX_DEPTH", "3"), ("GRAPHQL_MAX_COMPLEXITY", "50")]).await;
    let deep = app
        .graphql("{ pricingTiers { edges { node { id } } } }", json!({}))
        .await;
    assert_eq!(error_code(&deep), "QUERY_TOO_COMPLEX");
    let app = TestApp::spawn_with(&[("GRAPHQL_MAX_COMPLEXITY", "50")]).await;
    let costly = app
        .graphql(
            "{ pricingTiers(first: 100) { edges { node { id name } } } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&costly), "QUERY_TOO_COMPLEX");
    let cheap = app
        .graphql(
            "{ pricingTiers(first: 5) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    data(&cheap);
}

#[tokio::test]
async fn introspection_can_be_turned_off() {
    let query = "{ __schema { queryType { name } } }";
    let on = TestApp::spawn().await;
    assert_eq!(
        data(&on.graphql(query, json!({})).await)["__schema"]["queryType"]["name"],
        "Query"
    );
    let off = TestApp::spawn_with(&[("GRAPHQL_INTROSPECTION", "false")]).await;
    let body = off.graphql(query, json!({})).await;
    assert_eq!(error_code(&body), "GRAPHQL_VALIDATION_FAILED");
    assert!(body.get("data").is_none(), "{body}");
    let hidden = off
        .graphql(
            "{ ...I } fragment I on Query { __type(name: \"Query\") { name } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&hidden), "GRAPHQL_VALIDATION_FAILED");
    data(&off.graphql("{ __typename }", json!({})).await);
}

#[tokio::test]
async fn health_answers_without_a_token() {
    let app = TestApp::spawn().await;
    let reply = app
        .send(Request::get("/health").body(Body::empty()).unwrap())
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json(), json!({"status": "ok"}));
    assert!(reply.headers.contains_key("x-request-id"));
}

#[tokio::test]
async fn request_ids_are_echoed_or_generated() {
    let app = TestApp::spawn().await;
    let reply = app
        .send(
            Request::get("/health")
                .header("x-request-id", "abc-123")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(reply.headers["x-request-id"], "abc-123");
    let reply = app
        .send(
            Request::get("/health")
                .header("x-request-id", "<script>")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_ne!(reply.headers["x-request-id"], "<script>");
}

const BROWSER_ACCEPT: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

#[tokio::test]
async fn graphiql_loads_without_a_token_with_its_assets_bundled() {
    let app = TestApp::spawn().await;
    for path in ["/", "/graphql"] {
        let reply = app
            .send(
                Request::get(path)
                    .header("accept", BROWSER_ACCEPT)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
        assert!(reply.content_type().starts_with("text/html"));
        let html = reply.text();
        assert!(html.contains("data-endpoint=\"/graphql\""), "{html}");
        for asset in [
            "graphiql.min.js",
            "graphiql.min.css",
            "react.production.min.js",
            "react-dom.production.min.js",
            "init.js",
        ] {
            let url = format!("/graphiql/4.1.2/{asset}");
            assert!(html.contains(&url), "{asset} not referenced");
            let asset_reply = app
                .send(Request::get(&url).body(Body::empty()).unwrap())
                .await;
            assert_eq!(asset_reply.status, StatusCode::OK, "{url}");
            assert!(asset_reply.bytes.len() > 500, "{url} is empty");
            assert!(!html.contains("cdn"), "the page must not load from a CDN");
        }
    }
    let missing = app
        .send(
            Request::get("/graphiql/4.1.2/nope.js")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    // An API client asking /graphql for JSON without a query gets an error, not HTML.
    let api = app.send(get(&app, "", "application/json")).await;
    assert_error(&api, StatusCode::BAD_REQUEST, "BAD_REQUEST");
}

#[tokio::test]
async fn graphiqls_own_schema_query_passes_the_default_limits() {
    let app = TestApp::spawn().await;
    let query = include_str!("fixtures/graphiql-introspection.graphql");
    let body = app.graphql(query, json!({})).await;
    let types = data(&body)["__schema"]["types"].as_array().unwrap();
    assert!(types.iter().any(|t| t["name"] == "PricingTier"));
}

#[tokio::test]
async fn deeply_nested_introspection_lists_are_refused() {
    let app = TestApp::spawn().await;
    let bomb = "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }";
    let body = app.graphql(bomb, json!({})).await;
    assert_eq!(error_code(&body), "QUERY_TOO_COMPLEX");
}

#[tokio::test]
async fn unknown_routes_and_methods_get_coded_json_errors() {
    let app = TestApp::spawn().await;
    let missing = app
        .send(Request::get("/nope").body(Body::empty()).unwrap())
        .await;
    assert_error(&missing, StatusCode::NOT_FOUND, "NOT_FOUND");
    let put = app
        .send(Request::put("/graphql").body(Body::empty()).unwrap())
        .await;
    assert_error(&put, StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED");
    let allow = put.headers["allow"].to_str().unwrap();
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
}

#[tokio::test]
async fn default_limits_allow_a_full_page_of_customers_but_not_nested_fan_out() {
    let app = TestApp::spawn().await;
    let all_fields = "id customerType firstName lastName email companyName country currency language
        status statusReason externalId tenantId customerKey customerPrefix hostname subdomain delinquent
        websiteUrl logo credit automaticRefillAmount lowBalanceAlertAmount lowBalanceAlertAt
        lowBalanceAlertCount defaultBillMethod internationalCalling mediaBypass accountLock callRecording
        cnamLookUps holdMusic transcribeCalls callDebug cdrRetention maxOutboundCallRate
        callForwardingCallLimit owner { id email } addresses { city } telephones { number }
        legalDocuments { value } allowedDomainsOrigins allowedDomainsRegistration settings metadata
        createdAt updatedAt version";
    let page = app
        .graphql(
            &format!("{{ customers(first: 100) {{ edges {{ node {{ {all_fields} }} }} }} }}"),
            json!({}),
        )
        .await;
    data(&page);
    let fan_out = app
        .graphql("{ customers(first: 100) { edges { node { users(first: 100) { edges { node { user { id email } } } } } } } }", json!({}))
        .await;
    assert_eq!(error_code(&fan_out), "QUERY_TOO_COMPLEX");
}
