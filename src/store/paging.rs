//! Filling one page of a list from DynamoDB `Query` results.

use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use serde::de::DeserializeOwned;

use super::StoreError;
use super::codec::{Item, from_item};
use super::error::from_sdk;

/// Runs `query` (everything but the start key and limit set) page after
/// page from `start` until `first + 1` items are gathered or the results
/// end. Returns at most `first` items and whether more follow: the extra
/// item is read only to answer `hasNextPage` honestly.
///
/// `min_batch` is the smallest `Limit` asked for; raise it when the query
/// has a `FilterExpression`, which applies after `Limit` and would
/// otherwise make many tiny round trips.
pub(crate) async fn fill_page<T: DeserializeOwned>(
    query: QueryFluentBuilder,
    mut start: Option<Item>,
    first: u16,
    min_batch: usize,
) -> Result<(Vec<T>, bool), StoreError> {
    let wanted = usize::from(first) + 1;
    let mut items: Vec<T> = Vec::with_capacity(wanted);
    loop {
        let batch = (wanted - items.len()).max(min_batch);
        let output = query
            .clone()
            .limit(i32::try_from(batch).unwrap_or(i32::MAX))
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .map_err(from_sdk)?;
        for item in output.items.unwrap_or_default() {
            if items.len() < wanted {
                items.push(from_item(item)?);
            }
        }
        match output.last_evaluated_key {
            Some(last) if items.len() < wanted => start = Some(last),
            _ => break,
        }
    }
    let has_next_page = items.len() > usize::from(first);
    items.truncate(usize::from(first));
    Ok((items, has_next_page))
}
