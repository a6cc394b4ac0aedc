//! No N+1: the DynamoDB calls a query makes are counted by an SDK
//! interceptor on a second app over the same table, so a resolver that
//! fetches related objects one by one fails these tests. Batched reads
//! also retry the keys DynamoDB leaves unprocessed (a mocked client, since
//! DynamoDB Local never does).

use std::collections::BTreeMap;

use serde_json::json;
use switchboard::store::Store;

use crate::accounts::{create, customer, tier};
use crate::helpers::{TestApp, data};

/// On a multi-threaded runtime, as in production.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_of_100_accounts_with_tier_customer_and_owner_takes_one_batch_per_kind() {
    let app = TestApp::spawn().await;
    let mut tiers = Vec::new();
    for name in ["T1", "T2", "T3", "T4", "T5"] {
        tiers.push(tier(&app, name, true).await);
    }
    let mut customers = Vec::new();
    for _ in 0..3 {
        customers.push(customer(&app).await);
    }
    for chunk in 0..10 {
        futures::future::join_all((0..10).map(|i| {
            let n = chunk * 10 + i;
            create(
                &app,
                &customers[n % 3],
                json!({"pricingTierId": tiers[n % 5]}),
            )
        }))
        .await;
    }
    let (watched, calls_of) = app.counted(&[]).await;
    let body = watched
        .graphql(
            "{ accounts(first: 100) { edges { node { id
                pricingTier { id name isDefault } customer { id owner { id email } } } } } }",
            json!({}),
        )
        .await;
    let edges = data(&body)["accounts"]["edges"].as_array().unwrap().clone();
    assert_eq!(edges.len(), 100);
    assert!(
        edges
            .iter()
            .all(|e| e["node"]["customer"]["owner"]["email"].is_string())
    );
    let calls = calls_of.take();
    // One Query for the page, then one BatchGetItem each for the tiers,
    // the customers and their owners.
    assert_eq!(
        calls,
        BTreeMap::from([("BatchGetItem".to_owned(), 3), ("Query".to_owned(), 1)]),
        "{calls:?}"
    );
}

#[tokio::test]
async fn a_page_of_customers_with_owner_and_admin_user_takes_one_batch() {
    let app = TestApp::spawn().await;
    for i in 0..6 {
        let id = customer(&app).await;
        if i % 2 == 0 {
            // The owner is a member, so it may hold the admin role.
            let owner = app
                .graphql(
                    "query($id: ID!) { customer(id: $id) { owner { id } } }",
                    json!({"id": id}),
                )
                .await;
            let owner = data(&owner)["customer"]["owner"]["id"].clone();
            let body = app
                .graphql(
                    "mutation($id: ID!, $u: ID!) { updateCustomer(id: $id, input: {adminUser: $u}) { id } }",
                    json!({"id": id, "u": owner}),
                )
                .await;
            data(&body);
        }
    }
    let (watched, calls_of) = app.counted(&[]).await;
    let body = watched
        .graphql(
            "{ customers(first: 100) { edges { node { id owner { id } adminUser { id } } } } }",
            json!({}),
        )
        .await;
    let edges = data(&body)["customers"]["edges"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(edges.len(), 6);
    assert_eq!(
        edges
            .iter()
            .filter(|e| e["node"]["adminUser"]["id"] == e["node"]["owner"]["id"])
            .count(),
        3
    );
    let calls = calls_of.take();
    assert_eq!(
        calls,
        BTreeMap::from([("BatchGetItem".to_owned(), 1), ("Query".to_owned(), 1)]),
        "{calls:?}"
    );
}

#[tokio::test]
async fn a_members_customers_and_memberships_are_checked_in_the_batch_that_reads_the_customers() {
    let app = TestApp::spawn().await;
    let member = app.create_user("counted").await;
    for _ in 0..6 {
        let id = customer(&app).await;
        let body = app
            .graphql(
                "mutation($c: ID!, $u: ID!) { addCustomerUser(customerId: $c, userId: $u, permissions: [CUSTOMER_READ]) { owner } }",
                json!({"c": id, "u": member.to_string()}),
            )
            .await;
        data(&body);
    }
    let (watched, calls_of) = app.counted(&[]).await;
    let token = watched.token_for(member);
    // The first request with a token records the user's sign-in (one
    // UpdateItem); every later one writes nothing, as counted below.
    data(
        &watched
            .graphql_with(&token, "{ viewer { isAdmin } }", json!({}))
            .await,
    );
    // `viewer` reads the caller's user once more (`viewer.user`).
    for (query, edges, user_reads) in [
        (
            "{ customers(first: 100) { edges { node { id email owner { id } } } } }",
            "/data/customers/edges",
            1,
        ),
        (
            "{ viewer { memberships(first: 100) { edges { node { permissions customer { id email owner { id } } } } } } }",
            "/data/viewer/memberships/edges",
            2,
        ),
    ] {
        calls_of.reset();
        let body = watched.graphql_with(&token, query, json!({})).await;
        assert_eq!(
            body.pointer(edges).and_then(|e| e.as_array()).map(Vec::len),
            Some(6),
            "{body}"
        );
        assert!(
            body.pointer(edges).unwrap()[0]["node"]
                .to_string()
                .contains("email"),
            "{body}"
        );
        // The caller's user (authentication), the memberships index, one
        // consistent batch of the customers with the caller's membership
        // of each (no GetItem per customer for access checks; a page of
        // more than 50 memberships makes it two), and one of the owners.
        assert_eq!(
            calls_of.take(),
            BTreeMap::from([
                ("BatchGetItem".to_owned(), 2),
                ("GetItem".to_owned(), user_reads),
                ("Query".to_owned(), 1)
            ]),
            "{query}"
        );
    }
}

#[tokio::test]
async fn sub_accounts_list_their_masters_in_one_batch() {
    let app = TestApp::spawn().await;
    tier(&app, "Base", true).await;
    let c = customer(&app).await;
    let mut masters = Vec::new();
    for _ in 0..4 {
        masters.push(create(&app, &c, json!({})).await["account"]["id"].clone());
    }
    futures::future::join_all((0..12).map(|i| {
        create(
            &app,
            &c,
            json!({"type": "SUB_ACCOUNT", "parentAccountId": masters[i % 4]}),
        )
    }))
    .await;
    let (watched, calls_of) = app.counted(&[]).await;
    let body = watched
        .graphql(
            "{ accounts(first: 100, filter: {type: SUB_ACCOUNT}) { edges { node { parentAccount { id } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data(&body)["accounts"]["edges"].as_array().unwrap().len(),
        12
    );
    assert_eq!(
        calls_of.take(),
        BTreeMap::from([("BatchGetItem".to_owned(), 1), ("Query".to_owned(), 1)])
    );
}

/// A `BatchGetItem` answer that leaves one key unprocessed, as DynamoDB
/// does under load.
fn unprocessed() -> aws_sdk_dynamodb::operation::batch_get_item::BatchGetItemOutput {
    use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
    let key = std::collections::HashMap::from([
        ("pk".to_owned(), AttributeValue::S("PRICING_TIER#x".into())),
        ("sk".to_owned(), AttributeValue::S("PRICING_TIER".into())),
    ]);
    aws_sdk_dynamodb::operation::batch_get_item::BatchGetItemOutput::builder()
        .unprocessed_keys("t", KeysAndAttributes::builder().keys(key).build().unwrap())
        .build()
}

#[tokio::test]
async fn unprocessed_keys_are_retried_until_read_and_persistent_ones_are_unavailable() {
    use aws_sdk_dynamodb::Client;
    use aws_smithy_mocks::{RuleMode, mock, mock_client};
    let query = "query($id: ID!) { pricingTier(id: $id) { id } }";
    let id = json!({"id": uuid::Uuid::now_v7().to_string()});

    let rule = mock!(Client::batch_get_item)
        .sequence()
        .output(unprocessed)
        .times(2)
        .output(|| {
            aws_sdk_dynamodb::operation::batch_get_item::BatchGetItemOutput::builder().build()
        })
        .build();
    let client = mock_client!(aws_sdk_dynamodb, RuleMode::Sequential, &[&rule]);
    let app = TestApp::over_store(Store::new(client, "t"));
    let body = app.graphql(query, id.clone()).await;
    assert_eq!(data(&body)["pricingTier"], serde_json::Value::Null);
    assert_eq!(rule.num_calls(), 3, "two retries of the unprocessed key");

    let stuck = mock!(Client::batch_get_item)
        .sequence()
        .output(unprocessed)
        .repeatedly()
        .build();
    let client = mock_client!(aws_sdk_dynamodb, RuleMode::Sequential, &[&stuck]);
    let app = TestApp::over_store(Store::new(client, "t"));
    let body = app.graphql(query, id).await;
    assert_eq!(crate::helpers::error_code(&body), "SERVICE_UNAVAILABLE");
    assert_eq!(
        stuck.num_calls(),
        9,
        "the first read and eight retry rounds"
    );
}
