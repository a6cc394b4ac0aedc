//! Customer-scoped access: what a signed-in user sees and may change, by
//! membership, permission and customer status; `viewer`; and the
//! authorization matrix of every operation × every kind of caller, which
//! `docs/access.md` writes out.

use http::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, create_customer, data, error_code};

const ALL: [&str; 8] = [
    "CUSTOMER_READ",
    "CUSTOMER_WRITE",
    "USERS_READ",
    "USERS_MANAGE",
    "ACCOUNTS_READ",
    "ACCOUNTS_WRITE",
    "BILLING_READ",
    "BILLING_WRITE",
];

async fn add(app: &TestApp, customer: Uuid, user: Uuid, permissions: &[&str]) {
    data(
        &app.graphql(
            "mutation($c: ID!, $u: ID!, $p: [Permission!]!) { addCustomerUser(customerId: $c, userId: $u, permissions: $p) { owner } }",
            json!({"c": customer.to_string(), "u": user.to_string(), "p": permissions}),
        )
        .await,
    );
}

async fn member(app: &TestApp, customer: Uuid, permissions: &[&str]) -> String {
    let user = app.create_user("member").await;
    add(app, customer, user, permissions).await;
    app.token_for(user)
}

async fn set_status(app: &TestApp, customer: Uuid, status: &str) {
    data(
        &app.graphql(
            "mutation($id: ID!, $s: CustomerStatus!) { setCustomerStatus(id: $id, status: $s) { id } }",
            json!({"id": customer.to_string(), "s": status}),
        )
        .await,
    );
}

const READ: &str = "query($id: ID!) { customer(id: $id) { id companyName } }";
const PATCH: &str = "mutation($id: ID!, $input: UpdateCustomerInput!) { updateCustomer(id: $id, input: $input) { id } }";

#[tokio::test]
async fn the_viewer_says_who_is_calling() {
    let app = TestApp::spawn().await;
    let admin = app
        .graphql(
            "{ viewer { isAdmin user { id } memberships { edges { cursor } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data(&admin)["viewer"],
        json!({"isAdmin": true, "user": null, "memberships": {"edges": []}})
    );
    let (customer, owner) = create_customer(&app, json!({})).await;
    let me = app
        .graphql_with(
            &app.token_for(owner),
            "{ viewer { isAdmin user { id } memberships { edges { node { owner permissions customer { id } } } } } }",
            json!({}),
        )
        .await;
    let viewer = &data(&me)["viewer"];
    assert_eq!(viewer["isAdmin"], false);
    assert_eq!(viewer["user"]["id"], json!(owner.to_string()));
    let node = &viewer["memberships"]["edges"][0]["node"];
    assert_eq!(node["owner"], true);
    assert_eq!(node["customer"]["id"], json!(customer.to_string()));
    assert_eq!(node["permissions"].as_array().unwrap().len(), 8);
}

#[tokio::test]
async fn a_customer_the_caller_does_not_belong_to_answers_like_one_that_does_not_exist() {
    let app = TestApp::spawn().await;
    let (customer, _) = create_customer(&app, json!({})).await;
    let (_, other_owner) = create_customer(&app, json!({})).await;
    let outsider = app.token_for(other_owner);
    let missing = Uuid::now_v7();
    let seen = app
        .graphql_with(&outsider, READ, json!({"id": customer.to_string()}))
        .await;
    let absent = app
        .graphql_with(&outsider, READ, json!({"id": missing.to_string()}))
        .await;
    assert_eq!(seen, absent);
    assert_eq!(data(&seen)["customer"], Value::Null);
    let changed = app
        .graphql_with(
            &outsider,
            PATCH,
            json!({"id": customer.to_string(), "input": {"firstName": "X"}}),
        )
        .await;
    let nowhere = app
        .graphql_with(
            &outsider,
            PATCH,
            json!({"id": missing.to_string(), "input": {"firstName": "X"}}),
        )
        .await;
    assert_eq!(error_code(&changed), "NOT_FOUND");
    assert_eq!(
        changed["errors"][0]["message"]
            .as_str()
            .unwrap()
            .replace(&customer.to_string(), "ID"),
        nowhere["errors"][0]["message"]
            .as_str()
            .unwrap()
            .replace(&missing.to_string(), "ID"),
    );
    let listed = app
        .graphql_with(
            &outsider,
            "{ customers { edges { node { id } } } }",
            json!({}),
        )
        .await;
    let ids: Vec<&Value> = data(&listed)["customers"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["node"]["id"])
        .collect();
    assert_eq!(ids.len(), 1);
    assert_ne!(ids[0], &json!(customer.to_string()));
}

#[tokio::test]
async fn inactive_and_fraud_customers_lose_their_members_and_suspended_ones_are_read_only() {
    let app = TestApp::spawn().await;
    let (customer, owner) = create_customer(&app, json!({})).await;
    let token = app.token_for(owner);
    let id = json!({"id": customer.to_string()});
    let patch = json!({"id": customer.to_string(), "input": {"firstName": "Eve"}});

    set_status(&app, customer, "SUSPENDED").await;
    data(&app.graphql_with(&token, READ, id.clone()).await);
    assert_eq!(
        error_code(&app.graphql_with(&token, PATCH, patch.clone()).await),
        "FORBIDDEN"
    );
    for status in ["INACTIVE", "ACTIVE", "FRAUD"] {
        set_status(&app, customer, status).await;
        let read = app.graphql_with(&token, READ, id.clone()).await;
        let write = app.graphql_with(&token, PATCH, patch.clone()).await;
        if status == "ACTIVE" {
            data(&read);
            data(&write);
        } else {
            assert_eq!(error_code(&read), "FORBIDDEN", "{status}");
            assert_eq!(error_code(&write), "FORBIDDEN", "{status}");
            let listed = app
                .graphql_with(&token, "{ customers { edges { cursor } } }", json!({}))
                .await;
            assert_eq!(data(&listed)["customers"]["edges"], json!([]), "{status}");
        }
    }
}

#[tokio::test]
async fn nested_fields_need_their_own_permission() {
    let app = TestApp::spawn().await;
    let (customer, _) = create_customer(&app, json!({})).await;
    let id = json!({"id": customer.to_string()});
    let reader = member(&app, customer, &["CUSTOMER_READ"]).await;
    let full = member(
        &app,
        customer,
        &[
            "CUSTOMER_READ",
            "USERS_READ",
            "BILLING_READ",
            "ACCOUNTS_READ",
        ],
    )
    .await;
    for (field, query) in [
        ("credit", "query($id: ID!) { customer(id: $id) { credit } }"),
        (
            "defaultBillMethod",
            "query($id: ID!) { customer(id: $id) { defaultBillMethod } }",
        ),
        (
            "users",
            "query($id: ID!) { customer(id: $id) { users { edges { node { user { id } } } } } }",
        ),
        (
            "accounts",
            "query($id: ID!) { customer(id: $id) { accounts { edges { cursor } } } }",
        ),
    ] {
        let refused = app.graphql_with(&reader, query, id.clone()).await;
        assert_eq!(error_code(&refused), "FORBIDDEN", "{field}");
        assert_eq!(refused["errors"][0]["path"][1], field);
        data(&app.graphql_with(&full, query, id.clone()).await);
    }
    // A member sees other members, but not their other customers.
    let listed = app
        .graphql_with(
            &full,
            "query($id: ID!) { customer(id: $id) { users { edges { node { user { id memberships { edges { cursor } } } } } } } }",
            id.clone(),
        )
        .await;
    assert_eq!(error_code(&listed), "FORBIDDEN");
}

#[tokio::test]
async fn a_mutation_payload_shows_only_the_fields_the_caller_may_read() {
    let app = TestApp::spawn().await;
    let (customer, _) = create_customer(
        &app,
        json!({"telephones": [{"telephoneType": "MOBILE", "number": "+14155550100"}], "metadata": {"secret": "m"}}),
    )
    .await;
    let stored = app.store.customers().get(customer).await.unwrap().unwrap();
    let billing = member(&app, customer, &["BILLING_WRITE"]).await;
    let patch = |selection: &str| {
        format!(
            "mutation($id: ID!) {{ updateCustomer(id: $id, input: {{lowBalanceAlertAmount: \"5\"}}) {{ {selection} }} }}"
        )
    };
    let id = json!({"id": customer.to_string()});
    // What it wrote, it may read.
    let own = app
        .graphql_with(&billing, &patch("id lowBalanceAlertAmount"), id.clone())
        .await;
    assert_eq!(data(&own)["updateCustomer"]["lowBalanceAlertAmount"], "5");
    // The profile needs CUSTOMER_READ, as in `customer(id:)`.
    for field in [
        "email",
        "telephones { number }",
        "metadata",
        "owner { email }",
        "customerKey",
        "companyName",
        "adminUser { id }",
        "status",
        "version",
    ] {
        let body = app.graphql_with(&billing, &patch(field), id.clone()).await;
        assert_eq!(error_code(&body), "FORBIDDEN", "{field}: {body}");
        assert_eq!(
            body["errors"][0]["path"][1],
            field.split(' ').next().unwrap()
        );
        let text = body.to_string();
        for secret in [
            stored.profile.email.as_str(),
            "+14155550100",
            "\"secret\"",
            stored.customer_key.as_str(),
        ] {
            assert!(!text.contains(secret), "{field} leaked {secret}: {text}");
        }
    }
    // And a profile writer does not read billing fields through its payload.
    let profile = member(&app, customer, &["CUSTOMER_WRITE"]).await;
    let body = app
        .graphql_with(
            &profile,
            "mutation($id: ID!) { updateCustomer(id: $id, input: {firstName: \"Owen\"}) { email credit } }",
            id.clone(),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    assert_eq!(body["errors"][0]["path"][1], "credit");
    // The other payloads that carry a customer show it only with CUSTOMER_READ.
    crate::accounts::tier(&app, "Base", true).await;
    let accounts = member(&app, customer, &["ACCOUNTS_WRITE"]).await;
    let body = app
        .graphql_with(
            &accounts,
            "mutation($id: ID!) { createAccount(input: {customerId: $id, name: \"P\", email: \"p@example.com\"}) { account { id customer { email } } } }",
            id.clone(),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    let managers = member(&app, customer, &["USERS_MANAGE"]).await;
    let target = app.create_user("payload").await;
    add(&app, customer, target, &[]).await;
    let body = app
        .graphql_with(
            &managers,
            "mutation($c: ID!, $u: ID!) { updateCustomerUser(customerId: $c, userId: $u, permissions: []) { owner customer { email } } }",
            json!({"c": customer.to_string(), "u": target.to_string()}),
        )
        .await;
    assert_eq!(data(&body)["updateCustomerUser"]["customer"], Value::Null);
}

#[tokio::test]
async fn users_read_alone_lists_the_members_without_the_customer() {
    let app = TestApp::spawn().await;
    let (customer, owner) = create_customer(&app, json!({})).await;
    let reader = app.create_user("users-reader").await;
    add(&app, customer, reader, &["USERS_READ"]).await;
    let token = app.token_for(reader);
    let query =
        "query($c: ID!, $after: String) { customerUsers(customerId: $c, first: 1, after: $after) {
        edges { node { owner permissions user { id email } customer { id } } }
        pageInfo { hasNextPage endCursor } } }";
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let body = app
            .graphql_with(
                &token,
                query,
                json!({"c": customer.to_string(), "after": after}),
            )
            .await;
        let list = data(&body)["customerUsers"].clone();
        for edge in list["edges"].as_array().unwrap() {
            let node = &edge["node"];
            // The members, but not the customer's profile.
            assert_eq!(node["customer"], Value::Null, "{body}");
            assert!(node["user"]["email"].is_string());
            seen.push((node["user"]["id"].clone(), node["owner"].clone()));
        }
        if list["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = list["pageInfo"]["endCursor"].clone();
    }
    seen.sort_by_key(|(id, _)| id.to_string());
    let mut expected = vec![
        (json!(owner.to_string()), json!(true)),
        (json!(reader.to_string()), json!(false)),
    ];
    expected.sort_by_key(|(id, _)| id.to_string());
    assert_eq!(seen, expected);
    // The same list `Customer.users` gives a caller who may read the customer.
    let listed = app
        .graphql(
            "query($c: ID!) { customer(id: $c) { users { edges { node { user { id } } } } } }",
            json!({"c": customer.to_string()}),
        )
        .await;
    assert_eq!(
        data(&listed)["customer"]["users"]["edges"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // Another customer, or none at all, reads as null.
    let (other, _) = create_customer(&app, json!({})).await;
    for id in [other, Uuid::now_v7()] {
        let body = app
            .graphql_with(&token, query, json!({"c": id.to_string()}))
            .await;
        assert_eq!(data(&body)["customerUsers"], Value::Null, "{body}");
    }
}

#[tokio::test]
async fn a_member_cannot_learn_which_email_addresses_other_customers_use() {
    let app = TestApp::spawn().await;
    let (customer, owner) = create_customer(&app, json!({})).await;
    let (other, _) = create_customer(&app, json!({})).await;
    let email_of = |id: Uuid| {
        let app = &app;
        async move {
            app.store
                .customers()
                .get(id)
                .await
                .unwrap()
                .unwrap()
                .profile
                .email
        }
    };
    let (own, taken) = (email_of(customer).await, email_of(other).await);
    let free = format!("free-{}@example.com", Uuid::now_v7().simple());
    let writer = member(&app, customer, &["CUSTOMER_WRITE"]).await;
    let patch = |email: &str| json!({"id": customer.to_string(), "input": {"email": email}});
    for token in [writer.clone(), app.token_for(owner)] {
        let on_taken = app.graphql_with(&token, PATCH, patch(&taken)).await;
        let on_free = app.graphql_with(&token, PATCH, patch(&free)).await;
        assert_eq!(error_code(&on_taken), "FORBIDDEN", "{on_taken}");
        // The same answer whether another customer uses the address or not.
        assert_eq!(on_taken, on_free);
        assert!(!on_taken.to_string().contains(&taken));
    }
    // Its own address, in any case, changes nothing that could collide.
    data(
        &app.graphql_with(&writer, PATCH, patch(&own.to_uppercase()))
            .await,
    );
    // Admins keep the precise answer.
    let admin = app.graphql(PATCH, patch(&taken)).await;
    assert_eq!(error_code(&admin), "CONFLICT", "{admin}");
    assert_eq!(crate::helpers::error_field(&admin), "input.email");
    data(&app.graphql(PATCH, patch(&free)).await);
    assert_eq!(email_of(customer).await, free);
}

/// Leaves a copy of `user`'s membership of `customer` in the user's
/// memberships index only (under a key no read of the table names), as
/// real DynamoDB's index still shows a membership for a moment after it is
/// removed or its permissions change. DynamoDB Local updates its indexes
/// at once, so the lag itself cannot be produced.
async fn leave_in_index(app: &TestApp, customer: Uuid, user: Uuid) {
    use aws_sdk_dynamodb::types::AttributeValue;
    let client = switchboard::store::client_from_env().await;
    let mut item = client
        .get_item()
        .table_name(app.store.table_name())
        .key("pk", AttributeValue::S(format!("CUSTOMER#{customer}")))
        .key("sk", AttributeValue::S(format!("MEMBER#{user}")))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
        .expect("the membership");
    item.insert("pk".into(), AttributeValue::S(format!("STALE#{customer}")));
    client
        .put_item()
        .table_name(app.store.table_name())
        .set_item(Some(item))
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn a_revoked_membership_the_index_still_lists_grants_nothing() {
    let app = TestApp::spawn().await;
    let (customer, _) = create_customer(&app, json!({})).await;
    let user = app.create_user("revoked").await;
    add(&app, customer, user, &ALL).await;
    leave_in_index(&app, customer, user).await;
    data(
        &app.graphql(
            "mutation($c: ID!, $u: ID!) { removeCustomerUser(customerId: $c, userId: $u) }",
            json!({"c": customer.to_string(), "u": user.to_string()}),
        )
        .await,
    );
    // The index still lists the membership, with every permission.
    let listed = app
        .store
        .memberships()
        .list_for_user(
            user,
            &switchboard::domain::page::PageRequest::new(20, None).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 1);
    let token = app.token_for(user);
    // Neither the membership list nor a decision on its customer trusts it.
    let viewer = app
        .graphql_with(
            &token,
            "{ viewer { memberships { edges { node { permissions customer { id email } } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data(&viewer)["viewer"]["memberships"]["edges"],
        json!([]),
        "{viewer}"
    );
    let customers = app
        .graphql_with(
            &token,
            "{ customers { edges { node { id email users { edges { cursor } } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data(&customers)["customers"]["edges"],
        json!([]),
        "{customers}"
    );
    let read = app
        .graphql_with(&token, READ, json!({"id": customer.to_string()}))
        .await;
    assert_eq!(data(&read)["customer"], Value::Null);
}

#[tokio::test]
async fn a_manager_grants_only_what_it_holds_and_only_the_owner_hands_over_ownership() {
    let app = TestApp::spawn().await;
    let (customer, owner) = create_customer(&app, json!({})).await;
    let manager = member(&app, customer, &["USERS_MANAGE", "CUSTOMER_READ"]).await;
    let target = app.create_user("target").await;
    add(&app, customer, target, &[]).await;
    let update = "mutation($c: ID!, $u: ID!, $p: [Permission!], $o: Boolean) {
        updateCustomerUser(customerId: $c, userId: $u, permissions: $p, owner: $o) { owner permissions } }";
    let vars = |p: Value, o: Value| json!({"c": customer.to_string(), "u": target.to_string(), "p": p, "o": o});
    let granted = app
        .graphql_with(
            &manager,
            update,
            vars(json!(["CUSTOMER_READ"]), Value::Null),
        )
        .await;
    assert_eq!(
        data(&granted)["updateCustomerUser"]["permissions"],
        json!(["CUSTOMER_READ"])
    );
    let too_much = app
        .graphql_with(
            &manager,
            update,
            vars(json!(["BILLING_WRITE"]), Value::Null),
        )
        .await;
    assert_eq!(error_code(&too_much), "FORBIDDEN");
    let transfer = app
        .graphql_with(&manager, update, vars(Value::Null, json!(true)))
        .await;
    assert_eq!(error_code(&transfer), "FORBIDDEN");
    let by_owner = app
        .graphql_with(
            &app.token_for(owner),
            update,
            vars(Value::Null, json!(true)),
        )
        .await;
    assert_eq!(data(&by_owner)["updateCustomerUser"]["owner"], true);
    // The former owner is now a plain member without permissions.
    let former = app
        .graphql_with(
            &app.token_for(owner),
            READ,
            json!({"id": customer.to_string()}),
        )
        .await;
    assert_eq!(error_code(&former), "FORBIDDEN");
}

#[tokio::test]
async fn members_list_only_their_own_customers_and_filter_them() {
    let app = TestApp::spawn().await;
    let user = app.create_user("multi").await;
    let (first, _) = create_customer(&app, json!({"companyName": "Zephyr Works"})).await;
    let (second, _) = create_customer(&app, json!({"companyName": "Aurora Labs"})).await;
    let (_hidden, _) = create_customer(&app, json!({"companyName": "Zephyr Hidden"})).await;
    add(&app, first, user, &["CUSTOMER_READ"]).await;
    add(&app, second, user, &["CUSTOMER_READ"]).await;
    let token = app.token_for(user);
    let list = |filter: Value| {
        let token = token.clone();
        let app = &app;
        async move {
            let body = app
                .graphql_with(
                    &token,
                    "query($f: CustomerFilterInput) { customers(first: 1, filter: $f) { edges { node { id } } pageInfo { hasNextPage } } }",
                    json!({"f": filter}),
                )
                .await;
            data(&body)["customers"].clone()
        }
    };
    let page = list(Value::Null).await;
    assert_eq!(page["edges"][0]["node"]["id"], json!(second.to_string()));
    assert_eq!(page["pageInfo"]["hasNextPage"], true);
    let zephyr = list(json!({"search": "zeph"})).await;
    assert_eq!(zephyr["edges"][0]["node"]["id"], json!(first.to_string()));
    assert_eq!(zephyr["pageInfo"]["hasNextPage"], false);
}

/// What a cell of the matrix expects.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Outcome {
    /// Allowed: no errors.
    Ok,
    /// Allowed, and refused later for a reason unrelated to access (so the
    /// fixture is not changed): this code.
    After(&'static str),
    /// The answer for a customer that does not exist: `null`.
    Null,
    /// Refused with this code.
    Denied(&'static str),
    /// HTTP 401.
    Unauth,
}

use Outcome::{After, Denied, Null, Ok as Allowed, Unauth};

const NOT_FOUND: Outcome = Denied("NOT_FOUND");
const FORBIDDEN: Outcome = Denied("FORBIDDEN");

/// The platform roles besides admin, in matrix column order (the default
/// `PLATFORM_ROLES` maps each token role by its own name).
const ROLE_COLUMNS: [&str; 3] = ["support", "billing", "telephony-edge"];
/// Support and billing read everything; the telephony edge reads nothing.
const READS: [Outcome; 3] = [Allowed, Allowed, FORBIDDEN];
/// A change none of them may make.
const CHANGES_NOTHING: [Outcome; 3] = [FORBIDDEN; 3];
/// A billing control or billing setting: billing only.
const BILLING_ONLY: [Outcome; 3] = [FORBIDDEN, Allowed, FORBIDDEN];

/// The callers, in matrix column order.
const CALLERS: [&str; 17] = [
    "admin",
    "support",
    "billing",
    "telephony-edge",
    "owner",
    "CUSTOMER_READ",
    "CUSTOMER_WRITE",
    "USERS_READ",
    "USERS_MANAGE",
    "ACCOUNTS_READ",
    "ACCOUNTS_WRITE",
    "BILLING_READ",
    "BILLING_WRITE",
    "other customer",
    "no membership",
    "disabled",
    "no token",
];

/// A row: admin, the other platform roles (`platform`, in
/// [`ROLE_COLUMNS`] order), owner, then members by permission (`members`
/// gives the outcome for each permission that allows the operation, `rest`
/// for the others), then the other customer's member and the user without
/// memberships (`outsider`). Disabled users are always 401, and so are
/// missing tokens except for `acceptInvitation`.
struct Row {
    name: &'static str,
    query: String,
    vars: Value,
    admin: Outcome,
    platform: [Outcome; 3],
    owner: Outcome,
    members: (&'static [&'static str], Outcome),
    rest: Outcome,
    outsider: Outcome,
    no_token: Outcome,
}

impl Row {
    fn expected(&self, caller: &str) -> Outcome {
        if let Some(i) = ROLE_COLUMNS.iter().position(|r| *r == caller) {
            return self.platform[i];
        }
        match caller {
            "admin" => self.admin,
            "owner" => self.owner,
            "other customer" | "no membership" => self.outsider,
            "disabled" => Unauth,
            "no token" => self.no_token,
            permission if self.members.0.contains(&permission) => self.members.1,
            _ => self.rest,
        }
    }
}

/// Whether the reply matches the cell: `None` if so, else what differs.
fn check(row: &Row, caller: &str, status: StatusCode, body: &Value) -> Option<String> {
    let expected = row.expected(caller);
    let code = body["errors"][0]["extensions"]["code"].as_str();
    let matches = match expected {
        Unauth => status == StatusCode::UNAUTHORIZED && code == Some("UNAUTHENTICATED"),
        Allowed => status == StatusCode::OK && body.get("errors").is_none(),
        Null => {
            body.get("errors").is_none()
                && body["data"]
                    .as_object()
                    .is_some_and(|data| data.values().all(Value::is_null))
        }
        After(wanted) | Denied(wanted) => code == Some(wanted),
    };
    (!matches).then(|| {
        format!(
            "{} × {caller}: expected {expected:?}, got {status} {body}",
            row.name
        )
    })
}

#[tokio::test]
#[expect(clippy::too_many_lines, reason = "the matrix is one table")]
async fn authorization_matrix() {
    let app = TestApp::spawn().await;
    let (customer, owner) = create_customer(&app, json!({})).await;
    let (other, other_owner) = create_customer(&app, json!({})).await;
    let customer_s = customer.to_string();
    let stored = app.store.customers().get(customer).await.unwrap().unwrap();
    let other_email = app
        .store
        .customers()
        .get(other)
        .await
        .unwrap()
        .unwrap()
        .profile
        .email;
    let target = app.create_user("target").await;
    add(&app, customer, target, &[]).await;
    let target_email = app.store.users().get(target).await.unwrap().unwrap().email;
    let revoked = data(
        &app.graphql(
            "mutation($c: ID!) { inviteCustomerUser(customerId: $c, email: \"gone@example.com\") { invitation { id } } }",
            json!({"c": customer.to_string()}),
        )
        .await,
    )["inviteCustomerUser"]["invitation"]["id"]
        .clone();
    data(
        &app.graphql(
            "mutation($id: ID!) { revokeInvitation(id: $id) { id } }",
            json!({"id": revoked}),
        )
        .await,
    );
    let tier = data(
        &app.graphql(
            "mutation { createPricingTier(input: {name: \"Matrix\", currency: \"USD\", ratePerMinute: \"1\"}) { id } }",
            json!({}),
        )
        .await,
    )["createPricingTier"]["id"]
        .clone();
    let mut tokens: Vec<(&str, Option<String>)> = vec![
        ("admin", Some(app.admin_token())),
        ("support", Some(app.platform_token("support"))),
        ("billing", Some(app.platform_token("billing"))),
        ("telephony-edge", Some(app.platform_token("telephony-edge"))),
        ("owner", Some(app.token_for(owner))),
    ];
    for permission in ALL {
        tokens.push((
            permission,
            Some(member(&app, customer, &[permission]).await),
        ));
    }
    tokens.push(("other customer", Some(app.token_for(other_owner))));
    tokens.push((
        "no membership",
        Some(app.token_for(app.create_user("none").await)),
    ));
    let disabled = app.create_user("disabled").await;
    add(&app, customer, disabled, &ALL).await;
    app.store
        .users()
        .set_status(
            disabled,
            switchboard::domain::user::UserStatus::Disabled,
            &switchboard::domain::audit::Change::system("setUserStatus"),
        )
        .await
        .unwrap();
    tokens.push(("disabled", Some(app.token_for(disabled))));
    tokens.push(("no token", None));
    assert_eq!(tokens.iter().map(|(n, _)| *n).collect::<Vec<_>>(), CALLERS);

    let c = || json!({"id": customer_s});
    let everyone = |name: &'static str, query: &str, vars: Value| Row {
        name,
        query: query.to_owned(),
        vars,
        admin: Allowed,
        platform: READS,
        owner: Allowed,
        members: (&[], Allowed),
        rest: Allowed,
        outsider: Allowed,
        no_token: Unauth,
    };
    let admin_only = |name: &'static str, query: &str, vars: Value, admin: Outcome| Row {
        name,
        query: query.to_owned(),
        vars,
        admin,
        platform: CHANGES_NOTHING,
        owner: FORBIDDEN,
        members: (&[], FORBIDDEN),
        rest: FORBIDDEN,
        outsider: FORBIDDEN,
        no_token: Unauth,
    };
    // What only the platform reads: every platform role that reads.
    let platform_read = |name: &'static str, query: &str, vars: Value| Row {
        platform: READS,
        ..admin_only(name, query, vars, Allowed)
    };
    let read_customer = |name: &'static str, query: &str, vars: Value| Row {
        name,
        query: query.to_owned(),
        vars,
        admin: Allowed,
        platform: READS,
        owner: Allowed,
        members: (&["CUSTOMER_READ", "CUSTOMER_WRITE"], Allowed),
        rest: FORBIDDEN,
        outsider: Null,
        no_token: Unauth,
    };
    let on_customer = |name: &'static str,
                       query: &str,
                       vars: Value,
                       allowed: Outcome,
                       owner: Outcome,
                       members: &'static [&'static str]| Row {
        name,
        query: query.to_owned(),
        vars,
        admin: allowed,
        platform: CHANGES_NOTHING,
        owner,
        members: (members, allowed),
        rest: FORBIDDEN,
        outsider: NOT_FOUND,
        no_token: Unauth,
    };
    let account = data(
        &app.graphql(
            "mutation($c: ID!) { createAccount(input: {customerId: $c, name: \"Matrix\", email: \"m@example.com\"}) { account { id authId } } }",
            json!({"c": customer_s}),
        )
        .await,
    )["createAccount"]["account"]
        .clone();
    let (auth_id, account) = (account["authId"].clone(), account["id"].clone());
    let on_account = || json!({"id": account});
    let read_accounts = |name: &'static str, query: &str, vars: Value, outsider: Outcome| Row {
        name,
        query: query.to_owned(),
        vars,
        admin: Allowed,
        platform: READS,
        owner: Allowed,
        members: (&["ACCOUNTS_READ", "ACCOUNTS_WRITE"], Allowed),
        rest: FORBIDDEN,
        outsider,
        no_token: Unauth,
    };
    let rows = vec![
        everyone("viewer", "{ viewer { isAdmin } }", json!({})),
        everyone(
            "pricingTiers",
            "{ pricingTiers { edges { cursor } } }",
            json!({}),
        ),
        everyone(
            "pricingTier",
            "query($id: ID!) { pricingTier(id: $id) { id } }",
            json!({"id": tier}),
        ),
        everyone(
            "defaultPricingTier",
            "{ defaultPricingTier { id } }",
            json!({}),
        ),
        read_customer("customer", READ, c()),
        read_customer(
            "customerByEmail",
            "query($e: String!) { customerByEmail(email: $e) { id } }",
            json!({"e": stored.profile.email}),
        ),
        read_customer(
            "customerByKey",
            "query($k: String!) { customerByKey(customerKey: $k) { id } }",
            json!({"k": stored.customer_key}),
        ),
        Row {
            // Members without CUSTOMER_READ and outsiders get a list without it.
            outsider: Allowed,
            rest: Allowed,
            ..read_customer("customers", "{ customers { edges { cursor } } }", json!({}))
        },
        platform_read(
            "user",
            "query($id: ID!) { user(id: $id) { id } }",
            json!({"id": target.to_string()}),
        ),
        platform_read(
            "auditEvents",
            "query($id: ID!) { auditEvents(entityType: CUSTOMER, entityId: $id, first: 5) { nodes { operation } } }",
            c(),
        ),
        Row {
            name: "Customer.auditEvents",
            query: "query($id: ID!) { customer(id: $id) { auditEvents(first: 5) { nodes { operation } } } }".into(),
            vars: c(),
            admin: Allowed,
            platform: READS,
            owner: FORBIDDEN,
            members: (&[], FORBIDDEN),
            rest: FORBIDDEN,
            outsider: Null,
            no_token: Unauth,
        },
        platform_read(
            "userByEmail",
            "{ userByEmail(email: \"nobody@example.com\") { id } }",
            json!({}),
        ),
        platform_read(
            "users",
            "{ users { edges { cursor } } }",
            json!({}),
        ),
        admin_only(
            "createPricingTier",
            "mutation { createPricingTier(input: {name: \" \", currency: \"USD\", ratePerMinute: \"1\"}) { id } }",
            json!({}),
            After("BAD_USER_INPUT"),
        ),
        admin_only(
            "updatePricingTier",
            "mutation($id: ID!) { updatePricingTier(id: $id, input: {ratePerMinute: \"x\"}) { id } }",
            json!({"id": tier}),
            After("BAD_USER_INPUT"),
        ),
        admin_only(
            "setDefaultPricingTier",
            "mutation($id: ID!) { setDefaultPricingTier(id: $id) { id } }",
            json!({"id": tier}),
            Allowed,
        ),
        admin_only(
            "deletePricingTier",
            "mutation($id: ID!) { deletePricingTier(id: $id) }",
            json!({"id": tier}),
            After("FAILED_PRECONDITION"),
        ),
        admin_only(
            "createCustomer",
            "mutation { createCustomer(input: {customerType: PERSONAL, firstName: \"A\", lastName: \"B\", email: \"bad\", password: \"a long passphrase\", country: \"GB\", currency: \"GBP\"}) { id } }",
            json!({}),
            After("BAD_USER_INPUT"),
        ),
        on_customer(
            "updateCustomer (profile)",
            PATCH,
            json!({"id": customer_s, "input": {"firstName": "Owen"}}),
            Allowed,
            Allowed,
            &["CUSTOMER_WRITE"],
        ),
        Row {
            platform: BILLING_ONLY,
            ..on_customer(
                "updateCustomer (billing)",
                PATCH,
                json!({"id": customer_s, "input": {"lowBalanceAlertAmount": "5"}}),
                Allowed,
                Allowed,
                &["BILLING_WRITE"],
            )
        },
        // Admins learn the address is taken; members may not move it at all.
        on_customer(
            "updateCustomer (another email)",
            PATCH,
            json!({"id": customer_s, "input": {"email": other_email}}),
            After("CONFLICT"),
            FORBIDDEN,
            &[],
        ),
        // Billing controls: the platform's, billing's too.
        Row {
            platform: BILLING_ONLY,
            ..on_customer(
                "updateCustomer (credit, delinquent)",
                PATCH,
                json!({"id": customer_s, "input": {"credit": "0", "delinquent": false}}),
                Allowed,
                FORBIDDEN,
                &[],
            )
        },
        // A platform control: admins only.
        on_customer(
            "updateCustomer (allowed domains)",
            PATCH,
            json!({"id": customer_s, "input": {"allowedDomainsOrigins": [], "allowedDomainsRegistration": []}}),
            Allowed,
            FORBIDDEN,
            &[],
        ),
        // Quotas: the platform's admin and billing roles. The quotas set
        // are none, so every allowed cell changes nothing.
        Row {
            platform: BILLING_ONLY,
            ..admin_only(
                "setCustomerQuotas",
                "mutation($id: ID!) { setCustomerQuotas(id: $id, quotas: {}) { id } }",
                c(),
                Allowed,
            )
        },
        admin_only(
            "setCustomerStatus",
            "mutation($id: ID!) { setCustomerStatus(id: $id, status: ACTIVE) { id } }",
            c(),
            Allowed,
        ),
        admin_only(
            "deleteCustomer",
            "mutation($id: ID!) { deleteCustomer(id: $id) }",
            c(),
            After("FAILED_PRECONDITION"),
        ),
        admin_only(
            "createUser",
            "mutation { createUser(input: {email: \"bad\", firstName: \"A\", lastName: \"B\", password: \"a long passphrase\"}) { id } }",
            json!({}),
            After("BAD_USER_INPUT"),
        ),
        admin_only(
            "updateUser",
            "mutation($id: ID!) { updateUser(id: $id, input: {firstName: \"Test\"}) { id } }",
            json!({"id": target.to_string()}),
            Allowed,
        ),
        admin_only(
            "setUserPassword",
            "mutation($id: ID!) { setUserPassword(id: $id, password: \"short\") { id } }",
            json!({"id": target.to_string()}),
            After("BAD_USER_INPUT"),
        ),
        admin_only(
            "setUserStatus",
            "mutation($id: ID!) { setUserStatus(id: $id, status: ACTIVE) { id } }",
            json!({"id": target.to_string()}),
            Allowed,
        ),
        admin_only(
            "deleteUser",
            "mutation($id: ID!) { deleteUser(id: $id) }",
            json!({"id": owner.to_string()}),
            After("FAILED_PRECONDITION"),
        ),
        admin_only(
            "addCustomerUser",
            "mutation($c: ID!, $u: ID!) { addCustomerUser(customerId: $c, userId: $u) { owner } }",
            json!({"c": customer_s, "u": target.to_string()}),
            After("CONFLICT"),
        ),
        on_customer(
            "updateCustomerUser (permissions it holds)",
            "mutation($c: ID!, $u: ID!) { updateCustomerUser(customerId: $c, userId: $u, permissions: []) { owner } }",
            json!({"c": customer_s, "u": target.to_string()}),
            Allowed,
            Allowed,
            &["USERS_MANAGE"],
        ),
        on_customer(
            "updateCustomerUser (owner: true)",
            "mutation($c: ID!, $u: ID!) { updateCustomerUser(customerId: $c, userId: $u, owner: true) { owner } }",
            json!({"c": customer_s, "u": owner.to_string()}),
            Allowed,
            Allowed,
            &[],
        ),
        on_customer(
            "removeCustomerUser",
            "mutation($c: ID!, $u: ID!) { removeCustomerUser(customerId: $c, userId: $u) }",
            json!({"c": customer_s, "u": owner.to_string()}),
            After("FAILED_PRECONDITION"),
            After("FAILED_PRECONDITION"),
            &["USERS_MANAGE"],
        ),
        Row {
            members: (&["USERS_READ", "USERS_MANAGE"], Allowed),
            ..read_customer(
                "invitations",
                "query($c: ID!) { invitations(customerId: $c) { edges { cursor } } }",
                json!({"c": customer_s}),
            )
        },
        Row {
            members: (&["USERS_READ", "USERS_MANAGE"], Allowed),
            ..read_customer(
                "customerUsers",
                "query($c: ID!) { customerUsers(customerId: $c) { edges { node { owner permissions user { id email } } } } }",
                json!({"c": customer_s}),
            )
        },
        on_customer(
            "inviteCustomerUser",
            "mutation($c: ID!, $e: String!) { inviteCustomerUser(customerId: $c, email: $e) { replayed } }",
            json!({"c": customer_s, "e": target_email}),
            After("CONFLICT"),
            After("CONFLICT"),
            &["USERS_MANAGE"],
        ),
        on_customer(
            "revokeInvitation",
            "mutation($id: ID!) { revokeInvitation(id: $id) { id } }",
            json!({"id": revoked}),
            After("FAILED_PRECONDITION"),
            After("FAILED_PRECONDITION"),
            &["USERS_MANAGE"],
        ),
        Row {
            admin: After("FAILED_PRECONDITION"),
            // Its own token is the credential: a platform token, naming no
            // user, accepts like no token at all.
            platform: [After("FAILED_PRECONDITION"); 3],
            owner: After("FAILED_PRECONDITION"),
            members: (&[], After("FAILED_PRECONDITION")),
            rest: After("FAILED_PRECONDITION"),
            outsider: After("FAILED_PRECONDITION"),
            no_token: After("FAILED_PRECONDITION"),
            ..everyone(
                "acceptInvitation",
                "mutation { acceptInvitation(token: \"unknown\", firstName: \"A\", lastName: \"B\", password: \"a long passphrase\") { userId } }",
                json!({}),
            )
        },
        read_accounts(
            "account",
            "query($id: ID!) { account(id: $id) { id } }",
            on_account(),
            Null,
        ),
        read_accounts(
            "accountByAuthId",
            "query($a: String!) { accountByAuthId(authId: $a) { id } }",
            json!({"a": auth_id}),
            Null,
        ),
        // Another customer's accounts read as none at all.
        read_accounts(
            "accounts of a customer",
            "query($id: ID!) { accounts(filter: {customerId: $id}) { edges { cursor } } }",
            c(),
            Allowed,
        ),
        on_customer(
            "createAccount",
            "mutation($id: ID!) { createAccount(input: {customerId: $id, name: \"Member\", email: \"a@example.com\"}) { account { id } } }",
            c(),
            Allowed,
            Allowed,
            &["ACCOUNTS_WRITE"],
        ),
        on_customer(
            "updateAccount",
            "mutation($id: ID!) { updateAccount(id: $id, input: {description: \"changed\"}) { id } }",
            on_account(),
            Allowed,
            Allowed,
            &["ACCOUNTS_WRITE"],
        ),
        on_customer(
            "rotateAccountAuthSecret",
            "mutation($id: ID!) { rotateAccountAuthSecret(id: $id) { account { id } } }",
            on_account(),
            Allowed,
            Allowed,
            &["ACCOUNTS_WRITE"],
        ),
        // The credit line is a billing control: the platform's, billing's too.
        Row {
            platform: BILLING_ONLY,
            ..on_customer(
                "updateAccount creditLimit",
                "mutation($id: ID!) { updateAccount(id: $id, input: {creditLimit: \"10\"}) { id } }",
                on_account(),
                Allowed,
                FORBIDDEN,
                &[],
            )
        },
        // Risk, verification and tier are platform controls: admins only.
        on_customer(
            "updateAccount riskRating",
            "mutation($id: ID!) { updateAccount(id: $id, input: {riskRating: 0}) { id } }",
            on_account(),
            Allowed,
            FORBIDDEN,
            &[],
        ),
        admin_only(
            "deleteAccount",
            "mutation { deleteAccount(id: \"0190a000-0000-7000-8000-000000000000\") }",
            json!({}),
            After("NOT_FOUND"),
        ),
        // The telephony edge's one call (a wrong secret: refused as such).
        Row {
            platform: [FORBIDDEN, FORBIDDEN, After("UNAUTHENTICATED")],
            ..admin_only(
                "verifyAccountCredentials",
                "mutation { verifyAccountCredentials(authId: \"MA_AAAAAAAAAAAAAAAAAAAA\", authSecret: \"x\") { id } }",
                json!({}),
                After("UNAUTHENTICATED"),
            )
        },
        platform_read(
            "PricingTier.accounts",
            "query($id: ID!) { pricingTier(id: $id) { accounts { edges { cursor } } } }",
            json!({"id": tier}),
        ),
    ];
    // Every cell runs; the disagreements are reported together.
    let mut cells = 0;
    let mut wrong = Vec::new();
    for row in &rows {
        for (caller, token) in &tokens {
            let reply = app
                .post_graphql(token.as_deref(), &row.query, row.vars.clone())
                .await;
            cells += 1;
            wrong.extend(check(row, caller, reply.status, &reply.json()));
        }
    }
    assert_eq!(cells, rows.len() * CALLERS.len());
    assert!(
        wrong.is_empty(),
        "{} of {cells} cells disagree:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
