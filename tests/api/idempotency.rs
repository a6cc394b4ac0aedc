//! Idempotent creates: a retried create with the same key and input gets
//! the first result, never a second entity, also when the calls race.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{TestApp, data, error_code, error_field};

const CREATE_TIER: &str = "mutation($input: CreatePricingTierInput!, $key: String) {
    createPricingTier(input: $input, idempotencyKey: $key) { id name } }";
const CREATE_CUSTOMER: &str = "mutation($input: CreateCustomerInput!, $key: String) {
    createCustomer(input: $input, idempotencyKey: $key) { id } }";
const CREATE_ACCOUNT: &str = "mutation($input: CreateAccountInput!, $key: String) {
    createAccount(input: $input, idempotencyKey: $key) { authSecret replayed account { id authId } } }";

fn tier(name: &str) -> Value {
    json!({"name": name, "currency": "EUR", "ratePerMinute": "0.01"})
}

async fn tier_count(app: &TestApp) -> usize {
    let body = app
        .graphql(
            "{ pricingTiers(first: 100, includeInactive: true) { edges { cursor } } }",
            json!({}),
        )
        .await;
    data(&body)["pricingTiers"]["edges"]
        .as_array()
        .unwrap()
        .len()
}

#[tokio::test]
async fn a_repeated_create_with_the_same_key_returns_the_first_result() {
    let app = TestApp::spawn().await;
    let first = app
        .graphql(CREATE_TIER, json!({"input": tier("gold"), "key": "k-1"}))
        .await;
    let again = app
        .graphql(CREATE_TIER, json!({"input": tier("gold"), "key": "k-1"}))
        .await;
    assert_eq!(
        data(&first)["createPricingTier"]["id"],
        data(&again)["createPricingTier"]["id"]
    );
    assert_eq!(tier_count(&app).await, 1);
    // Without a key, the same input is a second create (here: a name clash).
    let keyless = app
        .graphql(CREATE_TIER, json!({"input": tier("gold")}))
        .await;
    assert_eq!(error_code(&keyless), "CONFLICT");
    assert_eq!(error_field(&keyless), "input.name");
}

#[tokio::test]
async fn the_same_key_with_another_input_is_a_conflict_on_the_key() {
    let app = TestApp::spawn().await;
    data(
        &app.graphql(CREATE_TIER, json!({"input": tier("gold"), "key": "k-2"}))
            .await,
    );
    let other = app
        .graphql(CREATE_TIER, json!({"input": tier("silver"), "key": "k-2"}))
        .await;
    assert_eq!(error_code(&other), "CONFLICT");
    assert_eq!(error_field(&other), "idempotencyKey");
    assert_eq!(tier_count(&app).await, 1);
    // Fields in another order are the same input.
    let reordered = app
        .graphql(
            CREATE_TIER,
            json!({"input": {"ratePerMinute": "0.01", "currency": "EUR", "name": "gold"}, "key": "k-2"}),
        )
        .await;
    data(&reordered);
}

#[tokio::test]
async fn keys_are_scoped_to_the_caller_and_checked() {
    let app = TestApp::spawn().await;
    let issuer = TestApp::issuer_for_tests();
    let alice = issuer.mint("alice", true, Duration::from_mins(5));
    let bob = issuer.mint("bob", true, Duration::from_mins(5));
    for (token, name) in [(&alice, "a-tier"), (&bob, "b-tier")] {
        let reply = app
            .post_graphql(
                Some(token),
                CREATE_TIER,
                json!({"input": tier(name), "key": "shared-key"}),
            )
            .await;
        data(&reply.json());
    }
    assert_eq!(tier_count(&app).await, 2);
    for bad in ["", &"k".repeat(65), "tab\there"] {
        let body = app
            .graphql(CREATE_TIER, json!({"input": tier("x"), "key": bad}))
            .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{bad:?}");
        assert_eq!(error_field(&body), "idempotencyKey");
    }
}

#[tokio::test]
async fn ten_concurrent_creates_with_one_key_create_exactly_one_customer() {
    let app = TestApp::spawn().await;
    let input = crate::customers::input(&json!({}));
    let replies = futures::future::join_all(
        (0..10).map(|_| app.graphql(CREATE_CUSTOMER, json!({"input": input, "key": "once"}))),
    )
    .await;
    let ids: Vec<&Value> = replies
        .iter()
        .map(|body| &data(body)["createCustomer"]["id"])
        .collect();
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    let body = app
        .graphql(
            "{ customers(first: 100) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data(&body)["customers"]["edges"].as_array().unwrap().len(),
        1
    );
}

#[tokio::test]
async fn a_repeated_create_account_never_shows_the_secret_again() {
    let app = TestApp::spawn().await;
    crate::accounts::tier(&app, "base", true).await;
    let customer = crate::accounts::customer(&app).await;
    let input = crate::accounts::input(&customer, &json!({}));
    let first = app
        .graphql(CREATE_ACCOUNT, json!({"input": input, "key": "acct-1"}))
        .await;
    let first = &data(&first)["createAccount"];
    assert!(first["authSecret"].is_string());
    assert_eq!(first["replayed"], false);
    let again = app
        .graphql(CREATE_ACCOUNT, json!({"input": input, "key": "acct-1"}))
        .await;
    let again = &data(&again)["createAccount"];
    assert_eq!(again["account"]["id"], first["account"]["id"]);
    assert_eq!(again["authSecret"], Value::Null);
    assert_eq!(again["replayed"], true);
}

#[tokio::test]
async fn user_creates_member_additions_and_invitations_are_idempotent_too() {
    let app = TestApp::spawn().await;
    let create_user = "mutation($key: String) { createUser(input: {email: \"idem@example.com\",
        firstName: \"I\", lastName: \"D\", password: \"a long passphrase\"}, idempotencyKey: $key) { id } }";
    let first = app.graphql(create_user, json!({"key": "user-1"})).await;
    let again = app.graphql(create_user, json!({"key": "user-1"})).await;
    assert_eq!(
        data(&first)["createUser"]["id"],
        data(&again)["createUser"]["id"]
    );
    let user = data(&first)["createUser"]["id"].clone();

    let (customer, _) = crate::helpers::create_customer(&app, json!({})).await;
    let add = "mutation($c: ID!, $u: ID!, $key: String) {
        addCustomerUser(customerId: $c, userId: $u, permissions: [CUSTOMER_READ], idempotencyKey: $key) { owner } }";
    let vars = json!({"c": customer.to_string(), "u": user, "key": "add-1"});
    data(&app.graphql(add, vars.clone()).await);
    // Without the key a second addition is a conflict; with it, the answer.
    data(&app.graphql(add, vars).await);
    let keyless = app
        .graphql(add, json!({"c": customer.to_string(), "u": user}))
        .await;
    assert_eq!(error_code(&keyless), "CONFLICT");

    let invite = "mutation($c: ID!, $e: String!, $key: String) {
        inviteCustomerUser(customerId: $c, email: $e, idempotencyKey: $key) {
            replayed invitation { id status } } }";
    let guest = format!("guest-{}@example.com", uuid::Uuid::now_v7().simple());
    let first = app
        .graphql(
            invite,
            json!({"c": customer.to_string(), "e": guest, "key": "invite-1"}),
        )
        .await;
    let first = &data(&first)["inviteCustomerUser"];
    assert_eq!(first["replayed"], false);
    let again = app
        .graphql(
            invite,
            json!({"c": customer.to_string(), "e": guest, "key": "invite-1"}),
        )
        .await;
    let again = &data(&again)["inviteCustomerUser"];
    assert_eq!(again["invitation"]["id"], first["invitation"]["id"]);
    assert_eq!(again["invitation"]["status"], "PENDING", "not replaced");
    assert_eq!(again["replayed"], true);
    assert_eq!(
        crate::mailbox::mails_to(&guest).await.len(),
        1,
        "a replay sends no second email"
    );
}
