//! Customers end to end: the profile rules, defaults, owner, uniqueness
//! under concurrency, status rules and safe deletion.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use aws_sdk_dynamodb::types::AttributeValue;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use serde_json::{Value, json};
use switchboard::domain::user::NewUser;
use switchboard::store::Store;

use crate::helpers::{TestApp, data, error_code, error_field};

const FIELDS: &str = "id customerType firstName lastName email companyName country currency language
    status statusReason externalId tenantId customerKey customerPrefix hostname subdomain delinquent
    websiteUrl logo credit automaticRefillAmount lowBalanceAlertAmount lowBalanceAlertAt
    lowBalanceAlertCount defaultBillMethod internationalCalling mediaBypass accountLock callRecording
    cnamLookUps holdMusic transcribeCalls callDebug cdrRetention maxOutboundCallRate
    callForwardingCallLimit adminUser { id } billingUser { id } callRecordingUser { id } supportUser { id }
    addresses { addressType default country state postalCode city addressLine1 addressLine2 poBox buildingNumber complement }
    telephones { telephoneType default number extension }
    legalDocuments { type country value issuedDate }
    allowedDomainsOrigins allowedDomainsRegistration settings metadata
    owner { id email firstName lastName } createdAt updatedAt version";

fn create_mutation() -> String {
    format!(
        "mutation($input: CreateCustomerInput!) {{ createCustomer(input: $input) {{ {FIELDS} }} }}"
    )
}

fn update_mutation() -> String {
    format!(
        "mutation($id: ID!, $input: UpdateCustomerInput!, $v: Int) {{ updateCustomer(id: $id, input: $input, expectedVersion: $v) {{ {FIELDS} }} }}"
    )
}

const SET_STATUS: &str = "mutation($id: ID!, $status: CustomerStatus!, $reason: String) {
    setCustomerStatus(id: $id, status: $status, reason: $reason) { id status statusReason version } }";
pub(crate) const DELETE: &str = "mutation($id: ID!) { deleteCustomer(id: $id) }";

pub(crate) fn unique_email(tag: &str) -> String {
    format!("{tag}-{}@example.com", uuid::Uuid::now_v7().simple())
}

/// A valid business customer input, with `overrides` merged in.
pub(crate) fn input(overrides: &Value) -> Value {
    let mut base = json!({
        "customerType": "BUSINESS",
        "firstName": "Ada",
        "lastName": "Lovelace",
        "email": unique_email("ada"),
        "password": "correct horse battery",
        "companyName": "Analytical Engines",
        "country": "GB",
        "currency": "GBP",
    });
    for (k, v) in overrides.as_object().unwrap() {
        base[k] = v.clone();
    }
    base
}

pub(crate) async fn try_create(app: &TestApp, overrides: Value) -> Value {
    app.graphql(&create_mutation(), json!({ "input": input(&overrides) }))
        .await
}

pub(crate) async fn create(app: &TestApp, overrides: Value) -> Value {
    let body = try_create(app, overrides).await;
    data(&body)["createCustomer"].clone()
}

pub(crate) async fn get(app: &TestApp, id: &str) -> Value {
    let body = app
        .graphql(
            &format!("query($id: ID!) {{ customer(id: $id) {{ {FIELDS} }} }}"),
            json!({ "id": id }),
        )
        .await;
    data(&body)["customer"].clone()
}

pub(crate) async fn update(app: &TestApp, id: &str, patch: Value) -> Value {
    app.graphql(&update_mutation(), json!({"id": id, "input": patch}))
        .await
}

pub(crate) async fn set_status(app: &TestApp, id: &str, status: &str) -> Value {
    app.graphql(
        SET_STATUS,
        json!({"id": id, "status": status, "reason": "test"}),
    )
    .await
}

pub(crate) fn id_of(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

async fn list(app: &TestApp, filter: Value, first: i32) -> Vec<Value> {
    let body = app
        .graphql(
            "query($f: CustomerFilterInput, $first: Int) { customers(first: $first, filter: $f) { edges { node { id email status } } } }",
            json!({"f": filter, "first": first}),
        )
        .await;
    data(&body)["customers"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

#[tokio::test]
async fn a_minimal_customer_gets_every_default_and_an_owner() {
    let app = TestApp::spawn().await;
    let c = create(&app, json!({})).await;
    let expected = json!({
        "status": "ACTIVE", "delinquent": false, "credit": "0", "automaticRefillAmount": "0",
        "lowBalanceAlertAmount": "0", "defaultBillMethod": "CREDIT", "internationalCalling": false,
        "mediaBypass": false, "accountLock": true, "callRecording": false, "cnamLookUps": false,
        "holdMusic": false, "transcribeCalls": false, "callDebug": false, "cdrRetention": 12,
        "maxOutboundCallRate": 1, "callForwardingCallLimit": null, "lowBalanceAlertAt": null,
        "lowBalanceAlertCount": 0, "settings": {}, "metadata": {}, "addresses": [], "telephones": [],
        "legalDocuments": [], "allowedDomainsOrigins": [], "allowedDomainsRegistration": [],
        "language": null, "hostname": null, "adminUser": null, "version": 1,
        "subdomain": "analytical-engines",
    });
    for (key, value) in expected.as_object().unwrap() {
        assert_eq!(&c[key], value, "{key}");
    }
    assert_eq!(c["customerKey"].as_str().unwrap().len(), 10);
    assert_eq!(c["owner"]["email"], c["email"]);
    assert_eq!(c["owner"]["firstName"], "Ada");
    assert!(
        !c.to_string().contains("correct horse battery"),
        "the password came back"
    );
    assert_eq!(get(&app, &id_of(&c)).await, c);
}

#[tokio::test]
async fn the_full_profile_is_stored_and_normalised() {
    let app = TestApp::spawn().await;
    let c = create(
        &app,
        json!({
            "language": "pt-BR", "status": "INACTIVE", "externalId": "crm-1", "tenantId": "t-9",
            "customerPrefix": "AE", "hostname": "Calls.Example.COM", "subdomain": "Analytical",
            "delinquent": true, "websiteUrl": "https://example.com", "logo": "https://example.com/logo.png",
            "credit": "150.25", "automaticRefillAmount": 20, "lowBalanceAlertAmount": "5.5",
            "defaultBillMethod": "PAYMENT_METHOD", "internationalCalling": true, "callRecording": true,
            "cdrRetention": 24, "maxOutboundCallRate": 10, "callForwardingCallLimit": 3,
            "addresses": [{"addressType": "POSTAL", "default": true, "country": "gb", "city": "London",
                           "addressLine1": "1 Engine St", "postalCode": "N1 9GU"},
                          {"addressType": "BILLING", "default": true, "country": "GB", "poBox": "PO Box 7"}],
            "telephones": [{"telephoneType": "MOBILE", "default": true, "number": "+44 7911 123456", "extension": "12"}],
            "legalDocuments": [{"type": "EU_VAT", "country": "AT", "value": "ATU12345678", "issuedDate": "2020-01-31"},
                               {"type": "BR_CPF", "country": "BR", "value": "123.456.789-87"},
                               {"type": "BR_CNPJ", "country": "BR", "value": "01.234.456/5432-10"},
                               {"type": "OTHER", "country": "US", "value": "MSA-2024-7"}],
            "allowedDomainsOrigins": ["https://app.example.com", "example.org:8443"],
            "allowedDomainsRegistration": ["Example.com"],
            "settings": {"notASetting": true},
            "metadata": {"external_billing_id": "123", "score": 4.5, "crm": {"id": "456"}, "tags": ["a", "b"]},
        }),
    )
    .await;
    assert_eq!(c["language"], "pt-BR");
    assert_eq!(c["status"], "INACTIVE");
    assert_eq!(c["hostname"], "calls.example.com");
    assert_eq!(c["subdomain"], "analytical");
    assert_eq!(c["credit"], "150.25");
    assert_eq!(c["automaticRefillAmount"], "20");
    assert_eq!(c["defaultBillMethod"], "PAYMENT_METHOD");
    assert_eq!(c["callForwardingCallLimit"], 3);
    assert_eq!(c["addresses"][0]["country"], "GB");
    assert_eq!(c["telephones"][0]["number"], "+447911123456");
    assert_eq!(c["legalDocuments"][0]["issuedDate"], "2020-01-31");
    assert_eq!(
        c["allowedDomainsOrigins"],
        json!(["https://app.example.com", "example.org:8443"])
    );
    assert_eq!(c["allowedDomainsRegistration"], json!(["example.com"]));
    assert_eq!(c["settings"], json!({}), "unknown settings are dropped");
    assert_eq!(c["metadata"]["crm"], json!({"id": "456"}));
    assert_eq!(c["metadata"]["score"], 4.5);
    assert_eq!(get(&app, &id_of(&c)).await, c);
}

#[tokio::test]
#[expect(clippy::too_many_lines, reason = "one line per validation rule")]
async fn every_rule_rejects_its_bad_value_naming_the_field_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let member = uuid::Uuid::now_v7().to_string();
    let long = |n: usize| json!("x".repeat(n));
    let many_keys: serde_json::Map<String, Value> =
        (0..51).map(|i| (format!("k{i}"), json!(i))).collect();
    let address = |country: &str, default: bool| json!({"addressType": "POSTAL", "default": default, "country": country});
    let cases: Vec<(Value, &str)> = vec![
        (json!({"firstName": ""}), "input.firstName"),
        (json!({"lastName": long(101)}), "input.lastName"),
        (json!({"email": "not-an-email"}), "input.email"),
        (json!({"companyName": null}), "input.companyName"),
        (json!({"country": "XX"}), "input.country"),
        (json!({"currency": "ABC"}), "input.currency"),
        (json!({"language": "english!"}), "input.language"),
        (json!({"status": "SUSPENDED"}), "input.status"),
        (json!({"password": "too-short"}), "input.password"),
        (json!({"externalId": long(101)}), "input.externalId"),
        (json!({"tenantId": long(101)}), "input.tenantId"),
        (
            json!({"customerPrefix": "prefix-too-long"}),
            "input.customerPrefix",
        ),
        (json!({"hostname": "localhost"}), "input.hostname"),
        (json!({"subdomain": "-bad"}), "input.subdomain"),
        (
            json!({"websiteUrl": "ftp://example.com"}),
            "input.websiteUrl",
        ),
        (json!({"logo": "not a url"}), "input.logo"),
        (json!({"credit": "-1"}), "input.credit"),
        (json!({"credit": "2147483648"}), "input.credit"),
        (
            json!({"automaticRefillAmount": "abc"}),
            "input.automaticRefillAmount",
        ),
        (
            json!({"lowBalanceAlertAmount": "0.00001"}),
            "input.lowBalanceAlertAmount",
        ),
        (json!({"cdrRetention": 0}), "input.cdrRetention"),
        (
            json!({"maxOutboundCallRate": 0}),
            "input.maxOutboundCallRate",
        ),
        (
            json!({"callForwardingCallLimit": -1}),
            "input.callForwardingCallLimit",
        ),
        (json!({"adminUser": "not-an-id"}), "input.adminUser"),
        (json!({"supportUser": member}), "input.supportUser"),
        (
            json!({"addresses": [address("ZZ", false)]}),
            "input.addresses[0].country",
        ),
        (
            json!({"addresses": [address("GB", true), address("GB", true)]}),
            "input.addresses[1].default",
        ),
        (
            json!({"addresses": vec![address("GB", false); 21]}),
            "input.addresses",
        ),
        (
            json!({"telephones": [{"telephoneType": "MOBILE", "number": "12345"}]}),
            "input.telephones[0].number",
        ),
        (
            json!({"telephones": [{"telephoneType": "MOBILE", "number": "+14155551234", "extension": "ext"}]}),
            "input.telephones[0].extension",
        ),
        (
            json!({"legalDocuments": [{"type": "EU_VAT", "country": "AT", "value": "AT1234"}]}),
            "input.legalDocuments[0].value",
        ),
        (
            json!({"legalDocuments": [{"type": "EU_VAT", "country": "DE", "value": "ATU12345678"}]}),
            "input.legalDocuments[0].country",
        ),
        (
            json!({"legalDocuments": [{"type": "BR_CPF", "country": "BR", "value": "123.456.789"}]}),
            "input.legalDocuments[0].value",
        ),
        (
            json!({"legalDocuments": [{"type": "BR_CNPJ", "country": "BR", "value": "01234456543210000"}]}),
            "input.legalDocuments[0].value",
        ),
        (
            json!({"legalDocuments": [{"type": "OTHER", "country": "US", "value": "x", "issuedDate": "2021-13-01"}]}),
            "input.legalDocuments[0].issuedDate",
        ),
        (
            json!({"allowedDomainsOrigins": ["https://example.com/path"]}),
            "input.allowedDomainsOrigins[0]",
        ),
        (
            json!({"allowedDomainsRegistration": ["ok.com", "not a domain"]}),
            "input.allowedDomainsRegistration[1]",
        ),
        (json!({"metadata": "just text"}), "input.metadata"),
        (
            json!({"metadata": Value::Object(many_keys)}),
            "input.metadata",
        ),
        (
            json!({"metadata": {"k".repeat(41): 1}}),
            &*Box::leak(format!("input.metadata.{}", "k".repeat(41)).into_boxed_str()),
        ),
        (
            json!({"metadata": {"note": "x".repeat(501)}}),
            "input.metadata.note",
        ),
        (
            json!({"metadata": {"crm": {"a": {"b": 1}}}}),
            "input.metadata.crm.a",
        ),
        (json!({"settings": [1, 2]}), "input.settings"),
    ];
    for (overrides, field) in cases {
        let body = try_create(&app, overrides.clone()).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{overrides}: {body}");
        assert_eq!(error_field(&body), field, "{overrides}");
    }
    assert!(
        list(&app, json!({}), 100).await.is_empty(),
        "a rejected customer was written"
    );
}

#[tokio::test]
async fn personal_customers_need_no_company_and_get_a_subdomain_from_their_names() {
    let app = TestApp::spawn().await;
    let c = create(
        &app,
        json!({"customerType": "PERSONAL", "companyName": null, "firstName": "José", "lastName": "Núñez"}),
    )
    .await;
    assert_eq!(c["subdomain"], "jose-nunez");
}

#[tokio::test]
async fn an_existing_user_with_the_email_becomes_the_owner_with_the_password_untouched() {
    let app = TestApp::spawn().await;
    let email = unique_email("owner");
    let existing = app
        .store
        .users()
        .create(&NewUser {
            email: email.clone(),
            first_name: "Grace".into(),
            last_name: "Hopper".into(),
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$existing".into(),
        })
        .await
        .unwrap();
    let c = create(&app, json!({"email": email.to_uppercase()})).await;
    assert_eq!(c["owner"]["id"], json!(existing.id.to_string()));
    assert_eq!(c["owner"]["firstName"], "Grace");
    let hash = app
        .store
        .users()
        .password_hash(existing.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(hash, "$argon2id$v=19$m=19456,t=2,p=1$existing");
}

#[tokio::test]
async fn a_new_owner_gets_an_argon2id_hash_never_the_password() {
    let app = TestApp::spawn().await;
    let c = create(&app, json!({})).await;
    let owner = uuid::Uuid::parse_str(c["owner"]["id"].as_str().unwrap()).unwrap();
    let hash = app
        .store
        .users()
        .password_hash(owner)
        .await
        .unwrap()
        .unwrap();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(switchboard::domain::password::verify(
        "correct horse battery",
        &hash
    ));
    assert!(!hash.contains("correct horse battery"));
}

#[tokio::test]
async fn lookups_by_email_and_key_are_case_insensitive_for_email() {
    let app = TestApp::spawn().await;
    let c = create(&app, json!({})).await;
    let body = app
        .graphql(
            "query($e: String!, $k: String!) { byEmail: customerByEmail(email: $e) { id } byKey: customerByKey(customerKey: $k) { id } none: customerByEmail(email: \"nobody@example.com\") { id } }",
            json!({"e": c["email"].as_str().unwrap().to_uppercase(), "k": c["customerKey"]}),
        )
        .await;
    let d = data(&body);
    assert_eq!(d["byEmail"]["id"], c["id"]);
    assert_eq!(d["byKey"]["id"], c["id"]);
    assert_eq!(d["none"], Value::Null);
}

#[tokio::test]
async fn the_customer_key_cannot_be_set_by_clients() {
    let app = TestApp::spawn().await;
    let body = try_create(&app, json!({"customerKey": "mine"})).await;
    assert_eq!(error_code(&body), "GRAPHQL_VALIDATION_FAILED");
    let c = create(&app, json!({})).await;
    let body = update(&app, &id_of(&c), json!({"customerKey": "mine"})).await;
    assert_eq!(error_code(&body), "GRAPHQL_VALIDATION_FAILED");
}

fn exactly_one_winner(results: &[Value], field: &str) {
    let winners = results.iter().filter(|b| b.get("errors").is_none()).count();
    assert_eq!(winners, 1, "{results:?}");
    for loser in results.iter().filter(|b| b.get("errors").is_some()) {
        assert_eq!(error_code(loser), "CONFLICT", "{loser}");
        assert_eq!(error_field(loser), field);
    }
}

#[tokio::test]
async fn concurrent_creates_with_one_email_subdomain_or_hostname_have_exactly_one_winner() {
    let app = TestApp::spawn().await;
    let email = unique_email("race");
    let by_email: Vec<Value> = futures::future::join_all((0..8).map(|i| {
        try_create(
            &app,
            json!({"email": if i % 2 == 0 { email.clone() } else { email.to_uppercase() }}),
        )
    }))
    .await;
    exactly_one_winner(&by_email, "input.email");
    let by_subdomain: Vec<Value> = futures::future::join_all(
        (0..8).map(|_| try_create(&app, json!({"subdomain": "contested"}))),
    )
    .await;
    exactly_one_winner(&by_subdomain, "input.subdomain");
    let by_hostname: Vec<Value> = futures::future::join_all(
        (0..8).map(|_| try_create(&app, json!({"hostname": "contested.example.com"}))),
    )
    .await;
    exactly_one_winner(&by_hostname, "input.hostname");
    assert_eq!(list(&app, json!({}), 100).await.len(), 3);
}

#[tokio::test]
async fn generated_subdomains_get_a_suffix_on_collision() {
    let app = TestApp::spawn().await;
    let created: Vec<Value> = futures::future::join_all(
        (0..6).map(|_| create(&app, json!({"companyName": "Same Name Inc"}))),
    )
    .await;
    let subdomains: HashSet<String> = created
        .iter()
        .map(|c| c["subdomain"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(subdomains.len(), 6, "{subdomains:?}");
    assert!(subdomains.contains("same-name-inc"));
    assert!(subdomains.iter().all(|s| s.starts_with("same-name-inc")));
}

#[tokio::test]
async fn concurrent_updates_to_one_unique_value_have_exactly_one_winner_and_old_values_are_freed() {
    let app = TestApp::spawn().await;
    let mut ids = Vec::new();
    for _ in 0..6 {
        ids.push(id_of(&create(&app, json!({})).await));
    }
    let contested_email = unique_email("contested");
    for (field, value, moved) in [
        (
            "hostname",
            json!("shared.example.com"),
            json!("other.example.com"),
        ),
        (
            "email",
            json!(contested_email),
            json!(unique_email("moved")),
        ),
        ("subdomain", json!("shared-sub"), json!("other-sub")),
    ] {
        let results: Vec<Value> = futures::future::join_all(
            ids.iter()
                .map(|id| update(&app, id, json!({ field: value }))),
        )
        .await;
        exactly_one_winner(&results, &format!("input.{field}"));
        let winner = results.iter().find(|b| b.get("errors").is_none()).unwrap();
        let winner_id = winner["data"]["updateCustomer"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        // Moving the winner to another value frees the contested one.
        data(&update(&app, &winner_id, json!({ field: moved })).await);
        let loser = ids.iter().find(|id| **id != winner_id).unwrap();
        let taken = update(&app, loser, json!({ field: value })).await;
        assert_eq!(data(&taken)["updateCustomer"][field], value, "{field}");
    }
}

#[tokio::test]
async fn changing_the_email_frees_the_old_one() {
    let app = TestApp::spawn().await;
    let c = create(&app, json!({})).await;
    let old = c["email"].as_str().unwrap().to_owned();
    let new = unique_email("moved");
    let body = update(&app, &id_of(&c), json!({"email": new})).await;
    assert_eq!(data(&body)["updateCustomer"]["email"], json!(new));
    // The old address can be used again (its owner user is reused).
    let again = create(&app, json!({"email": old})).await;
    assert_eq!(again["owner"]["id"], c["owner"]["id"]);
    let clash = update(&app, &id_of(&again), json!({"email": new.to_uppercase()})).await;
    assert_eq!(error_field(&clash), "input.email");
}

#[tokio::test]
async fn a_patch_changes_only_its_fields_and_null_clears() {
    let app = TestApp::spawn().await;
    let c = create(
        &app,
        json!({"language": "en", "externalId": "x-1", "metadata": {"a": 1},
                                "addresses": [{"addressType": "POSTAL", "country": "GB"}]}),
    )
    .await;
    let body = update(
        &app,
        &id_of(&c),
        json!({"language": null, "credit": "10.50", "metadata": {"b": 2}, "addresses": null, "callDebug": true}),
    )
    .await;
    let u = &data(&body)["updateCustomer"];
    assert_eq!(u["language"], Value::Null);
    assert_eq!(u["externalId"], "x-1");
    assert_eq!(u["credit"], "10.50");
    assert_eq!(u["metadata"], json!({"b": 2}), "metadata is replaced whole");
    assert_eq!(u["addresses"], json!([]));
    assert_eq!(u["callDebug"], true);
    assert_eq!(u["version"], 2);
    let refused = update(&app, &id_of(&c), json!({"email": null})).await;
    assert_eq!(error_field(&refused), "input.email");
    let business_without_company = update(&app, &id_of(&c), json!({"companyName": null})).await;
    assert_eq!(error_field(&business_without_company), "input.companyName");
    let personal = update(
        &app,
        &id_of(&c),
        json!({"customerType": "PERSONAL", "companyName": null}),
    )
    .await;
    assert_eq!(
        data(&personal)["updateCustomer"]["companyName"],
        Value::Null
    );
    let invalid = update(
        &app,
        &id_of(&c),
        json!({"telephones": [{"telephoneType": "MOBILE", "number": "1"}]}),
    )
    .await;
    assert_eq!(error_field(&invalid), "input.telephones[0].number");
    assert_eq!(get(&app, &id_of(&c)).await["version"], 3);
}

#[tokio::test]
async fn a_stale_expected_version_is_a_conflict() {
    let app = TestApp::spawn().await;
    let c = create(&app, json!({})).await;
    let v2 = app
        .graphql(
            &update_mutation(),
            json!({"id": id_of(&c), "input": {"credit": "1"}, "v": 1}),
        )
        .await;
    assert_eq!(data(&v2)["updateCustomer"]["version"], 2);
    let stale = app
        .graphql(
            &update_mutation(),
            json!({"id": id_of(&c), "input": {"credit": "2"}, "v": 1}),
        )
        .await;
    assert_eq!(error_code(&stale), "CONFLICT");
    assert_eq!(error_field(&stale), "expectedVersion");
    assert_eq!(get(&app, &id_of(&c)).await["credit"], "1");
}

#[tokio::test]
async fn concurrent_patches_of_different_fields_all_survive() {
    let app = TestApp::spawn().await;
    let c = create(&app, json!({})).await;
    let id = id_of(&c);
    let patches = [
        json!({"credit": "7"}),
        json!({"holdMusic": true}),
        json!({"externalId": "ext"}),
        json!({"metadata": {"k": "v"}}),
        json!({"firstName": "Augusta"}),
    ];
    let results =
        futures::future::join_all(patches.iter().map(|p| update(&app, &id, p.clone()))).await;
    for body in &results {
        data(body);
    }
    let stored = get(&app, &id).await;
    assert_eq!(stored["credit"], "7");
    assert_eq!(stored["holdMusic"], true);
    assert_eq!(stored["externalId"], "ext");
    assert_eq!(stored["metadata"], json!({"k": "v"}));
    assert_eq!(stored["firstName"], "Augusta");
    assert_eq!(stored["version"], 6);
}

#[tokio::test]
async fn role_users_must_be_users_of_the_customer() {
    let app = TestApp::spawn().await;
    let c = create(&app, json!({})).await;
    let owner = c["owner"]["id"].clone();
    let set = update(
        &app,
        &id_of(&c),
        json!({"adminUser": owner, "billingUser": owner}),
    )
    .await;
    assert_eq!(data(&set)["updateCustomer"]["adminUser"]["id"], owner);
    let stranger = app
        .store
        .users()
        .create(&NewUser {
            email: unique_email("stranger"),
            first_name: "S".into(),
            last_name: "T".into(),
            password_hash: "x".into(),
        })
        .await
        .unwrap();
    let refused = update(
        &app,
        &id_of(&c),
        json!({"supportUser": stranger.id.to_string()}),
    )
    .await;
    assert_eq!(error_code(&refused), "BAD_USER_INPUT");
    assert_eq!(error_field(&refused), "input.supportUser");
    let customer_id = uuid::Uuid::parse_str(&id_of(&c)).unwrap();
    app.store
        .memberships()
        .add(customer_id, stranger.id)
        .await
        .unwrap();
    let allowed = update(
        &app,
        &id_of(&c),
        json!({"supportUser": stranger.id.to_string()}),
    )
    .await;
    assert_eq!(
        data(&allowed)["updateCustomer"]["supportUser"]["id"],
        json!(stranger.id.to_string())
    );
    let users = app
        .graphql(
            "query($id: ID!) { customer(id: $id) { users { edges { node { user { id } } } } } }",
            json!({"id": id_of(&c)}),
        )
        .await;
    assert_eq!(
        data(&users)["customer"]["users"]["edges"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let at_creation = try_create(&app, json!({"adminUser": stranger.id.to_string()})).await;
    assert_eq!(error_field(&at_creation), "input.adminUser");
}

#[tokio::test]
async fn listing_is_newest_first_paged_and_filtered() {
    let app = TestApp::spawn().await;
    let a = create(&app, json!({"country": "BR", "companyName": "Alpha"})).await;
    let b = create(
        &app,
        json!({"customerType": "PERSONAL", "companyName": null, "country": "BR"}),
    )
    .await;
    let c = create(&app, json!({"country": "GB", "status": "INACTIVE"})).await;
    let ids = |items: Vec<Value>| items.iter().map(id_of).collect::<Vec<_>>();
    assert_eq!(
        ids(list(&app, json!({}), 10).await),
        [id_of(&c), id_of(&b), id_of(&a)]
    );
    assert_eq!(
        ids(list(&app, json!({"country": "br"}), 10).await),
        [id_of(&b), id_of(&a)]
    );
    assert_eq!(
        ids(list(&app, json!({"customerType": "PERSONAL"}), 10).await),
        [id_of(&b)]
    );
    assert_eq!(
        ids(list(&app, json!({"status": "INACTIVE"}), 10).await),
        [id_of(&c)]
    );
    assert_eq!(
        ids(list(
            &app,
            json!({"status": "ACTIVE", "country": "BR", "customerType": "BUSINESS"}),
            10
        )
        .await),
        [id_of(&a)]
    );
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let body = app
            .graphql(
                "query($after: String) { customers(first: 2, after: $after) { edges { node { id } } pageInfo { hasNextPage endCursor } } }",
                json!({"after": after}),
            )
            .await;
        let conn = &data(&body)["customers"];
        seen.extend(
            conn["edges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| id_of(&e["node"])),
        );
        if conn["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = conn["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(seen, [id_of(&c), id_of(&b), id_of(&a)]);
    let bad_country = app
        .graphql(
            "{ customers(filter: {country: \"XX\"}) { edges { cursor } } }",
            json!({}),
        )
        .await;
    assert_eq!(error_field(&bad_country), "filter.country");
}

#[tokio::test]
async fn search_matches_prefixes_of_email_company_and_names() {
    let app = TestApp::spawn().await;
    let grace = create(
        &app,
        json!({"firstName": "Grace", "lastName": "Hopper", "companyName": "Cobol Works",
                                    "email": unique_email("gh")}),
    )
    .await;
    let jose = create(
        &app,
        json!({"firstName": "José", "lastName": "Núñez", "companyName": "Nuñez Telecom",
                                   "email": unique_email("jn")}),
    )
    .await;
    let search = |text: &str| list(&app, json!({"search": text}), 10);
    assert_eq!(
        search("gra").await.iter().map(id_of).collect::<Vec<_>>(),
        [id_of(&grace)]
    );
    assert_eq!(search("HOP").await.len(), 1);
    assert_eq!(search("cobol w").await.len(), 1);
    assert_eq!(
        search("jose").await.iter().map(id_of).collect::<Vec<_>>(),
        [id_of(&jose)],
        "accents are folded"
    );
    assert_eq!(
        search("nun").await.len(),
        1,
        "a customer matching twice is listed once"
    );
    assert_eq!(
        search(&grace["email"].as_str().unwrap()[..6]).await.len(),
        1
    );
    assert!(search("zz").await.is_empty());
    assert!(
        list(&app, json!({"search": "gra", "status": "INACTIVE"}), 10)
            .await
            .is_empty()
    );
    let short = app
        .graphql(
            "{ customers(filter: {search: \"g\"}) { edges { cursor } } }",
            json!({}),
        )
        .await;
    assert_eq!(error_field(&short), "filter.search");
    // A renamed customer is found by its new name only.
    data(&update(&app, &id_of(&grace), json!({"firstName": "Amazing"})).await);
    assert!(search("grac").await.is_empty());
    assert_eq!(search("amaz").await.len(), 1);
}

#[tokio::test]
async fn status_moves_follow_the_rules() {
    let app = TestApp::spawn().await;
    let c = create(&app, json!({})).await;
    let id = id_of(&c);
    for (to, allowed) in [
        ("SUSPENDED", true),
        ("ACTIVE", true),
        ("INACTIVE", true),
        ("FRAUD", true),
        ("ACTIVE", false),
        ("INACTIVE", false),
        ("SUSPENDED", true),
        ("TERMINATED", true),
        ("ACTIVE", false),
        ("SUSPENDED", false),
        ("FRAUD", false),
    ] {
        let body = set_status(&app, &id, to).await;
        if allowed {
            let customer = &data(&body)["setCustomerStatus"];
            assert_eq!(customer["status"], to);
            assert_eq!(customer["statusReason"], "test");
        } else {
            assert_eq!(error_code(&body), "FAILED_PRECONDITION", "→ {to}: {body}");
        }
    }
    let before = get(&app, &id).await["version"].clone();
    let same = set_status(&app, &id, "TERMINATED").await;
    assert_eq!(
        data(&same)["setCustomerStatus"]["version"],
        before,
        "asking for the current status changes nothing"
    );
}

#[tokio::test]
async fn suspended_and_fraud_customers_get_no_new_users_and_inactive_ones_do() {
    let app = TestApp::spawn().await;
    for (status, accepts) in [
        ("SUSPENDED", false),
        ("FRAUD", false),
        ("INACTIVE", true),
        ("TERMINATED", false),
    ] {
        let c = create(&app, json!({})).await;
        data(&set_status(&app, &id_of(&c), status).await);
        let user = app
            .store
            .users()
            .create(&NewUser {
                email: unique_email("m"),
                first_name: "M".into(),
                last_name: "N".into(),
                password_hash: "x".into(),
            })
            .await
            .unwrap();
        let result = app
            .store
            .memberships()
            .add(uuid::Uuid::parse_str(&id_of(&c)).unwrap(), user.id)
            .await;
        assert_eq!(result.is_ok(), accepts, "{status}: {result:?}");
    }
}

/// Puts an account item the way the accounts issue will store them.
pub(crate) async fn put_account(app: &TestApp, customer_id: &str, auth_id: &str) -> String {
    let id = uuid::Uuid::now_v7().to_string();
    let client = switchboard::store::client_from_env().await;
    let item = [
        ("pk", format!("ACCOUNT#{id}")),
        ("sk", "ACCOUNT".to_owned()),
        ("gsi1pk", format!("CUSTOMER#{customer_id}#ACCOUNTS")),
        ("gsi1sk", id.clone()),
        ("authId", auth_id.to_owned()),
    ];
    let mut put = client.put_item().table_name(app.store.table_name());
    for (k, v) in item {
        put = put.item(k, AttributeValue::S(v));
    }
    put.item("isActive", AttributeValue::Bool(true))
        .item("enabled", AttributeValue::Bool(true))
        .send()
        .await
        .unwrap();
    client
        .put_item()
        .table_name(app.store.table_name())
        .item(
            "pk",
            AttributeValue::S(format!("UNIQUE#ACCOUNT_AUTH_ID#{}", auth_id.to_lowercase())),
        )
        .item("sk", AttributeValue::S("UNIQUE".into()))
        .item("ownerId", AttributeValue::S(id.clone()))
        .send()
        .await
        .unwrap();
    id
}

/// Every item of the app's table but the audit trail's, as debug text.
pub(crate) async fn scan_all(app: &TestApp) -> Vec<String> {
    let client = switchboard::store::client_from_env().await;
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let page = client
            .scan()
            .table_name(app.store.table_name())
            .set_exclusive_start_key(start)
            .send()
            .await
            .unwrap();
        // The audit trail outlives what it records, by design: its events
        // are no orphans.
        items.extend(
            page.items()
                .iter()
                .filter(|i| {
                    !i.get("pk")
                        .and_then(|v| v.as_s().ok())
                        .is_some_and(|pk| pk.starts_with("AUDIT#"))
                })
                .map(|i| format!("{i:?}")),
        );
        start = page.last_evaluated_key;
        if start.is_none() {
            return items;
        }
    }
}

#[tokio::test]
async fn terminating_flags_every_account_inactive_and_disabled() {
    let app = TestApp::spawn().await;
    let c = create(&app, json!({})).await;
    let account = put_account(&app, &id_of(&c), "MA_TERM").await;
    data(&set_status(&app, &id_of(&c), "TERMINATED").await);
    let client = switchboard::store::client_from_env().await;
    let item = client
        .get_item()
        .table_name(app.store.table_name())
        .key("pk", AttributeValue::S(format!("ACCOUNT#{account}")))
        .key("sk", AttributeValue::S("ACCOUNT".into()))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    assert_eq!(item["isActive"], AttributeValue::Bool(false));
    assert_eq!(item["enabled"], AttributeValue::Bool(false));
}

#[tokio::test]
async fn only_terminated_customers_can_be_deleted() {
    let app = TestApp::spawn().await;
    let c = create(&app, json!({})).await;
    let body = app.graphql(DELETE, json!({"id": id_of(&c)})).await;
    assert_eq!(error_code(&body), "FAILED_PRECONDITION");
    assert_eq!(get(&app, &id_of(&c)).await["id"], c["id"]);
    let missing = app
        .graphql(DELETE, json!({"id": uuid::Uuid::now_v7().to_string()}))
        .await;
    assert_eq!(error_code(&missing), "NOT_FOUND");
}

/// Fails every DynamoDB call of one operation after letting `allow` through,
/// as a process crash halfway through would.
#[derive(Debug)]
struct CrashAfter {
    operation: &'static str,
    allow: Arc<AtomicUsize>,
}

impl Intercept for CrashAfter {
    fn name(&self) -> &'static str {
        "CrashAfter"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let target = context
            .request()
            .headers()
            .get("x-amz-target")
            .unwrap_or_default();
        if target.ends_with(self.operation) {
            let left = self.allow.load(Ordering::SeqCst);
            if left == 0 {
                return Err("simulated crash".into());
            }
            self.allow.store(left - 1, Ordering::SeqCst);
        }
        Ok(())
    }
}

pub(crate) async fn crashing_app(app: &TestApp, operation: &'static str, allow: usize) -> TestApp {
    let config = switchboard::store::aws_config(&switchboard::store::Timeouts::default()).await;
    let dynamodb = aws_sdk_dynamodb::config::Builder::from(&config)
        .interceptor(CrashAfter {
            operation,
            allow: Arc::new(AtomicUsize::new(allow)),
        })
        .retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled())
        .build();
    TestApp::over_store(Store::new(
        aws_sdk_dynamodb::Client::from_conf(dynamodb),
        app.store.table_name().to_owned(),
    ))
}

/// A terminated customer with `members` extra users and two accounts.
pub(crate) async fn populated_customer(app: &TestApp, members: usize) -> (Value, Vec<String>) {
    let c = create(
        app,
        json!({"hostname": format!("h{}.example.com", uuid::Uuid::now_v7().simple())}),
    )
    .await;
    let customer_id = uuid::Uuid::parse_str(&id_of(&c)).unwrap();
    for chunk in (0..members).collect::<Vec<_>>().chunks(20) {
        futures::future::join_all(chunk.iter().map(|_| async {
            let user = app
                .store
                .users()
                .create(&NewUser {
                    email: unique_email("member"),
                    first_name: "M".into(),
                    last_name: "N".into(),
                    password_hash: "x".into(),
                })
                .await
                .unwrap();
            app.store
                .memberships()
                .add(customer_id, user.id)
                .await
                .unwrap();
        }))
        .await;
    }
    let accounts = vec![
        put_account(
            app,
            &id_of(&c),
            &format!("MA_{}", uuid::Uuid::now_v7().simple()),
        )
        .await,
        put_account(
            app,
            &id_of(&c),
            &format!("MA_{}", uuid::Uuid::now_v7().simple()),
        )
        .await,
    ];
    data(&set_status(app, &id_of(&c), "TERMINATED").await);
    (c, accounts)
}

pub(crate) async fn assert_gone(app: &TestApp, c: &Value, accounts: &[String]) {
    assert_eq!(get(app, &id_of(c)).await, Value::Null);
    let everything = scan_all(app).await;
    let id = id_of(c);
    let leftovers: Vec<&String> = everything
        .iter()
        .filter(|item| item.contains(&id) || accounts.iter().any(|a| item.contains(a)))
        .collect();
    assert!(leftovers.is_empty(), "orphans left behind: {leftovers:#?}");
    // Its unique values are free again.
    let reused = create(
        app,
        json!({"email": c["email"], "subdomain": c["subdomain"], "hostname": c["hostname"]}),
    )
    .await;
    assert_eq!(
        reused["owner"]["id"], c["owner"]["id"],
        "the owner user outlives the customer"
    );
}

#[tokio::test]
async fn deleting_a_customer_with_over_a_hundred_dependents_leaves_nothing_behind() {
    let app = TestApp::spawn().await;
    let (c, accounts) = populated_customer(&app, 110).await;
    let body = app.graphql(DELETE, json!({"id": id_of(&c)})).await;
    assert_eq!(data(&body)["deleteCustomer"], c["id"]);
    assert_gone(&app, &c, &accounts).await;
    let again = app.graphql(DELETE, json!({"id": id_of(&c)})).await;
    assert_eq!(error_code(&again), "NOT_FOUND");
}

#[tokio::test]
async fn a_deletion_interrupted_halfway_hides_the_customer_and_a_retry_finishes_it() {
    let app = TestApp::spawn().await;
    let (c, accounts) = populated_customer(&app, 105).await;
    let crashing = crashing_app(&app, "BatchWriteItem", 2).await;
    let failed = crashing.graphql(DELETE, json!({"id": id_of(&c)})).await;
    assert!(
        failed.get("errors").is_some(),
        "the simulated crash did not interrupt: {failed}"
    );
    // Half-deleted: some members are gone, some remain, yet the customer
    // no longer looks alive anywhere.
    let remaining = scan_all(&app)
        .await
        .iter()
        .filter(|i| i.contains("MEMBER#"))
        .count();
    assert!(
        remaining > 0 && remaining < 106,
        "{remaining} memberships remain"
    );
    assert_eq!(get(&app, &id_of(&c)).await, Value::Null);
    assert!(
        list(&app, json!({}), 100)
            .await
            .iter()
            .all(|x| x["id"] != c["id"])
    );
    let by_email = app
        .graphql(
            "query($e: String!) { customerByEmail(email: $e) { id } }",
            json!({"e": c["email"]}),
        )
        .await;
    assert_eq!(data(&by_email)["customerByEmail"], Value::Null);
    let update_hidden = update(&app, &id_of(&c), json!({"credit": "1"})).await;
    assert_eq!(error_code(&update_hidden), "NOT_FOUND");

    let retried = app.graphql(DELETE, json!({"id": id_of(&c)})).await;
    assert_eq!(data(&retried)["deleteCustomer"], c["id"]);
    assert_gone(&app, &c, &accounts).await;
}

#[tokio::test]
async fn a_deletion_interrupted_at_the_last_step_is_finished_by_a_retry() {
    let app = TestApp::spawn().await;
    let (c, accounts) = populated_customer(&app, 3).await;
    // The first transaction deletes the two accounts; the second, the
    // customer with its guards, fails.
    let crashing = crashing_app(&app, "TransactWriteItems", 1).await;
    let failed = crashing.graphql(DELETE, json!({"id": id_of(&c)})).await;
    assert!(failed.get("errors").is_some(), "{failed}");
    assert_eq!(get(&app, &id_of(&c)).await, Value::Null);
    let retried = app.graphql(DELETE, json!({"id": id_of(&c)})).await;
    assert_eq!(data(&retried)["deleteCustomer"], c["id"]);
    assert_gone(&app, &c, &accounts).await;
}

#[tokio::test]
async fn users_outside_a_customer_neither_see_nor_change_it() {
    let app = TestApp::spawn().await;
    let c = create(&app, json!({})).await;
    let read = app
        .graphql_as_user(
            "query($id: ID!) { customer(id: $id) { id } }",
            json!({"id": id_of(&c)}),
        )
        .await;
    assert_eq!(data(&read)["customer"], Value::Null);
    let listed = app
        .graphql_as_user("{ customers { edges { cursor } } }", json!({}))
        .await;
    assert_eq!(data(&listed)["customers"]["edges"], json!([]));
    for (query, vars) in [
        (SET_STATUS, json!({"id": id_of(&c), "status": "SUSPENDED"})),
        (DELETE, json!({"id": id_of(&c)})),
    ] {
        let body = app.graphql_as_user(query, vars).await;
        assert_eq!(error_code(&body), "FORBIDDEN", "{query}");
    }
    let body = app
        .graphql_as_user(&create_mutation(), json!({"input": input(&json!({}))}))
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN");
    assert_eq!(list(&app, json!({}), 10).await.len(), 1);
}

#[tokio::test]
async fn locally_created_by_ip_is_the_peer_address() {
    let app = TestApp::spawn().await;
    let tag = uuid::Uuid::now_v7().simple().to_string();
    let body = serde_json::json!({
        "query": "mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { createdByIp } }",
        "variables": {"input": {
            "customerType": "PERSONAL", "firstName": "Ip", "lastName": "Peer",
            "email": format!("peer-{tag}@example.com"), "password": "correct horse battery",
            "country": "GB", "currency": "GBP"
        }}
    });
    let mut request = http::Request::post("/graphql")
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {}", app.admin_token()))
        .header("x-forwarded-for", "198.51.100.99")
        .body(axum::body::Body::from(body.to_string()))
        .unwrap();
    request.extensions_mut().insert(axum::extract::ConnectInfo(
        "192.0.2.44:55123".parse::<std::net::SocketAddr>().unwrap(),
    ));
    let reply = app.send(request).await;
    assert_eq!(
        data(&reply.json())["createCustomer"]["createdByIp"],
        "192.0.2.44"
    );
}
