//! Filling one page of a list from DynamoDB `Query` results, within a
//! bounded number of items read.

use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use serde::de::DeserializeOwned;

use super::StoreError;
use super::codec::{Item, from_item};
use super::error::from_sdk;

/// What [`fill_page`] found.
pub(crate) struct Filled<T> {
    /// At most `first` items, in order.
    pub items: Vec<T>,
    /// Whether more items may follow.
    pub has_next_page: bool,
    /// The last key read when the read budget ran out before the page was
    /// full: the next page starts there, not after the last item.
    pub resume_at: Option<Item>,
}

impl<T> Filled<T> {
    /// The cursor to resume at when the read budget cut the page short:
    /// the position of the last key read, whose `sort_key` attribute holds
    /// the list position (the entity id, in every list keyed by id).
    pub fn resume_cursor(&self, sort_key: &str) -> Option<String> {
        self.resume_at
            .as_ref()
            .and_then(|last| last.get(sort_key))
            .and_then(|v| v.as_s().ok())
            .map(|position| super::cursor::encode(&[position]))
    }
}

/// Runs `query` (everything but the start key and limit set) page after
/// page from `start` until `first + 1` items are gathered, the results end,
/// or `read_limit` items have been read. Returns at most `first` items and
/// whether more follow: the extra item is read only to answer
/// `hasNextPage` honestly.
///
/// `min_batch` is the smallest `Limit` asked for; raise it when the query
/// has a `FilterExpression`, which applies after `Limit` and would
/// otherwise make many tiny round trips. `Limit` counts items read before
/// the filter, so a sparse filter over a large partition reads at most
/// `read_limit` items and then returns a short page with `resume_at` set.
pub(crate) async fn fill_page<T: DeserializeOwned>(
    query: QueryFluentBuilder,
    mut start: Option<Item>,
    first: u16,
    min_batch: usize,
    read_limit: usize,
) -> Result<Filled<T>, StoreError> {
    let wanted = usize::from(first) + 1;
    let read_limit = read_limit.max(wanted);
    let mut items: Vec<T> = Vec::with_capacity(wanted);
    let mut read = 0usize;
    let mut resume_at = None;
    loop {
        let batch = (wanted - items.len()).max(min_batch).min(read_limit - read);
        let output = query
            .clone()
            .limit(i32::try_from(batch).unwrap_or(i32::MAX))
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .map_err(from_sdk)?;
        read += usize::try_from(output.scanned_count).unwrap_or(batch);
        for item in output.items.unwrap_or_default() {
            if items.len() < wanted {
                items.push(from_item(item)?);
            }
        }
        match output.last_evaluated_key {
            Some(last) if items.len() < wanted && read >= read_limit => {
                resume_at = Some(last);
                break;
            }
            Some(last) if items.len() < wanted => start = Some(last),
            _ => break,
        }
    }
    let has_next_page = items.len() > usize::from(first) || resume_at.is_some();
    items.truncate(usize::from(first));
    Ok(Filled {
        items,
        has_next_page,
        resume_at,
    })
}
