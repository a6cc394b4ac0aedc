//! The customer part of the schema: the `Customer` type with its extended
//! profile, its owner, users and accounts, and the admin-only queries and
//! mutations.

mod inputs;
mod mutation;
mod query;
mod quotas;
mod types;

use async_graphql::Context;

use crate::store::{Customers, Store};

pub use inputs::*;
pub use mutation::CustomerMutation;
pub use query::CustomerQuery;
pub use quotas::{CustomerQuotaMutation, QuotasNode, UsageNode};
pub use types::*;

/// Longest status reason.
const MAX_REASON_LEN: usize = 500;

fn store<'a>(ctx: &Context<'a>) -> &'a Store {
    ctx.data_unchecked::<Store>()
}

fn customers(ctx: &Context<'_>) -> Customers {
    store(ctx).customers()
}
