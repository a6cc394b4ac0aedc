//! The validated customer profile and the users holding its roles.

#[allow(clippy::wildcard_imports)]
use super::*;

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
