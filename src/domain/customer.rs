//! Customers: the top-level entity, with the profile rules of both seed
//! documents (the telephony platform's billing flags and defaults, and the
//! profile guide's status rules, addresses, telephones and documents).
//!
//! A [`CustomerDraft`] holds what a client sent; [`CustomerProfile::parse`]
//! is the one place every rule is checked. An update turns the stored
//! profile back into a draft, applies the patch and parses the result, so
//! cross-field rules hold after every write, not only at creation.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::InvalidInput;
use super::country::parse_country;
use super::currency::CurrencyCode;
use super::email::parse_email;
use super::error::AtField;
use super::language::parse_language;
use super::legal_document::{LegalDocument, LegalDocumentDraft};
use super::metadata::{parse_metadata, parse_settings};
use super::password::Password;
use super::phone::parse_e164;
use super::text::clean_text;
use super::web::{parse_hostname, parse_origin, parse_subdomain, parse_web_url, slugify};

/// Longest first or last name.
pub const MAX_NAME_LEN: usize = 100;
/// Longest company name.
pub const MAX_COMPANY_LEN: usize = 200;
/// Longest free-text identifier (`externalId`, `tenantId`).
pub const MAX_IDENTIFIER_LEN: usize = 100;
/// Longest address line or other address part.
pub const MAX_ADDRESS_PART_LEN: usize = 200;
/// Most entries in each list of the extended profile.
pub const MAX_LIST_LEN: usize = 20;
/// Most allowed domains in each list.
pub const MAX_DOMAINS: usize = 100;
/// Largest money amount: the seed's "32 bit integer" bound.
pub const MAX_AMOUNT: Decimal = Decimal::from_parts(2_147_483_647, 0, 0, false, 0);
/// Decimal places a money amount may carry.
pub const MAX_AMOUNT_SCALE: u32 = 4;
/// Length of a generated customer key.
pub const CUSTOMER_KEY_LEN: usize = 10;

/// Business or person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CustomerType {
    /// A company; `companyName` is required.
    Business,
    /// A person.
    Personal,
}

/// Lifecycle status. See [`CustomerStatus::can_become`] for the transitions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CustomerStatus {
    /// Uses its resources and accesses the platform.
    Active,
    /// Its users lose access; its resources stay.
    Inactive,
    /// Cannot get new resources (accounts, users) but keeps access.
    Suspended,
    /// Flagged as fraudulent: no new resources, no access.
    Fraud,
    /// Final: every account is inactive and disabled; may be deleted.
    Terminated,
}

impl CustomerStatus {
    /// Every status, for listings and tests.
    pub const ALL: [Self; 5] = [
        Self::Active,
        Self::Inactive,
        Self::Suspended,
        Self::Fraud,
        Self::Terminated,
    ];

    /// The allowed transitions:
    /// - `ACTIVE`, `INACTIVE` and `SUSPENDED` may move among themselves and
    ///   to `FRAUD` or `TERMINATED`;
    /// - `FRAUD` may only be cleared to `SUSPENDED` (for review) or
    ///   `TERMINATED`;
    /// - `TERMINATED` is final.
    pub fn can_become(self, next: Self) -> bool {
        use CustomerStatus::{Active, Fraud, Inactive, Suspended, Terminated};
        match self {
            Active | Inactive | Suspended => next != self,
            Fraud => matches!(next, Suspended | Terminated),
            Terminated => false,
        }
    }

    /// Whether new accounts and users may be added (not while `SUSPENDED`,
    /// `FRAUD` or `TERMINATED`).
    pub fn accepts_new_resources(self) -> bool {
        matches!(self, Self::Active | Self::Inactive)
    }

    /// Whether the customer's users may access the platform.
    pub fn grants_access(self) -> bool {
        matches!(self, Self::Active | Self::Suspended)
    }

    /// The wire name, as stored and as in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "ACTIVE",
            Self::Inactive => "INACTIVE",
            Self::Suspended => "SUSPENDED",
            Self::Fraud => "FRAUD",
            Self::Terminated => "TERMINATED",
        }
    }
}

/// How the customer's usage is paid by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BillMethod {
    /// From prepaid credit (the seed's default).
    Credit,
    /// From a stored payment method.
    PaymentMethod,
}

/// Kind of address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AddressType {
    /// Where post is sent.
    Postal,
    /// Where invoices are addressed.
    Billing,
}

/// Kind of telephone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TelephoneType {
    /// A fixed line.
    Landline,
    /// A mobile phone.
    Mobile,
}

/// A validated address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    /// Postal or billing (`None` only in drafts).
    pub address_type: Option<AddressType>,
    /// The default address of its type.
    pub default: bool,
    /// ISO 3166-1 alpha-2 country.
    pub country: String,
    /// State or province.
    pub state: Option<String>,
    /// Postal code.
    pub postal_code: Option<String>,
    /// City.
    pub city: Option<String>,
    /// First line.
    pub address_line1: Option<String>,
    /// Second line.
    pub address_line2: Option<String>,
    /// PO box.
    pub po_box: Option<String>,
    /// Building number.
    pub building_number: Option<String>,
    /// Complement (apartment, suite).
    pub complement: Option<String>,
}

/// A validated telephone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Telephone {
    /// Landline or mobile (`None` only in drafts).
    pub telephone_type: Option<TelephoneType>,
    /// The default telephone of its type.
    pub default: bool,
    /// Number in E.164.
    pub number: String,
    /// Extension digits.
    pub extension: Option<String>,
}

/// Billing settings, with the telephony model's defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Billing {
    /// Prepaid credit (default 0).
    pub credit: Decimal,
    /// Top-up amount for automatic refills (default 0).
    pub automatic_refill_amount: Decimal,
    /// Balance below which an alert is sent (default 0).
    pub low_balance_alert_amount: Decimal,
    /// Default bill method (default `CREDIT`).
    pub default_bill_method: BillMethod,
}

/// Telephony switches and numbers, with the telephony model's defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[expect(
    clippy::struct_excessive_bools,
    reason = "the seed's switches are independent booleans"
)]
pub struct Telephony {
    /// International calling allowed (default false).
    pub international_calling: bool,
    /// Media bypass (default false).
    pub media_bypass: bool,
    /// Account lock (default true).
    pub account_lock: bool,
    /// Call recording (default false).
    pub call_recording: bool,
    /// CNAM look-ups (default false).
    pub cnam_look_ups: bool,
    /// Hold music (default false).
    pub hold_music: bool,
    /// Call transcription (default false).
    pub transcribe_calls: bool,
    /// Call debugging (default false).
    pub call_debug: bool,
    /// Months call records are kept (default 12).
    pub cdr_retention: u32,
    /// Outbound calls per second (default 1).
    pub max_outbound_call_rate: u32,
    /// Limit of forwarded calls, if any.
    pub call_forwarding_call_limit: Option<u32>,
}

impl Default for Billing {
    fn default() -> Self {
        Self {
            credit: Decimal::ZERO,
            automatic_refill_amount: Decimal::ZERO,
            low_balance_alert_amount: Decimal::ZERO,
            default_bill_method: BillMethod::Credit,
        }
    }
}

impl Default for Telephony {
    fn default() -> Self {
        Self {
            international_calling: false,
            media_bypass: false,
            account_lock: true,
            call_recording: false,
            cnam_look_ups: false,
            hold_music: false,
            transcribe_calls: false,
            call_debug: false,
            cdr_retention: 12,
            max_outbound_call_rate: 1,
            call_forwarding_call_limit: None,
        }
    }
}

/// The users who hold the customer's roles; each must be a user of the
/// customer (the store checks membership in the same transaction).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleUsers {
    /// Administrative contact.
    pub admin_user: Option<Uuid>,
    /// Billing contact.
    pub billing_user: Option<Uuid>,
    /// Receives call recordings.
    pub call_recording_user: Option<Uuid>,
    /// Support contact.
    pub support_user: Option<Uuid>,
}

impl RoleUsers {
    /// Each role with its API field name.
    pub fn named(&self) -> [(&'static str, Option<Uuid>); 4] {
        [
            ("adminUser", self.admin_user),
            ("billingUser", self.billing_user),
            ("callRecordingUser", self.call_recording_user),
            ("supportUser", self.support_user),
        ]
    }
}

/// Everything about a customer that clients set, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerProfile {
    /// Business or person.
    pub customer_type: CustomerType,
    /// Main contact's first name.
    pub first_name: String,
    /// Main contact's last name.
    pub last_name: String,
    /// Primary email, unique among customers (case-insensitive).
    pub email: String,
    /// Company name; required for businesses.
    pub company_name: Option<String>,
    /// ISO 3166-1 alpha-2 country.
    pub country: String,
    /// Preferred currency.
    pub currency: CurrencyCode,
    /// Preferred language (BCP 47).
    pub language: Option<String>,
    /// Identifier in another system (CRM, billing).
    pub external_id: Option<String>,
    /// Tenant (not in use yet, per the guide).
    pub tenant_id: Option<String>,
    /// Short, non-unique prefix for invoice numbers and the like.
    pub customer_prefix: Option<String>,
    /// Custom domain, unique among customers.
    pub hostname: Option<String>,
    /// Subdomain label, unique; `None` only before creation, when one is
    /// generated.
    pub subdomain: Option<String>,
    /// Delinquency flag (not acted on yet, per the guide).
    pub delinquent: bool,
    /// Website.
    pub website_url: Option<String>,
    /// Logo URL.
    pub logo: Option<String>,
    /// Billing settings.
    pub billing: Billing,
    /// Telephony settings.
    pub telephony: Telephony,
    /// Users holding the customer's roles.
    pub role_users: RoleUsers,
    /// Addresses; at most one default per type.
    pub addresses: Vec<Address>,
    /// Telephones; at most one default per type.
    pub telephones: Vec<Telephone>,
    /// Legal documents.
    pub legal_documents: Vec<LegalDocument>,
    /// Origins allowed for CORS.
    pub allowed_domains_origins: Vec<String>,
    /// Email domains allowed for user registration.
    pub allowed_domains_registration: Vec<String>,
    /// Recognised settings only.
    pub settings: Map<String, Value>,
    /// Free-form metadata.
    pub metadata: Map<String, Value>,
}

/// A stored customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Customer {
    /// UUIDv7 identifier.
    pub id: Uuid,
    /// The client-set profile.
    pub profile: CustomerProfile,
    /// Lifecycle status.
    pub status: CustomerStatus,
    /// Why the status last changed.
    pub status_reason: Option<String>,
    /// Short random key, unique, generated at creation.
    pub customer_key: String,
    /// The one owner user.
    pub owner_user_id: Uuid,
    /// When the last low-balance alert was sent (read-only).
    pub low_balance_alert_at: Option<DateTime<Utc>>,
    /// How many low-balance alerts were sent (read-only).
    pub low_balance_alert_count: u32,
    /// Whether a deletion started and has not finished; such a customer is
    /// only listed for operators, who finish it by deleting it again.
    pub deleting: bool,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Optimistic-locking version.
    pub version: u64,
}

impl Customer {
    /// The subdomain (always set once created).
    pub fn subdomain(&self) -> &str {
        self.profile.subdomain.as_deref().unwrap_or_default()
    }
}

/// An address as a client sends it.
pub type AddressDraft = Address;
/// A telephone as a client sends it (number not yet normalised).
pub type TelephoneDraft = Telephone;

/// A customer profile as a client sends it, before validation. Enum and
/// id fields arrive already typed from the edge; text is raw.
#[derive(Debug, Clone)]
pub struct CustomerDraft {
    /// See [`CustomerProfile::customer_type`].
    pub customer_type: CustomerType,
    /// Raw first name.
    pub first_name: String,
    /// Raw last name.
    pub last_name: String,
    /// Raw email.
    pub email: String,
    /// Raw company name.
    pub company_name: Option<String>,
    /// Raw country code.
    pub country: String,
    /// Raw currency code.
    pub currency: String,
    /// Raw language tag.
    pub language: Option<String>,
    /// Raw external id.
    pub external_id: Option<String>,
    /// Raw tenant id.
    pub tenant_id: Option<String>,
    /// Raw prefix.
    pub customer_prefix: Option<String>,
    /// Raw hostname.
    pub hostname: Option<String>,
    /// Raw subdomain; `None` to generate one.
    pub subdomain: Option<String>,
    /// Delinquency flag.
    pub delinquent: bool,
    /// Raw website URL.
    pub website_url: Option<String>,
    /// Raw logo URL.
    pub logo: Option<String>,
    /// Billing values, unchecked.
    pub billing: Billing,
    /// Raw retention in months.
    pub cdr_retention: i64,
    /// Raw outbound rate.
    pub max_outbound_call_rate: i64,
    /// Raw forwarding limit.
    pub call_forwarding_call_limit: Option<i64>,
    /// Switches (numbers above are replaced by the checked ones).
    pub telephony: Telephony,
    /// Role users.
    pub role_users: RoleUsers,
    /// Raw addresses.
    pub addresses: Vec<AddressDraft>,
    /// Raw telephones.
    pub telephones: Vec<TelephoneDraft>,
    /// Raw legal documents.
    pub legal_documents: Vec<LegalDocumentDraft>,
    /// Raw origins.
    pub allowed_domains_origins: Vec<String>,
    /// Raw registration domains.
    pub allowed_domains_registration: Vec<String>,
    /// Raw settings.
    pub settings: Value,
    /// Raw metadata.
    pub metadata: Value,
}

impl CustomerDraft {
    /// A draft with the seed's defaults for everything optional.
    pub fn new(
        customer_type: CustomerType,
        first_name: String,
        last_name: String,
        email: String,
        country: String,
        currency: String,
    ) -> Self {
        let telephony = Telephony::default();
        Self {
            customer_type,
            first_name,
            last_name,
            email,
            company_name: None,
            country,
            currency,
            language: None,
            external_id: None,
            tenant_id: None,
            customer_prefix: None,
            hostname: None,
            subdomain: None,
            delinquent: false,
            website_url: None,
            logo: None,
            billing: Billing::default(),
            cdr_retention: i64::from(telephony.cdr_retention),
            max_outbound_call_rate: i64::from(telephony.max_outbound_call_rate),
            call_forwarding_call_limit: None,
            telephony,
            role_users: RoleUsers::default(),
            addresses: Vec::new(),
            telephones: Vec::new(),
            legal_documents: Vec::new(),
            allowed_domains_origins: Vec::new(),
            allowed_domains_registration: Vec::new(),
            settings: Value::Object(Map::new()),
            metadata: Value::Object(Map::new()),
        }
    }
}

impl From<&CustomerProfile> for CustomerDraft {
    fn from(p: &CustomerProfile) -> Self {
        Self {
            customer_type: p.customer_type,
            first_name: p.first_name.clone(),
            last_name: p.last_name.clone(),
            email: p.email.clone(),
            company_name: p.company_name.clone(),
            country: p.country.clone(),
            currency: p.currency.code().to_owned(),
            language: p.language.clone(),
            external_id: p.external_id.clone(),
            tenant_id: p.tenant_id.clone(),
            customer_prefix: p.customer_prefix.clone(),
            hostname: p.hostname.clone(),
            subdomain: p.subdomain.clone(),
            delinquent: p.delinquent,
            website_url: p.website_url.clone(),
            logo: p.logo.clone(),
            billing: p.billing,
            cdr_retention: i64::from(p.telephony.cdr_retention),
            max_outbound_call_rate: i64::from(p.telephony.max_outbound_call_rate),
            call_forwarding_call_limit: p.telephony.call_forwarding_call_limit.map(i64::from),
            telephony: p.telephony,
            role_users: p.role_users,
            addresses: p.addresses.clone(),
            telephones: p.telephones.clone(),
            legal_documents: p
                .legal_documents
                .iter()
                .map(LegalDocumentDraft::from)
                .collect(),
            allowed_domains_origins: p.allowed_domains_origins.clone(),
            allowed_domains_registration: p.allowed_domains_registration.clone(),
            settings: Value::Object(p.settings.clone()),
            metadata: Value::Object(p.metadata.clone()),
        }
    }
}

fn optional_text(
    raw: Option<String>,
    max: usize,
    field: &str,
) -> Result<Option<String>, InvalidInput> {
    raw.map(|r| clean_text(&r, 0, max))
        .transpose()
        .at_field(field)
        .map(|t| t.filter(|t| !t.is_empty()))
}

fn optional<T>(
    raw: Option<String>,
    parse: impl Fn(&str) -> Result<T, String>,
    field: &str,
) -> Result<Option<T>, InvalidInput> {
    raw.filter(|r| !r.trim().is_empty())
        .map(|r| parse(&r))
        .transpose()
        .at_field(field)
}

/// Checks a money amount: 0 to 2 147 483 647, at most 4 decimals.
pub fn parse_amount(value: Decimal) -> Result<Decimal, String> {
    if value.is_sign_negative() && !value.is_zero() {
        return Err("must not be negative".into());
    }
    if value > MAX_AMOUNT {
        return Err(format!("must be at most {MAX_AMOUNT}"));
    }
    if value.normalize().scale() > MAX_AMOUNT_SCALE {
        return Err(format!(
            "must have at most {MAX_AMOUNT_SCALE} decimal places"
        ));
    }
    Ok(value.abs())
}

fn bounded(value: i64, min: u32, max: u32, field: &str) -> Result<u32, InvalidInput> {
    u32::try_from(value)
        .ok()
        .filter(|v| (min..=max).contains(v))
        .ok_or_else(|| InvalidInput::new(field, format!("must be between {min} and {max}")))
}

fn parse_prefix(raw: &str) -> Result<String, String> {
    let prefix = raw.trim();
    let valid = (1..=10).contains(&prefix.len())
        && prefix
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if valid {
        Ok(prefix.to_owned())
    } else {
        Err("must be 1–10 letters, digits or hyphens".into())
    }
}

fn check_list_len<T>(items: &[T], max: usize, field: &str) -> Result<(), InvalidInput> {
    if items.len() > max {
        return Err(InvalidInput::new(
            field,
            format!("must have at most {max} entries"),
        ));
    }
    Ok(())
}

fn parse_address(draft: &AddressDraft) -> Result<Address, InvalidInput> {
    let part = |value: &Option<String>, field: &str| {
        optional_text(value.clone(), MAX_ADDRESS_PART_LEN, field)
    };
    Ok(Address {
        address_type: Some(
            draft
                .address_type
                .ok_or_else(|| InvalidInput::new("addressType", "is required"))?,
        ),
        default: draft.default,
        country: parse_country(&draft.country).at_field("country")?,
        state: part(&draft.state, "state")?,
        postal_code: part(&draft.postal_code, "postalCode")?,
        city: part(&draft.city, "city")?,
        address_line1: part(&draft.address_line1, "addressLine1")?,
        address_line2: part(&draft.address_line2, "addressLine2")?,
        po_box: part(&draft.po_box, "poBox")?,
        building_number: part(&draft.building_number, "buildingNumber")?,
        complement: part(&draft.complement, "complement")?,
    })
}

fn parse_telephone(draft: &TelephoneDraft) -> Result<Telephone, InvalidInput> {
    let extension = optional(
        draft.extension.clone(),
        |raw| {
            let digits = raw.trim();
            if (1..=10).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
                Ok(digits.to_owned())
            } else {
                Err("must be 1–10 digits".to_owned())
            }
        },
        "extension",
    )?;
    Ok(Telephone {
        telephone_type: Some(
            draft
                .telephone_type
                .ok_or_else(|| InvalidInput::new("telephoneType", "is required"))?,
        ),
        default: draft.default,
        number: parse_e164(&draft.number).at_field("number")?,
        extension,
    })
}

/// Fails naming the second default of a kind, e.g. `addresses[2].default`.
fn one_default_per<K: PartialEq + Copy>(
    items: impl Iterator<Item = (Option<K>, bool)>,
    list: &str,
) -> Result<(), InvalidInput> {
    let mut seen: Vec<K> = Vec::new();
    for (i, (kind, default)) in items.enumerate() {
        if let (Some(kind), true) = (kind, default) {
            if seen.contains(&kind) {
                return Err(InvalidInput::new(
                    format!("{list}[{i}].default"),
                    "only one entry of each type may be the default",
                ));
            }
            seen.push(kind);
        }
    }
    Ok(())
}

fn parse_list<T, U>(
    items: &[T],
    list: &str,
    parse: impl Fn(&T) -> Result<U, InvalidInput>,
) -> Result<Vec<U>, InvalidInput> {
    check_list_len(items, MAX_LIST_LEN, list)?;
    items
        .iter()
        .enumerate()
        .map(|(i, item)| parse(item).map_err(|e| e.within(&format!("{list}[{i}]"))))
        .collect()
}

fn parse_domains(
    raw: &[String],
    list: &str,
    parse: impl Fn(&str) -> Result<String, String>,
) -> Result<Vec<String>, InvalidInput> {
    check_list_len(raw, MAX_DOMAINS, list)?;
    let mut domains: Vec<String> = Vec::with_capacity(raw.len());
    for (i, item) in raw.iter().enumerate() {
        let domain = parse(item).map_err(|m| InvalidInput::new(format!("{list}[{i}]"), m))?;
        if !domains.contains(&domain) {
            domains.push(domain);
        }
    }
    Ok(domains)
}

impl CustomerProfile {
    /// Checks every rule, naming the first field that breaks one.
    pub fn parse(d: CustomerDraft) -> Result<Self, InvalidInput> {
        let company_name = optional_text(d.company_name, MAX_COMPANY_LEN, "companyName")?;
        if d.customer_type == CustomerType::Business && company_name.is_none() {
            return Err(InvalidInput::new(
                "companyName",
                "is required for BUSINESS customers",
            ));
        }
        let addresses = parse_list(&d.addresses, "addresses", parse_address)?;
        one_default_per(
            addresses.iter().map(|a| (a.address_type, a.default)),
            "addresses",
        )?;
        let telephones = parse_list(&d.telephones, "telephones", parse_telephone)?;
        one_default_per(
            telephones.iter().map(|t| (t.telephone_type, t.default)),
            "telephones",
        )?;
        Ok(Self {
            customer_type: d.customer_type,
            first_name: clean_text(&d.first_name, 1, MAX_NAME_LEN).at_field("firstName")?,
            last_name: clean_text(&d.last_name, 1, MAX_NAME_LEN).at_field("lastName")?,
            email: parse_email(&d.email).at_field("email")?,
            company_name,
            country: parse_country(&d.country).at_field("country")?,
            currency: CurrencyCode::parse(&d.currency).at_field("currency")?,
            language: optional(d.language, parse_language, "language")?,
            external_id: optional_text(d.external_id, MAX_IDENTIFIER_LEN, "externalId")?,
            tenant_id: optional_text(d.tenant_id, MAX_IDENTIFIER_LEN, "tenantId")?,
            customer_prefix: optional(d.customer_prefix, parse_prefix, "customerPrefix")?,
            hostname: optional(d.hostname, parse_hostname, "hostname")?,
            subdomain: optional(d.subdomain, parse_subdomain, "subdomain")?,
            delinquent: d.delinquent,
            website_url: optional(d.website_url, parse_web_url, "websiteUrl")?,
            logo: optional(d.logo, parse_web_url, "logo")?,
            billing: Billing {
                credit: parse_amount(d.billing.credit).at_field("credit")?,
                automatic_refill_amount: parse_amount(d.billing.automatic_refill_amount)
                    .at_field("automaticRefillAmount")?,
                low_balance_alert_amount: parse_amount(d.billing.low_balance_alert_amount)
                    .at_field("lowBalanceAlertAmount")?,
                default_bill_method: d.billing.default_bill_method,
            },
            telephony: Telephony {
                cdr_retention: bounded(d.cdr_retention, 1, 120, "cdrRetention")?,
                max_outbound_call_rate: bounded(
                    d.max_outbound_call_rate,
                    1,
                    1000,
                    "maxOutboundCallRate",
                )?,
                call_forwarding_call_limit: d
                    .call_forwarding_call_limit
                    .map(|v| bounded(v, 0, 1000, "callForwardingCallLimit"))
                    .transpose()?,
                ..d.telephony
            },
            role_users: d.role_users,
            addresses,
            telephones,
            legal_documents: parse_list(
                &d.legal_documents,
                "legalDocuments",
                LegalDocument::parse,
            )?,
            allowed_domains_origins: parse_domains(
                &d.allowed_domains_origins,
                "allowedDomainsOrigins",
                parse_origin,
            )?,
            allowed_domains_registration: parse_domains(
                &d.allowed_domains_registration,
                "allowedDomainsRegistration",
                parse_hostname,
            )?,
            settings: parse_settings(d.settings).map_err(|e| e.within("settings"))?,
            metadata: parse_metadata(d.metadata).map_err(|e| e.within("metadata"))?,
        })
    }

    /// The base of a generated subdomain: the company name for businesses
    /// (or when given), else first and last name, made DNS-safe.
    pub fn subdomain_base(&self) -> String {
        let source = match (&self.company_name, self.customer_type) {
            (Some(company), _) => company.clone(),
            (None, _) => format!("{} {}", self.first_name, self.last_name),
        };
        slugify(&source).unwrap_or_else(|| "customer".to_owned())
    }

    /// The normalised terms `customers(filter: {search})` matches by
    /// prefix: email, company, first and last name.
    pub fn search_terms(&self) -> Vec<String> {
        let mut terms: Vec<String> = [
            Some(self.email.as_str()),
            self.company_name.as_deref(),
            Some(self.first_name.as_str()),
            Some(self.last_name.as_str()),
        ]
        .into_iter()
        .flatten()
        .map(search_key)
        .filter(|t| !t.is_empty())
        .collect();
        terms.sort();
        terms.dedup();
        terms
    }
}

/// Longest search term, in bytes after folding. Folding can multiply the
/// length (`ﷺ` alone becomes 29 letters), and a term is part of a DynamoDB
/// sort key (at most 1,024 bytes) and of a list cursor; a prefix this long
/// identifies a customer anyway.
pub const MAX_SEARCH_TERM_BYTES: usize = 200;

/// The form text is compared in for search: ASCII-folded, lower case,
/// spaces collapsed (`José  Ñúñez` becomes `jose nunez`), cut to
/// [`MAX_SEARCH_TERM_BYTES`]. Terms and the prefixes searched for are cut
/// alike, so a long prefix still finds its customer.
pub fn search_key(text: &str) -> String {
    let mut key = deunicode::deunicode(text)
        .to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if key.len() > MAX_SEARCH_TERM_BYTES {
        let mut end = MAX_SEARCH_TERM_BYTES;
        while !key.is_char_boundary(end) {
            end -= 1;
        }
        key.truncate(end);
        key.truncate(key.trim_end().len());
    }
    key
}

/// A customer to be created: its profile, its initial status (`ACTIVE` or
/// `INACTIVE`) and the password for a newly created owner.
#[derive(Debug)]
pub struct NewCustomer {
    /// Validated profile.
    pub profile: CustomerProfile,
    /// Initial status.
    pub status: CustomerStatus,
    /// Password for the owner, used only when the owner is a new user.
    pub password: Password,
}

impl NewCustomer {
    /// Validates a new customer.
    pub fn parse(
        draft: CustomerDraft,
        status: CustomerStatus,
        password: String,
    ) -> Result<Self, InvalidInput> {
        if !matches!(status, CustomerStatus::Active | CustomerStatus::Inactive) {
            return Err(InvalidInput::new(
                "status",
                "a new customer is ACTIVE or INACTIVE",
            ));
        }
        let profile = CustomerProfile::parse(draft)?;
        let password = Password::parse(password).at_field("password")?;
        Ok(Self {
            profile,
            status,
            password,
        })
    }
}

/// A fresh random customer key: 10 characters from an alphabet without
/// look-alikes (no `0/o`, `1/l/i`).
pub fn generate_customer_key() -> String {
    const ALPHABET: &[u8] = b"23456789abcdefghjkmnpqrstuvwxyz";
    (0..CUSTOMER_KEY_LEN)
        .map(|_| char::from(ALPHABET[fastrand::usize(..ALPHABET.len())]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn draft() -> CustomerDraft {
        let mut d = CustomerDraft::new(
            CustomerType::Business,
            "Ada".into(),
            "Lovelace".into(),
            "ada@example.com".into(),
            "gb".into(),
            "gbp".into(),
        );
        d.company_name = Some("Analytical Engines Ltd".into());
        d
    }

    #[test]
    fn the_seed_defaults_apply() {
        let p = CustomerProfile::parse(draft()).unwrap();
        assert_eq!(p.billing.credit, Decimal::ZERO);
        assert_eq!(p.billing.default_bill_method, BillMethod::Credit);
        assert!(p.telephony.account_lock);
        assert!(!p.telephony.international_calling);
        assert_eq!(p.telephony.cdr_retention, 12);
        assert_eq!(p.telephony.max_outbound_call_rate, 1);
        assert_eq!((p.country.as_str(), p.currency.code()), ("GB", "GBP"));
    }

    #[test]
    fn businesses_need_a_company_name_and_people_do_not() {
        let mut d = draft();
        d.company_name = Some("  ".into());
        assert_eq!(
            CustomerProfile::parse(d.clone()).unwrap_err().field,
            "companyName"
        );
        d.customer_type = CustomerType::Personal;
        assert!(CustomerProfile::parse(d).is_ok());
    }

    #[test]
    fn one_default_address_per_type() {
        let mut d = draft();
        let address = |t, default| Address {
            address_type: Some(t),
            default,
            country: "GB".into(),
            ..Address::default()
        };
        d.addresses = vec![
            address(AddressType::Postal, true),
            address(AddressType::Billing, true),
            address(AddressType::Postal, true),
        ];
        assert_eq!(
            CustomerProfile::parse(d).unwrap_err().field,
            "addresses[2].default"
        );
    }

    #[test]
    fn list_item_errors_name_their_index() {
        let mut d = draft();
        d.telephones = vec![
            Telephone {
                telephone_type: Some(TelephoneType::Mobile),
                number: "+44 7911 123456".into(),
                ..Telephone::default()
            },
            Telephone {
                telephone_type: Some(TelephoneType::Landline),
                number: "12345".into(),
                ..Telephone::default()
            },
        ];
        assert_eq!(
            CustomerProfile::parse(d).unwrap_err().field,
            "telephones[1].number"
        );
        let mut d = draft();
        d.allowed_domains_registration = vec!["example.com".into(), "not a domain".into()];
        assert_eq!(
            CustomerProfile::parse(d).unwrap_err().field,
            "allowedDomainsRegistration[1]"
        );
        let mut d = draft();
        d.metadata = json!({"crm": {"a": {"b": 1}}});
        assert_eq!(
            CustomerProfile::parse(d).unwrap_err().field,
            "metadata.crm.a"
        );
    }

    #[test]
    fn amounts_stay_within_the_seeds_32_bit_range() {
        let mut d = draft();
        d.billing.credit = Decimal::from(2_147_483_648_i64);
        assert_eq!(
            CustomerProfile::parse(d.clone()).unwrap_err().field,
            "credit"
        );
        d.billing.credit = Decimal::from(-1);
        assert_eq!(CustomerProfile::parse(d).unwrap_err().field, "credit");
    }

    #[test]
    fn status_transitions_follow_the_rules() {
        use CustomerStatus::*;
        assert!(Active.can_become(Suspended));
        assert!(Suspended.can_become(Active));
        assert!(Inactive.can_become(Terminated));
        assert!(Fraud.can_become(Suspended));
        assert!(!Fraud.can_become(Active));
        assert!(!Terminated.can_become(Active));
        assert!(!Active.can_become(Active));
        assert!(!Suspended.accepts_new_resources());
        assert!(!Fraud.accepts_new_resources());
        assert!(Inactive.accepts_new_resources());
        assert!(!Inactive.grants_access());
        assert!(Suspended.grants_access());
    }

    #[test]
    fn new_customers_start_active_or_inactive_with_a_long_password() {
        let ok = NewCustomer::parse(draft(), CustomerStatus::Inactive, "twelve chars".into());
        assert!(ok.is_ok());
        let suspended =
            NewCustomer::parse(draft(), CustomerStatus::Suspended, "twelve chars".into());
        assert_eq!(suspended.unwrap_err().field, "status");
        let short = NewCustomer::parse(draft(), CustomerStatus::Active, "short".into());
        assert_eq!(short.unwrap_err().field, "password");
    }

    #[test]
    fn generated_subdomains_and_search_terms() {
        let p = CustomerProfile::parse(draft()).unwrap();
        assert_eq!(p.subdomain_base(), "analytical-engines-ltd");
        assert_eq!(
            p.search_terms(),
            [
                "ada",
                "ada@example.com",
                "analytical engines ltd",
                "lovelace"
            ]
        );
        let mut person = draft();
        person.customer_type = CustomerType::Personal;
        person.company_name = None;
        person.first_name = "José".into();
        person.last_name = "Núñez".into();
        assert_eq!(
            CustomerProfile::parse(person).unwrap().subdomain_base(),
            "jose-nunez"
        );
        assert_eq!(search_key("  José  Ñúñez "), "jose nunez");
    }

    #[test]
    fn search_terms_fit_a_sort_key_however_far_folding_expands_them() {
        let mut person = draft();
        person.first_name = "ﷺ".repeat(MAX_NAME_LEN);
        person.company_name = Some("中".repeat(MAX_COMPANY_LEN));
        let terms = CustomerProfile::parse(person).unwrap().search_terms();
        assert!(
            terms.iter().all(|t| t.len() <= MAX_SEARCH_TERM_BYTES),
            "{terms:?}"
        );
        let long = search_key(&"ﷺ".repeat(60));
        assert!(long.len() <= MAX_SEARCH_TERM_BYTES && long.starts_with("{salla llahu"));
        // A long prefix is cut the same way, so it still matches its term.
        assert!(long.starts_with(&search_key(&"ﷺ".repeat(7))));
    }

    #[test]
    fn customer_keys_are_short_and_random() {
        let a = generate_customer_key();
        assert_eq!(a.len(), CUSTOMER_KEY_LEN);
        assert_ne!(a, generate_customer_key());
    }
}
