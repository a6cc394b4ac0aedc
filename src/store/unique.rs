//! Guard items that make a value unique across all items of a kind.
//!
//! DynamoDB has no unique constraints beyond the primary key, so each
//! reserved value gets an item whose key *is* the value. Claiming it is a
//! `Put` conditioned on `attribute_not_exists`, releasing it a `Delete`
//! conditioned on the owner; both ride in the same transaction as the
//! owning item, so two concurrent writers can never both hold a value and a
//! changed value frees the old one atomically.

use aws_sdk_dynamodb::types::{
    Delete, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
};

use super::codec::{Item, key, s};
use super::{Db, StoreError, keys};

/// Longest value a lookup asks DynamoDB for; a partition key holds at
/// most 2,048 bytes, with the guard's prefix.
const MAX_LOOKUP_BYTES: usize = 1024;

/// Case- and space-insensitive form a unique value is compared in.
pub(crate) fn normalize(value: &str) -> String {
    value.trim().to_lowercase()
}

/// Transaction item that reserves `value` of `kind` for `owner_id`; its
/// condition fails when another owner holds it.
pub(crate) fn claim(
    db: &Db,
    kind: &str,
    value: &str,
    owner_id: &str,
) -> Result<TransactWriteItem, StoreError> {
    let mut item: Item = key(keys::unique(kind, &normalize(value)));
    item.insert("entity".into(), s("UniqueGuard"));
    item.insert("kind".into(), s(kind));
    item.insert("ownerId".into(), s(owner_id));
    let put = Put::builder()
        .table_name(db.table.as_ref())
        .set_item(Some(item))
        .condition_expression("attribute_not_exists(pk)")
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
        .build()
        .map_err(StoreError::internal)?;
    Ok(TransactWriteItem::builder().put(put).build())
}

/// Transaction item that frees `value` of `kind`, only if `owner_id` holds it.
pub(crate) fn release(
    db: &Db,
    kind: &str,
    value: &str,
    owner_id: &str,
) -> Result<TransactWriteItem, StoreError> {
    let delete = Delete::builder()
        .table_name(db.table.as_ref())
        .set_key(Some(key(keys::unique(kind, &normalize(value)))))
        .condition_expression("ownerId = :owner")
        .expression_attribute_values(":owner", s(owner_id))
        .build()
        .map_err(StoreError::internal)?;
    Ok(TransactWriteItem::builder().delete(delete).build())
}

/// The owner of `value` of `kind`, if it is taken.
pub(crate) async fn owner_of(
    db: &Db,
    kind: &str,
    value: &str,
) -> Result<Option<uuid::Uuid>, StoreError> {
    // Nothing that long was ever claimed (every claimed value is validated
    // far shorter), and DynamoDB would refuse it as a key: a lookup of it
    // simply finds nothing, rather than failing as an internal error.
    if normalize(value).len() > MAX_LOOKUP_BYTES {
        return Ok(None);
    }
    let output = db
        .client
        .get_item()
        .table_name(db.table.as_ref())
        .set_key(Some(key(keys::unique(kind, &normalize(value)))))
        .consistent_read(true)
        .send()
        .await
        .map_err(super::error::from_sdk)?;
    output
        .item
        .and_then(|mut item| item.remove("ownerId"))
        .and_then(|v| v.as_s().ok().cloned())
        .map(|id| uuid::Uuid::parse_str(&id).map_err(StoreError::internal))
        .transpose()
}

/// The key of the guard for `value` of `kind`.
pub(crate) fn guard_key(kind: &str, value: &str) -> Item {
    key(keys::unique(kind, &normalize(value)))
}
