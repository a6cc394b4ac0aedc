//! Pricing tiers in DynamoDB.
//!
//! Invariants and how they hold under concurrency:
//! - **Unique names** (case-insensitive): a guard item per name, claimed and
//!   released in the same transaction as the tier.
//! - **Exactly one default**: the default is not a flag on each tier but one
//!   pointer item naming the default tier, so two defaults cannot exist.
//!   Setting it is a transaction that checks the tier exists and is active;
//!   deactivating or deleting a tier checks, in its transaction, that the
//!   pointer does not name it. The pointer therefore always names an
//!   existing, active tier.
//! - **No deletion while in use**: each tier counts the accounts on it
//!   (`accountCount`, kept by the accounts' own transactions through
//!   [`PricingTiers::attach_account_item`]); deletion is conditioned on it
//!   being zero.
//!
//! Conflict fields are reported with the API's input paths (`input.name`,
//! `expectedVersion`).

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::str::FromStr;
use uuid::Uuid;

use super::codec::{Item, from_item, key, n, parse_timestamp, s};
use super::error::from_sdk;
use super::paging::fill_page;
use super::update::UpdateBuilder;
use super::{Db, StoreError, batch, cursor, keys, unique};
use crate::domain::currency::CurrencyCode;
use crate::domain::page::{Page, PageRequest};
use crate::domain::pricing_tier::{PricingTier, PricingTierPatch, Rate};

mod write;

const ENTITY: &str = "PricingTier";
const NAME_KIND: &str = "PRICING_TIER_NAME";
/// Attempts at an optimistic read-then-conditional-write before giving up.
const WRITE_ATTEMPTS: u32 = 10;

/// A pricing tier as stored. Not the API shape: `accountCount` and the index
/// keys live here only.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PricingTierItem {
    pk: String,
    sk: String,
    entity: String,
    gsi1pk: String,
    gsi1sk: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    gsi2pk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    gsi2sk: Option<String>,
    id: String,
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    currency: String,
    /// Kept as a string: exact, whatever the scale.
    rate_per_minute: String,
    billing_increment_seconds: u32,
    minimum_duration_seconds: u32,
    is_active: bool,
    #[serde(default)]
    account_count: u64,
    created_at: String,
    updated_at: String,
    version: u64,
}

impl PricingTierItem {
    fn into_domain(self, default_id: Option<&str>) -> Result<PricingTier, StoreError> {
        Ok(PricingTier {
            is_default: default_id == Some(self.id.as_str()),
            id: Uuid::parse_str(&self.id).map_err(StoreError::internal)?,
            name: self.name,
            description: self.description,
            currency: CurrencyCode::parse(&self.currency).map_err(StoreError::internal)?,
            rate: Rate {
                per_minute: Decimal::from_str(&self.rate_per_minute)
                    .map_err(StoreError::internal)?,
                billing_increment_seconds: self.billing_increment_seconds,
                minimum_duration_seconds: self.minimum_duration_seconds,
            },
            is_active: self.is_active,
            created_at: parse_timestamp(&self.created_at)?,
            updated_at: parse_timestamp(&self.updated_at)?,
            version: self.version,
        })
    }
}

/// Sort key of a tier in its lists: the normalised name, so lists are in
/// case-insensitive alphabetical order.
fn list_position(name: &str) -> String {
    unique::normalize(name)
}

/// The role each item plays in a transaction, to read cancellation reasons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Tier,
    ClaimName,
    ReleaseName,
    DefaultPointer,
    /// The pointer put only when no default exists yet.
    DefaultIfAbsent,
    /// The create's idempotency key.
    Idempotency,
    /// The audit event (unconditional; never fails).
    Audit,
}

fn failed_parts(parts: &[Part], cancelled: &super::transaction::Cancelled) -> Vec<Part> {
    parts
        .iter()
        .enumerate()
        .filter(|(i, _)| cancelled.condition_failed(*i))
        .map(|(_, p)| *p)
        .collect()
}

fn name_taken(name: &str) -> StoreError {
    StoreError::Conflict {
        field: Some("input.name"),
        message: format!("a pricing tier named `{name}` already exists"),
    }
}

fn not_found(id: Uuid) -> StoreError {
    StoreError::NotFound {
        entity: "PricingTier",
        id: id.to_string(),
    }
}

fn existing(tier: Option<PricingTier>, id: Uuid) -> Result<PricingTier, StoreError> {
    tier.ok_or_else(|| not_found(id))
}

fn too_much_contention() -> StoreError {
    StoreError::Conflict {
        field: None,
        message: "the pricing tier was being changed concurrently; try again".into(),
    }
}

/// Adds the patch's fields that need no other item (no guard, index or
/// pointer) to the update.
fn set_plain_fields(u: &mut UpdateBuilder, patch: &PricingTierPatch) {
    match &patch.description {
        Some(Some(text)) => {
            u.set("description", s(text.clone()));
        }
        Some(None) => {
            u.remove("description");
        }
        None => {}
    }
    if let Some(currency) = patch.currency {
        u.set("currency", s(currency.code()));
    }
    if let Some(rate) = patch.rate_per_minute {
        u.set("ratePerMinute", s(rate.to_string()));
    }
    if let Some(increment) = patch.billing_increment_seconds {
        u.set("billingIncrementSeconds", n(increment));
    }
    if let Some(minimum) = patch.minimum_duration_seconds {
        u.set("minimumDurationSeconds", n(minimum));
    }
}

/// Reads and writes pricing tiers.
#[derive(Clone, Debug)]
pub struct PricingTiers {
    db: Db,
}

impl PricingTiers {
    pub(crate) fn new(db: Db) -> Self {
        Self { db }
    }

    async fn get_item(&self, key_pair: (String, String)) -> Result<Option<Item>, StoreError> {
        let output = self
            .db
            .client
            .get_item()
            .table_name(self.db.table.as_ref())
            .set_key(Some(key(key_pair)))
            .consistent_read(true)
            .send()
            .await
            .map_err(from_sdk)?;
        Ok(output.item)
    }

    async fn get_tier_item(&self, id: Uuid) -> Result<Option<PricingTierItem>, StoreError> {
        self.get_item(keys::pricing_tier(&id.to_string()))
            .await?
            .map(from_item)
            .transpose()
    }

    /// Id of the default tier, if one has been chosen.
    async fn default_id(&self) -> Result<Option<String>, StoreError> {
        let item = self.get_item(keys::default_pricing_tier()).await?;
        Ok(item
            .and_then(|mut i| i.remove("pricingTierId"))
            .and_then(|v| v.as_s().ok().cloned()))
    }

    /// The tier with `id`, or `None`; the tier and the default pointer are
    /// read in one `BatchGetItem`.
    pub async fn get(&self, id: Uuid) -> Result<Option<PricingTier>, StoreError> {
        let keys = vec![
            key(keys::pricing_tier(&id.to_string())),
            key(keys::default_pricing_tier()),
        ];
        let mut tier = None;
        let mut default_id = None;
        for mut item in batch::get_all(&self.db, keys).await? {
            if item.contains_key("pricingTierId") {
                default_id = item
                    .remove("pricingTierId")
                    .and_then(|v| v.as_s().ok().cloned());
            } else {
                tier = Some(from_item::<PricingTierItem>(item)?);
            }
        }
        tier.map(|t| t.into_domain(default_id.as_deref()))
            .transpose()
    }

    /// Several tiers at once (missing ones left out), with the default
    /// pointer read in the same `BatchGetItem`; at most 99 ids per batch
    /// keep tiers and pointer in one request.
    pub async fn get_many(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, PricingTier>, StoreError> {
        let mut keys: Vec<Item> = ids
            .iter()
            .map(|id| key(keys::pricing_tier(&id.to_string())))
            .collect();
        keys.push(key(keys::default_pricing_tier()));
        let mut tiers = Vec::new();
        let mut default_id = None;
        for mut item in batch::get_all(&self.db, keys).await? {
            if item.contains_key("pricingTierId") {
                default_id = item
                    .remove("pricingTierId")
                    .and_then(|v| v.as_s().ok().cloned());
            } else {
                tiers.push(from_item::<PricingTierItem>(item)?);
            }
        }
        tiers
            .into_iter()
            .map(|t| {
                let tier = t.into_domain(default_id.as_deref())?;
                Ok((tier.id, tier))
            })
            .collect()
    }

    /// Id of the default tier, for giving new accounts the default.
    pub(crate) async fn default_tier_id(&self) -> Result<Option<Uuid>, StoreError> {
        self.default_id()
            .await?
            .map(|id| Uuid::parse_str(&id).map_err(StoreError::internal))
            .transpose()
    }

    /// Whether tier `id` exists and whether it is active, for explaining a
    /// failed [`Self::attach_account_item`].
    pub(crate) async fn activity(&self, id: Uuid) -> Result<Option<bool>, StoreError> {
        Ok(self.get_tier_item(id).await?.map(|t| t.is_active))
    }

    /// The default tier, or `None` before any active tier exists.
    pub async fn get_default(&self) -> Result<Option<PricingTier>, StoreError> {
        let Some(id) = self.default_id().await? else {
            return Ok(None);
        };
        let id = Uuid::parse_str(&id).map_err(StoreError::internal)?;
        self.get(id).await
    }

    /// One page of tiers in case-insensitive name order; only active ones
    /// unless `include_inactive`.
    pub async fn list(
        &self,
        page: &PageRequest,
        include_inactive: bool,
    ) -> Result<Page<PricingTier>, StoreError> {
        let (index, pk_attr, sk_attr, partition) = if include_inactive {
            (keys::GSI1, "gsi1pk", "gsi1sk", keys::ALL_PRICING_TIERS)
        } else {
            (keys::GSI2, "gsi2pk", "gsi2sk", keys::ACTIVE_PRICING_TIERS)
        };
        let start = match &page.after {
            Some(after) => {
                let parts = cursor::decode(after, 2)?;
                Uuid::parse_str(&parts[1]).map_err(|_| StoreError::InvalidCursor)?;
                let mut start = key(keys::pricing_tier(&parts[1]));
                start.insert(pk_attr.to_owned(), s(partition));
                start.insert(sk_attr.to_owned(), s(parts[0].clone()));
                Some(start)
            }
            None => None,
        };
        let default_id = self.default_id();
        let query = self
            .db
            .client
            .query()
            .table_name(self.db.table.as_ref())
            .index_name(index)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", pk_attr)
            .expression_attribute_values(":pk", s(partition));
        let filled =
            fill_page::<PricingTierItem>(query, start, page.first, 1, self.db.read_limit).await?;
        let default_id = default_id.await?;
        let items = filled
            .items
            .into_iter()
            .map(|item| {
                let cursor = cursor::encode(&[&item.gsi1sk, &item.id]);
                item.into_domain(default_id.as_deref()).map(|t| (t, cursor))
            })
            .collect::<Result<_, _>>()?;
        // Unfiltered: the page is never cut short by the read budget.
        Ok(Page::new(items, filled.has_next_page))
    }
}
