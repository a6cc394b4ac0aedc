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

/// Largest item this service writes, in bytes as DynamoDB counts them; well
/// under DynamoDB's 400 KB limit, so an item that grows by a few attributes
/// on a later write still fits.
pub(crate) const MAX_ITEM_BYTES: usize = 300 * 1024;

/// The size of `item` as DynamoDB bills and limits it: attribute names plus
/// values (strings and binaries by length, numbers by digits, one byte per
/// boolean or null, three bytes of overhead per list or map).
pub(crate) fn item_size(item: &Item) -> usize {
    item.iter()
        .map(|(name, value)| name.len() + value_size(value))
        .sum()
}

fn value_size(value: &AttributeValue) -> usize {
    match value {
        AttributeValue::S(text) | AttributeValue::N(text) => text.len(),
        AttributeValue::B(blob) => blob.as_ref().len(),
        AttributeValue::L(items) => 3 + items.iter().map(|v| 1 + value_size(v)).sum::<usize>(),
        AttributeValue::M(map) => {
            3 + map
                .iter()
                .map(|(k, v)| 1 + k.len() + value_size(v))
                .sum::<usize>()
        }
        AttributeValue::Ss(set) | AttributeValue::Ns(set) => set.iter().map(String::len).sum(),
        AttributeValue::Bs(set) => set.iter().map(|b| b.as_ref().len()).sum(),
        _ => 1,
    }
}

/// Refuses an item that would not fit [`MAX_ITEM_BYTES`], as bad input on
/// `field`: every value in it passed its own limits, but not all at once.
pub(crate) fn ensure_fits(item: &Item, field: &str) -> Result<(), StoreError> {
    let size = item_size(item);
    if size > MAX_ITEM_BYTES {
        return Err(StoreError::InvalidInput(crate::domain::InvalidInput::new(
            field,
            format!(
                "is too large to store: {size} bytes in all, at most {MAX_ITEM_BYTES} allowed; shorten some values"
            ),
        )));
    }
    Ok(())
}
