//! Prefix search over search-term items, shared by the entities that have
//! them (customers and users: names, company, email). A term item is
//! `pk = <kind search partition>`, `sk = <term>#…`, with the entity's id in
//! an attribute; the entities themselves are read in one batch per round
//! trip.

use std::collections::{HashMap, HashSet};
use std::future::Future;

use uuid::Uuid;

use super::codec::{key, s};
use super::error::from_sdk;
use super::{Db, StoreError, cursor};
use crate::domain::page::{Page, PageRequest};

/// One page of the entities whose terms under `partition` begin with
/// `prefix` (already normalised), in term order. Each term names its entity
/// in `id_attribute`; `load` reads a round trip's entities (missing or
/// half-deleted ones are simply absent) and `keep` narrows them further.
/// An entity with several matching terms appears once on a page, at its
/// first; a later page may list it again at a later term.
///
/// Reads at most the store's read limit of terms (or `first + 1`, if
/// more): a sparse `keep` returns a short page with a cursor to resume at,
/// rather than reading a whole partition in one request. A cursor from
/// another prefix is refused as invalid.
pub(crate) async fn search_page<T, Load, Loading>(
    db: &Db,
    partition: String,
    prefix: &str,
    id_attribute: &str,
    page: &PageRequest,
    mut load: Load,
    keep: impl Fn(&T) -> bool,
) -> Result<Page<T>, StoreError>
where
    Load: FnMut(Vec<Uuid>) -> Loading,
    Loading: Future<Output = Result<HashMap<Uuid, T>, StoreError>>,
{
    let mut start = match &page.after {
        Some(after) => {
            let parts = cursor::decode(after, 1)?;
            if !parts[0].starts_with(prefix) {
                return Err(StoreError::InvalidCursor);
            }
            Some(key((partition.clone(), parts[0].clone())))
        }
        None => None,
    };
    let wanted = usize::from(page.first) + 1;
    let read_limit = db.read_limit.max(wanted);
    let mut read = 0usize;
    let mut found: Vec<(T, String)> = Vec::new();
    let mut taken: HashSet<Uuid> = HashSet::new();
    let mut resume_cursor = None;
    loop {
        let batch = 100.min(read_limit - read);
        let output = db
            .client
            .query()
            .table_name(db.table.as_ref())
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", s(partition.clone()))
            .expression_attribute_values(":prefix", s(prefix.to_owned()))
            .limit(i32::try_from(batch).unwrap_or(100))
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .map_err(from_sdk)?;
        read += usize::try_from(output.scanned_count).unwrap_or(batch);
        let hits: Vec<(Uuid, String)> = output
            .items
            .unwrap_or_default()
            .into_iter()
            .filter_map(|mut item| {
                let sk = item.remove("sk")?.as_s().ok()?.clone();
                let id = item.remove(id_attribute)?.as_s().ok()?.clone();
                Some((Uuid::parse_str(&id).ok()?, sk))
            })
            .collect();
        let mut ids: Vec<Uuid> = hits
            .iter()
            .map(|(id, _)| *id)
            .filter(|id| !taken.contains(id))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let mut entities = load(ids).await?;
        for (id, sk) in hits {
            if found.len() >= wanted {
                break;
            }
            if taken.contains(&id) {
                continue;
            }
            if let Some(entity) = entities.remove(&id)
                && keep(&entity)
            {
                taken.insert(id);
                found.push((entity, cursor::encode(&[&sk])));
            }
        }
        match output.last_evaluated_key {
            Some(last) if found.len() < wanted && read >= read_limit => {
                resume_cursor = last
                    .get("sk")
                    .and_then(|v| v.as_s().ok())
                    .map(|sk| cursor::encode(&[sk]));
                break;
            }
            Some(last) if found.len() < wanted => start = Some(last),
            _ => break,
        }
    }
    let has_next_page = found.len() > usize::from(page.first) || resume_cursor.is_some();
    found.truncate(usize::from(page.first));
    Ok(Page {
        items: found,
        has_next_page,
        resume_cursor,
    })
}
