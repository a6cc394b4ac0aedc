//! The `Account` object type, its enums and the payloads that carry a
//! secret exactly once.

use crate::graphql::connection::Connection as Paged;
use async_graphql::{Context, Enum, ID, Object, SimpleObject};

use super::super::customers::CustomerNode;
use super::super::error::ApiError;
use super::super::input::int;
use super::super::loaders::loaders;
use super::super::pricing_tiers::PricingTierNode;
use super::super::scalars::{DateTime, Decimal};
use super::account_connection;
use crate::domain::account::{self as model, Account, AccountProfile};
use crate::store::AccountFilter;

/// Master account or sub-account.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "model::AccountType")]
pub enum AccountType {
    /// A top-level account of its customer.
    Master,
    /// An account under a master account of the same customer.
    SubAccount,
}

/// Role of the user associated with the account.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "model::AccountRole")]
pub enum AccountRole {
    /// Administrator.
    Admin,
    /// Ordinary user.
    User,
}

/// Kind of carrier service.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "model::CarrierType")]
pub enum CarrierType {
    /// Voice over IP.
    Voip,
    /// The public switched telephone network.
    Pstn,
}

/// Size class of the customer behind an account.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "model::AccountCustomerType")]
pub enum AccountCustomerType {
    /// A large organisation.
    Enterprise,
    /// A small or medium business.
    Smb,
}

/// Risk status set by the platform's risk checks.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "model::RiskStatus")]
pub enum RiskStatus {
    /// Nothing noticed.
    Normal,
    /// Under review.
    Flagged,
    /// Blocked by risk.
    Blocked,
}

/// Prepaid or postpaid; derived from `postpaid`.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "model::BillingModel")]
pub enum BillingModel {
    /// Calls draw on credit bought in advance.
    Prepaid,
    /// Calls draw against the credit limit and are invoiced.
    Postpaid,
}

/// When and by how much a prepaid account is topped up.
#[derive(SimpleObject)]
#[graphql(name = "AutoRechargeConfig")]
pub struct AutoRechargeConfigNode {
    /// Balance below which a top-up is triggered.
    threshold: Decimal,
    /// Amount added per top-up.
    amount: Decimal,
}

/// Optional features of an account.
#[derive(SimpleObject)]
#[graphql(name = "AccountFeatures")]
pub struct FeaturesNode {
    /// Call queues.
    call_queue: bool,
    /// Call transcription.
    transcription: bool,
}

/// A telephony account of a customer: the credential its traffic
/// authenticates with (`authId`), its billing model, limits and tier. The
/// auth secret is never readable here; it is shown once, by
/// `createAccount` and `rotateAccountAuthSecret`.
pub struct AccountNode(pub Account);

impl AccountNode {
    fn p(&self) -> &AccountProfile {
        &self.0.profile
    }
}

/// A customer's telephony account: what its traffic authenticates with
/// (`authId`), its billing model, limits and pricing tier. The auth secret
/// is never readable; it is shown once, by `createAccount` and
/// `rotateAccountAuthSecret`.
#[Object(name = "Account")]
impl AccountNode {
    /// Unique identifier (UUIDv7, sortable by creation time).
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The customer the account belongs to. A user needs `CUSTOMER_READ`
    /// on it (`ACCOUNTS_READ` alone shows the account, not the customer).
    async fn customer(&self, ctx: &Context<'_>) -> Result<CustomerNode, ApiError> {
        let customer = loaders(ctx)?
            .customers
            .load_one(self.0.customer_id)
            .await?
            .ok_or_else(|| {
                ApiError::internal(format!(
                    "account {} names customer {} who does not exist",
                    self.0.id, self.0.customer_id
                ))
            })?;
        if crate::graphql::access::caller(ctx)? != crate::domain::access::Caller::ADMIN {
            crate::graphql::access::require(
                ctx,
                &crate::domain::access::Action::ReadCustomer,
                &customer,
            )
            .await?;
        }
        Ok(CustomerNode(customer))
    }
    /// Internal API reference identifier (a UUID fixed at creation).
    async fn api_id(&self) -> ID {
        ID(self.0.api_id.to_string())
    }
    /// Name of the account or company.
    async fn name(&self) -> &str {
        &self.p().name
    }
    /// Contact email (not unique).
    async fn email(&self) -> &str {
        &self.p().email
    }
    /// Primary phone in E.164, e.g. `+14155551234`.
    async fn phone(&self) -> Option<&str> {
        self.p().phone.as_deref()
    }
    /// Master account or sub-account (fixed at creation).
    #[graphql(name = "type")]
    async fn account_kind(&self) -> AccountType {
        self.0.account_type.into()
    }
    /// The master account of a sub-account; `null` for a master.
    async fn parent_account(&self, ctx: &Context<'_>) -> Result<Option<AccountNode>, ApiError> {
        match self.0.parent_account_id {
            Some(id) => Ok(loaders(ctx)?.accounts.load_one(id).await?.map(AccountNode)),
            None => Ok(None),
        }
    }
    /// The sub-accounts of a master, newest first, `first` (at most 100)
    /// at a time; always empty for a sub-account.
    #[graphql(complexity = "crate::graphql::connection::complexity(first, child_complexity)")]
    async fn sub_accounts(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20, desc = "How many items to return, 0 to 100.")] first: i32,
        #[graphql(
            desc = "The `endCursor` of the previous page, to continue after it; omit for the first page."
        )]
        after: Option<String>,
    ) -> Result<Paged<AccountNode>, ApiError> {
        if self.0.account_type != model::AccountType::Master {
            return Ok(Paged::empty());
        }
        let filter = AccountFilter {
            customer_id: Some(self.0.customer_id),
            parent_account_id: Some(self.0.id),
            ..AccountFilter::default()
        };
        account_connection(ctx, &filter, first, after).await
    }
    /// The public credential id, `MA_` and 20 upper-case letters and
    /// digits; unique.
    async fn auth_id(&self) -> &str {
        &self.0.auth_id
    }
    /// When the current auth secret stops working; `null` for never.
    async fn auth_token_expire_time(&self) -> Option<DateTime> {
        self.0.auth_token_expire_time.map(DateTime)
    }
    /// Notes.
    async fn description(&self) -> Option<&str> {
        self.p().description.as_deref()
    }
    /// Full legal company name.
    async fn company(&self) -> Option<&str> {
        self.p().company.as_deref()
    }
    /// Street address.
    async fn address(&self) -> Option<&str> {
        self.p().address.as_deref()
    }
    /// City.
    async fn city(&self) -> Option<&str> {
        self.p().city.as_deref()
    }
    /// State or province.
    async fn state(&self) -> Option<&str> {
        self.p().state.as_deref()
    }
    /// Postal code.
    async fn zip_code(&self) -> Option<&str> {
        self.p().zip_code.as_deref()
    }
    /// ISO 3166-1 alpha-2 country.
    async fn country(&self) -> Option<&str> {
        self.p().country.as_deref()
    }
    /// IANA time zone, e.g. `America/Los_Angeles`.
    async fn timezone(&self) -> Option<&str> {
        self.p().timezone.as_deref()
    }
    /// Free plan label, e.g. `standard` (not the billing model).
    async fn account_type(&self) -> &str {
        &self.p().account_type
    }
    /// The authoritative billing-model flag: `true` postpaid, `false`
    /// prepaid.
    async fn postpaid(&self) -> bool {
        self.p().postpaid
    }
    /// PREPAID or POSTPAID, derived from `postpaid`.
    async fn billing_model(&self) -> BillingModel {
        self.p().billing_model().into()
    }
    /// Automatic top-ups (prepaid accounts only).
    async fn auto_recharge(&self) -> bool {
        self.p().auto_recharge
    }
    /// Top-up settings; `null` unless prepaid with `autoRecharge` on and
    /// configured.
    async fn auto_recharge_config(&self) -> Option<AutoRechargeConfigNode> {
        self.p()
            .auto_recharge_config
            .map(|c| AutoRechargeConfigNode {
                threshold: Decimal::exact(c.threshold),
                amount: Decimal::exact(c.amount),
            })
    }
    /// Generally enabled for service.
    async fn enabled(&self) -> bool {
        self.p().enabled
    }
    /// Currently active.
    async fn is_active(&self) -> bool {
        self.p().is_active
    }
    /// Identity verified.
    async fn is_verified(&self) -> bool {
        self.p().is_verified
    }
    /// Trial account.
    async fn is_trial_account(&self) -> bool {
        self.p().is_trial_account
    }
    /// Role of the associated user.
    async fn role(&self) -> AccountRole {
        self.p().role.into()
    }
    /// Kind of carrier service.
    async fn carrier_type(&self) -> Option<CarrierType> {
        self.p().carrier_type.map(Into::into)
    }
    /// Size class of the customer.
    async fn customer_type(&self) -> Option<AccountCustomerType> {
        self.p().customer_type.map(Into::into)
    }
    /// Credit line for postpaid calls (typically 0 for prepaid).
    async fn credit_limit(&self) -> Decimal {
        Decimal::exact(self.p().credit_limit)
    }
    /// Effective calls per second: `baseCpsLimit + purchasedCps`, computed
    /// on read.
    async fn cps_limit(&self) -> i32 {
        int(self.p().cps_limit())
    }
    /// Effective concurrent calls: `baseConcurrentCallsLimit +
    /// purchasedConcurrentCalls`, computed on read.
    async fn concurrent_calls_limit(&self) -> i32 {
        int(self.p().concurrent_calls_limit())
    }
    /// Base calls per second before add-ons.
    async fn base_cps_limit(&self) -> i32 {
        int(self.p().base_cps_limit)
    }
    /// Base concurrent calls before add-ons.
    async fn base_concurrent_calls_limit(&self) -> i32 {
        int(self.p().base_concurrent_calls_limit)
    }
    /// Purchased extra calls per second.
    async fn purchased_cps(&self) -> i32 {
        int(self.p().purchased_cps)
    }
    /// Purchased extra concurrent calls.
    async fn purchased_concurrent_calls(&self) -> i32 {
        int(self.p().purchased_concurrent_calls)
    }
    /// Risk score, 0–100.
    async fn risk_rating(&self) -> i32 {
        int(self.p().risk_rating)
    }
    /// Risk status.
    async fn risk_status(&self) -> RiskStatus {
        self.p().risk_status.into()
    }
    /// IP authentication for API access.
    async fn ip_auth_enabled(&self) -> bool {
        self.p().ip_auth_enabled
    }
    /// Allowed IP addresses and CIDR blocks, normalised.
    async fn ip_whitelist_rules(&self) -> &[String] {
        &self.p().ip_whitelist_rules
    }
    /// Allow AWS IP ranges.
    async fn allow_aws_ips(&self) -> bool {
        self.p().allow_aws_ips
    }
    /// The customer's telephony settings the edge enforces on this
    /// account's calls (international calling, recording, rates…), so the
    /// edge needs no second query after `verifyAccountCredentials`.
    /// Platform callers only; members read them on the customer.
    async fn customer_telephony(
        &self,
        ctx: &Context<'_>,
    ) -> Result<super::edge::TelephonyNode, ApiError> {
        let caller = crate::graphql::access::caller(ctx)?;
        if caller.platform_role().is_none() {
            return Err(crate::graphql::access::forbidden());
        }
        let customer = loaders(ctx)?
            .customers
            .load_one(self.0.customer_id)
            .await?
            .ok_or_else(|| ApiError::internal("an account names a customer who does not exist"))?;
        Ok(customer.profile.telephony.into())
    }
    /// The address of the request that created the account, as the
    /// gateway saw it (API Gateway's source IP; the peer locally).
    async fn created_by_ip(&self) -> Option<&str> {
        self.0.created_by_ip.as_deref()
    }
    /// How long the telephony edge may cache a credential check's answer
    /// (`EDGE_CACHE_SECONDS`, default 30): a block or a status change
    /// reaches the edge within this time.
    async fn edge_cache_seconds(&self, ctx: &Context<'_>) -> i32 {
        super::edge::cache_seconds(ctx)
    }
    /// Optional features.
    async fn features(&self) -> FeaturesNode {
        FeaturesNode {
            call_queue: self.p().features.call_queue,
            transcription: self.p().features.transcription,
        }
    }
    /// The pricing tier the account is billed on.
    async fn pricing_tier(&self, ctx: &Context<'_>) -> Result<PricingTierNode, ApiError> {
        loaders(ctx)?
            .tiers
            .load_one(self.0.pricing_tier_id)
            .await?
            .map(PricingTierNode)
            .ok_or_else(|| {
                ApiError::internal(format!(
                    "account {} names pricing tier {} which does not exist",
                    self.0.id, self.0.pricing_tier_id
                ))
            })
    }
    /// When the account was created.
    async fn created_at(&self) -> DateTime {
        DateTime(self.0.created_at)
    }
    /// When the account last changed.
    async fn updated_at(&self) -> DateTime {
        DateTime(self.0.updated_at)
    }
    /// Last successful `verifyAccountCredentials`.
    async fn last_login(&self) -> Option<DateTime> {
        self.0.last_login.map(DateTime)
    }
    /// Version for optimistic locking; pass it as `expectedVersion`.
    async fn version(&self) -> i32 {
        int(self.0.version)
    }
}

/// The new account with its auth secret, shown this once.
#[derive(SimpleObject)]
pub struct CreateAccountPayload {
    /// The account.
    pub account: AccountNode,
    /// The auth secret (43 URL-safe characters). Store it now: it is never
    /// shown again; only its hash is kept. `null` when this answers a
    /// repeated `idempotencyKey`: the first call showed it.
    pub auth_secret: Option<String>,
    /// Whether this answers a repeated `idempotencyKey`: the first call
    /// showed the secret, so `authSecret` is `null` here.
    pub replayed: bool,
}

/// The account with its new auth secret, shown this once; the old secret
/// no longer works.
#[derive(SimpleObject)]
pub struct RotateAccountAuthSecretPayload {
    /// The account, with its new `authTokenExpireTime`.
    pub account: AccountNode,
    /// The new auth secret. Store it now: it is never shown again.
    pub auth_secret: String,
}
