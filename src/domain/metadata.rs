//! Free-form customer data: `metadata` (anything a client wants to attach,
//! within Stripe-like limits) and `settings` (only keys the platform knows).
//! Both are replaced whole on every write, as the profile guide says.

use serde_json::{Map, Value};

use super::InvalidInput;

/// Most keys in a metadata object (and in each nested object or array).
pub const MAX_METADATA_KEYS: usize = 50;
/// Longest metadata key.
pub const MAX_METADATA_KEY_LEN: usize = 40;
/// Longest metadata string value.
pub const MAX_METADATA_STRING_LEN: usize = 500;
/// Largest metadata or settings object, in bytes of compact JSON. The key,
/// count and length limits alone allow megabytes (50 × 50 × 500 four-byte
/// characters), past DynamoDB's 400 KB item limit.
pub const MAX_OBJECT_BYTES: usize = 16 * 1024;

fn check_size(map: &Map<String, Value>) -> Result<(), InvalidInput> {
    let bytes = serde_json::to_vec(map).map_or(usize::MAX, |json| json.len());
    if bytes > MAX_OBJECT_BYTES {
        return Err(InvalidInput::new(
            "",
            format!("must be at most {MAX_OBJECT_BYTES} bytes as JSON, got {bytes}"),
        ));
    }
    Ok(())
}

/// The settings the platform recognises, each with its validator. Keys not
/// listed here are dropped. None are defined yet; adding one is one line,
/// e.g. `("timezone", |v| v.is_string())`.
pub const SETTINGS: &[(&str, SettingValidator)] = &[];

/// Decides whether a value is acceptable for one setting.
pub type SettingValidator = fn(&Value) -> bool;

fn check_key(key: &str, field: &str) -> Result<(), InvalidInput> {
    if key.is_empty() || key.chars().count() > MAX_METADATA_KEY_LEN {
        return Err(InvalidInput::new(
            field,
            format!("keys must be 1–{MAX_METADATA_KEY_LEN} characters long (`{key}`)"),
        ));
    }
    Ok(())
}

fn check_scalar(value: &Value, field: &str) -> Result<(), InvalidInput> {
    match value {
        Value::String(s) if s.chars().count() > MAX_METADATA_STRING_LEN => Err(InvalidInput::new(
            field,
            format!("string values must be at most {MAX_METADATA_STRING_LEN} characters long"),
        )),
        Value::Object(_) | Value::Array(_) => Err(InvalidInput::new(
            field,
            "only one level of nested objects or arrays is allowed",
        )),
        _ => Ok(()),
    }
}

/// Validates metadata: an object of at most 50 keys (≤ 40 characters), whose
/// values are scalars (strings ≤ 500 characters) or one level of nested
/// object or array of such scalars.
pub fn parse_metadata(value: Value) -> Result<Map<String, Value>, InvalidInput> {
    let Value::Object(map) = value else {
        return Err(InvalidInput::new("", "must be a JSON object"));
    };
    if map.len() > MAX_METADATA_KEYS {
        return Err(InvalidInput::new(
            "",
            format!("must have at most {MAX_METADATA_KEYS} keys"),
        ));
    }
    for (key, value) in &map {
        check_key(key, key)?;
        match value {
            Value::Object(nested) => {
                if nested.len() > MAX_METADATA_KEYS {
                    return Err(InvalidInput::new(
                        key,
                        format!("must have at most {MAX_METADATA_KEYS} keys"),
                    ));
                }
                for (inner_key, inner) in nested {
                    let field = format!("{key}.{inner_key}");
                    check_key(inner_key, &field)?;
                    check_scalar(inner, &field)?;
                }
            }
            Value::Array(items) => {
                if items.len() > MAX_METADATA_KEYS {
                    return Err(InvalidInput::new(
                        key,
                        format!("must have at most {MAX_METADATA_KEYS} items"),
                    ));
                }
                for (i, inner) in items.iter().enumerate() {
                    check_scalar(inner, &format!("{key}[{i}]"))?;
                }
            }
            scalar => check_scalar(scalar, key)?,
        }
    }
    check_size(&map)?;
    Ok(map)
}

/// Keeps only the recognised settings whose values are valid; drops the rest.
pub fn parse_settings(value: Value) -> Result<Map<String, Value>, InvalidInput> {
    let Value::Object(map) = value else {
        return Err(InvalidInput::new("", "must be a JSON object"));
    };
    let settings = map
        .into_iter()
        .filter(|(key, value)| {
            SETTINGS
                .iter()
                .any(|(known, valid)| known == key && valid(value))
        })
        .collect();
    check_size(&settings)?;
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scalars_and_one_level_of_nesting_are_accepted() {
        let ok = json!({"external_billing_id": "123", "n": 4.5, "flag": true, "none": null,
                        "crm": {"id": "456", "tier": 2}, "tags": ["a", 1, false]});
        assert_eq!(
            parse_metadata(ok.clone()).unwrap(),
            *ok.as_object().unwrap()
        );
    }

    #[test]
    fn limits_are_enforced_naming_the_key() {
        let deep = parse_metadata(json!({"crm": {"nested": {"too": "deep"}}})).unwrap_err();
        assert_eq!(deep.field, "crm.nested");
        let long_key = "k".repeat(41);
        assert_eq!(
            parse_metadata(json!({ long_key.clone(): 1 }))
                .unwrap_err()
                .field,
            long_key
        );
        let long_value = parse_metadata(json!({"note": "x".repeat(501)})).unwrap_err();
        assert_eq!(long_value.field, "note");
        let many: Map<String, Value> = (0..51).map(|i| (format!("k{i}"), json!(i))).collect();
        assert!(parse_metadata(Value::Object(many)).is_err());
        assert!(parse_metadata(json!([1, 2])).is_err());
        assert!(parse_metadata(json!({"list": [[1]]})).is_err());
    }

    #[test]
    fn metadata_is_bounded_in_bytes_not_only_in_keys_and_lengths() {
        let big: Map<String, Value> = (0..50)
            .map(|i| (format!("k{i}"), json!("中".repeat(MAX_METADATA_STRING_LEN))))
            .collect();
        let err = parse_metadata(Value::Object(big)).unwrap_err();
        assert_eq!(err.field, "");
        assert!(err.message.contains("bytes"), "{}", err.message);
        let fits: Map<String, Value> = (0..10)
            .map(|i| (format!("k{i}"), json!("x".repeat(MAX_METADATA_STRING_LEN))))
            .collect();
        assert!(parse_metadata(Value::Object(fits)).is_ok());
    }

    #[test]
    fn unknown_settings_are_dropped() {
        assert_eq!(parse_settings(json!({"anything": 1})).unwrap(), Map::new());
        assert!(parse_settings(json!("x")).is_err());
    }
}
