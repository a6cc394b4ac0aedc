//! docs/api.md cannot rot: every `graphql` example in it runs, in order,
//! against one fresh app as an admin, and must answer as its `json response`
//! block shows; and every query and mutation of the served schema must have
//! an example there.
//!
//! The conventions (stated at the top of docs/api.md): a ```` ```json ````
//! block right after a ```` ```graphql ```` block holds its variables; a
//! ```` ```json response ```` block is a pattern the response must match
//! (objects: the keys shown, with matching values; arrays: the same length,
//! item by item; `"…"`: any value); `"<token mailed to ADDRESS>"` in
//! variables stands for the token the newest invitation email to ADDRESS
//! carries; `"<field.path>"` in variables or in a
//! response pattern is the value at that path in the latest earlier
//! response whose `data` had `field` (a field name or alias; `edges.0` is
//! the first item of a list).

use std::collections::{BTreeSet, HashMap};

use async_graphql::parser::types::{DocumentOperations, Selection, TypeKind, TypeSystemDefinition};
use serde_json::{Value, json};

use crate::helpers::TestApp;

const GUIDE: &str = "docs/api.md";

/// One `graphql` block with what follows it.
#[derive(Debug)]
struct Example {
    /// 1-based line of the opening fence, for messages.
    line: usize,
    query: String,
    variables: Option<Value>,
    response: Option<Value>,
}

/// A fenced block: its info string, its text and the line it opens on.
struct Block {
    info: String,
    text: String,
    line: usize,
}

fn fenced_blocks(markdown: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut open: Option<Block> = None;
    for (index, line) in markdown.lines().enumerate() {
        // Only fences at the start of a line; ```` ``` ```` inside prose is not one.
        let fence = line.strip_prefix("```");
        if let Some(block) = open.as_mut() {
            if fence.is_some_and(|rest| rest.trim().is_empty()) {
                blocks.extend(open.take());
            } else {
                block.text.push_str(line);
                block.text.push('\n');
            }
        } else if let Some(info) = fence {
            open = Some(Block {
                info: info.trim().to_owned(),
                text: String::new(),
                line: index + 1,
            });
        }
    }
    assert!(open.is_none(), "{GUIDE}: a fenced block is not closed");
    blocks
}

fn examples(markdown: &str) -> Vec<Example> {
    let mut examples: Vec<Example> = Vec::new();
    for block in fenced_blocks(markdown) {
        let parse = || -> Value {
            serde_json::from_str(&block.text).unwrap_or_else(|err| {
                panic!(
                    "{GUIDE}:{}: the JSON block does not parse: {err}",
                    block.line
                )
            })
        };
        match block.info.as_str() {
            "graphql" => examples.push(Example {
                line: block.line,
                query: block.text,
                variables: None,
                response: None,
            }),
            "json" => {
                let example = examples
                    .last_mut()
                    .filter(|e| e.variables.is_none() && e.response.is_none())
                    .unwrap_or_else(|| {
                        panic!(
                            "{GUIDE}:{}: a `json` block must follow a `graphql` block (its \
                             variables); use `json response` for a response",
                            block.line
                        )
                    });
                example.variables = Some(parse());
            }
            "json response" => {
                let example = examples
                    .last_mut()
                    .filter(|e| e.response.is_none())
                    .unwrap_or_else(|| {
                        panic!(
                            "{GUIDE}:{}: a `json response` block must follow a `graphql` \
                             example (and its variables)",
                            block.line
                        )
                    });
                example.response = Some(parse());
            }
            _ => {}
        }
    }
    examples
}

/// The root fields an example selects, as `query name` / `mutation name`.
fn root_fields(example: &Example) -> Vec<String> {
    let document = async_graphql::parser::parse_query(&example.query).unwrap_or_else(|err| {
        panic!(
            "{GUIDE}:{}: the example does not parse: {err}",
            example.line
        )
    });
    let operations = match &document.operations {
        DocumentOperations::Single(operation) => vec![operation],
        DocumentOperations::Multiple(operations) => operations.values().collect(),
    };
    let mut fields = Vec::new();
    for operation in operations {
        for selection in &operation.node.selection_set.node.items {
            if let Selection::Field(field) = &selection.node {
                fields.push(format!("{} {}", operation.node.ty, field.node.name.node));
            }
        }
    }
    fields
}

/// The fields of the served schema's `Query` and `Mutation` types, as
/// `query name` / `mutation name`.
fn schema_root_fields() -> BTreeSet<String> {
    let schema = async_graphql::parser::parse_schema(switchboard::graphql::sdl())
        .expect("the served SDL parses");
    let mut fields = BTreeSet::new();
    for definition in schema.definitions {
        let TypeSystemDefinition::Type(ty) = definition else {
            continue;
        };
        let operation = match ty.node.name.node.as_str() {
            "Query" => "query",
            "Mutation" => "mutation",
            _ => continue,
        };
        if let TypeKind::Object(object) = &ty.node.kind {
            for field in &object.fields {
                fields.insert(format!("{operation} {}", field.node.name.node));
            }
        }
    }
    fields
}

/// The earlier responses' `data` fields by response key, the latest winning.
#[derive(Default)]
struct Earlier(HashMap<String, Value>);

impl Earlier {
    fn remember(&mut self, data: &Value) {
        if let Some(fields) = data.as_object() {
            for (key, value) in fields {
                self.0.insert(key.clone(), value.clone());
            }
        }
    }

    /// The value a `"<path>"` placeholder stands for, if `text` is one.
    fn lookup(&self, text: &str, line: usize) -> Option<Value> {
        let path = text.strip_prefix('<')?.strip_suffix('>')?;
        let mut segments = path.split('.');
        let root = segments.next().unwrap_or_default();
        let mut value = self.0.get(root).unwrap_or_else(|| {
            panic!("{GUIDE}:{line}: `<{path}>`: no earlier example returned `{root}`")
        });
        for segment in segments {
            value = match segment.parse::<usize>() {
                Ok(index) => value.get(index),
                Err(_) => value.get(segment),
            }
            .unwrap_or_else(|| {
                panic!("{GUIDE}:{line}: `<{path}>`: no `{segment}` in the earlier {value}")
            });
        }
        Some(value.clone())
    }

    /// `value` with every placeholder replaced.
    fn resolve(&self, value: &Value, line: usize) -> Value {
        match value {
            Value::String(text) => self.lookup(text, line).unwrap_or_else(|| value.clone()),
            Value::Array(items) => items.iter().map(|v| self.resolve(v, line)).collect(),
            Value::Object(fields) => fields
                .iter()
                .map(|(k, v)| (k.clone(), self.resolve(v, line)))
                .collect(),
            _ => value.clone(),
        }
    }
}

/// Where `actual` differs from the `pattern`, if anywhere.
fn mismatch(pattern: &Value, actual: &Value, at: &str) -> Option<String> {
    match (pattern, actual) {
        (Value::String(any), actual) if any == "…" => {
            actual.is_null().then(|| format!("{at}: a value, got null"))
        }
        (Value::Object(expected), Value::Object(got)) => expected.iter().find_map(|(key, p)| {
            let at = format!("{at}.{key}");
            match got.get(key) {
                Some(v) => mismatch(p, v, &at),
                None => Some(format!("{at}: missing")),
            }
        }),
        (Value::Array(expected), Value::Array(got)) => {
            if expected.len() == got.len() {
                expected
                    .iter()
                    .zip(got)
                    .enumerate()
                    .find_map(|(i, (p, v))| mismatch(p, v, &format!("{at}.{i}")))
            } else {
                Some(format!(
                    "{at}: {} items expected, got {}",
                    expected.len(),
                    got.len()
                ))
            }
        }
        _ => (pattern != actual).then(|| format!("{at}: expected {pattern}, got {actual}")),
    }
}

/// `variables` with each `"<token mailed to ADDRESS>"` replaced by the
/// accept token in the newest email the SES emulator holds for ADDRESS:
/// the invitee's side of an invitation, which no response shows.
async fn with_mailed_tokens(mut variables: Value) -> Value {
    if let Some(fields) = variables.as_object_mut() {
        for value in fields.values_mut() {
            let address = value
                .as_str()
                .and_then(|t| t.strip_prefix("<token mailed to "))
                .and_then(|t| t.strip_suffix('>'))
                .map(str::to_owned);
            if let Some(address) = address {
                *value = Value::String(crate::mailbox::latest_to(&address).await.token());
            }
        }
    }
    variables
}

fn guide() -> String {
    std::fs::read_to_string(GUIDE).expect("docs/api.md at the root")
}

#[tokio::test]
async fn every_example_in_the_api_guide_answers_as_shown() {
    let app = TestApp::spawn().await;
    let examples = examples(&guide());
    assert!(
        examples.len() > 10,
        "{GUIDE}: expected its examples, found {}",
        examples.len()
    );
    let mut earlier = Earlier::default();
    for example in &examples {
        let line = example.line;
        let variables = earlier.resolve(
            &with_mailed_tokens(example.variables.clone().unwrap_or_else(|| json!({}))).await,
            line,
        );
        let body = app.graphql(&example.query, variables).await;
        match &example.response {
            Some(pattern) => {
                let pattern = earlier.resolve(pattern, line);
                if pattern.get("errors").is_none() {
                    assert!(
                        body.get("errors").is_none(),
                        "{GUIDE}:{line}: the example failed: {body}"
                    );
                }
                if let Some(difference) = mismatch(&pattern, &body, "response") {
                    panic!("{GUIDE}:{line}: {difference}\n  the whole response: {body}");
                }
            }
            None => assert!(
                body.get("errors").is_none(),
                "{GUIDE}:{line}: the example failed: {body}"
            ),
        }
        earlier.remember(&body["data"]);
    }
}

#[test]
fn every_query_and_mutation_has_an_example_in_the_api_guide() {
    let shown: BTreeSet<_> = examples(&guide()).iter().flat_map(root_fields).collect();
    let schema = schema_root_fields();
    let missing: Vec<&str> = schema.difference(&shown).map(String::as_str).collect();
    assert!(
        missing.is_empty(),
        "{GUIDE} has no example of: {}",
        missing.join(", ")
    );
}

#[test]
fn the_guide_checker_tells_a_mismatch_from_a_match() {
    let actual = json!({"data": {"a": {"id": "x1", "n": 2, "list": [1, 2]}}});
    assert_eq!(
        mismatch(&json!({"data": {"a": {"id": "…", "n": 2}}}), &actual, "r"),
        None
    );
    assert!(mismatch(&json!({"data": {"a": {"n": 3}}}), &actual, "r").is_some());
    assert!(mismatch(&json!({"data": {"a": {"list": [1]}}}), &actual, "r").is_some());
    assert!(mismatch(&json!({"data": {"b": "…"}}), &actual, "r").is_some());
    let mut earlier = Earlier::default();
    earlier.remember(&actual["data"]);
    assert_eq!(
        earlier.resolve(&json!({"id": "<a.id>", "second": "<a.list.1>"}), 1),
        json!({"id": "x1", "second": 2})
    );
}
