//! Customers in DynamoDB.
//!
//! Invariants and how they hold under concurrency:
//! - **Unique email, subdomain, hostname and customer key**
//!   (case-insensitive): guard items claimed and released in the same
//!   transaction as the customer. A generated subdomain or key that
//!   collides is regenerated with a random suffix.
//! - **One owner**: `ownerUserId` on the customer, written in the creating
//!   transaction with the owner's membership (and the owner itself when the
//!   email is new).
//! - **Role users are members**: each role set in a write is checked
//!   against the membership item in the same transaction.
//! - **Deletion leaves no orphans and no half-alive customer**: the customer
//!   is first marked `deleting` and taken out of every list, so it stops
//!   resolving at once; dependents are deleted in idempotent batches; the
//!   customer item and its guards go last, in one transaction. A retry after
//!   a crash at any point resumes from the customer item.
//!
//! Conflict and reference errors name the API input path (`input.email`).
//!
//! Here: the stored item and the reads by key; `write` creates and changes,
//! `list` lists and searches, `cascade` terminates and deletes.

mod cascade;
mod list;
mod write;

pub use list::CustomerFilter;

use crate::domain::customer::quotas::{Quotas, Usage};
use std::collections::HashMap;

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{Delete, Put, TransactWriteItem};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::codec::{Item, from_item, key, parse_timestamp, s, timestamp};
use super::error::from_sdk;
use super::transaction::Cancelled;
use super::{Db, StoreError, batch, keys, unique};
use crate::domain::InvalidInput;
use crate::domain::currency::CurrencyCode;
use crate::domain::customer::{
    Address, Billing, Customer, CustomerProfile, CustomerStatus, CustomerType, RoleUsers,
    Telephone, Telephony, generate_customer_key,
};
use crate::domain::legal_document::LegalDocument;

const ENTITY: &str = "Customer";
const EMAIL_KIND: &str = "CUSTOMER_EMAIL";
const SUBDOMAIN_KIND: &str = "CUSTOMER_SUBDOMAIN";
const HOSTNAME_KIND: &str = "CUSTOMER_HOSTNAME";
const KEY_KIND: &str = "CUSTOMER_KEY";
/// Attempts at a write that may collide (generated values, optimistic
/// reads) before giving up with `CONFLICT`.
const WRITE_ATTEMPTS: u32 = 10;
/// Items per deletion batch query.
const DELETE_PAGE: i32 = 100;
/// Attributes a profile diff never touches.
const NOT_PROFILE: &[&str] = &[
    "pk",
    "sk",
    "entity",
    "id",
    "createdAt",
    "updatedAt",
    "version",
    "accountCount",
    "memberCount",
    "purchasedCpsTotal",
    "purchasedConcurrentCallsTotal",
    "maxAccounts",
    "maxUsers",
    "maxPurchasedCps",
    "maxPurchasedConcurrentCalls",
    "createdByIp",
];
/// Index key attributes removed while a customer is being deleted (GSI1
/// moves to [`keys::DELETING_CUSTOMERS`] instead).
const FILTER_INDEX_KEYS: [&str; 4] = ["gsi2pk", "gsi2sk", "gsi3pk", "gsi3sk"];
/// Accounts deleted per transaction in a cascade: two items each (account
/// and auth-id guard) plus at most one tier count each stay under
/// DynamoDB's 100 items per transaction.
const ACCOUNTS_PER_TRANSACTION: usize = 30;

/// A customer as stored. Not the API shape: guards' inputs, index keys and
/// the deletion marker live here only.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CustomerItem {
    pk: String,
    sk: String,
    entity: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    gsi1pk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    gsi1sk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    gsi2pk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    gsi2sk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    gsi3pk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    gsi3sk: Option<String>,
    id: String,
    customer_type: CustomerType,
    first_name: String,
    last_name: String,
    email: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    company_name: Option<String>,
    country: String,
    currency: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    language: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    external_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tenant_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    customer_prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    hostname: Option<String>,
    subdomain: String,
    delinquent: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    website_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    logo: Option<String>,
    billing: Billing,
    telephony: Telephony,
    role_users: RoleUsers,
    addresses: Vec<Address>,
    telephones: Vec<Telephone>,
    legal_documents: Vec<LegalDocument>,
    allowed_domains_origins: Vec<String>,
    allowed_domains_registration: Vec<String>,
    settings: Map<String, Value>,
    metadata: Map<String, Value>,
    status: CustomerStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status_changed_at: Option<String>,
    customer_key: String,
    owner_user_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    low_balance_alert_at: Option<String>,
    #[serde(default)]
    low_balance_alert_count: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    deleting: Option<bool>,
    /// The search terms written for this customer, so that an update or a
    /// deletion removes exactly those, even after the folding code changed.
    /// Absent on items written before terms were stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    search_terms: Option<Vec<String>>,
    /// How many accounts the customer has, kept by the accounts' own
    /// transactions. The deletion's last step is conditioned on it being
    /// zero, so an account the accounts index has not shown yet (index
    /// writes lag on DynamoDB) can never be orphaned. Absent on items
    /// written before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    account_count: Option<i64>,
    /// Members, the owner included, kept by the memberships' own
    /// transactions (absent on items from before quotas).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    member_count: Option<i64>,
    /// Purchased capacity over all accounts, kept by the accounts' own
    /// transactions (absent on items from before quotas).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    purchased_cps_total: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    purchased_concurrent_calls_total: Option<i64>,
    /// Quotas; absent means unlimited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_accounts: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_users: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_purchased_cps: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_purchased_concurrent_calls: Option<u32>,
    /// The address of the request that created it (seed 000: createdByIP).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    created_by_ip: Option<String>,
    created_at: String,
    updated_at: String,
    version: u64,
}

/// A kept counter as a count (absent or, after drift, negative: 0).
fn count(counter: Option<i64>) -> u64 {
    counter.and_then(|c| u64::try_from(c).ok()).unwrap_or(0)
}

impl CustomerItem {
    /// A new item for customer `id`, without its profile (see
    /// [`Self::set_profile`]), with a fresh customer key.
    fn new(id: &str, status: CustomerStatus, owner_id: Uuid) -> Self {
        let now = timestamp(Utc::now());
        let (pk, sk) = keys::customer(id);
        Self {
            pk,
            sk,
            entity: ENTITY.into(),
            gsi1pk: Some(keys::ALL_CUSTOMERS.into()),
            gsi1sk: Some(id.to_owned()),
            gsi2pk: Some(keys::customers_with_status(status.as_str())),
            gsi2sk: Some(id.to_owned()),
            gsi3pk: None,
            gsi3sk: Some(id.to_owned()),
            id: id.to_owned(),
            customer_type: CustomerType::Personal,
            first_name: String::new(),
            last_name: String::new(),
            email: String::new(),
            company_name: None,
            country: String::new(),
            currency: String::new(),
            language: None,
            external_id: None,
            tenant_id: None,
            customer_prefix: None,
            hostname: None,
            subdomain: String::new(),
            delinquent: false,
            website_url: None,
            logo: None,
            billing: Billing::default(),
            telephony: Telephony::default(),
            role_users: RoleUsers::default(),
            addresses: Vec::new(),
            telephones: Vec::new(),
            legal_documents: Vec::new(),
            allowed_domains_origins: Vec::new(),
            allowed_domains_registration: Vec::new(),
            settings: Map::new(),
            metadata: Map::new(),
            status,
            status_reason: None,
            status_changed_at: None,
            customer_key: generate_customer_key(),
            owner_user_id: owner_id.to_string(),
            low_balance_alert_at: None,
            low_balance_alert_count: 0,
            deleting: None,
            search_terms: None,
            account_count: Some(0),
            member_count: Some(1),
            purchased_cps_total: Some(0),
            purchased_concurrent_calls_total: Some(0),
            max_accounts: None,
            max_users: None,
            max_purchased_cps: None,
            max_purchased_concurrent_calls: None,
            created_by_ip: None,
            created_at: now.clone(),
            updated_at: now,
            version: 1,
        }
    }

    /// Copies every profile field (and the country index key) onto the item.
    fn set_profile(&mut self, p: &CustomerProfile) {
        self.customer_type = p.customer_type;
        self.first_name.clone_from(&p.first_name);
        self.last_name.clone_from(&p.last_name);
        self.email.clone_from(&p.email);
        self.company_name.clone_from(&p.company_name);
        self.country.clone_from(&p.country);
        p.currency.code().clone_into(&mut self.currency);
        self.language.clone_from(&p.language);
        self.external_id.clone_from(&p.external_id);
        self.tenant_id.clone_from(&p.tenant_id);
        self.customer_prefix.clone_from(&p.customer_prefix);
        self.hostname.clone_from(&p.hostname);
        if let Some(subdomain) = &p.subdomain {
            self.subdomain.clone_from(subdomain);
        }
        self.delinquent = p.delinquent;
        self.website_url.clone_from(&p.website_url);
        self.logo.clone_from(&p.logo);
        self.billing = p.billing;
        self.telephony = p.telephony;
        self.role_users = p.role_users;
        self.addresses.clone_from(&p.addresses);
        self.telephones.clone_from(&p.telephones);
        self.legal_documents.clone_from(&p.legal_documents);
        self.allowed_domains_origins
            .clone_from(&p.allowed_domains_origins);
        self.allowed_domains_registration
            .clone_from(&p.allowed_domains_registration);
        self.settings.clone_from(&p.settings);
        self.metadata.clone_from(&p.metadata);
        if self.deleting.is_none() {
            self.gsi3pk = Some(keys::customers_in_country(&p.country));
        }
        self.search_terms = Some(p.search_terms());
    }

    fn profile(&self) -> Result<CustomerProfile, StoreError> {
        Ok(CustomerProfile {
            customer_type: self.customer_type,
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            email: self.email.clone(),
            company_name: self.company_name.clone(),
            country: self.country.clone(),
            currency: CurrencyCode::parse(&self.currency).map_err(StoreError::internal)?,
            language: self.language.clone(),
            external_id: self.external_id.clone(),
            tenant_id: self.tenant_id.clone(),
            customer_prefix: self.customer_prefix.clone(),
            hostname: self.hostname.clone(),
            subdomain: Some(self.subdomain.clone()),
            delinquent: self.delinquent,
            website_url: self.website_url.clone(),
            logo: self.logo.clone(),
            billing: self.billing,
            telephony: self.telephony,
            role_users: self.role_users,
            addresses: self.addresses.clone(),
            telephones: self.telephones.clone(),
            legal_documents: self.legal_documents.clone(),
            allowed_domains_origins: self.allowed_domains_origins.clone(),
            allowed_domains_registration: self.allowed_domains_registration.clone(),
            settings: self.settings.clone(),
            metadata: self.metadata.clone(),
        })
    }

    fn into_domain(self) -> Result<Customer, StoreError> {
        let parse_id = |raw: &str| Uuid::parse_str(raw).map_err(StoreError::internal);
        Ok(Customer {
            id: parse_id(&self.id)?,
            profile: self.profile()?,
            status: self.status,
            status_reason: self.status_reason.clone(),
            customer_key: self.customer_key.clone(),
            owner_user_id: parse_id(&self.owner_user_id)?,
            low_balance_alert_at: self
                .low_balance_alert_at
                .as_deref()
                .map(parse_timestamp)
                .transpose()?,
            low_balance_alert_count: self.low_balance_alert_count,
            deleting: self.deleting.unwrap_or(false),
            created_by_ip: self.created_by_ip,
            quotas: Quotas {
                max_accounts: self.max_accounts,
                max_users: self.max_users,
                max_purchased_cps: self.max_purchased_cps,
                max_purchased_concurrent_calls: self.max_purchased_concurrent_calls,
            },
            usage: Usage {
                accounts: count(self.account_count),
                users: count(self.member_count),
                purchased_cps: count(self.purchased_cps_total),
                purchased_concurrent_calls: count(self.purchased_concurrent_calls_total),
            },
            created_at: parse_timestamp(&self.created_at)?,
            updated_at: parse_timestamp(&self.updated_at)?,
            version: self.version,
        })
    }

    /// Every unique value this customer holds, with its guard kind.
    fn guarded_values(&self) -> Vec<(&'static str, String)> {
        let mut values = vec![
            (EMAIL_KIND, self.email.clone()),
            (SUBDOMAIN_KIND, self.subdomain.clone()),
            (KEY_KIND, self.customer_key.clone()),
        ];
        if let Some(hostname) = &self.hostname {
            values.push((HOSTNAME_KIND, hostname.clone()));
        }
        values
    }

    /// The search-term items this customer has: the stored list, or for an
    /// item from before terms were stored, the terms its profile folds to.
    fn search_terms(&self) -> Result<Vec<String>, StoreError> {
        match &self.search_terms {
            Some(terms) => Ok(terms.clone()),
            None => Ok(self.profile()?.search_terms()),
        }
    }
}

/// An account as a cascade sees it: its key, its auth id (whose guard goes
/// with it) and the tier whose count it holds.
#[derive(Debug, Clone)]
struct AccountRef {
    key: Item,
    auth_id: Option<String>,
    tier: Option<String>,
}

/// The role each item plays in a transaction, to read cancellation reasons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Customer,
    Claim(&'static str),
    Release,
    NewOwner,
    OwnerEmail,
    ExistingOwner,
    Membership,
    SearchTerm,
    Role(&'static str),
    Idempotency,
    /// The audit event (unconditional; never fails).
    Audit,
}

fn failed(parts: &[Part], cancelled: &Cancelled) -> Vec<Part> {
    parts
        .iter()
        .enumerate()
        .filter(|(i, _)| cancelled.condition_failed(*i))
        .map(|(_, p)| *p)
        .collect()
}

fn taken(kind: &str, value: &str) -> StoreError {
    let (field, what) = match kind {
        EMAIL_KIND => ("input.email", "email"),
        SUBDOMAIN_KIND => ("input.subdomain", "subdomain"),
        HOSTNAME_KIND => ("input.hostname", "hostname"),
        _ => ("input", "value"),
    };
    StoreError::Conflict {
        field: Some(field),
        message: format!("another customer already has the {what} `{value}`"),
    }
}

fn not_a_member(role: &'static str) -> StoreError {
    let field = match role {
        "adminUser" => "input.adminUser",
        "billingUser" => "input.billingUser",
        "callRecordingUser" => "input.callRecordingUser",
        _ => "input.supportUser",
    };
    StoreError::InvalidInput(InvalidInput::new(field, "is not a user of this customer"))
}

fn not_found(id: Uuid) -> StoreError {
    StoreError::NotFound {
        entity: "Customer",
        id: id.to_string(),
    }
}

fn too_much_contention() -> StoreError {
    StoreError::Conflict {
        field: None,
        message: "the customer was being changed concurrently; try again".into(),
    }
}

fn search_term_put(db: &Db, term: &str, id: &str) -> Result<TransactWriteItem, StoreError> {
    let mut item = key(keys::customer_search_term(term, id));
    item.insert("entity".into(), s("CustomerSearchTerm"));
    item.insert("customerId".into(), s(id));
    let put = Put::builder()
        .table_name(db.table.as_ref())
        .set_item(Some(item))
        .build()
        .map_err(StoreError::internal)?;
    Ok(TransactWriteItem::builder().put(put).build())
}

fn search_term_delete(db: &Db, term: &str, id: &str) -> Result<TransactWriteItem, StoreError> {
    let delete = Delete::builder()
        .table_name(db.table.as_ref())
        .set_key(Some(key(keys::customer_search_term(term, id))))
        .build()
        .map_err(StoreError::internal)?;
    Ok(TransactWriteItem::builder().delete(delete).build())
}

/// Whether an `UpdateItem` failed only because its condition did not hold.
fn condition_failed<R>(err: &SdkError<UpdateItemError, R>) -> bool {
    err.as_service_error()
        .is_some_and(UpdateItemError::is_conditional_check_failed_exception)
}

/// Four random characters that make a taken subdomain unique.
fn random_suffix() -> String {
    crate::domain::random::string_from(crate::domain::customer::KEY_ALPHABET, 4)
}

/// The customer a stored customer item holds, unless it is being deleted.
pub(crate) fn live_from_item(item: Item) -> Result<Option<Customer>, StoreError> {
    let item: CustomerItem = from_item(item)?;
    if item.deleting.is_some() {
        return Ok(None);
    }
    item.into_domain().map(Some)
}

/// Reads and writes customers.
#[derive(Clone, Debug)]
pub struct Customers {
    db: Db,
}

impl Customers {
    pub(crate) fn new(db: Db) -> Self {
        Self { db }
    }

    async fn get_item(&self, id: &str) -> Result<Option<CustomerItem>, StoreError> {
        let output = self
            .db
            .client
            .get_item()
            .table_name(self.db.table.as_ref())
            .set_key(Some(key(keys::customer(id))))
            .consistent_read(true)
            .send()
            .await
            .map_err(from_sdk)?;
        output.item.map(from_item).transpose()
    }

    /// A live customer's item (not one being deleted).
    async fn live_item(&self, id: Uuid) -> Result<Option<CustomerItem>, StoreError> {
        Ok(self
            .get_item(&id.to_string())
            .await?
            .filter(|item| item.deleting.is_none()))
    }

    /// The customer with `id`, or `None` (also while it is being deleted).
    pub async fn get(&self, id: Uuid) -> Result<Option<Customer>, StoreError> {
        self.live_item(id)
            .await?
            .map(CustomerItem::into_domain)
            .transpose()
    }

    /// Several customers at once; missing or deleting ones are left out.
    pub async fn get_many(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, Customer>, StoreError> {
        let keys = ids
            .iter()
            .map(|id| key(keys::customer(&id.to_string())))
            .collect();
        let mut found = HashMap::new();
        for item in batch::get_all(&self.db, keys).await? {
            if let Some(customer) = live_from_item(item)? {
                found.insert(customer.id, customer);
            }
        }
        Ok(found)
    }

    /// The customer with this email (case-insensitive).
    pub async fn get_by_email(&self, email: &str) -> Result<Option<Customer>, StoreError> {
        match unique::owner_of(&self.db, EMAIL_KIND, email).await? {
            Some(id) => self.get(id).await,
            None => Ok(None),
        }
    }

    /// The customer with this customer key.
    pub async fn get_by_key(&self, customer_key: &str) -> Result<Option<Customer>, StoreError> {
        match unique::owner_of(&self.db, KEY_KIND, customer_key).await? {
            Some(id) => self.get(id).await,
            None => Ok(None),
        }
    }
}
