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
    let token = app.token_for(app.create_user("caller").await);
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
    let token = app.token_for(app.create_user("caller").await);
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
    let token = app.token_for(app.create_user("caller").await);
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
    let token = app.token_for(app.create_user("caller").await);
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

/// What a hostile request must get: this code (and field, when there is
/// one), no write, and nothing internal in the answer.
struct Case {
    name: &'static str,
    query: String,
    variables: Value,
    code: &'static str,
    field: Option<&'static str>,
}

fn case(
    name: &'static str,
    query: &str,
    variables: Value,
    code: &'static str,
    field: Option<&'static str>,
) -> Case {
    Case {
        name,
        query: query.to_owned(),
        variables,
        code,
        field,
    }
}

const CREATE_TIER: &str =
    "mutation($input: CreatePricingTierInput!) { createPricingTier(input: $input) { id } }";
const CREATE_CUSTOMER: &str =
    "mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { id } }";
const CREATE_ACCOUNT: &str =
    "mutation($input: CreateAccountInput!) { createAccount(input: $input) { authSecret } }";
const LIST_TIERS: &str = "query($first: Int, $after: String) { pricingTiers(first: $first, after: $after) { edges { cursor } } }";
const LIST_CUSTOMERS: &str = "query($first: Int, $after: String) { customers(first: $first, after: $after) { edges { cursor } } }";

fn tier(overrides: &Value) -> Value {
    let mut input = json!({"name": "hostile", "currency": "EUR", "ratePerMinute": "0.01"});
    for (k, v) in overrides.as_object().unwrap() {
        input[k] = v.clone();
    }
    json!({ "input": input })
}

fn customer(overrides: &Value) -> Value {
    json!({ "input": crate::customers::input(overrides) })
}

fn nested_metadata(levels: usize) -> Value {
    let mut value = json!("leaf");
    for _ in 0..levels {
        value = json!({ "a": value });
    }
    value
}

/// Words that would mean internal detail leaked into an answer.
const LEAKS: &[&str] = &[
    "dynamodb",
    "DynamoDB",
    "serde",
    "arn:aws",
    "test_0",
    "panicked",
    "backtrace",
    "ValidationException",
    "ConditionalCheckFailed",
    "invalid type:",
    "at line",
];

/// Every hostile input the table test sends, with what it must get.
#[expect(
    clippy::too_many_lines,
    reason = "a table of cases reads best as one list"
)]
fn hostile_cases(customer_id: &str, tiers_cursor: &Value) -> Vec<Case> {
    let random_cursor = "dGhpcyBpcyBub3QgYSBjdXJzb3I";
    vec![
        case(
            "a 10,000-character name",
            CREATE_TIER,
            tier(&json!({"name": "n".repeat(10_000)})),
            "BAD_USER_INPUT",
            Some("input.name"),
        ),
        case(
            "a NUL byte in a name",
            CREATE_TIER,
            tier(&json!({"name": "a\u{0}b"})),
            "BAD_USER_INPUT",
            Some("input.name"),
        ),
        // async-graphql names only the input type here, not the field.
        case(
            "2^31 as an Int",
            CREATE_TIER,
            tier(&json!({"billingIncrementSeconds": 2_147_483_648_i64})),
            "BAD_USER_INPUT",
            None,
        ),
        case(
            "a negative Int",
            CREATE_TIER,
            tier(&json!({"billingIncrementSeconds": -1})),
            "BAD_USER_INPUT",
            Some("input.billingIncrementSeconds"),
        ),
        case(
            "an unknown enum value",
            CREATE_CUSTOMER,
            customer(&json!({"customerType": "ALIEN"})),
            "GRAPHQL_VALIDATION_FAILED",
            Some("input.customerType"),
        ),
        case(
            "a homoglyph subdomain",
            CREATE_CUSTOMER,
            customer(&json!({"subdomain": "\u{0430}cme"})),
            "BAD_USER_INPUT",
            Some("input.subdomain"),
        ),
        case(
            "a 64-character DNS label",
            CREATE_CUSTOMER,
            customer(&json!({"hostname": format!("{}.example.com", "a".repeat(64))})),
            "BAD_USER_INPUT",
            Some("input.hostname"),
        ),
        case(
            "metadata nested 40 levels",
            CREATE_CUSTOMER,
            customer(&json!({"metadata": nested_metadata(40)})),
            "BAD_USER_INPUT",
            Some("input.metadata.a.a"),
        ),
        case(
            "a 100 KB password",
            CREATE_CUSTOMER,
            customer(&json!({"password": "p".repeat(100_000)})),
            "BAD_USER_INPUT",
            Some("input.password"),
        ),
        case(
            "an IPv4 prefix of 33",
            CREATE_ACCOUNT,
            json!({"input": crate::accounts::input(customer_id, &json!({"ipWhitelistRules": ["10.0.0.0/33"]}))}),
            "BAD_USER_INPUT",
            Some("input.ipWhitelistRules[0]"),
        ),
        case(
            "an IPv6 prefix of 129",
            CREATE_ACCOUNT,
            json!({"input": crate::accounts::input(customer_id, &json!({"ipWhitelistRules": ["::/129"]}))}),
            "BAD_USER_INPUT",
            Some("input.ipWhitelistRules[0]"),
        ),
        case(
            "an id that is no UUID",
            "query($id: ID!) { customer(id: $id) { id } }",
            json!({"id": "../../etc/passwd"}),
            "BAD_USER_INPUT",
            Some("id"),
        ),
        // The complexity limit counts at most the largest page, so the
        // resolver refuses the page size itself, naming it.
        case(
            "first: 100000",
            LIST_TIERS,
            json!({"first": 100_000}),
            "BAD_USER_INPUT",
            Some("first"),
        ),
        case(
            "first: -1",
            LIST_TIERS,
            json!({"first": -1}),
            "BAD_USER_INPUT",
            Some("first"),
        ),
        case(
            "a random base64 cursor",
            LIST_TIERS,
            json!({"first": 5, "after": random_cursor}),
            "BAD_USER_INPUT",
            Some("after"),
        ),
        case(
            "another list's cursor",
            LIST_CUSTOMERS,
            json!({"first": 5, "after": tiers_cursor}),
            "BAD_USER_INPUT",
            Some("after"),
        ),
    ]
}

#[tokio::test]
async fn hostile_input_everywhere_gets_a_coded_error_naming_the_field_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let customer_id = crate::accounts::customer(&app).await;
    crate::accounts::tier(&app, "base", true).await;
    let tiers_cursor = {
        let body = app.graphql(LIST_TIERS, json!({"first": 1})).await;
        data(&body)["pricingTiers"]["edges"][0]["cursor"].clone()
    };
    let cases = hostile_cases(&customer_id, &tiers_cursor);
    let before = crate::customers::scan_all(&app).await.len();
    for case in cases {
        let body = app.graphql(&case.query, case.variables).await;
        let text = body.to_string();
        assert_eq!(
            body["errors"][0]["extensions"]["code"], case.code,
            "{}: {body}",
            case.name
        );
        if let Some(field) = case.field {
            assert_eq!(
                body["errors"][0]["extensions"]["field"], field,
                "{}: {body}",
                case.name
            );
        }
        for leak in LEAKS {
            assert!(
                !text.contains(leak),
                "{}: the answer leaks `{leak}`: {text}",
                case.name
            );
        }
        assert_eq!(
            crate::customers::scan_all(&app).await.len(),
            before,
            "{} wrote something",
            case.name
        );
    }
}

#[tokio::test]
async fn malformed_bodies_lone_surrogates_and_oversized_requests_are_request_errors() {
    let app = TestApp::spawn().await;
    let token = app.admin_token();
    let raw = |body: Vec<u8>| {
        Request::post("/graphql")
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .body(Body::from(body))
            .unwrap()
    };
    for (name, body, status) in [
        (
            "malformed JSON",
            b"{\"query\": ".to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "truncated JSON",
            b"{\"query\": \"{ __typename }\"".to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "a lone surrogate",
            br#"{"query": "{ __typename }", "variables": {"x": "\ud800"}}"#.to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "invalid UTF-8",
            b"{\"query\": \"\xff\xfe\"}".to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "a body over the cap",
            format!("{{\"query\": \"{}\"}}", " ".repeat(1_100_000)).into_bytes(),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
    ] {
        let reply = app.send(raw(body)).await;
        assert_eq!(reply.status, status, "{name}: {}", reply.text());
        let code = error_code(&reply.json()).to_owned();
        assert!(
            code == "BAD_REQUEST" || code == "PAYLOAD_TOO_LARGE",
            "{name}: {code}"
        );
        assert!(!reply.text().contains("serde"), "{name}");
    }
    still_answers(&app, &token).await;
}

#[tokio::test]
async fn a_cursor_of_a_deleted_item_still_pages_on() {
    let app = TestApp::spawn().await;
    let create = |name: &'static str| {
        app.graphql(CREATE_TIER, tier(&json!({"name": name, "isActive": true})))
    };
    for name in ["alpha", "bravo", "charlie"] {
        data(&create(name).await);
    }
    let body = app.graphql(LIST_TIERS, json!({"first": 2})).await;
    let edges = data(&body)["pricingTiers"]["edges"]
        .as_array()
        .unwrap()
        .clone();
    let cursor = edges[1]["cursor"].clone();
    // Delete "bravo", the item the cursor points at (not the default).
    let all = app
        .graphql(
            "{ pricingTiers(first: 10) { edges { node { id name isDefault } } } }",
            json!({}),
        )
        .await;
    let bravo = data(&all)["pricingTiers"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["node"]["name"] == "bravo")
        .unwrap()["node"]["id"]
        .clone();
    data(
        &app.graphql(
            "mutation($id: ID!) { deletePricingTier(id: $id) }",
            json!({"id": bravo}),
        )
        .await,
    );
    let next = app
        .graphql(LIST_TIERS, json!({"first": 2, "after": cursor}))
        .await;
    assert_eq!(
        data(&next)["pricingTiers"]["edges"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "{next}"
    );
}

/// `fragment F0 … F{levels}`, each spreading the next twice: 2^levels
/// expansions from a document of a few hundred bytes.
fn fan_out(on: &str, levels: usize, last: &str) -> String {
    let spreads: String = (0..levels)
        .map(|i| {
            let next = i + 1;
            format!(" fragment F{i} on {on} {{ ...F{next} ...F{next} }}")
        })
        .collect();
    format!("{spreads} fragment F{levels} on {on} {{ {last} }}")
}

#[tokio::test]
async fn fragment_fan_outs_and_cycles_are_refused_before_anything_walks_them_even_without_a_token()
{
    let app = TestApp::spawn().await;
    let accept = "acceptInvitation(token: \"x\", firstName: \"a\", lastName: \"b\", password: \"xxxxxxxxxxxx\")";
    let anonymous_bomb = format!(
        "mutation {{ {accept} {{ customerId ...F0 }} }}{}",
        fan_out("AcceptInvitationPayload", 30, "customerId")
    );
    // Ending in a spread of nothing: no field is ever reached.
    let empty_bomb = format!(
        "{{ pricingTiers {{ edges {{ ...F0 }} }} }}{}",
        fan_out("PricingTierEdge", 30, "...Missing")
    );
    let admin = app.admin_token();
    // Without a budget, async-graphql's own checks would walk 2^30
    // spreads; the bound only keeps a regression from hanging the suite.
    for (token, document) in [(None, &anonymous_bomb), (Some(admin.as_str()), &empty_bomb)] {
        let reply = tokio::time::timeout(
            std::time::Duration::from_mins(1),
            app.post_graphql(token, document, json!({})),
        )
        .await
        .expect("a fan-out must be refused, not walked");
        let body = reply.json();
        assert_eq!(error_code(&body), "QUERY_TOO_COMPLEX", "{body}");
        assert!(body.get("data").is_none(), "{body}");
    }
    let cycle = "{ pricingTiers { edges { ...A } } } \
        fragment A on PricingTierEdge { ...B ...B } fragment B on PricingTierEdge { ...A ...A }";
    let body = app
        .post_graphql(Some(&admin), cycle, json!({}))
        .await
        .json();
    assert_eq!(error_code(&body), "GRAPHQL_VALIDATION_FAILED", "{body}");
    assert_eq!(body["errors"][0]["message"], "fragment `A` spreads itself");
    still_answers(&app, &admin).await;
}

#[tokio::test]
async fn floods_of_directives_unused_fragments_or_errors_stay_small() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token();
    let directives = format!("{{ __typename {} }}", "@a ".repeat(5_000));
    let unused = format!(
        "{{ __typename }} fragment U on Query {{ {} }}",
        "a ".repeat(5_000)
    );
    for document in [directives, unused] {
        let body = app
            .post_graphql(Some(&admin), &document, json!({}))
            .await
            .json();
        assert_eq!(error_code(&body), "QUERY_TOO_COMPLEX", "{body}");
        assert_eq!(body["errors"].as_array().unwrap().len(), 1, "{body}");
    }
    // Within the limits, a document can still make many errors: the
    // response lists twenty and counts the rest.
    let unknown: String = (0..100).map(|i| format!(" f{i}")).collect();
    let body = app
        .post_graphql(Some(&admin), &format!("{{{unknown} }}"), json!({}))
        .await
        .json();
    let errors = body["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 21, "{body}");
    assert_eq!(errors[20]["message"], "… and 80 more errors like these");
    assert_eq!(
        errors[20]["extensions"]["code"],
        "GRAPHQL_VALIDATION_FAILED"
    );
    still_answers(&app, &admin).await;
}

#[tokio::test]
async fn lookups_of_values_too_long_to_be_stored_find_nothing_instead_of_failing() {
    let app = TestApp::spawn().await;
    let long = format!("{}@example.com", "a".repeat(10_000));
    for (query, field) in [
        (
            "query($v: String!) { customerByEmail(email: $v) { id } }",
            "customerByEmail",
        ),
        (
            "query($v: String!) { customerByKey(customerKey: $v) { id } }",
            "customerByKey",
        ),
        (
            "query($v: String!) { userByEmail(email: $v) { id } }",
            "userByEmail",
        ),
    ] {
        let body = app.graphql(query, json!({"v": long})).await;
        assert_eq!(data(&body)[field], Value::Null, "{body}");
    }
}
