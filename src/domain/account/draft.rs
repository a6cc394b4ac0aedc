//! What a client sent for an account, before [`super::AccountProfile::parse`]
//! checks it; an update starts from the stored profile turned back into a
//! draft.

use rust_decimal::Decimal;

use super::{
    AccountCustomerType, AccountProfile, AccountRole, CarrierType, DEFAULT_BASE_CONCURRENT_CALLS,
    DEFAULT_BASE_CPS, DEFAULT_PLAN, Features, RiskStatus,
};

/// Raw auto-recharge settings as a client sends them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AutoRechargeDraft {
    /// Raw threshold.
    pub threshold: Decimal,
    /// Raw amount.
    pub amount: Decimal,
}

/// An account profile as a client sends it, before validation. Enums
/// arrive typed from the edge; text and numbers are raw.
#[expect(
    clippy::struct_excessive_bools,
    reason = "the seeds' switches are independent booleans"
)]
#[derive(Debug, Clone)]
pub struct AccountDraft {
    /// Raw name.
    pub name: String,
    /// Raw email.
    pub email: String,
    /// Raw phone.
    pub phone: Option<String>,
    /// Raw description.
    pub description: Option<String>,
    /// Raw company.
    pub company: Option<String>,
    /// Raw address.
    pub address: Option<String>,
    /// Raw city.
    pub city: Option<String>,
    /// Raw state.
    pub state: Option<String>,
    /// Raw postal code.
    pub zip_code: Option<String>,
    /// Raw country code.
    pub country: Option<String>,
    /// Raw time zone.
    pub timezone: Option<String>,
    /// Raw plan label.
    pub account_type: String,
    /// Billing-model flag.
    pub postpaid: bool,
    /// Automatic top-ups.
    pub auto_recharge: bool,
    /// Whether the client set `autoRecharge` in this request (an explicit
    /// `true` on a postpaid account is refused; a stored one is cleared).
    pub auto_recharge_given: bool,
    /// Top-up settings.
    pub auto_recharge_config: Option<AutoRechargeDraft>,
    /// Whether the client set `autoRechargeConfig` in this request (an
    /// explicit one where it does not apply is refused; a stored one is
    /// cleared).
    pub auto_recharge_config_given: bool,
    /// Enabled.
    pub enabled: bool,
    /// Whether the platform switched the account off (see
    /// [`super::AccountProfile::platform_hold`]); never client input.
    pub platform_hold: bool,
    /// Active.
    pub is_active: bool,
    /// Verified.
    pub is_verified: bool,
    /// Trial.
    pub is_trial_account: bool,
    /// Role.
    pub role: AccountRole,
    /// Carrier kind.
    pub carrier_type: Option<CarrierType>,
    /// Customer size class.
    pub customer_type: Option<AccountCustomerType>,
    /// Raw credit limit.
    pub credit_limit: Decimal,
    /// Raw base CPS.
    pub base_cps_limit: i64,
    /// Raw base concurrent calls.
    pub base_concurrent_calls_limit: i64,
    /// Raw purchased CPS.
    pub purchased_cps: i64,
    /// Raw purchased concurrent calls.
    pub purchased_concurrent_calls: i64,
    /// Raw risk rating.
    pub risk_rating: i64,
    /// Risk status.
    pub risk_status: RiskStatus,
    /// IP authentication.
    pub ip_auth_enabled: bool,
    /// Raw allow-list rules.
    pub ip_whitelist_rules: Vec<String>,
    /// Allow AWS IPs.
    pub allow_aws_ips: bool,
    /// Features.
    pub features: Features,
}

impl AccountDraft {
    /// A draft with the defaults for everything optional.
    pub fn new(name: String, email: String) -> Self {
        Self {
            name,
            email,
            phone: None,
            description: None,
            company: None,
            address: None,
            city: None,
            state: None,
            zip_code: None,
            country: None,
            timezone: None,
            account_type: DEFAULT_PLAN.to_owned(),
            postpaid: false,
            auto_recharge: false,
            auto_recharge_given: false,
            auto_recharge_config: None,
            auto_recharge_config_given: false,
            enabled: true,
            platform_hold: false,
            is_active: true,
            is_verified: false,
            is_trial_account: false,
            role: AccountRole::Admin,
            carrier_type: None,
            customer_type: None,
            credit_limit: Decimal::ZERO,
            base_cps_limit: i64::from(DEFAULT_BASE_CPS),
            base_concurrent_calls_limit: i64::from(DEFAULT_BASE_CONCURRENT_CALLS),
            purchased_cps: 0,
            purchased_concurrent_calls: 0,
            risk_rating: 0,
            risk_status: RiskStatus::Normal,
            ip_auth_enabled: false,
            ip_whitelist_rules: Vec::new(),
            allow_aws_ips: false,
            features: Features::default(),
        }
    }
}

impl From<&AccountProfile> for AccountDraft {
    fn from(p: &AccountProfile) -> Self {
        Self {
            name: p.name.clone(),
            email: p.email.clone(),
            phone: p.phone.clone(),
            description: p.description.clone(),
            company: p.company.clone(),
            address: p.address.clone(),
            city: p.city.clone(),
            state: p.state.clone(),
            zip_code: p.zip_code.clone(),
            country: p.country.clone(),
            timezone: p.timezone.clone(),
            account_type: p.account_type.clone(),
            postpaid: p.postpaid,
            auto_recharge: p.auto_recharge,
            auto_recharge_given: false,
            auto_recharge_config: p.auto_recharge_config.map(|c| AutoRechargeDraft {
                threshold: c.threshold,
                amount: c.amount,
            }),
            auto_recharge_config_given: false,
            enabled: p.enabled,
            platform_hold: p.platform_hold,
            is_active: p.is_active,
            is_verified: p.is_verified,
            is_trial_account: p.is_trial_account,
            role: p.role,
            carrier_type: p.carrier_type,
            customer_type: p.customer_type,
            credit_limit: p.credit_limit,
            base_cps_limit: i64::from(p.base_cps_limit),
            base_concurrent_calls_limit: i64::from(p.base_concurrent_calls_limit),
            purchased_cps: i64::from(p.purchased_cps),
            purchased_concurrent_calls: i64::from(p.purchased_concurrent_calls),
            risk_rating: i64::from(p.risk_rating),
            risk_status: p.risk_status,
            ip_auth_enabled: p.ip_auth_enabled,
            ip_whitelist_rules: p.ip_whitelist_rules.clone(),
            allow_aws_ips: p.allow_aws_ips,
            features: p.features,
        }
    }
}
