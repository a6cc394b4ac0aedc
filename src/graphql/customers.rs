//! The customer part of the schema: the `Customer` type with its extended
//! profile, its owner, users and accounts, and the admin-only queries and
//! mutations.

use async_graphql::{Context, Enum, ID, InputObject, MaybeUndefined, Object};
use serde_json::{Map, Value};

use super::access;
use super::accounts::{AccountNode, account_connection};
use super::connection::Connection as Paged;
use super::error::ApiError;
use super::guard::{AdminGuard, principal};
use super::idempotency;
use super::input::{int, parse_expected_version, parse_id};
use super::loaders::loaders;
use super::scalars::{DateTime, Decimal, Json};
use super::users::{CustomerMembershipNode, UserNode};
use crate::domain::InvalidInput;
use crate::domain::access::{Action, Caller};
use crate::domain::country::parse_country;
use crate::domain::customer::{
    self as model, Customer, CustomerDraft, CustomerProfile, NewCustomer, search_key,
};
use crate::domain::legal_document::{self as legal, LegalDocumentDraft};
use crate::domain::page::PageRequest;
use crate::domain::text::clean_text;
use crate::domain::user::NewUser;
use crate::store::{AccountFilter, CustomerFilter, Customers, Store, StoreError};

/// Longest status reason.
const MAX_REASON_LEN: usize = 500;

fn store<'a>(ctx: &Context<'a>) -> &'a Store {
    ctx.data_unchecked::<Store>()
}

fn customers(ctx: &Context<'_>) -> Customers {
    store(ctx).customers()
}

/// Business or person.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "model::CustomerType")]
pub enum CustomerType {
    /// A company; `companyName` is required.
    Business,
    /// A person.
    Personal,
}

/// Lifecycle status. Moves: ACTIVE, INACTIVE and SUSPENDED among
/// themselves and to FRAUD or TERMINATED; FRAUD only to SUSPENDED or
/// TERMINATED; TERMINATED is final.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "model::CustomerStatus")]
pub enum CustomerStatus {
    /// Uses its resources and accesses the platform.
    Active,
    /// Its users lose access; its resources stay.
    Inactive,
    /// Cannot get new accounts or users, but keeps access.
    Suspended,
    /// Flagged as fraudulent: no new resources, no access.
    Fraud,
    /// Final: every account is inactive and disabled; may be deleted.
    Terminated,
}

/// How usage is paid by default.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "model::BillMethod")]
pub enum BillMethod {
    /// From prepaid credit.
    Credit,
    /// From a stored payment method.
    PaymentMethod,
}

/// Kind of address.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "model::AddressType")]
pub enum AddressType {
    /// Where post is sent.
    Postal,
    /// Where invoices are addressed.
    Billing,
}

/// Kind of telephone.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "model::TelephoneType")]
pub enum TelephoneType {
    /// A fixed line.
    Landline,
    /// A mobile phone.
    Mobile,
}

/// Kind of legal document; the value's format is checked per kind.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "legal::LegalDocumentType")]
pub enum LegalDocumentType {
    /// EU VAT number, e.g. `ATU12345678` (country must match the prefix).
    EuVat,
    /// Brazilian CPF, `123.456.789-87` (country BR).
    BrCpf,
    /// Brazilian CNPJ, `01.234.456/5432-10` (country BR).
    BrCnpj,
    /// Any other document; free text.
    Other,
}

/// A postal or billing address.
pub struct AddressNode(model::Address);

/// A postal address of a customer: billing, shipping or office, one
/// default per type.
#[Object(name = "Address")]
impl AddressNode {
    /// Postal or billing.
    async fn address_type(&self) -> AddressType {
        self.0
            .address_type
            .unwrap_or(model::AddressType::Postal)
            .into()
    }
    /// Whether this is the default address of its type.
    async fn default(&self) -> bool {
        self.0.default
    }
    /// ISO 3166-1 alpha-2 country.
    async fn country(&self) -> &str {
        &self.0.country
    }
    /// State or province.
    async fn state(&self) -> Option<&str> {
        self.0.state.as_deref()
    }
    /// Postal code.
    async fn postal_code(&self) -> Option<&str> {
        self.0.postal_code.as_deref()
    }
    /// City.
    async fn city(&self) -> Option<&str> {
        self.0.city.as_deref()
    }
    /// First line.
    async fn address_line1(&self) -> Option<&str> {
        self.0.address_line1.as_deref()
    }
    /// Second line.
    async fn address_line2(&self) -> Option<&str> {
        self.0.address_line2.as_deref()
    }
    /// PO box.
    async fn po_box(&self) -> Option<&str> {
        self.0.po_box.as_deref()
    }
    /// Building number.
    async fn building_number(&self) -> Option<&str> {
        self.0.building_number.as_deref()
    }
    /// Complement (apartment, suite).
    async fn complement(&self) -> Option<&str> {
        self.0.complement.as_deref()
    }
}

/// A telephone number.
pub struct TelephoneNode(model::Telephone);

/// A telephone number of a customer, in E.164, one default per type.
#[Object(name = "Telephone")]
impl TelephoneNode {
    /// Landline or mobile.
    async fn telephone_type(&self) -> TelephoneType {
        self.0
            .telephone_type
            .unwrap_or(model::TelephoneType::Landline)
            .into()
    }
    /// Whether this is the default telephone of its type.
    async fn default(&self) -> bool {
        self.0.default
    }
    /// The number in E.164, e.g. `+14155551234`.
    async fn number(&self) -> &str {
        &self.0.number
    }
    /// Extension digits.
    async fn extension(&self) -> Option<&str> {
        self.0.extension.as_deref()
    }
}

/// A document identifying the customer as a legal entity. Only its format
/// is checked: no proof of identity.
pub struct LegalDocumentNode(legal::LegalDocument);

/// A legal document of a customer (an EU VAT number, a CPF or CNPJ, or
/// another identifier) with the country that issued it.
#[Object(name = "LegalDocument")]
impl LegalDocumentNode {
    /// Kind of document.
    #[graphql(name = "type")]
    async fn document_type(&self) -> LegalDocumentType {
        self.0.document_type.into()
    }
    /// Issuing country (ISO 3166-1 alpha-2).
    async fn country(&self) -> &str {
        &self.0.country
    }
    /// The number or reference.
    async fn value(&self) -> &str {
        &self.0.value
    }
    /// Issue date, `YYYY-MM-DD`.
    async fn issued_date(&self) -> Option<String> {
        self.0.issued_date.map(|d| d.to_string())
    }
}

/// A customer: the billable party (business or person) that owns accounts
/// and has users.
pub struct CustomerNode(pub Customer);

impl CustomerNode {
    fn p(&self) -> &CustomerProfile {
        &self.0.profile
    }

    /// Billing fields need `BILLING_READ` (admins always pass).
    async fn billing(&self, ctx: &Context<'_>) -> Result<(), ApiError> {
        access::require(ctx, &Action::ReadBilling, &self.0).await
    }
}

/// A user through the request's loader, so a page of customers reads all
/// their owners and role users in one batch.
async fn user(ctx: &Context<'_>, id: Option<uuid::Uuid>) -> Result<Option<UserNode>, ApiError> {
    match id {
        Some(id) => Ok(loaders(ctx)?.users.load_one(id).await?.map(UserNode)),
        None => Ok(None),
    }
}

/// A business or person the platform serves: its profile, billing and
/// telephony settings, status, owner, users and telephony accounts.
#[Object(name = "Customer")]
impl CustomerNode {
    /// Unique identifier (UUIDv7, sortable by creation time).
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Business or person.
    async fn customer_type(&self) -> CustomerType {
        self.p().customer_type.into()
    }
    /// Main contact's first name.
    async fn first_name(&self) -> &str {
        &self.p().first_name
    }
    /// Main contact's last name.
    async fn last_name(&self) -> &str {
        &self.p().last_name
    }
    /// Primary email; unique among customers (case-insensitive).
    async fn email(&self) -> &str {
        &self.p().email
    }
    /// Company name (always present for BUSINESS customers).
    async fn company_name(&self) -> Option<&str> {
        self.p().company_name.as_deref()
    }
    /// ISO 3166-1 alpha-2 country.
    async fn country(&self) -> &str {
        &self.p().country
    }
    /// ISO 4217 currency.
    async fn currency(&self) -> &str {
        self.p().currency.code()
    }
    /// Preferred language (BCP 47).
    async fn language(&self) -> Option<&str> {
        self.p().language.as_deref()
    }
    /// Lifecycle status.
    async fn status(&self) -> CustomerStatus {
        self.0.status.into()
    }
    /// Why the status last changed.
    async fn status_reason(&self) -> Option<&str> {
        self.0.status_reason.as_deref()
    }
    /// Identifier in another system (CRM, billing).
    async fn external_id(&self) -> Option<&str> {
        self.p().external_id.as_deref()
    }
    /// Tenant (not in use yet).
    async fn tenant_id(&self) -> Option<&str> {
        self.p().tenant_id.as_deref()
    }
    /// Short random key, unique, generated at creation and never set by
    /// clients.
    async fn customer_key(&self) -> &str {
        &self.0.customer_key
    }
    /// Short, non-unique prefix for invoice numbers and the like.
    async fn customer_prefix(&self) -> Option<&str> {
        self.p().customer_prefix.as_deref()
    }
    /// Custom domain; unique among customers.
    async fn hostname(&self) -> Option<&str> {
        self.p().hostname.as_deref()
    }
    /// Subdomain label; unique among customers.
    async fn subdomain(&self) -> &str {
        self.0.subdomain()
    }
    /// Delinquency flag (not acted on yet).
    async fn delinquent(&self, ctx: &Context<'_>) -> Result<bool, ApiError> {
        self.billing(ctx).await?;
        Ok(self.p().delinquent)
    }
    /// Website.
    async fn website_url(&self) -> Option<&str> {
        self.p().website_url.as_deref()
    }
    /// Logo URL.
    async fn logo(&self) -> Option<&str> {
        self.p().logo.as_deref()
    }
    /// Prepaid credit.
    async fn credit(&self, ctx: &Context<'_>) -> Result<Decimal, ApiError> {
        self.billing(ctx).await?;
        Ok(Decimal::exact(self.p().billing.credit))
    }
    /// Top-up amount for automatic refills.
    async fn automatic_refill_amount(&self, ctx: &Context<'_>) -> Result<Decimal, ApiError> {
        self.billing(ctx).await?;
        Ok(Decimal::exact(self.p().billing.automatic_refill_amount))
    }
    /// Balance below which an alert is sent.
    async fn low_balance_alert_amount(&self, ctx: &Context<'_>) -> Result<Decimal, ApiError> {
        self.billing(ctx).await?;
        Ok(Decimal::exact(self.p().billing.low_balance_alert_amount))
    }
    /// When the last low-balance alert was sent (read-only).
    async fn low_balance_alert_at(&self, ctx: &Context<'_>) -> Result<Option<DateTime>, ApiError> {
        self.billing(ctx).await?;
        Ok(self.0.low_balance_alert_at.map(DateTime))
    }
    /// How many low-balance alerts were sent (read-only).
    async fn low_balance_alert_count(&self, ctx: &Context<'_>) -> Result<i32, ApiError> {
        self.billing(ctx).await?;
        Ok(int(self.0.low_balance_alert_count))
    }
    /// Default bill method.
    async fn default_bill_method(&self, ctx: &Context<'_>) -> Result<BillMethod, ApiError> {
        self.billing(ctx).await?;
        Ok(self.p().billing.default_bill_method.into())
    }
    /// International calling allowed.
    async fn international_calling(&self) -> bool {
        self.p().telephony.international_calling
    }
    /// Media bypass.
    async fn media_bypass(&self) -> bool {
        self.p().telephony.media_bypass
    }
    /// Account lock.
    async fn account_lock(&self) -> bool {
        self.p().telephony.account_lock
    }
    /// Call recording.
    async fn call_recording(&self) -> bool {
        self.p().telephony.call_recording
    }
    /// CNAM look-ups.
    async fn cnam_look_ups(&self) -> bool {
        self.p().telephony.cnam_look_ups
    }
    /// Hold music.
    async fn hold_music(&self) -> bool {
        self.p().telephony.hold_music
    }
    /// Call transcription.
    async fn transcribe_calls(&self) -> bool {
        self.p().telephony.transcribe_calls
    }
    /// Call debugging.
    async fn call_debug(&self) -> bool {
        self.p().telephony.call_debug
    }
    /// Months call records are kept.
    async fn cdr_retention(&self) -> i32 {
        int(self.p().telephony.cdr_retention)
    }
    /// Outbound calls per second.
    async fn max_outbound_call_rate(&self) -> i32 {
        int(self.p().telephony.max_outbound_call_rate)
    }
    /// Limit of forwarded calls.
    async fn call_forwarding_call_limit(&self) -> Option<i32> {
        self.p().telephony.call_forwarding_call_limit.map(int)
    }
    /// Administrative contact (a user of this customer).
    async fn admin_user(&self, ctx: &Context<'_>) -> Result<Option<UserNode>, ApiError> {
        user(ctx, self.p().role_users.admin_user).await
    }
    /// Billing contact (a user of this customer).
    async fn billing_user(&self, ctx: &Context<'_>) -> Result<Option<UserNode>, ApiError> {
        user(ctx, self.p().role_users.billing_user).await
    }
    /// Receives call recordings (a user of this customer).
    async fn call_recording_user(&self, ctx: &Context<'_>) -> Result<Option<UserNode>, ApiError> {
        user(ctx, self.p().role_users.call_recording_user).await
    }
    /// Support contact (a user of this customer).
    async fn support_user(&self, ctx: &Context<'_>) -> Result<Option<UserNode>, ApiError> {
        user(ctx, self.p().role_users.support_user).await
    }
    /// Addresses; at most one default per type.
    async fn addresses(&self) -> Vec<AddressNode> {
        self.p()
            .addresses
            .iter()
            .cloned()
            .map(AddressNode)
            .collect()
    }
    /// Telephones; at most one default per type.
    async fn telephones(&self) -> Vec<TelephoneNode> {
        self.p()
            .telephones
            .iter()
            .cloned()
            .map(TelephoneNode)
            .collect()
    }
    /// Legal documents.
    async fn legal_documents(&self) -> Vec<LegalDocumentNode> {
        self.p()
            .legal_documents
            .iter()
            .cloned()
            .map(LegalDocumentNode)
            .collect()
    }
    /// Origins allowed for CORS (domains, optionally with scheme and port).
    async fn allowed_domains_origins(&self) -> &[String] {
        &self.p().allowed_domains_origins
    }
    /// Email domains allowed for user registration.
    async fn allowed_domains_registration(&self) -> &[String] {
        &self.p().allowed_domains_registration
    }
    /// Recognised settings (none are defined yet, so always `{}`).
    async fn settings(&self) -> Json {
        Json(Value::Object(self.p().settings.clone()))
    }
    /// Free-form metadata.
    async fn metadata(&self) -> Json {
        Json(Value::Object(self.p().metadata.clone()))
    }
    /// The one owner user.
    async fn owner(&self, ctx: &Context<'_>) -> Result<UserNode, ApiError> {
        user(ctx, Some(self.0.owner_user_id)).await?.ok_or_else(|| {
            ApiError::internal(format!(
                "customer {} names owner {} who does not exist",
                self.0.id, self.0.owner_user_id
            ))
        })
    }
    /// The customer's users (the owner included) with their permissions,
    /// `first` (at most 100) at a time; each user is `node.user`. Needs
    /// `USERS_READ`.
    #[graphql(complexity = "usize::try_from(first).unwrap_or(0) * child_complexity + 1")]
    async fn users(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20, desc = "How many items to return, 0 to 100.")] first: i32,
        #[graphql(
            desc = "The `endCursor` of the previous page, to continue after it; omit for the first page."
        )]
        after: Option<String>,
    ) -> Result<Paged<CustomerMembershipNode>, ApiError> {
        access::require(ctx, &Action::ReadUsers, &self.0).await?;
        let page = PageRequest::new(first, after)?;
        let page = store(ctx).memberships().list(self.0.id, &page).await?;
        // One batched read for the page's users, not one per edge.
        let ids: Vec<_> = page.items.iter().map(|(m, _)| m.user_id).collect();
        let users = store(ctx).users().get_many(&ids).await?;
        let mut customers = std::collections::HashMap::from([(self.0.id, self.0.clone())]);
        Ok(super::users::connection(page, &users, &mut customers))
    }
    /// The customer's telephony accounts, newest first, `first` (at most
    /// 100) at a time; the same connection as `accounts(filter:
    /// {customerId})`. Needs `ACCOUNTS_READ` on the customer.
    #[graphql(complexity = "usize::try_from(first).unwrap_or(0) * child_complexity + 1")]
    async fn accounts(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20, desc = "How many items to return, 0 to 100.")] first: i32,
        #[graphql(
            desc = "The `endCursor` of the previous page, to continue after it; omit for the first page."
        )]
        after: Option<String>,
    ) -> Result<Paged<AccountNode>, ApiError> {
        access::require(ctx, &Action::ReadAccounts, &self.0).await?;
        let filter = AccountFilter {
            customer_id: Some(self.0.id),
            ..AccountFilter::default()
        };
        account_connection(ctx, &filter, first, after).await
    }
    /// When the customer was created.
    async fn created_at(&self) -> DateTime {
        DateTime(self.0.created_at)
    }
    /// When the customer last changed.
    async fn updated_at(&self) -> DateTime {
        DateTime(self.0.updated_at)
    }
    /// Version for optimistic locking; pass it as `expectedVersion`.
    async fn version(&self) -> i32 {
        int(self.0.version)
    }
    /// Whether a deletion started and was interrupted before it finished
    /// (only such customers, listed with `customers(filter: {deleting:
    /// true})`, have `true`). Call `deleteCustomer` again to finish it.
    async fn deleting(&self) -> bool {
        self.0.deleting
    }
}

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

fn amount(value: &Decimal, field: &str) -> Result<rust_decimal::Decimal, InvalidInput> {
    value
        .at(field)
        .map_err(|e| InvalidInput::new(field, e.message))
}

impl CreateCustomerInput {
    fn into_new_customer(self) -> Result<NewCustomer, InvalidInput> {
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
fn patch<T, U>(
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
    fn actions(&self) -> Vec<Action> {
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
    fn apply(self, d: &mut CustomerDraft) -> Result<(), InvalidInput> {
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
    fn parse(self) -> Result<CustomerFilter, ApiError> {
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

/// A customer the caller may read (`CUSTOMER_READ`), or `None` when it
/// does not exist or the caller does not belong to it.
async fn readable(
    ctx: &Context<'_>,
    customer: Option<Customer>,
) -> Result<Option<CustomerNode>, ApiError> {
    match customer {
        Some(customer) => Ok(access::visible(ctx, &Action::ReadCustomer, customer)
            .await?
            .map(CustomerNode)),
        None => Ok(None),
    }
}

/// Customer queries: admins see every customer, users the customers they
/// belong to (with `CUSTOMER_READ`); any other customer reads as `null`.
#[derive(Default)]
pub struct CustomerQuery;

#[Object]
impl CustomerQuery {
    /// The customer with `id`, or `null`.
    async fn customer(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The id (UUID) of the customer.")] id: ID,
    ) -> Result<Option<CustomerNode>, ApiError> {
        let id = parse_id(&id, "id")?;
        readable(ctx, customers(ctx).get(id).await?).await
    }

    /// The customer with this email (case-insensitive), or `null`.
    async fn customer_by_email(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The email address, compared case-insensitively.")] email: String,
    ) -> Result<Option<CustomerNode>, ApiError> {
        readable(ctx, customers(ctx).get_by_email(&email).await?).await
    }

    /// The customer with this customer key, or `null`.
    async fn customer_by_key(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer key, as shown on the customer.")] customer_key: String,
    ) -> Result<Option<CustomerNode>, ApiError> {
        readable(ctx, customers(ctx).get_by_key(&customer_key).await?).await
    }

    /// Customers, newest first (in match order when searching), `first` (at
    /// most 100) at a time. A user sees only the customers it belongs to and
    /// may read. One page reads at most a bounded number of stored items
    /// (1,000 by default): when a filter matches few of them, the page may
    /// hold fewer than `first` items, or none, with `hasNextPage: true` and
    /// an `endCursor` past everything read, so keep paging with `after:
    /// endCursor` until `hasNextPage` is false.
    #[graphql(complexity = "usize::try_from(first).unwrap_or(0) * child_complexity + 1")]
    async fn customers(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20, desc = "How many items to return, 0 to 100.")] first: i32,
        #[graphql(
            desc = "The `endCursor` of the previous page, to continue after it; omit for the first page."
        )]
        after: Option<String>,
        #[graphql(desc = "Narrows the list; every field is optional and they combine with AND.")]
        filter: Option<CustomerFilterInput>,
    ) -> Result<Paged<CustomerNode>, ApiError> {
        let page = PageRequest::new(first, after)?;
        let filter = filter.unwrap_or_default().parse()?;
        if filter.deleting && !principal(ctx)?.is_admin {
            return Err(ApiError::forbidden());
        }
        if let Caller::User(user_id) = access::caller(ctx)? {
            return super::member_customers::list(ctx, user_id, &filter, page).await;
        }
        let page = customers(ctx).list(&filter, &page).await?;
        Ok(Paged::from_page(page, CustomerNode))
    }
}

/// Customer mutations; platform admins only.
#[derive(Default)]
pub struct CustomerMutation;

#[Object]
impl CustomerMutation {
    /// Creates a customer and, in the same transaction, its owner: the user
    /// with the customer's email if one exists (its password untouched),
    /// otherwise a new user with `password`.
    #[graphql(guard = "AdminGuard")]
    async fn create_customer(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The values to use; see the input type for each field and its rules.")]
        input: CreateCustomerInput,
        #[graphql(
            desc = "Makes a retry safe: a repeated call with this key (1 to 64 characters, scoped to the caller, remembered 24 hours) and the same input returns the first result instead of creating again; with another input it is `CONFLICT`."
        )]
        idempotency_key: Option<String>,
    ) -> Result<CustomerNode, ApiError> {
        let key = idempotency::key(ctx, idempotency_key, "createCustomer")?;
        let new = input.into_new_customer()?;
        let store = customers(ctx);
        let create = async {
            let password = new.password;
            let password_hash = tokio::task::spawn_blocking(move || password.hash())
                .await
                .map_err(StoreError::internal)?
                .map_err(|err| StoreError::internal(err.to_string()))?;
            let owner = NewUser {
                email: new.profile.email.clone(),
                first_name: new.profile.first_name.clone(),
                last_name: new.profile.last_name.clone(),
                password_hash,
            };
            store
                .create(&new.profile, new.status, &owner, key.as_ref())
                .await
        };
        let (customer, _) = Box::pin(idempotency::once(ctx, key.as_ref(), create, |id| {
            store.get(id)
        }))
        .await?;
        Ok(CustomerNode(customer))
    }

    /// Changes the fields given in `input`. With `expectedVersion`, fails
    /// with `CONFLICT` unless the customer is still at that version.
    /// Members need `CUSTOMER_WRITE` for profile fields and `BILLING_WRITE`
    /// for `automaticRefillAmount`, `lowBalanceAlertAmount` and
    /// `defaultBillMethod`; `credit`, `delinquent` and the allowed domains
    /// are admin-only.
    async fn update_customer(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The id (UUID) of the customer.")] id: ID,
        #[graphql(desc = "The values to use; see the input type for each field and its rules.")]
        input: UpdateCustomerInput,
        #[graphql(
            desc = "Fail with `CONFLICT` unless the entity is still at this `version` (no lost updates)."
        )]
        expected_version: Option<i32>,
    ) -> Result<CustomerNode, ApiError> {
        let id = parse_id(&id, "id")?;
        let expected = parse_expected_version(expected_version)?;
        if access::caller(ctx)? != Caller::Admin {
            let customer = customers(ctx)
                .get(id)
                .await?
                .ok_or_else(|| access::not_found(id))?;
            for action in input.actions() {
                access::require(ctx, &action, &customer).await?;
            }
        }
        let customer = customers(ctx)
            .update(id, expected, |current| {
                let mut draft = CustomerDraft::from(&current.profile);
                input.clone().apply(&mut draft)?;
                CustomerProfile::parse(draft).map_err(|e| e.within("input"))
            })
            .await?;
        Ok(CustomerNode(customer))
    }

    /// Moves the customer to `status` (see `CustomerStatus` for the allowed
    /// moves), recording `reason`. TERMINATED flags every account inactive
    /// and disabled.
    #[graphql(guard = "AdminGuard")]
    async fn set_customer_status(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The id (UUID) of the customer.")] id: ID,
        #[graphql(desc = "The status to move to (or, for a list, the only status to list).")]
        status: CustomerStatus,
        #[graphql(desc = "Why, for the record (at most 500 characters).")] reason: Option<String>,
    ) -> Result<CustomerNode, ApiError> {
        let id = parse_id(&id, "id")?;
        let reason = reason
            .map(|r| {
                clean_text(&r, 0, MAX_REASON_LEN).map_err(|m| ApiError::bad_input("reason", m))
            })
            .transpose()?
            .filter(|r| !r.is_empty());
        Ok(CustomerNode(
            customers(ctx).set_status(id, status.into(), reason).await?,
        ))
    }

    /// Deletes a TERMINATED customer with its memberships, accounts and
    /// reserved values, and returns its id. Refused with
    /// `FAILED_PRECONDITION` otherwise. Safe to retry.
    #[graphql(guard = "AdminGuard")]
    async fn delete_customer(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The id (UUID) of the customer.")] id: ID,
    ) -> Result<ID, ApiError> {
        let uuid = parse_id(&id, "id")?;
        customers(ctx).delete(uuid).await?;
        Ok(ID(uuid.to_string()))
    }
}
