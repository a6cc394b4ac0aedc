//! Creating, changing, defaulting and deleting tiers, and the account
//! counts other entities' transactions keep on them.

use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, Put, ReturnValuesOnConditionCheckFailure,
    TransactWriteItem, Update,
};
use chrono::Utc;
use uuid::Uuid;

use super::super::codec::{key, n, s, timestamp, to_item};
use super::super::error::ensure_version;
use super::super::idempotency::IdempotencyKey;
use super::super::transaction::{TxError, backoff, transact};
use super::super::update::UpdateBuilder;
use super::super::{StoreError, audit, keys, unique};
use super::{
    ENTITY, NAME_KIND, Part, PricingTierItem, PricingTiers, WRITE_ATTEMPTS, existing, failed_parts,
    list_position, name_taken, not_found, set_plain_fields, too_much_contention,
};
use crate::domain::audit::{Change, EntityType};
use crate::domain::pricing_tier::{NewPricingTier, PricingTier, PricingTierPatch};

impl PricingTiers {
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
