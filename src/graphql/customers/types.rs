//! The customer types of the schema: `Customer` with its addresses,
//! telephones and legal documents, and the enums they use.

use async_graphql::{Context, Enum, ID, Object};
use serde_json::Value;

use crate::domain::access::Action;
use crate::domain::customer::{self as model, Customer, CustomerProfile};
use crate::domain::legal_document::{self as legal};
use crate::domain::page::PageRequest;
use crate::graphql::access;
use crate::graphql::accounts::{AccountNode, account_connection};
use crate::graphql::connection::Connection as Paged;
use crate::graphql::error::ApiError;
use crate::graphql::input::int;
use crate::graphql::loaders::loaders;
use crate::graphql::scalars::{DateTime, Decimal, Json};
use crate::graphql::users::{CustomerMembershipNode, UserNode, members_of};
use crate::store::AccountFilter;

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

    /// Every field but `id`, the billing ones and the connections (which
    /// need their own permission) needs `CUSTOMER_READ`, exactly as
    /// `customer(id:)` does: a node also reaches callers through mutation
    /// payloads (`updateCustomer` by a member holding only `BILLING_WRITE`),
    /// and a payload is a read. The membership is read once per request, so
    /// after the first field this is a lookup.
    async fn read(&self, ctx: &Context<'_>) -> Result<(), ApiError> {
        self.check(ctx, &Action::ReadCustomer).await
    }

    /// Billing fields need `BILLING_READ` (admins always pass).
    async fn billing(&self, ctx: &Context<'_>) -> Result<(), ApiError> {
        self.check(ctx, &Action::ReadBilling).await
    }

    /// Requires `action` on this customer. Almost always decided without a
    /// read (admin, or the membership known in this request); the first
    /// check of a request reads the membership through a boxed future, so
    /// the futures of the ~45 fields that check stay small (inlined, they
    /// overflowed a 2 MiB test thread's stack in debug builds).
    async fn check(&self, ctx: &Context<'_>, action: &Action) -> Result<(), ApiError> {
        let decision = match access::decided(ctx, action, &self.0)? {
            Some(decision) => decision,
            None => Box::pin(access::decision(ctx, action, &self.0)).await?,
        };
        access::refusal(decision, self.0.id).map_or(Ok(()), Err)
    }
}

/// A user through the request's loader, so a page of customers reads all
/// their owners and role users in one batch.
pub(super) async fn user(
    ctx: &Context<'_>,
    id: Option<uuid::Uuid>,
) -> Result<Option<UserNode>, ApiError> {
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
    async fn customer_type(&self, ctx: &Context<'_>) -> Result<CustomerType, ApiError> {
        self.read(ctx).await?;
        Ok(self.p().customer_type.into())
    }
    /// Main contact's first name.
    async fn first_name(&self, ctx: &Context<'_>) -> Result<&str, ApiError> {
        self.read(ctx).await?;
        Ok(&self.p().first_name)
    }
    /// Main contact's last name.
    async fn last_name(&self, ctx: &Context<'_>) -> Result<&str, ApiError> {
        self.read(ctx).await?;
        Ok(&self.p().last_name)
    }
    /// Primary email; unique among customers (case-insensitive).
    async fn email(&self, ctx: &Context<'_>) -> Result<&str, ApiError> {
        self.read(ctx).await?;
        Ok(&self.p().email)
    }
    /// Company name (always present for BUSINESS customers).
    async fn company_name(&self, ctx: &Context<'_>) -> Result<Option<&str>, ApiError> {
        self.read(ctx).await?;
        Ok(self.p().company_name.as_deref())
    }
    /// ISO 3166-1 alpha-2 country.
    async fn country(&self, ctx: &Context<'_>) -> Result<&str, ApiError> {
        self.read(ctx).await?;
        Ok(&self.p().country)
    }
    /// ISO 4217 currency.
    async fn currency(&self, ctx: &Context<'_>) -> Result<&str, ApiError> {
        self.read(ctx).await?;
        Ok(self.p().currency.code())
    }
    /// Preferred language (BCP 47).
    async fn language(&self, ctx: &Context<'_>) -> Result<Option<&str>, ApiError> {
        self.read(ctx).await?;
        Ok(self.p().language.as_deref())
    }
    /// The address of the request that created the customer, as the
    /// gateway saw it (API Gateway's source IP; the peer locally).
    async fn created_by_ip(&self, ctx: &Context<'_>) -> Result<Option<&str>, ApiError> {
        self.read(ctx).await?;
        Ok(self.0.created_by_ip.as_deref())
    }
    /// The limits the platform set on the customer (`setCustomerQuotas`).
    async fn quotas(&self, ctx: &Context<'_>) -> Result<super::QuotasNode, ApiError> {
        self.read(ctx).await?;
        Ok(self.0.quotas.into())
    }
    /// What the customer uses of its quotas.
    async fn usage(&self, ctx: &Context<'_>) -> Result<super::UsageNode, ApiError> {
        self.read(ctx).await?;
        Ok(self.0.usage.into())
    }
    /// Lifecycle status.
    async fn status(&self, ctx: &Context<'_>) -> Result<CustomerStatus, ApiError> {
        self.read(ctx).await?;
        Ok(self.0.status.into())
    }
    /// Why the status last changed.
    async fn status_reason(&self, ctx: &Context<'_>) -> Result<Option<&str>, ApiError> {
        self.read(ctx).await?;
        Ok(self.0.status_reason.as_deref())
    }
    /// Identifier in another system (CRM, billing).
    async fn external_id(&self, ctx: &Context<'_>) -> Result<Option<&str>, ApiError> {
        self.read(ctx).await?;
        Ok(self.p().external_id.as_deref())
    }
    /// Tenant (not in use yet).
    async fn tenant_id(&self, ctx: &Context<'_>) -> Result<Option<&str>, ApiError> {
        self.read(ctx).await?;
        Ok(self.p().tenant_id.as_deref())
    }
    /// Short random key, unique, generated at creation and never set by
    /// clients.
    async fn customer_key(&self, ctx: &Context<'_>) -> Result<&str, ApiError> {
        self.read(ctx).await?;
        Ok(&self.0.customer_key)
    }
    /// Short, non-unique prefix for invoice numbers and the like.
    async fn customer_prefix(&self, ctx: &Context<'_>) -> Result<Option<&str>, ApiError> {
        self.read(ctx).await?;
        Ok(self.p().customer_prefix.as_deref())
    }
    /// Custom domain; unique among customers.
    async fn hostname(&self, ctx: &Context<'_>) -> Result<Option<&str>, ApiError> {
        self.read(ctx).await?;
        Ok(self.p().hostname.as_deref())
    }
    /// Subdomain label; unique among customers.
    async fn subdomain(&self, ctx: &Context<'_>) -> Result<&str, ApiError> {
        self.read(ctx).await?;
        Ok(self.0.subdomain())
    }
    /// Delinquency flag (not acted on yet).
    async fn delinquent(&self, ctx: &Context<'_>) -> Result<bool, ApiError> {
        self.billing(ctx).await?;
        Ok(self.p().delinquent)
    }
    /// Website.
    async fn website_url(&self, ctx: &Context<'_>) -> Result<Option<&str>, ApiError> {
        self.read(ctx).await?;
        Ok(self.p().website_url.as_deref())
    }
    /// Logo URL.
    async fn logo(&self, ctx: &Context<'_>) -> Result<Option<&str>, ApiError> {
        self.read(ctx).await?;
        Ok(self.p().logo.as_deref())
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
    async fn international_calling(&self, ctx: &Context<'_>) -> Result<bool, ApiError> {
        self.read(ctx).await?;
        Ok(self.p().telephony.international_calling)
    }
    /// Media bypass.
    async fn media_bypass(&self, ctx: &Context<'_>) -> Result<bool, ApiError> {
        self.read(ctx).await?;
        Ok(self.p().telephony.media_bypass)
    }
    /// Account lock.
    async fn account_lock(&self, ctx: &Context<'_>) -> Result<bool, ApiError> {
        self.read(ctx).await?;
        Ok(self.p().telephony.account_lock)
    }
    /// Call recording.
    async fn call_recording(&self, ctx: &Context<'_>) -> Result<bool, ApiError> {
        self.read(ctx).await?;
        Ok(self.p().telephony.call_recording)
    }
    /// CNAM look-ups.
    async fn cnam_look_ups(&self, ctx: &Context<'_>) -> Result<bool, ApiError> {
        self.read(ctx).await?;
        Ok(self.p().telephony.cnam_look_ups)
    }
    /// Hold music.
    async fn hold_music(&self, ctx: &Context<'_>) -> Result<bool, ApiError> {
        self.read(ctx).await?;
        Ok(self.p().telephony.hold_music)
    }
    /// Call transcription.
    async fn transcribe_calls(&self, ctx: &Context<'_>) -> Result<bool, ApiError> {
        self.read(ctx).await?;
        Ok(self.p().telephony.transcribe_calls)
    }
    /// Call debugging.
    async fn call_debug(&self, ctx: &Context<'_>) -> Result<bool, ApiError> {
        self.read(ctx).await?;
        Ok(self.p().telephony.call_debug)
    }
    /// Months call records are kept.
    async fn cdr_retention(&self, ctx: &Context<'_>) -> Result<i32, ApiError> {
        self.read(ctx).await?;
        Ok(int(self.p().telephony.cdr_retention))
    }
    /// Outbound calls per second.
    async fn max_outbound_call_rate(&self, ctx: &Context<'_>) -> Result<i32, ApiError> {
        self.read(ctx).await?;
        Ok(int(self.p().telephony.max_outbound_call_rate))
    }
    /// Limit of forwarded calls.
    async fn call_forwarding_call_limit(&self, ctx: &Context<'_>) -> Result<Option<i32>, ApiError> {
        self.read(ctx).await?;
        Ok(self.p().telephony.call_forwarding_call_limit.map(int))
    }
    /// Administrative contact (a user of this customer).
    async fn admin_user(&self, ctx: &Context<'_>) -> Result<Option<UserNode>, ApiError> {
        self.read(ctx).await?;
        user(ctx, self.p().role_users.admin_user).await
    }
    /// Billing contact (a user of this customer).
    async fn billing_user(&self, ctx: &Context<'_>) -> Result<Option<UserNode>, ApiError> {
        self.read(ctx).await?;
        user(ctx, self.p().role_users.billing_user).await
    }
    /// Receives call recordings (a user of this customer).
    async fn call_recording_user(&self, ctx: &Context<'_>) -> Result<Option<UserNode>, ApiError> {
        self.read(ctx).await?;
        user(ctx, self.p().role_users.call_recording_user).await
    }
    /// Support contact (a user of this customer).
    async fn support_user(&self, ctx: &Context<'_>) -> Result<Option<UserNode>, ApiError> {
        self.read(ctx).await?;
        user(ctx, self.p().role_users.support_user).await
    }
    /// Addresses; at most one default per type.
    async fn addresses(&self, ctx: &Context<'_>) -> Result<Vec<AddressNode>, ApiError> {
        self.read(ctx).await?;
        Ok(self
            .p()
            .addresses
            .iter()
            .cloned()
            .map(AddressNode)
            .collect())
    }
    /// Telephones; at most one default per type.
    async fn telephones(&self, ctx: &Context<'_>) -> Result<Vec<TelephoneNode>, ApiError> {
        self.read(ctx).await?;
        Ok(self
            .p()
            .telephones
            .iter()
            .cloned()
            .map(TelephoneNode)
            .collect())
    }
    /// Legal documents.
    async fn legal_documents(&self, ctx: &Context<'_>) -> Result<Vec<LegalDocumentNode>, ApiError> {
        self.read(ctx).await?;
        Ok(self
            .p()
            .legal_documents
            .iter()
            .cloned()
            .map(LegalDocumentNode)
            .collect())
    }
    /// Origins allowed for CORS (domains, optionally with scheme and port).
    async fn allowed_domains_origins(&self, ctx: &Context<'_>) -> Result<&[String], ApiError> {
        self.read(ctx).await?;
        Ok(&self.p().allowed_domains_origins)
    }
    /// Email domains allowed for user registration.
    async fn allowed_domains_registration(&self, ctx: &Context<'_>) -> Result<&[String], ApiError> {
        self.read(ctx).await?;
        Ok(&self.p().allowed_domains_registration)
    }
    /// Recognised settings (none are defined yet, so always `{}`).
    async fn settings(&self, ctx: &Context<'_>) -> Result<Json, ApiError> {
        self.read(ctx).await?;
        Ok(Json(Value::Object(self.p().settings.clone())))
    }
    /// Free-form metadata.
    async fn metadata(&self, ctx: &Context<'_>) -> Result<Json, ApiError> {
        self.read(ctx).await?;
        Ok(Json(Value::Object(self.p().metadata.clone())))
    }
    /// The one owner user.
    async fn owner(&self, ctx: &Context<'_>) -> Result<UserNode, ApiError> {
        self.read(ctx).await?;
        user(ctx, Some(self.0.owner_user_id)).await?.ok_or_else(|| {
            ApiError::internal(format!(
                "customer {} names owner {} who does not exist",
                self.0.id, self.0.owner_user_id
            ))
        })
    }
    /// The customer's users (the owner included) with their permissions,
    /// `first` (at most 100) at a time; each user is `node.user`. Needs
    /// `USERS_READ`; `customerUsers(customerId:)` lists the same without
    /// `CUSTOMER_READ`.
    #[graphql(complexity = "crate::graphql::connection::complexity(first, child_complexity)")]
    pub(super) async fn users(
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
        members_of(ctx, &self.0, &page).await
    }
    /// The customer's telephony accounts, newest first, `first` (at most
    /// 100) at a time; the same connection as `accounts(filter:
    /// {customerId})`. Needs `ACCOUNTS_READ` on the customer.
    #[graphql(complexity = "crate::graphql::connection::complexity(first, child_complexity)")]
    pub(super) async fn accounts(
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
    /// The customer's audit trail, newest first: changes to the customer
    /// and to its accounts, memberships and invitations (read from an
    /// index, so a change may show a moment later). Admins only.
    #[graphql(
        guard = "crate::graphql::guard::PlatformGuard(crate::domain::access::Action::ReadPlatform)",
        complexity = "crate::graphql::connection::complexity(first, child_complexity)"
    )]
    pub(super) async fn audit_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20, desc = "How many items to return, 0 to 100.")] first: i32,
        #[graphql(
            desc = "The `endCursor` of the previous page, to continue after it; omit for the first page."
        )]
        after: Option<String>,
    ) -> Result<crate::graphql::audit::AuditEventConnection, ApiError> {
        crate::graphql::audit::customer_events(ctx, self.0.id, first, after).await
    }
    /// When the customer was created.
    async fn created_at(&self, ctx: &Context<'_>) -> Result<DateTime, ApiError> {
        self.read(ctx).await?;
        Ok(DateTime(self.0.created_at))
    }
    /// When the customer last changed.
    async fn updated_at(&self, ctx: &Context<'_>) -> Result<DateTime, ApiError> {
        self.read(ctx).await?;
        Ok(DateTime(self.0.updated_at))
    }
    /// Version for optimistic locking; pass it as `expectedVersion`.
    async fn version(&self, ctx: &Context<'_>) -> Result<i32, ApiError> {
        self.read(ctx).await?;
        Ok(int(self.0.version))
    }
    /// Whether a deletion started and was interrupted before it finished
    /// (only such customers, listed with `customers(filter: {deleting:
    /// true})`, have `true`). Call `deleteCustomer` again to finish it.
    async fn deleting(&self, ctx: &Context<'_>) -> Result<bool, ApiError> {
        self.read(ctx).await?;
        Ok(self.0.deleting)
    }
}
