//! Batched reads and deletes, with DynamoDB's per-request limits and the
//! retry of unprocessed keys that both operations require.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::types::{DeleteRequest, KeysAndAttributes, WriteRequest};

use super::codec::Item;
use super::error::from_sdk;
use super::{Db, StoreError};

/// Most keys in one `BatchGetItem`.
const GET_BATCH: usize = 100;
/// Most requests in one `BatchWriteItem`.
const WRITE_BATCH: usize = 25;
/// Rounds of retrying unprocessed keys before giving up.
const UNPROCESSED_ROUNDS: u32 = 8;

async fn pause(round: u32) {
    tokio::time::sleep(Duration::from_millis(fastrand::u64(
        1..=(20u64 << round.min(5)),
    )))
    .await;
}

/// `keys` with each key once: DynamoDB refuses a batch that names an item
/// twice, and callers gather keys from several places (two invitations of
/// one email share their pending pointer, say).
fn distinct(mut keys: Vec<Item>) -> Vec<Item> {
    let mut seen = std::collections::HashSet::new();
    keys.retain(|key| seen.insert(format!("{:?}|{:?}", key.get("pk"), key.get("sk"))));
    keys
}

/// Reads the items with `keys` (strongly consistent), in no particular
/// order; missing items are simply absent. Duplicate keys are read once.
pub(crate) async fn get_all(db: &Db, keys: Vec<Item>) -> Result<Vec<Item>, StoreError> {
    let keys = distinct(keys);
    let mut found = Vec::with_capacity(keys.len());
    for chunk in keys.chunks(GET_BATCH) {
        let mut pending = Some(
            KeysAndAttributes::builder()
                .set_keys(Some(chunk.to_vec()))
                .consistent_read(true)
                .build()
                .map_err(StoreError::internal)?,
        );
        let mut round = 0;
        while let Some(request) = pending.take() {
            let output = db
                .client
                .batch_get_item()
                .request_items(db.table.as_ref(), request)
                .send()
                .await
                .map_err(from_sdk)?;
            if let Some(mut responses) = output.responses {
                found.extend(responses.remove(db.table.as_ref()).unwrap_or_default());
            }
            pending = output
                .unprocessed_keys
                .and_then(|mut u| u.remove(db.table.as_ref()))
                .filter(|k| !k.keys().is_empty());
            if pending.is_some() {
                round += 1;
                if round > UNPROCESSED_ROUNDS {
                    return Err(StoreError::Unavailable(
                        "batch get kept leaving keys unprocessed".into(),
                    ));
                }
                pause(round).await;
            }
        }
    }
    Ok(found)
}

/// Deletes the items with `keys` (each once, however often it is named).
/// Deleting an item that is already gone is not an error, so a retry after
/// a crash simply continues.
pub(crate) async fn delete_all(db: &Db, keys: Vec<Item>) -> Result<(), StoreError> {
    let keys = distinct(keys);
    for chunk in keys.chunks(WRITE_BATCH) {
        let mut requests: Vec<WriteRequest> = chunk
            .iter()
            .map(|key| {
                DeleteRequest::builder()
                    .set_key(Some(key.clone()))
                    .build()
                    .map(|d| WriteRequest::builder().delete_request(d).build())
                    .map_err(StoreError::internal)
            })
            .collect::<Result<_, _>>()?;
        let mut round = 0;
        while !requests.is_empty() {
            let output = db
                .client
                .batch_write_item()
                .set_request_items(Some(HashMap::from([(db.table.to_string(), requests)])))
                .send()
                .await
                .map_err(from_sdk)?;
            requests = output
                .unprocessed_items
                .and_then(|mut u| u.remove(db.table.as_ref()))
                .unwrap_or_default();
            if !requests.is_empty() {
                round += 1;
                if round > UNPROCESSED_ROUNDS {
                    return Err(StoreError::Unavailable(
                        "batch delete kept leaving items unprocessed".into(),
                    ));
                }
                pause(round).await;
            }
        }
    }
    Ok(())
}
