//! Account queries. All admin-only for now: when scoped callers arrive
//! (users issue), `ACCOUNTS_READ` lets a caller read the accounts of its
//! own customers. The checks belong where the `AdminGuard`s are below
//! (`account`, `accountByAuthId`: after the read, compare
//! `account.customer_id` with the caller's customers; `accounts`: require
//! `filter.customerId` to be one of them), and on `Customer.accounts`,
//! `PricingTier.accounts` and `Account.subAccounts`.

use crate::graphql::connection::Connection as Paged;
use async_graphql::{Context, ID, Object};

use super::super::access;
use super::super::error::ApiError;
use super::super::input::parse_id;
use super::{AccountFilterInput, AccountNode, account_connection, account_for};
use crate::domain::access::{Action, Caller};
use crate::domain::credentials::is_auth_id;
use crate::store::Store;

/// Account queries; platform admins only.
#[derive(Default)]
pub struct AccountQuery;

#[Object]
impl AccountQuery {
    /// The account with `id`, or `null`.
    async fn account(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The id (UUID) of the account.")] id: ID,
    ) -> Result<Option<AccountNode>, ApiError> {
        let id = parse_id(&id, "id")?;
        Ok(account_for(ctx, id, &Action::ReadAccounts)
            .await?
            .map(AccountNode))
    }

    /// The account with this `authId` (e.g. `MA_…`), or `null`.
    async fn account_by_auth_id(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The account's `authId` (`MA_` and 20 upper-case letters and digits).")]
        auth_id: String,
    ) -> Result<Option<AccountNode>, ApiError> {
        let auth_id = auth_id.trim();
        if !is_auth_id(auth_id) {
            return Ok(None);
        }
        let Some(found) = ctx
            .data_unchecked::<Store>()
            .accounts()
            .get_by_auth_id(auth_id)
            .await?
        else {
            return Ok(None);
        };
        Ok(account_for(ctx, found.id, &Action::ReadAccounts)
            .await?
            .map(AccountNode))
    }

    /// Accounts, newest first, `first` (at most 100) at a time, narrowed
    /// by `filter`. One page reads at most a bounded number of stored
    /// accounts: a sparse filter may return a short page with
    /// `hasNextPage: true`; keep paging with `endCursor`. A user (not an
    /// admin) lists one customer's accounts at a time (`filter.customerId`,
    /// with `ACCOUNTS_READ` on it).
    #[graphql(complexity = "crate::graphql::connection::complexity(first, child_complexity)")]
    async fn accounts(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20, desc = "How many items to return, 0 to 100.")] first: i32,
        #[graphql(
            desc = "The `endCursor` of the previous page, to continue after it; omit for the first page."
        )]
        after: Option<String>,
        #[graphql(desc = "Narrows the list; every field is optional and they combine with AND.")]
        filter: Option<AccountFilterInput>,
    ) -> Result<Paged<AccountNode>, ApiError> {
        let filter = filter.unwrap_or_default().parse()?;
        if let Caller::Platform(_) = access::caller(ctx)? {
            access::require_platform(ctx, &crate::domain::access::Action::ReadAccounts)?;
        } else {
            // A user lists the accounts of one of its customers at a time.
            let Some(customer_id) = filter.customer_id else {
                return Err(ApiError::bad_input(
                    "filter.customerId",
                    "is required unless you are a platform admin",
                ));
            };
            let store = ctx.data_unchecked::<Store>();
            let Some(customer) = store.customers().get(customer_id).await? else {
                return Ok(Paged::empty());
            };
            if access::visible(ctx, &Action::ReadAccounts, customer)
                .await?
                .is_none()
            {
                return Ok(Paged::empty());
            }
        }
        account_connection(ctx, &filter, first, after).await
    }
}
