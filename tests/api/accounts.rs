//! Accounts end to end: defaults and derived limits, every validation
//! rule, the billing model, customer status, tiers and their counts under
//! concurrency, sub-accounts, `authId`s, paging with filters and the
//! termination of a customer with many accounts.

use std::collections::HashSet;

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Value, json};

use crate::helpers::{TestApp, data, error_code, error_field};

/// Every scalar field of `Account` and its related objects' ids.
pub const ACCOUNT_FIELDS: &str = "id apiId name email phone type authId authTokenExpireTime
    description company address city state zipCode country timezone accountType postpaid
    billingModel autoRecharge autoRechargeConfig { threshold amount } enabled isActive isVerified
    isTrialAccount role carrierType customerType creditLimit cpsLimit concurrentCallsLimit
    baseCpsLimit baseConcurrentCallsLimit purchasedCps purchasedConcurrentCalls riskRating
    riskStatus ipAuthEnabled ipWhitelistRules allowAwsIps features { callQueue transcription }
    customer { id } pricingTier { id name } parentAccount { id } createdAt updatedAt lastLogin version";

fn create_mutation() -> String {
    format!(
        "mutation($input: CreateAccountInput!) {{ createAccount(input: $input) {{ authSecret account {{ {ACCOUNT_FIELDS} }} }} }}"
    )
}

fn update_mutation() -> String {
    format!(
        "mutation($id: ID!, $input: UpdateAccountInput!, $v: Int) {{ updateAccount(id: $id, input: $input, expectedVersion: $v) {{ {ACCOUNT_FIELDS} }} }}"
    )
}

const DELETE: &str = "mutation($id: ID!) { deleteAccount(id: $id) }";
const LIST: &str = "query($first: Int, $after: String, $filter: AccountFilterInput) {
    accounts(first: $first, after: $after, filter: $filter) {
        edges { cursor node { id name postpaid isActive type authId } }
        pageInfo { hasNextPage endCursor } } }";

/// Creates a pricing tier and returns its id.
pub async fn tier(app: &TestApp, name: &str, active: bool) -> String {
    let body = app
        .graphql(
            "mutation($input: CreatePricingTierInput!) { createPricingTier(input: $input) { id } }",
            json!({"input": {"name": name, "currency": "USD", "ratePerMinute": "0.01", "isActive": active}}),
        )
        .await;
    data(&body)["createPricingTier"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Creates an ACTIVE personal customer and returns its id.
pub async fn customer(app: &TestApp) -> String {
    let body = app
        .graphql(
            "mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { id } }",
            json!({"input": {"customerType": "PERSONAL", "firstName": "Acc", "lastName": "Owner",
                "email": format!("owner-{}@example.com", uuid::Uuid::now_v7().simple()),
                "password": "correct horse battery", "country": "US", "currency": "USD"}}),
        )
        .await;
    data(&body)["createCustomer"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Moves a customer to `status`.
pub async fn set_status(app: &TestApp, id: &str, status: &str) {
    let body = app
        .graphql(
            "mutation($id: ID!, $s: CustomerStatus!) { setCustomerStatus(id: $id, status: $s) { id } }",
            json!({"id": id, "s": status}),
        )
        .await;
    data(&body);
}

/// A valid account input for `customer_id`, with `overrides` merged in.
pub fn input(customer_id: &str, overrides: &Value) -> Value {
    let mut base =
        json!({"customerId": customer_id, "name": "Acme Voice", "email": "ops@acme.example"});
    for (k, v) in overrides.as_object().unwrap() {
        base[k] = v.clone();
    }
    base
}

/// Runs `createAccount` and returns the whole body.
pub async fn try_create(app: &TestApp, customer_id: &str, overrides: Value) -> Value {
    app.graphql(
        &create_mutation(),
        json!({"input": input(customer_id, &overrides)}),
    )
    .await
}

/// Creates an account and returns the payload (`account`, `authSecret`).
pub async fn create(app: &TestApp, customer_id: &str, overrides: Value) -> Value {
    let body = try_create(app, customer_id, overrides).await;
    data(&body)["createAccount"].clone()
}

async fn update(app: &TestApp, id: &str, patch: Value) -> Value {
    app.graphql(&update_mutation(), json!({"id": id, "input": patch}))
        .await
}

async fn get(app: &TestApp, id: &str) -> Value {
    let body = app
        .graphql(
            &format!("query($id: ID!) {{ account(id: $id) {{ {ACCOUNT_FIELDS} }} }}"),
            json!({"id": id}),
        )
        .await;
    data(&body)["account"].clone()
}

fn id_of(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

/// The `accountCount` stored on a tier item, read straight from the table.
pub async fn account_count(app: &TestApp, tier_id: &str) -> i64 {
    let client = switchboard::store::client_from_env().await;
    let item = client
        .get_item()
        .table_name(app.store.table_name())
        .key("pk", AttributeValue::S(format!("PRICING_TIER#{tier_id}")))
        .key("sk", AttributeValue::S("PRICING_TIER".into()))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    item.get("accountCount")
        .map_or(0, |v| v.as_n().unwrap().parse().unwrap())
}

/// Every account id the list returns for `filter`, paging `first` at a
/// time; asserts every page but the last is full.
async fn all_ids(app: &TestApp, filter: &Value, first: i32) -> Vec<String> {
    let mut ids = Vec::new();
    let mut after = Value::Null;
    loop {
        let body = app
            .graphql(
                LIST,
                json!({"first": first, "after": after, "filter": filter}),
            )
            .await;
        let page = &data(&body)["accounts"];
        let edges = page["edges"].as_array().unwrap();
        ids.extend(edges.iter().map(|e| id_of(&e["node"])));
        if page["pageInfo"]["hasNextPage"] == json!(true) {
            assert_eq!(
                edges.len(),
                usize::try_from(first).unwrap(),
                "a page before the last is not full"
            );
            after = page["pageInfo"]["endCursor"].clone();
        } else {
            return ids;
        }
    }
}

#[tokio::test]
async fn creating_an_account_applies_defaults_derives_limits_and_shows_the_secret_once() {
    let app = TestApp::spawn().await;
    let default_tier = tier(&app, "Base", true).await;
    let c = customer(&app).await;
    let created = create(
        &app,
        &c,
        json!({"purchasedCps": 7, "purchasedConcurrentCalls": 10, "phone": "+1 415 555 1234",
               "country": "us", "timezone": "America/Los_Angeles", "creditLimit": "100.00",
               "ipWhitelistRules": ["203.0.113.7/32", "10.1.2.3/8", "2001:DB8::1"]}),
    )
    .await;
    let secret = created["authSecret"].as_str().unwrap();
    assert_eq!(secret.len(), 43, "32 random bytes, base64url");
    let a = &created["account"];
    assert_eq!(a["customer"]["id"], c);
    assert_eq!(a["pricingTier"]["id"], default_tier);
    assert_eq!(a["type"], "MASTER");
    assert_eq!(a["parentAccount"], Value::Null);
    assert_eq!(a["accountType"], "standard");
    assert_eq!(a["billingModel"], "PREPAID");
    assert_eq!(a["postpaid"], false);
    assert_eq!(
        (a["baseCpsLimit"].clone(), a["cpsLimit"].clone()),
        (json!(5), json!(12))
    );
    assert_eq!(
        (
            a["baseConcurrentCallsLimit"].clone(),
            a["concurrentCallsLimit"].clone()
        ),
        (json!(25), json!(35))
    );
    assert_eq!(a["phone"], "+14155551234");
    assert_eq!(a["country"], "US");
    assert_eq!(a["creditLimit"], "100.00");
    assert_eq!(
        a["ipWhitelistRules"],
        json!(["203.0.113.7", "10.0.0.0/8", "2001:db8::1"])
    );
    assert_eq!(
        (a["enabled"].clone(), a["isActive"].clone()),
        (json!(true), json!(true))
    );
    assert_eq!(a["riskStatus"], "NORMAL");
    assert_eq!(a["role"], "ADMIN");
    assert_eq!(a["version"], 1);
    assert!(a["authTokenExpireTime"].is_string());
    let auth_id = a["authId"].as_str().unwrap();
    assert!(
        auth_id.len() == 23
            && auth_id.starts_with("MA_")
            && auth_id[3..]
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()),
        "{auth_id}"
    );

    // Limits are derived on every read, from the current inputs.
    let patched = update(
        &app,
        &id_of(a),
        json!({"baseCpsLimit": 100_000, "purchasedCps": 100_000}),
    )
    .await;
    assert_eq!(data(&patched)["updateAccount"]["cpsLimit"], 200_000);
    let read = get(&app, &id_of(a)).await;
    assert_eq!(read["cpsLimit"], 200_000);
    assert_eq!(read["concurrentCallsLimit"], 35);
    assert!(!read.to_string().contains(secret));
}

#[tokio::test]
async fn every_invalid_field_is_rejected_with_its_path_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    tier(&app, "Base", true).await;
    let c = customer(&app).await;
    let cases = [
        (json!({"name": "  "}), "input.name"),
        (json!({"email": "not-an-email"}), "input.email"),
        (json!({"phone": "555-1234"}), "input.phone"),
        (json!({"phone": "+1 555"}), "input.phone"),
        (json!({"country": "XX"}), "input.country"),
        (json!({"timezone": "America/Los_Angles"}), "input.timezone"),
        (json!({"accountType": "x".repeat(41)}), "input.accountType"),
        (json!({"description": "d".repeat(501)}), "input.description"),
        (json!({"creditLimit": "-1"}), "input.creditLimit"),
        (json!({"creditLimit": "lots"}), "input.creditLimit"),
        (json!({"creditLimit": "1.00001"}), "input.creditLimit"),
        (json!({"baseCpsLimit": 100_001}), "input.baseCpsLimit"),
        (
            json!({"baseConcurrentCallsLimit": -1}),
            "input.baseConcurrentCallsLimit",
        ),
        (json!({"purchasedCps": 100_001}), "input.purchasedCps"),
        (
            json!({"purchasedConcurrentCalls": -5}),
            "input.purchasedConcurrentCalls",
        ),
        (json!({"riskRating": 101}), "input.riskRating"),
        (json!({"riskRating": -1}), "input.riskRating"),
        (
            json!({"ipWhitelistRules": ["10.0.0.1", "300.0.0.1"]}),
            "input.ipWhitelistRules[1]",
        ),
        (
            json!({"ipWhitelistRules": ["10.0.0.0/8", "10.9.9.9/8"]}),
            "input.ipWhitelistRules[1]",
        ),
        (
            json!({"ipWhitelistRules": (0..101).map(|i| format!("10.0.0.{}", i % 250 + 1)).collect::<Vec<_>>()}),
            "input.ipWhitelistRules",
        ),
        (json!({"customerId": "nope"}), "input.customerId"),
        (json!({"pricingTierId": "nope"}), "input.pricingTierId"),
        (json!({"type": "SUB_ACCOUNT"}), "input.parentAccountId"),
        (
            json!({"parentAccountId": uuid::Uuid::now_v7().to_string()}),
            "input.parentAccountId",
        ),
        (
            json!({"autoRecharge": true, "autoRechargeConfig": {"threshold": "0", "amount": "5"}}),
            "input.autoRechargeConfig.threshold",
        ),
        (
            json!({"autoRecharge": true, "autoRechargeConfig": {"threshold": "5", "amount": "x"}}),
            "input.autoRechargeConfig.amount",
        ),
        (
            json!({"autoRechargeConfig": {"threshold": "5", "amount": "10"}}),
            "input.autoRechargeConfig",
        ),
        (
            json!({"postpaid": true, "autoRecharge": true}),
            "input.autoRecharge",
        ),
    ];
    for (overrides, field) in cases {
        let body = try_create(&app, &c, overrides.clone()).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{overrides}: {body}");
        assert_eq!(error_field(&body), field, "{overrides}: {body}");
    }
    assert!(all_ids(&app, &json!({}), 10).await.is_empty());
}

#[tokio::test]
async fn postpaid_decides_the_billing_model_and_auto_recharge_belongs_to_prepaid_accounts() {
    let app = TestApp::spawn().await;
    tier(&app, "Base", true).await;
    let c = customer(&app).await;
    let created = create(
        &app,
        &c,
        json!({"autoRecharge": true, "autoRechargeConfig": {"threshold": "10.50", "amount": "50"}}),
    )
    .await;
    let a = &created["account"];
    let id = id_of(a);
    assert_eq!(
        a["autoRechargeConfig"],
        json!({"threshold": "10.50", "amount": "50"})
    );

    // Turning autoRecharge off clears its settings.
    let off = update(&app, &id, json!({"autoRecharge": false})).await;
    assert_eq!(
        data(&off)["updateAccount"]["autoRechargeConfig"],
        Value::Null
    );
    // A config while autoRecharge is off is refused.
    let refused = update(
        &app,
        &id,
        json!({"autoRechargeConfig": {"threshold": "1", "amount": "2"}}),
    )
    .await;
    assert_eq!(error_field(&refused), "input.autoRechargeConfig");
    let on = update(
        &app,
        &id,
        json!({"autoRecharge": true, "autoRechargeConfig": {"threshold": "1", "amount": "2"}}),
    )
    .await;
    assert_eq!(
        data(&on)["updateAccount"]["autoRechargeConfig"]["amount"],
        "2"
    );

    // Switching to postpaid clears both and derives POSTPAID.
    let postpaid = update(&app, &id, json!({"postpaid": true, "creditLimit": "250"})).await;
    let p = &data(&postpaid)["updateAccount"];
    assert_eq!(p["billingModel"], "POSTPAID");
    assert_eq!(p["autoRecharge"], false);
    assert_eq!(p["autoRechargeConfig"], Value::Null);
    assert_eq!(p["creditLimit"], "250");
    for patch in [
        json!({"autoRecharge": true}),
        json!({"autoRechargeConfig": {"threshold": "1", "amount": "2"}}),
    ] {
        let body = update(&app, &id, patch.clone()).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{patch}");
    }
    // And back to prepaid.
    let prepaid = update(&app, &id, json!({"postpaid": false})).await;
    assert_eq!(data(&prepaid)["updateAccount"]["billingModel"], "PREPAID");
    let listed = all_ids(&app, &json!({"postpaid": false}), 10).await;
    assert_eq!(listed, vec![id]);
}

#[tokio::test]
async fn only_active_customers_get_accounts_and_terminated_ones_cannot_reenable_them() {
    let app = TestApp::spawn().await;
    let base = tier(&app, "Base", true).await;
    for status in ["INACTIVE", "SUSPENDED", "FRAUD"] {
        let c = customer(&app).await;
        set_status(&app, &c, status).await;
        let body = try_create(&app, &c, json!({})).await;
        assert_eq!(error_code(&body), "FAILED_PRECONDITION", "{status}: {body}");
    }
    let unknown = try_create(&app, &uuid::Uuid::now_v7().to_string(), json!({})).await;
    assert_eq!(error_code(&unknown), "NOT_FOUND");
    assert!(all_ids(&app, &json!({}), 10).await.is_empty());
    assert_eq!(
        account_count(&app, &base).await,
        0,
        "a refused create left a count"
    );

    let c = customer(&app).await;
    let a = create(&app, &c, json!({})).await["account"].clone();
    set_status(&app, &c, "SUSPENDED").await;
    let body = update(&app, &id_of(&a), json!({"isActive": false})).await;
    data(&body);
    let body = update(&app, &id_of(&a), json!({"isActive": true})).await;
    assert_eq!(error_code(&body), "FAILED_PRECONDITION", "{body}");
    set_status(&app, &c, "TERMINATED").await;
    let flagged = get(&app, &id_of(&a)).await;
    assert_eq!(
        (flagged["isActive"].clone(), flagged["enabled"].clone()),
        (json!(false), json!(false))
    );
    for patch in [json!({"enabled": true}), json!({"isActive": true})] {
        let body = update(&app, &id_of(&a), patch).await;
        assert_eq!(error_code(&body), "FAILED_PRECONDITION", "{body}");
    }
}

#[tokio::test]
async fn the_default_tier_is_used_when_none_is_named_and_inactive_tiers_are_refused() {
    let app = TestApp::spawn().await;
    let c = customer(&app).await;
    let none = try_create(&app, &c, json!({})).await;
    assert_eq!(
        error_code(&none),
        "FAILED_PRECONDITION",
        "no default tier yet: {none}"
    );

    let default_tier = tier(&app, "Default", true).await;
    let other = tier(&app, "Other", true).await;
    let inactive = tier(&app, "Dormant", false).await;
    let a = create(&app, &c, json!({})).await;
    assert_eq!(a["account"]["pricingTier"]["id"], default_tier);
    let b = create(&app, &c, json!({"pricingTierId": other})).await;
    assert_eq!(b["account"]["pricingTier"]["id"], other);

    let refused = try_create(&app, &c, json!({"pricingTierId": inactive})).await;
    assert_eq!(error_code(&refused), "BAD_USER_INPUT");
    assert_eq!(error_field(&refused), "input.pricingTierId");
    let unknown = try_create(
        &app,
        &c,
        json!({"pricingTierId": uuid::Uuid::now_v7().to_string()}),
    )
    .await;
    assert_eq!(error_field(&unknown), "input.pricingTierId");
    let moved = update(
        &app,
        &id_of(&a["account"]),
        json!({"pricingTierId": inactive}),
    )
    .await;
    assert_eq!(error_field(&moved), "input.pricingTierId");
    assert_eq!(account_count(&app, &default_tier).await, 1);
    assert_eq!(account_count(&app, &inactive).await, 0);
}

#[tokio::test]
async fn ten_concurrent_creates_on_one_tier_are_all_counted_and_tier_moves_keep_the_counts() {
    let app = TestApp::spawn().await;
    let a_tier = tier(&app, "A", true).await;
    let b_tier = tier(&app, "B", true).await;
    let c = customer(&app).await;
    let created: Vec<Value> = futures::future::join_all(
        (0..10).map(|_| create(&app, &c, json!({"pricingTierId": a_tier}))),
    )
    .await;
    assert_eq!(account_count(&app, &a_tier).await, 10);
    let refused = app
        .graphql(
            "mutation($id: ID!) { deletePricingTier(id: $id) }",
            json!({"id": a_tier}),
        )
        .await;
    assert_eq!(error_code(&refused), "FAILED_PRECONDITION");

    // Move four accounts concurrently; each move is detach + attach in one
    // transaction.
    let movers: Vec<String> = created[..4].iter().map(|p| id_of(&p["account"])).collect();
    let moved = futures::future::join_all(
        movers
            .iter()
            .map(|id| update(&app, id, json!({"pricingTierId": b_tier}))),
    )
    .await;
    for body in &moved {
        assert_eq!(data(body)["updateAccount"]["pricingTier"]["id"], b_tier);
    }
    assert_eq!(account_count(&app, &a_tier).await, 6);
    assert_eq!(account_count(&app, &b_tier).await, 4);
    let on_b = app
        .graphql(
            "query($id: ID!) { pricingTier(id: $id) { accounts(first: 100) { edges { node { id } } } } }",
            json!({"id": b_tier}),
        )
        .await;
    let on_b: HashSet<String> = data(&on_b)["pricingTier"]["accounts"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| id_of(&e["node"]))
        .collect();
    assert_eq!(on_b, movers.iter().cloned().collect());
    let mut on_a = all_ids(&app, &json!({"pricingTierId": a_tier}), 4).await;
    on_a.sort();
    let mut expected: Vec<String> = created[4..].iter().map(|p| id_of(&p["account"])).collect();
    expected.sort();
    assert_eq!(on_a, expected);

    // Deleting releases the tier's count.
    futures::future::join_all(
        movers
            .iter()
            .map(|id| app.graphql(DELETE, json!({"id": id}))),
    )
    .await;
    assert_eq!(account_count(&app, &b_tier).await, 0);
    let deleted = app
        .graphql(
            "mutation($id: ID!) { deletePricingTier(id: $id) }",
            json!({"id": b_tier}),
        )
        .await;
    assert_eq!(data(&deleted)["deletePricingTier"], b_tier);
}

#[tokio::test]
async fn sub_accounts_belong_to_a_master_of_the_same_customer_which_cannot_be_deleted_under_them() {
    let app = TestApp::spawn().await;
    tier(&app, "Base", true).await;
    let c = customer(&app).await;
    let other = customer(&app).await;
    let master = create(&app, &c, json!({})).await["account"].clone();
    let foreign_master = create(&app, &other, json!({})).await["account"].clone();
    let sub = create(
        &app,
        &c,
        json!({"type": "SUB_ACCOUNT", "parentAccountId": master["id"]}),
    )
    .await["account"]
        .clone();
    assert_eq!(sub["type"], "SUB_ACCOUNT");
    assert_eq!(sub["parentAccount"]["id"], master["id"]);

    for parent in [&foreign_master["id"], &sub["id"]] {
        let body = try_create(
            &app,
            &c,
            json!({"type": "SUB_ACCOUNT", "parentAccountId": parent}),
        )
        .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
        assert_eq!(error_field(&body), "input.parentAccountId");
    }
    let subs = app
        .graphql(
            "query($id: ID!) { account(id: $id) { subAccounts { edges { node { id } } } } }",
            json!({"id": master["id"]}),
        )
        .await;
    assert_eq!(
        data(&subs)["account"]["subAccounts"]["edges"],
        json!([{"node": {"id": sub["id"]}}])
    );
    let refused = app.graphql(DELETE, json!({"id": master["id"]})).await;
    assert_eq!(error_code(&refused), "FAILED_PRECONDITION");
    data(&app.graphql(DELETE, json!({"id": sub["id"]})).await);
    data(&app.graphql(DELETE, json!({"id": master["id"]})).await);

    // Racing a sub-account's creation against its master's deletion: either
    // the master survives with the sub-account under it, or the master is
    // gone and the sub-account was refused. Never an orphan.
    for _ in 0..5 {
        let master = create(&app, &c, json!({})).await["account"].clone();
        let (created, deleted) = tokio::join!(
            try_create(
                &app,
                &c,
                json!({"type": "SUB_ACCOUNT", "parentAccountId": master["id"]}),
            ),
            app.graphql(DELETE, json!({"id": master["id"]})),
        );
        let master_alive = get(&app, &id_of(&master)).await != Value::Null;
        let sub_made = created.get("errors").is_none();
        assert_eq!(
            master_alive, sub_made,
            "create: {created}\ndelete: {deleted}"
        );
        if sub_made {
            let sub = &created["data"]["createAccount"]["account"];
            data(&app.graphql(DELETE, json!({"id": sub["id"]})).await);
            data(&app.graphql(DELETE, json!({"id": master["id"]})).await);
        }
    }
}

#[tokio::test]
async fn auth_ids_are_unique_found_by_lookup_and_freed_by_deletion() {
    let app = TestApp::spawn().await;
    let base = tier(&app, "Base", true).await;
    let c = customer(&app).await;
    let created: Vec<Value> =
        futures::future::join_all((0..20).map(|_| create(&app, &c, json!({})))).await;
    let auth_ids: HashSet<String> = created
        .iter()
        .map(|p| p["account"]["authId"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(auth_ids.len(), 20);
    let lookup = "query($a: String!) { accountByAuthId(authId: $a) { id } }";
    for p in &created[..3] {
        let body = app
            .graphql(lookup, json!({"a": p["account"]["authId"]}))
            .await;
        assert_eq!(data(&body)["accountByAuthId"]["id"], p["account"]["id"]);
    }
    let junk = app.graphql(lookup, json!({"a": "MA_NOTAREALID"})).await;
    assert_eq!(data(&junk)["accountByAuthId"], Value::Null);

    let doomed = &created[0]["account"];
    data(&app.graphql(DELETE, json!({"id": doomed["id"]})).await);
    let gone = app.graphql(lookup, json!({"a": doomed["authId"]})).await;
    assert_eq!(data(&gone)["accountByAuthId"], Value::Null);
    let client = switchboard::store::client_from_env().await;
    let guard = client
        .get_item()
        .table_name(app.store.table_name())
        .key(
            "pk",
            AttributeValue::S(format!(
                "UNIQUE#ACCOUNT_AUTH_ID#{}",
                doomed["authId"].as_str().unwrap().to_lowercase()
            )),
        )
        .key("sk", AttributeValue::S("UNIQUE".into()))
        .consistent_read(true)
        .send()
        .await
        .unwrap();
    assert!(guard.item.is_none(), "the authId guard was not released");
    assert_eq!(account_count(&app, &base).await, 19);
    let again = app.graphql(DELETE, json!({"id": doomed["id"]})).await;
    assert_eq!(error_code(&again), "NOT_FOUND");
}

#[tokio::test]
async fn paging_with_filters_visits_every_match_once_with_full_pages() {
    let app = TestApp::spawn().await;
    let base = tier(&app, "Base", true).await;
    let gold = tier(&app, "Gold", true).await;
    let a = customer(&app).await;
    let b = customer(&app).await;
    let mut expected_postpaid = Vec::new();
    let mut expected_gold = Vec::new();
    let mut all = Vec::new();
    for i in 0..23 {
        let postpaid = i % 3 == 0;
        let on_gold = i % 2 == 0;
        let p = create(
            &app,
            &a,
            json!({"postpaid": postpaid, "name": format!("Zeta {i}"),
                   "pricingTierId": if on_gold { &gold } else { &base }}),
        )
        .await;
        let id = id_of(&p["account"]);
        if postpaid {
            expected_postpaid.push(id.clone());
        }
        if on_gold {
            expected_gold.push(id.clone());
        }
        all.push(id);
    }
    let b_account = create(&app, &b, json!({"postpaid": true, "name": "Omega"})).await;
    all.push(id_of(&b_account["account"]));

    let newest_first = |mut ids: Vec<String>| {
        ids.sort();
        ids.reverse();
        ids
    };
    assert_eq!(
        all_ids(&app, &json!({}), 5).await,
        newest_first(all.clone())
    );
    assert_eq!(
        all_ids(&app, &json!({"customerId": a, "postpaid": true}), 3).await,
        newest_first(expected_postpaid)
    );
    assert_eq!(
        all_ids(&app, &json!({"customerId": a, "pricingTierId": gold}), 4).await,
        newest_first(expected_gold.clone())
    );
    assert_eq!(
        all_ids(&app, &json!({"pricingTierId": gold}), 5).await,
        newest_first(expected_gold)
    );
    assert_eq!(all_ids(&app, &json!({"customerId": b}), 5).await.len(), 1);
    assert_eq!(all_ids(&app, &json!({"search": "omeg"}), 5).await.len(), 1);
    assert_eq!(
        all_ids(&app, &json!({"search": "ZETA 1"}), 4).await.len(),
        11
    );
    assert_eq!(
        all_ids(&app, &json!({"type": "SUB_ACCOUNT"}), 5)
            .await
            .len(),
        0
    );
    assert_eq!(
        all_ids(&app, &json!({"isActive": true, "customerId": a}), 7)
            .await
            .len(),
        23
    );
    let by_customer = app
        .graphql(
            "query($id: ID!) { customer(id: $id) { accounts(first: 100) { edges { node { id } } } } }",
            json!({"id": b}),
        )
        .await;
    assert_eq!(
        data(&by_customer)["customer"]["accounts"]["edges"][0]["node"]["id"],
        b_account["account"]["id"]
    );

    let bad = app
        .graphql(LIST, json!({"first": 5, "after": "garbage"}))
        .await;
    assert_eq!(error_field(&bad), "after");
    let short = app
        .graphql(LIST, json!({"first": 5, "filter": {"search": "z"}}))
        .await;
    assert_eq!(error_field(&short), "filter.search");
    let too_many = app.graphql(LIST, json!({"first": 101})).await;
    assert_eq!(error_field(&too_many), "first");
}

#[tokio::test]
async fn updates_patch_only_what_is_given_and_respect_the_expected_version() {
    let app = TestApp::spawn().await;
    tier(&app, "Base", true).await;
    let c = customer(&app).await;
    let a = create(
        &app,
        &c,
        json!({"description": "first", "city": "Lisbon", "carrierType": "VOIP"}),
    )
    .await["account"]
        .clone();
    let id = id_of(&a);
    let patched = update(&app, &id, json!({"description": null, "name": "Renamed"})).await;
    let p = &data(&patched)["updateAccount"];
    assert_eq!(p["description"], Value::Null);
    assert_eq!(p["name"], "Renamed");
    assert_eq!(p["city"], "Lisbon");
    assert_eq!(p["carrierType"], "VOIP");
    assert_eq!(p["version"], 2);
    assert_eq!(p["authId"], a["authId"]);

    let unchanged = update(&app, &id, json!({"name": "Renamed"})).await;
    assert_eq!(data(&unchanged)["updateAccount"]["version"], 2);
    let null_name = update(&app, &id, json!({"name": null})).await;
    assert_eq!(error_field(&null_name), "input.name");
    let stale = app
        .graphql(
            &update_mutation(),
            json!({"id": id, "input": {"city": "Porto"}, "v": 1}),
        )
        .await;
    assert_eq!(error_code(&stale), "CONFLICT");
    assert_eq!(error_field(&stale), "expectedVersion");
    let current = app
        .graphql(
            &update_mutation(),
            json!({"id": id, "input": {"city": "Porto"}, "v": 2}),
        )
        .await;
    assert_eq!(data(&current)["updateAccount"]["city"], "Porto");
    let unknown = update(
        &app,
        &uuid::Uuid::now_v7().to_string(),
        json!({"city": "x"}),
    )
    .await;
    assert_eq!(error_code(&unknown), "NOT_FOUND");
}

#[tokio::test]
async fn terminating_a_customer_flags_all_sixty_of_its_accounts() {
    let app = TestApp::spawn().await;
    tier(&app, "Base", true).await;
    let c = customer(&app).await;
    let bystander = customer(&app).await;
    let other = create(&app, &bystander, json!({})).await["account"].clone();
    for _ in 0..6 {
        futures::future::join_all((0..10).map(|_| create(&app, &c, json!({})))).await;
    }
    assert_eq!(
        all_ids(&app, &json!({"customerId": c, "isActive": true}), 100)
            .await
            .len(),
        60
    );
    set_status(&app, &c, "TERMINATED").await;
    let page = app
        .graphql(
            "query($f: AccountFilterInput) { accounts(first: 100, filter: $f) { edges { node { isActive enabled } } } }",
            json!({"f": {"customerId": c}}),
        )
        .await;
    let edges = data(&page)["accounts"]["edges"].as_array().unwrap().clone();
    assert_eq!(edges.len(), 60);
    for edge in edges {
        assert_eq!(edge["node"], json!({"isActive": false, "enabled": false}));
    }
    assert!(
        all_ids(&app, &json!({"customerId": c, "isActive": true}), 100)
            .await
            .is_empty()
    );
    assert_eq!(get(&app, &id_of(&other)).await["isActive"], true);
}

#[tokio::test]
async fn a_user_outside_the_customer_sees_no_accounts_and_admin_operations_stay_admin_only() {
    let app = TestApp::spawn().await;
    tier(&app, "Base", true).await;
    let c = customer(&app).await;
    let created = create(&app, &c, json!({})).await;
    let id = id_of(&created["account"]);
    let auth_id = created["account"]["authId"].clone();
    // The account's customer is hidden: it reads as not there at all.
    for (query, variables, code) in [
        (create_mutation(), json!({"input": input(&c, &json!({}))}), "NOT_FOUND"),
        (update_mutation(), json!({"id": id, "input": {"name": "x"}}), "NOT_FOUND"),
        (
            "mutation($id: ID!) { rotateAccountAuthSecret(id: $id) { authSecret } }".to_owned(),
            json!({"id": id}),
            "NOT_FOUND",
        ),
        // Platform operations stay with admins.
        (DELETE.to_owned(), json!({"id": id}), "FORBIDDEN"),
        (
            "mutation($a: String!) { verifyAccountCredentials(authId: $a, authSecret: \"x\") { id } }"
                .to_owned(),
            json!({"a": auth_id}),
            "FORBIDDEN",
        ),
        (
            "{ pricingTiers { edges { node { accounts { edges { node { id } } } } } } }".to_owned(),
            json!({}),
            "FORBIDDEN",
        ),
        // Without a customer to list, a user lists nothing.
        (LIST.to_owned(), json!({"first": 5}), "BAD_USER_INPUT"),
    ] {
        let body = app.graphql_as_user(&query, variables).await;
        assert_eq!(error_code(&body), code, "{query}: {body}");
    }
    for (query, variables, field) in [
        (
            "query($id: ID!) { account(id: $id) { id } }",
            json!({"id": id}),
            "account",
        ),
        (
            "query($a: String!) { accountByAuthId(authId: $a) { id } }",
            json!({"a": auth_id}),
            "accountByAuthId",
        ),
    ] {
        let body = app.graphql_as_user(query, variables).await;
        assert_eq!(data(&body)[field], Value::Null, "{query}: {body}");
    }
    assert_eq!(get(&app, &id).await["name"], "Acme Voice");
}

#[tokio::test]
async fn concurrent_patches_of_different_fields_all_survive() {
    let app = TestApp::spawn().await;
    tier(&app, "Base", true).await;
    let c = customer(&app).await;
    let id = id_of(&create(&app, &c, json!({})).await["account"]);
    let patches = [
        json!({"city": "Lisbon"}),
        json!({"purchasedCps": 3}),
        json!({"riskRating": 40}),
        json!({"description": "busy"}),
        json!({"features": {"callQueue": true}}),
    ];
    let results =
        futures::future::join_all(patches.iter().map(|p| update(&app, &id, p.clone()))).await;
    for body in &results {
        data(body);
    }
    let a = get(&app, &id).await;
    assert_eq!(a["city"], "Lisbon");
    assert_eq!(a["cpsLimit"], 8);
    assert_eq!(a["riskRating"], 40);
    assert_eq!(a["description"], "busy");
    assert_eq!(a["features"]["callQueue"], true);
    assert_eq!(a["version"], 6);
}

#[tokio::test]
async fn deleting_a_terminated_customer_removes_its_accounts_and_frees_their_auth_ids() {
    let app = TestApp::spawn().await;
    tier(&app, "Base", true).await;
    let c = customer(&app).await;
    let master = create(&app, &c, json!({})).await["account"].clone();
    let sub = create(
        &app,
        &c,
        json!({"type": "SUB_ACCOUNT", "parentAccountId": master["id"]}),
    )
    .await["account"]
        .clone();
    set_status(&app, &c, "TERMINATED").await;
    let deleted = app
        .graphql(
            "mutation($id: ID!) { deleteCustomer(id: $id) }",
            json!({"id": c}),
        )
        .await;
    data(&deleted);
    for account in [&master, &sub] {
        assert_eq!(get(&app, &id_of(account)).await, Value::Null);
        let by_auth = app
            .graphql(
                "query($a: String!) { accountByAuthId(authId: $a) { id } }",
                json!({"a": account["authId"]}),
            )
            .await;
        assert_eq!(data(&by_auth)["accountByAuthId"], Value::Null);
    }
    assert!(all_ids(&app, &json!({}), 10).await.is_empty());
}
