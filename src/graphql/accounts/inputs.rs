//! Account inputs: creation, patch and list filter, each turned into the
//! domain's draft with the full input path on every error.

use crate::domain::access::Action;
use async_graphql::{ID, InputObject, MaybeUndefined};
use uuid::Uuid;

use super::super::error::ApiError;
use super::super::input::parse_id;
use super::super::scalars::Decimal;
use super::types::{AccountCustomerType, AccountRole, AccountType, CarrierType, RiskStatus};
use crate::domain::account::{AccountDraft, AutoRechargeDraft, Features, NewAccount};
use crate::domain::customer::search_key;
use crate::store::AccountFilter;

/// Top-up settings of a prepaid account.
#[derive(InputObject, Clone)]
pub struct AutoRechargeConfigInput {
    /// Balance below which a top-up is triggered; > 0, at most 4 decimals.
    threshold: Decimal,
    /// Amount added per top-up; > 0, at most 4 decimals.
    amount: Decimal,
}

impl AutoRechargeConfigInput {
    fn parse(&self, field: &str) -> Result<AutoRechargeDraft, ApiError> {
        Ok(AutoRechargeDraft {
            threshold: self.threshold.at(&format!("{field}.threshold"))?,
            amount: self.amount.at(&format!("{field}.amount"))?,
        })
    }
}

/// Optional features.
#[derive(InputObject, Clone, Copy)]
pub struct FeaturesInput {
    /// Call queues.
    #[graphql(default = false)]
    call_queue: bool,
    /// Call transcription.
    #[graphql(default = false)]
    transcription: bool,
}

impl From<FeaturesInput> for Features {
    fn from(f: FeaturesInput) -> Self {
        Self {
            call_queue: f.call_queue,
            transcription: f.transcription,
        }
    }
}

/// A new account. Omitted fields take the defaults named.
#[derive(InputObject)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "the seeds' switches are independent booleans"
)]
pub struct CreateAccountInput {
    /// The customer; it must be ACTIVE.
    customer_id: ID,
    /// MASTER (default) or SUB_ACCOUNT.
    #[graphql(name = "type", default_with = "AccountType::Master")]
    kind: AccountType,
    /// For a SUB_ACCOUNT: its master, a MASTER account of the same customer.
    parent_account_id: Option<ID>,
    /// The pricing tier (must be active); the default tier when omitted.
    pricing_tier_id: Option<ID>,
    /// Name of the account or company, 1–100 characters.
    name: String,
    /// Contact email (not unique).
    email: String,
    /// Phone in international form, e.g. `+1 415 555 1234`; stored as E.164.
    phone: Option<String>,
    /// Notes, up to 500 characters.
    description: Option<String>,
    /// Legal company name.
    company: Option<String>,
    /// Street address.
    address: Option<String>,
    /// City.
    city: Option<String>,
    /// State or province.
    state: Option<String>,
    /// Postal code.
    zip_code: Option<String>,
    /// ISO 3166-1 alpha-2 country.
    country: Option<String>,
    /// IANA time zone, e.g. `America/Los_Angeles`.
    timezone: Option<String>,
    /// Plan label, 1–40 characters (default `standard`).
    account_type: Option<String>,
    /// Postpaid billing (default `false`: prepaid).
    #[graphql(default = false)]
    postpaid: bool,
    /// Automatic top-ups; prepaid only (default `false`).
    auto_recharge: Option<bool>,
    /// Top-up settings; only with `autoRecharge: true` on a prepaid account.
    auto_recharge_config: Option<AutoRechargeConfigInput>,
    /// Enabled for service (default `true`).
    #[graphql(default = true)]
    enabled: bool,
    /// Active (default `true`).
    #[graphql(default = true)]
    is_active: bool,
    /// Identity verified (default `false`).
    #[graphql(default = false)]
    is_verified: bool,
    /// Trial account (default `false`).
    #[graphql(default = false)]
    is_trial_account: bool,
    /// Role of the associated user (default ADMIN).
    #[graphql(default_with = "AccountRole::Admin")]
    role: AccountRole,
    /// Kind of carrier service.
    carrier_type: Option<CarrierType>,
    /// Size class of the customer.
    customer_type: Option<AccountCustomerType>,
    /// Credit line, ≥ 0 (default 0).
    credit_limit: Option<Decimal>,
    /// Base calls per second, 0–100000 (default 5).
    #[graphql(default = 5)]
    base_cps_limit: i32,
    /// Base concurrent calls, 0–100000 (default 25).
    #[graphql(default = 25)]
    base_concurrent_calls_limit: i32,
    /// Purchased calls per second, 0–100000 (default 0).
    #[graphql(default = 0)]
    purchased_cps: i32,
    /// Purchased concurrent calls, 0–100000 (default 0).
    #[graphql(default = 0)]
    purchased_concurrent_calls: i32,
    /// Risk score 0–100 (default 0).
    #[graphql(default = 0)]
    risk_rating: i32,
    /// Risk status (default NORMAL).
    #[graphql(default_with = "RiskStatus::Normal")]
    risk_status: RiskStatus,
    /// IP authentication for API access (default `false`).
    #[graphql(default = false)]
    ip_auth_enabled: bool,
    /// Allowed IPv4/IPv6 addresses or CIDR blocks; at most 100, no
    /// duplicates after normalisation.
    #[graphql(default)]
    ip_whitelist_rules: Vec<String>,
    /// Allow AWS IP ranges (default `false`).
    #[graphql(default = false)]
    allow_aws_ips: bool,
    /// Optional features (default none).
    features: Option<FeaturesInput>,
}

fn optional_id(id: Option<&ID>, field: &str) -> Result<Option<Uuid>, ApiError> {
    id.map(|id| parse_id(id, field)).transpose()
}

impl CreateAccountInput {
    /// The first field set away from its default that only platform admins
    /// may set: the credit line, the risk assessment, verification, and
    /// the pricing tier (members get the default tier).
    pub fn admin_only_field(&self) -> Option<&'static str> {
        if self.credit_limit.is_some() {
            Some("input.creditLimit")
        } else if self.risk_rating != 0 {
            Some("input.riskRating")
        } else if self.risk_status != RiskStatus::Normal {
            Some("input.riskStatus")
        } else if self.is_verified {
            Some("input.isVerified")
        } else if self.pricing_tier_id.is_some() {
            Some("input.pricingTierId")
        } else {
            None
        }
    }

    /// Validates the input into a new account.
    pub fn into_new_account(self) -> Result<NewAccount, ApiError> {
        let customer_id = parse_id(&self.customer_id, "input.customerId")?;
        let parent = optional_id(self.parent_account_id.as_ref(), "input.parentAccountId")?;
        let tier = optional_id(self.pricing_tier_id.as_ref(), "input.pricingTierId")?;
        let mut d = AccountDraft::new(self.name, self.email);
        d.phone = self.phone;
        d.description = self.description;
        d.company = self.company;
        d.address = self.address;
        d.city = self.city;
        d.state = self.state;
        d.zip_code = self.zip_code;
        d.country = self.country;
        d.timezone = self.timezone;
        if let Some(plan) = self.account_type {
            d.account_type = plan;
        }
        d.postpaid = self.postpaid;
        d.auto_recharge_given = self.auto_recharge.is_some();
        d.auto_recharge = self.auto_recharge.unwrap_or(false);
        d.auto_recharge_config_given = self.auto_recharge_config.is_some();
        d.auto_recharge_config = self
            .auto_recharge_config
            .map(|c| c.parse("input.autoRechargeConfig"))
            .transpose()?;
        d.enabled = self.enabled;
        d.is_active = self.is_active;
        d.is_verified = self.is_verified;
        d.is_trial_account = self.is_trial_account;
        d.role = self.role.into();
        d.carrier_type = self.carrier_type.map(Into::into);
        d.customer_type = self.customer_type.map(Into::into);
        if let Some(limit) = self.credit_limit {
            d.credit_limit = limit.at("input.creditLimit")?;
        }
        d.base_cps_limit = i64::from(self.base_cps_limit);
        d.base_concurrent_calls_limit = i64::from(self.base_concurrent_calls_limit);
        d.purchased_cps = i64::from(self.purchased_cps);
        d.purchased_concurrent_calls = i64::from(self.purchased_concurrent_calls);
        d.risk_rating = i64::from(self.risk_rating);
        d.risk_status = self.risk_status.into();
        d.ip_auth_enabled = self.ip_auth_enabled;
        d.ip_whitelist_rules = self.ip_whitelist_rules;
        d.allow_aws_ips = self.allow_aws_ips;
        d.features = self.features.map(Into::into).unwrap_or_default();
        Ok(
            NewAccount::parse(customer_id, self.kind.into(), parent, tier, d)
                .map_err(|e| e.within("input"))?,
        )
    }
}

/// Changes to an account; omitted fields stay as they are, `null` clears a
/// nullable one. The customer, `type` and master are fixed at creation.
#[derive(InputObject, Clone)]
pub struct UpdateAccountInput {
    /// Move to this (active) pricing tier.
    pricing_tier_id: MaybeUndefined<ID>,
    /// New name.
    name: MaybeUndefined<String>,
    /// New email.
    email: MaybeUndefined<String>,
    /// New phone; `null` clears it.
    phone: MaybeUndefined<String>,
    /// New description; `null` clears it.
    description: MaybeUndefined<String>,
    /// New company; `null` clears it.
    company: MaybeUndefined<String>,
    /// New address; `null` clears it.
    address: MaybeUndefined<String>,
    /// New city; `null` clears it.
    city: MaybeUndefined<String>,
    /// New state; `null` clears it.
    state: MaybeUndefined<String>,
    /// New postal code; `null` clears it.
    zip_code: MaybeUndefined<String>,
    /// New country; `null` clears it.
    country: MaybeUndefined<String>,
    /// New time zone; `null` clears it.
    timezone: MaybeUndefined<String>,
    /// New plan label.
    account_type: MaybeUndefined<String>,
    /// New billing model; `true` also turns auto-recharge off and clears
    /// its settings.
    postpaid: MaybeUndefined<bool>,
    /// Turn automatic top-ups on or off (off clears the settings).
    auto_recharge: MaybeUndefined<bool>,
    /// New top-up settings; `null` clears them.
    auto_recharge_config: MaybeUndefined<AutoRechargeConfigInput>,
    /// Enable or disable (enabling needs an ACTIVE customer).
    enabled: MaybeUndefined<bool>,
    /// Activate or deactivate (activating needs an ACTIVE customer).
    is_active: MaybeUndefined<bool>,
    /// Mark verified.
    is_verified: MaybeUndefined<bool>,
    /// Mark as trial.
    is_trial_account: MaybeUndefined<bool>,
    /// New role.
    role: MaybeUndefined<AccountRole>,
    /// New carrier kind; `null` clears it.
    carrier_type: MaybeUndefined<CarrierType>,
    /// New customer size class; `null` clears it.
    customer_type: MaybeUndefined<AccountCustomerType>,
    /// New credit line.
    credit_limit: MaybeUndefined<Decimal>,
    /// New base calls per second.
    base_cps_limit: MaybeUndefined<i32>,
    /// New base concurrent calls.
    base_concurrent_calls_limit: MaybeUndefined<i32>,
    /// New purchased calls per second.
    purchased_cps: MaybeUndefined<i32>,
    /// New purchased concurrent calls.
    purchased_concurrent_calls: MaybeUndefined<i32>,
    /// New risk score.
    risk_rating: MaybeUndefined<i32>,
    /// New risk status.
    risk_status: MaybeUndefined<RiskStatus>,
    /// IP authentication on or off.
    ip_auth_enabled: MaybeUndefined<bool>,
    /// New allow-list, replacing the old one whole; `null` empties it.
    ip_whitelist_rules: MaybeUndefined<Vec<String>>,
    /// Allow AWS IP ranges.
    allow_aws_ips: MaybeUndefined<bool>,
    /// New features, replacing the old ones whole.
    features: MaybeUndefined<FeaturesInput>,
}

/// Writes a non-nullable patch field onto `target`.
fn set<T, U>(
    value: MaybeUndefined<T>,
    target: &mut U,
    field: &str,
    convert: impl FnOnce(T) -> Result<U, ApiError>,
) -> Result<(), ApiError> {
    match value {
        MaybeUndefined::Undefined => Ok(()),
        MaybeUndefined::Null => Err(ApiError::bad_input(
            field,
            "cannot be null; omit it to leave it unchanged",
        )),
        MaybeUndefined::Value(v) => {
            *target = convert(v)?;
            Ok(())
        }
    }
}

/// Writes a nullable patch field onto `target`.
fn set_nullable<T, U>(
    value: MaybeUndefined<T>,
    target: &mut Option<U>,
    convert: impl FnOnce(T) -> U,
) {
    match value {
        MaybeUndefined::Undefined => {}
        MaybeUndefined::Null => *target = None,
        MaybeUndefined::Value(v) => *target = Some(convert(v)),
    }
}

#[expect(clippy::unnecessary_wraps, reason = "shaped as a conversion for `set`")]
fn same<T>(value: T) -> Result<T, ApiError> {
    Ok(value)
}

#[expect(clippy::unnecessary_wraps, reason = "shaped as a conversion for `set`")]
fn widen(value: i32) -> Result<i64, ApiError> {
    Ok(i64::from(value))
}

impl UpdateAccountInput {
    /// Whether the patch sets anything but the billing fields (`creditLimit`,
    /// `postpaid`, `purchasedCps`, `purchasedConcurrentCalls`): those alone
    /// are billing's to change and need no `ACCOUNTS_WRITE`.
    pub fn touches_more_than_billing(&self) -> bool {
        let undefined = [
            self.pricing_tier_id.is_undefined(),
            self.name.is_undefined(),
            self.email.is_undefined(),
            self.phone.is_undefined(),
            self.description.is_undefined(),
            self.company.is_undefined(),
            self.address.is_undefined(),
            self.city.is_undefined(),
            self.state.is_undefined(),
            self.zip_code.is_undefined(),
            self.country.is_undefined(),
            self.timezone.is_undefined(),
            self.account_type.is_undefined(),
            self.auto_recharge.is_undefined(),
            self.auto_recharge_config.is_undefined(),
            self.enabled.is_undefined(),
            self.is_active.is_undefined(),
            self.is_verified.is_undefined(),
            self.is_trial_account.is_undefined(),
            self.role.is_undefined(),
            self.carrier_type.is_undefined(),
            self.customer_type.is_undefined(),
            self.base_cps_limit.is_undefined(),
            self.base_concurrent_calls_limit.is_undefined(),
            self.risk_rating.is_undefined(),
            self.risk_status.is_undefined(),
            self.ip_auth_enabled.is_undefined(),
            self.ip_whitelist_rules.is_undefined(),
            self.allow_aws_ips.is_undefined(),
            self.features.is_undefined(),
        ];
        undefined.iter().any(|u| !u)
    }

    /// The platform's fields the patch names, whatever their value: the
    /// risk assessment, verification and the tier (platform controls) and
    /// the credit line (a billing control).
    pub fn named_controls(&self) -> Vec<(Action, &'static str)> {
        let mut named = Vec::new();
        for (undefined, field) in [
            (self.risk_rating.is_undefined(), "input.riskRating"),
            (self.risk_status.is_undefined(), "input.riskStatus"),
            (self.is_verified.is_undefined(), "input.isVerified"),
            (self.pricing_tier_id.is_undefined(), "input.pricingTierId"),
        ] {
            if !undefined {
                named.push((Action::WritePlatformControls, field));
            }
        }
        if !self.credit_limit.is_undefined() {
            named.push((Action::WriteBillingControls, "input.creditLimit"));
        }
        named
    }

    /// Writes the patch onto a draft of the current profile and returns
    /// the tier the account should be on. Errors carry full paths.
    #[expect(
        clippy::too_many_lines,
        reason = "one statement per patchable field; splitting would scatter the list"
    )]
    pub fn apply(self, d: &mut AccountDraft, tier: &mut Uuid) -> Result<(), ApiError> {
        set(self.pricing_tier_id, tier, "input.pricingTierId", |id| {
            parse_id(&id, "input.pricingTierId")
        })?;
        set(self.name, &mut d.name, "input.name", same)?;
        set(self.email, &mut d.email, "input.email", same)?;
        set_nullable(self.phone, &mut d.phone, |v| v);
        set_nullable(self.description, &mut d.description, |v| v);
        set_nullable(self.company, &mut d.company, |v| v);
        set_nullable(self.address, &mut d.address, |v| v);
        set_nullable(self.city, &mut d.city, |v| v);
        set_nullable(self.state, &mut d.state, |v| v);
        set_nullable(self.zip_code, &mut d.zip_code, |v| v);
        set_nullable(self.country, &mut d.country, |v| v);
        set_nullable(self.timezone, &mut d.timezone, |v| v);
        set(
            self.account_type,
            &mut d.account_type,
            "input.accountType",
            same,
        )?;
        set(self.postpaid, &mut d.postpaid, "input.postpaid", same)?;
        d.auto_recharge_given = self.auto_recharge.is_value();
        set(
            self.auto_recharge,
            &mut d.auto_recharge,
            "input.autoRecharge",
            same,
        )?;
        d.auto_recharge_config_given = self.auto_recharge_config.is_value();
        match self.auto_recharge_config {
            MaybeUndefined::Undefined => {}
            MaybeUndefined::Null => d.auto_recharge_config = None,
            MaybeUndefined::Value(c) => {
                d.auto_recharge_config = Some(c.parse("input.autoRechargeConfig")?);
            }
        }
        set(self.enabled, &mut d.enabled, "input.enabled", same)?;
        set(self.is_active, &mut d.is_active, "input.isActive", same)?;
        set(
            self.is_verified,
            &mut d.is_verified,
            "input.isVerified",
            same,
        )?;
        set(
            self.is_trial_account,
            &mut d.is_trial_account,
            "input.isTrialAccount",
            same,
        )?;
        set(self.role, &mut d.role, "input.role", |r| Ok(r.into()))?;
        set_nullable(self.carrier_type, &mut d.carrier_type, Into::into);
        set_nullable(self.customer_type, &mut d.customer_type, Into::into);
        set(
            self.credit_limit,
            &mut d.credit_limit,
            "input.creditLimit",
            |v| v.at("input.creditLimit"),
        )?;
        set(
            self.base_cps_limit,
            &mut d.base_cps_limit,
            "input.baseCpsLimit",
            widen,
        )?;
        set(
            self.base_concurrent_calls_limit,
            &mut d.base_concurrent_calls_limit,
            "input.baseConcurrentCallsLimit",
            widen,
        )?;
        set(
            self.purchased_cps,
            &mut d.purchased_cps,
            "input.purchasedCps",
            widen,
        )?;
        set(
            self.purchased_concurrent_calls,
            &mut d.purchased_concurrent_calls,
            "input.purchasedConcurrentCalls",
            widen,
        )?;
        set(
            self.risk_rating,
            &mut d.risk_rating,
            "input.riskRating",
            widen,
        )?;
        set(
            self.risk_status,
            &mut d.risk_status,
            "input.riskStatus",
            |r| Ok(r.into()),
        )?;
        set(
            self.ip_auth_enabled,
            &mut d.ip_auth_enabled,
            "input.ipAuthEnabled",
            same,
        )?;
        match self.ip_whitelist_rules {
            MaybeUndefined::Undefined => {}
            MaybeUndefined::Null => d.ip_whitelist_rules = Vec::new(),
            MaybeUndefined::Value(rules) => d.ip_whitelist_rules = rules,
        }
        set(
            self.allow_aws_ips,
            &mut d.allow_aws_ips,
            "input.allowAwsIps",
            same,
        )?;
        set(self.features, &mut d.features, "input.features", |f| {
            Ok(f.into())
        })?;
        Ok(())
    }
}

/// Narrows `accounts`; all fields optional, combined with AND.
#[derive(InputObject, Default)]
pub struct AccountFilterInput {
    /// Only this customer's accounts.
    customer_id: Option<ID>,
    /// Only accounts on this pricing tier.
    pricing_tier_id: Option<ID>,
    /// Only active (`true`) or inactive (`false`) accounts.
    is_active: Option<bool>,
    /// Only postpaid (`true`) or prepaid (`false`) accounts.
    postpaid: Option<bool>,
    /// Only masters or only sub-accounts.
    #[graphql(name = "type")]
    kind: Option<AccountType>,
    /// Text (at least 2 characters) found in the name, email, company or
    /// authId; case- and accent-insensitive.
    search: Option<String>,
}

/// Longest accepted search text.
const MAX_SEARCH_LEN: usize = 100;

impl AccountFilterInput {
    /// Validates the filter.
    pub fn parse(self) -> Result<AccountFilter, ApiError> {
        let search = self
            .search
            .map(|text| {
                let key = search_key(&text);
                let length = key.chars().count();
                if (2..=MAX_SEARCH_LEN).contains(&length) {
                    Ok(key)
                } else {
                    Err(ApiError::bad_input(
                        "filter.search",
                        format!("must have between 2 and {MAX_SEARCH_LEN} characters"),
                    ))
                }
            })
            .transpose()?;
        Ok(AccountFilter {
            customer_id: optional_id(self.customer_id.as_ref(), "filter.customerId")?,
            pricing_tier_id: optional_id(self.pricing_tier_id.as_ref(), "filter.pricingTierId")?,
            is_active: self.is_active,
            postpaid: self.postpaid,
            account_type: self.kind.map(Into::into),
            search,
            parent_account_id: None,
        })
    }
}
