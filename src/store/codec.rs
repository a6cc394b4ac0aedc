//! Conversion between storage structs and DynamoDB items, and the one
//! timestamp format every item uses.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::StoreError;

/// A DynamoDB item.
pub(crate) type Item = HashMap<String, AttributeValue>;

/// Serialises a storage struct into an item.
pub(crate) fn to_item<T: Serialize>(value: &T) -> Result<Item, StoreError> {
    serde_dynamo::to_item(value).map_err(StoreError::internal)
}

/// Deserialises an item into a storage struct; a malformed item is an
/// internal error (the data broke an invariant this code relies on).
pub(crate) fn from_item<T: DeserializeOwned>(item: Item) -> Result<T, StoreError> {
    serde_dynamo::from_item(item).map_err(StoreError::internal)
}

/// Formats a timestamp for storage: RFC 3339, UTC, milliseconds. Fixed width,
/// so strings sort in time order.
pub(crate) fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Parses a stored timestamp.
pub(crate) fn parse_timestamp(raw: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(raw)
        .map(|t| t.with_timezone(&Utc))
        .map_err(StoreError::internal)
}

/// A string attribute value.
pub(crate) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

/// A number attribute value.
pub(crate) fn n(value: impl Into<i128>) -> AttributeValue {
    AttributeValue::N(value.into().to_string())
}

/// The primary key map of an item.
pub(crate) fn key((pk, sk): (String, String)) -> Item {
    HashMap::from([
        (super::keys::PK.to_owned(), s(pk)),
        (super::keys::SK.to_owned(), s(sk)),
    ])
}
