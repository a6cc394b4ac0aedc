//! Accounts in DynamoDB: the item and its reads (`mod.rs`), the writes
//! (`write.rs`).
//!
//! Keys (`docs/data-model.md`): the item `ACCOUNT#<id>`/`ACCOUNT`, listed
//! on gsi1 under its customer, on gsi2 under its pricing tier and on gsi3
//! in the list of all accounts; its `authId` is reserved by the guard
//! `UNIQUE#ACCOUNT_AUTH_ID#<authId>`. The customer code relies on the
//! attribute names `customerId`, `pricingTierId`, `authId`, `isActive` and
//! `enabled`.
//!
//! Invariants and how they hold under concurrency, all inside the
//! account's own transactions:
//! - **Unique `authId`**: the guard item, claimed with the account and
//!   released when it is deleted.
//! - **Tier in-use count**: [`PricingTiers::attach_account_item`] and
//!   `detach_account_item` move `accountCount` with every create, tier move
//!   and delete; the attach fails unless the tier exists and is active.
//! - **Only `ACTIVE` customers get accounts**: a condition check on the
//!   customer item.
//! - **Sub-accounts**: the master's `subAccountCount` is incremented in the
//!   sub-account's creating transaction, conditioned on the master being a
//!   `MASTER` of the same customer, and decremented when it is deleted; a
//!   master is deleted only with `subAccountCount = 0`.
//!
//! The secret hash is stored here and never leaves this module except to
//! the credential check ([`Accounts::credentials`]).

mod usage;
mod write;

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::codec::{from_item, key, parse_timestamp, s};
use super::error::from_sdk;
use super::paging::fill_page;
use super::{Db, StoreError, batch, cursor, keys, unique};
use crate::domain::account::{Account, AccountProfile, AccountType};
use crate::domain::page::{Page, PageRequest};

pub use write::CredentialUpdate;

const ENTITY: &str = "Account";
/// Kind of the guard that makes `authId`s unique.
pub(crate) const AUTH_ID_KIND: &str = "ACCOUNT_AUTH_ID";

/// An account as stored. Not the API shape: the secret hash, counters,
/// search text and index keys live here only.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AccountItem {
    pk: String,
    sk: String,
    entity: String,
    gsi1pk: String,
    gsi1sk: String,
    gsi2pk: String,
    gsi2sk: String,
    gsi3pk: String,
    gsi3sk: String,
    id: String,
    api_id: String,
    customer_id: String,
    pricing_tier_id: String,
    #[serde(rename = "type")]
    kind: AccountType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    parent_account_id: Option<String>,
    #[serde(default)]
    sub_account_count: u64,
    auth_id: String,
    auth_secret_hash: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    auth_token_expire_time: Option<String>,
    #[serde(flatten)]
    profile: AccountProfile,
    search_text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_login: Option<String>,
    /// The address of the request that created it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    created_by_ip: Option<String>,
    created_at: String,
    updated_at: String,
    version: u64,
}

impl AccountItem {
    fn into_domain(self) -> Result<Account, StoreError> {
        let parse_id = |raw: &str| Uuid::parse_str(raw).map_err(StoreError::internal);
        let parse_time = |raw: Option<&str>| raw.map(parse_timestamp).transpose();
        Ok(Account {
            id: parse_id(&self.id)?,
            api_id: parse_id(&self.api_id)?,
            customer_id: parse_id(&self.customer_id)?,
            account_type: self.kind,
            parent_account_id: self
                .parent_account_id
                .as_deref()
                .map(parse_id)
                .transpose()?,
            pricing_tier_id: parse_id(&self.pricing_tier_id)?,
            auth_id: self.auth_id,
            auth_token_expire_time: parse_time(self.auth_token_expire_time.as_deref())?,
            profile: self.profile,
            sub_account_count: self.sub_account_count,
            last_login: parse_time(self.last_login.as_deref())?,
            created_by_ip: self.created_by_ip,
            created_at: parse_timestamp(&self.created_at)?,
            updated_at: parse_timestamp(&self.updated_at)?,
            version: self.version,
        })
    }
}

/// Filters of `accounts(filter:)`; all optional, combined with AND.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountFilter {
    /// Only this customer's accounts (served by gsi1).
    pub customer_id: Option<Uuid>,
    /// Only accounts on this tier (served by gsi2 unless a customer is
    /// also given).
    pub pricing_tier_id: Option<Uuid>,
    /// Only active or only inactive accounts.
    pub is_active: Option<bool>,
    /// Only postpaid or only prepaid accounts.
    pub postpaid: Option<bool>,
    /// Only masters or only sub-accounts.
    pub account_type: Option<AccountType>,
    /// Substring of the name, email, company or authId, already folded
    /// with `search_key` and at least two characters long.
    pub search: Option<String>,
    /// Only the sub-accounts of this master.
    pub parent_account_id: Option<Uuid>,
}

impl AccountFilter {
    /// The filter expression parts for what the chosen index does not
    /// narrow by, with their attribute names and values.
    fn remaining_conditions(
        &self,
    ) -> (
        Vec<&'static str>,
        HashMap<String, String>,
        HashMap<String, AttributeValue>,
    ) {
        let mut conditions = Vec::new();
        let mut names: HashMap<String, String> = HashMap::new();
        let mut values: HashMap<String, AttributeValue> = HashMap::new();
        if let (Some(tier), true) = (self.pricing_tier_id, self.customer_id.is_some()) {
            conditions.push("pricingTierId = :tier");
            values.insert(":tier".into(), s(tier.to_string()));
        }
        if let Some(active) = self.is_active {
            conditions.push("isActive = :active");
            values.insert(":active".into(), AttributeValue::Bool(active));
        }
        if let Some(postpaid) = self.postpaid {
            conditions.push("postpaid = :postpaid");
            values.insert(":postpaid".into(), AttributeValue::Bool(postpaid));
        }
        if let Some(kind) = self.account_type {
            conditions.push("#type = :type");
            names.insert("#type".into(), "type".into());
            values.insert(":type".into(), s(kind.as_str()));
        }
        if let Some(parent) = self.parent_account_id {
            conditions.push("parentAccountId = :parent");
            values.insert(":parent".into(), s(parent.to_string()));
        }
        if let Some(search) = &self.search {
            conditions.push("contains(searchText, :search)");
            values.insert(":search".into(), s(search.clone()));
        }
        (conditions, names, values)
    }
}

/// A credential as the check needs it: the account and its stored hash.
pub struct StoredCredential {
    /// The account.
    pub account: Account,
    /// The stored HMAC of the secret.
    pub hash: String,
}

impl std::fmt::Debug for StoredCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredCredential")
            .field("account", &self.account.id)
            .field("hash", &"[redacted]")
            .finish()
    }
}

fn not_found(id: Uuid) -> StoreError {
    StoreError::NotFound {
        entity: "Account",
        id: id.to_string(),
    }
}

/// Reads and writes accounts.
#[derive(Clone, Debug)]
pub struct Accounts {
    db: Db,
}

impl Accounts {
    pub(crate) fn new(db: Db) -> Self {
        Self { db }
    }

    async fn get_item(&self, id: Uuid) -> Result<Option<AccountItem>, StoreError> {
        let output = self
            .db
            .client
            .get_item()
            .table_name(self.db.table.as_ref())
            .set_key(Some(key(keys::account(&id.to_string()))))
            .consistent_read(true)
            .send()
            .await
            .map_err(from_sdk)?;
        output.item.map(from_item).transpose()
    }

    /// The account with `id`, or `None`.
    pub async fn get(&self, id: Uuid) -> Result<Option<Account>, StoreError> {
        self.get_item(id)
            .await?
            .map(AccountItem::into_domain)
            .transpose()
    }

    /// Several accounts at once (one `BatchGetItem` per hundred ids);
    /// missing ones are left out.
    pub async fn get_many(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, Account>, StoreError> {
        let keys = ids
            .iter()
            .map(|id| key(keys::account(&id.to_string())))
            .collect();
        batch::get_all(&self.db, keys)
            .await?
            .into_iter()
            .map(|item| {
                let account = from_item::<AccountItem>(item)?.into_domain()?;
                Ok((account.id, account))
            })
            .collect()
    }

    /// The account holding `auth_id`, or `None`.
    pub async fn get_by_auth_id(&self, auth_id: &str) -> Result<Option<Account>, StoreError> {
        match unique::owner_of(&self.db, AUTH_ID_KIND, auth_id).await? {
            Some(id) => self.get(id).await,
            None => Ok(None),
        }
    }

    /// The account holding `auth_id` with its secret hash, for checking a
    /// credential. An unknown `auth_id` costs the same two reads as a known
    /// one (the second of an id no account has), so response times do not
    /// tell which `authId`s exist.
    pub async fn credentials(&self, auth_id: &str) -> Result<Option<StoredCredential>, StoreError> {
        let owner = unique::owner_of(&self.db, AUTH_ID_KIND, auth_id).await?;
        let item = self.get_item(owner.unwrap_or_else(Uuid::nil)).await?;
        let Some(item) = item.filter(|i| owner.is_some() && i.auth_id == auth_id) else {
            return Ok(None);
        };
        let hash = item.auth_secret_hash.clone();
        Ok(Some(StoredCredential {
            account: item.into_domain()?,
            hash,
        }))
    }

    /// One page of accounts, newest first, narrowed by `filter`. The
    /// partition is the customer's list (gsi1), else the tier's (gsi2),
    /// else all accounts (gsi3); the other filters are a
    /// `FilterExpression`, and the query continues until the page is full.
    pub async fn list(
        &self,
        filter: &AccountFilter,
        page: &PageRequest,
    ) -> Result<Page<Account>, StoreError> {
        let (index, pk_attr, sk_attr, partition) = if let Some(customer) = filter.customer_id {
            (
                keys::GSI1,
                "gsi1pk",
                "gsi1sk",
                keys::customer_accounts(&customer.to_string()),
            )
        } else if let Some(tier) = filter.pricing_tier_id {
            (
                keys::GSI2,
                "gsi2pk",
                "gsi2sk",
                keys::tier_accounts(&tier.to_string()),
            )
        } else {
            (
                keys::GSI3,
                "gsi3pk",
                "gsi3sk",
                keys::ALL_ACCOUNTS.to_owned(),
            )
        };
        let start = match &page.after {
            Some(after) => {
                let parts = cursor::decode(after, 1)?;
                Uuid::parse_str(&parts[0]).map_err(|_| StoreError::InvalidCursor)?;
                let mut start = key(keys::account(&parts[0]));
                start.insert(pk_attr.to_owned(), s(partition.clone()));
                start.insert(sk_attr.to_owned(), s(parts[0].clone()));
                Some(start)
            }
            None => None,
        };
        let (conditions, names, mut values) = filter.remaining_conditions();
        values.insert(":pk".to_owned(), s(partition));
        let filtered = !conditions.is_empty();
        let filter_expression = filtered.then(|| conditions.join(" AND "));
        let query = self
            .db
            .client
            .query()
            .table_name(self.db.table.as_ref())
            .index_name(index)
            .key_condition_expression(format!("{pk_attr} = :pk"))
            .set_filter_expression(filter_expression)
            .set_expression_attribute_names((!names.is_empty()).then_some(names))
            .set_expression_attribute_values(Some(values))
            .scan_index_forward(false);
        let min_batch = if filtered { 100 } else { 1 };
        let filled =
            fill_page::<AccountItem>(query, start, page.first, min_batch, self.db.read_limit)
                .await?;
        // A sparse filter may stop at the read limit: resume at the last
        // key read (the index sort key is the account id).
        let resume_cursor = filled.resume_cursor(sk_attr);
        let items = filled
            .items
            .into_iter()
            .map(|item| {
                let cursor = cursor::encode(&[&item.id]);
                item.into_domain().map(|a| (a, cursor))
            })
            .collect::<Result<_, _>>()?;
        Ok(Page {
            items,
            has_next_page: filled.has_next_page,
            resume_cursor,
        })
    }
}
