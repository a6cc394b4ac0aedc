//! Taking a customer apart: termination flags its accounts; deletion
//! removes it with everything it owns, resumably.

use aws_sdk_dynamodb::types::{
    AttributeValue, Delete, ReturnValue, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
    Update,
};
use chrono::Utc;
use uuid::Uuid;

use super::super::codec::{Item, from_item, key, n, s, timestamp};
use super::super::error::from_sdk;
use super::super::invitations::Invitations;
use super::super::memberships::Memberships;
use super::super::transaction::{TxError, backoff, transact};
use super::super::update::UpdateBuilder;
use super::super::{StoreError, Users, audit, batch, keys, unique};
use super::{
    ACCOUNTS_PER_TRANSACTION, AccountRef, CustomerItem, Customers, DELETE_PAGE, FILTER_INDEX_KEYS,
    condition_failed, not_found,
};
use crate::domain::audit::{Change, EntityType};
use crate::domain::customer::CustomerStatus;

/// How often the deletion's last step is tried while the accounts index
/// lags behind the customer's account count.
const FINAL_ATTEMPTS: u32 = 6;
/// How often one batch of account deletions is tried again after some of
/// its accounts were found gone or moved to another tier.
const DELETE_ROUNDS: u32 = 8;

impl Customers {
    /// Flags every account of the customer inactive and disabled. Accounts
    /// are listed on GSI1 under `CUSTOMER#<id>#ACCOUNTS`; each update is
    /// idempotent.
    pub(super) async fn deactivate_accounts(&self, id: &str) -> Result<(), StoreError> {
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
    pub async fn delete(&self, id: Uuid, change: &Change) -> Result<(), StoreError> {
        let id_s = id.to_string();
        let item = self.mark_deleting(id).await?;

        loop {
            let page = Memberships::keys_page(&self.db, &id_s, DELETE_PAGE).await?;
            if page.is_empty() {
                break;
            }
            batch::delete_all(&self.db, page).await?;
        }
        // The last step is conditioned on the customer's account count being
        // zero: an account the index has not shown yet fails it, and the
        // accounts are read again.
        let owner = Uuid::parse_str(&item.owner_user_id).map_err(StoreError::internal)?;
        let mut owner_gone = false;
        for attempt in 0..FINAL_ATTEMPTS {
            if attempt > 0 {
                backoff(attempt).await;
            }
            self.delete_all_accounts(&id_s).await?;
            Invitations::delete_for_customer(&self.db, &id_s).await?;
            let mut terms = item.search_terms()?;
            // Terms the current folding gives too, in case an item's stored
            // list predates a change of folding.
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
                .condition_expression(
                    "deleting = :true AND (attribute_not_exists(accountCount) OR accountCount <= :zero)",
                )
                .expression_attribute_values(":true", AttributeValue::Bool(true))
                .expression_attribute_values(":zero", n(0))
                .build()
                .map_err(StoreError::internal)?;
            // The event goes with the final delete: concurrent or repeated
            // calls record exactly one.
            let mut items = vec![
                TransactWriteItem::builder().delete(delete).build(),
                audit::record(&self.db, change, EntityType::Customer, id, Some(id))?,
            ];
            for (kind, value) in item.guarded_values() {
                items.push(unique::release(&self.db, kind, &value, &id_s)?);
            }
            // The owner owns one customer fewer (unless there is nothing to
            // lower: see `Users::owner_lost`).
            let owner_at = items.len();
            if !owner_gone {
                items.push(Users::owner_lost(&self.db, owner)?);
            }
            match transact(&self.db, items).await {
                Ok(()) => return Ok(()),
                Err(TxError::Store(err)) => return Err(err),
                Err(TxError::Cancelled(c)) => match self.get_item(&id_s).await? {
                    // A concurrent call finished the deletion first: done.
                    None => return Ok(()),
                    // Accounts remain that the index did not show: again.
                    Some(current) if current.account_count.unwrap_or(0) > 0 => {}
                    Some(_) if !owner_gone && c.condition_failed(owner_at) => owner_gone = true,
                    Some(_) => {
                        return Err(StoreError::internal(format!(
                            "customer {id_s}: the final delete of the item and its guards failed its conditions"
                        )));
                    }
                },
            }
        }
        Err(StoreError::Unavailable(
            format!("customer {id_s}: accounts remain that the index has not shown yet").into(),
        ))
    }

    /// Deletes every account the customer's accounts index shows, forward
    /// through the index: a page's accounts are gone before the next is
    /// read, and no account can be added to a customer being deleted, so
    /// every account shown is seen once.
    async fn delete_all_accounts(&self, id: &str) -> Result<(), StoreError> {
        let mut start = None;
        loop {
            let (accounts, next) = self.account_keys_page(id, start.take()).await?;
            for chunk in accounts.chunks(ACCOUNTS_PER_TRANSACTION) {
                self.delete_accounts(id, chunk.to_vec()).await?;
            }
            match next {
                Some(next) => start = Some(next),
                None => return Ok(()),
            }
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
    async fn delete_accounts(
        &self,
        customer: &str,
        mut accounts: Vec<AccountRef>,
    ) -> Result<(), StoreError> {
        for _ in 0..DELETE_ROUNDS {
            if accounts.is_empty() {
                return Ok(());
            }
            let mut items = Vec::with_capacity(accounts.len() * 3);
            let mut per_tier: Vec<(String, u32)> = Vec::new();
            for account in &accounts {
                // On the tier it was read on: the index it was read from can
                // lag a move to another tier, whose count must then fall.
                let delete = Delete::builder()
                    .table_name(self.db.table.as_ref())
                    .set_key(Some(account.key.clone()))
                    .return_values_on_condition_check_failure(
                        ReturnValuesOnConditionCheckFailure::AllOld,
                    );
                let delete = match &account.tier {
                    Some(tier) => delete
                        .condition_expression("attribute_exists(pk) AND pricingTierId = :tier")
                        .expression_attribute_values(":tier", s(tier.clone())),
                    None => delete.condition_expression("attribute_exists(pk)"),
                }
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
            items.push(self.count_accounts_removed(customer, accounts.len())?);
            match transact(&self.db, items).await {
                Ok(()) => return Ok(()),
                Err(TxError::Store(err)) => return Err(err),
                Err(TxError::Cancelled(c)) => {
                    // An account that failed its condition is gone (left
                    // out), or on another tier than read (tried again on
                    // that tier).
                    let mut changed = false;
                    let mut kept = Vec::with_capacity(accounts.len());
                    for (index, mut account) in accounts.into_iter().enumerate() {
                        if !c.condition_failed(index) {
                            kept.push(account);
                            continue;
                        }
                        changed = true;
                        if let Some(now) = c.old_item(index) {
                            account.tier = now
                                .get("pricingTierId")
                                .and_then(|v| v.as_s().ok())
                                .cloned();
                            kept.push(account);
                        }
                    }
                    if !changed {
                        return Err(StoreError::internal(format!(
                            "deleting accounts: a tier's accountCount is below its accounts {per_tier:?}"
                        )));
                    }
                    accounts = kept;
                }
            }
        }
        if accounts.is_empty() {
            return Ok(());
        }
        Err(StoreError::Conflict {
            field: None,
            message: "the customer's accounts kept changing while it was deleted; try again".into(),
        })
    }

    /// Transaction item that counts `count` accounts fewer on customer `id`.
    fn count_accounts_removed(
        &self,
        id: &str,
        count: usize,
    ) -> Result<TransactWriteItem, StoreError> {
        let update = Update::builder()
            .table_name(self.db.table.as_ref())
            .set_key(Some(key(keys::customer(id))))
            .update_expression("SET accountCount = if_not_exists(accountCount, :count) - :count")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":count", n(i64::try_from(count).unwrap_or(i64::MAX)))
            .build()
            .map_err(StoreError::internal)?;
        Ok(TransactWriteItem::builder().update(update).build())
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
}
