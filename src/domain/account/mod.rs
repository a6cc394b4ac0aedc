//! Accounts: what a customer's telephony traffic runs on, with the rules
//! of both account documents as the accounts issue settles them.
//!
//! An [`AccountDraft`] holds what a client sent; [`AccountProfile::parse`]
//! is the one place every rule is checked. An update turns the stored
//! profile back into a draft, applies the patch and parses the result, so
//! the billing-model rules hold after every write.
//!
//! Derived values (`cpsLimit`, `concurrentCallsLimit`, `billingModel`) are
//! computed from the stored inputs on read and never stored, so they cannot
//! disagree with them.
//!
//! `kinds.rs` holds the closed sets and value objects, `draft.rs` the raw
//! input; the rules and the stored shape live here.

pub mod controls;
mod draft;
mod kinds;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use draft::{AccountDraft, AutoRechargeDraft};
pub use kinds::{
    AccountCustomerType, AccountRole, AccountType, AutoRechargeConfig, BillingModel, CarrierType,
    Features, RiskStatus,
};

use super::InvalidInput;
use super::country::parse_country;
use super::customer::parse_amount;
use super::email::parse_email;
use super::error::AtField;
use super::ip::parse_ip_rule;
use super::phone::parse_e164;
use super::text::{clean_text, optional, optional_text};
use super::timezone::parse_timezone;

/// Longest account name.
pub const MAX_NAME_LEN: usize = 100;
/// Longest plan label (`accountType`).
pub const MAX_PLAN_LEN: usize = 40;
/// Longest description.
pub const MAX_DESCRIPTION_LEN: usize = 500;
/// Longest company name or address line.
pub const MAX_COMPANY_LEN: usize = 200;
/// Longest city or state.
pub const MAX_PLACE_LEN: usize = 100;
/// Longest postal code.
pub const MAX_ZIP_LEN: usize = 20;
/// Largest value of each limit input (base and purchased CPS and calls).
pub const MAX_LIMIT: u32 = 100_000;
/// Highest risk rating.
pub const MAX_RISK_RATING: u8 = 100;
/// Most IP allow-list rules.
pub const MAX_IP_RULES: usize = 100;
/// Plan label of a new account when none is given (the first seed's
/// example).
pub const DEFAULT_PLAN: &str = "standard";
/// Base CPS of a new account when none is given (the second seed's example).
pub const DEFAULT_BASE_CPS: u32 = 5;
/// Base concurrent calls of a new account when none is given (the second
/// seed's example).
pub const DEFAULT_BASE_CONCURRENT_CALLS: u32 = 25;

/// Everything about an account that clients set, validated. The stored
/// item flattens it, so these are also the item's attribute names.
#[expect(
    clippy::struct_excessive_bools,
    reason = "the seeds' switches are independent booleans"
)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountProfile {
    /// Name of the account or company.
    pub name: String,
    /// Contact email (validated like customers', not unique).
    pub email: String,
    /// Primary phone in E.164.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Notes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Full legal company name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    /// Street address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// City.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// State or province.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Postal code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zip_code: Option<String>,
    /// ISO 3166-1 alpha-2 country.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// IANA time zone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// Free plan label, e.g. `standard`.
    pub account_type: String,
    /// The authoritative billing-model flag.
    pub postpaid: bool,
    /// Automatic top-ups (prepaid only).
    pub auto_recharge: bool,
    /// Top-up settings; only while prepaid with `auto_recharge` on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_recharge_config: Option<AutoRechargeConfig>,
    /// Generally enabled for service.
    pub enabled: bool,
    /// The platform switched the account off (`enabled` or `isActive`
    /// false): only the platform may switch it on again. Set and cleared
    /// by the edge from the caller's role, never from client input.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub platform_hold: bool,
    /// Currently active.
    pub is_active: bool,
    /// Identity verified.
    pub is_verified: bool,
    /// Trial account.
    pub is_trial_account: bool,
    /// Role of the associated user.
    pub role: AccountRole,
    /// Carrier service kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carrier_type: Option<CarrierType>,
    /// Customer size class.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_type: Option<AccountCustomerType>,
    /// Credit line, ≥ 0.
    pub credit_limit: Decimal,
    /// Base calls per second.
    pub base_cps_limit: u32,
    /// Base concurrent calls.
    pub base_concurrent_calls_limit: u32,
    /// Purchased extra calls per second.
    pub purchased_cps: u32,
    /// Purchased extra concurrent calls.
    pub purchased_concurrent_calls: u32,
    /// Risk score 0–100.
    pub risk_rating: u8,
    /// Risk status.
    pub risk_status: RiskStatus,
    /// IP authentication for API access.
    pub ip_auth_enabled: bool,
    /// Allowed addresses and CIDR blocks, canonical and distinct.
    pub ip_whitelist_rules: Vec<String>,
    /// Allow AWS IP ranges.
    pub allow_aws_ips: bool,
    /// Optional features.
    pub features: Features,
}

impl AccountProfile {
    /// Effective calls per second: base plus purchased.
    pub fn cps_limit(&self) -> u64 {
        u64::from(self.base_cps_limit) + u64::from(self.purchased_cps)
    }

    /// Effective concurrent calls: base plus purchased.
    pub fn concurrent_calls_limit(&self) -> u64 {
        u64::from(self.base_concurrent_calls_limit) + u64::from(self.purchased_concurrent_calls)
    }

    /// Prepaid or postpaid, from `postpaid`.
    pub fn billing_model(&self) -> BillingModel {
        BillingModel::of(self.postpaid)
    }
}

/// A stored account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// UUIDv7 identifier.
    pub id: Uuid,
    /// Internal API reference (a random UUID, fixed at creation).
    pub api_id: Uuid,
    /// The customer the account belongs to (fixed).
    pub customer_id: Uuid,
    /// Master or sub-account (fixed).
    pub account_type: AccountType,
    /// The master of a sub-account (fixed).
    pub parent_account_id: Option<Uuid>,
    /// The tier the account is billed on.
    pub pricing_tier_id: Uuid,
    /// The public credential id.
    pub auth_id: String,
    /// When the current auth secret stops working; `None` for never.
    pub auth_token_expire_time: Option<DateTime<Utc>>,
    /// The client-set profile.
    pub profile: AccountProfile,
    /// Sub-accounts under this master.
    pub sub_account_count: u64,
    /// Last successful credential check.
    pub last_login: Option<DateTime<Utc>>,
    /// The address of the request that created it, as the gateway saw it.
    pub created_by_ip: Option<String>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Optimistic-locking version.
    pub version: u64,
}

fn limit(value: i64, field: &str) -> Result<u32, InvalidInput> {
    u32::try_from(value)
        .ok()
        .filter(|v| *v <= MAX_LIMIT)
        .ok_or_else(|| InvalidInput::new(field, format!("must be between 0 and {MAX_LIMIT}")))
}

fn positive_amount(value: Decimal, field: &str) -> Result<Decimal, InvalidInput> {
    let value = parse_amount(value).at_field(field)?;
    if value.is_zero() {
        return Err(InvalidInput::new(field, "must be greater than 0"));
    }
    Ok(value)
}

fn parse_ip_rules(raw: &[String]) -> Result<Vec<String>, InvalidInput> {
    if raw.len() > MAX_IP_RULES {
        return Err(InvalidInput::new(
            "ipWhitelistRules",
            format!("must have at most {MAX_IP_RULES} entries"),
        ));
    }
    let mut rules: Vec<String> = Vec::with_capacity(raw.len());
    for (i, item) in raw.iter().enumerate() {
        let field = format!("ipWhitelistRules[{i}]");
        let rule = parse_ip_rule(item).map_err(|m| InvalidInput::new(field.clone(), m))?;
        if rules.contains(&rule) {
            return Err(InvalidInput::new(
                field,
                format!("`{rule}` is listed twice (after normalisation)"),
            ));
        }
        rules.push(rule);
    }
    Ok(rules)
}

impl AccountProfile {
    /// Checks every rule, naming the first field that breaks one.
    ///
    /// Billing model: `autoRecharge` and `autoRechargeConfig` belong to
    /// prepaid accounts. Given explicitly where they do not apply they are
    /// refused; carried over from the stored account (the account became
    /// postpaid, or `autoRecharge` was turned off) they are cleared.
    pub fn parse(d: AccountDraft) -> Result<Self, InvalidInput> {
        if d.postpaid && d.auto_recharge && d.auto_recharge_given {
            return Err(InvalidInput::new(
                "autoRecharge",
                "applies only to prepaid accounts (postpaid: false)",
            ));
        }
        let auto_recharge = d.auto_recharge && !d.postpaid;
        let auto_recharge_config = match d.auto_recharge_config {
            Some(config) if auto_recharge => Some(AutoRechargeConfig {
                threshold: positive_amount(config.threshold, "autoRechargeConfig.threshold")?,
                amount: positive_amount(config.amount, "autoRechargeConfig.amount")?,
            }),
            Some(_) if d.auto_recharge_config_given => {
                return Err(InvalidInput::new(
                    "autoRechargeConfig",
                    "is accepted only for prepaid accounts with autoRecharge on",
                ));
            }
            _ => None,
        };
        let risk_rating = u8::try_from(d.risk_rating)
            .ok()
            .filter(|r| *r <= MAX_RISK_RATING)
            .ok_or_else(|| {
                InvalidInput::new(
                    "riskRating",
                    format!("must be between 0 and {MAX_RISK_RATING}"),
                )
            })?;
        Ok(Self {
            name: clean_text(&d.name, 1, MAX_NAME_LEN).at_field("name")?,
            email: parse_email(&d.email).at_field("email")?,
            phone: optional(d.phone, parse_e164, "phone")?,
            description: optional_text(d.description, MAX_DESCRIPTION_LEN, "description")?,
            company: optional_text(d.company, MAX_COMPANY_LEN, "company")?,
            address: optional_text(d.address, MAX_COMPANY_LEN, "address")?,
            city: optional_text(d.city, MAX_PLACE_LEN, "city")?,
            state: optional_text(d.state, MAX_PLACE_LEN, "state")?,
            zip_code: optional_text(d.zip_code, MAX_ZIP_LEN, "zipCode")?,
            country: optional(d.country, parse_country, "country")?,
            timezone: optional(d.timezone, parse_timezone, "timezone")?,
            account_type: clean_text(&d.account_type, 1, MAX_PLAN_LEN).at_field("accountType")?,
            postpaid: d.postpaid,
            auto_recharge,
            auto_recharge_config,
            enabled: d.enabled,
            platform_hold: d.platform_hold,
            is_active: d.is_active,
            is_verified: d.is_verified,
            is_trial_account: d.is_trial_account,
            role: d.role,
            carrier_type: d.carrier_type,
            customer_type: d.customer_type,
            credit_limit: parse_amount(d.credit_limit).at_field("creditLimit")?,
            base_cps_limit: limit(d.base_cps_limit, "baseCpsLimit")?,
            base_concurrent_calls_limit: limit(
                d.base_concurrent_calls_limit,
                "baseConcurrentCallsLimit",
            )?,
            purchased_cps: limit(d.purchased_cps, "purchasedCps")?,
            purchased_concurrent_calls: limit(
                d.purchased_concurrent_calls,
                "purchasedConcurrentCalls",
            )?,
            risk_rating,
            risk_status: d.risk_status,
            ip_auth_enabled: d.ip_auth_enabled,
            ip_whitelist_rules: parse_ip_rules(&d.ip_whitelist_rules)?,
            allow_aws_ips: d.allow_aws_ips,
            features: d.features,
        })
    }

    /// The text `accounts(filter: {search})` matches: name, email, company
    /// and authId, folded like customer search (lower case, ASCII).
    pub fn search_text(&self, auth_id: &str) -> String {
        [
            Some(self.name.as_str()),
            Some(self.email.as_str()),
            self.company.as_deref(),
            Some(auth_id),
        ]
        .into_iter()
        .flatten()
        .map(super::customer::search_key)
        .collect::<Vec<_>>()
        .join("\n")
    }
}

/// An account to be created.
#[derive(Debug, Clone)]
pub struct NewAccount {
    /// The owning customer.
    pub customer_id: Uuid,
    /// Master or sub-account.
    pub account_type: AccountType,
    /// The master, for a sub-account.
    pub parent_account_id: Option<Uuid>,
    /// The tier; `None` for the default tier.
    pub pricing_tier_id: Option<Uuid>,
    /// Validated profile.
    pub profile: AccountProfile,
}

impl NewAccount {
    /// Validates a new account: a sub-account names its master, a master
    /// names none.
    pub fn parse(
        customer_id: Uuid,
        account_type: AccountType,
        parent_account_id: Option<Uuid>,
        pricing_tier_id: Option<Uuid>,
        draft: AccountDraft,
    ) -> Result<Self, InvalidInput> {
        match (account_type, parent_account_id) {
            (AccountType::SubAccount, None) => {
                return Err(InvalidInput::new(
                    "parentAccountId",
                    "is required for a SUB_ACCOUNT",
                ));
            }
            (AccountType::Master, Some(_)) => {
                return Err(InvalidInput::new(
                    "parentAccountId",
                    "must be omitted for a MASTER account",
                ));
            }
            _ => {}
        }
        Ok(Self {
            customer_id,
            account_type,
            parent_account_id,
            pricing_tier_id,
            profile: AccountProfile::parse(draft)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> AccountDraft {
        AccountDraft::new("Acme".into(), "ops@acme.example".into())
    }

    #[test]
    fn defaults_parse_and_limits_are_derived() {
        let mut d = draft();
        d.purchased_cps = 7;
        d.purchased_concurrent_calls = 5;
        let p = AccountProfile::parse(d).unwrap();
        assert_eq!(p.cps_limit(), 12);
        assert_eq!(p.concurrent_calls_limit(), 30);
        assert_eq!(p.billing_model(), BillingModel::Prepaid);
        assert_eq!(p.account_type, "standard");
    }

    #[test]
    fn limits_and_ratings_are_bounded() {
        for (field, set) in [
            (
                "baseCpsLimit",
                (|d: &mut AccountDraft| d.base_cps_limit = 100_001) as fn(&mut AccountDraft),
            ),
            ("purchasedCps", |d| d.purchased_cps = -1),
            ("riskRating", |d| d.risk_rating = 101),
        ] {
            let mut d = draft();
            set(&mut d);
            assert_eq!(AccountProfile::parse(d).unwrap_err().field, field);
        }
    }

    #[test]
    fn auto_recharge_config_follows_the_billing_model() {
        let config = Some(AutoRechargeDraft {
            threshold: Decimal::new(10, 0),
            amount: Decimal::new(50, 0),
        });
        let mut d = draft();
        d.auto_recharge = true;
        d.auto_recharge_config = config;
        d.auto_recharge_config_given = true;
        assert!(
            AccountProfile::parse(d.clone())
                .unwrap()
                .auto_recharge_config
                .is_some()
        );

        let mut postpaid = d.clone();
        postpaid.postpaid = true;
        postpaid.auto_recharge_given = false;
        assert_eq!(
            AccountProfile::parse(postpaid).unwrap_err().field,
            "autoRechargeConfig"
        );

        // Carried over from the stored account: cleared, not refused.
        let stored = AccountProfile::parse(d).unwrap();
        let mut switch = AccountDraft::from(&stored);
        switch.postpaid = true;
        let p = AccountProfile::parse(switch).unwrap();
        assert!(!p.auto_recharge && p.auto_recharge_config.is_none());

        let mut zero = draft();
        zero.auto_recharge = true;
        zero.auto_recharge_config = Some(AutoRechargeDraft {
            threshold: Decimal::ZERO,
            amount: Decimal::ONE,
        });
        zero.auto_recharge_config_given = true;
        assert_eq!(
            AccountProfile::parse(zero).unwrap_err().field,
            "autoRechargeConfig.threshold"
        );
    }

    #[test]
    fn ip_rules_are_normalised_and_unique() {
        let mut d = draft();
        d.ip_whitelist_rules = vec!["10.1.2.3/8".into(), "10.0.0.0/8".into()];
        assert_eq!(
            AccountProfile::parse(d).unwrap_err().field,
            "ipWhitelistRules[1]"
        );
    }

    #[test]
    fn sub_accounts_need_a_parent_and_masters_have_none() {
        let customer = Uuid::now_v7();
        let err =
            NewAccount::parse(customer, AccountType::SubAccount, None, None, draft()).unwrap_err();
        assert_eq!(err.field, "parentAccountId");
        let err = NewAccount::parse(
            customer,
            AccountType::Master,
            Some(Uuid::now_v7()),
            None,
            draft(),
        )
        .unwrap_err();
        assert_eq!(err.field, "parentAccountId");
    }
}
