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

use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, Put, ReturnValuesOnConditionCheckFailure,
    TransactWriteItem, Update,
};
use chrono::Utc;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::str::FromStr;
use uuid::Uuid;

use super::codec::{Item, from_item, key, n, parse_timestamp, s, timestamp, to_item};
use super::error::{ensure_version, from_sdk};
use super::idempotency::IdempotencyKey;
use super::paging::fill_page;
use super::transaction::{TxError, backoff, transact};
use super::update::UpdateBuilder;
use super::{Db, StoreError, audit, batch, cursor, keys, unique};
use crate::domain::audit::{Change, EntityType};
use crate::domain::currency::CurrencyCode;
use crate::domain::page::{Page, PageRequest};
use crate::domain::pricing_tier::{NewPricingTier, PricingTier, PricingTierPatch, Rate};

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

    fn pointer_put(&self, id: &str, only_if_absent: bool) -> Result<TransactWriteItem, StoreError> {
        let mut item = key(keys::default_pricing_tier());
        item.insert("entity".into(), s("DefaultPricingTier"));
        item.insert("pricingTierId".into(), s(id));
        item.insert("updatedAt".into(), s(timestamp(Utc::now())));
        let mut put = Put::builder()
            .table_name(self.db.table.as_ref())
            .set_item(Some(item));
        if only_if_absent {
            put = put.condition_expression("attribute_not_exists(pk)");
        }
        Ok(TransactWriteItem::builder()
            .put(put.build().map_err(StoreError::internal)?)
            .build())
    }

    /// Condition that the default pointer does not name tier `id`.
    fn not_default_check(&self, id: &str) -> Result<TransactWriteItem, StoreError> {
        let check = ConditionCheck::builder()
            .table_name(self.db.table.as_ref())
            .set_key(Some(key(keys::default_pricing_tier())))
            .condition_expression("attribute_not_exists(pk) OR pricingTierId <> :id")
            .expression_attribute_values(":id", s(id))
            .build()
            .map_err(StoreError::internal)?;
        Ok(TransactWriteItem::builder().condition_check(check).build())
    }

    /// Creates a tier. It becomes the default when asked to, or when it is
    /// active and no default exists yet.
    pub async fn create(
        &self,
        new: NewPricingTier,
        idempotency: Option<&IdempotencyKey>,
        change: &Change,
    ) -> Result<PricingTier, StoreError> {
        let uuid = Uuid::now_v7();
        let id = uuid.to_string();
        let now = timestamp(Utc::now());
        let (pk, sk) = keys::pricing_tier(&id);
        let position = list_position(&new.name);
        let item = PricingTierItem {
            pk,
            sk,
            entity: ENTITY.into(),
            gsi1pk: keys::ALL_PRICING_TIERS.into(),
            gsi1sk: position.clone(),
            gsi2pk: new.is_active.then(|| keys::ACTIVE_PRICING_TIERS.into()),
            gsi2sk: new.is_active.then_some(position),
            id: id.clone(),
            name: new.name.clone(),
            description: new.description.clone(),
            currency: new.currency.code().into(),
            rate_per_minute: new.rate.per_minute.to_string(),
            billing_increment_seconds: new.rate.billing_increment_seconds,
            minimum_duration_seconds: new.rate.minimum_duration_seconds,
            is_active: new.is_active,
            account_count: 0,
            created_at: now.clone(),
            updated_at: now,
            version: 1,
        };
        let put = Put::builder()
            .table_name(self.db.table.as_ref())
            .set_item(Some(to_item(&item)?))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(StoreError::internal)?;
        let mut items = vec![
            TransactWriteItem::builder().put(put).build(),
            unique::claim(&self.db, NAME_KIND, &new.name, &id)?,
            audit::record(&self.db, change, EntityType::PricingTier, uuid, None)?,
        ];
        let mut parts = vec![Part::Tier, Part::ClaimName, Part::Audit];
        if let Some(key) = idempotency {
            items.push(key.claim(&self.db, &id)?);
            parts.push(Part::Idempotency);
        }
        if new.make_default || new.is_active {
            items.push(self.pointer_put(&id, !new.make_default)?);
            parts.push(Part::DefaultPointer);
        }
        loop {
            match transact(&self.db, items.clone()).await {
                Ok(()) => break,
                Err(TxError::Store(err)) => return Err(err),
                Err(TxError::Cancelled(c)) => {
                    let failed = failed_parts(&parts, &c);
                    if failed.contains(&Part::Idempotency) {
                        return Err(StoreError::IdempotencyKeyTaken);
                    }
                    if failed.contains(&Part::ClaimName) {
                        return Err(name_taken(&new.name));
                    }
                    if failed == [Part::DefaultPointer] {
                        // A default already exists: create without taking it.
                        items.pop();
                        parts.pop();
                        continue;
                    }
                    return Err(StoreError::internal(format!(
                        "creating pricing tier {id} failed on {failed:?}"
                    )));
                }
            }
        }
        let is_default = parts.contains(&Part::DefaultPointer);
        let mut tier = item.into_domain(None)?;
        tier.is_default = is_default;
        Ok(tier)
    }

    /// Applies a patch, writing only the fields it names. With
    /// `expected_version`, fails with a conflict unless the tier is at that
    /// version. Renaming swaps the name guards; deactivating is refused
    /// while the tier is the default.
    pub async fn update(
        &self,
        id: Uuid,
        patch: PricingTierPatch,
        expected_version: Option<u64>,
        change: &Change,
    ) -> Result<PricingTier, StoreError> {
        let id_s = id.to_string();
        let mut claim_default = true;
        for attempt in 0..WRITE_ATTEMPTS {
            if attempt > 0 {
                backoff(attempt).await;
            }
            let current = self.get_tier_item(id).await?.ok_or_else(|| not_found(id))?;
            ensure_version("pricing tier", expected_version, current.version)?;
            let patch = patch
                .clone()
                .without_unchanged(&current.clone().into_domain(None)?);
            if patch.is_empty() {
                return self.get(id).await.and_then(|t| existing(t, id));
            }
            let mut u = UpdateBuilder::default();
            let mut items = vec![audit::record(
                &self.db,
                change,
                EntityType::PricingTier,
                id,
                None,
            )?];
            let mut parts = vec![Part::Tier, Part::Audit];
            let final_name = patch.name.clone().unwrap_or_else(|| current.name.clone());
            let final_active = patch.is_active.unwrap_or(current.is_active);
            if let Some(name) = &patch.name {
                u.set("name", s(name.clone()));
                if unique::normalize(name) != unique::normalize(&current.name) {
                    u.set("gsi1sk", s(list_position(name)));
                    items.push(unique::release(&self.db, NAME_KIND, &current.name, &id_s)?);
                    parts.push(Part::ReleaseName);
                    items.push(unique::claim(&self.db, NAME_KIND, name, &id_s)?);
                    parts.push(Part::ClaimName);
                }
            }
            if patch.name.is_some() || patch.is_active.is_some() {
                if final_active {
                    u.set("gsi2pk", s(keys::ACTIVE_PRICING_TIERS));
                    u.set("gsi2sk", s(list_position(&final_name)));
                } else {
                    u.remove("gsi2pk");
                    u.remove("gsi2sk");
                }
            }
            set_plain_fields(&mut u, &patch);
            if let Some(active) = patch.is_active {
                u.set("isActive", AttributeValue::Bool(active));
                if !active {
                    items.push(self.not_default_check(&id_s)?);
                    parts.push(Part::DefaultPointer);
                } else if claim_default {
                    // The first active tier becomes the default, as on
                    // create: the pointer is put only if there is none.
                    items.push(self.pointer_put(&id_s, true)?);
                    parts.push(Part::DefaultIfAbsent);
                }
            }
            u.set("updatedAt", s(timestamp(Utc::now())));
            u.increment("version", 1);
            let version_name = u.name("version");
            u.value(":expected", n(current.version));
            let (expression, names, values) = u.build();
            let update = Update::builder()
                .table_name(self.db.table.as_ref())
                .set_key(Some(key(keys::pricing_tier(&id_s))))
                .update_expression(expression)
                .condition_expression(format!("{version_name} = :expected"))
                .set_expression_attribute_names(Some(names))
                .set_expression_attribute_values(Some(values))
                .build()
                .map_err(StoreError::internal)?;
            items.insert(0, TransactWriteItem::builder().update(update).build());
            match transact(&self.db, items).await {
                Ok(()) => return self.get(id).await.and_then(|t| existing(t, id)),
                Err(TxError::Store(err)) => return Err(err),
                Err(TxError::Cancelled(c)) => {
                    let failed = failed_parts(&parts, &c);
                    if failed.contains(&Part::ClaimName) {
                        return Err(name_taken(&final_name));
                    }
                    if failed.contains(&Part::DefaultPointer) {
                        return Err(StoreError::FailedPrecondition(
                            "this is the default pricing tier; make another tier the default before deactivating it".into(),
                        ));
                    }
                    if failed == [Part::DefaultIfAbsent] {
                        // Another tier is the default: activate without
                        // taking it.
                        claim_default = false;
                    }
                    // Otherwise the tier changed since it was read: read
                    // again.
                }
            }
        }
        Err(too_much_contention())
    }

    /// Makes tier `id` the default. The tier must exist and be active.
    pub async fn set_default(&self, id: Uuid, change: &Change) -> Result<PricingTier, StoreError> {
        let id_s = id.to_string();
        let check = ConditionCheck::builder()
            .table_name(self.db.table.as_ref())
            .set_key(Some(key(keys::pricing_tier(&id_s))))
            .condition_expression("attribute_exists(pk) AND isActive = :true")
            .expression_attribute_values(":true", AttributeValue::Bool(true))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(StoreError::internal)?;
        let items = vec![
            TransactWriteItem::builder().condition_check(check).build(),
            self.pointer_put(&id_s, false)?,
            audit::record(&self.db, change, EntityType::PricingTier, id, None)?,
        ];
        match transact(&self.db, items).await {
            Ok(()) => {}
            Err(TxError::Store(err)) => return Err(err),
            Err(TxError::Cancelled(c)) => {
                return Err(if c.old_item(0).is_none() {
                    not_found(id)
                } else {
                    StoreError::FailedPrecondition(
                        "an inactive pricing tier cannot be the default; activate it first".into(),
                    )
                });
            }
        }
        self.get(id).await.and_then(|t| existing(t, id))
    }

    /// Deletes tier `id`. Refused while it is the default or while accounts
    /// are on it; with `expected_version`, only at that version.
    pub async fn delete(
        &self,
        id: Uuid,
        expected_version: Option<u64>,
        change: &Change,
    ) -> Result<(), StoreError> {
        let id_s = id.to_string();
        for attempt in 0..WRITE_ATTEMPTS {
            if attempt > 0 {
                backoff(attempt).await;
            }
            let current = self.get_tier_item(id).await?.ok_or_else(|| not_found(id))?;
            ensure_version("pricing tier", expected_version, current.version)?;
            if current.account_count > 0 {
                return Err(in_use(current.account_count));
            }
            let delete = Delete::builder()
                .table_name(self.db.table.as_ref())
                .set_key(Some(key(keys::pricing_tier(&id_s))))
                .condition_expression(
                    "version = :version AND (attribute_not_exists(accountCount) OR accountCount = :zero)",
                )
                .expression_attribute_values(":version", n(current.version))
                .expression_attribute_values(":zero", n(0))
                .build()
                .map_err(StoreError::internal)?;
            let items = vec![
                TransactWriteItem::builder().delete(delete).build(),
                unique::release(&self.db, NAME_KIND, &current.name, &id_s)?,
                self.not_default_check(&id_s)?,
                audit::record(&self.db, change, EntityType::PricingTier, id, None)?,
            ];
            let parts = [
                Part::Tier,
                Part::ReleaseName,
                Part::DefaultPointer,
                Part::Audit,
            ];
            match transact(&self.db, items).await {
                Ok(()) => return Ok(()),
                Err(TxError::Store(err)) => return Err(err),
                Err(TxError::Cancelled(c)) => {
                    if failed_parts(&parts, &c).contains(&Part::DefaultPointer) {
                        return Err(StoreError::FailedPrecondition(
                            "this is the default pricing tier; make another tier the default before deleting it".into(),
                        ));
                    }
                    // Changed since read (renamed, new account, new
                    // version): read again and decide afresh.
                }
            }
        }
        Err(too_much_contention())
    }

    /// Transaction item that records one more account on tier `id`; fails
    /// its condition unless the tier exists and is active. The accounts
    /// store puts it in the same transaction that creates or moves an
    /// account, so the count cannot drift.
    pub fn attach_account_item(&self, id: Uuid) -> Result<TransactWriteItem, StoreError> {
        let update = Update::builder()
            .table_name(self.db.table.as_ref())
            .set_key(Some(key(keys::pricing_tier(&id.to_string()))))
            .update_expression("SET accountCount = if_not_exists(accountCount, :zero) + :one")
            .condition_expression("attribute_exists(pk) AND isActive = :true")
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":true", AttributeValue::Bool(true))
            .build()
            .map_err(StoreError::internal)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// Transaction item that records one account fewer on tier `id`.
    pub fn detach_account_item(&self, id: Uuid) -> Result<TransactWriteItem, StoreError> {
        let update = Update::builder()
            .table_name(self.db.table.as_ref())
            .set_key(Some(key(keys::pricing_tier(&id.to_string()))))
            .update_expression("SET accountCount = accountCount - :one")
            .condition_expression("accountCount >= :one")
            .expression_attribute_values(":one", n(1))
            .build()
            .map_err(StoreError::internal)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// Records one more account on tier `id` on its own (see
    /// [`Self::attach_account_item`]).
    pub async fn attach_account(&self, id: Uuid) -> Result<(), StoreError> {
        match transact(&self.db, vec![self.attach_account_item(id)?]).await {
            Ok(()) => Ok(()),
            Err(TxError::Store(err)) => Err(err),
            Err(TxError::Cancelled(_)) => Err(match self.get_tier_item(id).await? {
                None => not_found(id),
                Some(_) => StoreError::FailedPrecondition(
                    "accounts cannot be put on an inactive pricing tier".into(),
                ),
            }),
        }
    }

    /// Records one account fewer on tier `id` on its own.
    pub async fn detach_account(&self, id: Uuid) -> Result<(), StoreError> {
        match transact(&self.db, vec![self.detach_account_item(id)?]).await {
            Ok(()) => Ok(()),
            Err(TxError::Store(err)) => Err(err),
            Err(TxError::Cancelled(_)) => Err(StoreError::FailedPrecondition(
                "the pricing tier has no accounts to detach".into(),
            )),
        }
    }
}

fn in_use(accounts: u64) -> StoreError {
    StoreError::FailedPrecondition(format!(
        "{accounts} account(s) are on this pricing tier; move them to another tier before deleting it"
    ))
}
