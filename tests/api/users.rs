//! Users end to end: the admin's user directory (create, look up, search,
//! patch with the email guard moving, password, status, deletion), and a
//! customer's users with permissions, role clearing, registration domains
//! and the single owner under concurrent transfers.

use std::collections::HashSet;

use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, create_customer, data, error_code, error_field};

const USER_FIELDS: &str =
    "id email firstName lastName status lastLoginAt createdAt updatedAt version";

const CREATE_USER: &str = "mutation($input: CreateUserInput!) {
    createUser(input: $input) { id email firstName lastName status lastLoginAt version } }";
const UPDATE_USER: &str = "mutation($id: ID!, $input: UpdateUserInput!, $v: Int) {
    updateUser(id: $id, input: $input, expectedVersion: $v) { id email firstName lastName version } }";
const DELETE_USER: &str = "mutation($id: ID!) { deleteUser(id: $id) }";
const ADD: &str = "mutation($c: ID!, $u: ID!, $p: [Permission!], $o: Boolean) {
    addCustomerUser(customerId: $c, userId: $u, permissions: $p, owner: $o) {
        owner permissions user { id } customer { id owner { id } } } }";
const UPDATE_MEMBER: &str = "mutation($c: ID!, $u: ID!, $p: [Permission!], $o: Boolean) {
    updateCustomerUser(customerId: $c, userId: $u, permissions: $p, owner: $o) {
        owner permissions user { id } } }";
const REMOVE: &str =
    "mutation($c: ID!, $u: ID!) { removeCustomerUser(customerId: $c, userId: $u) }";
const MEMBERS: &str = "query($id: ID!) { customer(id: $id) { owner { id } adminUser { id } billingUser { id }
    users(first: 100) { edges { cursor node { owner permissions createdAt updatedAt user { id email } customer { id } } } } } }";

fn unique_email(tag: &str) -> String {
    format!("{tag}-{}@example.com", Uuid::now_v7().simple())
}

async fn create_user(app: &TestApp, email: &str, first: &str, last: &str) -> Value {
    let body = app
        .graphql(
            CREATE_USER,
            json!({"input": {"email": email, "firstName": first, "lastName": last, "password": "a long passphrase"}}),
        )
        .await;
    data(&body)["createUser"].clone()
}

fn id_of(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

async fn members(app: &TestApp, customer: Uuid) -> Value {
    let body = app
        .graphql(MEMBERS, json!({"id": customer.to_string()}))
        .await;
    data(&body)["customer"].clone()
}

async fn add(app: &TestApp, customer: Uuid, user: Uuid, permissions: Value, owner: bool) -> Value {
    app.graphql(
        ADD,
        json!({"c": customer.to_string(), "u": user.to_string(), "p": permissions, "o": owner}),
    )
    .await
}

async fn user_ids_of(app: &TestApp, query: &str, variables: Value) -> Vec<String> {
    let body = app.graphql(query, variables).await;
    data(&body)["users"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_created_user_is_active_found_by_id_and_email_and_never_shows_a_password() {
    let app = TestApp::spawn().await;
    let email = unique_email("Ada");
    let user = create_user(&app, &email, " Ada ", "Lovelace").await;
    assert_eq!(user["status"], "ACTIVE");
    assert_eq!(user["firstName"], "Ada");
    assert_eq!(user["lastLoginAt"], Value::Null);
    assert_eq!(user["version"], 1);
    let by_id = app
        .graphql(
            &format!("query($id: ID!) {{ user(id: $id) {{ {USER_FIELDS} }} }}"),
            json!({"id": id_of(&user)}),
        )
        .await;
    assert_eq!(data(&by_id)["user"]["email"], json!(email));
    let by_email = app
        .graphql(
            "query($e: String!) { userByEmail(email: $e) { id } }",
            json!({"e": email.to_uppercase()}),
        )
        .await;
    assert_eq!(data(&by_email)["userByEmail"]["id"], user["id"]);
    assert!(!by_id.to_string().contains("argon2"));
    let schema = app
        .graphql("{ __type(name: \"User\") { fields { name } } }", json!({}))
        .await;
    assert!(
        !schema.to_string().to_lowercase().contains("password"),
        "{schema}"
    );
    let unknown = app
        .graphql(
            "query($id: ID!) { user(id: $id) { id } }",
            json!({"id": Uuid::now_v7().to_string()}),
        )
        .await;
    assert_eq!(data(&unknown)["user"], Value::Null);
}

#[tokio::test]
async fn bad_user_input_names_the_field_and_writes_nothing() {
    let app = TestApp::spawn().await;
    for (input, field) in [
        (
            json!({"email": "nope", "firstName": "A", "lastName": "B", "password": "a long passphrase"}),
            "input.email",
        ),
        (
            json!({"email": unique_email("x"), "firstName": " ", "lastName": "B", "password": "a long passphrase"}),
            "input.firstName",
        ),
        (
            json!({"email": unique_email("x"), "firstName": "A", "lastName": "B", "password": "short"}),
            "input.password",
        ),
    ] {
        let body = app.graphql(CREATE_USER, json!({"input": input})).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT");
        assert_eq!(error_field(&body), field);
    }
    assert!(
        user_ids_of(&app, "{ users { edges { node { id } } } }", json!({}))
            .await
            .is_empty()
    );
    let email = unique_email("taken");
    create_user(&app, &email, "A", "B").await;
    let again = app
        .graphql(
            CREATE_USER,
            json!({"input": {"email": email.to_uppercase(), "firstName": "C", "lastName": "D", "password": "a long passphrase"}}),
        )
        .await;
    assert_eq!(error_code(&again), "CONFLICT");
    assert_eq!(error_field(&again), "input.email");
}

#[tokio::test]
async fn users_are_listed_newest_first_searched_by_prefix_and_filtered_by_status() {
    let app = TestApp::spawn().await;
    let tag = Uuid::now_v7().simple().to_string();
    let grace = create_user(
        &app,
        &unique_email("grace"),
        "Grace",
        &format!("Hopper{tag}"),
    )
    .await;
    let ada = create_user(&app, &unique_email("ada"), "Ada", &format!("Lovelace{tag}")).await;
    let all = user_ids_of(
        &app,
        "{ users(first: 10) { edges { node { id } } } }",
        json!({}),
    )
    .await;
    assert_eq!(all, vec![id_of(&ada), id_of(&grace)]);
    let page = app
        .graphql(
            "{ users(first: 1) { edges { cursor } pageInfo { hasNextPage endCursor } } }",
            json!({}),
        )
        .await;
    let cursor = data(&page)["users"]["pageInfo"]["endCursor"].clone();
    assert_eq!(data(&page)["users"]["pageInfo"]["hasNextPage"], true);
    let next = user_ids_of(
        &app,
        "query($a: String) { users(first: 10, after: $a) { edges { node { id } } } }",
        json!({"a": cursor}),
    )
    .await;
    assert_eq!(next, vec![id_of(&grace)]);
    let search = |text: &str| {
        let text = text.to_owned();
        let app = &app;
        async move {
            user_ids_of(
                app,
                "query($s: String) { users(filter: {search: $s}) { edges { node { id } } } }",
                json!({"s": text}),
            )
            .await
        }
    };
    assert_eq!(search("gRa").await, vec![id_of(&grace)]);
    assert_eq!(search(&format!("lovelace{tag}")).await, vec![id_of(&ada)]);
    assert_eq!(search("ada-").await, vec![id_of(&ada)]);
    let short = app
        .graphql(
            "{ users(filter: {search: \"a\"}) { edges { cursor } } }",
            json!({}),
        )
        .await;
    assert_eq!(error_field(&short), "filter.search");
    app.graphql(
        "mutation($id: ID!) { setUserStatus(id: $id, status: DISABLED) { status } }",
        json!({"id": id_of(&grace)}),
    )
    .await;
    let disabled = user_ids_of(
        &app,
        "{ users(filter: {status: DISABLED}) { edges { node { id } } } }",
        json!({}),
    )
    .await;
    assert_eq!(disabled, vec![id_of(&grace)]);
    let active = user_ids_of(
        &app,
        "{ users(filter: {status: ACTIVE, search: \"gr\"}) { edges { node { id } } } }",
        json!({}),
    )
    .await;
    assert!(active.is_empty());
}

#[tokio::test]
async fn changing_a_users_email_moves_its_guard_and_its_search_terms() {
    let app = TestApp::spawn().await;
    let old = unique_email("before");
    let user = create_user(&app, &old, "Ada", "Lovelace").await;
    let new = unique_email("after");
    let changed = app
        .graphql(
            UPDATE_USER,
            json!({"id": id_of(&user), "input": {"email": new, "firstName": "Augusta"}, "v": 1}),
        )
        .await;
    assert_eq!(data(&changed)["updateUser"]["email"], json!(new));
    assert_eq!(data(&changed)["updateUser"]["version"], 2);
    // The old email is free again, the new one is taken.
    create_user(&app, &old, "Other", "Person").await;
    let other = create_user(&app, &unique_email("third"), "T", "U").await;
    let clash = app
        .graphql(
            UPDATE_USER,
            json!({"id": id_of(&other), "input": {"email": new}}),
        )
        .await;
    assert_eq!(error_code(&clash), "CONFLICT");
    assert_eq!(error_field(&clash), "input.email");
    let stale = app
        .graphql(
            UPDATE_USER,
            json!({"id": id_of(&user), "input": {"lastName": "K"}, "v": 1}),
        )
        .await;
    assert_eq!(error_field(&stale), "expectedVersion");
    let null = app
        .graphql(
            UPDATE_USER,
            json!({"id": id_of(&user), "input": {"firstName": null}}),
        )
        .await;
    assert_eq!(error_field(&null), "input.firstName");
    let found = user_ids_of(
        &app,
        "{ users(filter: {search: \"augusta\"}) { edges { node { id } } } }",
        json!({}),
    )
    .await;
    assert_eq!(found, vec![id_of(&user)]);
    let gone = user_ids_of(
        &app,
        "query($s: String) { users(filter: {search: $s}) { edges { node { id } } } }",
        json!({"s": old}),
    )
    .await;
    assert!(!gone.contains(&id_of(&user)));
}

#[tokio::test]
async fn concurrent_changes_to_the_same_email_leave_exactly_one_holder() {
    let app = TestApp::spawn().await;
    let target = unique_email("contested");
    let mut ids = Vec::new();
    for i in 0..8 {
        ids.push(id_of(
            &create_user(&app, &unique_email(&format!("u{i}")), "A", "B").await,
        ));
    }
    let results = futures::future::join_all(
        ids.iter()
            .map(|id| app.graphql(UPDATE_USER, json!({"id": id, "input": {"email": target}}))),
    )
    .await;
    let winners = results.iter().filter(|r| r.get("errors").is_none()).count();
    assert_eq!(winners, 1, "{results:?}");
    for r in results.iter().filter(|r| r.get("errors").is_some()) {
        assert_eq!(error_code(r), "CONFLICT");
    }
}

#[tokio::test]
async fn a_new_password_is_stored_as_a_new_hash_and_a_disabled_users_tokens_stop_working() {
    let app = TestApp::spawn().await;
    let user = app.create_user("pw").await;
    let before = app
        .store
        .users()
        .password_hash(user)
        .await
        .unwrap()
        .unwrap();
    let short = app
        .graphql(
            "mutation($id: ID!) { setUserPassword(id: $id, password: \"short\") { id } }",
            json!({"id": user.to_string()}),
        )
        .await;
    assert_eq!(error_field(&short), "password");
    let set = app
        .graphql(
            "mutation($id: ID!) { setUserPassword(id: $id, password: \"another long passphrase\") { version } }",
            json!({"id": user.to_string()}),
        )
        .await;
    assert_eq!(data(&set)["setUserPassword"]["version"], 2);
    let after = app
        .store
        .users()
        .password_hash(user)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(before, after);
    assert!(switchboard::domain::password::verify(
        "another long passphrase",
        &after
    ));

    let token = app.token_for(user);
    let viewer = app
        .graphql_with(&token, "{ viewer { user { id } } }", json!({}))
        .await;
    assert_eq!(
        data(&viewer)["viewer"]["user"]["id"],
        json!(user.to_string())
    );
    app.graphql(
        "mutation($id: ID!) { setUserStatus(id: $id, status: DISABLED) { status } }",
        json!({"id": user.to_string()}),
    )
    .await;
    let refused = app
        .post_graphql(Some(&token), "{ viewer { isAdmin } }", json!({}))
        .await;
    assert_eq!(refused.status, http::StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(&refused.json()), "UNAUTHENTICATED");
    app.graphql(
        "mutation($id: ID!) { setUserStatus(id: $id, status: ACTIVE) { status } }",
        json!({"id": user.to_string()}),
    )
    .await;
    let back = app
        .graphql_with(&token, "{ viewer { isAdmin } }", json!({}))
        .await;
    assert_eq!(data(&back)["viewer"]["isAdmin"], false);
}

#[tokio::test]
async fn an_owner_cannot_be_deleted_and_a_member_is_deleted_with_memberships_and_roles() {
    let app = TestApp::spawn().await;
    let (customer, owner) = create_customer(&app, json!({})).await;
    let refused = app
        .graphql(DELETE_USER, json!({"id": owner.to_string()}))
        .await;
    assert_eq!(error_code(&refused), "FAILED_PRECONDITION");
    assert_eq!(
        members(&app, customer).await["owner"]["id"],
        json!(owner.to_string())
    );

    let email = unique_email("member");
    let member = app.create_user_with_email(&email).await;
    data(&add(&app, customer, member, json!(["CUSTOMER_READ"]), false).await);
    let (second, _) = create_customer(&app, json!({})).await;
    data(&add(&app, second, member, json!([]), false).await);
    data(
        &app.graphql(
            "mutation($id: ID!, $u: ID!) { updateCustomer(id: $id, input: {adminUser: $u, billingUser: $u}) { id } }",
            json!({"id": customer.to_string(), "u": member.to_string()}),
        )
        .await,
    );
    let deleted = app
        .graphql(DELETE_USER, json!({"id": member.to_string()}))
        .await;
    assert_eq!(data(&deleted)["deleteUser"], json!(member.to_string()));
    let after = members(&app, customer).await;
    assert_eq!(after["adminUser"], Value::Null);
    assert_eq!(after["billingUser"], Value::Null);
    assert_eq!(after["users"]["edges"].as_array().unwrap().len(), 1);
    assert_eq!(
        members(&app, second).await["users"]["edges"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert!(app.store.users().get(member).await.unwrap().is_none());
    assert!(
        app.store
            .users()
            .id_by_email(&email)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        !user_ids_of(
            &app,
            "{ users(first: 100) { edges { node { id } } } }",
            json!({})
        )
        .await
        .contains(&member.to_string())
    );
    // The email is free again, and deleting again is NOT_FOUND.
    app.create_user_with_email(&email).await;
    let again = app
        .graphql(DELETE_USER, json!({"id": member.to_string()}))
        .await;
    assert_eq!(error_code(&again), "NOT_FOUND");
}

#[tokio::test]
async fn members_carry_permissions_and_the_owner_reads_as_holding_all() {
    let app = TestApp::spawn().await;
    let (customer, owner) = create_customer(&app, json!({})).await;
    let user = app.create_user("m").await;
    let added = add(
        &app,
        customer,
        user,
        json!(["USERS_READ", "CUSTOMER_READ", "USERS_READ"]),
        false,
    )
    .await;
    let node = &data(&added)["addCustomerUser"];
    assert_eq!(node["owner"], false);
    assert_eq!(node["permissions"], json!(["CUSTOMER_READ", "USERS_READ"]));
    assert_eq!(node["customer"]["owner"]["id"], json!(owner.to_string()));
    let twice = add(&app, customer, user, json!([]), false).await;
    assert_eq!(error_code(&twice), "CONFLICT");
    assert_eq!(error_field(&twice), "userId");
    let listed = members(&app, customer).await;
    let edges = listed["users"]["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 2);
    let owner_edge = edges.iter().find(|e| e["node"]["owner"] == true).unwrap();
    assert_eq!(owner_edge["node"]["user"]["id"], json!(owner.to_string()));
    assert_eq!(
        owner_edge["node"]["permissions"].as_array().unwrap().len(),
        8
    );
    assert_eq!(
        owner_edge["node"]["customer"]["id"],
        json!(customer.to_string())
    );
    let changed = app
        .graphql(
            UPDATE_MEMBER,
            json!({"c": customer.to_string(), "u": user.to_string(), "p": ["BILLING_READ"]}),
        )
        .await;
    assert_eq!(
        data(&changed)["updateCustomerUser"]["permissions"],
        json!(["BILLING_READ"])
    );
    let stranger = app.create_user("s").await;
    let not_member = app
        .graphql(
            UPDATE_MEMBER,
            json!({"c": customer.to_string(), "u": stranger.to_string(), "p": []}),
        )
        .await;
    assert_eq!(error_code(&not_member), "NOT_FOUND");
    let unknown_user = add(&app, customer, Uuid::now_v7(), json!([]), false).await;
    assert_eq!(error_code(&unknown_user), "NOT_FOUND");
    let unknown_customer = add(&app, Uuid::now_v7(), user, json!([]), false).await;
    assert_eq!(error_code(&unknown_customer), "NOT_FOUND");
}

#[tokio::test]
async fn removing_a_member_clears_its_roles_and_the_owner_cannot_be_removed() {
    let app = TestApp::spawn().await;
    let (customer, owner) = create_customer(&app, json!({})).await;
    let user = app.create_user("m").await;
    data(&add(&app, customer, user, json!([]), false).await);
    data(
        &app.graphql(
            "mutation($id: ID!, $u: ID!, $o: ID!) { updateCustomer(id: $id, input: {adminUser: $u, billingUser: $o, supportUser: $u}) { version } }",
            json!({"id": customer.to_string(), "u": user.to_string(), "o": owner.to_string()}),
        )
        .await,
    );
    let removed = app
        .graphql(
            REMOVE,
            json!({"c": customer.to_string(), "u": user.to_string()}),
        )
        .await;
    assert_eq!(
        data(&removed)["removeCustomerUser"],
        json!(user.to_string())
    );
    let after = members(&app, customer).await;
    assert_eq!(after["adminUser"], Value::Null);
    assert_eq!(after["billingUser"]["id"], json!(owner.to_string()));
    assert_eq!(after["users"]["edges"].as_array().unwrap().len(), 1);
    let again = app
        .graphql(
            REMOVE,
            json!({"c": customer.to_string(), "u": user.to_string()}),
        )
        .await;
    assert_eq!(error_code(&again), "NOT_FOUND");
    let owner_removal = app
        .graphql(
            REMOVE,
            json!({"c": customer.to_string(), "u": owner.to_string()}),
        )
        .await;
    assert_eq!(error_code(&owner_removal), "FAILED_PRECONDITION");
    let demote = app
        .graphql(
            UPDATE_MEMBER,
            json!({"c": customer.to_string(), "u": owner.to_string(), "o": false}),
        )
        .await;
    assert_eq!(error_code(&demote), "FAILED_PRECONDITION");
}

#[tokio::test]
async fn registration_domains_restrict_who_can_be_added() {
    let app = TestApp::spawn().await;
    let (customer, _) =
        create_customer(&app, json!({"allowedDomainsRegistration": ["acme.com"]})).await;
    let outsider = app.create_user("outsider").await;
    let refused = add(&app, customer, outsider, json!([]), false).await;
    assert_eq!(error_code(&refused), "FAILED_PRECONDITION");
    assert_eq!(error_field(&refused), "userId");
    let insider = app
        .create_user_with_email(&format!("i-{}@ACME.com", Uuid::now_v7().simple()))
        .await;
    data(&add(&app, customer, insider, json!([]), false).await);
    let sub = app
        .create_user_with_email(&format!("s-{}@eu.acme.com", Uuid::now_v7().simple()))
        .await;
    assert_eq!(
        error_code(&add(&app, customer, sub, json!([]), false).await),
        "FAILED_PRECONDITION"
    );
    data(
        &app.graphql(
            "mutation($id: ID!) { updateCustomer(id: $id, input: {allowedDomainsRegistration: null}) { id } }",
            json!({"id": customer.to_string()}),
        )
        .await,
    );
    data(&add(&app, customer, outsider, json!([]), false).await);
}

#[tokio::test]
async fn suspended_customers_gain_no_users() {
    let app = TestApp::spawn().await;
    let (customer, _) = create_customer(&app, json!({})).await;
    data(
        &app.graphql(
            "mutation($id: ID!) { setCustomerStatus(id: $id, status: SUSPENDED) { id } }",
            json!({"id": customer.to_string()}),
        )
        .await,
    );
    let user = app.create_user("late").await;
    let refused = add(&app, customer, user, json!([]), false).await;
    assert_eq!(error_code(&refused), "FAILED_PRECONDITION");
}

#[tokio::test]
async fn adding_or_promoting_an_owner_demotes_the_previous_one_who_keeps_its_permissions() {
    let app = TestApp::spawn().await;
    let (customer, first) = create_customer(&app, json!({})).await;
    let second = app.create_user("second").await;
    let added = add(&app, customer, second, json!(["BILLING_READ"]), true).await;
    assert_eq!(data(&added)["addCustomerUser"]["owner"], true);
    assert_eq!(
        data(&added)["addCustomerUser"]["customer"]["owner"]["id"],
        json!(second.to_string())
    );
    let third = app.create_user("third").await;
    data(&add(&app, customer, third, json!(["USERS_READ"]), false).await);
    let promoted = app
        .graphql(
            UPDATE_MEMBER,
            json!({"c": customer.to_string(), "u": third.to_string(), "o": true}),
        )
        .await;
    assert_eq!(data(&promoted)["updateCustomerUser"]["owner"], true);
    let listed = members(&app, customer).await;
    assert_eq!(listed["owner"]["id"], json!(third.to_string()));
    for edge in listed["users"]["edges"].as_array().unwrap() {
        let node = &edge["node"];
        let id = node["user"]["id"].as_str().unwrap();
        assert_eq!(node["owner"], json!(id == third.to_string()), "{id}");
        if id == second.to_string() {
            assert_eq!(node["permissions"], json!(["BILLING_READ"]));
        }
        if id == first.to_string() {
            assert_eq!(node["permissions"], json!([]));
        }
    }
}

#[tokio::test]
async fn adding_the_owner_as_owner_again_is_a_precondition_on_user_id_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let (customer, owner) = create_customer(&app, json!({})).await;
    let before = members(&app, customer).await;
    let again = add(&app, customer, owner, json!(["BILLING_READ"]), true).await;
    assert_eq!(error_code(&again), "FAILED_PRECONDITION", "{again}");
    assert_eq!(error_field(&again), "userId");
    assert!(
        again["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("already the customer's owner"),
        "{again}"
    );
    assert_eq!(members(&app, customer).await, before);
    // Without `owner: true` the owner is simply an existing member.
    let plain = add(&app, customer, owner, json!([]), false).await;
    assert_eq!(error_code(&plain), "CONFLICT", "{plain}");
}

#[tokio::test]
async fn sixteen_concurrent_transfers_leave_exactly_one_owner() {
    let app = TestApp::spawn().await;
    let (customer, _) = create_customer(&app, json!({})).await;
    let mut candidates = Vec::new();
    for i in 0..16 {
        let user = app.create_user(&format!("c{i}")).await;
        data(&add(&app, customer, user, json!([]), false).await);
        candidates.push(user);
    }
    let results = futures::future::join_all(candidates.iter().map(|user| {
        app.graphql(
            UPDATE_MEMBER,
            json!({"c": customer.to_string(), "u": user.to_string(), "o": true}),
        )
    }))
    .await;
    let succeeded = results.iter().filter(|r| r.get("errors").is_none()).count();
    assert!(succeeded >= 1, "{results:?}");
    for r in results.iter().filter(|r| r.get("errors").is_some()) {
        assert_eq!(error_code(r), "CONFLICT", "{r}");
    }
    let listed = members(&app, customer).await;
    let owners: Vec<String> = listed["users"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["node"]["owner"] == true)
        .map(|e| e["node"]["user"]["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(owners.len(), 1, "{owners:?}");
    assert_eq!(listed["owner"]["id"], json!(owners[0]));
    let distinct: HashSet<_> = candidates.iter().map(ToString::to_string).collect();
    assert!(distinct.contains(&owners[0]));
}

#[tokio::test]
async fn a_users_memberships_list_its_customers_for_admins() {
    let app = TestApp::spawn().await;
    let (first, _) = create_customer(&app, json!({})).await;
    let (second, _) = create_customer(&app, json!({})).await;
    let user = app.create_user("multi").await;
    data(&add(&app, first, user, json!(["CUSTOMER_READ"]), false).await);
    data(&add(&app, second, user, json!([]), false).await);
    let body = app
        .graphql(
            "query($id: ID!) { user(id: $id) { memberships { edges { node { owner permissions customer { id } } } } } }",
            json!({"id": user.to_string()}),
        )
        .await;
    let customers: Vec<&str> = data(&body)["user"]["memberships"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["customer"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(customers, vec![second.to_string(), first.to_string()]);
}

/// Fails every `TransactWriteItems` after the first `allow`, as a crash
/// part-way through a cascade would.
#[derive(Debug)]
struct CrashAfter {
    allow: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl aws_smithy_runtime_api::client::interceptors::Intercept for CrashAfter {
    fn name(&self) -> &'static str {
        "CrashAfter"
    }

    fn read_before_transmit(
        &self,
        context: &aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef<'_>,
        _components: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
        _cfg: &mut aws_smithy_types::config_bag::ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        let target = context
            .request()
            .headers()
            .get("x-amz-target")
            .unwrap_or_default();
        if target.ends_with("TransactWriteItems")
            && self
                .allow
                .fetch_update(
                    std::sync::atomic::Ordering::SeqCst,
                    std::sync::atomic::Ordering::SeqCst,
                    |n| n.checked_sub(1),
                )
                .is_err()
        {
            return Err("simulated crash".into());
        }
        Ok(())
    }
}

#[tokio::test]
async fn a_user_deletion_interrupted_at_any_step_finishes_when_retried() {
    let app = TestApp::spawn().await;
    let (first, _) = create_customer(&app, json!({})).await;
    let (second, _) = create_customer(&app, json!({})).await;
    for allow in [0, 1, 2] {
        let email = unique_email(&format!("crash{allow}"));
        let user = app.create_user_with_email(&email).await;
        data(&add(&app, first, user, json!([]), false).await);
        data(&add(&app, second, user, json!([]), false).await);
        let config = switchboard::store::aws_config(&switchboard::store::Timeouts::default()).await;
        let dynamodb = aws_sdk_dynamodb::config::Builder::from(&config)
            .interceptor(CrashAfter {
                allow: std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(allow)),
            })
            .retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled())
            .build();
        let crashing = TestApp::over_store(switchboard::store::Store::new(
            aws_sdk_dynamodb::Client::from_conf(dynamodb),
            app.store.table_name().to_owned(),
        ));
        let crashed = crashing
            .graphql(DELETE_USER, json!({"id": user.to_string()}))
            .await;
        assert!(crashed.get("errors").is_some(), "{allow}: {crashed}");
        // Half-deleted, the user already reads as gone.
        assert!(app.store.users().get(user).await.unwrap().is_none());
        let retried = app
            .graphql(DELETE_USER, json!({"id": user.to_string()}))
            .await;
        assert_eq!(
            data(&retried)["deleteUser"],
            json!(user.to_string()),
            "{allow}"
        );
        for customer in [first, second] {
            assert!(
                app.store
                    .memberships()
                    .get(customer, user)
                    .await
                    .unwrap()
                    .is_none()
            );
        }
        assert!(
            app.store
                .users()
                .id_by_email(&email)
                .await
                .unwrap()
                .is_none()
        );
    }
}

#[tokio::test]
async fn an_interrupted_user_deletion_is_named_where_its_email_is_refused_and_can_be_finished() {
    let app = TestApp::spawn().await;
    let email = format!("gone-{}@example.com", Uuid::now_v7().simple());
    let user = create_user(&app, &email, "Half", "Gone").await;
    let id = id_of(&user);
    // A crash after the user is marked, before its final transaction.
    let crashing = crate::customers::crashing_app(&app, "TransactWriteItems", 0).await;
    let failed = crashing.graphql(DELETE_USER, json!({"id": id})).await;
    assert!(failed.get("errors").is_some(), "{failed}");
    let lookup = app
        .graphql(
            "query($e: String!) { userByEmail(email: $e) { id } }",
            json!({"e": email}),
        )
        .await;
    assert_eq!(data(&lookup)["userByEmail"], Value::Null);
    // Whoever wants the email learns which deletion to finish.
    let again = app
        .graphql(
            CREATE_USER,
            json!({"input": {"email": email.to_uppercase(), "firstName": "N", "lastName": "U", "password": "a long passphrase"}}),
        )
        .await;
    assert_eq!(error_code(&again), "FAILED_PRECONDITION", "{again}");
    let message = again["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("deleteUser(id: \"{id}\")")),
        "{message}"
    );
    // A customer whose owner would be a new user with that email.
    let customer = crate::customers::try_create(&app, json!({"email": email})).await;
    assert_eq!(error_code(&customer), "FAILED_PRECONDITION", "{customer}");
    // Finishing it frees the email.
    data(&app.graphql(DELETE_USER, json!({"id": id})).await);
    create_user(&app, &email, "New", "User").await;
}

/// Takes a membership out of the user-to-customers index, as real
/// DynamoDB shows it for a moment after it is written.
async fn hide_from_index(app: &TestApp, customer: Uuid, user: Uuid) {
    use aws_sdk_dynamodb::types::AttributeValue;
    switchboard::store::client_from_env()
        .await
        .update_item()
        .table_name(app.store.table_name())
        .key("pk", AttributeValue::S(format!("CUSTOMER#{customer}")))
        .key("sk", AttributeValue::S(format!("MEMBER#{user}")))
        .update_expression("REMOVE gsi1pk, gsi1sk")
        .condition_expression("attribute_exists(pk)")
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn an_owner_is_never_deleted_even_before_the_index_shows_its_ownership() {
    let app = TestApp::spawn().await;
    let (first, owner) = create_customer(&app, json!({})).await;
    hide_from_index(&app, first, owner).await;
    let refused = app
        .graphql(DELETE_USER, json!({"id": owner.to_string()}))
        .await;
    assert_eq!(error_code(&refused), "FAILED_PRECONDITION", "{refused}");
    // Refused whole: the user still resolves and still owns the customer.
    let members = app
        .graphql(
            "query($id: ID!) { customer(id: $id) { owner { id } } }",
            json!({"id": first.to_string()}),
        )
        .await;
    assert_eq!(
        data(&members)["customer"]["owner"]["id"],
        owner.to_string(),
        "{members}"
    );
    let user = app
        .graphql(
            "query($id: ID!) { user(id: $id) { id } }",
            json!({"id": owner.to_string()}),
        )
        .await;
    assert_eq!(data(&user)["user"]["id"], owner.to_string());
    // Once the ownership moves away, the count follows and the user goes.
    let other = create_user(
        &app,
        &format!("next-{}@example.com", Uuid::now_v7().simple()),
        "N",
        "O",
    )
    .await;
    data(
        &app.graphql(
            ADD,
            json!({"c": first.to_string(), "u": id_of(&other), "p": [], "o": true}),
        )
        .await,
    );
    data(
        &app.graphql(DELETE_USER, json!({"id": owner.to_string()}))
            .await,
    );
}

#[tokio::test]
async fn ownership_moves_on_from_an_owner_whose_user_item_is_gone() {
    use aws_sdk_dynamodb::types::AttributeValue;
    let app = TestApp::spawn().await;
    let (customer, owner) = create_customer(&app, json!({})).await;
    // The state a deletion from before owners were counted could leave:
    // the customer's owner has no user item.
    switchboard::store::client_from_env()
        .await
        .delete_item()
        .table_name(app.store.table_name())
        .key("pk", AttributeValue::S(format!("USER#{owner}")))
        .key("sk", AttributeValue::S("USER".into()))
        .send()
        .await
        .unwrap();
    let heir = create_user(
        &app,
        &format!("heir-{}@example.com", Uuid::now_v7().simple()),
        "H",
        "E",
    )
    .await;
    let moved = app
        .graphql(
            ADD,
            json!({"c": customer.to_string(), "u": id_of(&heir), "p": [], "o": true}),
        )
        .await;
    data(&moved);
    let now = app
        .graphql(
            "query($id: ID!) { customer(id: $id) { owner { id } } }",
            json!({"id": customer.to_string()}),
        )
        .await;
    assert_eq!(data(&now)["customer"]["owner"]["id"], id_of(&heir));
}

#[tokio::test]
async fn a_sign_in_is_recorded_once_per_token() {
    let app = TestApp::spawn().await;
    let user = app.create_user("signin").await;
    let last = |app: &TestApp| {
        let store = app.store.clone();
        async move {
            store
                .users()
                .get(user)
                .await
                .unwrap()
                .unwrap()
                .last_login_at
        }
    };
    assert_eq!(last(&app).await, None);
    let token = app.token_for(user);
    data(
        &app.graphql_with(&token, "{ viewer { isAdmin } }", json!({}))
            .await,
    );
    let first = last(&app)
        .await
        .expect("the first request with a token records the sign-in");
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    data(
        &app.graphql_with(&token, "{ viewer { isAdmin } }", json!({}))
            .await,
    );
    assert_eq!(
        last(&app).await,
        Some(first),
        "the same token writes nothing more"
    );
    // A token issued later is a new sign-in (iat has whole seconds).
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let newer = app.token_for(user);
    data(
        &app.graphql_with(&newer, "{ viewer { isAdmin } }", json!({}))
            .await,
    );
    assert!(last(&app).await.unwrap() > first);
}
