//! What a client sends before validation, and the stored profile turned
//! back into a draft so a patch can be applied and parsed again.

#[allow(clippy::wildcard_imports)]
use super::*;

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
