//! The public contracts: the exported SDL and the SAM template.

use std::process::Command;

use serde_json::Value;
use switchboard::store::tables;

use crate::helpers::TestApp;

#[test]
fn schema_graphql_matches_the_served_schema() {
    let exported = std::fs::read_to_string("schema.graphql").expect("schema.graphql at the root");
    assert!(
        exported == switchboard::graphql::sdl(),
        "schema.graphql is out of date: run `cargo run -q -- print-schema > schema.graphql`"
    );
}

#[tokio::test]
async fn the_served_schema_is_the_exported_one_by_introspection() {
    let app = TestApp::spawn().await;
    let body = app
        .graphql(
            "{ __type(name: \"PricingTier\") { fields { name } } }",
            serde_json::json!({}),
        )
        .await;
    let exported = std::fs::read_to_string("schema.graphql").unwrap();
    for field in body["data"]["__type"]["fields"].as_array().unwrap() {
        let name = field["name"].as_str().unwrap();
        assert!(
            exported.contains(&format!("\t{name}")),
            "{name} missing from schema.graphql"
        );
    }
}

/// YAML to JSON, keeping CloudFormation's short-form tags as one-key
/// objects (`!Ref X` becomes `{"!Ref": "X"}`).
fn yaml_to_json(value: serde_norway::Value) -> Value {
    use serde_norway::Value as Y;
    match value {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => serde_json::to_value(n).unwrap(),
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(items.into_iter().map(yaml_to_json).collect()),
        Y::Mapping(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k.as_str().unwrap_or_default().to_owned(), yaml_to_json(v)))
                .collect(),
        ),
        Y::Tagged(tagged) => {
            serde_json::json!({ tagged.tag.to_string(): yaml_to_json(tagged.value) })
        }
    }
}

fn template() -> Value {
    let text = std::fs::read_to_string("template.yaml").expect("template.yaml at the root");
    yaml_to_json(serde_norway::from_str(&text).expect("template.yaml parses as YAML"))
}

fn tables_in_template(template: &Value) -> Vec<&Value> {
    template["Resources"]
        .as_object()
        .unwrap()
        .values()
        .filter(|r| r["Type"] == "AWS::DynamoDB::Table")
        .collect()
}

fn sorted(value: &Value) -> Vec<String> {
    let mut items: Vec<String> = value
        .as_array()
        .unwrap_or(&Vec::new())
        .iter()
        .map(Value::to_string)
        .collect();
    items.sort();
    items
}

#[test]
fn the_template_declares_exactly_the_table_the_code_creates() {
    let template = template();
    let declared = tables_in_template(&template);
    assert_eq!(declared.len(), 1, "one table is expected");
    let props = &declared[0]["Properties"];
    let code = tables::cloudformation_properties();
    for key in [
        "AttributeDefinitions",
        "KeySchema",
        "GlobalSecondaryIndexes",
    ] {
        assert_eq!(sorted(&props[key]), sorted(&code[key]), "{key} differs");
    }
    assert_eq!(props["BillingMode"], code["BillingMode"]);
    assert_eq!(
        props["TimeToLiveSpecification"],
        code["TimeToLiveSpecification"]
    );
    assert_eq!(
        props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"],
        true
    );
    assert_eq!(props["DeletionProtectionEnabled"], true);
    assert_eq!(declared[0]["DeletionPolicy"], "Retain");
}

#[tokio::test]
async fn create_tables_builds_in_dynamodb_what_the_template_declares() {
    let app = TestApp::spawn().await;
    let client = switchboard::store::client_from_env().await;
    let described = client
        .describe_table()
        .table_name(app.store.table_name())
        .send()
        .await
        .unwrap();
    let table = described.table().unwrap();
    let template = template();
    let props = &tables_in_template(&template)[0]["Properties"];

    let mut live_attributes: Vec<String> = table
        .attribute_definitions()
        .iter()
        .map(|a| format!("{}:{}", a.attribute_name(), a.attribute_type().as_str()))
        .collect();
    live_attributes.sort();
    let mut declared_attributes: Vec<String> = props["AttributeDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            format!(
                "{}:{}",
                a["AttributeName"].as_str().unwrap(),
                a["AttributeType"].as_str().unwrap()
            )
        })
        .collect();
    declared_attributes.sort();
    assert_eq!(live_attributes, declared_attributes);

    let key = |schema: &[aws_sdk_dynamodb::types::KeySchemaElement]| -> Vec<String> {
        schema
            .iter()
            .map(|k| format!("{}:{}", k.attribute_name(), k.key_type().as_str()))
            .collect()
    };
    let declared_key = |schema: &Value| -> Vec<String> {
        schema
            .as_array()
            .unwrap()
            .iter()
            .map(|k| {
                format!(
                    "{}:{}",
                    k["AttributeName"].as_str().unwrap(),
                    k["KeyType"].as_str().unwrap()
                )
            })
            .collect()
    };
    assert_eq!(key(table.key_schema()), declared_key(&props["KeySchema"]));

    let mut live_indexes: Vec<(String, Vec<String>, String)> = table
        .global_secondary_indexes()
        .iter()
        .map(|i| {
            (
                i.index_name().unwrap().to_owned(),
                key(i.key_schema()),
                i.projection()
                    .and_then(|p| p.projection_type())
                    .map(|p| p.as_str().to_owned())
                    .unwrap(),
            )
        })
        .collect();
    live_indexes.sort();
    let mut declared_indexes: Vec<(String, Vec<String>, String)> = props["GlobalSecondaryIndexes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["IndexName"].as_str().unwrap().to_owned(),
                declared_key(&i["KeySchema"]),
                i["Projection"]["ProjectionType"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            )
        })
        .collect();
    declared_indexes.sort();
    assert_eq!(live_indexes, declared_indexes);
}

#[test]
fn the_function_may_touch_only_its_table_and_never_scan() {
    let template = template();
    let function = &template["Resources"]["SwitchboardFunction"]["Properties"];
    assert_eq!(function["Runtime"], "provided.al2023");
    assert_eq!(function["Architectures"][0], "arm64");
    assert_eq!(
        template["Resources"]["SwitchboardFunction"]["Metadata"]["BuildMethod"],
        "rust-cargolambda"
    );
    let statements = function["Policies"][0]["Statement"].as_array().unwrap();
    for statement in statements {
        for action in statement["Action"].as_array().unwrap() {
            let action = action.as_str().unwrap();
            assert!(
                action.starts_with("dynamodb:") && !action.contains('*'),
                "{action}"
            );
            assert_ne!(action, "dynamodb:Scan");
        }
        let text = serde_json::to_string(&statement["Resource"]).unwrap();
        assert!(
            text.contains("MainTable") && !text.contains("\"*\""),
            "{text}"
        );
    }
    assert!(
        template["Parameters"].get("JwtSecret").is_none(),
        "the JWT secret is no parameter: the stack generates it in Secrets Manager"
    );
    let key = serde_json::to_string(&template["Parameters"]["AccountSecretKey"]).unwrap();
    assert!(
        key.contains("NoEcho"),
        "the account secret key parameter must be NoEcho"
    );
}

fn python() -> String {
    std::env::var("SWITCHBOARD_PYTHON").unwrap_or_else(|_| "python3".into())
}

fn lint(path: &str) -> std::process::Output {
    Command::new(python())
        .args(["scripts/lint-template.py", path])
        .output()
        .expect("run scripts/lint-template.py (scripts/test installs its Python tools)")
}

#[test]
fn the_template_passes_cfn_lint_after_sam_translation_and_a_broken_one_does_not() {
    let clean = lint("template.yaml");
    assert!(
        clean.status.success(),
        "template.yaml has lint errors:\n{}{}",
        String::from_utf8_lossy(&clean.stdout),
        String::from_utf8_lossy(&clean.stderr)
    );
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string("template.yaml").unwrap();
    for (what, broken) in [
        (
            "runtime",
            text.replace("provided.al2023", "provided.al2099"),
        ),
        ("architecture", text.replace("- arm64", "- arm65")),
        (
            "reference",
            text.replace("!GetAtt MainTable.Arn", "!GetAtt NoSuchTable.Arn"),
        ),
    ] {
        assert_ne!(broken, text, "{what} substitution did not apply");
        let path = dir.path().join(format!("{what}.yaml"));
        std::fs::write(&path, broken).unwrap();
        let output = lint(path.to_str().unwrap());
        assert!(!output.status.success(), "a broken {what} passed the lint");
    }
}

#[test]
fn the_template_lints_in_both_auth_modes() {
    for mode in [
        vec!["AuthMode=SharedSecret"],
        vec![
            "AuthMode=JwksOnly",
            "JwksUrl=https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Abc/.well-known/jwks.json",
        ],
    ] {
        let output = Command::new(python())
            .arg("scripts/lint-template.py")
            .arg("template.yaml")
            .args(&mode)
            .output()
            .expect("run scripts/lint-template.py");
        assert!(
            output.status.success(),
            "{mode:?}:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

#[test]
fn the_jwt_secret_never_sits_in_the_functions_environment() {
    let template = template();
    let function = &template["Resources"]["SwitchboardFunction"]["Properties"];
    let variables = function["Environment"]["Variables"].as_object().unwrap();
    // Declared empty only so `sam local --env-vars` can fill it locally.
    assert_eq!(variables["JWT_SECRET"], "", "{variables:?}");
    // The function gets the secret's ARN, only in shared-secret mode.
    assert_eq!(
        variables["JWT_SECRET_ARN"]["!If"][0], "UseSharedSecret",
        "{variables:?}"
    );
    // And may read that one secret, nothing else in Secrets Manager.
    let grants = function["Policies"].to_string();
    assert!(grants.contains("secretsmanager:GetSecretValue"), "{grants}");
    assert!(!grants.contains("secretsmanager:*"), "{grants}");
    let secret = &template["Resources"]["JwtSecret"];
    assert_eq!(secret["Type"], "AWS::SecretsManager::Secret");
    assert_eq!(secret["Condition"], "UseSharedSecret");
    assert_eq!(secret["DeletionPolicy"], "Retain");
    // The HTTP API leaves CORS to the function and throttles.
    let api = &template["Resources"]["HttpApi"]["Properties"];
    assert!(api.get("CorsConfiguration").is_none());
    assert!(api["DefaultRouteSettings"]["ThrottlingBurstLimit"].is_object());
    assert!(api["DefaultRouteSettings"]["ThrottlingRateLimit"].is_object());
}

/// The environment variables `src/config.rs` reads (string literals that
/// look like variable names), less the ones the platform sets.
fn configuration_variables() -> Vec<String> {
    let source = std::fs::read_to_string("src/config.rs").unwrap();
    let mut names: Vec<String> = source
        .split('"')
        .skip(1)
        .step_by(2)
        .filter(|s| {
            s.len() > 3
                && s.starts_with(|c: char| c.is_ascii_uppercase())
                && s.bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        })
        .filter(|s| !s.starts_with("AWS_LAMBDA_"))
        .map(str::to_owned)
        .collect();
    names.sort();
    names.dedup();
    names
}

#[test]
fn every_configuration_variable_is_documented_in_env_example_and_the_readme() {
    let variables = configuration_variables();
    assert!(variables.len() > 20, "{variables:?}");
    let example = std::fs::read_to_string(".env.example").unwrap();
    let readme = std::fs::read_to_string("README.md").unwrap();
    for name in &variables {
        assert!(
            example.lines().any(|l| l.starts_with(&format!("{name}="))),
            "{name} is read by src/config.rs but not listed in .env.example"
        );
        // A row of the configuration table: `| `NAME` |` or a shared row
        // such as `| `JWT_ISSUER`, `JWT_AUDIENCE` |`.
        assert!(
            readme.lines().any(|l| l.starts_with("| `")
                && l.split('|')
                    .nth(1)
                    .is_some_and(|cell| cell.contains(&format!("`{name}`")))),
            "{name} is read by src/config.rs but has no row in README.md's configuration table"
        );
    }
    // And the table has no row for a variable nothing reads.
    let env_names: Vec<&str> = example
        .lines()
        .filter_map(|l| l.split_once('=').map(|(name, _)| name))
        .filter(|name| !name.starts_with('#'))
        .collect();
    let section = readme
        .split("## Configuration")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("README.md has a Configuration section");
    for row in section.lines().filter(|l| l.starts_with("| `")) {
        let cell = row.split('|').nth(1).unwrap();
        for name in cell.split('`').skip(1).step_by(2) {
            assert!(
                env_names.contains(&name),
                "README.md's configuration table has `{name}`, which .env.example lacks"
            );
        }
    }
}

/// Every element of the exported schema that GraphiQL's docs pane shows:
/// types, fields, arguments, enum values and input fields.
fn undocumented(sdl: &str) -> Vec<String> {
    use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};
    let document = async_graphql::parser::parse_schema(sdl).expect("the SDL parses");
    let mut missing = Vec::new();
    for definition in &document.definitions {
        let TypeSystemDefinition::Type(ty) = definition else {
            continue;
        };
        let ty = &ty.node;
        let name = ty.name.node.as_str();
        if ty.description.is_none() {
            missing.push(format!("type {name}"));
        }
        match &ty.kind {
            TypeKind::Object(object) => {
                for field in &object.fields {
                    let field = &field.node;
                    if field.description.is_none() {
                        missing.push(format!("{name}.{}", field.name.node));
                    }
                    for arg in &field.arguments {
                        if arg.node.description.is_none() {
                            missing.push(format!(
                                "{name}.{}({})",
                                field.name.node, arg.node.name.node
                            ));
                        }
                    }
                }
            }
            TypeKind::Interface(object) => {
                for field in &object.fields {
                    if field.node.description.is_none() {
                        missing.push(format!("{name}.{}", field.node.name.node));
                    }
                }
            }
            TypeKind::Enum(enumeration) => {
                for value in &enumeration.values {
                    if value.node.description.is_none() {
                        missing.push(format!("{name}.{}", value.node.value.node));
                    }
                }
            }
            TypeKind::InputObject(input) => {
                for field in &input.fields {
                    if field.node.description.is_none() {
                        missing.push(format!("{name}.{}", field.node.name.node));
                    }
                }
            }
            TypeKind::Scalar | TypeKind::Union(_) => {}
        }
    }
    missing
}

#[test]
fn every_type_field_argument_and_enum_value_is_documented() {
    let missing = undocumented(&switchboard::graphql::sdl());
    assert!(
        missing.is_empty(),
        "{} schema elements have no description:\n{}",
        missing.len(),
        missing.join("\n")
    );
    // The check itself sees a missing description.
    assert_eq!(
        undocumented("\"Doc\" type Q { \"Doc\" a(x: Int): Int b: Int }"),
        ["Q.a(x)", "Q.b"]
    );
}
