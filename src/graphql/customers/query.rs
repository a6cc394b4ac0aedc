//! Customer queries: lookups and the filtered, searchable list.

use async_graphql::{Context, ID, Object};

use super::customers;
use super::inputs::CustomerFilterInput;
use super::types::CustomerNode;
use crate::domain::access::{Action, Caller};
use crate::domain::customer::Customer;
use crate::domain::page::PageRequest;
use crate::graphql::access;
use crate::graphql::connection::Connection as Paged;
use crate::graphql::error::ApiError;
use crate::graphql::input::parse_id;

/// A customer the caller may read (`CUSTOMER_READ`), or `None` when it
/// does not exist or the caller does not belong to it.
async fn readable(
    ctx: &Context<'_>,
    customer: Option<Customer>,
) -> Result<Option<CustomerNode>, ApiError> {
    match customer {
        Some(customer) => Ok(access::visible(ctx, &Action::ReadCustomer, customer)
            .await?
            .map(CustomerNode)),
        None => Ok(None),
    }
}

/// Customer queries: admins see every customer, users the customers they
/// belong to (with `CUSTOMER_READ`); any other customer reads as `null`.
#[derive(Default)]
pub struct CustomerQuery;

#[Object]
impl CustomerQuery {
    /// The customer with `id`, or `null`.
    pub(super) async fn customer(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The id (UUID) of the customer.")] id: ID,
    ) -> Result<Option<CustomerNode>, ApiError> {
        let id = parse_id(&id, "id")?;
        readable(ctx, customers(ctx).get(id).await?).await
    }

    /// The customer with this email (case-insensitive), or `null`.
    async fn customer_by_email(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The email address, compared case-insensitively.")] email: String,
    ) -> Result<Option<CustomerNode>, ApiError> {
        readable(ctx, customers(ctx).get_by_email(&email).await?).await
    }

    /// The customer with this customer key, or `null`.
    async fn customer_by_key(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer key, as shown on the customer.")] customer_key: String,
    ) -> Result<Option<CustomerNode>, ApiError> {
        readable(ctx, customers(ctx).get_by_key(&customer_key).await?).await
    }

    /// Customers, newest first (in match order when searching), `first` (at
    /// most 100) at a time. A user sees only the customers it belongs to and
    /// may read. One page reads at most a bounded number of stored items
    /// (1,000 by default): when a filter matches few of them, the page may
    /// hold fewer than `first` items, or none, with `hasNextPage: true` and
    /// an `endCursor` past everything read, so keep paging with `after:
    /// endCursor` until `hasNextPage` is false.
    #[graphql(complexity = "crate::graphql::connection::complexity(first, child_complexity)")]
    pub(super) async fn customers(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20, desc = "How many items to return, 0 to 100.")] first: i32,
        #[graphql(
            desc = "The `endCursor` of the previous page, to continue after it; omit for the first page."
        )]
        after: Option<String>,
        #[graphql(desc = "Narrows the list; every field is optional and they combine with AND.")]
        filter: Option<CustomerFilterInput>,
    ) -> Result<Paged<CustomerNode>, ApiError> {
        let page = PageRequest::new(first, after)?;
        let filter = filter.unwrap_or_default().parse()?;
        if filter.deleting {
            // Interrupted deletions are an operator's view: any platform
            // role that reads.
            access::require_platform(ctx, &Action::ReadPlatform)?;
        }
        if let Caller::User(user_id) = access::caller(ctx)? {
            return super::super::member_customers::list(ctx, user_id, &filter, page).await;
        }
        // Every customer, for platform roles that read.
        access::require_platform(ctx, &Action::ReadCustomer)?;
        let page = customers(ctx).list(&filter, &page).await?;
        Ok(Paged::from_page(page, CustomerNode))
    }
}
