//! `TransactWriteItems` with the two things every caller needs: a readable
//! account of which condition failed, and retries when the transaction only
//! collided with another one in flight.

use std::time::Duration;

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::TransactWriteItem;

use super::codec::Item;
use super::{Db, StoreError, error::from_sdk};

/// How often a transaction that collided with a concurrent one is retried.
const CONFLICT_ATTEMPTS: u32 = 8;
/// Cancellation reasons the callers interpret: nothing wrong with this item,
/// a failed condition, a collision.
const EXPECTED_REASONS: &[&str] = &["None", "ConditionalCheckFailed", "TransactionConflict"];
/// Cancellation reasons that mean DynamoDB is shedding load.
const THROTTLED_REASONS: &[&str] = &["ThrottlingError", "ProvisionedThroughputExceeded"];

/// Why DynamoDB cancelled a transaction, item by item, in the order the
/// items were given.
#[derive(Debug)]
pub(crate) struct Cancelled {
    reasons: Vec<(String, Option<Item>)>,
}

impl Cancelled {
    /// Whether the condition of item `index` failed.
    pub(crate) fn condition_failed(&self, index: usize) -> bool {
        self.reasons
            .get(index)
            .is_some_and(|(code, _)| code == "ConditionalCheckFailed")
    }

    /// The item as it was when the condition of item `index` failed (the
    /// transaction asks DynamoDB to return it); `None` when it did not exist.
    pub(crate) fn old_item(&self, index: usize) -> Option<&Item> {
        self.reasons.get(index).and_then(|(_, item)| item.as_ref())
    }

    /// A reason that is neither a failed condition nor a collision: a
    /// throttled item, or an item DynamoDB refused (`ValidationError`: a key
    /// or item over its size limit). Retrying will not turn these into a
    /// collision, so they must not be read as one.
    fn fault(&self) -> Option<StoreError> {
        let (code, _) = self
            .reasons
            .iter()
            .find(|(code, _)| !EXPECTED_REASONS.contains(&code.as_str()))?;
        let detail = format!("transaction cancelled: {:?}", self.codes());
        Some(if THROTTLED_REASONS.contains(&code.as_str()) {
            StoreError::Unavailable(detail.into())
        } else {
            StoreError::internal(detail)
        })
    }

    fn codes(&self) -> Vec<&str> {
        self.reasons.iter().map(|(code, _)| code.as_str()).collect()
    }

    fn only_conflicts(&self) -> bool {
        self.reasons
            .iter()
            .any(|(code, _)| code == "TransactionConflict")
            && !self
                .reasons
                .iter()
                .any(|(code, _)| code == "ConditionalCheckFailed")
    }
}

/// A transaction that did not commit.
#[derive(Debug)]
pub(crate) enum TxError {
    /// At least one condition failed; nothing was written.
    Cancelled(Cancelled),
    /// Anything else.
    Store(StoreError),
}

impl From<StoreError> for TxError {
    fn from(err: StoreError) -> Self {
        Self::Store(err)
    }
}

/// Runs the items as one transaction. Collisions with concurrent
/// transactions are retried with jittered backoff; they surface as
/// `Conflict` only when they persist.
pub(crate) async fn transact(db: &Db, items: Vec<TransactWriteItem>) -> Result<(), TxError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let result = db
            .client
            .transact_write_items()
            .set_transact_items(Some(items.clone()))
            .send()
            .await;
        let Err(err) = result else {
            return Ok(());
        };
        let cancelled = match &err {
            SdkError::ServiceError(ctx) => match ctx.err() {
                TransactWriteItemsError::TransactionCanceledException(ex) => Some(Cancelled {
                    reasons: ex
                        .cancellation_reasons()
                        .iter()
                        .map(|r| (r.code().unwrap_or("None").to_owned(), r.item().cloned()))
                        .collect(),
                }),
                _ => None,
            },
            _ => None,
        };
        if let Some(fault) = cancelled.as_ref().and_then(Cancelled::fault) {
            return Err(TxError::Store(fault));
        }
        match cancelled {
            Some(c) if c.only_conflicts() => {
                if attempt >= CONFLICT_ATTEMPTS {
                    return Err(TxError::Store(StoreError::Conflict {
                        field: None,
                        message: "the data was being changed concurrently; try again".into(),
                    }));
                }
                backoff(attempt).await;
            }
            Some(c) => return Err(TxError::Cancelled(c)),
            None => return Err(TxError::Store(from_sdk(err))),
        }
    }
}

/// Full-jitter exponential backoff: up to 10 ms, 20 ms, 40 ms … 640 ms.
/// Also used between optimistic read-then-write attempts.
pub(crate) async fn backoff(attempt: u32) {
    let ceiling = 10u64 << attempt.min(6);
    tokio::time::sleep(Duration::from_millis(fastrand::u64(1..=ceiling))).await;
}
