//! Quotas the platform sets on a customer: accounts, members and the
//! capacity its accounts may buy, each enforced by a condition in the
//! transaction that would exceed it, so concurrent creates cannot
//! overshoot; each refusal names its quota.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, create_customer, data, error_code, error_field};

const SET: &str = "mutation($id: ID!, $q: CustomerQuotasInput!) { setCustomerQuotas(id: $id, quotas: $q) { quotas { maxAccounts maxUsers maxPurchasedCps maxPurchasedConcurrentCalls } } }";
const USAGE: &str = "query($id: ID!) { customer(id: $id) { usage { accounts users purchasedCps purchasedConcurrentCalls } } }";
const CREATE_ACCOUNT: &str =
    "mutation($input: CreateAccountInput!) { createAccount(input: $input) { account { id } } }";

async fn quotas(app: &TestApp, customer: Uuid, q: Value) {
    data(
        &app.graphql(SET, json!({"id": customer.to_string(), "q": q}))
            .await,
    );
}

async fn usage(app: &TestApp, customer: Uuid) -> Value {
    data(
        &app.graphql(USAGE, json!({"id": customer.to_string()}))
            .await,
    )["customer"]["usage"]
        .clone()
}

async fn with_tier(app: &TestApp) {
    data(
        &app.graphql(
            "mutation { createPricingTier(input: {name: \"Quota\", currency: \"USD\", ratePerMinute: \"1\"}) { id } }",
            json!({}),
        )
        .await,
    );
}

fn account(customer: Uuid, extra: &Value) -> Value {
    let mut input =
        json!({"customerId": customer.to_string(), "name": "Q", "email": "q@example.com"});
    for (k, v) in extra.as_object().unwrap() {
        input[k] = v.clone();
    }
    json!({"input": input})
}

fn quota_refused(body: &Value, quota: &str) {
    assert_eq!(error_code(body), "QUOTA_EXCEEDED", "{body}");
    assert_eq!(error_field(body), quota, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_two_concurrent_creates_against_a_quota_of_ten_leave_exactly_ten() {
    let app = TestApp::spawn().await;
    with_tier(&app).await;
    let (customer, _) = create_customer(&app, json!({})).await;
    quotas(&app, customer, json!({"maxAccounts": 10})).await;
    let results = futures::future::join_all(
        (0..32).map(|_| app.graphql(CREATE_ACCOUNT, account(customer, &json!({})))),
    )
    .await;
    let created = results.iter().filter(|b| b.get("errors").is_none()).count();
    assert_eq!(created, 10, "{results:?}");
    for refused in results.iter().filter(|b| b.get("errors").is_some()) {
        quota_refused(refused, "maxAccounts");
    }
    assert_eq!(usage(&app, customer).await["accounts"], 10);
    let listed = app
        .graphql(
            "query($c: ID!) { accounts(first: 100, filter: {customerId: $c}) { edges { cursor } } }",
            json!({"c": customer.to_string()}),
        )
        .await;
    assert_eq!(
        data(&listed)["accounts"]["edges"].as_array().unwrap().len(),
        10
    );
    // Raising the quota makes room again.
    quotas(&app, customer, json!({"maxAccounts": 11})).await;
    data(
        &app.graphql(CREATE_ACCOUNT, account(customer, &json!({})))
            .await,
    );
}

#[tokio::test]
async fn the_users_quota_counts_members_added_and_accepted_and_frees_a_place_on_removal() {
    let app = TestApp::spawn().await;
    let (customer, _) = create_customer(&app, json!({})).await;
    assert_eq!(usage(&app, customer).await["users"], 1, "the owner");
    quotas(&app, customer, json!({"maxUsers": 2})).await;
    let add =
        "mutation($c: ID!, $u: ID!) { addCustomerUser(customerId: $c, userId: $u) { owner } }";
    let first = app.create_user("first").await;
    let second = app.create_user("second").await;
    let vars = |u: Uuid| json!({"c": customer.to_string(), "u": u.to_string()});
    data(&app.graphql(add, vars(first)).await);
    quota_refused(&app.graphql(add, vars(second)).await, "maxUsers");
    // Nor can an invitation be sent, or accepted, past the quota.
    let invite = app
        .graphql(
            "mutation($c: ID!, $e: String!) { inviteCustomerUser(customerId: $c, email: $e) { invitation { id } } }",
            json!({"c": customer.to_string(), "e": format!("late-{}@example.com", Uuid::now_v7().simple())}),
        )
        .await;
    quota_refused(&invite, "maxUsers");
    assert_eq!(usage(&app, customer).await["users"], 2);
    data(
        &app.graphql(
            "mutation($c: ID!, $u: ID!) { removeCustomerUser(customerId: $c, userId: $u) }",
            vars(first),
        )
        .await,
    );
    assert_eq!(usage(&app, customer).await["users"], 1);
    // An invitation sent while there was room cannot be accepted once the
    // place is taken.
    let invitee = format!("invitee-{}@example.com", Uuid::now_v7().simple());
    data(
        &app.graphql(
            "mutation($c: ID!, $e: String!) { inviteCustomerUser(customerId: $c, email: $e) { invitation { id } } }",
            json!({"c": customer.to_string(), "e": invitee}),
        )
        .await,
    );
    data(&app.graphql(add, vars(second)).await);
    let token = crate::mailbox::latest_to(&invitee).await.token();
    let accepted = app
        .post_graphql(
            None,
            "mutation($t: String!) { acceptInvitation(token: $t, firstName: \"I\", lastName: \"V\", password: \"a long passphrase\") { userId } }",
            json!({"t": token}),
        )
        .await;
    quota_refused(&accepted.json(), "maxUsers");
    assert_eq!(usage(&app, customer).await["users"], 2);
}

#[tokio::test]
async fn purchases_stay_within_the_customers_capacity_quotas() {
    let app = TestApp::spawn().await;
    with_tier(&app).await;
    let (customer, _) = create_customer(&app, json!({})).await;
    quotas(
        &app,
        customer,
        json!({"maxPurchasedCps": 10, "maxPurchasedConcurrentCalls": 20}),
    )
    .await;
    let first = data(
        &app.graphql(
            CREATE_ACCOUNT,
            account(
                customer,
                &json!({"purchasedCps": 6, "purchasedConcurrentCalls": 20}),
            ),
        )
        .await,
    )["createAccount"]["account"]["id"]
        .clone();
    quota_refused(
        &app.graphql(
            CREATE_ACCOUNT,
            account(customer, &json!({"purchasedCps": 6})),
        )
        .await,
        "maxPurchasedCps",
    );
    quota_refused(
        &app.graphql(
            CREATE_ACCOUNT,
            account(customer, &json!({"purchasedConcurrentCalls": 1})),
        )
        .await,
        "maxPurchasedConcurrentCalls",
    );
    let patch = "mutation($id: ID!, $input: UpdateAccountInput!) { updateAccount(id: $id, input: $input) { purchasedCps } }";
    quota_refused(
        &app.graphql(patch, json!({"id": first, "input": {"purchasedCps": 11}}))
            .await,
        "maxPurchasedCps",
    );
    data(
        &app.graphql(patch, json!({"id": first, "input": {"purchasedCps": 10}}))
            .await,
    );
    assert_eq!(
        usage(&app, customer).await,
        json!({"accounts": 1, "users": 1, "purchasedCps": 10, "purchasedConcurrentCalls": 20})
    );
    // Deleting the account frees its capacity.
    data(
        &app.graphql(
            "mutation($id: ID!) { deleteAccount(id: $id) }",
            json!({"id": first}),
        )
        .await,
    );
    assert_eq!(
        usage(&app, customer).await,
        json!({"accounts": 0, "users": 1, "purchasedCps": 0, "purchasedConcurrentCalls": 0})
    );
    data(
        &app.graphql(
            CREATE_ACCOUNT,
            account(customer, &json!({"purchasedCps": 10})),
        )
        .await,
    );
}

#[tokio::test]
async fn only_the_platforms_admin_and_billing_roles_set_quotas() {
    let app = TestApp::spawn().await;
    let (customer, owner) = create_customer(&app, json!({})).await;
    let vars = json!({"id": customer.to_string(), "q": {"maxAccounts": 3}});
    let billing = app
        .graphql_with(&app.platform_token("billing"), SET, vars.clone())
        .await;
    assert_eq!(
        data(&billing)["setCustomerQuotas"]["quotas"]["maxAccounts"],
        3
    );
    for token in [app.platform_token("support"), app.token_for(owner)] {
        let body = app.graphql_with(&token, SET, vars.clone()).await;
        assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    }
    let bad = app
        .graphql(
            SET,
            json!({"id": customer.to_string(), "q": {"maxUsers": -1}}),
        )
        .await;
    assert_eq!(error_code(&bad), "BAD_USER_INPUT");
    assert_eq!(error_field(&bad), "quotas.maxUsers");
    // The owner sees its quotas and usage.
    let seen = app
        .graphql_with(
            &app.token_for(owner),
            "query($id: ID!) { customer(id: $id) { quotas { maxAccounts maxUsers } usage { users } } }",
            json!({"id": customer.to_string()}),
        )
        .await;
    assert_eq!(
        data(&seen)["customer"],
        json!({"quotas": {"maxAccounts": 3, "maxUsers": null}, "usage": {"users": 1}})
    );
}
