//! Customer lists at their limits: a page reads a bounded number of items
//! whatever the filter, every cursor the server emits parses back, and
//! search input is bounded.

use serde_json::{Value, json};

use crate::customers::{create, id_of, try_create};
use crate::helpers::{TestApp, data, error_code, error_field};

const LIST: &str = "query($f: CustomerFilterInput, $first: Int, $after: String) {
    customers(first: $first, after: $after, filter: $f) {
        edges { cursor node { id country } } pageInfo { hasNextPage endCursor } } }";

/// Creates `count` customers in `country`, ten at a time.
async fn create_many(app: &TestApp, count: usize, country: &str, company: &str) -> Vec<String> {
    let mut ids = Vec::new();
    for chunk in (0..count).collect::<Vec<_>>().chunks(10) {
        let created = futures::future::join_all(chunk.iter().map(|_| {
            create(
                app,
                json!({"country": country, "companyName": company, "currency": "EUR"}),
            )
        }))
        .await;
        ids.extend(created.iter().map(id_of));
    }
    ids
}

/// Pages through `customers(filter:)` with `first: 1`, returning the ids
/// found and the DynamoDB `Query` calls each page made.
async fn page_through(
    app: &TestApp,
    counter: &crate::helpers::CallCounter,
    filter: Value,
) -> (Vec<String>, Vec<usize>) {
    let mut found = Vec::new();
    let mut queries = Vec::new();
    let mut after = Value::Null;
    for _ in 0..50 {
        counter.reset();
        let body = app
            .graphql(LIST, json!({"f": filter, "first": 1, "after": after}))
            .await;
        queries.push(counter.count("Query"));
        let list = &data(&body)["customers"];
        found.extend(
            list["edges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["node"]["id"].as_str().unwrap().to_owned()),
        );
        if list["pageInfo"]["hasNextPage"] == false {
            return (found, queries);
        }
        after = list["pageInfo"]["endCursor"].clone();
        assert!(after.is_string(), "a next page needs a cursor: {body}");
    }
    panic!("paging did not end");
}

#[tokio::test]
async fn a_sparse_filter_reads_a_bounded_number_of_items_per_page_and_paging_still_finds_everything()
 {
    let app = TestApp::spawn().await;
    // The one French customer is the oldest, so newest-first it is last.
    let french = create_many(&app, 1, "FR", "Sparse Match").await;
    create_many(&app, 60, "DE", "Sparse Other").await;
    let (limited, counter) = app.counted(&[("LIST_READ_LIMIT", "20")]).await;

    // By status (GSI2) with country as a filter expression.
    let (found, queries) = page_through(
        &limited,
        &counter,
        json!({"status": "ACTIVE", "country": "FR"}),
    )
    .await;
    assert_eq!(found, french);
    assert!(
        queries.iter().all(|q| *q == 1),
        "each page may read 20 items, one Query: {queries:?}"
    );
    assert!(queries.len() >= 3, "61 items at 20 a page: {queries:?}");

    // Type only (GSI1 with a filter expression) matches nothing here.
    let (found, queries) =
        page_through(&limited, &counter, json!({"customerType": "PERSONAL"})).await;
    assert!(found.is_empty());
    assert!(queries.iter().all(|q| *q == 1), "{queries:?}");

    // Search with a filter reads at most 20 search terms a page.
    let (found, queries) = page_through(
        &limited,
        &counter,
        json!({"search": "sparse", "country": "FR"}),
    )
    .await;
    assert_eq!(found, french);
    assert!(queries.iter().all(|q| *q == 1), "{queries:?}");
}

#[tokio::test]
async fn a_short_page_still_answers_with_a_cursor_past_what_it_read() {
    let app = TestApp::spawn().await;
    create_many(&app, 1, "FR", "Short Page").await;
    create_many(&app, 30, "DE", "Short Page").await;
    let (limited, _) = app.counted(&[("LIST_READ_LIMIT", "20")]).await;
    let body = limited
        .graphql(
            LIST,
            json!({"f": {"status": "ACTIVE", "country": "FR"}, "first": 5}),
        )
        .await;
    let list = &data(&body)["customers"];
    assert_eq!(list["edges"], json!([]), "{body}");
    assert_eq!(list["pageInfo"]["hasNextPage"], true);
    let cursor = list["pageInfo"]["endCursor"].clone();
    let next = limited
        .graphql(
            LIST,
            json!({"f": {"status": "ACTIVE", "country": "FR"}, "first": 5, "after": cursor}),
        )
        .await;
    let list = &data(&next)["customers"];
    assert_eq!(list["edges"].as_array().unwrap().len(), 1, "{next}");
    assert_eq!(list["pageInfo"]["hasNextPage"], false);
}

#[tokio::test]
async fn every_cursor_the_server_emits_parses_back_even_at_maximum_lengths() {
    let app = TestApp::spawn().await;
    // Names folding to the longest terms: CJK and a ligature that folds
    // into 29 letters.
    let long = json!({
        "companyName": "中".repeat(200),
        "firstName": "ﷺ".repeat(100),
        "lastName": "ﷺ".repeat(100),
        "email": format!("{}1@{}.example.com", "a".repeat(63), "b".repeat(60)),
    });
    let first = create(&app, long.clone()).await;
    let mut second = long;
    second["email"] = json!(format!(
        "{}2@{}.example.com",
        "a".repeat(63),
        "b".repeat(60)
    ));
    create(&app, second).await;
    for search in ["zhong zhong", "{salla llahu", "aaaa", "中中", "ﷺﷺﷺ"] {
        let body = app
            .graphql(LIST, json!({"f": {"search": search}, "first": 1}))
            .await;
        let list = &data(&body)["customers"];
        assert_eq!(list["pageInfo"]["hasNextPage"], true, "{search}: {body}");
        let cursor = list["pageInfo"]["endCursor"].clone();
        let next = app
            .graphql(
                LIST,
                json!({"f": {"search": search}, "first": 1, "after": cursor}),
            )
            .await;
        assert_eq!(
            data(&next)["customers"]["edges"].as_array().unwrap().len(),
            1,
            "{search}: {next}"
        );
    }
    assert!(first["id"].is_string());

    // Pricing tiers: the longest name in four-byte characters.
    let tier =
        "mutation($name: String!) { createPricingTier(input: {name: $name, currency: \"EUR\",
        ratePerMinute: \"0.01\", billingIncrementSeconds: 1, minimumDurationSeconds: 0}) { id } }";
    for c in ['𝔸', '𝔹'] {
        let body = app
            .graphql(tier, json!({"name": c.to_string().repeat(64)}))
            .await;
        data(&body);
    }
    let tiers = "query($after: String) { pricingTiers(first: 1, after: $after) {
        edges { node { name } } pageInfo { hasNextPage endCursor } } }";
    let body = app.graphql(tiers, json!({})).await;
    let cursor = data(&body)["pricingTiers"]["pageInfo"]["endCursor"].clone();
    let next = app.graphql(tiers, json!({"after": cursor})).await;
    assert_eq!(
        data(&next)["pricingTiers"]["edges"][0]["node"]["name"],
        "𝔹".repeat(64)
    );
}

#[tokio::test]
async fn names_that_fold_past_the_sort_key_limit_are_stored_not_reported_as_conflicts() {
    let app = TestApp::spawn().await;
    let body = try_create(&app, json!({"firstName": "ﷺ".repeat(60)})).await;
    let customer = &data(&body)["createCustomer"];
    assert_eq!(customer["firstName"], "ﷺ".repeat(60));
}

#[tokio::test]
async fn search_text_is_bounded() {
    let app = TestApp::spawn().await;
    let body = app
        .graphql(
            LIST,
            json!({"f": {"search": "x".repeat(2_000)}, "first": 1}),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(error_field(&body), "filter.search");
    let body = app
        .graphql(LIST, json!({"f": {"search": "x".repeat(100)}, "first": 1}))
        .await;
    assert_eq!(data(&body)["customers"]["edges"], json!([]));
}

#[tokio::test]
async fn oversized_metadata_is_bad_input_on_its_field_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let metadata: serde_json::Map<String, Value> = (0..50)
        .map(|i| {
            let nested: serde_json::Map<String, Value> = (0..6)
                .map(|j| (format!("n{j}"), json!("中".repeat(500))))
                .collect();
            (format!("k{i}"), Value::Object(nested))
        })
        .collect();
    let body = try_create(
        &app,
        json!({"metadata": metadata, "email": "big@meta.example"}),
    )
    .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(error_field(&body), "input.metadata");
    let lookup = app
        .graphql(
            "{ customerByEmail(email: \"big@meta.example\") { id } }",
            json!({}),
        )
        .await;
    assert_eq!(data(&lookup)["customerByEmail"], Value::Null);
}
