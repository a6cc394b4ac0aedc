//! The account part of the schema: the `Account` type (`types.rs`), its
//! inputs (`inputs.rs`), queries (`query.rs`) and mutations
//! (`mutation.rs`). Every operation is admin-only for now; see the module
//! docs of `query.rs` and `mutation.rs` for where scoped access plugs in.

mod inputs;
mod mutation;
mod query;
mod types;

use super::connection::Connection;
use async_graphql::Context;

pub use inputs::{AccountFilterInput, CreateAccountInput, UpdateAccountInput};
pub use mutation::{AccountMutation, AccountSecrets};
pub use query::AccountQuery;
pub use types::{AccountNode, CreateAccountPayload, RotateAccountAuthSecretPayload};

use super::error::ApiError;
use crate::domain::page::PageRequest;
use crate::store::{AccountFilter, Store};

/// Complexity of a connection: its page size times its children.
pub fn list_complexity(first: i32, child_complexity: usize) -> usize {
    usize::try_from(first).unwrap_or(0) * child_complexity + 1
}

/// One page of accounts as a connection. `accounts`, `Customer.accounts`,
/// `PricingTier.accounts` and `Account.subAccounts` all answer with it.
pub async fn account_connection(
    ctx: &Context<'_>,
    filter: &AccountFilter,
    first: i32,
    after: Option<String>,
) -> Result<Connection<AccountNode>, ApiError> {
    let page = PageRequest::new(first, after)?;
    let page = ctx
        .data_unchecked::<Store>()
        .accounts()
        .list(filter, &page)
        .await?;
    Ok(Connection::from_page(page, AccountNode))
}
