//! Pricing tiers end to end: GraphQL → auth → rules → DynamoDB → response.

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::helpers::{TestApp, data, error_code, error_field};

const FIELDS: &str = "id name description currency ratePerMinute billingIncrementSeconds \
                      minimumDurationSeconds isActive isDefault createdAt updatedAt version";

const CREATE: &str = "mutation($input: CreatePricingTierInput!) {
    createPricingTier(input: $input) {
      id name description currency ratePerMinute billingIncrementSeconds
      minimumDurationSeconds isActive isDefault createdAt updatedAt version
    }
  }";

const UPDATE: &str = "mutation($id: ID!, $input: UpdatePricingTierInput!, $v: Int) {
    updatePricingTier(id: $id, input: $input, expectedVersion: $v) {
      id name description currency ratePerMinute billingIncrementSeconds
      minimumDurationSeconds isActive isDefault version
    }
  }";

const SET_DEFAULT: &str = "mutation($id: ID!) { setDefaultPricingTier(id: $id) { id isDefault } }";

const DELETE: &str =
    "mutation($id: ID!, $v: Int) { deletePricingTier(id: $id, expectedVersion: $v) }";

const LIST_ALL: &str = "query($first: Int, $after: String) {
    pricingTiers(first: $first, after: $after, includeInactive: true) {
      edges { cursor node { id name isActive isDefault } }
      pageInfo { hasNextPage endCursor }
    }
  }";

async fn create(app: &TestApp, input: Value) -> Value {
    let body = app.graphql(CREATE, json!({ "input": input })).await;
    data(&body)["createPricingTier"].clone()
}

async fn create_named(app: &TestApp, name: &str) -> Value {
    create(
        app,
        json!({"name": name, "currency": "USD", "ratePerMinute": "0.10"}),
    )
    .await
}

async fn all_tiers(app: &TestApp) -> Vec<Value> {
    let body = app.graphql(LIST_ALL, json!({"first": 100})).await;
    data(&body)["pricingTiers"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

async fn get(app: &TestApp, id: &str) -> Value {
    let body = app
        .graphql(
            &format!("query($id: ID!) {{ pricingTier(id: $id) {{ {FIELDS} }} }}"),
            json!({ "id": id }),
        )
        .await;
    data(&body)["pricingTier"].clone()
}

fn id_of(tier: &Value) -> String {
    tier["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn creating_a_tier_applies_defaults_and_starts_at_version_1() {
    let app = TestApp::spawn().await;
    let tier = create(
        &app,
        json!({"name": "  baseTier ", "currency": "inr", "ratePerMinute": "0.4500",
               "description": "Standard enterprise pricing plan"}),
    )
    .await;
    assert_eq!(tier["name"], "baseTier");
    assert_eq!(tier["currency"], "INR");
    assert_eq!(tier["ratePerMinute"], "0.4500");
    assert_eq!(tier["billingIncrementSeconds"], 60);
    assert_eq!(tier["minimumDurationSeconds"], 0);
    assert_eq!(tier["isActive"], true);
    assert_eq!(tier["version"], 1);
    assert_eq!(tier["createdAt"], tier["updatedAt"]);
    assert!(tier["createdAt"].as_str().unwrap().ends_with('Z'));
    let id = uuid::Uuid::parse_str(tier["id"].as_str().unwrap()).unwrap();
    assert_eq!(id.get_version_num(), 7);
    assert_eq!(get(&app, &id_of(&tier)).await, tier);
}

#[tokio::test]
async fn the_first_active_tier_becomes_the_default_and_later_ones_do_not() {
    let app = TestApp::spawn().await;
    let inactive = create(
        &app,
        json!({"name": "Draft", "currency": "USD", "ratePerMinute": 1, "isActive": false}),
    )
    .await;
    assert_eq!(inactive["isDefault"], false);
    let none = app
        .graphql("{ defaultPricingTier { id } }", json!({}))
        .await;
    assert_eq!(data(&none)["defaultPricingTier"], Value::Null);

    let first = create_named(&app, "First").await;
    let second = create_named(&app, "Second").await;
    assert_eq!(first["isDefault"], true);
    assert_eq!(second["isDefault"], false);
    let default = app
        .graphql("{ defaultPricingTier { id } }", json!({}))
        .await;
    assert_eq!(data(&default)["defaultPricingTier"]["id"], first["id"]);
}

#[tokio::test]
async fn creating_with_is_default_moves_the_default() {
    let app = TestApp::spawn().await;
    let first = create_named(&app, "First").await;
    let second = create(
        &app,
        json!({"name": "Second", "currency": "EUR", "ratePerMinute": "0.2", "isDefault": true}),
    )
    .await;
    assert_eq!(second["isDefault"], true);
    assert_eq!(get(&app, &id_of(&first)).await["isDefault"], false);
}

#[tokio::test]
async fn every_invalid_field_is_rejected_with_its_path_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let valid = json!({"name": "Gold", "currency": "USD", "ratePerMinute": "0.45"});
    let cases = [
        ("name", json!(""), "input.name"),
        ("name", json!("x".repeat(65)), "input.name"),
        ("name", json!("tab\tname"), "input.name"),
        ("description", json!("d".repeat(501)), "input.description"),
        ("currency", json!("XYZ"), "input.currency"),
        ("currency", json!("US"), "input.currency"),
        ("ratePerMinute", json!("-0.01"), "input.ratePerMinute"),
        ("ratePerMinute", json!("1000000.01"), "input.ratePerMinute"),
        ("ratePerMinute", json!("0.000000001"), "input.ratePerMinute"),
        (
            "billingIncrementSeconds",
            json!(0),
            "input.billingIncrementSeconds",
        ),
        (
            "billingIncrementSeconds",
            json!(3601),
            "input.billingIncrementSeconds",
        ),
        (
            "minimumDurationSeconds",
            json!(-1),
            "input.minimumDurationSeconds",
        ),
        (
            "minimumDurationSeconds",
            json!(86_401),
            "input.minimumDurationSeconds",
        ),
    ];
    for (key, value, field) in cases {
        let mut input = valid.clone();
        input[key] = value.clone();
        let body = app.graphql(CREATE, json!({ "input": input })).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{key}={value}: {body}");
        assert_eq!(error_field(&body), field, "{key}={value}");
    }
    let mut inactive_default = valid.clone();
    inactive_default["isActive"] = json!(false);
    inactive_default["isDefault"] = json!(true);
    let body = app
        .graphql(CREATE, json!({ "input": inactive_default }))
        .await;
    assert_eq!(error_field(&body), "input.isDefault");

    assert!(
        all_tiers(&app).await.is_empty(),
        "a rejected input wrote a tier"
    );
}

#[tokio::test]
async fn a_rate_that_is_not_a_number_is_bad_user_input() {
    let app = TestApp::spawn().await;
    let body = app
        .graphql(
            CREATE,
            json!({"input": {"name": "Gold", "currency": "USD", "ratePerMinute": "abc"}}),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    assert_eq!(error_field(&body), "input.ratePerMinute");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("is not a decimal number"),
        "{body}"
    );
}

#[tokio::test]
async fn tier_names_are_unique_regardless_of_case() {
    let app = TestApp::spawn().await;
    create_named(&app, "Gold").await;
    let body = app
        .graphql(
            CREATE,
            json!({"input": {"name": "GOLD", "currency": "USD", "ratePerMinute": "1"}}),
        )
        .await;
    assert_eq!(error_code(&body), "CONFLICT");
    assert_eq!(error_field(&body), "input.name");
    assert_eq!(all_tiers(&app).await.len(), 1);
}

#[tokio::test]
async fn concurrent_creates_of_one_name_have_exactly_one_winner() {
    let app = TestApp::spawn().await;
    let attempts = (0..12).map(|i| {
        let app = &app;
        async move {
            let name = if i % 2 == 0 { "Platinum" } else { "platinum" };
            app.graphql(
                CREATE,
                json!({"input": {"name": name, "currency": "USD", "ratePerMinute": "1"}}),
            )
            .await
        }
    });
    let results = futures::future::join_all(attempts).await;
    let winners = results.iter().filter(|b| b.get("errors").is_none()).count();
    assert_eq!(winners, 1, "{results:?}");
    for loser in results.iter().filter(|b| b.get("errors").is_some()) {
        assert_eq!(error_code(loser), "CONFLICT");
    }
    assert_eq!(all_tiers(&app).await.len(), 1);
}

#[tokio::test]
async fn looking_up_an_unknown_tier_gives_null_and_a_malformed_id_bad_input() {
    let app = TestApp::spawn().await;
    let unknown = get(&app, &uuid::Uuid::now_v7().to_string()).await;
    assert_eq!(unknown, Value::Null);
    let body = app
        .graphql("{ pricingTier(id: \"nope\") { id } }", json!({}))
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    assert_eq!(error_field(&body), "id");
}

#[tokio::test]
async fn paging_through_tiers_visits_each_once_in_name_order() {
    let app = TestApp::spawn().await;
    let names = [
        "delta", "Alpha", "echo", "Charlie", "bravo", "golf", "Foxtrot",
    ];
    for name in names {
        create_named(&app, name).await;
    }
    let mut seen = Vec::new();
    let mut after = Value::Null;
    let mut pages = 0;
    loop {
        let body = app
            .graphql(LIST_ALL, json!({"first": 3, "after": after}))
            .await;
        let connection = &data(&body)["pricingTiers"];
        let edges = connection["edges"].as_array().unwrap();
        assert!(edges.len() <= 3);
        seen.extend(
            edges
                .iter()
                .map(|e| e["node"]["name"].as_str().unwrap().to_owned()),
        );
        pages += 1;
        if connection["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = connection["pageInfo"]["endCursor"].clone();
        assert_eq!(after, edges.last().unwrap()["cursor"]);
    }
    assert_eq!(pages, 3);
    assert_eq!(
        seen,
        [
            "Alpha", "bravo", "Charlie", "delta", "echo", "Foxtrot", "golf"
        ]
    );
}

#[tokio::test]
async fn inactive_tiers_are_listed_only_when_asked_for() {
    let app = TestApp::spawn().await;
    create_named(&app, "Active").await;
    create(
        &app,
        json!({"name": "Retired", "currency": "USD", "ratePerMinute": "1", "isActive": false}),
    )
    .await;
    let body = app
        .graphql("{ pricingTiers { edges { node { name } } } }", json!({}))
        .await;
    let names: Vec<_> = data(&body)["pricingTiers"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["name"].clone())
        .collect();
    assert_eq!(names, [json!("Active")]);
    assert_eq!(all_tiers(&app).await.len(), 2);
}

#[tokio::test]
async fn page_size_and_cursor_are_checked() {
    let app = TestApp::spawn().await;
    let too_many = app.graphql(LIST_ALL, json!({"first": 101})).await;
    assert_eq!(error_code(&too_many), "BAD_USER_INPUT");
    assert_eq!(error_field(&too_many), "first");
    let negative = app.graphql(LIST_ALL, json!({"first": -1})).await;
    assert_eq!(error_field(&negative), "first");
    let forged = app
        .graphql(LIST_ALL, json!({"first": 5, "after": "not-a-cursor"}))
        .await;
    assert_eq!(error_code(&forged), "BAD_USER_INPUT");
    assert_eq!(error_field(&forged), "after");
}

#[tokio::test]
async fn call_cost_prices_calls_by_minimum_and_increment() {
    let app = TestApp::spawn().await;
    let tier = create(
        &app,
        json!({"name": "Per6", "currency": "INR", "ratePerMinute": "0.45",
               "billingIncrementSeconds": 6, "minimumDurationSeconds": 30}),
    )
    .await;
    let body = app
        .graphql(
            "query($id: ID!) { pricingTier(id: $id) {
                zero: callCost(durationSeconds: 0)
                short: callCost(durationSeconds: 10)
                exact: callCost(durationSeconds: 60)
                odd: callCost(durationSeconds: 61)
            } }",
            json!({"id": id_of(&tier)}),
        )
        .await;
    let costs = &data(&body)["pricingTier"];
    assert_eq!(costs["zero"], "0.0000");
    assert_eq!(costs["short"], "0.2250"); // 30 s minimum
    assert_eq!(costs["exact"], "0.4500");
    assert_eq!(costs["odd"], "0.4950"); // 66 s

    let negative = app
        .graphql(
            "query($id: ID!) { pricingTier(id: $id) { callCost(durationSeconds: -5) } }",
            json!({"id": id_of(&tier)}),
        )
        .await;
    assert_eq!(error_code(&negative), "BAD_USER_INPUT");
    assert_eq!(error_field(&negative), "durationSeconds");
}

#[tokio::test]
async fn an_update_changes_only_the_given_fields_and_bumps_the_version() {
    let app = TestApp::spawn().await;
    let tier = create(
        &app,
        json!({"name": "Silver", "currency": "USD", "ratePerMinute": "0.30", "description": "old"}),
    )
    .await;
    let body = app
        .graphql(
            UPDATE,
            json!({"id": id_of(&tier), "input": {"ratePerMinute": "0.25", "currency": "eur"}}),
        )
        .await;
    let updated = &data(&body)["updatePricingTier"];
    assert_eq!(updated["ratePerMinute"], "0.25");
    assert_eq!(updated["currency"], "EUR");
    assert_eq!(updated["name"], "Silver");
    assert_eq!(updated["description"], "old");
    assert_eq!(updated["version"], 2);
    let stored = get(&app, &id_of(&tier)).await;
    assert_eq!(stored["ratePerMinute"], "0.25");
    assert_ne!(stored["updatedAt"], tier["updatedAt"]);
    assert_eq!(stored["createdAt"], tier["createdAt"]);
}

#[tokio::test]
async fn explicit_null_clears_the_description_but_is_refused_for_the_name() {
    let app = TestApp::spawn().await;
    let tier = create(
        &app,
        json!({"name": "Bronze", "currency": "USD", "ratePerMinute": "1", "description": "x"}),
    )
    .await;
    let cleared = app
        .graphql(
            UPDATE,
            json!({"id": id_of(&tier), "input": {"description": null}}),
        )
        .await;
    assert_eq!(
        data(&cleared)["updatePricingTier"]["description"],
        Value::Null
    );
    let refused = app
        .graphql(UPDATE, json!({"id": id_of(&tier), "input": {"name": null}}))
        .await;
    assert_eq!(error_code(&refused), "BAD_USER_INPUT");
    assert_eq!(error_field(&refused), "input.name");
    let invalid = app
        .graphql(
            UPDATE,
            json!({"id": id_of(&tier), "input": {"billingIncrementSeconds": 0}}),
        )
        .await;
    assert_eq!(error_field(&invalid), "input.billingIncrementSeconds");
    assert_eq!(get(&app, &id_of(&tier)).await["version"], 2);
}

#[tokio::test]
async fn a_stale_expected_version_is_a_conflict_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let tier = create_named(&app, "Copper").await;
    let first = app
        .graphql(
            UPDATE,
            json!({"id": id_of(&tier), "input": {"ratePerMinute": "2"}, "v": 1}),
        )
        .await;
    assert_eq!(data(&first)["updatePricingTier"]["version"], 2);
    let stale = app
        .graphql(
            UPDATE,
            json!({"id": id_of(&tier), "input": {"ratePerMinute": "3"}, "v": 1}),
        )
        .await;
    assert_eq!(error_code(&stale), "CONFLICT");
    assert_eq!(error_field(&stale), "expectedVersion");
    let stored = get(&app, &id_of(&tier)).await;
    assert_eq!(
        (stored["ratePerMinute"].clone(), stored["version"].clone()),
        (json!("2"), json!(2))
    );
}

#[tokio::test]
async fn concurrent_patches_of_different_fields_both_survive() {
    let app = TestApp::spawn().await;
    for round in 0..5 {
        let tier = create_named(&app, &format!("Tin{round}")).await;
        let id = id_of(&tier);
        let (a, b, c) = tokio::join!(
            app.graphql(
                UPDATE,
                json!({"id": id, "input": {"description": "patched"}})
            ),
            app.graphql(
                UPDATE,
                json!({"id": id, "input": {"ratePerMinute": "9.99"}})
            ),
            app.graphql(
                UPDATE,
                json!({"id": id, "input": {"minimumDurationSeconds": 15}})
            ),
        );
        for body in [&a, &b, &c] {
            data(body);
        }
        let stored = get(&app, &id).await;
        assert_eq!(stored["description"], "patched");
        assert_eq!(stored["ratePerMinute"], "9.99");
        assert_eq!(stored["minimumDurationSeconds"], 15);
        assert_eq!(stored["version"], 4);
    }
}

#[tokio::test]
async fn renaming_frees_the_old_name_and_cannot_take_a_used_one() {
    let app = TestApp::spawn().await;
    let tier = create_named(&app, "Old").await;
    create_named(&app, "Taken").await;
    let taken = app
        .graphql(
            UPDATE,
            json!({"id": id_of(&tier), "input": {"name": "taken"}}),
        )
        .await;
    assert_eq!(error_code(&taken), "CONFLICT");
    assert_eq!(error_field(&taken), "input.name");

    let renamed = app
        .graphql(
            UPDATE,
            json!({"id": id_of(&tier), "input": {"name": "New"}}),
        )
        .await;
    assert_eq!(data(&renamed)["updatePricingTier"]["name"], "New");
    // The old name is free again; the new one is held.
    create_named(&app, "old").await;
    let clash = app
        .graphql(
            CREATE,
            json!({"input": {"name": "NEW", "currency": "USD", "ratePerMinute": "1"}}),
        )
        .await;
    assert_eq!(error_code(&clash), "CONFLICT");
    // Changing only the case keeps the name and its guard.
    let recased = app
        .graphql(
            UPDATE,
            json!({"id": id_of(&tier), "input": {"name": "NEW"}}),
        )
        .await;
    assert_eq!(data(&recased)["updatePricingTier"]["name"], "NEW");
}

#[tokio::test]
async fn the_default_tier_cannot_be_deactivated_or_deleted() {
    let app = TestApp::spawn().await;
    let default = create_named(&app, "Default").await;
    assert_eq!(default["isDefault"], true);
    let deactivate = app
        .graphql(
            UPDATE,
            json!({"id": id_of(&default), "input": {"isActive": false}}),
        )
        .await;
    assert_eq!(error_code(&deactivate), "FAILED_PRECONDITION");
    let delete = app.graphql(DELETE, json!({"id": id_of(&default)})).await;
    assert_eq!(error_code(&delete), "FAILED_PRECONDITION");
    let stored = get(&app, &id_of(&default)).await;
    assert_eq!(
        (stored["isActive"].clone(), stored["version"].clone()),
        (json!(true), json!(1))
    );
}

#[tokio::test]
async fn only_an_existing_active_tier_can_become_the_default() {
    let app = TestApp::spawn().await;
    create_named(&app, "Default").await;
    let inactive = create(
        &app,
        json!({"name": "Off", "currency": "USD", "ratePerMinute": "1", "isActive": false}),
    )
    .await;
    let refused = app
        .graphql(SET_DEFAULT, json!({"id": id_of(&inactive)}))
        .await;
    assert_eq!(error_code(&refused), "FAILED_PRECONDITION");
    let missing = app
        .graphql(SET_DEFAULT, json!({"id": uuid::Uuid::now_v7().to_string()}))
        .await;
    assert_eq!(error_code(&missing), "NOT_FOUND");

    let other = create_named(&app, "Other").await;
    let moved = app.graphql(SET_DEFAULT, json!({"id": id_of(&other)})).await;
    assert_eq!(data(&moved)["setDefaultPricingTier"]["isDefault"], true);
    let defaults: Vec<_> = all_tiers(&app)
        .await
        .into_iter()
        .filter(|t| t["isDefault"] == true)
        .map(|t| t["name"].clone())
        .collect();
    assert_eq!(defaults, [json!("Other")]);
}

#[tokio::test]
async fn concurrent_set_default_calls_leave_exactly_one_default() {
    let app = TestApp::spawn().await;
    let mut ids = Vec::new();
    for i in 0..10 {
        ids.push(id_of(&create_named(&app, &format!("T{i:02}")).await));
    }
    for _round in 0..3 {
        let calls = ids
            .iter()
            .map(|id| app.graphql(SET_DEFAULT, json!({ "id": id })));
        let results = futures::future::join_all(calls).await;
        let succeeded: HashSet<String> = results
            .iter()
            .filter(|b| b.get("errors").is_none())
            .map(|b| {
                b["data"]["setDefaultPricingTier"]["id"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        for failed in results.iter().filter(|b| b.get("errors").is_some()) {
            assert_eq!(error_code(failed), "CONFLICT", "{failed}");
        }
        assert!(!succeeded.is_empty());
        let defaults: Vec<_> = all_tiers(&app)
            .await
            .into_iter()
            .filter(|t| t["isDefault"] == true)
            .collect();
        assert_eq!(defaults.len(), 1, "{defaults:?}");
        let default_id = id_of(&defaults[0]);
        assert!(succeeded.contains(&default_id));
        let reported = app
            .graphql("{ defaultPricingTier { id } }", json!({}))
            .await;
        assert_eq!(
            data(&reported)["defaultPricingTier"]["id"],
            json!(default_id)
        );
    }
}

#[tokio::test]
async fn racing_set_default_against_deactivation_never_leaves_an_inactive_default() {
    let app = TestApp::spawn().await;
    create_named(&app, "Anchor").await;
    for round in 0..6 {
        let tier = create_named(&app, &format!("Racer{round}")).await;
        let id = id_of(&tier);
        let (set, deactivate) = tokio::join!(
            app.graphql(SET_DEFAULT, json!({ "id": id })),
            app.graphql(UPDATE, json!({"id": id, "input": {"isActive": false}})),
        );
        let stored = get(&app, &id).await;
        if stored["isDefault"] == true {
            assert_eq!(stored["isActive"], true, "{set} {deactivate}");
        }
        let default = app
            .graphql("{ defaultPricingTier { isActive } }", json!({}))
            .await;
        assert_eq!(data(&default)["defaultPricingTier"]["isActive"], true);
        // Put the anchor back as default for the next round.
        let anchor = all_tiers(&app)
            .await
            .into_iter()
            .find(|t| t["name"] == "Anchor")
            .unwrap();
        data(
            &app.graphql(SET_DEFAULT, json!({"id": id_of(&anchor)}))
                .await,
        );
    }
}

#[tokio::test]
async fn deleting_a_tier_removes_it_and_frees_its_name() {
    let app = TestApp::spawn().await;
    create_named(&app, "Keep").await;
    let doomed = create_named(&app, "Doomed").await;
    let body = app.graphql(DELETE, json!({"id": id_of(&doomed)})).await;
    assert_eq!(data(&body)["deletePricingTier"], doomed["id"]);
    assert_eq!(get(&app, &id_of(&doomed)).await, Value::Null);
    create_named(&app, "doomed").await;
    let again = app.graphql(DELETE, json!({"id": id_of(&doomed)})).await;
    assert_eq!(error_code(&again), "NOT_FOUND");
}

#[tokio::test]
async fn a_stale_expected_version_blocks_deletion() {
    let app = TestApp::spawn().await;
    create_named(&app, "Keep").await;
    let tier = create_named(&app, "Versioned").await;
    app.graphql(
        UPDATE,
        json!({"id": id_of(&tier), "input": {"description": "v2"}}),
    )
    .await;
    let stale = app
        .graphql(DELETE, json!({"id": id_of(&tier), "v": 1}))
        .await;
    assert_eq!(error_code(&stale), "CONFLICT");
    assert_eq!(error_field(&stale), "expectedVersion");
    let current = app
        .graphql(DELETE, json!({"id": id_of(&tier), "v": 2}))
        .await;
    assert_eq!(data(&current)["deletePricingTier"], tier["id"]);
}

#[tokio::test]
async fn a_tier_with_accounts_on_it_cannot_be_deleted() {
    let app = TestApp::spawn().await;
    create_named(&app, "Keep").await;
    let tier = create_named(&app, "Busy").await;
    let id = uuid::Uuid::parse_str(&id_of(&tier)).unwrap();
    let tiers = app.store.pricing_tiers();
    tiers.attach_account(id).await.unwrap();
    tiers.attach_account(id).await.unwrap();

    let refused = app.graphql(DELETE, json!({"id": id_of(&tier)})).await;
    assert_eq!(error_code(&refused), "FAILED_PRECONDITION");
    assert!(
        refused["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("2 account")
    );

    tiers.detach_account(id).await.unwrap();
    tiers.detach_account(id).await.unwrap();
    assert!(
        tiers.detach_account(id).await.is_err(),
        "the count went below zero"
    );
    let deleted = app.graphql(DELETE, json!({"id": id_of(&tier)})).await;
    assert_eq!(data(&deleted)["deletePricingTier"], tier["id"]);
}

#[tokio::test]
async fn accounts_cannot_be_attached_to_an_inactive_tier() {
    let app = TestApp::spawn().await;
    let tier = create(
        &app,
        json!({"name": "Off", "currency": "USD", "ratePerMinute": "1", "isActive": false}),
    )
    .await;
    let id = uuid::Uuid::parse_str(&id_of(&tier)).unwrap();
    let err = app
        .store
        .pricing_tiers()
        .attach_account(id)
        .await
        .unwrap_err();
    assert!(
        matches!(err, switchboard::store::StoreError::FailedPrecondition(_)),
        "{err:?}"
    );
}

#[tokio::test]
async fn non_admins_can_read_tiers_but_not_change_them() {
    let app = TestApp::spawn().await;
    let tier = create_named(&app, "Public").await;
    let read = app
        .graphql_as_user("{ pricingTiers { edges { node { name } } } }", json!({}))
        .await;
    assert_eq!(
        data(&read)["pricingTiers"]["edges"][0]["node"]["name"],
        "Public"
    );
    let writes = [
        (
            CREATE,
            json!({"input": {"name": "Sneaky", "currency": "USD", "ratePerMinute": "0"}}),
        ),
        (
            UPDATE,
            json!({"id": id_of(&tier), "input": {"ratePerMinute": "0"}}),
        ),
        (SET_DEFAULT, json!({"id": id_of(&tier)})),
        (DELETE, json!({"id": id_of(&tier)})),
    ];
    for (mutation, variables) in writes {
        let body = app.graphql_as_user(mutation, variables).await;
        assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    }
    let stored = get(&app, &id_of(&tier)).await;
    assert_eq!(stored["version"], 1);
    assert_eq!(all_tiers(&app).await.len(), 1);
}

#[tokio::test]
async fn rates_keep_their_exact_decimal_value_from_strings_and_numbers() {
    let app = TestApp::spawn().await;
    let from_number = create(
        &app,
        json!({"name": "Num", "currency": "USD", "ratePerMinute": 0.07}),
    )
    .await;
    assert_eq!(from_number["ratePerMinute"], "0.07");
    let bad_patch = app
        .graphql(
            UPDATE,
            json!({"id": id_of(&from_number), "input": {"ratePerMinute": "1,5"}}),
        )
        .await;
    assert_eq!(error_field(&bad_patch), "input.ratePerMinute");
    let precise = create(
        &app,
        json!({"name": "Precise", "currency": "USD", "ratePerMinute": "0.12345678"}),
    )
    .await;
    assert_eq!(
        get(&app, &id_of(&precise)).await["ratePerMinute"],
        "0.12345678"
    );
}

#[tokio::test]
async fn an_update_that_repeats_the_stored_values_changes_nothing_and_keeps_the_version() {
    let app = TestApp::spawn().await;
    let tier = create(
        &app,
        json!({"name": "Bronze", "currency": "USD", "ratePerMinute": "0.4500", "description": "d"}),
    )
    .await;
    let body = app
        .graphql(
            UPDATE,
            json!({"id": id_of(&tier), "input": {"description": "e"}}),
        )
        .await;
    assert_eq!(data(&body)["updatePricingTier"]["version"], 2);
    let same = json!({"name": "Bronze", "description": "e", "currency": "USD",
        "ratePerMinute": "0.4500", "billingIncrementSeconds": tier["billingIncrementSeconds"],
        "minimumDurationSeconds": tier["minimumDurationSeconds"], "isActive": true});
    for _ in 0..2 {
        let body = app
            .graphql(UPDATE, json!({"id": id_of(&tier), "input": same, "v": 2}))
            .await;
        assert_eq!(data(&body)["updatePricingTier"]["version"], 2, "{body}");
    }
    let stored = get(&app, &id_of(&tier)).await;
    assert_eq!(stored["version"], 2);
    // A different written form of the same rate is a change: reads return
    // what was written.
    let body = app
        .graphql(
            UPDATE,
            json!({"id": id_of(&tier), "input": {"ratePerMinute": "0.45"}, "v": 2}),
        )
        .await;
    let updated = &data(&body)["updatePricingTier"];
    assert_eq!(
        (updated["ratePerMinute"].clone(), updated["version"].clone()),
        (json!("0.45"), json!(3))
    );
}

#[tokio::test]
async fn activating_the_only_active_tier_makes_it_the_default() {
    let app = TestApp::spawn().await;
    let tier = create(
        &app,
        json!({"name": "Dormant", "currency": "USD", "ratePerMinute": "0.10", "isActive": false}),
    )
    .await;
    assert_eq!(tier["isDefault"], false);
    let default = "{ defaultPricingTier { id } }";
    assert_eq!(
        data(&app.graphql(default, json!({})).await)["defaultPricingTier"],
        Value::Null
    );
    let body = app
        .graphql(
            UPDATE,
            json!({"id": id_of(&tier), "input": {"isActive": true}}),
        )
        .await;
    assert_eq!(
        data(&body)["updatePricingTier"]["isDefault"],
        true,
        "{body}"
    );
    assert_eq!(
        data(&app.graphql(default, json!({})).await)["defaultPricingTier"]["id"],
        tier["id"]
    );

    // Activating a second tier leaves the default where it is.
    let second = create(
        &app,
        json!({"name": "Second", "currency": "USD", "ratePerMinute": "0.10", "isActive": false}),
    )
    .await;
    let body = app
        .graphql(
            UPDATE,
            json!({"id": id_of(&second), "input": {"isActive": true}}),
        )
        .await;
    assert_eq!(data(&body)["updatePricingTier"]["isDefault"], false);
    assert_eq!(
        data(&app.graphql(default, json!({})).await)["defaultPricingTier"]["id"],
        tier["id"]
    );
}
