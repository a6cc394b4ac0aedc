//! A customer's quotas in the schema: what the platform allows
//! (`Customer.quotas`), what the customer uses (`Customer.usage`), and
//! `setCustomerQuotas`, for the platform's `admin` and `billing` roles.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};

use super::customers;
use super::types::CustomerNode;
use crate::domain::access::Action;
use crate::domain::customer::quotas::{Quotas, Usage, parse_quota};
use crate::graphql::audit;
use crate::graphql::error::ApiError;
use crate::graphql::input::{int, parse_id};

/// The limits the platform set on a customer; `null` is unlimited.
#[derive(SimpleObject)]
#[graphql(name = "CustomerQuotas")]
#[expect(
    clippy::struct_field_names,
    reason = "the API's names: each is a maximum"
)]
pub struct QuotasNode {
    /// Most accounts (masters and sub-accounts together).
    max_accounts: Option<i32>,
    /// Most members, the owner included.
    max_users: Option<i32>,
    /// Most calls per second its accounts may have purchased in total.
    max_purchased_cps: Option<i32>,
    /// Most concurrent calls its accounts may have purchased in total.
    max_purchased_concurrent_calls: Option<i32>,
}

impl From<Quotas> for QuotasNode {
    fn from(q: Quotas) -> Self {
        Self {
            max_accounts: q.max_accounts.map(int),
            max_users: q.max_users.map(int),
            max_purchased_cps: q.max_purchased_cps.map(int),
            max_purchased_concurrent_calls: q.max_purchased_concurrent_calls.map(int),
        }
    }
}

/// What a customer uses of its quotas, as kept with every write that
/// changes it.
#[derive(SimpleObject)]
#[graphql(name = "CustomerUsage")]
pub struct UsageNode {
    /// Accounts.
    accounts: i32,
    /// Members, the owner included.
    users: i32,
    /// Purchased calls per second over all accounts.
    purchased_cps: i32,
    /// Purchased concurrent calls over all accounts.
    purchased_concurrent_calls: i32,
}

impl From<Usage> for UsageNode {
    fn from(u: Usage) -> Self {
        Self {
            accounts: int(u.accounts),
            users: int(u.users),
            purchased_cps: int(u.purchased_cps),
            purchased_concurrent_calls: int(u.purchased_concurrent_calls),
        }
    }
}

/// New quotas for a customer: each field replaces its quota; `null` or
/// absent makes it unlimited.
#[derive(InputObject, Clone)]
#[expect(
    clippy::struct_field_names,
    reason = "the API's names: each is a maximum"
)]
pub struct CustomerQuotasInput {
    /// Most accounts, 0 to 1,000,000.
    max_accounts: Option<i64>,
    /// Most members (the owner included), 0 to 1,000,000.
    max_users: Option<i64>,
    /// Most purchased calls per second over all accounts, 0 to 1,000,000.
    max_purchased_cps: Option<i64>,
    /// Most purchased concurrent calls over all accounts, 0 to 1,000,000.
    max_purchased_concurrent_calls: Option<i64>,
}

impl CustomerQuotasInput {
    fn parse(self) -> Result<Quotas, ApiError> {
        Ok(Quotas {
            max_accounts: parse_quota(self.max_accounts, "quotas.maxAccounts")?,
            max_users: parse_quota(self.max_users, "quotas.maxUsers")?,
            max_purchased_cps: parse_quota(self.max_purchased_cps, "quotas.maxPurchasedCps")?,
            max_purchased_concurrent_calls: parse_quota(
                self.max_purchased_concurrent_calls,
                "quotas.maxPurchasedConcurrentCalls",
            )?,
        })
    }
}

/// Quota mutations.
#[derive(Default)]
pub struct CustomerQuotaMutation;

#[Object]
impl CustomerQuotaMutation {
    /// Sets a customer's quotas (platform `admin` and `billing` roles).
    /// Creating an account, adding a member (directly or by accepting an
    /// invitation) and buying capacity beyond a quota are refused with
    /// `QUOTA_EXCEEDED`, `extensions.field` naming the quota; the check is
    /// a condition in the creating transaction, so concurrent creates
    /// cannot overshoot. A quota below current usage blocks growth and
    /// removes nothing.
    #[graphql(guard = "crate::graphql::guard::PlatformGuard(Action::SetQuotas)")]
    async fn set_customer_quotas(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The id (UUID) of the customer.")] id: ID,
        #[graphql(desc = "The quotas; each absent or null one is unlimited.")]
        quotas: CustomerQuotasInput,
    ) -> Result<CustomerNode, ApiError> {
        let id = parse_id(&id, "id")?;
        let quotas = quotas.parse()?;
        let customer = customers(ctx)
            .set_quotas(id, &quotas, &audit::change(ctx)?)
            .await?;
        Ok(CustomerNode(customer))
    }
}
