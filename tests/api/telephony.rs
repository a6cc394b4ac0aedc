//! The telephony edge's credential check, table-driven: every refusal
//! reason and every customer status through the public API, over HTTP and
//! the Lambda event path alike, as the `telephony-edge` platform role calls
//! it, IPv4 and IPv6 rules and
//! Amazon's ranges (from a fixture, never the network) included.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, create_customer, data, error_code};

const VERIFY: &str = "mutation($a: String!, $s: String!, $ip: String) {
    verifyAccountCredentials(authId: $a, authSecret: $s, sourceIp: $ip) { id } }";
const CREATE: &str = "mutation($input: CreateAccountInput!) {
    createAccount(input: $input) { authSecret account { id authId } } }";
const PATCH: &str = "mutation($id: ID!, $input: UpdateAccountInput!) { updateAccount(id: $id, input: $input) { id } }";
const STATUS: &str =
    "mutation($id: ID!, $s: CustomerStatus!) { setCustomerStatus(id: $id, status: $s) { id } }";

struct Credentials {
    id: Value,
    auth_id: String,
    secret: String,
}

async fn account(app: &TestApp, customer: Uuid, extra: &Value) -> Credentials {
    let mut input =
        json!({"customerId": customer.to_string(), "name": "Edge", "email": "e@example.com"});
    for (k, v) in extra.as_object().unwrap() {
        input[k] = v.clone();
    }
    let body = app.graphql(CREATE, json!({"input": input})).await;
    let created = &data(&body)["createAccount"];
    Credentials {
        id: created["account"]["id"].clone(),
        auth_id: created["account"]["authId"].as_str().unwrap().to_owned(),
        secret: created["authSecret"].as_str().unwrap().to_owned(),
    }
}

/// `Ok(())` or a refusal's (code, reason), from a response body.
fn outcome(body: &Value) -> Result<(), (String, Value)> {
    if body.get("errors").is_none() {
        return Ok(());
    }
    Err((
        error_code(body).to_owned(),
        body["errors"][0]["extensions"]["reason"].clone(),
    ))
}

/// The check as the edge makes it, over HTTP and as an API Gateway event
/// on the Lambda path; both must answer alike.
async fn verify(app: &TestApp, c: &Credentials, ip: Option<&str>) -> Result<(), (String, Value)> {
    let token = app.platform_token("telephony-edge");
    let vars = json!({"a": c.auth_id, "s": c.secret, "ip": ip});
    let over_http = outcome(&app.graphql_with(&token, VERIFY, vars.clone()).await);
    let request = json!({"query": VERIFY, "variables": vars});
    let over_lambda = outcome(&lambda_event(app, &token, &request).await);
    assert_eq!(over_http, over_lambda, "HTTP and Lambda answer alike");
    over_lambda
}

/// Sends `request` (a GraphQL body) as an HTTP API (v2) event through the
/// router, as `lambda_http::run` would, and returns the response body.
async fn lambda_event(app: &TestApp, token: &str, request: &Value) -> Value {
    use http_body_util::BodyExt as _;
    use tower::ServiceExt as _;
    let mut event: Value = serde_json::from_str(
        &std::fs::read_to_string("infra/events/http-api-v2-graphql.json").unwrap(),
    )
    .unwrap();
    event["body"] = Value::String(request.to_string());
    event["isBase64Encoded"] = Value::Bool(false);
    let text = event.to_string().replace("REPLACE_WITH_TOKEN", token);
    let parsed = lambda_http::request::from_str(&text).expect("lambda_http parses the event");
    let response = app.router.clone().oneshot(parsed).await.unwrap();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    serde_json::from_slice(&bytes).unwrap()
}

fn refused(reason: &str) -> Result<(), (String, Value)> {
    Err(("FORBIDDEN".into(), json!(reason)))
}

async fn setup() -> (TestApp, Uuid) {
    let app =
        TestApp::spawn_with(&[("AWS_IP_RANGES_FILE", "tests/api/fixtures/ip-ranges.json")]).await;
    data(
        &app.graphql(
            "mutation { createPricingTier(input: {name: \"Edge\", currency: \"USD\", ratePerMinute: \"1\"}) { id } }",
            json!({}),
        )
        .await,
    );
    let (customer, _) = create_customer(&app, json!({})).await;
    (app, customer)
}

#[tokio::test]
async fn every_account_reason_is_told_only_to_whoever_holds_the_secret() {
    let (app, customer) = setup().await;
    for (patch, reason) in [
        (json!({"riskStatus": "BLOCKED"}), "ACCOUNT_BLOCKED"),
        (json!({"enabled": false}), "ACCOUNT_DISABLED"),
        (json!({"isActive": false}), "ACCOUNT_INACTIVE"),
    ] {
        let c = account(&app, customer, &json!({})).await;
        assert_eq!(verify(&app, &c, None).await, Ok(()));
        data(
            &app.graphql(PATCH, json!({"id": c.id, "input": patch}))
                .await,
        );
        assert_eq!(verify(&app, &c, None).await, refused(reason), "{patch}");
        // A wrong secret learns nothing: the one UNAUTHENTICATED, no reason.
        let wrong = Credentials {
            secret: format!("{}x", c.secret),
            ..c
        };
        assert_eq!(
            verify(&app, &wrong, None).await,
            Err(("UNAUTHENTICATED".into(), Value::Null))
        );
    }
    // A sub-account of a refused master is refused.
    let master = account(&app, customer, &json!({})).await;
    let sub = account(
        &app,
        customer,
        &json!({"type": "SUB_ACCOUNT", "parentAccountId": master.id}),
    )
    .await;
    assert_eq!(verify(&app, &sub, None).await, Ok(()));
    data(
        &app.graphql(
            PATCH,
            json!({"id": master.id, "input": {"riskStatus": "BLOCKED"}}),
        )
        .await,
    );
    assert_eq!(verify(&app, &sub, None).await, refused("MASTER_REFUSED"));
}

#[tokio::test]
async fn every_customer_status_takes_effect_on_the_next_check() {
    let (app, customer) = setup().await;
    let c = account(&app, customer, &json!({})).await;
    let id = customer.to_string();
    for (status, expected) in [
        ("SUSPENDED", Ok(())),
        ("ACTIVE", Ok(())),
        ("INACTIVE", refused("CUSTOMER_INACTIVE")),
        ("FRAUD", refused("CUSTOMER_FRAUD")),
        ("TERMINATED", refused("CUSTOMER_TERMINATED")),
    ] {
        data(&app.graphql(STATUS, json!({"id": id, "s": status})).await);
        assert_eq!(verify(&app, &c, None).await, expected, "{status}");
    }
}

#[tokio::test]
async fn ip_rules_admit_their_v4_and_v6_blocks_and_amazons_ranges_only_when_allowed() {
    let (app, customer) = setup().await;
    let c = account(
        &app,
        customer,
        &json!({"ipAuthEnabled": true, "ipWhitelistRules": ["203.0.113.0/24", "2001:db8::/32"]}),
    )
    .await;
    for (ip, expected) in [
        (Some("203.0.113.77"), Ok(())),
        (Some("2001:db8::1"), Ok(())),
        (Some("198.51.100.1"), refused("IP_NOT_ALLOWED")),
        (Some("52.94.1.1"), refused("IP_NOT_ALLOWED")),
        (None, refused("IP_NOT_ALLOWED")),
    ] {
        assert_eq!(verify(&app, &c, ip).await, expected, "{ip:?}");
    }
    data(
        &app.graphql(PATCH, json!({"id": c.id, "input": {"allowAwsIps": true}}))
            .await,
    );
    assert_eq!(verify(&app, &c, Some("52.94.1.1")).await, Ok(()));
    assert_eq!(verify(&app, &c, Some("2600:1f00::9")).await, Ok(()));
    let bad = app
        .graphql_with(
            &app.platform_token("telephony-edge"),
            VERIFY,
            json!({"a": c.auth_id, "s": c.secret, "ip": "not-an-ip"}),
        )
        .await;
    assert_eq!(error_code(&bad), "BAD_USER_INPUT");
}

const VERIFY_STAMP: &str = "mutation($a: String!, $s: String!) {
    verifyAccountCredentials(authId: $a, authSecret: $s) { lastLogin } }";

async fn last_login(app: &TestApp, c: &Credentials) -> Value {
    data(
        &app.graphql_with(
            &app.platform_token("telephony-edge"),
            VERIFY_STAMP,
            json!({"a": c.auth_id, "s": c.secret}),
        )
        .await,
    )["verifyAccountCredentials"]["lastLogin"]
        .clone()
}

#[tokio::test]
async fn last_login_is_written_at_most_once_per_interval() {
    let (app, customer) = setup().await;
    let c = account(&app, customer, &json!({})).await;
    let first = last_login(&app, &c).await;
    assert!(first.is_string(), "the first check stamps: {first}");
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    assert_eq!(
        last_login(&app, &c).await,
        first,
        "within the minute: no write"
    );
    // With no interval, every check writes.
    let (every, _) = app.counted(&[("ACCOUNT_LOGIN_STAMP_INTERVAL", "0s")]).await;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let again = last_login(&every, &c).await;
    assert!(
        again.as_str().unwrap() > first.as_str().unwrap(),
        "{again} after {first}"
    );
}

#[tokio::test]
async fn the_answer_carries_what_the_edge_enforces_next() {
    let app = TestApp::spawn_with(&[("EDGE_CACHE_SECONDS", "15")]).await;
    data(
        &app.graphql(
            "mutation { createPricingTier(input: {name: \"Edge\", currency: \"USD\", ratePerMinute: \"0.012\"}) { id } }",
            json!({}),
        )
        .await,
    );
    let (customer, owner) = create_customer(&app, json!({})).await;
    data(
        &app.graphql(
            "mutation($id: ID!) { updateCustomer(id: $id, input: {internationalCalling: true, callRecording: true, maxOutboundCallRate: 7}) { id } }",
            json!({"id": customer.to_string()}),
        )
        .await,
    );
    let c = account(
        &app,
        customer,
        &json!({"purchasedCps": 3, "postpaid": true, "creditLimit": "50"}),
    )
    .await;
    let body = app
        .graphql_with(
            &app.platform_token("telephony-edge"),
            "mutation($a: String!, $s: String!) { verifyAccountCredentials(authId: $a, authSecret: $s) {
                cpsLimit concurrentCallsLimit billingModel creditLimit features { callQueue }
                customerTelephony { internationalCalling callRecording maxOutboundCallRate }
                pricingTier { currency }
                edgeCacheSeconds } }",
            json!({"a": c.auth_id, "s": c.secret}),
        )
        .await;
    let answer = &data(&body)["verifyAccountCredentials"];
    assert_eq!(answer["cpsLimit"], 8, "base 5 + purchased 3");
    assert_eq!(answer["concurrentCallsLimit"], 25);
    assert_eq!(answer["billingModel"], "POSTPAID");
    assert_eq!(answer["creditLimit"], "50");
    assert_eq!(
        answer["customerTelephony"],
        json!({"internationalCalling": true, "callRecording": true, "maxOutboundCallRate": 7})
    );
    assert_eq!(answer["pricingTier"]["currency"], "USD");
    assert_eq!(answer["edgeCacheSeconds"], 15);
    // The customer the decision read is the one the answer shows: no
    // second read. The guard, the account, the customer; the stamp is
    // not due (written by the check above).
    let (watched, calls_of) = app.counted(&[("EDGE_CACHE_SECONDS", "15")]).await;
    let again = watched
        .graphql_with(
            &watched.platform_token("telephony-edge"),
            "mutation($a: String!, $s: String!) { verifyAccountCredentials(authId: $a, authSecret: $s) {
                customerTelephony { internationalCalling } } }",
            json!({"a": c.auth_id, "s": c.secret}),
        )
        .await;
    assert_eq!(
        data(&again)["verifyAccountCredentials"]["customerTelephony"]["internationalCalling"],
        true
    );
    assert_eq!(
        calls_of.take(),
        std::collections::BTreeMap::from([("GetItem".to_owned(), 3)])
    );
    // Members read the settings on the customer, not through an account.
    let member = app
        .graphql_with(
            &app.token_for(owner),
            "query($id: ID!) { account(id: $id) { customerTelephony { internationalCalling } } }",
            json!({"id": c.id}),
        )
        .await;
    assert_eq!(error_code(&member), "FORBIDDEN");
}
