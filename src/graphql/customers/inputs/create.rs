//! `CreateCustomerInput`: a new customer and its owner.

use async_graphql::{ID, InputObject};

use super::super::types::{BillMethod, CustomerStatus, CustomerType};
use super::{
    AddressInput, LegalDocumentInput, TelephoneInput, amount, empty_object, role_id, zero,
};
use crate::domain::InvalidInput;
use crate::domain::customer::{self as model, CustomerDraft, NewCustomer};
use crate::graphql::scalars::{Decimal, Json};

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

impl CreateCustomerInput {
    pub(in crate::graphql::customers) fn into_new_customer(
        self,
    ) -> Result<NewCustomer, InvalidInput> {
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
