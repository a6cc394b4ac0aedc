//! Platform roles by least privilege: support reads and changes nothing,
//! billing changes only billing controls, the telephony edge may only
//! check credentials, and `PLATFORM_ROLES` maps an identity provider's
//! group names onto them.

use serde_json::{Value, json};

use crate::helpers::{TestApp, create_customer, data, error_code};

const CUSTOMER: &str =
    "query($id: ID!) { customer(id: $id) { id credit users { edges { cursor } } } }";
const PATCH: &str = "mutation($id: ID!, $input: UpdateCustomerInput!) { updateCustomer(id: $id, input: $input) { id } }";
const VERIFY: &str =
    "mutation { verifyAccountCredentials(authId: \"nobody\", authSecret: \"wrong\") { id } }";

async fn as_role(app: &TestApp, role: &str, query: &str, vars: Value) -> Value {
    app.graphql_with(&app.platform_token(role), query, vars)
        .await
}

#[tokio::test]
async fn support_reads_everything_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let (customer, owner) = create_customer(&app, json!({})).await;
    let id = json!({"id": customer.to_string()});
    for (query, vars) in [
        (CUSTOMER, id.clone()),
        ("{ customers { edges { cursor } } }", json!({})),
        ("{ users { edges { cursor } } }", json!({})),
        (
            "query($id: ID!) { auditEvents(entityType: CUSTOMER, entityId: $id) { edges { cursor } } }",
            id.clone(),
        ),
        ("{ accounts { edges { cursor } } }", json!({})),
        ("{ pricingTiers { edges { cursor } } }", json!({})),
        ("{ viewer { isAdmin platformRole } }", json!({})),
    ] {
        let body = as_role(&app, "support", query, vars).await;
        assert!(body.get("errors").is_none(), "{query}: {body}");
    }
    let viewer = as_role(
        &app,
        "support",
        "{ viewer { isAdmin platformRole } }",
        json!({}),
    )
    .await;
    assert_eq!(
        data(&viewer)["viewer"],
        json!({"isAdmin": false, "platformRole": "support"})
    );
    for (query, vars) in [
        (
            PATCH,
            json!({"id": customer.to_string(), "input": {"firstName": "X"}}),
        ),
        (
            PATCH,
            json!({"id": customer.to_string(), "input": {"credit": "10"}}),
        ),
        (
            "mutation($id: ID!) { setCustomerStatus(id: $id, status: SUSPENDED) { id } }",
            id.clone(),
        ),
        (
            "mutation($id: ID!) { deleteUser(id: $id) }",
            json!({"id": owner.to_string()}),
        ),
        (VERIFY, json!({})),
    ] {
        let body = as_role(&app, "support", query, vars).await;
        assert_eq!(error_code(&body), "FORBIDDEN", "{query}: {body}");
    }
}

#[tokio::test]
async fn billing_changes_billing_controls_only() {
    let app = TestApp::spawn().await;
    let (customer, _) = create_customer(&app, json!({})).await;
    let credit = as_role(
        &app,
        "billing",
        PATCH,
        json!({"id": customer.to_string(), "input": {"credit": "250", "delinquent": true, "lowBalanceAlertAmount": "5"}}),
    )
    .await;
    data(&credit);
    let stored = app.store.customers().get(customer).await.unwrap().unwrap();
    assert_eq!(stored.profile.billing.credit.to_string(), "250");
    for input in [
        json!({"firstName": "X"}),
        json!({"internationalCalling": true}),
    ] {
        let body = as_role(
            &app,
            "billing",
            PATCH,
            json!({"id": customer.to_string(), "input": input}),
        )
        .await;
        assert_eq!(error_code(&body), "FORBIDDEN", "{input}: {body}");
    }
    let body = as_role(&app, "billing", VERIFY, json!({})).await;
    assert_eq!(error_code(&body), "FORBIDDEN");
}

#[tokio::test]
async fn the_telephony_edge_may_only_check_credentials() {
    let app = TestApp::spawn().await;
    let (customer, _) = create_customer(&app, json!({})).await;
    // Allowed through to the check itself: a wrong secret is refused as such.
    let checked = as_role(&app, "telephony-edge", VERIFY, json!({})).await;
    assert_eq!(error_code(&checked), "UNAUTHENTICATED", "{checked}");
    for (query, vars) in [
        (CUSTOMER, json!({"id": customer.to_string()})),
        ("{ customers { edges { cursor } } }", json!({})),
        ("{ pricingTiers { edges { cursor } } }", json!({})),
        ("{ viewer { isAdmin } }", json!({})),
        ("{ accounts { edges { cursor } } }", json!({})),
        (
            "mutation($id: ID!) { deleteCustomer(id: $id) }",
            json!({"id": customer.to_string()}),
        ),
    ] {
        let body = as_role(&app, "telephony-edge", query, vars).await;
        assert_eq!(error_code(&body), "FORBIDDEN", "{query}: {body}");
    }
}

#[tokio::test]
async fn platform_roles_maps_an_identity_providers_groups() {
    let app =
        TestApp::spawn_with(&[("PLATFORM_ROLES", "ops-admins=admin, helpdesk=support")]).await;
    let admin = as_role(
        &app,
        "ops-admins",
        "{ viewer { isAdmin platformRole } }",
        json!({}),
    )
    .await;
    assert_eq!(
        data(&admin)["viewer"],
        json!({"isAdmin": true, "platformRole": "admin"})
    );
    let support = as_role(&app, "helpdesk", "{ viewer { platformRole } }", json!({})).await;
    assert_eq!(data(&support)["viewer"]["platformRole"], "support");
    // A role the mapping does not name grants nothing: the token is then a
    // user's, and its subject is no user.
    let reply = app
        .post_graphql(
            Some(&app.platform_token("admin")),
            "{ viewer { isAdmin } }",
            json!({}),
        )
        .await;
    assert_eq!(reply.status, http::StatusCode::UNAUTHORIZED);
}
