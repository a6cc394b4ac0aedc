//! Account credentials: the secret is shown once and never readable again
//! (no schema field can return it or its hash, no log line holds them);
//! rotation replaces it; the credential check answers every failure alike.

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Value, json};

use crate::accounts::{create, customer, tier};
use crate::helpers::{TestApp, data, error_code, logs};

const VERIFY: &str = "mutation($a: String!, $s: String!) {
    verifyAccountCredentials(authId: $a, authSecret: $s) { id lastLogin version } }";
const ROTATE: &str = "mutation($id: ID!) { rotateAccountAuthSecret(id: $id) {
    authSecret account { id authId authTokenExpireTime version } } }";
const UPDATE: &str = "mutation($id: ID!, $input: UpdateAccountInput!) {
    updateAccount(id: $id, input: $input) { id } }";

/// The stored hash of an account, read straight from the table.
async fn stored_hash(app: &TestApp, id: &str) -> String {
    let client = switchboard::store::client_from_env().await;
    let item = client
        .get_item()
        .table_name(app.store.table_name())
        .key("pk", AttributeValue::S(format!("ACCOUNT#{id}")))
        .key("sk", AttributeValue::S("ACCOUNT".into()))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    item["authSecretHash"].as_s().unwrap().clone()
}

/// Unwraps `NON_NULL`/`LIST` to the named type.
fn named(t: &Value) -> String {
    match t["name"].as_str() {
        Some(name) => name.to_owned(),
        None => named(&t["ofType"]),
    }
}

#[tokio::test]
async fn no_field_in_the_schema_can_return_a_secret_or_a_hash() {
    let app = TestApp::spawn().await;
    let body = app
        .graphql(
            "{ __schema { types { name kind fields(includeDeprecated: true) { name
                type { name kind ofType { name kind ofType { name kind ofType { name } } } } } } } }",
            json!({}),
        )
        .await;
    let types = data(&body)["__schema"]["types"].as_array().unwrap().clone();
    let secretive = |name: &str| {
        let lower = name.to_lowercase();
        ["secret", "hash", "password", "credential"]
            .iter()
            .any(|word| lower.contains(word))
    };
    let mut one_time = Vec::new();
    for t in &types {
        let type_name = t["name"].as_str().unwrap();
        for field in t["fields"].as_array().into_iter().flatten() {
            let field_name = field["name"].as_str().unwrap();
            if secretive(field_name) || secretive(&named(&field["type"])) {
                one_time.push(format!("{type_name}.{field_name}"));
            }
        }
    }
    one_time.sort();
    assert_eq!(
        one_time,
        vec![
            "CreateAccountPayload.authSecret",
            "Mutation.rotateAccountAuthSecret",
            // Takes a new password; returns the user, never a password.
            "Mutation.setUserPassword",
            "Mutation.verifyAccountCredentials",
            "RotateAccountAuthSecretPayload.authSecret",
        ],
        "only the two one-time payloads may carry a secret (and the mutations that make or check one)"
    );
    // The check returns an Account, which has no secret field.
    let account = types.iter().find(|t| t["name"] == "Account").unwrap();
    let fields: Vec<&str> = account["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert!(fields.contains(&"authId") && !fields.iter().any(|f| secretive(f)));
}

#[tokio::test]
async fn the_secret_and_its_hash_never_appear_in_reads_or_in_the_logs() {
    let app = TestApp::spawn().await;
    tier(&app, "Base", true).await;
    let c = customer(&app).await;
    let token = app.admin_token();
    let run = uuid::Uuid::now_v7().simple().to_string();
    let created = app
        .post_graphql_as_request(
            Some(&token),
            "mutation CreateAccount($input: CreateAccountInput!) { createAccount(input: $input) { authSecret account { id authId } } }",
            json!({"input": {"customerId": c, "name": "Logged", "email": "log@acme.example"}}),
            Some(&format!("create-{run}")),
        )
        .await
        .json();
    let payload = &data(&created)["createAccount"];
    let first_secret = payload["authSecret"].as_str().unwrap().to_owned();
    let id = payload["account"]["id"].as_str().unwrap().to_owned();
    let auth_id = payload["account"]["authId"].as_str().unwrap().to_owned();
    let first_hash = stored_hash(&app, &id).await;

    let verified = app
        .post_graphql_as_request(
            Some(&token),
            VERIFY,
            json!({"a": auth_id, "s": first_secret}),
            Some(&format!("verify-{run}")),
        )
        .await
        .json();
    data(&verified);
    let rotated = app.graphql(ROTATE, json!({"id": id})).await;
    let second_secret = data(&rotated)["rotateAccountAuthSecret"]["authSecret"]
        .as_str()
        .unwrap()
        .to_owned();
    let second_hash = stored_hash(&app, &id).await;
    assert_ne!(first_hash, second_hash);

    let everything_about_it = app
        .graphql(
            &format!(
                "query($id: ID!) {{ account(id: $id) {{ {} }} }}",
                crate::accounts::ACCOUNT_FIELDS
            ),
            json!({"id": id}),
        )
        .await
        .to_string();
    let logged = logs().text();
    for secret in [&first_secret, &second_secret, &first_hash, &second_hash] {
        assert!(
            !everything_about_it.contains(secret.as_str()),
            "a read returned `{secret}`"
        );
        assert!(
            !logged.contains(secret.as_str()),
            "the logs contain `{secret}`"
        );
    }
    let hash_body = first_hash.trim_start_matches("hmac-sha256$");
    assert!(!logged.contains(hash_body));
    assert!(
        !logs()
            .lines()
            .iter()
            .filter(|l| l["span"]["request_id"] == format!("verify-{run}"))
            .any(|l| l.to_string().contains(&first_secret))
    );
}

#[tokio::test]
async fn credentials_verify_in_constant_form_and_a_wrong_secret_reads_like_an_unknown_auth_id() {
    let app = TestApp::spawn().await;
    tier(&app, "Base", true).await;
    let c = customer(&app).await;
    let created = create(&app, &c, json!({})).await;
    let secret = created["authSecret"].as_str().unwrap().to_owned();
    let account = &created["account"];
    let auth_id = account["authId"].as_str().unwrap().to_owned();
    assert_eq!(account["lastLogin"], Value::Null);

    let ok = app
        .graphql(VERIFY, json!({"a": auth_id, "s": secret}))
        .await;
    let ok = &data(&ok)["verifyAccountCredentials"];
    assert_eq!(ok["id"], account["id"]);
    assert!(ok["lastLogin"].is_string());
    assert_eq!(ok["version"], account["version"], "a login is not an edit");

    let wrong = app
        .graphql(VERIFY, json!({"a": auth_id, "s": format!("{secret}x")}))
        .await;
    let unknown = app
        .graphql(VERIFY, json!({"a": "MA_ZZZZZZZZZZZZZZZZZZZZ", "s": secret}))
        .await;
    let junk = app.graphql(VERIFY, json!({"a": "nonsense", "s": ""})).await;
    assert_eq!(error_code(&wrong), "UNAUTHENTICATED");
    assert_eq!(
        wrong["errors"][0]["message"],
        unknown["errors"][0]["message"]
    );
    assert_eq!(
        wrong["errors"][0]["extensions"],
        unknown["errors"][0]["extensions"]
    );
    assert_eq!(
        wrong["errors"][0]["extensions"],
        junk["errors"][0]["extensions"]
    );
    assert_eq!(wrong["data"], unknown["data"]);

    // Rotation: the old secret stops working, the new one works.
    let rotated = app.graphql(ROTATE, json!({"id": account["id"]})).await;
    let rotated = &data(&rotated)["rotateAccountAuthSecret"];
    let new_secret = rotated["authSecret"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, secret);
    assert_eq!(rotated["account"]["authId"], auth_id.as_str());
    assert!(rotated["account"]["authTokenExpireTime"].is_string());
    let old = app
        .graphql(VERIFY, json!({"a": auth_id, "s": secret}))
        .await;
    assert_eq!(
        old["errors"][0]["extensions"],
        wrong["errors"][0]["extensions"]
    );
    data(
        &app.graphql(VERIFY, json!({"a": auth_id, "s": new_secret}))
            .await,
    );

    // Disabled or inactive accounts are refused with their reason, told
    // only to whoever holds the correct secret (issue 20).
    for (patch, reason) in [
        (json!({"enabled": false}), "ACCOUNT_DISABLED"),
        (
            json!({"enabled": true, "isActive": false}),
            "ACCOUNT_INACTIVE",
        ),
    ] {
        data(
            &app.graphql(UPDATE, json!({"id": account["id"], "input": patch}))
                .await,
        );
        let refused = app
            .graphql(VERIFY, json!({"a": auth_id, "s": new_secret}))
            .await;
        assert_eq!(error_code(&refused), "FORBIDDEN");
        assert_eq!(refused["errors"][0]["extensions"]["reason"], reason);
        assert_ne!(refused["errors"][0], wrong["errors"][0]);
    }
    let unknown_rotation = app
        .graphql(ROTATE, json!({"id": uuid::Uuid::now_v7().to_string()}))
        .await;
    assert_eq!(error_code(&unknown_rotation), "NOT_FOUND");
}

#[tokio::test]
async fn expired_secrets_are_refused_and_a_lifetime_of_none_never_expires() {
    let short = TestApp::spawn_with(&[("ACCOUNT_SECRET_LIFETIME", "1ns")]).await;
    tier(&short, "Base", true).await;
    let c = customer(&short).await;
    let created = create(&short, &c, json!({})).await;
    let expired = short
        .graphql(
            VERIFY,
            json!({"a": created["account"]["authId"], "s": created["authSecret"]}),
        )
        .await;
    assert_eq!(error_code(&expired), "UNAUTHENTICATED");
    assert_eq!(
        expired["errors"][0]["message"],
        "invalid account credentials"
    );

    let forever = TestApp::spawn_with(&[("ACCOUNT_SECRET_LIFETIME", "none")]).await;
    tier(&forever, "Base", true).await;
    let c = customer(&forever).await;
    let created = create(&forever, &c, json!({})).await;
    assert_eq!(created["account"]["authTokenExpireTime"], Value::Null);
    let ok = forever
        .graphql(
            VERIFY,
            json!({"a": created["account"]["authId"], "s": created["authSecret"]}),
        )
        .await;
    data(&ok);
}

#[tokio::test]
async fn a_terminated_customers_accounts_are_refused_even_where_the_sweep_has_not_reached() {
    let app = TestApp::spawn().await;
    tier(&app, "Base", true).await;
    let c = customer(&app).await;
    let created = create(&app, &c, json!({})).await;
    let secret = created["authSecret"].as_str().unwrap().to_owned();
    let id = created["account"]["id"].as_str().unwrap().to_owned();
    let auth_id = created["account"]["authId"].as_str().unwrap().to_owned();
    data(
        &app.graphql(VERIFY, json!({"a": auth_id, "s": secret}))
            .await,
    );
    data(
        &app.graphql(
            "mutation($id: ID!) { setCustomerStatus(id: $id, status: TERMINATED) { id } }",
            json!({"id": c}),
        )
        .await,
    );
    // The termination flags the account inactive after the status change;
    // undo that, as a crash between the two, or an index that had not yet
    // shown the account to the sweep, would leave it.
    switchboard::store::client_from_env()
        .await
        .update_item()
        .table_name(app.store.table_name())
        .key("pk", AttributeValue::S(format!("ACCOUNT#{id}")))
        .key("sk", AttributeValue::S("ACCOUNT".into()))
        .update_expression("SET isActive = :t, enabled = :t")
        .expression_attribute_values(":t", AttributeValue::Bool(true))
        .send()
        .await
        .unwrap();
    let refused = app
        .graphql(VERIFY, json!({"a": auth_id, "s": secret}))
        .await;
    assert_eq!(error_code(&refused), "FORBIDDEN", "{refused}");
    assert_eq!(
        refused["errors"][0]["extensions"]["reason"],
        "CUSTOMER_TERMINATED"
    );
}
