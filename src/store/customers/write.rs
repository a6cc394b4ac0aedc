//! Creating and changing customers: create (with its owner), patch,
//! status.

use aws_sdk_dynamodb::types::{Put, TransactWriteItem, Update};
use chrono::Utc;
use uuid::Uuid;

use super::super::codec::{ensure_fits, key, n, s, timestamp, to_item};
use super::super::error::ensure_version;
use super::super::idempotency::IdempotencyKey;
use super::super::memberships::{self, MemberRole};
use super::super::transaction::{TxError, backoff, transact};
use super::super::update::UpdateBuilder;
use super::super::users::Users;
use super::super::{StoreError, audit, keys, unique};
use super::{
    CustomerItem, Customers, EMAIL_KIND, HOSTNAME_KIND, NOT_PROFILE, Part, SUBDOMAIN_KIND,
    WRITE_ATTEMPTS, failed, not_a_member, not_found, random_suffix, search_term_delete,
    search_term_put, taken, too_much_contention,
};
use crate::domain::InvalidInput;
use crate::domain::audit::{Change, EntityType};
use crate::domain::customer::{Customer, CustomerProfile, CustomerStatus};
use crate::domain::user::NewUser;

impl Customers {
    /// Creates a customer with its owner. When a user with `owner.email`
    /// exists it becomes the owner (its password untouched); otherwise
    /// `owner` is created. All in one transaction.
    #[allow(clippy::too_many_lines)] // one transaction's items with their parts, kept together
    pub async fn create(
        &self,
        profile: &CustomerProfile,
        status: CustomerStatus,
        owner: &NewUser,
        idempotency: Option<&IdempotencyKey>,
        change: &Change,
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
            let uuid = Uuid::now_v7();
            let id = uuid.to_string();
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
            item.created_by_ip.clone_from(&change.source_ip);
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
            items.push(audit::record(
                &self.db,
                change,
                EntityType::Customer,
                uuid,
                Some(uuid),
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
                        if let Some(err) = users.held_by_interrupted_deletion(&owner.email).await? {
                            return Err(err);
                        }
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
            items.push(Users::owner_gained(&self.db, owner_id, None)?);
            parts.push(Part::ExistingOwner);
        } else {
            let user_items = Users::create_items_owning(&self.db, owner_id, owner, 1)?;
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
        change: &Change,
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
            let mut items = vec![
                TransactWriteItem::builder().update(update).build(),
                audit::record(&self.db, change, EntityType::Customer, id, Some(id))?,
            ];
            let mut parts = vec![Part::Customer, Part::Audit];
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
        change: &Change,
    ) -> Result<Customer, StoreError> {
        let reason = change.reason.clone();
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
            let update = Update::builder()
                .table_name(self.db.table.as_ref())
                .set_key(Some(key(keys::customer(&id_s))))
                .update_expression(expression)
                .condition_expression(format!(
                    "{status_name} = :current AND attribute_not_exists({deleting})"
                ))
                .set_expression_attribute_names(Some(names))
                .set_expression_attribute_values(Some(values))
                .build()
                .map_err(StoreError::internal)?;
            let event = audit::record(&self.db, change, EntityType::Customer, id, Some(id))?;
            if audit::update_recorded(&self.db, update, event).await? {
                if status == CustomerStatus::Terminated {
                    self.deactivate_accounts(&id_s).await?;
                }
                return self.get(id).await?.ok_or_else(|| not_found(id));
            }
        }
        Err(too_much_contention())
    }
}

impl Customers {
    /// Sets the customer's quotas (`None`: unlimited). A quota below what
    /// the customer already uses blocks growth and removes nothing. The
    /// counters the quotas are checked against are left alone: they are
    /// kept by the writes that add and remove accounts and members.
    pub async fn set_quotas(
        &self,
        id: Uuid,
        quotas: &crate::domain::customer::quotas::Quotas,
        change: &Change,
    ) -> Result<Customer, StoreError> {
        let id_s = id.to_string();
        let mut u = UpdateBuilder::default();
        for (name, value) in [
            ("maxAccounts", quotas.max_accounts),
            ("maxUsers", quotas.max_users),
            ("maxPurchasedCps", quotas.max_purchased_cps),
            (
                "maxPurchasedConcurrentCalls",
                quotas.max_purchased_concurrent_calls,
            ),
        ] {
            match value {
                Some(v) => u.set(name, n(v)),
                None => u.remove(name),
            };
        }
        u.set("updatedAt", s(timestamp(Utc::now())))
            .increment("version", 1);
        let deleting = u.name("deleting");
        let (expression, names, values) = u.build();
        let update = Update::builder()
            .table_name(self.db.table.as_ref())
            .set_key(Some(key(keys::customer(&id_s))))
            .update_expression(expression)
            .condition_expression(format!(
                "attribute_exists(pk) AND attribute_not_exists({deleting})"
            ))
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .build()
            .map_err(StoreError::internal)?;
        let event = audit::record(&self.db, change, EntityType::Customer, id, Some(id))?;
        if audit::update_recorded(&self.db, update, event).await? {
            return self.get(id).await?.ok_or_else(|| not_found(id));
        }
        Err(not_found(id))
    }
}
