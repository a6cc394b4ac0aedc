//! The `idempotencyKey` argument of create mutations: a client that retries
//! a create (after a timeout, say) with the same key and the same input
//! gets the first result instead of a second entity; the same key with
//! another input is `CONFLICT` on `idempotencyKey`. Keys are scoped to the
//! caller and remembered for 24 hours (see [`crate::store::idempotency`]).

use std::future::Future;

use async_graphql::Context;
use sha2::{Digest as _, Sha256};
use uuid::Uuid;

use super::error::{ApiError, Code};
use super::guard::principal;
use crate::store::idempotency::IdempotencyKey;
use crate::store::{Store, StoreError};

/// Longest idempotency key, in characters.
pub const MAX_KEY_LEN: usize = 64;

/// Input fields left out of the fingerprint: a secret must not be kept,
/// even hashed, beside data that would let it be guessed.
const UNFINGERPRINTED: &[&str] = &["password"];

/// The key of this create, if the client sent one: checked, scoped to the
/// caller, with the fingerprint of the field's `input` argument.
pub fn key(
    ctx: &Context<'_>,
    raw: Option<String>,
    operation: &'static str,
) -> Result<Option<IdempotencyKey>, ApiError> {
    let Some(raw) = raw else {
        return Ok(None);
    };
    let length = raw.chars().count();
    if length == 0 || length > MAX_KEY_LEN || raw.chars().any(char::is_control) {
        return Err(ApiError::bad_input(
            "idempotencyKey",
            format!("must be 1 to {MAX_KEY_LEN} characters, without control characters"),
        ));
    }
    let caller = principal(ctx)?;
    let scope = format!(
        "{}:{}",
        if caller.is_admin { "admin" } else { "user" },
        caller.user_id.as_deref().unwrap_or(&caller.subject)
    );
    Ok(Some(IdempotencyKey::new(
        &scope,
        &raw,
        operation,
        &fingerprint(ctx)?,
    )))
}

/// SHA-256 of the field's arguments (all but the key itself) in canonical
/// JSON (keys sorted), less [`UNFINGERPRINTED`] fields at any depth.
fn fingerprint(ctx: &Context<'_>) -> Result<String, ApiError> {
    let arguments = ctx
        .field()
        .arguments()
        .map_err(|e| ApiError::internal(e.message))?;
    let all: serde_json::Map<String, serde_json::Value> = arguments
        .into_iter()
        .filter(|(name, _)| name.as_str() != "idempotencyKey")
        .map(|(name, value)| {
            let value = value.into_json().unwrap_or(serde_json::Value::Null);
            (name.to_string(), value)
        })
        .collect();
    let canonical = canonical(serde_json::Value::Object(all)).to_string();
    Ok(Sha256::digest(canonical.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .concat())
}

/// `value` with object keys sorted and unfingerprinted fields dropped, at
/// every level.
fn canonical(value: serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => {
            let mut entries: Vec<_> = map
                .into_iter()
                .filter(|(k, _)| !UNFINGERPRINTED.contains(&k.as_str()))
                .collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            serde_json::Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, canonical(v)))
                    .collect(),
            )
        }
        serde_json::Value::Array(items) => {
            serde_json::Value::Array(items.into_iter().map(canonical).collect())
        }
        other => other,
    }
}

/// Runs `create` at most once per key: an earlier call's entity (read
/// with `fetch`) is returned instead, flagged as a replay (`true`).
pub async fn once<T, C, F, Fut>(
    ctx: &Context<'_>,
    key: Option<&IdempotencyKey>,
    create: C,
    fetch: F,
) -> Result<(T, bool), ApiError>
where
    C: Future<Output = Result<T, StoreError>>,
    F: Fn(Uuid) -> Fut,
    Fut: Future<Output = Result<Option<T>, StoreError>>,
{
    if let Some(found) = earlier(ctx, key, &fetch).await? {
        return Ok((found, true));
    }
    match create.await {
        Ok(created) => Ok((created, false)),
        // A concurrent call with the key won the race: its result is ours.
        Err(StoreError::IdempotencyKeyTaken) => match earlier(ctx, key, &fetch).await? {
            Some(found) => Ok((found, true)),
            None => Err(StoreError::IdempotencyKeyTaken.into()),
        },
        Err(err) => Err(err.into()),
    }
}

async fn earlier<T, F, Fut>(
    ctx: &Context<'_>,
    key: Option<&IdempotencyKey>,
    fetch: &F,
) -> Result<Option<T>, ApiError>
where
    F: Fn(Uuid) -> Fut,
    Fut: Future<Output = Result<Option<T>, StoreError>>,
{
    let Some(key) = key else {
        return Ok(None);
    };
    let store = ctx.data_unchecked::<Store>();
    match store.idempotency().recorded(key).await? {
        None => Ok(None),
        Some(recorded) if !recorded.same_request => Err(ApiError {
            code: Code::Conflict,
            message: "this idempotency key was used for a different request; use a new key".into(),
            field: Some("idempotencyKey".into()),
            reason: None,
        }),
        Some(recorded) => match fetch(recorded.entity_id).await? {
            Some(found) => Ok(Some(found)),
            None => Err(ApiError {
                code: Code::Conflict,
                message: "what this idempotency key created has been deleted since".into(),
                field: Some("idempotencyKey".into()),
                reason: None,
            }),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_fingerprint_ignores_key_order_and_passwords() {
        let a = canonical(json!({"b": 1, "a": {"y": 2, "x": 1}, "password": "p1"}));
        let b = canonical(json!({"a": {"x": 1, "y": 2}, "password": "p2", "b": 1}));
        assert_eq!(a.to_string(), b.to_string());
        assert!(!a.to_string().contains("p1"));
        assert_ne!(a, canonical(json!({"a": {"x": 1, "y": 3}, "b": 1})));
    }
}
