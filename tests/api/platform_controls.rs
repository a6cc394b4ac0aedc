//! What only the platform may change (the classification in
//! `docs/access.md`): the toll-fraud controls a member found it could
//! undo. A member may always make things safer, never undo a platform
//! decision.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, create_customer, data, error_code, error_field};

const UPDATE_ACCOUNT: &str = "mutation($id: ID!, $input: UpdateAccountInput!) { updateAccount(id: $id, input: $input) { id enabled baseCpsLimit postpaid } }";
const UPDATE_CUSTOMER: &str = "mutation($id: ID!, $input: UpdateCustomerInput!) { updateCustomer(id: $id, input: $input) { id } }";

async fn member(app: &TestApp, customer: Uuid, permissions: &[&str]) -> String {
    let user = app.create_user("member").await;
    data(
        &app.graphql(
            "mutation($c: ID!, $u: ID!, $p: [Permission!]!) { addCustomerUser(customerId: $c, userId: $u, permissions: $p) { owner } }",
            json!({"c": customer.to_string(), "u": user.to_string(), "p": permissions}),
        )
        .await,
    );
    app.token_for(user)
}

async fn patch_account(app: &TestApp, token: &str, id: &Value, input: Value) -> Value {
    app.graphql_with(token, UPDATE_ACCOUNT, json!({"id": id, "input": input}))
        .await
}

fn refused_at(body: &Value, field: &str) {
    assert_eq!(error_code(body), "FORBIDDEN", "{field}: {body}");
    assert_eq!(error_field(body), field, "{body}");
}

#[tokio::test]
async fn a_member_cannot_undo_a_platform_block_nor_raise_what_the_platform_sets() {
    let app = TestApp::spawn().await;
    let (customer, _) = create_customer(&app, json!({})).await;
    data(
        &app.graphql(
            "mutation { createPricingTier(input: {name: \"Controls\", currency: \"USD\", ratePerMinute: \"1\"}) { id } }",
            json!({}),
        )
        .await,
    );
    let account = data(
        &app.graphql(
            "mutation($c: ID!) { createAccount(input: {customerId: $c, name: \"Edge\", email: \"e@example.com\"}) { account { id } } }",
            json!({"c": customer.to_string()}),
        )
        .await,
    )["createAccount"]["account"]["id"]
        .clone();
    let writer = member(&app, customer, &["ACCOUNTS_WRITE"]).await;
    // The platform blocks the account.
    data(
        &app.graphql(
            UPDATE_ACCOUNT,
            json!({"id": account, "input": {"enabled": false, "riskStatus": "BLOCKED"}}),
        )
        .await,
    );
    for (input, field) in [
        (json!({"enabled": true}), "input.enabled"),
        (json!({"riskStatus": "NORMAL"}), "input.riskStatus"),
        (json!({"postpaid": true}), "input.postpaid"),
        (json!({"baseCpsLimit": 100_000}), "input.baseCpsLimit"),
        (
            json!({"baseConcurrentCallsLimit": 100_000}),
            "input.baseConcurrentCallsLimit",
        ),
        (json!({"purchasedCps": 100_000}), "input.purchasedCps"),
        (
            json!({"purchasedConcurrentCalls": 100_000}),
            "input.purchasedConcurrentCalls",
        ),
    ] {
        refused_at(&patch_account(&app, &writer, &account, input).await, field);
    }
    let stored = app
        .store
        .accounts()
        .get(Uuid::parse_str(account.as_str().unwrap()).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(!stored.profile.enabled, "still off");
    assert!(!stored.profile.postpaid);
    assert_eq!(stored.profile.base_cps_limit, 5);
    // Safer is always allowed: lowering a limit.
    let lowered = patch_account(&app, &writer, &account, json!({"baseCpsLimit": 1})).await;
    assert_eq!(data(&lowered)["updateAccount"]["baseCpsLimit"], 1);

    // Once the platform switches it back on, the member may switch it off
    // and on again: that hold was its own.
    data(
        &app.graphql(
            UPDATE_ACCOUNT,
            json!({"id": account, "input": {"enabled": true, "riskStatus": "NORMAL"}}),
        )
        .await,
    );
    for enabled in [false, true] {
        let body = patch_account(&app, &writer, &account, json!({"enabled": enabled})).await;
        assert_eq!(data(&body)["updateAccount"]["enabled"], enabled);
    }
    // A member with BILLING_WRITE as well may buy capacity.
    let buyer = member(&app, customer, &["ACCOUNTS_WRITE", "BILLING_WRITE"]).await;
    data(&patch_account(&app, &buyer, &account, json!({"purchasedCps": 10})).await);
}

#[tokio::test]
async fn a_member_cannot_create_an_account_beyond_what_members_get() {
    let app = TestApp::spawn().await;
    let (customer, _) = create_customer(&app, json!({})).await;
    let writer = member(&app, customer, &["ACCOUNTS_WRITE"]).await;
    for (extra, field) in [
        (json!({"postpaid": true}), "input.postpaid"),
        (json!({"baseCpsLimit": 100_000}), "input.baseCpsLimit"),
        (
            json!({"purchasedConcurrentCalls": 500}),
            "input.purchasedConcurrentCalls",
        ),
    ] {
        let mut input =
            json!({"customerId": customer.to_string(), "name": "Edge", "email": "e@example.com"});
        for (k, v) in extra.as_object().unwrap() {
            input[k] = v.clone();
        }
        let body = app
            .graphql_with(
                &writer,
                "mutation($input: CreateAccountInput!) { createAccount(input: $input) { account { id } } }",
                json!({"input": input}),
            )
            .await;
        refused_at(&body, field);
    }
    let listed = app
        .graphql(
            "query($c: ID!) { accounts(filter: {customerId: $c}) { edges { cursor } } }",
            json!({"c": customer.to_string()}),
        )
        .await;
    assert_eq!(data(&listed)["accounts"]["edges"], json!([]));
}

#[tokio::test]
async fn a_member_may_close_telephony_controls_but_only_the_platform_opens_them() {
    let app = TestApp::spawn().await;
    let (customer, _) = create_customer(&app, json!({})).await;
    let writer = member(&app, customer, &["CUSTOMER_WRITE"]).await;
    let id = customer.to_string();
    for (input, field) in [
        (
            json!({"internationalCalling": true}),
            "input.internationalCalling",
        ),
        (
            json!({"maxOutboundCallRate": 1000}),
            "input.maxOutboundCallRate",
        ),
        (json!({"accountLock": false}), "input.accountLock"),
        (json!({"mediaBypass": true}), "input.mediaBypass"),
    ] {
        let body = app
            .graphql_with(&writer, UPDATE_CUSTOMER, json!({"id": id, "input": input}))
            .await;
        refused_at(&body, field);
    }
    let stored = app.store.customers().get(customer).await.unwrap().unwrap();
    assert!(!stored.profile.telephony.international_calling);
    assert!(stored.profile.telephony.account_lock);
    // The platform opens international calling; the member may close it,
    // and may send the current value back unchanged (a whole form).
    data(
        &app.graphql(
            UPDATE_CUSTOMER,
            json!({"id": id, "input": {"internationalCalling": true, "maxOutboundCallRate": 10}}),
        )
        .await,
    );
    data(
        &app.graphql_with(
            &writer,
            UPDATE_CUSTOMER,
            json!({"id": id, "input": {"maxOutboundCallRate": 10, "firstName": "Same"}}),
        )
        .await,
    );
    data(
        &app.graphql_with(
            &writer,
            UPDATE_CUSTOMER,
            json!({"id": id, "input": {"internationalCalling": false, "maxOutboundCallRate": 2}}),
        )
        .await,
    );
    let stored = app.store.customers().get(customer).await.unwrap().unwrap();
    assert!(!stored.profile.telephony.international_calling);
    assert_eq!(stored.profile.telephony.max_outbound_call_rate, 2);
    // Credit stays the platform's.
    let credit = app
        .graphql_with(
            &writer,
            UPDATE_CUSTOMER,
            json!({"id": id, "input": {"credit": "1000"}}),
        )
        .await;
    assert_eq!(error_code(&credit), "FORBIDDEN");
}
