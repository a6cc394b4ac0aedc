//! Customer deletion beyond the happy path: repeated and concurrent calls,
//! tiers keeping an honest count of the accounts deleted with a customer,
//! and interrupted deletions that operators can find and finish.

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Value, json};

use crate::customers::{
    DELETE, crashing_app, create, get, id_of, populated_customer, put_account, scan_all, set_status,
};
use crate::helpers::{TestApp, data, error_code, logs};

const DELETING: &str = "query($first: Int) { customers(first: $first, filter: {deleting: true}) {
    edges { node { id email deleting status } } pageInfo { hasNextPage } } }";

async fn create_tier(app: &TestApp, name: &str) -> String {
    let body = app
        .graphql(
            "mutation($name: String!) { createPricingTier(input: {name: $name, currency: \"EUR\",
                ratePerMinute: \"0.01\", billingIncrementSeconds: 1, minimumDurationSeconds: 0}) { id } }",
            json!({"name": name}),
        )
        .await;
    data(&body)["createPricingTier"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn tier_account_count(app: &TestApp, tier: &str) -> String {
    let client = switchboard::store::client_from_env().await;
    let item = client
        .get_item()
        .table_name(app.store.table_name())
        .key("pk", AttributeValue::S(format!("PRICING_TIER#{tier}")))
        .key("sk", AttributeValue::S("PRICING_TIER".into()))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    item.get("accountCount")
        .and_then(|v| v.as_n().ok().cloned())
        .unwrap_or_else(|| "0".into())
}

/// An account item of the shape the accounts store writes, on `tier`, with
/// the tier's count raised as the accounts store's transaction does.
async fn put_account_on_tier(app: &TestApp, customer: &str, tier: &str) -> String {
    let auth_id = format!("MA_{}", uuid::Uuid::now_v7().simple());
    let account = put_account(app, customer, &auth_id).await;
    let client = switchboard::store::client_from_env().await;
    client
        .update_item()
        .table_name(app.store.table_name())
        .key("pk", AttributeValue::S(format!("ACCOUNT#{account}")))
        .key("sk", AttributeValue::S("ACCOUNT".into()))
        .update_expression("SET pricingTierId = :tier, gsi2pk = :gsi2pk, gsi2sk = :id")
        .expression_attribute_values(":tier", AttributeValue::S(tier.to_owned()))
        .expression_attribute_values(
            ":gsi2pk",
            AttributeValue::S(format!("PRICING_TIER#{tier}#ACCOUNTS")),
        )
        .expression_attribute_values(":id", AttributeValue::S(account.clone()))
        .send()
        .await
        .unwrap();
    app.store
        .pricing_tiers()
        .attach_account(uuid::Uuid::parse_str(tier).unwrap())
        .await
        .unwrap();
    account
}

#[tokio::test]
async fn deleting_a_customer_takes_its_accounts_off_their_tiers_so_the_tiers_can_be_deleted() {
    let app = TestApp::spawn().await;
    let (gold, silver) = (
        create_tier(&app, "gold").await,
        create_tier(&app, "silver").await,
    );
    let c = create(&app, json!({})).await;
    let other = create(&app, json!({})).await;
    // 40 accounts: more than one deletion transaction holds.
    for i in 0..40 {
        let tier = if i % 4 == 0 { &silver } else { &gold };
        put_account_on_tier(&app, &id_of(&c), tier).await;
    }
    put_account_on_tier(&app, &id_of(&other), &gold).await;
    assert_eq!(tier_account_count(&app, &gold).await, "31");
    assert_eq!(tier_account_count(&app, &silver).await, "10");
    data(&set_status(&app, &id_of(&c), "TERMINATED").await);

    // A crash after the first batch of accounts; the retry finishes.
    let crashing = crashing_app(&app, "TransactWriteItems", 1).await;
    let failed = crashing.graphql(DELETE, json!({"id": id_of(&c)})).await;
    assert!(failed.get("errors").is_some(), "{failed}");
    let body = app.graphql(DELETE, json!({"id": id_of(&c)})).await;
    assert_eq!(data(&body)["deleteCustomer"], c["id"]);

    assert_eq!(tier_account_count(&app, &gold).await, "1");
    assert_eq!(tier_account_count(&app, &silver).await, "0");
    let left = scan_all(&app).await;
    assert_eq!(
        left.iter()
            .filter(|i| i.contains("ACCOUNT_AUTH_ID"))
            .count(),
        1,
        "only the other customer's auth-id guard is left"
    );
    let delete_tier = "mutation($id: ID!) { deletePricingTier(id: $id) }";
    let body = app.graphql(delete_tier, json!({"id": silver})).await;
    assert_eq!(data(&body)["deletePricingTier"], json!(silver), "{body}");
}

#[tokio::test]
async fn concurrent_and_repeated_deletes_of_one_customer_all_succeed_or_find_it_gone() {
    let app = TestApp::spawn().await;
    let (c, _) = populated_customer(&app, 30).await;
    let ids: Vec<String> = (0..4).map(|_| uuid::Uuid::now_v7().to_string()).collect();
    let token = app.admin_token();
    let replies = futures::future::join_all(ids.iter().map(|request_id| {
        app.post_graphql_as_request(
            Some(&token),
            DELETE,
            json!({"id": id_of(&c)}),
            Some(request_id),
        )
    }))
    .await;
    let mut successes = 0;
    for reply in &replies {
        let body = reply.json();
        if body.get("errors").is_some() {
            assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
        } else {
            assert_eq!(body["data"]["deleteCustomer"], c["id"]);
            successes += 1;
        }
    }
    assert!(successes >= 1, "one of the calls must have deleted it");
    assert_eq!(get(&app, &id_of(&c)).await, Value::Null);
    let errors: Vec<Value> = logs()
        .lines()
        .into_iter()
        .filter(|line| {
            let text = line.to_string();
            ids.iter().any(|id| text.contains(id.as_str()))
                && line["level"].as_str() == Some("ERROR")
        })
        .collect();
    assert!(errors.is_empty(), "error log lines: {errors:#?}");
    let again = app.graphql(DELETE, json!({"id": id_of(&c)})).await;
    assert_eq!(error_code(&again), "NOT_FOUND");
}

#[tokio::test]
async fn an_interrupted_deletion_is_listed_for_admins_and_finished_from_there() {
    let app = TestApp::spawn().await;
    let (c, _) = populated_customer(&app, 5).await;
    let bystander = create(&app, json!({})).await;
    // Crash right after the customer is marked: its first batch write fails.
    let crashing = crashing_app(&app, "BatchWriteItem", 0).await;
    let failed = crashing.graphql(DELETE, json!({"id": id_of(&c)})).await;
    assert!(failed.get("errors").is_some(), "{failed}");
    assert_eq!(get(&app, &id_of(&c)).await, Value::Null);

    let body = app.graphql(DELETING, json!({"first": 10})).await;
    let stuck = data(&body)["customers"]["edges"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(stuck.len(), 1, "{body}");
    assert_eq!(stuck[0]["node"]["id"], c["id"]);
    assert_eq!(stuck[0]["node"]["deleting"], true);
    assert_eq!(stuck[0]["node"]["status"], "TERMINATED");
    assert_ne!(stuck[0]["node"]["id"], bystander["id"]);

    let forbidden = app.graphql_as_user(DELETING, json!({"first": 10})).await;
    assert_eq!(error_code(&forbidden), "FORBIDDEN");
    let combined = app
        .graphql(
            "{ customers(filter: {deleting: true, search: \"ad\"}) { edges { cursor } } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&combined), "BAD_USER_INPUT");

    // Its email stays reserved until the deletion is finished.
    let reuse = crate::customers::try_create(&app, json!({"email": c["email"]})).await;
    assert_eq!(error_code(&reuse), "CONFLICT");
    for node in &stuck {
        let body = app.graphql(DELETE, json!({"id": node["node"]["id"]})).await;
        assert_eq!(data(&body)["deleteCustomer"], c["id"]);
    }
    let body = app.graphql(DELETING, json!({"first": 10})).await;
    assert_eq!(data(&body)["customers"]["edges"], json!([]));
    data(&crate::customers::try_create(&app, json!({"email": c["email"]})).await);
}
