//! What the gateway writes to its logs: JSON lines that correlate by
//! request id and operation, and never a token or a secret.

use serde_json::{Value, json};

use crate::helpers::{TestApp, data, logs};

#[tokio::test]
async fn logs_are_json_with_request_id_and_operation_and_never_the_token() {
    let app = TestApp::spawn().await;
    let run = uuid::Uuid::now_v7().simple().to_string();
    let ids = [
        format!("tier-{run}"),
        format!("customer-{run}"),
        format!("rejected-{run}"),
    ];
    let token = app.admin_token();
    let secret_text = "s3cr3t-description-value";
    let body = app
        .post_graphql_as_request(
            Some(&token),
            "mutation CreateTier($input: CreatePricingTierInput!) { createPricingTier(input: $input) { id } }",
            json!({"input": {"name": "Logged", "currency": "USD", "ratePerMinute": "1", "description": secret_text}}),
            Some(&ids[0]),
        )
        .await
        .json();
    data(&body);
    let password = "hunter2-but-much-longer";
    let customer = app
        .post_graphql_as_request(
            Some(&token),
            "mutation CreateCustomer($input: CreateCustomerInput!) { createCustomer(input: $input) { id } }",
            json!({"input": {"customerType": "PERSONAL", "firstName": "Log", "lastName": "Test",
                             "email": format!("log-{run}@example.com"), "password": password,
                             "country": "US", "currency": "USD"}}),
            Some(&ids[1]),
        )
        .await
        .json();
    data(&customer);
    let rejected = app
        .post_graphql_as_request(
            Some("not-a-real-token"),
            "{ __typename }",
            json!({}),
            Some(&ids[2]),
        )
        .await;
    assert_eq!(rejected.status, 401);

    let lines = logs().lines();
    let completion = |id: &str| -> Value {
        let matching: Vec<&Value> = lines
            .iter()
            .filter(|l| l["message"] == "request completed" && l["span"]["request_id"] == id)
            .collect();
        assert_eq!(matching.len(), 1, "request {id}: {matching:?}");
        matching[0].clone()
    };
    let tier = completion(&ids[0]);
    assert_eq!(tier["span"]["operation"], "CreateTier");
    assert_eq!(tier["status"], 200);
    assert!(tier["duration_ms"].is_number());
    assert_eq!(completion(&ids[1])["span"]["operation"], "CreateCustomer");
    assert_eq!(completion(&ids[2])["status"], 401);

    let everything = logs().text();
    for secret in [
        token.as_str(),
        "not-a-real-token",
        secret_text,
        password,
        crate::helpers::SECRET,
    ] {
        assert!(!everything.contains(secret), "the logs contain `{secret}`");
    }
}
