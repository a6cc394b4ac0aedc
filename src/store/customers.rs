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

use std::collections::HashMap;

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeValue, Delete, Put, ReturnValue, TransactWriteItem, Update,
};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::codec::{Item, ensure_fits, from_item, key, n, parse_timestamp, s, timestamp, to_item};
use super::error::{ensure_version, from_sdk};
use super::idempotency::IdempotencyKey;
use super::invitations::Invitations;
use super::memberships::{self, MemberRole, Memberships};
use super::paging::fill_page;
use super::transaction::{Cancelled, TxError, backoff, transact};
use super::update::UpdateBuilder;
use super::users::Users;
use super::{Db, StoreError, batch, cursor, keys, unique};
use crate::domain::InvalidInput;
use crate::domain::currency::CurrencyCode;
use crate::domain::customer::{
    Address, Billing, Customer, CustomerProfile, CustomerStatus, CustomerType, RoleUsers,
    Telephone, Telephony, generate_customer_key, search_key,
};
use crate::domain::legal_document::LegalDocument;
use crate::domain::page::{Page, PageRequest};
use crate::domain::user::NewUser;

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
    created_at: String,
    updated_at: String,
    version: u64,
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

/// Filters of `customers(filter:)`; all optional, combined with AND.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomerFilter {
    /// Only this status.
    pub status: Option<CustomerStatus>,
    /// Only this type.
    pub customer_type: Option<CustomerType>,
    /// Only this country (ISO 3166-1 alpha-2).
    pub country: Option<String>,
    /// Prefix of email, company, first or last name, already normalised
    /// with [`search_key`] and at least two characters long.
    pub search: Option<String>,
    /// Only customers whose deletion started and has not finished (a crash
    /// or timeout interrupted it); they appear in no other list.
    pub deleting: bool,
}

impl CustomerFilter {
    /// The index, its key attributes and the partition that serve this
    /// filter best (see `docs/data-model.md`).
    fn index(&self) -> (&'static str, &'static str, &'static str, String) {
        if self.deleting {
            (
                keys::GSI1,
                "gsi1pk",
                "gsi1sk",
                keys::DELETING_CUSTOMERS.to_owned(),
            )
        } else if let Some(status) = self.status {
            (
                keys::GSI2,
                "gsi2pk",
                "gsi2sk",
                keys::customers_with_status(status.as_str()),
            )
        } else if let Some(country) = &self.country {
            (
                keys::GSI3,
                "gsi3pk",
                "gsi3sk",
                keys::customers_in_country(country),
            )
        } else {
            (
                keys::GSI1,
                "gsi1pk",
                "gsi1sk",
                keys::ALL_CUSTOMERS.to_owned(),
            )
        }
    }

    /// The filter expression for what [`Self::index`] does not narrow by,
    /// with its attribute names and values.
    #[expect(
        clippy::type_complexity,
        reason = "the three parts the query builder takes"
    )]
    fn remaining_conditions(
        &self,
    ) -> (
        Option<String>,
        Option<HashMap<String, String>>,
        HashMap<String, AttributeValue>,
    ) {
        let mut conditions = Vec::new();
        let mut values = HashMap::new();
        if let Some(t) = self.customer_type {
            conditions.push("customerType = :type");
            values.insert(
                ":type".into(),
                s(if t == CustomerType::Business {
                    "BUSINESS"
                } else {
                    "PERSONAL"
                }),
            );
        }
        if let (Some(status), true) = (self.status, self.deleting) {
            conditions.push("#status = :status");
            values.insert(":status".into(), s(status.as_str()));
        }
        if let (Some(country), true) = (&self.country, self.status.is_some() || self.deleting) {
            conditions.push("country = :country");
            values.insert(":country".into(), s(country.clone()));
        }
        let names = (self.status.is_some() && self.deleting)
            .then(|| HashMap::from([("#status".to_owned(), "status".to_owned())]));
        let expression = (!conditions.is_empty()).then(|| conditions.join(" AND "));
        (expression, names, values)
    }

    fn matches(&self, customer: &Customer) -> bool {
        self.status.is_none_or(|s| s == customer.status)
            && self
                .customer_type
                .is_none_or(|t| t == customer.profile.customer_type)
            && self
                .country
                .as_ref()
                .is_none_or(|c| *c == customer.profile.country)
    }
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

fn random_suffix() -> String {
    (0..4)
        .map(|_| char::from(b"23456789abcdefghjkmnpqrstuvwxyz"[fastrand::usize(..31)]))
        .collect()
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
            let item: CustomerItem = from_item(item)?;
            if item.deleting.is_none() {
                let customer = item.into_domain()?;
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

    /// Creates a customer with its owner. When a user with `owner.email`
    /// exists it becomes the owner (its password untouched); otherwise
    /// `owner` is created. All in one transaction.
    pub async fn create(
        &self,
        profile: &CustomerProfile,
        status: CustomerStatus,
        owner: &NewUser,
        idempotency: Option<&IdempotencyKey>,
    ) -> Result<Customer, StoreError> {
        let users = Users::new(self.db.clone());
        let mut existing_owner = users.id_by_email(&owner.email).await?;
        let base = profile.subdomain_base();
        let chosen_subdomain = profile.subdomain.is_some();
        // Set once the generated subdomain is found taken; later attempts
        // then add a random suffix.
        let mut base_taken = false;
        for attempt in 0..WRITE_ATTEMPTS {
            if attempt > 0 {
                backoff(attempt).await;
            }
            let id = Uuid::now_v7().to_string();
            let owner_id = existing_owner.unwrap_or_else(Uuid::now_v7);
            for (role, user) in profile.role_users.named() {
                if user.is_some_and(|u| u != owner_id) {
                    return Err(not_a_member(role));
                }
            }
            let mut profile = profile.clone();
            if profile.subdomain.is_none() {
                profile.subdomain = Some(if base_taken {
                    format!("{base}-{}", random_suffix())
                } else {
                    base.clone()
                });
            }
            let mut item = CustomerItem::new(&id, status, owner_id);
            item.set_profile(&profile);
            let new_item = to_item(&item)?;
            ensure_fits(&new_item, "input")?;
            let put = Put::builder()
                .table_name(self.db.table.as_ref())
                .set_item(Some(new_item))
                .condition_expression("attribute_not_exists(pk)")
                .build()
                .map_err(StoreError::internal)?;
            let mut items = vec![TransactWriteItem::builder().put(put).build()];
            let mut parts = vec![Part::Customer];
            for (kind, value) in item.guarded_values() {
                items.push(unique::claim(&self.db, kind, &value, &id)?);
                parts.push(Part::Claim(kind));
            }
            self.owner_items(
                existing_owner.is_some(),
                owner_id,
                owner,
                &mut items,
                &mut parts,
            )?;
            items.push(memberships::put_item(
                &self.db,
                &id,
                &owner_id.to_string(),
                MemberRole::Owner,
            )?);
            parts.push(Part::Membership);
            for term in item.search_terms()? {
                items.push(search_term_put(&self.db, &term, &id)?);
                parts.push(Part::SearchTerm);
            }
            if let Some(key) = idempotency {
                items.push(key.claim(&self.db, &id)?);
                parts.push(Part::Idempotency);
            }
            match transact(&self.db, items).await {
                Ok(()) => return item.into_domain(),
                Err(TxError::Store(err)) => return Err(err),
                Err(TxError::Cancelled(c)) => {
                    let failed = failed(&parts, &c);
                    if failed.contains(&Part::Idempotency) {
                        return Err(StoreError::IdempotencyKeyTaken);
                    }
                    let value_of = |kind| {
                        item.guarded_values()
                            .into_iter()
                            .find(|(k, _)| *k == kind)
                            .map(|(_, v)| v)
                            .unwrap_or_default()
                    };
                    for kind in [EMAIL_KIND, HOSTNAME_KIND] {
                        if failed.contains(&Part::Claim(kind)) {
                            return Err(taken(kind, &value_of(kind)));
                        }
                    }
                    if failed.contains(&Part::Claim(SUBDOMAIN_KIND)) {
                        if chosen_subdomain {
                            return Err(taken(SUBDOMAIN_KIND, &value_of(SUBDOMAIN_KIND)));
                        }
                        base_taken = true;
                    }
                    if failed.contains(&Part::OwnerEmail) {
                        existing_owner = users.id_by_email(&owner.email).await?;
                    } else if failed.contains(&Part::ExistingOwner) {
                        existing_owner = None;
                    }
                    // A generated subdomain or key collided, or the owner
                    // changed under us: try again with fresh values.
                }
            }
        }
        Err(too_much_contention())
    }

    /// The owner's items in a creating transaction: a check that an
    /// existing owner is still there, or the new owner with its guards and
    /// search terms.
    fn owner_items(
        &self,
        existing: bool,
        owner_id: Uuid,
        owner: &NewUser,
        items: &mut Vec<TransactWriteItem>,
        parts: &mut Vec<Part>,
    ) -> Result<(), StoreError> {
        if existing {
            items.push(Users::exists_check(&self.db, owner_id)?);
            parts.push(Part::ExistingOwner);
        } else {
            let user_items = Users::create_items(&self.db, owner_id, owner)?;
            parts.extend([Part::NewOwner, Part::OwnerEmail]);
            parts.extend(std::iter::repeat_n(
                Part::SearchTerm,
                user_items.len().saturating_sub(2),
            ));
            items.extend(user_items);
        }
        Ok(())
    }

    /// Applies a patch: `apply` turns the current customer into the new
    /// profile (validating it); only changed attributes are written. With
    /// `expected_version`, fails with a conflict unless the customer is at
    /// that version; without, a concurrent change is re-read and the patch
    /// applied again.
    pub async fn update(
        &self,
        id: Uuid,
        expected_version: Option<u64>,
        apply: impl Fn(&Customer) -> Result<CustomerProfile, InvalidInput>,
    ) -> Result<Customer, StoreError> {
        let id_s = id.to_string();
        for attempt in 0..WRITE_ATTEMPTS {
            if attempt > 0 {
                backoff(attempt).await;
            }
            let current_item = self.live_item(id).await?.ok_or_else(|| not_found(id))?;
            ensure_version("customer", expected_version, current_item.version)?;
            let current = current_item.clone().into_domain()?;
            let profile = apply(&current).map_err(StoreError::InvalidInput)?;
            if profile == current.profile {
                return Ok(current);
            }
            let mut new_item = current_item.clone();
            new_item.set_profile(&profile);
            let old_map = to_item(&current_item)?;
            let new_map = to_item(&new_item)?;
            ensure_fits(&new_map, "input")?;
            let mut u = UpdateBuilder::diff(&old_map, &new_map, NOT_PROFILE);
            if u.is_empty() {
                return Ok(current);
            }
            u.set("updatedAt", s(timestamp(Utc::now())));
            u.increment("version", 1);
            let version = u.name("version");
            let deleting = u.name("deleting");
            u.value(":expected", n(current_item.version));
            let (expression, names, values) = u.build();
            let update = Update::builder()
                .table_name(self.db.table.as_ref())
                .set_key(Some(key(keys::customer(&id_s))))
                .update_expression(expression)
                .condition_expression(format!(
                    "{version} = :expected AND attribute_not_exists({deleting})"
                ))
                .set_expression_attribute_names(Some(names))
                .set_expression_attribute_values(Some(values))
                .build()
                .map_err(StoreError::internal)?;
            let mut items = vec![TransactWriteItem::builder().update(update).build()];
            let mut parts = vec![Part::Customer];
            let new_values = new_item.guarded_values();
            self.side_items(
                &current_item,
                &new_item,
                &current.profile,
                &profile,
                &mut items,
                &mut parts,
            )?;
            match transact(&self.db, items).await {
                Ok(()) => {
                    return self.get(id).await?.ok_or_else(|| not_found(id));
                }
                Err(TxError::Store(err)) => return Err(err),
                Err(TxError::Cancelled(c)) => {
                    let failed = failed(&parts, &c);
                    for part in &failed {
                        match part {
                            Part::Claim(kind) => {
                                let value = new_values
                                    .iter()
                                    .find(|(k, _)| k == kind)
                                    .map(|(_, v)| v.clone())
                                    .unwrap_or_default();
                                return Err(taken(kind, &value));
                            }
                            Part::Role(role) => return Err(not_a_member(role)),
                            _ => {}
                        }
                    }
                    if expected_version.is_some() && failed.contains(&Part::Customer) {
                        let now = self.live_item(id).await?.ok_or_else(|| not_found(id))?;
                        return Err(StoreError::Conflict {
                            field: Some("expectedVersion"),
                            message: format!(
                                "the customer changed concurrently and is now at version {}",
                                now.version
                            ),
                        });
                    }
                    // Changed since read: read again and re-apply.
                }
            }
        }
        Err(too_much_contention())
    }

    /// The items an update needs besides the customer's own: guard swaps for
    /// changed unique values, search-term changes, and membership checks for
    /// newly assigned role users.
    fn side_items(
        &self,
        current_item: &CustomerItem,
        new_item: &CustomerItem,
        current: &CustomerProfile,
        profile: &CustomerProfile,
        items: &mut Vec<TransactWriteItem>,
        parts: &mut Vec<Part>,
    ) -> Result<(), StoreError> {
        let id_s = current_item.id.as_str();
        let old_values = current_item.guarded_values();
        let new_values = new_item.guarded_values();
        for (kind, old) in &old_values {
            let new = new_values.iter().find(|(k, _)| k == kind).map(|(_, v)| v);
            if new.is_none_or(|v| unique::normalize(v) != unique::normalize(old)) {
                items.push(unique::release(&self.db, kind, old, id_s)?);
                parts.push(Part::Release);
            }
        }
        for (kind, new) in &new_values {
            let old = old_values.iter().find(|(k, _)| k == kind).map(|(_, v)| v);
            if old.is_none_or(|v| unique::normalize(v) != unique::normalize(new)) {
                items.push(unique::claim(&self.db, kind, new, id_s)?);
                parts.push(Part::Claim(kind));
            }
        }
        let old_terms = current_item.search_terms()?;
        let new_terms = profile.search_terms();
        for term in old_terms.iter().filter(|t| !new_terms.contains(t)) {
            items.push(search_term_delete(&self.db, term, id_s)?);
            parts.push(Part::SearchTerm);
        }
        for term in new_terms.iter().filter(|t| !old_terms.contains(t)) {
            items.push(search_term_put(&self.db, term, id_s)?);
            parts.push(Part::SearchTerm);
        }
        let before = current.role_users.named();
        let mut checked = Vec::new();
        for (i, (role, user)) in profile.role_users.named().into_iter().enumerate() {
            // One check per user: a transaction may touch an item only once.
            if let Some(user) = user
                && before[i].1 != Some(user)
                && !checked.contains(&user)
            {
                checked.push(user);
                items.push(memberships::exists_check(
                    &self.db,
                    id_s,
                    &user.to_string(),
                )?);
                parts.push(Part::Role(role));
            }
        }
        Ok(())
    }

    /// Moves the customer to `status`, recording `reason`. Allowed moves are
    /// [`CustomerStatus::can_become`]; asking for the current status changes
    /// nothing. Terminating also flags every account of the customer
    /// inactive and disabled (again, on a repeated call, so an interrupted
    /// termination can be finished).
    pub async fn set_status(
        &self,
        id: Uuid,
        status: CustomerStatus,
        reason: Option<String>,
    ) -> Result<Customer, StoreError> {
        let id_s = id.to_string();
        for attempt in 0..WRITE_ATTEMPTS {
            if attempt > 0 {
                backoff(attempt).await;
            }
            let current = self.live_item(id).await?.ok_or_else(|| not_found(id))?;
            if current.status == status {
                if status == CustomerStatus::Terminated {
                    self.deactivate_accounts(&id_s).await?;
                }
                return current.into_domain();
            }
            if !current.status.can_become(status) {
                return Err(StoreError::FailedPrecondition(format!(
                    "a {} customer cannot become {}",
                    current.status.as_str(),
                    status.as_str()
                )));
            }
            let now = timestamp(Utc::now());
            let mut u = UpdateBuilder::default();
            u.set("status", s(status.as_str()))
                .set("gsi2pk", s(keys::customers_with_status(status.as_str())))
                .set("statusChangedAt", s(now.clone()))
                .set("updatedAt", s(now))
                .increment("version", 1);
            match &reason {
                Some(reason) => u.set("statusReason", s(reason.clone())),
                None => u.remove("statusReason"),
            };
            let status_name = u.name("status");
            let deleting = u.name("deleting");
            u.value(":current", s(current.status.as_str()));
            let (expression, names, values) = u.build();
            let result = self
                .db
                .client
                .update_item()
                .table_name(self.db.table.as_ref())
                .set_key(Some(key(keys::customer(&id_s))))
                .update_expression(expression)
                .condition_expression(format!(
                    "{status_name} = :current AND attribute_not_exists({deleting})"
                ))
                .set_expression_attribute_names(Some(names))
                .set_expression_attribute_values(Some(values))
                .send()
                .await;
            match result {
                Ok(_) => {
                    if status == CustomerStatus::Terminated {
                        self.deactivate_accounts(&id_s).await?;
                    }
                    return self.get(id).await?.ok_or_else(|| not_found(id));
                }
                Err(err) if condition_failed(&err) => {}
                Err(err) => return Err(from_sdk(err)),
            }
        }
        Err(too_much_contention())
    }

    /// Flags every account of the customer inactive and disabled. Accounts
    /// are listed on GSI1 under `CUSTOMER#<id>#ACCOUNTS`; each update is
    /// idempotent.
    async fn deactivate_accounts(&self, id: &str) -> Result<(), StoreError> {
        let mut start = None;
        loop {
            let page = self.account_keys_page(id, start.take()).await?;
            for account in &page.0 {
                let result = self
                    .db
                    .client
                    .update_item()
                    .table_name(self.db.table.as_ref())
                    .set_key(Some(account.key.clone()))
                    .update_expression("SET isActive = :false, enabled = :false, updatedAt = :now")
                    .condition_expression("attribute_exists(pk)")
                    .expression_attribute_values(":false", AttributeValue::Bool(false))
                    .expression_attribute_values(":now", s(timestamp(Utc::now())))
                    .send()
                    .await;
                if let Err(err) = result
                    && !condition_failed(&err)
                {
                    return Err(from_sdk(err));
                }
            }
            match page.1 {
                Some(last) => start = Some(last),
                None => return Ok(()),
            }
        }
    }

    /// One page of a customer's accounts, as the cascade needs them, and
    /// where the next page starts.
    async fn account_keys_page(
        &self,
        id: &str,
        start: Option<Item>,
    ) -> Result<(Vec<AccountRef>, Option<Item>), StoreError> {
        let output = self
            .db
            .client
            .query()
            .table_name(self.db.table.as_ref())
            .index_name(keys::GSI1)
            .key_condition_expression("gsi1pk = :pk")
            .expression_attribute_values(":pk", s(keys::customer_accounts(id)))
            .projection_expression("pk, sk, authId, pricingTierId")
            .limit(DELETE_PAGE)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(from_sdk)?;
        let items = output
            .items
            .unwrap_or_default()
            .into_iter()
            .map(|mut item| {
                let mut text = |name: &str| item.remove(name).and_then(|v| v.as_s().ok().cloned());
                let auth_id = text("authId");
                let tier = text("pricingTierId");
                AccountRef {
                    key: item,
                    auth_id,
                    tier,
                }
            })
            .collect();
        Ok((items, output.last_evaluated_key))
    }

    /// Deletes a `TERMINATED` customer with its memberships, accounts (and
    /// their places on their pricing tiers), invitations, search terms and
    /// guards (its users remain: they may belong to other customers). Safe
    /// with any number of dependents, safe to retry after a crash at any
    /// point, and safe to call several times at once: every call that finds
    /// the customer answers success once it is gone.
    pub async fn delete(&self, id: Uuid) -> Result<(), StoreError> {
        let id_s = id.to_string();
        let item = self.mark_deleting(id).await?;

        loop {
            let page = Memberships::keys_page(&self.db, &id_s, DELETE_PAGE).await?;
            if page.is_empty() {
                break;
            }
            batch::delete_all(&self.db, page).await?;
        }
        // Forward through the index: a page's accounts are gone before the
        // next is read, and no account can be added to a terminated
        // customer, so every account is seen once.
        let mut start = None;
        loop {
            let (accounts, next) = self.account_keys_page(&id_s, start.take()).await?;
            for chunk in accounts.chunks(ACCOUNTS_PER_TRANSACTION) {
                self.delete_accounts(chunk.to_vec()).await?;
            }
            match next {
                Some(next) => start = Some(next),
                None => break,
            }
        }
        Invitations::delete_for_customer(&self.db, &id_s).await?;
        let mut terms = item.search_terms()?;
        // Terms the current folding gives too, in case an item's stored list
        // predates a change of folding.
        for term in item.profile()?.search_terms() {
            if !terms.contains(&term) {
                terms.push(term);
            }
        }
        let terms = terms
            .iter()
            .map(|term| key(keys::customer_search_term(term, &id_s)))
            .collect();
        batch::delete_all(&self.db, terms).await?;

        let delete = Delete::builder()
            .table_name(self.db.table.as_ref())
            .set_key(Some(key(keys::customer(&id_s))))
            .condition_expression("deleting = :true")
            .expression_attribute_values(":true", AttributeValue::Bool(true))
            .build()
            .map_err(StoreError::internal)?;
        let mut items = vec![TransactWriteItem::builder().delete(delete).build()];
        for (kind, value) in item.guarded_values() {
            items.push(unique::release(&self.db, kind, &value, &id_s)?);
        }
        match transact(&self.db, items).await {
            Ok(()) => Ok(()),
            Err(TxError::Store(err)) => Err(err),
            // A concurrent call finished the deletion first: done.
            Err(TxError::Cancelled(_)) if self.get_item(&id_s).await?.is_none() => Ok(()),
            Err(TxError::Cancelled(_)) => Err(StoreError::internal(format!(
                "customer {id_s}: the final delete of the item and its guards failed its conditions"
            ))),
        }
    }

    /// Step one of a deletion: marks the customer `deleting` and moves it
    /// out of every list into the deleting partition, so it stops resolving
    /// at once and operators can still find it. Idempotent.
    async fn mark_deleting(&self, id: Uuid) -> Result<CustomerItem, StoreError> {
        let id_s = id.to_string();
        let mut mark = UpdateBuilder::default();
        mark.set("deleting", AttributeValue::Bool(true))
            .set("gsi1pk", s(keys::DELETING_CUSTOMERS))
            .set("gsi1sk", s(id_s.clone()));
        for attribute in FILTER_INDEX_KEYS {
            mark.remove(attribute);
        }
        let status = mark.name("status");
        mark.value(":terminated", s(CustomerStatus::Terminated.as_str()));
        let (expression, names, values) = mark.build();
        let marked = self
            .db
            .client
            .update_item()
            .table_name(self.db.table.as_ref())
            .set_key(Some(key(keys::customer(&id_s))))
            .update_expression(expression)
            .condition_expression(format!("attribute_exists(pk) AND {status} = :terminated"))
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match marked {
            Ok(output) => from_item(output.attributes.unwrap_or_default()),
            Err(err) if condition_failed(&err) => Err(match self.get_item(&id_s).await? {
                None => not_found(id),
                Some(_) => StoreError::FailedPrecondition(
                    "only TERMINATED customers can be deleted; set the status to TERMINATED first"
                        .into(),
                ),
            }),
            Err(err) => Err(from_sdk(err)),
        }
    }

    /// Deletes up to [`ACCOUNTS_PER_TRANSACTION`] accounts in one
    /// transaction with their auth-id guards and their places on their
    /// tiers, so a tier's `accountCount` falls exactly when its accounts go.
    /// Accounts already gone (deleted concurrently, or by an earlier
    /// attempt) are left out and the rest tried again.
    async fn delete_accounts(&self, mut accounts: Vec<AccountRef>) -> Result<(), StoreError> {
        while !accounts.is_empty() {
            let mut items = Vec::with_capacity(accounts.len() * 3);
            let mut per_tier: Vec<(String, u32)> = Vec::new();
            for account in &accounts {
                let delete = Delete::builder()
                    .table_name(self.db.table.as_ref())
                    .set_key(Some(account.key.clone()))
                    .condition_expression("attribute_exists(pk)")
                    .build()
                    .map_err(StoreError::internal)?;
                items.push(TransactWriteItem::builder().delete(delete).build());
                if let Some(tier) = &account.tier {
                    match per_tier.iter_mut().find(|(t, _)| t == tier) {
                        Some((_, count)) => *count += 1,
                        None => per_tier.push((tier.clone(), 1)),
                    }
                }
            }
            for account in &accounts {
                if let Some(auth_id) = &account.auth_id {
                    let delete = Delete::builder()
                        .table_name(self.db.table.as_ref())
                        .set_key(Some(unique::guard_key("ACCOUNT_AUTH_ID", auth_id)))
                        .build()
                        .map_err(StoreError::internal)?;
                    items.push(TransactWriteItem::builder().delete(delete).build());
                }
            }
            for (tier, count) in &per_tier {
                items.push(self.detach_from_tier(tier, *count)?);
            }
            match transact(&self.db, items).await {
                Ok(()) => return Ok(()),
                Err(TxError::Store(err)) => return Err(err),
                Err(TxError::Cancelled(c)) => {
                    let before = accounts.len();
                    let mut index = 0;
                    accounts.retain(|_| {
                        let gone = c.condition_failed(index);
                        index += 1;
                        !gone
                    });
                    if accounts.len() == before {
                        return Err(StoreError::internal(format!(
                            "deleting accounts: a tier's accountCount is below its accounts {per_tier:?}"
                        )));
                    }
                }
            }
        }
        Ok(())
    }

    /// Transaction item that takes `count` accounts off tier `tier`.
    fn detach_from_tier(&self, tier: &str, count: u32) -> Result<TransactWriteItem, StoreError> {
        let update = Update::builder()
            .table_name(self.db.table.as_ref())
            .set_key(Some(key(keys::pricing_tier(tier))))
            .update_expression("SET accountCount = accountCount - :count")
            .condition_expression("accountCount >= :count")
            .expression_attribute_values(":count", n(count))
            .build()
            .map_err(StoreError::internal)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// One page of customers, newest first, narrowed by `filter`. A page
    /// reads at most the store's read limit of items; a sparse filter may
    /// so return fewer than `first` (even none) with more to follow.
    pub async fn list(
        &self,
        filter: &CustomerFilter,
        page: &PageRequest,
    ) -> Result<Page<Customer>, StoreError> {
        if let Some(search) = &filter.search {
            return self.search(search, filter, page).await;
        }
        let (index, pk_attr, sk_attr, partition) = filter.index();
        let start = match &page.after {
            Some(after) => {
                let parts = cursor::decode(after, 1)?;
                Uuid::parse_str(&parts[0]).map_err(|_| StoreError::InvalidCursor)?;
                let mut start = key(keys::customer(&parts[0]));
                start.insert(pk_attr.to_owned(), s(partition.clone()));
                start.insert(sk_attr.to_owned(), s(parts[0].clone()));
                Some(start)
            }
            None => None,
        };
        let (filter_expression, names, mut values) = filter.remaining_conditions();
        values.insert(":pk".to_owned(), s(partition.clone()));
        let query = self
            .db
            .client
            .query()
            .table_name(self.db.table.as_ref())
            .index_name(index)
            .key_condition_expression(format!("{pk_attr} = :pk"))
            .set_filter_expression(filter_expression)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(Some(values))
            .scan_index_forward(false);
        let filled =
            fill_page::<CustomerItem>(query, start, page.first, 25, self.db.read_limit).await?;
        let resume_cursor = filled.resume_cursor(sk_attr);
        let items = filled
            .items
            .into_iter()
            .map(|item| {
                let cursor = cursor::encode(&[&item.id]);
                item.into_domain().map(|c| (c, cursor))
            })
            .collect::<Result<_, _>>()?;
        Ok(Page {
            items,
            has_next_page: filled.has_next_page,
            resume_cursor,
        })
    }

    /// Prefix search over the customers' search terms, in term order,
    /// reading at most the store's read limit of terms per page.
    async fn search(
        &self,
        text: &str,
        filter: &CustomerFilter,
        page: &PageRequest,
    ) -> Result<Page<Customer>, StoreError> {
        let prefix = search_key(text);
        let partition = keys::customer_search_partition(&prefix);
        let mut start = match &page.after {
            Some(after) => {
                let parts = cursor::decode(after, 1)?;
                if !parts[0].starts_with(&prefix) {
                    return Err(StoreError::InvalidCursor);
                }
                Some(key((partition.clone(), parts[0].clone())))
            }
            None => None,
        };
        let wanted = usize::from(page.first) + 1;
        let read_limit = self.db.read_limit.max(wanted);
        let mut read = 0usize;
        let mut found: Vec<(Customer, String)> = Vec::new();
        let mut resume_cursor = None;
        loop {
            let batch = 100.min(read_limit - read);
            let output = self
                .db
                .client
                .query()
                .table_name(self.db.table.as_ref())
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .expression_attribute_values(":pk", s(partition.clone()))
                .expression_attribute_values(":prefix", s(prefix.clone()))
                .limit(i32::try_from(batch).unwrap_or(100))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(from_sdk)?;
            read += usize::try_from(output.scanned_count).unwrap_or(batch);
            let hits: Vec<(Uuid, String)> = output
                .items
                .unwrap_or_default()
                .into_iter()
                .filter_map(|mut item| {
                    let sk = item.remove("sk")?.as_s().ok()?.clone();
                    let id = item.remove("customerId")?.as_s().ok()?.clone();
                    Some((Uuid::parse_str(&id).ok()?, sk))
                })
                .collect();
            let mut ids: Vec<Uuid> = hits.iter().map(|(id, _)| *id).collect();
            ids.sort_unstable();
            ids.dedup();
            let mut customers = self.get_many(&ids).await?;
            for (id, sk) in hits {
                if found.len() >= wanted {
                    break;
                }
                if found.iter().any(|(c, _)| c.id == id) {
                    continue;
                }
                if let Some(customer) = customers.remove(&id)
                    && filter.matches(&customer)
                {
                    found.push((customer, cursor::encode(&[&sk])));
                }
            }
            match output.last_evaluated_key {
                Some(last) if found.len() < wanted && read >= read_limit => {
                    resume_cursor = last
                        .get("sk")
                        .and_then(|v| v.as_s().ok())
                        .map(|sk| cursor::encode(&[sk]));
                    break;
                }
                Some(last) if found.len() < wanted => start = Some(last),
                _ => break,
            }
        }
        let has_next_page = found.len() > usize::from(page.first) || resume_cursor.is_some();
        found.truncate(usize::from(page.first));
        Ok(Page {
            items: found,
            has_next_page,
            resume_cursor,
        })
    }
}
