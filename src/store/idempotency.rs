//! Idempotency keys for create mutations.
//!
//! A key, scoped to the caller, is recorded by a conditional `Put` in the
//! same transaction as the create it guards, with the fingerprint of the
//! request and the id of what was created; DynamoDB's TTL removes it after
//! [`KEY_LIFETIME`]. So however many calls race with one key, exactly one
//! transaction creates; the others fail on the key's condition and find the
//! recorded result.
//!
//! Item: `pk = IDEMPOTENCY#<sha256(caller, key)>`, `sk = IDEMPOTENCY`.

use std::time::Duration;

use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use chrono::Utc;
use sha2::{Digest as _, Sha256};
use uuid::Uuid;

use super::codec::{key, n, s, timestamp};
use super::error::from_sdk;
use super::{Db, StoreError};

/// How long a key is remembered.
pub const KEY_LIFETIME: Duration = Duration::from_hours(24);

/// The attribute DynamoDB's time to live reads (epoch seconds).
const TTL: &str = "ttl";

/// An idempotency key as a create records it.
#[derive(Debug, Clone)]
pub struct IdempotencyKey {
    partition: String,
    operation: &'static str,
    fingerprint: String,
}

/// What an earlier call with the same key created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// The entity it created.
    pub entity_id: Uuid,
    /// Whether it was the same operation with the same input.
    pub same_request: bool,
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::with_capacity(64), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

impl IdempotencyKey {
    /// The key `key` of `caller` for `operation` with an input that
    /// fingerprints to `fingerprint`. The key itself is stored only hashed.
    pub fn new(caller: &str, key: &str, operation: &'static str, fingerprint: &str) -> Self {
        let mut scope = Sha256::new();
        scope.update(caller.as_bytes());
        scope.update([0]);
        scope.update(key.as_bytes());
        Self {
            partition: format!("IDEMPOTENCY#{}", hex(&scope.finalize())),
            operation,
            fingerprint: fingerprint.to_owned(),
        }
    }

    fn key(&self) -> (String, String) {
        (self.partition.clone(), "IDEMPOTENCY".to_owned())
    }

    /// Transaction item recording this key for `entity_id`; its condition
    /// fails while the key is recorded and not expired.
    pub(crate) fn claim(&self, db: &Db, entity_id: &str) -> Result<TransactWriteItem, StoreError> {
        let now = Utc::now();
        let expires = now.timestamp() + i64::try_from(KEY_LIFETIME.as_secs()).unwrap_or(i64::MAX);
        let mut item = key(self.key());
        item.insert("entity".into(), s("IdempotencyKey"));
        item.insert("operation".into(), s(self.operation));
        item.insert("fingerprint".into(), s(self.fingerprint.clone()));
        item.insert("entityId".into(), s(entity_id));
        item.insert("createdAt".into(), s(timestamp(now)));
        item.insert(TTL.into(), n(expires));
        let put = Put::builder()
            .table_name(db.table.as_ref())
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk) OR #ttl < :now")
            .expression_attribute_names("#ttl", TTL)
            .expression_attribute_values(":now", n(now.timestamp()))
            .build()
            .map_err(StoreError::internal)?;
        Ok(TransactWriteItem::builder().put(put).build())
    }
}

/// Reads recorded idempotency keys.
#[derive(Clone, Debug)]
pub struct Idempotency {
    db: Db,
}

impl Idempotency {
    pub(crate) fn new(db: Db) -> Self {
        Self { db }
    }

    /// What an earlier, unexpired call with this key created, if any.
    pub async fn recorded(&self, key: &IdempotencyKey) -> Result<Option<Recorded>, StoreError> {
        let output = self
            .db
            .client
            .get_item()
            .table_name(self.db.table.as_ref())
            .set_key(Some(super::codec::key(key.key())))
            .consistent_read(true)
            .send()
            .await
            .map_err(from_sdk)?;
        let Some(item) = output.item else {
            return Ok(None);
        };
        let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
        let expired = item
            .get(TTL)
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse::<i64>().ok())
            .is_some_and(|ttl| ttl < Utc::now().timestamp());
        if expired {
            return Ok(None);
        }
        let entity_id = text("entityId")
            .and_then(|id| Uuid::parse_str(&id).ok())
            .ok_or_else(|| StoreError::internal("an idempotency key without its entity"))?;
        Ok(Some(Recorded {
            entity_id,
            same_request: text("operation").as_deref() == Some(key.operation)
                && text("fingerprint").as_deref() == Some(key.fingerprint.as_str()),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_scoped_to_the_caller_and_stored_hashed() {
        let a = IdempotencyKey::new("alice", "k1", "createPricingTier", "f");
        let b = IdempotencyKey::new("bob", "k1", "createPricingTier", "f");
        assert_ne!(a.partition, b.partition);
        assert!(!a.partition.contains("k1"));
        assert_eq!(
            a.partition,
            IdempotencyKey::new("alice", "k1", "createCustomer", "g").partition
        );
    }

    #[test]
    fn a_claim_is_a_conditional_put_with_a_ttl() {
        let key = IdempotencyKey::new("alice", "k1", "createPricingTier", "f");
        let db = Db {
            client: aws_sdk_dynamodb::Client::from_conf(
                aws_sdk_dynamodb::Config::builder()
                    .behavior_version_latest()
                    .build(),
            ),
            table: "t".into(),
            read_limit: 1,
            audit_retention_days: 1,
        };
        let item = key.claim(&db, "0190").unwrap();
        let put = item.put().unwrap();
        assert!(
            put.condition_expression()
                .unwrap()
                .contains("attribute_not_exists")
        );
        assert!(put.item().contains_key("ttl"));
    }
}
