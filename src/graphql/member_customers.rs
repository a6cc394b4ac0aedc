//! `customers(...)` for a user: the customers it belongs to and may read,
//! newest first, narrowed by the same filter admins use. Served from the
//! user's membership list (one `Query` on GSI1 plus one strongly consistent
//! `BatchGetItem` per page of memberships, reading each customer with the
//! membership itself, since the index may lag behind a revocation); a user
//! belongs to few customers, so the filter is applied in memory.

use super::connection::Connection as Paged;
use async_graphql::Context;
use uuid::Uuid;

use super::access::RequestAccess;
use super::customers::CustomerNode;
use super::error::ApiError;
use crate::domain::access::{Action, Caller, Decision, Target, decide};
use crate::domain::customer::Customer;
use crate::domain::page::{Page, PageRequest};
use crate::store::{CustomerFilter, Store};

fn matches(filter: &CustomerFilter, customer: &Customer) -> bool {
    filter.status.is_none_or(|s| s == customer.status)
        && filter
            .customer_type
            .is_none_or(|t| t == customer.profile.customer_type)
        && filter
            .country
            .as_ref()
            .is_none_or(|c| *c == customer.profile.country)
        && filter.search.as_ref().is_none_or(|prefix| {
            customer
                .profile
                .search_terms()
                .iter()
                .any(|t| t.starts_with(prefix.as_str()))
        })
}

/// One page of the customers `user_id` belongs to, may read and that match
/// `filter`. The cursor is the last membership's.
pub async fn list(
    ctx: &Context<'_>,
    user_id: Uuid,
    filter: &CustomerFilter,
    page: PageRequest,
) -> Result<Paged<CustomerNode>, ApiError> {
    let store = ctx.data_unchecked::<Store>();
    let wanted = usize::from(page.first) + 1;
    let mut found: Vec<(Customer, String)> = Vec::new();
    let mut after = page.after.clone();
    let mut batches = 0;
    let mut resume_cursor = None;
    loop {
        batches += 1;
        let batch = store
            .memberships()
            .list_for_user(
                user_id,
                &PageRequest {
                    first: 100,
                    after: after.take(),
                },
            )
            .await?;
        // The index only proposes candidates: each membership is read
        // again, consistently, with its customer, and that read decides.
        let ids: Vec<Uuid> = batch.items.iter().map(|(m, _)| m.customer_id).collect();
        let (mut customers, checked) = store
            .memberships()
            .customers_with_membership(user_id, &ids)
            .await?;
        if let Ok(state) = ctx.data::<RequestAccess>() {
            state.remember(&checked);
        }
        let last = batch.items.last().map(|(_, c)| c.clone());
        for (listed, cursor) in batch.items {
            if found.len() >= wanted {
                break;
            }
            let Some(membership) = checked.get(listed.customer_id) else {
                continue;
            };
            let Some(customer) = customers.remove(&membership.customer_id) else {
                continue;
            };
            let access = membership.access();
            let allowed = decide(
                Caller::User(user_id),
                &Action::ReadCustomer,
                Some(Target {
                    status: customer.status,
                    membership: Some(&access),
                }),
            ) == Decision::Allow;
            if allowed && matches(filter, &customer) {
                found.push((customer, cursor));
            }
        }
        match last {
            // Like every list, a page reads a bounded number of items.
            Some(cursor)
                if batch.has_next_page && found.len() < wanted && batches >= MAX_BATCHES =>
            {
                resume_cursor = Some(cursor);
                break;
            }
            Some(cursor) if batch.has_next_page && found.len() < wanted => after = Some(cursor),
            _ => break,
        }
    }
    let has_next_page = found.len() > usize::from(page.first) || resume_cursor.is_some();
    found.truncate(usize::from(page.first));
    let page = Page {
        items: found,
        has_next_page,
        resume_cursor,
    };
    Ok(Paged::from_page(page, CustomerNode))
}

/// Most pages of 100 memberships one page of a member's customers reads.
const MAX_BATCHES: usize = 10;
