//! The invariants that span items, 32 callers at a time on a multi-threaded
//! runtime: a unique value (in any letter case) has one holder, a customer
//! one owner, the platform one default tier, and concurrent patches of one
//! customer all land. Each is enforced by DynamoDB conditions inside
//! transactions; a check-then-write would fail these.

use serde_json::{Value, json};

use crate::helpers::{TestApp, create_customer, data, error_code, error_field};

/// How many callers race in each test.
const RACERS: usize = 32;

/// `base` in 32 different letter cases (the bits of `i` pick upper case).
fn case_variants(base: &str) -> Vec<String> {
    (0..RACERS)
        .map(|i| {
            base.chars()
                .enumerate()
                .map(|(n, c)| {
                    if n < usize::BITS as usize && (i >> n) & 1 == 1 {
                        c.to_ascii_uppercase()
                    } else {
                        c
                    }
                })
                .collect()
        })
        .collect()
}

/// Asserts one success and `CONFLICT` on `field` for every other result.
fn one_winner(results: &[Value], field: &str) {
    let winners = results.iter().filter(|b| b.get("errors").is_none()).count();
    assert_eq!(winners, 1, "{results:#?}");
    for loser in results.iter().filter(|b| b.get("errors").is_some()) {
        assert_eq!(error_code(loser), "CONFLICT", "{loser}");
        // Taken, naming the field; or, when the collisions outlasted the
        // store's retries, the honest "changed concurrently; try again".
        let message = loser["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(
            error_field(loser) == field || message.contains("concurrently"),
            "{loser}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_two_case_variants_of_a_unique_value_have_exactly_one_holder() {
    let app = TestApp::spawn().await;
    let variants = case_variants("platinumtier");
    assert_eq!(
        variants
            .iter()
            .collect::<std::collections::HashSet<_>>()
            .len(),
        RACERS
    );

    // Pricing tier names.
    let tiers = futures::future::join_all(variants.iter().map(|name| {
        app.graphql(
            "mutation($input: CreatePricingTierInput!) { createPricingTier(input: $input) { id } }",
            json!({"input": {"name": name, "currency": "USD", "ratePerMinute": "0.01"}}),
        )
    }))
    .await;
    one_winner(&tiers, "input.name");

    // User emails.
    let users = futures::future::join_all(variants.iter().map(|local| {
        app.graphql(
            "mutation($input: CreateUserInput!) { createUser(input: $input) { id } }",
            json!({"input": {"email": format!("{local}@Example.com"), "firstName": "R",
                "lastName": "Acer", "password": "correct horse battery"}}),
        )
    }))
    .await;
    one_winner(&users, "input.email");

    // Customer emails (each creation also creates its owner user, so the
    // owner's email guard races too).
    let customers = futures::future::join_all(variants.iter().map(|local| {
        app.graphql(
            "mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { id } }",
            json!({"input": {"customerType": "PERSONAL", "firstName": "R", "lastName": "Acer",
                "email": format!("{local}@customers.example"), "password": "correct horse battery",
                "country": "US", "currency": "USD"}}),
        )
    }))
    .await;
    one_winner(&customers, "input.email");

    // Exactly one of each was stored.
    let body = app
        .graphql(
            "{ pricingTiers(first: 100) { edges { node { name } } }
               users(first: 100) { edges { node { email } } }
               customers(first: 100) { edges { node { email } } } }",
            json!({}),
        )
        .await;
    let stored = data(&body);
    let count = |list: &str, field: &str, needle: &str| {
        stored[list]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| {
                e["node"][field]
                    .as_str()
                    .unwrap()
                    .to_lowercase()
                    .contains(needle)
            })
            .count()
    };
    assert_eq!(count("pricingTiers", "name", "platinumtier"), 1);
    assert_eq!(
        count("users", "email", "platinumtier@example.com"),
        1,
        "{stored}"
    );
    assert_eq!(
        count("customers", "email", "platinumtier@customers.example"),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_two_concurrent_owner_transfers_leave_exactly_one_owner() {
    let app = TestApp::spawn().await;
    let (customer, first_owner) = create_customer(&app, json!({})).await;
    let mut members = Vec::new();
    for _ in 0..RACERS {
        let user = app.create_user("heir").await;
        app.store.memberships().add(customer, user).await.unwrap();
        members.push(user);
    }
    let results = futures::future::join_all(members.iter().map(|user| {
        app.graphql(
            "mutation($c: ID!, $u: ID!) { updateCustomerUser(customerId: $c, userId: $u, owner: true) { owner } }",
            json!({"c": customer, "u": user}),
        )
    }))
    .await;
    for body in &results {
        // Every transfer either lands (and is later superseded) or reports
        // the contention it lost to; none corrupts the roles.
        if body.get("errors").is_some() {
            assert_eq!(error_code(body), "CONFLICT", "{body}");
        }
    }
    assert!(results.iter().any(|b| b.get("errors").is_none()));
    let body = app
        .graphql(
            "query($id: ID!) { customer(id: $id) { owner { id } users(first: 100) { edges { node { owner user { id } } } } } }",
            json!({"id": customer}),
        )
        .await;
    let stored = &data(&body)["customer"];
    let owners: Vec<&str> = stored["users"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["node"]["owner"] == true)
        .map(|e| e["node"]["user"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(owners.len(), 1, "{stored}");
    assert_eq!(stored["owner"]["id"], owners[0]);
    assert_ne!(owners[0], first_owner.to_string());
    assert_eq!(
        stored["users"]["edges"].as_array().unwrap().len(),
        RACERS + 1,
        "everyone is still a member"
    );
    // The owners' counts on the users followed every transfer: deleting
    // everyone at once removes all but the one owner, which is refused.
    let everyone: Vec<String> = std::iter::once(first_owner)
        .chain(members.iter().copied())
        .map(|u| u.to_string())
        .collect();
    // As a client would, a caller tries again after an honest CONFLICT.
    let app = &app;
    let deletions = futures::future::join_all(everyone.iter().map(|user| async move {
        let mut tries = 0;
        loop {
            tries += 1;
            let body = app
                .graphql(
                    "mutation($id: ID!) { deleteUser(id: $id) }",
                    json!({"id": user}),
                )
                .await;
            if tries == 5 || body.get("errors").is_none() || error_code(&body) != "CONFLICT" {
                return body;
            }
        }
    }))
    .await;
    for (user, body) in everyone.iter().zip(&deletions) {
        if user == owners[0] {
            assert_eq!(error_code(body), "FAILED_PRECONDITION", "{body}");
        } else {
            data(body);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_two_concurrent_default_switches_leave_exactly_one_default() {
    let app = TestApp::spawn().await;
    let mut tiers = Vec::new();
    for i in 0..RACERS {
        let body = app
            .graphql(
                "mutation($input: CreatePricingTierInput!) { createPricingTier(input: $input) { id } }",
                json!({"input": {"name": format!("Tier {i}"), "currency": "USD", "ratePerMinute": "0.01"}}),
            )
            .await;
        tiers.push(data(&body)["createPricingTier"]["id"].clone());
    }
    let results = futures::future::join_all(tiers.iter().map(|id| {
        app.graphql(
            "mutation($id: ID!) { setDefaultPricingTier(id: $id) { id } }",
            json!({"id": id}),
        )
    }))
    .await;
    for body in &results {
        data(body);
    }
    let body = app
        .graphql(
            "{ defaultPricingTier { id } pricingTiers(first: 100) { edges { node { id isDefault } } } }",
            json!({}),
        )
        .await;
    let stored = data(&body);
    let defaults: Vec<&Value> = stored["pricingTiers"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["node"]["isDefault"] == true)
        .map(|e| &e["node"]["id"])
        .collect();
    assert_eq!(defaults.len(), 1, "{stored}");
    assert_eq!(&stored["defaultPricingTier"]["id"], defaults[0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_two_concurrent_patches_of_one_customer_all_land() {
    let app = TestApp::spawn().await;
    let (customer, _) = create_customer(&app, json!({})).await;
    let flags = [
        "internationalCalling",
        "mediaBypass",
        "accountLock",
        "callRecording",
        "cnamLookUps",
        "holdMusic",
        "transcribeCalls",
        "callDebug",
        "delinquent",
    ];
    let body = app
        .graphql(
            &format!(
                "query($id: ID!) {{ customer(id: $id) {{ version {} }} }}",
                flags.join(" ")
            ),
            json!({"id": customer}),
        )
        .await;
    let before = data(&body)["customer"].clone();
    let mut patches: Vec<Value> = flags
        .iter()
        .map(|f| json!({ *f: !before[*f].as_bool().unwrap() }))
        .collect();
    patches.extend([
        json!({"firstName": "Patched"}),
        json!({"lastName": "Everywhere"}),
        json!({"externalId": "ext-32"}),
        json!({"tenantId": "tenant-32"}),
        json!({"credit": "32"}),
        json!({"automaticRefillAmount": "10"}),
        json!({"lowBalanceAlertAmount": "5"}),
        json!({"language": "fr"}),
    ]);
    // The rest write metadata, each a different value: one of them wins,
    // and each still counts as a version.
    let mut n = 0;
    while patches.len() < RACERS {
        patches.push(json!({"metadata": {"writer": n}}));
        n += 1;
    }
    // Each caller patches as a client would: a `CONFLICT` ("changed
    // concurrently; try again") under this much contention is an honest
    // answer, and the caller tries again. No patch may be lost silently.
    let (app, customer) = (&app, &customer);
    let results = futures::future::join_all(patches.iter().map(|patch| async move {
        let mut tries = 0;
        loop {
            tries += 1;
            let body = app
                .graphql(
                    "mutation($id: ID!, $input: UpdateCustomerInput!) { updateCustomer(id: $id, input: $input) { version } }",
                    json!({"id": customer, "input": patch}),
                )
                .await;
            if body.get("errors").is_none() || tries == 5 {
                return body;
            }
            assert_eq!(error_code(&body), "CONFLICT", "{body}");
        }
    }))
    .await;
    for body in &results {
        data(body);
    }
    let body = app
        .graphql(
            &format!(
                "query($id: ID!) {{ customer(id: $id) {{ version firstName lastName externalId tenantId credit automaticRefillAmount lowBalanceAlertAmount language metadata {} }} }}",
                flags.join(" ")
            ),
            json!({"id": customer}),
        )
        .await;
    let after = &data(&body)["customer"];
    for flag in flags {
        assert_eq!(
            after[flag],
            !before[flag].as_bool().unwrap(),
            "{flag} was lost"
        );
    }
    assert_eq!(after["firstName"], "Patched");
    assert_eq!(after["lastName"], "Everywhere");
    assert_eq!(after["externalId"], "ext-32");
    assert_eq!(after["tenantId"], "tenant-32");
    assert_eq!(after["credit"], "32");
    assert_eq!(after["automaticRefillAmount"], "10");
    assert_eq!(after["lowBalanceAlertAmount"], "5");
    assert_eq!(after["language"], "fr");
    assert!(after["metadata"]["writer"].as_u64().unwrap() < u64::try_from(n).unwrap());
    assert_eq!(
        after["version"].as_u64().unwrap(),
        before["version"].as_u64().unwrap() + RACERS as u64,
        "every patch applied exactly once"
    );
}
