//! Helpers that turn raw GraphQL arguments into domain values, naming the
//! argument path when they fail.

use async_graphql::{ID, MaybeUndefined};
use uuid::Uuid;

use super::error::ApiError;

/// Parses an entity id argument.
pub fn parse_id(id: &ID, field: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(id.as_str()).map_err(|_| ApiError::bad_input(field, "is not a valid id"))
}

/// Parses an optional `expectedVersion` argument (a positive integer).
pub fn parse_expected_version(version: Option<i32>) -> Result<Option<u64>, ApiError> {
    version
        .map(|v| {
            u64::try_from(v)
                .ok()
                .filter(|v| *v >= 1)
                .ok_or_else(|| ApiError::bad_input("expectedVersion", "must be at least 1"))
        })
        .transpose()
}

/// Reads a patch field that may be omitted but not set to `null` (the
/// field is not nullable on the entity).
pub fn non_null<T>(value: MaybeUndefined<T>, field: &str) -> Result<Option<T>, ApiError> {
    match value {
        MaybeUndefined::Undefined => Ok(None),
        MaybeUndefined::Null => Err(ApiError::bad_input(
            field,
            "cannot be null; omit it to leave it unchanged",
        )),
        MaybeUndefined::Value(v) => Ok(Some(v)),
    }
}

/// Reads a patch field of a nullable attribute: omitted leaves it, `null`
/// clears it (`Some(None)`), a value sets it.
pub fn nullable<T>(value: MaybeUndefined<T>) -> Option<Option<T>> {
    match value {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(v) => Some(Some(v)),
    }
}

/// Converts a count for an `Int` field, saturating at `i32::MAX`.
pub fn int(value: impl TryInto<i32>) -> i32 {
    value.try_into().unwrap_or(i32::MAX)
}
