//! The audit trail: every successful mutation records who, what, when and
//! why in the same transaction as its change; failed mutations record
//! nothing; events name fields, never secret values; only admins read the
//! trail; events expire after the configured retention.

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Value, json};

use crate::accounts;
use crate::helpers::{TestApp, create_customer, data, error_code};

const EVENTS: &str = "query($type: AuditEntityType!, $id: ID!, $first: Int, $after: String) {
    auditEvents(entityType: $type, entityId: $id, first: $first, after: $after) {
        edges { node { id at actor { subject isAdmin userId } operation entityType entityId
            customerId changedFields reason requestId } }
        pageInfo { hasNextPage endCursor } } }";

/// Every event of one entity, newest first, read page by page.
async fn events(app: &TestApp, entity_type: &str, id: &str) -> Vec<Value> {
    let mut all = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let body = app
            .graphql(
                EVENTS,
                json!({"type": entity_type, "id": id, "first": 2, "after": after}),
            )
            .await;
        let page = &data(&body)["auditEvents"];
        for edge in page["edges"].as_array().unwrap() {
            all.push(edge["node"].clone());
        }
        if !page["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            return all;
        }
        after = Some(page["pageInfo"]["endCursor"].as_str().unwrap().to_owned());
    }
}

/// The operations of `events`, oldest first.
fn operations(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .rev()
        .map(|e| e["operation"].as_str().unwrap().to_owned())
        .collect()
}

fn ok(body: &Value) -> &Value {
    assert!(body.get("errors").is_none(), "unexpected errors: {body}");
    data(body)
}

#[tokio::test]
async fn who_suspended_this_customer_when_and_why_has_an_answer() {
    let app = TestApp::spawn().await;
    let (customer, _) = create_customer(&app, json!({})).await;
    let reply = app
        .post_graphql_as_request(
            Some(&app.admin_token()),
            "mutation($id: ID!) { setCustomerStatus(id: $id, status: SUSPENDED, reason: \"chargebacks over limit\") { id } }",
            json!({"id": customer}),
            Some("req-suspend-1"),
        )
        .await;
    ok(&reply.json());

    let trail = events(&app, "CUSTOMER", &customer.to_string()).await;
    assert_eq!(
        operations(&trail),
        ["createCustomer", "setCustomerStatus"],
        "{trail:#?}"
    );
    let suspension = &trail[0];
    assert_eq!(suspension["actor"]["subject"], "admin@example.com");
    assert_eq!(suspension["actor"]["isAdmin"], true);
    assert_eq!(suspension["reason"], "chargebacks over limit");
    assert_eq!(suspension["changedFields"], json!(["status"]));
    assert_eq!(suspension["requestId"], "req-suspend-1");
    assert_eq!(suspension["entityType"], "CUSTOMER");
    assert_eq!(suspension["customerId"], customer.to_string());
    let at = chrono::DateTime::parse_from_rfc3339(suspension["at"].as_str().unwrap()).unwrap();
    assert!((chrono::Utc::now() - at.to_utc()).num_seconds().abs() < 300);
    // The customer's own trail (with what belongs to it) says the same.
    let body = app
        .graphql(
            "query($id: ID!) { customer(id: $id) { auditEvents(first: 1) { nodes { operation reason } } } }",
            json!({"id": customer}),
        )
        .await;
    assert_eq!(
        ok(&body)["customer"]["auditEvents"]["nodes"],
        json!([{"operation": "setCustomerStatus", "reason": "chargebacks over limit"}])
    );
}

#[tokio::test]
#[allow(clippy::too_many_lines)]
async fn every_mutation_records_one_event_against_its_entity() {
    let app = TestApp::spawn().await;
    // Pricing tiers.
    let tier = accounts::tier(&app, "Audit gold", true).await;
    let other = accounts::tier(&app, "Audit silver", true).await;
    ok(&app
        .graphql(
            "mutation($id: ID!) { updatePricingTier(id: $id, input: {description: \"d\"}) { id } }",
            json!({"id": tier}),
        )
        .await);
    ok(&app
        .graphql(
            "mutation($id: ID!) { setDefaultPricingTier(id: $id) { id } }",
            json!({"id": other}),
        )
        .await);
    // A customer with an account.
    let customer = accounts::customer(&app).await;
    ok(&app
        .graphql(
            "mutation($id: ID!) { updateCustomer(id: $id, input: {firstName: \"Renamed\"}) { id } }",
            json!({"id": customer}),
        )
        .await);
    let account =
        accounts::create(&app, &customer, json!({"pricingTierId": tier})).await["account"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
    ok(&app
        .graphql(
            "mutation($id: ID!) { updateAccount(id: $id, input: {name: \"Renamed\"}) { id } }",
            json!({"id": account}),
        )
        .await);
    ok(&app
        .graphql(
            "mutation($id: ID!) { rotateAccountAuthSecret(id: $id) { authSecret } }",
            json!({"id": account}),
        )
        .await);
    ok(&app
        .graphql(
            "mutation($id: ID!) { deleteAccount(id: $id) }",
            json!({"id": account}),
        )
        .await);
    // A user, its membership and an invitation.
    let email = format!("audited-{}@example.com", uuid::Uuid::now_v7().simple());
    let body = app
        .graphql(
            "mutation($input: CreateUserInput!) { createUser(input: $input) { id } }",
            json!({"input": {"email": email, "firstName": "Aud", "lastName": "Ited", "password": "correct horse battery"}}),
        )
        .await;
    let user = ok(&body)["createUser"]["id"].as_str().unwrap().to_owned();
    for (query, vars) in [
        (
            "mutation($id: ID!) { updateUser(id: $id, input: {firstName: \"Audrey\"}) { id } }",
            json!({"id": user}),
        ),
        (
            "mutation($id: ID!) { setUserPassword(id: $id, password: \"another horse battery\") { id } }",
            json!({"id": user}),
        ),
        (
            "mutation($id: ID!) { setUserStatus(id: $id, status: DISABLED) { id } }",
            json!({"id": user}),
        ),
        (
            "mutation($id: ID!) { setUserStatus(id: $id, status: ACTIVE) { id } }",
            json!({"id": user}),
        ),
        (
            "mutation($c: ID!, $u: ID!) { addCustomerUser(customerId: $c, userId: $u) { permissions } }",
            json!({"c": customer, "u": user}),
        ),
        (
            "mutation($c: ID!, $u: ID!) { updateCustomerUser(customerId: $c, userId: $u, permissions: [ACCOUNTS_READ]) { permissions } }",
            json!({"c": customer, "u": user}),
        ),
        (
            "mutation($c: ID!, $u: ID!) { removeCustomerUser(customerId: $c, userId: $u) }",
            json!({"c": customer, "u": user}),
        ),
    ] {
        ok(&app.graphql(query, vars).await);
    }
    let invite = "mutation($c: ID!, $e: String!) { inviteCustomerUser(customerId: $c, email: $e, permissions: [ACCOUNTS_READ]) { invitation { id } } }";
    let body = app
        .graphql(
            invite,
            json!({"c": customer, "e": "first-invitee@example.com"}),
        )
        .await;
    let revoked = ok(&body)["inviteCustomerUser"]["invitation"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    ok(&app
        .graphql(
            "mutation($id: ID!) { revokeInvitation(id: $id) { status } }",
            json!({"id": revoked}),
        )
        .await);
    let second = format!(
        "second-invitee-{}@example.com",
        uuid::Uuid::now_v7().simple()
    );
    let body = app
        .graphql(invite, json!({"c": customer, "e": second}))
        .await;
    let accepted = ok(&body)["inviteCustomerUser"]["invitation"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let token = crate::mailbox::latest_to(&second).await.token();
    let reply = app
        .post_graphql(
            None,
            "mutation($t: String!) { acceptInvitation(token: $t, firstName: \"In\", lastName: \"Vitee\", password: \"correct horse battery\") { userId } }",
            json!({"t": token}),
        )
        .await;
    let invitee = ok(&reply.json())["acceptInvitation"]["userId"]
        .as_str()
        .unwrap()
        .to_owned();
    // Taking it all down.
    ok(&app
        .graphql(
            "mutation($id: ID!) { deleteUser(id: $id) }",
            json!({"id": user}),
        )
        .await);
    accounts::set_status(&app, &customer, "TERMINATED").await;
    ok(&app
        .graphql(
            "mutation($id: ID!) { deleteCustomer(id: $id) }",
            json!({"id": customer}),
        )
        .await);
    ok(&app
        .graphql(
            "mutation($id: ID!) { deletePricingTier(id: $id) }",
            json!({"id": tier}),
        )
        .await);

    assert_eq!(
        operations(&events(&app, "PRICING_TIER", &tier).await),
        [
            "createPricingTier",
            "updatePricingTier",
            "deletePricingTier"
        ]
    );
    assert_eq!(
        operations(&events(&app, "PRICING_TIER", &other).await),
        ["createPricingTier", "setDefaultPricingTier"]
    );
    assert_eq!(
        operations(&events(&app, "CUSTOMER", &customer).await),
        [
            "createCustomer",
            "updateCustomer",
            "setCustomerStatus",
            "deleteCustomer"
        ],
        "a deleted customer's trail outlives it"
    );
    assert_eq!(
        operations(&events(&app, "ACCOUNT", &account).await),
        [
            "createAccount",
            "updateAccount",
            "rotateAccountAuthSecret",
            "deleteAccount"
        ]
    );
    assert_eq!(
        operations(&events(&app, "USER", &user).await),
        [
            "createUser",
            "updateUser",
            "setUserPassword",
            "setUserStatus",
            "setUserStatus",
            "addCustomerUser",
            "updateCustomerUser",
            "removeCustomerUser",
            "deleteUser"
        ]
    );
    assert_eq!(
        operations(&events(&app, "INVITATION", &revoked).await),
        ["inviteCustomerUser", "revokeInvitation"]
    );
    let acceptance = events(&app, "INVITATION", &accepted).await;
    assert_eq!(
        operations(&acceptance),
        ["inviteCustomerUser", "acceptInvitation"]
    );
    assert_eq!(
        acceptance[0]["actor"],
        json!({"subject": "", "isAdmin": false, "userId": invitee}),
        "the token holder acts as the user the invitation joins"
    );
}

#[tokio::test]
async fn a_customer_s_trail_holds_its_accounts_and_members_newest_first_page_by_page() {
    let app = TestApp::spawn().await;
    accounts::tier(&app, "Trail tier", true).await;
    let customer = accounts::customer(&app).await;
    let account = accounts::create(&app, &customer, json!({})).await["account"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let user = app.create_user("trail").await;
    ok(&app
        .graphql(
            "mutation($c: ID!, $u: ID!) { addCustomerUser(customerId: $c, userId: $u, permissions: [ACCOUNTS_READ]) { permissions } }",
            json!({"c": customer, "u": user}),
        )
        .await);
    // The customer's trail is read from an index; DynamoDB Local applies
    // index writes at once, so no wait is needed here.
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let body = app
            .graphql(
                "query($id: ID!, $after: String) { customer(id: $id) { auditEvents(first: 1, after: $after) {
                    nodes { operation entityType entityId changedFields } pageInfo { hasNextPage endCursor } } } }",
                json!({"id": customer, "after": after}),
            )
            .await;
        let page = &ok(&body)["customer"]["auditEvents"];
        seen.extend(page["nodes"].as_array().unwrap().iter().cloned());
        if !page["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            break;
        }
        after = Some(page["pageInfo"]["endCursor"].as_str().unwrap().to_owned());
    }
    let summary: Vec<(String, String)> = seen
        .iter()
        .map(|e| {
            (
                e["operation"].as_str().unwrap().to_owned(),
                e["entityId"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("addCustomerUser".to_owned(), user.to_string()),
            ("createAccount".to_owned(), account.clone()),
            ("createCustomer".to_owned(), customer.clone()),
        ]
    );
    assert_eq!(seen[0]["changedFields"], json!(["permissions"]));
}

#[tokio::test]
async fn a_failed_mutation_records_nothing() {
    let app = TestApp::spawn().await;
    let tier = accounts::tier(&app, "Unique audit name", true).await;
    let before = events(&app, "PRICING_TIER", &tier).await.len();
    // A stale version, a taken name and an invalid value: all refused.
    for (query, vars) in [
        (
            "mutation($id: ID!) { updatePricingTier(id: $id, input: {description: \"x\"}, expectedVersion: 7) { id } }",
            json!({"id": tier}),
        ),
        (
            "mutation($id: ID!) { updatePricingTier(id: $id, input: {ratePerMinute: \"-1\"}) { id } }",
            json!({"id": tier}),
        ),
        (
            "mutation($id: ID!) { deletePricingTier(id: $id) }",
            json!({"id": tier}),
        ),
    ] {
        let body = app.graphql(query, vars).await;
        assert!(body.get("errors").is_some(), "{body}");
    }
    assert_eq!(events(&app, "PRICING_TIER", &tier).await.len(), before);
    // An update that changes nothing records nothing either.
    let body = app
        .graphql(
            "mutation($id: ID!) { updatePricingTier(id: $id, input: {name: \"Unique audit name\"}) { version } }",
            json!({"id": tier}),
        )
        .await;
    assert_eq!(ok(&body)["updatePricingTier"]["version"], 1);
    assert_eq!(events(&app, "PRICING_TIER", &tier).await.len(), before);
}

#[tokio::test]
async fn events_name_fields_and_never_hold_a_password_or_secret() {
    let app = TestApp::spawn().await;
    accounts::tier(&app, "Secret tier", true).await;
    let customer = accounts::customer(&app).await;
    let created = accounts::create(&app, &customer, json!({})).await;
    let secret = created["authSecret"].as_str().unwrap().to_owned();
    let account = created["account"]["id"].as_str().unwrap().to_owned();
    let user = app.create_user("secretive").await;
    let password = "a-very-memorable-password-123";
    ok(&app
        .graphql(
            "mutation($id: ID!, $p: String!) { setUserPassword(id: $id, password: $p) { id } }",
            json!({"id": user, "p": password}),
        )
        .await);
    let trail = events(&app, "USER", &user.to_string()).await;
    assert_eq!(trail[0]["changedFields"], json!(["password"]));
    // Nothing stored under the trail's keys holds the values.
    let items = switchboard::store::client_from_env()
        .await
        .scan()
        .table_name(app.store.table_name())
        .filter_expression("begins_with(pk, :audit)")
        .expression_attribute_values(":audit", AttributeValue::S("AUDIT#".into()))
        .send()
        .await
        .unwrap()
        .items
        .unwrap_or_default();
    assert!(items.len() >= 3, "{items:?}");
    let dump = format!("{items:?}");
    assert!(!dump.contains(password));
    assert!(!dump.contains(&secret));
    assert!(
        events(&app, "ACCOUNT", &account).await[0]["changedFields"]
            .as_array()
            .is_some_and(|f| !f.is_empty())
    );
}

#[tokio::test]
async fn only_admins_read_the_trail() {
    let app = TestApp::spawn().await;
    let (customer, owner) = create_customer(&app, json!({})).await;
    let token = app.token_for(owner);
    let body = app
        .graphql_with(
            &token,
            EVENTS,
            json!({"type": "CUSTOMER", "id": customer, "first": 5}),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    // The owner reads its customer, but not the customer's trail.
    let body = app
        .graphql_with(
            &token,
            "query($id: ID!) { customer(id: $id) { id auditEvents { nodes { id } } } }",
            json!({"id": customer}),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN");
    assert_eq!(
        body["errors"][0]["path"],
        json!(["customer", "auditEvents"])
    );
    assert_eq!(body["data"]["customer"]["auditEvents"], Value::Null);
}

#[tokio::test]
async fn events_expire_after_the_configured_retention() {
    let app = TestApp::spawn_with(&[("AUDIT_RETENTION_DAYS", "30")]).await;
    let (customer, _) = create_customer(&app, json!({})).await;
    let item = switchboard::store::client_from_env()
        .await
        .query()
        .table_name(app.store.table_name())
        .key_condition_expression("pk = :pk")
        .expression_attribute_values(
            ":pk",
            AttributeValue::S(format!("AUDIT#CUSTOMER#{customer}")),
        )
        .send()
        .await
        .unwrap()
        .items
        .unwrap()
        .remove(0);
    let ttl: i64 = item["ttl"].as_n().unwrap().parse().unwrap();
    let at = chrono::DateTime::parse_from_rfc3339(item["at"].as_s().unwrap()).unwrap();
    assert_eq!(ttl - at.timestamp(), 30 * 86_400);
}

#[tokio::test]
async fn forged_and_foreign_cursors_are_refused_naming_after() {
    let app = TestApp::spawn().await;
    let (customer, _) = create_customer(&app, json!({})).await;
    // A cursor of another list (one position part), random base64, and a
    // well-formed cursor naming an unknown entity type.
    let foreign = switchboard::store::cursor::encode(&[&customer.to_string()]);
    let unknown_type = switchboard::store::cursor::encode(&[
        &uuid::Uuid::now_v7().to_string(),
        "WIDGET",
        &customer.to_string(),
    ]);
    for after in [foreign.as_str(), "bm90IGEgY3Vyc29y", unknown_type.as_str()] {
        for query in [
            EVENTS,
            "query($id: ID!, $first: Int, $after: String) { customer(id: $id) { auditEvents(first: $first, after: $after) { nodes { id } } } }",
        ] {
            let body = app
                .graphql(
                    query,
                    json!({"type": "CUSTOMER", "id": customer, "first": 5, "after": after}),
                )
                .await;
            assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
            assert_eq!(crate::helpers::error_field(&body), "after", "{body}");
        }
    }
}

/// The same deletion four times at once: each call succeeds or finds the
/// user gone, none is an internal error, and the trail records one deletion.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn four_concurrent_deletions_of_one_user_record_one_event() {
    let app = TestApp::spawn().await;
    let (customer, _) = create_customer(&app, json!({})).await;
    let user = app.create_user("doomed").await;
    app.store.memberships().add(customer, user).await.unwrap();
    let results = futures::future::join_all((0..4).map(|_| {
        app.graphql(
            "mutation($id: ID!) { deleteUser(id: $id) }",
            json!({"id": user}),
        )
    }))
    .await;
    for body in &results {
        if body.get("errors").is_some() {
            assert_eq!(error_code(body), "NOT_FOUND", "{body}");
        }
    }
    assert!(results.iter().any(|b| b.get("errors").is_none()));
    let trail = events(&app, "USER", &user.to_string()).await;
    assert_eq!(
        trail
            .iter()
            .filter(|e| e["operation"] == "deleteUser")
            .count(),
        1,
        "{trail:#?}"
    );
    let body = app
        .graphql(
            "query($id: ID!) { user(id: $id) { id } }",
            json!({"id": user}),
        )
        .await;
    assert_eq!(data(&body)["user"], Value::Null);
}
