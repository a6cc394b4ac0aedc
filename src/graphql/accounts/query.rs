//! Account queries. All admin-only for now: when scoped callers arrive
//! (users issue), `ACCOUNTS_READ` lets a caller read the accounts of its
//! own customers. The checks belong where the `AdminGuard`s are below
//! (`account`, `accountByAuthId`: after the read, compare
//! `account.customer_id` with the caller's customers; `accounts`: require
//! `filter.customerId` to be one of them), and on `Customer.accounts`,
//! `PricingTier.accounts` and `Account.subAccounts`.

use crate::graphql::connection::Connection as Paged;
use async_graphql::{Context, ID, Object};

use super::super::error::ApiError;
use super::super::guard::AdminGuard;
use super::super::input::parse_id;
use super::{AccountFilterInput, AccountNode, account_connection, list_complexity};
use crate::domain::credentials::is_auth_id;
use crate::store::Store;

/// Account queries; platform admins only.
#[derive(Default)]
pub struct AccountQuery;

#[Object]
impl AccountQuery {
    /// The account with `id`, or `null`.
    #[graphql(guard = "AdminGuard")]
    async fn account(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The id (UUID) of the account.")] id: ID,
    ) -> Result<Option<AccountNode>, ApiError> {
        let id = parse_id(&id, "id")?;
        Ok(ctx
            .data_unchecked::<Store>()
            .accounts()
            .get(id)
            .await?
            .map(AccountNode))
    }

    /// The account with this `authId` (e.g. `MA_…`), or `null`.
    #[graphql(guard = "AdminGuard")]
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
        Ok(ctx
            .data_unchecked::<Store>()
            .accounts()
            .get_by_auth_id(auth_id)
            .await?
            .map(AccountNode))
    }

    /// Accounts, newest first, `first` (at most 100) at a time, narrowed
    /// by `filter`. A page is always filled to `first` when enough
    /// accounts match.
    #[graphql(
        guard = "AdminGuard",
        complexity = "list_complexity(first, child_complexity)"
    )]
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
        account_connection(ctx, &filter, first, after).await
    }
}
