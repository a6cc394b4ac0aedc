//! What clients send to create, patch and filter customers, and how it
//! becomes domain drafts and filters.

use async_graphql::{ID, InputObject, MaybeUndefined};
use serde_json::{Map, Value};

use super::types::{
    AddressType, BillMethod, CustomerStatus, CustomerType, LegalDocumentType, TelephoneType,
};
use crate::domain::InvalidInput;
use crate::domain::access::Action;
use crate::domain::country::parse_country;
use crate::domain::customer::{self as model, CustomerDraft, NewCustomer, search_key};
use crate::domain::legal_document::LegalDocumentDraft;
use crate::graphql::error::ApiError;
use crate::graphql::scalars::{Decimal, Json};
use crate::store::CustomerFilter;

/// An address.
#[derive(InputObject, Clone)]
pub struct AddressInput {
    /// Postal or billing.
    address_type: AddressType,
    /// The default address of its type (at most one per type).
    #[graphql(default = false)]
    default: bool,
    /// ISO 3166-1 alpha-2 country.
    country: String,
    /// State or province.
    state: Option<String>,
    /// Postal code.
    postal_code: Option<String>,
    /// City.
    city: Option<String>,
    /// First line.
    address_line1: Option<String>,
    /// Second line.
    address_line2: Option<String>,
    /// PO box.
    po_box: Option<String>,
    /// Building number.
    building_number: Option<String>,
    /// Complement (apartment, suite).
    complement: Option<String>,
}

impl From<AddressInput> for model::Address {
    fn from(a: AddressInput) -> Self {
        Self {
            address_type: Some(a.address_type.into()),
            default: a.default,
            country: a.country,
            state: a.state,
            postal_code: a.postal_code,
            city: a.city,
            address_line1: a.address_line1,
            address_line2: a.address_line2,
            po_box: a.po_box,
            building_number: a.building_number,
            complement: a.complement,
        }
    }
}

/// A telephone.
#[derive(InputObject, Clone)]
pub struct TelephoneInput {
    /// Landline or mobile.
    telephone_type: TelephoneType,
    /// The default telephone of its type (at most one per type).
    #[graphql(default = false)]
    default: bool,
    /// Number in international form, e.g. `+1 415 555 1234`; stored as E.164.
    number: String,
    /// Extension digits.
    extension: Option<String>,
}

impl From<TelephoneInput> for model::Telephone {
    fn from(t: TelephoneInput) -> Self {
        Self {
            telephone_type: Some(t.telephone_type.into()),
            default: t.default,
            number: t.number,
            extension: t.extension,
        }
    }
}

/// A legal document.
#[derive(InputObject, Clone)]
pub struct LegalDocumentInput {
    /// Kind of document.
    #[graphql(name = "type")]
    document_type: LegalDocumentType,
    /// Issuing country (ISO 3166-1 alpha-2).
    country: String,
    /// The number or reference, in the kind's format.
    value: String,
    /// Issue date, `YYYY-MM-DD`.
    issued_date: Option<String>,
}

impl From<LegalDocumentInput> for LegalDocumentDraft {
    fn from(d: LegalDocumentInput) -> Self {
        Self {
            document_type: Some(d.document_type.into()),
            country: d.country,
            value: d.value,
            issued_date: d.issued_date,
        }
    }
}

fn zero() -> Decimal {
    Decimal::exact(rust_decimal::Decimal::ZERO)
}

fn empty_object() -> Json {
    Json(Value::Object(Map::new()))
}

/// A new customer and its owner.
#[derive(InputObject)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "the seed's switches are independent booleans"
)]
pub struct CreateCustomerInput {
    /// Business or person.
    customer_type: CustomerType,
    /// Main contact's first name (1–100 characters).
    first_name: String,
    /// Main contact's last name (1–100 characters).
    last_name: String,
    /// Primary email, unique among customers. A user with this email becomes
    /// the owner; if none exists, one is created.
    email: String,
    /// Password of the owner when a new user is created (at least 12
    /// characters); stored only as an Argon2id hash.
    password: String,
    /// Company name; required for BUSINESS.
    company_name: Option<String>,
    /// ISO 3166-1 alpha-2 country.
    country: String,
    /// ISO 4217 currency.
    currency: String,
    /// BCP 47 language tag, e.g. `pt-BR`.
    language: Option<String>,
    /// ACTIVE or INACTIVE.
    #[graphql(default_with = "CustomerStatus::Active")]
    status: CustomerStatus,
    /// Identifier in another system.
    external_id: Option<String>,
    /// Tenant.
    tenant_id: Option<String>,
    /// Short prefix (1–10 letters, digits or hyphens).
    customer_prefix: Option<String>,
    /// Custom domain (unique), e.g. `calls.example.com`.
    hostname: Option<String>,
    /// Subdomain label (unique); generated from the company or the names when
    /// omitted.
    subdomain: Option<String>,
    /// Delinquency flag.
    #[graphql(default = false)]
    delinquent: bool,
    /// Website (http or https).
    website_url: Option<String>,
    /// Logo URL (http or https).
    logo: Option<String>,
    /// Prepaid credit, 0–2147483647.
    #[graphql(default_with = "zero()")]
    credit: Decimal,
    /// Automatic refill amount, 0–2147483647.
    #[graphql(default_with = "zero()")]
    automatic_refill_amount: Decimal,
    /// Low-balance alert threshold, 0–2147483647.
    #[graphql(default_with = "zero()")]
    low_balance_alert_amount: Decimal,
    /// Default bill method.
    #[graphql(default_with = "BillMethod::Credit")]
    default_bill_method: BillMethod,
    /// International calling.
    #[graphql(default = false)]
    international_calling: bool,
    /// Media bypass.
    #[graphql(default = false)]
    media_bypass: bool,
    /// Account lock.
    #[graphql(default = true)]
    account_lock: bool,
    /// Call recording.
    #[graphql(default = false)]
    call_recording: bool,
    /// CNAM look-ups.
    #[graphql(default = false)]
    cnam_look_ups: bool,
    /// Hold music.
    #[graphql(default = false)]
    hold_music: bool,
    /// Call transcription.
    #[graphql(default = false)]
    transcribe_calls: bool,
    /// Call debugging.
    #[graphql(default = false)]
    call_debug: bool,
    /// Months call records are kept, 1–120.
    #[graphql(default = 12)]
    cdr_retention: i32,
    /// Outbound calls per second, 1–1000.
    #[graphql(default = 1)]
    max_outbound_call_rate: i32,
    /// Limit of forwarded calls, 0–1000.
    call_forwarding_call_limit: Option<i32>,
    /// Administrative contact; must be a user of this customer (at creation,
    /// the owner).
    admin_user: Option<ID>,
    /// Billing contact; must be a user of this customer.
    billing_user: Option<ID>,
    /// Call-recording recipient; must be a user of this customer.
    call_recording_user: Option<ID>,
    /// Support contact; must be a user of this customer.
    support_user: Option<ID>,
    /// Addresses (at most 20).
    #[graphql(default)]
    addresses: Vec<AddressInput>,
    /// Telephones (at most 20).
    #[graphql(default)]
    telephones: Vec<TelephoneInput>,
    /// Legal documents (at most 20).
    #[graphql(default)]
    legal_documents: Vec<LegalDocumentInput>,
    /// Origins allowed for CORS (at most 100).
    #[graphql(default)]
    allowed_domains_origins: Vec<String>,
    /// Email domains allowed for registration (at most 100).
    #[graphql(default)]
    allowed_domains_registration: Vec<String>,
    /// Settings; unknown keys are dropped.
    #[graphql(default_with = "empty_object()")]
    settings: Json,
    /// Metadata: at most 50 keys of up to 40 characters; scalar values
    /// (strings up to 500 characters) or one level of nested object/array.
    #[graphql(default_with = "empty_object()")]
    metadata: Json,
}

fn role_id(id: Option<&ID>, field: &str) -> Result<Option<uuid::Uuid>, InvalidInput> {
    id.map(|id| {
        uuid::Uuid::parse_str(id.as_str())
            .map_err(|_| InvalidInput::new(field, "is not a valid id"))
    })
    .transpose()
}

pub(super) fn amount(value: &Decimal, field: &str) -> Result<rust_decimal::Decimal, InvalidInput> {
    value
        .at(field)
        .map_err(|e| InvalidInput::new(field, e.message))
}

impl CreateCustomerInput {
    pub(super) fn into_new_customer(self) -> Result<NewCustomer, InvalidInput> {
        let mut d = CustomerDraft::new(
            self.customer_type.into(),
            self.first_name,
            self.last_name,
            self.email,
            self.country,
            self.currency,
        );
        d.company_name = self.company_name;
        d.language = self.language;
        d.external_id = self.external_id;
        d.tenant_id = self.tenant_id;
        d.customer_prefix = self.customer_prefix;
        d.hostname = self.hostname;
        d.subdomain = self.subdomain;
        d.delinquent = self.delinquent;
        d.website_url = self.website_url;
        d.logo = self.logo;
        d.billing = model::Billing {
            credit: amount(&self.credit, "input.credit")?,
            automatic_refill_amount: amount(
                &self.automatic_refill_amount,
                "input.automaticRefillAmount",
            )?,
            low_balance_alert_amount: amount(
                &self.low_balance_alert_amount,
                "input.lowBalanceAlertAmount",
            )?,
            default_bill_method: self.default_bill_method.into(),
        };
        d.telephony = model::Telephony {
            international_calling: self.international_calling,
            media_bypass: self.media_bypass,
            account_lock: self.account_lock,
            call_recording: self.call_recording,
            cnam_look_ups: self.cnam_look_ups,
            hold_music: self.hold_music,
            transcribe_calls: self.transcribe_calls,
            call_debug: self.call_debug,
            ..model::Telephony::default()
        };
        d.cdr_retention = i64::from(self.cdr_retention);
        d.max_outbound_call_rate = i64::from(self.max_outbound_call_rate);
        d.call_forwarding_call_limit = self.call_forwarding_call_limit.map(i64::from);
        d.role_users = model::RoleUsers {
            admin_user: role_id(self.admin_user.as_ref(), "input.adminUser")?,
            billing_user: role_id(self.billing_user.as_ref(), "input.billingUser")?,
            call_recording_user: role_id(
                self.call_recording_user.as_ref(),
                "input.callRecordingUser",
            )?,
            support_user: role_id(self.support_user.as_ref(), "input.supportUser")?,
        };
        d.addresses = self.addresses.into_iter().map(Into::into).collect();
        d.telephones = self.telephones.into_iter().map(Into::into).collect();
        d.legal_documents = self.legal_documents.into_iter().map(Into::into).collect();
        d.allowed_domains_origins = self.allowed_domains_origins;
        d.allowed_domains_registration = self.allowed_domains_registration;
        d.settings = self.settings.0;
        d.metadata = self.metadata.0;
        NewCustomer::parse(d, self.status.into(), self.password).map_err(|e| e.within("input"))
    }
}

/// Changes to a customer: an omitted field is unchanged; `null` clears a
/// nullable field (and empties a list or object). `addresses`, `telephones`,
/// `legalDocuments`, the allowed-domain lists, `settings` and `metadata` are
/// replaced whole. Status changes go through `setCustomerStatus`.
#[derive(InputObject, Clone)]
pub struct UpdateCustomerInput {
    /// Business or person.
    customer_type: MaybeUndefined<CustomerType>,
    /// First name.
    first_name: MaybeUndefined<String>,
    /// Last name.
    last_name: MaybeUndefined<String>,
    /// Email (unique). The owner user's own email is not changed.
    email: MaybeUndefined<String>,
    /// Company name.
    company_name: MaybeUndefined<String>,
    /// Country.
    country: MaybeUndefined<String>,
    /// Currency.
    currency: MaybeUndefined<String>,
    /// Language.
    language: MaybeUndefined<String>,
    /// External id.
    external_id: MaybeUndefined<String>,
    /// Tenant id.
    tenant_id: MaybeUndefined<String>,
    /// Prefix.
    customer_prefix: MaybeUndefined<String>,
    /// Custom domain (unique).
    hostname: MaybeUndefined<String>,
    /// Subdomain (unique; cannot be cleared).
    subdomain: MaybeUndefined<String>,
    /// Delinquency flag.
    delinquent: MaybeUndefined<bool>,
    /// Website.
    website_url: MaybeUndefined<String>,
    /// Logo URL.
    logo: MaybeUndefined<String>,
    /// Prepaid credit.
    credit: MaybeUndefined<Decimal>,
    /// Automatic refill amount.
    automatic_refill_amount: MaybeUndefined<Decimal>,
    /// Low-balance alert threshold.
    low_balance_alert_amount: MaybeUndefined<Decimal>,
    /// Default bill method.
    default_bill_method: MaybeUndefined<BillMethod>,
    /// International calling.
    international_calling: MaybeUndefined<bool>,
    /// Media bypass.
    media_bypass: MaybeUndefined<bool>,
    /// Account lock.
    account_lock: MaybeUndefined<bool>,
    /// Call recording.
    call_recording: MaybeUndefined<bool>,
    /// CNAM look-ups.
    cnam_look_ups: MaybeUndefined<bool>,
    /// Hold music.
    hold_music: MaybeUndefined<bool>,
    /// Call transcription.
    transcribe_calls: MaybeUndefined<bool>,
    /// Call debugging.
    call_debug: MaybeUndefined<bool>,
    /// Months call records are kept.
    cdr_retention: MaybeUndefined<i32>,
    /// Outbound calls per second.
    max_outbound_call_rate: MaybeUndefined<i32>,
    /// Limit of forwarded calls.
    call_forwarding_call_limit: MaybeUndefined<i32>,
    /// Administrative contact; must be a user of this customer.
    admin_user: MaybeUndefined<ID>,
    /// Billing contact; must be a user of this customer.
    billing_user: MaybeUndefined<ID>,
    /// Call-recording recipient; must be a user of this customer.
    call_recording_user: MaybeUndefined<ID>,
    /// Support contact; must be a user of this customer.
    support_user: MaybeUndefined<ID>,
    /// Addresses, replaced whole.
    addresses: MaybeUndefined<Vec<AddressInput>>,
    /// Telephones, replaced whole.
    telephones: MaybeUndefined<Vec<TelephoneInput>>,
    /// Legal documents, replaced whole.
    legal_documents: MaybeUndefined<Vec<LegalDocumentInput>>,
    /// Allowed origins, replaced whole.
    allowed_domains_origins: MaybeUndefined<Vec<String>>,
    /// Allowed registration domains, replaced whole.
    allowed_domains_registration: MaybeUndefined<Vec<String>>,
    /// Settings, replaced whole.
    settings: MaybeUndefined<Json>,
    /// Metadata, replaced whole.
    metadata: MaybeUndefined<Json>,
}

/// Applies one patch field: unchanged when omitted; `null` handled by
/// `on_null`; a value converted by `set`.
pub(super) fn patch<T, U>(
    value: MaybeUndefined<T>,
    target: &mut U,
    on_null: impl FnOnce() -> Result<U, InvalidInput>,
    set: impl FnOnce(T) -> Result<U, InvalidInput>,
) -> Result<(), InvalidInput> {
    match value {
        MaybeUndefined::Undefined => {}
        MaybeUndefined::Null => *target = on_null()?,
        MaybeUndefined::Value(v) => *target = set(v)?,
    }
    Ok(())
}

fn not_null<U>(field: &'static str) -> impl FnOnce() -> Result<U, InvalidInput> {
    move || {
        Err(InvalidInput::new(
            field,
            "cannot be null; omit it to leave it unchanged",
        ))
    }
}

fn clear<U>() -> impl FnOnce() -> Result<Option<U>, InvalidInput> {
    || Ok(None)
}

#[expect(
    clippy::unnecessary_wraps,
    reason = "the infallible setter passed where patch expects a fallible one"
)]
fn ok<T>(v: T) -> Result<T, InvalidInput> {
    Ok(v)
}

impl UpdateCustomerInput {
    /// What the patch does, in the policy's terms: each group of fields it
    /// touches needs its own permission.
    pub(super) fn actions(&self) -> Vec<Action> {
        let restricted = !self.credit.is_undefined()
            || !self.delinquent.is_undefined()
            || !self.allowed_domains_origins.is_undefined()
            || !self.allowed_domains_registration.is_undefined();
        let billing = !self.automatic_refill_amount.is_undefined()
            || !self.low_balance_alert_amount.is_undefined()
            || !self.default_bill_method.is_undefined();
        let mut actions = vec![Action::WriteCustomer];
        if billing {
            actions = vec![Action::WriteBilling];
            if self.touches_profile() {
                actions.push(Action::WriteCustomer);
            }
        }
        if restricted {
            actions.push(Action::WriteCustomerRestricted);
        }
        actions
    }

    /// Whether any field outside billing and the admin-only ones is set.
    fn touches_profile(&self) -> bool {
        let set = [
            self.customer_type.is_undefined(),
            self.first_name.is_undefined(),
            self.last_name.is_undefined(),
            self.email.is_undefined(),
            self.company_name.is_undefined(),
            self.country.is_undefined(),
            self.currency.is_undefined(),
            self.language.is_undefined(),
            self.external_id.is_undefined(),
            self.tenant_id.is_undefined(),
            self.customer_prefix.is_undefined(),
            self.hostname.is_undefined(),
            self.subdomain.is_undefined(),
            self.website_url.is_undefined(),
            self.logo.is_undefined(),
            self.international_calling.is_undefined(),
            self.media_bypass.is_undefined(),
            self.account_lock.is_undefined(),
            self.call_recording.is_undefined(),
            self.cnam_look_ups.is_undefined(),
            self.hold_music.is_undefined(),
            self.transcribe_calls.is_undefined(),
            self.call_debug.is_undefined(),
            self.cdr_retention.is_undefined(),
            self.max_outbound_call_rate.is_undefined(),
            self.call_forwarding_call_limit.is_undefined(),
            self.admin_user.is_undefined(),
            self.billing_user.is_undefined(),
            self.call_recording_user.is_undefined(),
            self.support_user.is_undefined(),
            self.addresses.is_undefined(),
            self.telephones.is_undefined(),
            self.legal_documents.is_undefined(),
            self.settings.is_undefined(),
            self.metadata.is_undefined(),
        ];
        set.iter().any(|undefined| !undefined)
    }

    /// Writes the patch onto a draft of the current profile. Field paths in
    /// errors are full (`input.email`).
    #[expect(
        clippy::too_many_lines,
        reason = "one statement per patchable field; splitting would scatter the list"
    )]
    pub(super) fn apply(self, d: &mut CustomerDraft) -> Result<(), InvalidInput> {
        patch(
            self.customer_type,
            &mut d.customer_type,
            not_null("input.customerType"),
            |v| ok(v.into()),
        )?;
        patch(
            self.first_name,
            &mut d.first_name,
            not_null("input.firstName"),
            ok,
        )?;
        patch(
            self.last_name,
            &mut d.last_name,
            not_null("input.lastName"),
            ok,
        )?;
        patch(self.email, &mut d.email, not_null("input.email"), ok)?;
        patch(self.company_name, &mut d.company_name, clear(), |v| {
            ok(Some(v))
        })?;
        patch(self.country, &mut d.country, not_null("input.country"), ok)?;
        patch(
            self.currency,
            &mut d.currency,
            not_null("input.currency"),
            ok,
        )?;
        patch(self.language, &mut d.language, clear(), |v| ok(Some(v)))?;
        patch(self.external_id, &mut d.external_id, clear(), |v| {
            ok(Some(v))
        })?;
        patch(self.tenant_id, &mut d.tenant_id, clear(), |v| ok(Some(v)))?;
        patch(self.customer_prefix, &mut d.customer_prefix, clear(), |v| {
            ok(Some(v))
        })?;
        patch(self.hostname, &mut d.hostname, clear(), |v| ok(Some(v)))?;
        patch(
            self.subdomain,
            &mut d.subdomain,
            not_null("input.subdomain"),
            |v| ok(Some(v)),
        )?;
        patch(
            self.delinquent,
            &mut d.delinquent,
            not_null("input.delinquent"),
            ok,
        )?;
        patch(self.website_url, &mut d.website_url, clear(), |v| {
            ok(Some(v))
        })?;
        patch(self.logo, &mut d.logo, clear(), |v| ok(Some(v)))?;
        let b = &mut d.billing;
        patch(self.credit, &mut b.credit, not_null("input.credit"), |v| {
            amount(&v, "input.credit")
        })?;
        patch(
            self.automatic_refill_amount,
            &mut b.automatic_refill_amount,
            not_null("input.automaticRefillAmount"),
            |v| amount(&v, "input.automaticRefillAmount"),
        )?;
        patch(
            self.low_balance_alert_amount,
            &mut b.low_balance_alert_amount,
            not_null("input.lowBalanceAlertAmount"),
            |v| amount(&v, "input.lowBalanceAlertAmount"),
        )?;
        patch(
            self.default_bill_method,
            &mut b.default_bill_method,
            not_null("input.defaultBillMethod"),
            |v| ok(v.into()),
        )?;
        let t = &mut d.telephony;
        patch(
            self.international_calling,
            &mut t.international_calling,
            not_null("input.internationalCalling"),
            ok,
        )?;
        patch(
            self.media_bypass,
            &mut t.media_bypass,
            not_null("input.mediaBypass"),
            ok,
        )?;
        patch(
            self.account_lock,
            &mut t.account_lock,
            not_null("input.accountLock"),
            ok,
        )?;
        patch(
            self.call_recording,
            &mut t.call_recording,
            not_null("input.callRecording"),
            ok,
        )?;
        patch(
            self.cnam_look_ups,
            &mut t.cnam_look_ups,
            not_null("input.cnamLookUps"),
            ok,
        )?;
        patch(
            self.hold_music,
            &mut t.hold_music,
            not_null("input.holdMusic"),
            ok,
        )?;
        patch(
            self.transcribe_calls,
            &mut t.transcribe_calls,
            not_null("input.transcribeCalls"),
            ok,
        )?;
        patch(
            self.call_debug,
            &mut t.call_debug,
            not_null("input.callDebug"),
            ok,
        )?;
        patch(
            self.cdr_retention,
            &mut d.cdr_retention,
            not_null("input.cdrRetention"),
            |v| ok(i64::from(v)),
        )?;
        patch(
            self.max_outbound_call_rate,
            &mut d.max_outbound_call_rate,
            not_null("input.maxOutboundCallRate"),
            |v| ok(i64::from(v)),
        )?;
        patch(
            self.call_forwarding_call_limit,
            &mut d.call_forwarding_call_limit,
            clear(),
            |v| ok(Some(i64::from(v))),
        )?;
        let r = &mut d.role_users;
        patch(self.admin_user, &mut r.admin_user, clear(), |v| {
            role_id(Some(&v), "input.adminUser")
        })?;
        patch(self.billing_user, &mut r.billing_user, clear(), |v| {
            role_id(Some(&v), "input.billingUser")
        })?;
        patch(
            self.call_recording_user,
            &mut r.call_recording_user,
            clear(),
            |v| role_id(Some(&v), "input.callRecordingUser"),
        )?;
        patch(self.support_user, &mut r.support_user, clear(), |v| {
            role_id(Some(&v), "input.supportUser")
        })?;
        patch(
            self.addresses,
            &mut d.addresses,
            || ok(Vec::new()),
            |v| ok(v.into_iter().map(Into::into).collect()),
        )?;
        patch(
            self.telephones,
            &mut d.telephones,
            || ok(Vec::new()),
            |v| ok(v.into_iter().map(Into::into).collect()),
        )?;
        patch(
            self.legal_documents,
            &mut d.legal_documents,
            || ok(Vec::new()),
            |v| ok(v.into_iter().map(Into::into).collect()),
        )?;
        patch(
            self.allowed_domains_origins,
            &mut d.allowed_domains_origins,
            || ok(Vec::new()),
            ok,
        )?;
        patch(
            self.allowed_domains_registration,
            &mut d.allowed_domains_registration,
            || ok(Vec::new()),
            ok,
        )?;
        patch(
            self.settings,
            &mut d.settings,
            || ok(Value::Object(Map::new())),
            |v| ok(v.0),
        )?;
        patch(
            self.metadata,
            &mut d.metadata,
            || ok(Value::Object(Map::new())),
            |v| ok(v.0),
        )?;
        Ok(())
    }
}

/// Narrows `customers`; all fields optional, combined with AND.
#[derive(InputObject, Default)]
pub struct CustomerFilterInput {
    /// Only this status.
    status: Option<CustomerStatus>,
    /// Only this type.
    customer_type: Option<CustomerType>,
    /// Only this country (ISO 3166-1 alpha-2).
    country: Option<String>,
    /// Prefix (2 to 100 characters) of the email, company, first or last
    /// name; case- and accent-insensitive. Results are in match order.
    search: Option<String>,
    /// Admins only: list just the customers whose deletion was interrupted
    /// (they appear in no other list and cannot be looked up); finish each
    /// with `deleteCustomer`. Cannot be combined with `search`.
    #[graphql(default = false)]
    deleting: bool,
}

/// Longest `filter.search`, in characters.
const MAX_SEARCH_LEN: usize = 100;

impl CustomerFilterInput {
    pub(super) fn parse(self) -> Result<CustomerFilter, ApiError> {
        let search = self
            .search
            .map(|text| {
                if text.chars().count() > MAX_SEARCH_LEN {
                    return Err(ApiError::bad_input(
                        "filter.search",
                        format!("must be at most {MAX_SEARCH_LEN} characters"),
                    ));
                }
                let key = search_key(&text);
                if key.chars().count() < 2 {
                    Err(ApiError::bad_input(
                        "filter.search",
                        "must have at least 2 characters",
                    ))
                } else {
                    Ok(key)
                }
            })
            .transpose()?;
        if self.deleting && search.is_some() {
            return Err(ApiError::bad_input(
                "filter.deleting",
                "cannot be combined with `search`",
            ));
        }
        Ok(CustomerFilter {
            deleting: self.deleting,
            status: self.status.map(Into::into),
            customer_type: self.customer_type.map(Into::into),
            country: self
                .country
                .map(|c| parse_country(&c).map_err(|m| ApiError::bad_input("filter.country", m)))
                .transpose()?,
            search,
        })
    }
}
