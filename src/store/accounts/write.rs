//! Account writes: each one transaction over the account, its `authId`
//! guard, its tier's count, its customer's status and its master's
//! sub-account count, so none of those can drift apart.

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, Put, ReturnValue, ReturnValuesOnConditionCheckFailure,
    TransactWriteItem, Update,
};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::super::codec::{from_item, key, n, s, timestamp, to_item};
use super::super::customers::Customers;
use super::super::error::{ensure_version, from_sdk};
use super::super::idempotency::IdempotencyKey;
use super::super::transaction::{Cancelled, TxError, backoff, transact};
use super::super::update::UpdateBuilder;
use super::super::{PricingTiers, StoreError, audit, keys, unique};
use super::usage::{self, UsageChange};
use super::{AUTH_ID_KIND, AccountItem, Accounts, ENTITY, not_found};
use crate::domain::InvalidInput;
use crate::domain::account::{Account, AccountProfile, AccountType, NewAccount};
use crate::domain::audit::{Change, EntityType};
use crate::domain::credentials::generate_auth_id;
use crate::domain::customer::quotas::Quotas;

/// Attempts at a write that may collide (a generated `authId`, an
/// optimistic read) before giving up with `CONFLICT`.
const WRITE_ATTEMPTS: u32 = 10;
/// Attributes an update's diff never touches: identity, credentials,
/// counters and bookkeeping each have their own writes.
const NOT_PROFILE: &[&str] = &[
    "pk",
    "sk",
    "entity",
    "id",
    "apiId",
    "customerId",
    "type",
    "parentAccountId",
    "subAccountCount",
    "authId",
    "authSecretHash",
    "authTokenExpireTime",
    "lastLogin",
    "gsi1pk",
    "gsi1sk",
    "gsi3pk",
    "gsi3sk",
    "createdAt",
    "updatedAt",
    "version",
];

/// A new credential to store: its hash and when it expires.
#[derive(Clone)]
pub struct CredentialUpdate {
    /// HMAC of the new secret.
    pub hash: String,
    /// Expiry; `None` for never.
    pub expires_at: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for CredentialUpdate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialUpdate")
            .field("hash", &"[redacted]")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// The role each item plays in a transaction, to read cancellation reasons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Account,
    ClaimAuthId,
    ReleaseAuthId,
    Customer,
    AttachTier,
    DetachTier,
    Parent,
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

fn too_much_contention() -> StoreError {
    StoreError::Conflict {
        field: None,
        message: "the account was being changed concurrently; try again".into(),
    }
}

/// Whether an `UpdateItem` failed only because its condition did not hold.
fn condition_failed<R>(err: &SdkError<UpdateItemError, R>) -> bool {
    err.as_service_error()
        .is_some_and(UpdateItemError::is_conditional_check_failed_exception)
}

impl Accounts {
    fn tiers(&self) -> PricingTiers {
        PricingTiers::new(self.db.clone())
    }

    /// Condition that the customer exists, is not being deleted and is
    /// `ACTIVE`.
    fn customer_active_check(&self, customer_id: Uuid) -> Result<TransactWriteItem, StoreError> {
        let check = ConditionCheck::builder()
            .table_name(self.db.table.as_ref())
            .set_key(Some(key(keys::customer(&customer_id.to_string()))))
            .condition_expression(
                "attribute_exists(pk) AND #status = :active AND attribute_not_exists(deleting)",
            )
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":active", s("ACTIVE"))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(StoreError::internal)?;
        Ok(TransactWriteItem::builder().condition_check(check).build())
    }

    /// The customer's quotas, read only when `change` grows a purchase
    /// (the purchase conditions need them); else none are needed.
    async fn quotas_for(
        &self,
        customer_id: Uuid,
        change: UsageChange,
    ) -> Result<Quotas, StoreError> {
        if !change.grows_purchases() {
            return Ok(Quotas::default());
        }
        Ok(Customers::new(self.db.clone())
            .get(customer_id)
            .await?
            .map(|c| c.quotas)
            .unwrap_or_default())
    }

    /// Whether the customer item as it was would have taken an account
    /// (there, not being deleted, `ACTIVE`): then only a quota read
    /// earlier had changed.
    fn customer_is_open(old: Option<&super::super::codec::Item>) -> bool {
        old.is_some_and(|item| {
            !item.contains_key("deleting")
                && item
                    .get("status")
                    .and_then(|v| v.as_s().ok())
                    .map(String::as_str)
                    == Some("ACTIVE")
        })
    }

    /// Explains a failed customer check from the item as it was.
    fn customer_refusal(customer_id: Uuid, cancelled: &Cancelled, index: usize) -> StoreError {
        let old = cancelled.old_item(index);
        match old {
            Some(item) if !item.contains_key("deleting") => {
                let status = item
                    .get("status")
                    .and_then(|v| v.as_s().ok())
                    .map_or("unknown", String::as_str);
                StoreError::FailedPrecondition(format!(
                    "the customer is {status}; only ACTIVE customers can have accounts created or re-enabled"
                ))
            }
            _ => StoreError::NotFound {
                entity: "Customer",
                id: customer_id.to_string(),
            },
        }
    }

    /// Explains a failed tier attach: the tier is missing or inactive.
    async fn tier_refusal(&self, tier_id: Uuid, field: &'static str) -> StoreError {
        match self.tiers().activity(tier_id).await {
            Ok(Some(_)) => StoreError::InvalidInput(InvalidInput::new(
                field,
                "the pricing tier is inactive; accounts can only be put on active tiers",
            )),
            Ok(None) => {
                StoreError::InvalidInput(InvalidInput::new(field, "no pricing tier has this id"))
            }
            Err(err) => err,
        }
    }

    /// Transaction item that adds one sub-account to master `parent_id`,
    /// conditioned on it being a `MASTER` of `customer_id`.
    fn parent_increment(
        &self,
        parent_id: Uuid,
        customer_id: Uuid,
    ) -> Result<TransactWriteItem, StoreError> {
        let update = Update::builder()
            .table_name(self.db.table.as_ref())
            .set_key(Some(key(keys::account(&parent_id.to_string()))))
            .update_expression("SET subAccountCount = if_not_exists(subAccountCount, :zero) + :one")
            .condition_expression(
                "attribute_exists(pk) AND customerId = :customer AND #type = :master",
            )
            .expression_attribute_names("#type", "type")
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":customer", s(customer_id.to_string()))
            .expression_attribute_values(":master", s(AccountType::Master.as_str()))
            .build()
            .map_err(StoreError::internal)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// Transaction item that removes one sub-account from master `parent_id`.
    fn parent_decrement(&self, parent_id: &str) -> Result<TransactWriteItem, StoreError> {
        let update = Update::builder()
            .table_name(self.db.table.as_ref())
            .set_key(Some(key(keys::account(parent_id))))
            .update_expression("SET subAccountCount = subAccountCount - :one")
            .condition_expression("subAccountCount >= :one")
            .expression_attribute_values(":one", n(1))
            .build()
            .map_err(StoreError::internal)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// Creates an account with a fresh `authId` and the credential given.
    /// Without a tier the default tier is used. One transaction: the
    /// account, its `authId` guard, the customer's `ACTIVE` check, the
    /// tier's count and, for a sub-account, the master's count.
    #[allow(clippy::too_many_lines)] // one transaction's items with their parts, kept together
    pub async fn create(
        &self,
        new: &NewAccount,
        credential: &CredentialUpdate,
        idempotency: Option<&IdempotencyKey>,
        change: &Change,
    ) -> Result<Account, StoreError> {
        let tier_id = match new.pricing_tier_id {
            Some(id) => id,
            None => self.tiers().default_tier_id().await?.ok_or_else(|| {
                StoreError::FailedPrecondition(
                    "no default pricing tier exists; create an active pricing tier or name one in pricingTierId".into(),
                )
            })?,
        };
        let (cps, calls) = usage::purchases(&new.profile);
        let growth = UsageChange {
            accounts: 1,
            cps,
            calls,
        };
        for attempt in 0..WRITE_ATTEMPTS {
            if attempt > 0 {
                backoff(attempt).await;
            }
            let quotas = self.quotas_for(new.customer_id, growth).await?;
            let uuid = Uuid::now_v7();
            let id = uuid.to_string();
            let auth_id = generate_auth_id();
            let now = timestamp(Utc::now());
            let (pk, sk) = keys::account(&id);
            let customer_s = new.customer_id.to_string();
            let tier_s = tier_id.to_string();
            let item = AccountItem {
                pk,
                sk,
                entity: ENTITY.into(),
                gsi1pk: keys::customer_accounts(&customer_s),
                gsi1sk: id.clone(),
                gsi2pk: keys::tier_accounts(&tier_s),
                gsi2sk: id.clone(),
                gsi3pk: keys::ALL_ACCOUNTS.into(),
                gsi3sk: id.clone(),
                id: id.clone(),
                api_id: Uuid::new_v4().to_string(),
                customer_id: customer_s,
                pricing_tier_id: tier_s,
                kind: new.account_type,
                parent_account_id: new.parent_account_id.map(|p| p.to_string()),
                sub_account_count: 0,
                search_text: new.profile.search_text(&auth_id),
                auth_id: auth_id.clone(),
                auth_secret_hash: credential.hash.clone(),
                auth_token_expire_time: credential.expires_at.map(timestamp),
                profile: new.profile.clone(),
                last_login: None,
                created_by_ip: change.source_ip.clone(),
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
                unique::claim(&self.db, AUTH_ID_KIND, &auth_id, &id)?,
                usage::customer_update(
                    &self.db,
                    &new.customer_id.to_string(),
                    growth,
                    &quotas,
                    true,
                )?,
                self.tiers().attach_account_item(tier_id)?,
            ];
            let mut parts = vec![
                Part::Account,
                Part::ClaimAuthId,
                Part::Customer,
                Part::AttachTier,
            ];
            if let Some(parent) = new.parent_account_id {
                items.push(self.parent_increment(parent, new.customer_id)?);
                parts.push(Part::Parent);
            }
            items.push(audit::record(
                &self.db,
                change,
                EntityType::Account,
                uuid,
                Some(new.customer_id),
            )?);
            parts.push(Part::Audit);
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
                    if failed.contains(&Part::Customer) {
                        if let Some(err) = usage::quota_refusal(c.old_item(2), growth) {
                            return Err(err);
                        }
                        if Self::customer_is_open(c.old_item(2)) {
                            // Only a quota changed since it was read: again.
                            continue;
                        }
                        return Err(Self::customer_refusal(new.customer_id, &c, 2));
                    }
                    if failed.contains(&Part::AttachTier) {
                        return Err(self.tier_refusal(tier_id, "input.pricingTierId").await);
                    }
                    if failed.contains(&Part::Parent) {
                        return Err(StoreError::InvalidInput(InvalidInput::new(
                            "input.parentAccountId",
                            "must be a MASTER account of the same customer",
                        )));
                    }
                    // The generated authId (or id) collided: try fresh ones.
                }
            }
        }
        Err(too_much_contention())
    }

    /// Applies a patch: `apply` turns the current account into the new
    /// profile and tier (validating them); only changed attributes are
    /// written. A tier move detaches from the old tier and attaches to the
    /// new one in the same transaction. Turning `isActive` or `enabled` on
    /// requires the customer to be `ACTIVE` (checked in the transaction).
    #[allow(clippy::too_many_lines)] // one transaction's items with their parts, kept together
    pub async fn update(
        &self,
        id: Uuid,
        expected_version: Option<u64>,
        change: &Change,
        apply: impl Fn(&Account) -> Result<(AccountProfile, Uuid), InvalidInput>,
    ) -> Result<Account, StoreError> {
        let id_s = id.to_string();
        for attempt in 0..WRITE_ATTEMPTS {
            if attempt > 0 {
                backoff(attempt).await;
            }
            let current_item = self.get_item(id).await?.ok_or_else(|| not_found(id))?;
            ensure_version("account", expected_version, current_item.version)?;
            let current = current_item.clone().into_domain()?;
            let (profile, tier_id) = apply(&current).map_err(StoreError::InvalidInput)?;
            let tier_s = tier_id.to_string();
            let mut new_item = current_item.clone();
            new_item.search_text = profile.search_text(&current_item.auth_id);
            new_item.profile = profile;
            new_item.pricing_tier_id.clone_from(&tier_s);
            new_item.gsi2pk = keys::tier_accounts(&tier_s);
            let old_map = to_item(&current_item)?;
            let new_map = to_item(&new_item)?;
            let mut u = UpdateBuilder::diff(&old_map, &new_map, NOT_PROFILE);
            if u.is_empty() {
                return Ok(current);
            }
            u.set("updatedAt", s(timestamp(Utc::now())));
            u.increment("version", 1);
            let version = u.name("version");
            u.value(":expected", n(current_item.version));
            let (expression, names, values) = u.build();
            let update = Update::builder()
                .table_name(self.db.table.as_ref())
                .set_key(Some(key(keys::account(&id_s))))
                .update_expression(expression)
                .condition_expression(format!("attribute_exists(pk) AND {version} = :expected"))
                .set_expression_attribute_names(Some(names))
                .set_expression_attribute_values(Some(values))
                .build()
                .map_err(StoreError::internal)?;
            let mut items = vec![
                TransactWriteItem::builder().update(update).build(),
                audit::record(
                    &self.db,
                    change,
                    EntityType::Account,
                    id,
                    Some(current.customer_id),
                )?,
            ];
            let mut parts = vec![Part::Account, Part::Audit];
            let moved = tier_s != current_item.pricing_tier_id;
            if moved {
                let old_tier =
                    Uuid::parse_str(&current_item.pricing_tier_id).map_err(StoreError::internal)?;
                items.push(self.tiers().detach_account_item(old_tier)?);
                parts.push(Part::DetachTier);
                items.push(self.tiers().attach_account_item(tier_id)?);
                parts.push(Part::AttachTier);
            }
            let switched_on = (new_item.profile.is_active && !current_item.profile.is_active)
                || (new_item.profile.enabled && !current_item.profile.enabled);
            let (old_cps, old_calls) = usage::purchases(&current_item.profile);
            let (new_cps, new_calls) = usage::purchases(&new_item.profile);
            let bought = UsageChange {
                accounts: 0,
                cps: new_cps - old_cps,
                calls: new_calls - old_calls,
            };
            if bought != UsageChange::default() {
                // One update of the customer: the purchase counters, under
                // the quotas, and the ACTIVE check a switch-on needs.
                let quotas = self.quotas_for(current.customer_id, bought).await?;
                items.push(usage::customer_update(
                    &self.db,
                    &current.customer_id.to_string(),
                    bought,
                    &quotas,
                    switched_on,
                )?);
                parts.push(Part::Customer);
            } else if switched_on {
                items.push(self.customer_active_check(current.customer_id)?);
                parts.push(Part::Customer);
            }
            match transact(&self.db, items).await {
                Ok(()) => return self.get(id).await?.ok_or_else(|| not_found(id)),
                Err(TxError::Store(err)) => return Err(err),
                Err(TxError::Cancelled(c)) => {
                    let failed = failed(&parts, &c);
                    if failed.contains(&Part::AttachTier) {
                        return Err(self.tier_refusal(tier_id, "input.pricingTierId").await);
                    }
                    if let Some(index) = parts.iter().position(|p| *p == Part::Customer)
                        && failed.contains(&Part::Customer)
                    {
                        if let Some(err) = usage::quota_refusal(c.old_item(index), bought) {
                            return Err(err);
                        }
                        let open = c.old_item(index).is_some_and(|item| {
                            !item.contains_key("deleting")
                                && (!switched_on || Self::customer_is_open(Some(item)))
                        });
                        if !open {
                            return Err(Self::customer_refusal(current.customer_id, &c, index));
                        }
                        // A quota changed since it was read: read again.
                        continue;
                    }
                    if expected_version.is_some() && failed.contains(&Part::Account) {
                        return Err(StoreError::Conflict {
                            field: Some("expectedVersion"),
                            message: "the account changed concurrently".into(),
                        });
                    }
                    // Changed since read: read again and re-apply.
                }
            }
        }
        Err(too_much_contention())
    }

    /// Replaces the account's secret hash and expiry; the old secret stops
    /// working at once. `customer_id` is the account's customer (the caller
    /// has just read the account), for the audit event.
    pub async fn rotate_secret(
        &self,
        id: Uuid,
        customer_id: Uuid,
        credential: &CredentialUpdate,
        change: &Change,
    ) -> Result<Account, StoreError> {
        let mut u = UpdateBuilder::default();
        u.set("authSecretHash", s(credential.hash.clone()));
        match credential.expires_at {
            Some(at) => u.set("authTokenExpireTime", s(timestamp(at))),
            None => u.remove("authTokenExpireTime"),
        };
        u.set("updatedAt", s(timestamp(Utc::now())));
        u.increment("version", 1);
        let (expression, names, values) = u.build();
        let update = Update::builder()
            .table_name(self.db.table.as_ref())
            .set_key(Some(key(keys::account(&id.to_string()))))
            .update_expression(expression)
            .condition_expression("attribute_exists(pk)")
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .build()
            .map_err(StoreError::internal)?;
        let event = audit::record(&self.db, change, EntityType::Account, id, Some(customer_id))?;
        if !audit::update_recorded(&self.db, update, event).await? {
            return Err(not_found(id));
        }
        self.get(id).await?.ok_or_else(|| not_found(id))
    }

    /// Records a successful credential check of `account` (as read with
    /// its secret's `hash`). The stamp is conditioned on the secret,
    /// `enabled` and `isActive` being as checked, so a rotation or a
    /// deactivation that lands in between wins. The customer's status is
    /// the caller's to check first (`domain::telephony::decide`, on a
    /// consistent read): not a transaction with a `ConditionCheck`, which
    /// would make every login a transaction on the customer item, so that
    /// simultaneous logins of one customer's accounts, and every write to
    /// the customer, would collide. `None` when refused. `lastLogin` is
    /// bookkeeping, not a change an editor could overwrite, so the version
    /// stays; callers write it at most once per interval.
    pub async fn record_login(
        &self,
        account: &Account,
        hash: &str,
    ) -> Result<Option<Account>, StoreError> {
        let stamp = self
            .db
            .client
            .update_item()
            .table_name(self.db.table.as_ref())
            .set_key(Some(key(keys::account(&account.id.to_string()))))
            .update_expression("SET lastLogin = :now")
            .condition_expression("authSecretHash = :hash AND enabled = :true AND isActive = :true")
            .expression_attribute_values(":now", s(timestamp(Utc::now())))
            .expression_attribute_values(":hash", s(hash))
            .expression_attribute_values(":true", AttributeValue::Bool(true))
            .return_values(ReturnValue::AllNew)
            .send();
        match stamp.await {
            Ok(output) => Ok(Some(
                from_item::<AccountItem>(output.attributes.unwrap_or_default())?.into_domain()?,
            )),
            Err(err) if condition_failed(&err) => Ok(None),
            Err(err) => Err(from_sdk(err)),
        }
    }

    /// Deletes an account, releasing its `authId` and its tier's count
    /// (and its master's count, for a sub-account). A master with
    /// sub-accounts is refused, also against a sub-account being created
    /// concurrently: the delete is conditioned on `subAccountCount = 0`.
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
            let current = self.get_item(id).await?.ok_or_else(|| not_found(id))?;
            ensure_version("account", expected_version, current.version)?;
            if current.sub_account_count > 0 {
                return Err(has_sub_accounts(current.sub_account_count));
            }
            let delete = Delete::builder()
                .table_name(self.db.table.as_ref())
                .set_key(Some(key(keys::account(&id_s))))
                .condition_expression(
                    "version = :version AND (attribute_not_exists(subAccountCount) OR subAccountCount = :zero)",
                )
                .expression_attribute_values(":version", n(current.version))
                .expression_attribute_values(":zero", n(0))
                .build()
                .map_err(StoreError::internal)?;
            let tier = Uuid::parse_str(&current.pricing_tier_id).map_err(StoreError::internal)?;
            let customer_id =
                Uuid::parse_str(&current.customer_id).map_err(StoreError::internal)?;
            let mut items = vec![
                TransactWriteItem::builder().delete(delete).build(),
                unique::release(&self.db, AUTH_ID_KIND, &current.auth_id, &id_s)?,
                self.tiers().detach_account_item(tier)?,
                audit::record(&self.db, change, EntityType::Account, id, Some(customer_id))?,
                {
                    let (cps, calls) = usage::purchases(&current.profile);
                    usage::customer_update(
                        &self.db,
                        &current.customer_id,
                        UsageChange {
                            accounts: -1,
                            cps: -cps,
                            calls: -calls,
                        },
                        &Quotas::default(),
                        false,
                    )?
                },
            ];
            let mut parts = vec![
                Part::Account,
                Part::ReleaseAuthId,
                Part::DetachTier,
                Part::Audit,
                Part::Customer,
            ];
            if let Some(parent) = &current.parent_account_id {
                items.push(self.parent_decrement(parent)?);
                parts.push(Part::Parent);
            }
            match transact(&self.db, items).await {
                Ok(()) => return Ok(()),
                Err(TxError::Store(err)) => return Err(err),
                Err(TxError::Cancelled(c)) => {
                    let failed = failed(&parts, &c);
                    if failed.contains(&Part::Customer) {
                        return Err(StoreError::FailedPrecondition(
                            "the account's customer is being deleted; its accounts go with it"
                                .into(),
                        ));
                    }
                    if failed.iter().any(|p| *p != Part::Account) {
                        return Err(StoreError::internal(format!(
                            "account {id_s}: deleting failed on {failed:?}; its guard or counts are out of step"
                        )));
                    }
                    // Changed since read (a new sub-account, an edit):
                    // read again and decide afresh.
                }
            }
        }
        Err(too_much_contention())
    }
}

fn has_sub_accounts(count: u64) -> StoreError {
    StoreError::FailedPrecondition(format!(
        "this master account has {count} sub-account(s); delete them first"
    ))
}
