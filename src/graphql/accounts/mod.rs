//! The account part of the schema: the `Account` type (`types.rs`), its
//! inputs (`inputs.rs`), queries (`query.rs`) and mutations
//! (`mutation.rs`). Every operation is admin-only for now; see the module
//! docs of `query.rs` and `mutation.rs` for where scoped access plugs in.

pub mod edge;
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

/// The account `id` when the caller may do `action` on it: admins always,
/// users through their membership of the account's customer
/// (`ACCOUNTS_READ` / `ACCOUNTS_WRITE`). `None` when it does not exist or
/// its customer is hidden from the caller, so ids cannot be probed;
/// `FORBIDDEN` when the membership lacks the permission.
pub async fn account_for(
    ctx: &Context<'_>,
    id: uuid::Uuid,
    action: &crate::domain::access::Action,
) -> Result<Option<crate::domain::account::Account>, ApiError> {
    let store = ctx.data_unchecked::<Store>();
    let Some(account) = store.accounts().get(id).await? else {
        return Ok(None);
    };
    if let crate::domain::access::Caller::Platform(role) = super::access::caller(ctx)? {
        return if role.permits(action) {
            Ok(Some(account))
        } else {
            Err(super::access::forbidden())
        };
    }
    let Some(customer) = store.customers().get(account.customer_id).await? else {
        return Ok(None);
    };
    Ok(super::access::visible(ctx, action, customer)
        .await?
        .map(|_| account))
}

/// Which of the rights beyond `ACCOUNTS_WRITE` the caller holds on the
/// accounts of `customer_id` (platform controls, billing controls, billing
/// settings), decided once before a write.
pub async fn allowed_controls(
    ctx: &Context<'_>,
    customer_id: uuid::Uuid,
) -> Result<Vec<crate::domain::access::Action>, ApiError> {
    use crate::domain::access::{Action, Decision, decide};
    let candidates = [
        Action::WritePlatformControls,
        Action::WriteBillingControls,
        Action::WriteBilling,
    ];
    let caller = super::access::caller(ctx)?;
    if caller.platform_role().is_some() {
        return Ok(candidates
            .into_iter()
            .filter(|a| decide(caller, a, None) == Decision::Allow)
            .collect());
    }
    let Some(customer) = ctx
        .data_unchecked::<Store>()
        .customers()
        .get(customer_id)
        .await?
    else {
        return Ok(Vec::new());
    };
    let mut allowed = Vec::new();
    for action in candidates {
        if super::access::decision(ctx, &action, &customer).await? == Decision::Allow {
            allowed.push(action);
        }
    }
    Ok(allowed)
}

/// Refuses a caller who is no admin an input field only admins may set.
pub fn admin_only_field(ctx: &Context<'_>, field: Option<&'static str>) -> Result<(), ApiError> {
    match field {
        Some(field) if super::access::caller(ctx)? != crate::domain::access::Caller::ADMIN => {
            Err(ApiError {
                code: super::error::Code::Forbidden,
                message: "only platform admins may set this field".into(),
                field: Some(field.into()),
                reason: None,
            })
        }
        _ => Ok(()),
    }
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
