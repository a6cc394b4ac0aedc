//! Changing memberships: adding (possibly as the new owner), changing
//! permissions or moving the ownership, and removing with role clearing.
//! Each is one transaction over the items it touches, conditioned on what
//! was read, and re-read and retried when a concurrent change got there
//! first.

use super::super::idempotency::IdempotencyKey;
use std::fmt::Write as _;

use aws_sdk_dynamodb::types::{
    AttributeValue, Delete, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
};
use chrono::Utc;
use uuid::Uuid;

use super::{
    MemberRole, Membership, Memberships, WRITE_ATTEMPTS, check_domain, customer_not_found,
    membership_not_found, open_customer_item, put_with, refusal, role_update, too_much_contention,
    user_not_found,
};
use crate::domain::access::Permission;
use crate::domain::audit::{Change, EntityType};
use crate::domain::customer::Customer;
use crate::store::codec::{key, n, s, timestamp};
use crate::store::transaction::{TxError, backoff, transact};
use crate::store::users::Users;
use crate::store::{StoreError, audit, batch, keys};

/// Where the previous owner's `Users::owner_lost` stands in an ownership
/// move's transaction, in `add_member` (after the customer, the new
/// owner, the membership and the previous owner's role) and in
/// `update_member` (after the customer, both roles and the new owner).
const OLD_OWNER_COUNT: usize = 4;

impl Memberships {
    /// Adds user `user_id` to customer `customer_id` as a member without
    /// permissions, as the system rather than a caller (for seeding; see
    /// [`Self::add_member`]).
    pub async fn add(&self, customer_id: Uuid, user_id: Uuid) -> Result<(), StoreError> {
        let change = Change::system("addCustomerUser");
        self.add_member(customer_id, user_id, &[], false, None, &change)
            .await
            .map(|_| ())
    }

    /// Adds user `user_id` to customer `customer_id` with `permissions`,
    /// as the new owner when `owner` (the previous owner stays a member
    /// with its permissions). Refused unless the customer accepts new users
    /// (`ACTIVE` or `INACTIVE`, not being deleted) and the user's email
    /// domain is allowed; adding twice is a conflict, and making the owner
    /// the owner again is `PreconditionAt { field: "userId" }`.
    pub async fn add_member(
        &self,
        customer_id: Uuid,
        user_id: Uuid,
        permissions: &[Permission],
        owner: bool,
        idempotency: Option<&IdempotencyKey>,
        change: &Change,
    ) -> Result<Membership, StoreError> {
        let (cid, uid) = (customer_id.to_string(), user_id.to_string());
        // The previous owner whose count was found to have nothing to lower
        // (see `Users::owner_lost`); only while it is still the owner read.
        let mut nothing_to_lower: Option<Uuid> = None;
        for attempt in 0..WRITE_ATTEMPTS {
            if attempt > 0 {
                backoff(attempt).await;
            }
            let (customers, users) = (self.customers(), self.users());
            let (customer, user) =
                tokio::try_join!(customers.get(customer_id), users.get(user_id))?;
            let customer = customer.ok_or_else(|| customer_not_found(customer_id))?;
            let user = user.ok_or_else(|| user_not_found(user_id))?;
            if owner && customer.owner_user_id == user_id {
                // Nothing to move; the transaction below would also name the
                // owner's membership and user item twice, which DynamoDB
                // refuses as invalid.
                return Err(already_owner());
            }
            if !customer.status.accepts_new_resources() {
                return Err(StoreError::FailedPrecondition(
                    "the customer's status does not allow new users".into(),
                ));
            }
            check_domain(&customer, &user.email, "userId")?;
            let owner_change = owner.then_some((customer.owner_user_id, user_id));
            let role = if owner {
                MemberRole::Owner
            } else {
                MemberRole::Member
            };
            let user_check = if owner {
                Users::owner_gained(&self.db, user_id, Some(&user.email))?
            } else {
                Users::email_check(&self.db, user_id, &user.email)?
            };
            let mut items = vec![
                open_customer_item(&self.db, &cid, &user.email, owner_change, true)?,
                user_check,
                put_with(&self.db, &cid, &uid, role, permissions)?,
            ];
            if owner {
                items.push(role_update(
                    &self.db,
                    customer_id,
                    customer.owner_user_id,
                    MemberRole::Owner,
                    MemberRole::Member,
                    None,
                )?);
                if nothing_to_lower != Some(customer.owner_user_id) {
                    items.push(Users::owner_lost(&self.db, customer.owner_user_id)?);
                }
            }
            items.push(audit::record(
                &self.db,
                change,
                EntityType::User,
                user_id,
                Some(customer_id),
            )?);
            if let Some(key) = idempotency {
                items.push(key.claim(&self.db, &uid)?);
            }
            let claim = items.len() - 1;
            match transact(&self.db, items).await {
                Ok(()) => {
                    return self
                        .get(customer_id, user_id)
                        .await?
                        .ok_or_else(|| membership_not_found(customer_id, user_id));
                }
                Err(TxError::Store(err)) => return Err(err),
                Err(TxError::Cancelled(c)) => {
                    if idempotency.is_some() && c.condition_failed(claim) {
                        return Err(StoreError::IdempotencyKeyTaken);
                    }
                    if c.condition_failed(2) {
                        return Err(StoreError::Conflict {
                            field: Some("userId"),
                            message: "the user already belongs to this customer".into(),
                        });
                    }
                    if c.condition_failed(0)
                        && let Some(err) = refusal(&cid, c.old_item(0), &user.email, "userId")
                    {
                        return Err(err);
                    }
                    // The previous owner's count alone failed (the customer's
                    // own condition held, so the owner read is current).
                    if owner
                        && nothing_to_lower != Some(customer.owner_user_id)
                        && !c.condition_failed(0)
                        && c.condition_failed(OLD_OWNER_COUNT)
                    {
                        nothing_to_lower = Some(customer.owner_user_id);
                    }
                    // The owner, the user's email or a role changed
                    // meanwhile: read again.
                }
            }
        }
        Err(too_much_contention())
    }

    /// Changes a member's permissions (when given) and, with
    /// `owner: Some(true)`, makes it the owner: the previous owner becomes a
    /// member keeping its permissions, in the same transaction as the
    /// customer's `ownerUserId`. The owner cannot be demoted directly
    /// (`FAILED_PRECONDITION`): make another member the owner instead.
    pub async fn update_member(
        &self,
        customer_id: Uuid,
        user_id: Uuid,
        permissions: Option<&[Permission]>,
        owner: Option<bool>,
        change: &Change,
    ) -> Result<Membership, StoreError> {
        // The previous owner whose count was found to have nothing to lower
        // (see `Users::owner_lost`); only while it is still the owner read.
        let mut nothing_to_lower: Option<Uuid> = None;
        for attempt in 0..WRITE_ATTEMPTS {
            if attempt > 0 {
                backoff(attempt).await;
            }
            let customers = self.customers();
            let (customer, current) =
                tokio::try_join!(customers.get(customer_id), self.get(customer_id, user_id))?;
            let customer = customer.ok_or_else(|| customer_not_found(customer_id))?;
            let current = current.ok_or_else(|| membership_not_found(customer_id, user_id))?;
            let is_owner = current.role == MemberRole::Owner;
            let mut items = match (owner, is_owner) {
                (Some(false), true) => {
                    return Err(StoreError::FailedPrecondition(
                        "a customer always has an owner; make another user the owner instead"
                            .into(),
                    ));
                }
                (Some(true), false) => self.transfer_items(
                    customer_id,
                    customer.owner_user_id,
                    user_id,
                    permissions,
                    nothing_to_lower == Some(customer.owner_user_id),
                )?,
                _ => {
                    let Some(permissions) = permissions else {
                        return Ok(current);
                    };
                    vec![role_update(
                        &self.db,
                        customer_id,
                        user_id,
                        current.role,
                        current.role,
                        Some(permissions),
                    )?]
                }
            };
            let transfer = items.len() > 1;
            items.push(audit::record(
                &self.db,
                change,
                EntityType::User,
                user_id,
                Some(customer_id),
            )?);
            match transact(&self.db, items).await {
                Ok(()) => {
                    return self
                        .get(customer_id, user_id)
                        .await?
                        .ok_or_else(|| membership_not_found(customer_id, user_id));
                }
                Err(TxError::Store(err)) => return Err(err),
                Err(TxError::Cancelled(c)) => {
                    if transfer && c.condition_failed(3) {
                        return Err(user_not_found(user_id));
                    }
                    // The previous owner's count alone failed (the customer's
                    // own condition held, so the owner read is current).
                    if transfer
                        && nothing_to_lower != Some(customer.owner_user_id)
                        && !c.condition_failed(0)
                        && c.condition_failed(OLD_OWNER_COUNT)
                    {
                        nothing_to_lower = Some(customer.owner_user_id);
                    }
                    // Someone else moved the ownership or removed the
                    // member: read again.
                }
            }
        }
        Err(too_much_contention())
    }

    /// The items of an ownership transfer from `old_owner` to member
    /// `user_id`, in the order `update_member` reads failures by: the
    /// customer's `ownerUserId`, both roles, the new owner's count, and
    /// (unless `keep_old_count`) the previous owner's.
    fn transfer_items(
        &self,
        customer_id: Uuid,
        old_owner: Uuid,
        user_id: Uuid,
        permissions: Option<&[Permission]>,
        keep_old_count: bool,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        let update = Update::builder()
            .table_name(self.db.table.as_ref())
            .set_key(Some(key(keys::customer(&customer_id.to_string()))))
            .update_expression("SET ownerUserId = :new, updatedAt = :now, version = version + :one")
            .condition_expression(
                "attribute_exists(pk) AND attribute_not_exists(deleting) AND ownerUserId = :old",
            )
            .expression_attribute_values(":new", s(user_id.to_string()))
            .expression_attribute_values(":old", s(old_owner.to_string()))
            .expression_attribute_values(":now", s(timestamp(Utc::now())))
            .expression_attribute_values(":one", n(1))
            .build()
            .map_err(StoreError::internal)?;
        let mut items = vec![
            TransactWriteItem::builder().update(update).build(),
            role_update(
                &self.db,
                customer_id,
                old_owner,
                MemberRole::Owner,
                MemberRole::Member,
                None,
            )?,
            role_update(
                &self.db,
                customer_id,
                user_id,
                MemberRole::Member,
                MemberRole::Owner,
                permissions,
            )?,
            Users::owner_gained(&self.db, user_id, None)?,
        ];
        if !keep_old_count {
            items.push(Users::owner_lost(&self.db, old_owner)?);
        }
        Ok(items)
    }

    /// Removes `user_id` from `customer_id`, clearing every role of the
    /// customer that names it in the same transaction. The owner cannot be
    /// removed (`FAILED_PRECONDITION`).
    pub async fn remove_member(
        &self,
        customer_id: Uuid,
        user_id: Uuid,
        change: &Change,
    ) -> Result<(), StoreError> {
        let customer = self
            .customers()
            .get(customer_id)
            .await?
            .ok_or_else(|| customer_not_found(customer_id))?;
        self.remove_from(customer, user_id, Some(change)).await
    }

    /// [`Self::remove_member`] for user deletion: when the customer is gone
    /// or being deleted, the membership item alone is deleted (the
    /// customer's cascade would do the same).
    pub(crate) async fn remove_for_deletion(
        &self,
        customer_id: Uuid,
        user_id: Uuid,
    ) -> Result<(), StoreError> {
        match self.customers().get(customer_id).await? {
            // The user's deletion records its own event.
            Some(customer) => match self.remove_from(customer, user_id, None).await {
                Err(StoreError::NotFound {
                    entity: "Customer", ..
                }) => self.delete_item(customer_id, user_id).await,
                Err(StoreError::NotFound { .. }) => Ok(()),
                other => other,
            },
            None => self.delete_item(customer_id, user_id).await,
        }
    }

    async fn delete_item(&self, customer_id: Uuid, user_id: Uuid) -> Result<(), StoreError> {
        batch::delete_all(
            &self.db,
            vec![key(keys::membership(
                &customer_id.to_string(),
                &user_id.to_string(),
            ))],
        )
        .await
    }

    async fn remove_from(
        &self,
        mut customer: Customer,
        user_id: Uuid,
        change: Option<&Change>,
    ) -> Result<(), StoreError> {
        let customer_id = customer.id;
        let cid = customer_id.to_string();
        for attempt in 0..WRITE_ATTEMPTS {
            if attempt > 0 {
                backoff(attempt).await;
                customer = self
                    .customers()
                    .get(customer_id)
                    .await?
                    .ok_or_else(|| customer_not_found(customer_id))?;
            }
            let delete = Delete::builder()
                .table_name(self.db.table.as_ref())
                .set_key(Some(key(keys::membership(&cid, &user_id.to_string()))))
                .condition_expression("attribute_exists(pk) AND #role <> :owner")
                .expression_attribute_names("#role", "role")
                .expression_attribute_values(":owner", s("OWNER"))
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                )
                .build()
                .map_err(StoreError::internal)?;
            let roles: Vec<&str> = customer
                .profile
                .role_users
                .named()
                .into_iter()
                .filter(|(_, holder)| *holder == Some(user_id))
                .map(|(role, _)| role)
                .collect();
            let customer_key = key(keys::customer(&cid));
            let guard = "attribute_exists(pk) AND attribute_not_exists(deleting) AND version = :v";
            // One member fewer (the `maxUsers` quota's counter); a
            // counter from before quotas starts from the one it loses.
            let one_fewer = "memberCount = if_not_exists(memberCount, :one) - :one";
            let customer_item = if roles.is_empty() {
                let update = Update::builder()
                    .table_name(self.db.table.as_ref())
                    .set_key(Some(customer_key))
                    .update_expression(format!("SET {one_fewer}"))
                    .condition_expression(guard)
                    .expression_attribute_values(":v", n(customer.version))
                    .expression_attribute_values(":one", n(1))
                    .build()
                    .map_err(StoreError::internal)?;
                TransactWriteItem::builder().update(update).build()
            } else {
                let mut expression =
                    format!("SET updatedAt = :now, version = version + :one, {one_fewer}");
                let mut update = Update::builder()
                    .table_name(self.db.table.as_ref())
                    .set_key(Some(customer_key))
                    .condition_expression(guard)
                    .expression_attribute_values(":v", n(customer.version))
                    .expression_attribute_values(":now", s(timestamp(Utc::now())))
                    .expression_attribute_values(":one", n(1))
                    .expression_attribute_values(":null", AttributeValue::Null(true))
                    .expression_attribute_names("#roleUsers", "roleUsers");
                for role in roles {
                    let _ = write!(expression, ", #roleUsers.#{role} = :null");
                    update = update.expression_attribute_names(format!("#{role}"), role);
                }
                let update = update
                    .update_expression(expression)
                    .build()
                    .map_err(StoreError::internal)?;
                TransactWriteItem::builder().update(update).build()
            };
            let mut items = vec![
                TransactWriteItem::builder().delete(delete).build(),
                customer_item,
            ];
            if let Some(change) = change {
                items.push(audit::record(
                    &self.db,
                    change,
                    EntityType::User,
                    user_id,
                    Some(customer_id),
                )?);
            }
            match transact(&self.db, items).await {
                Ok(()) => return Ok(()),
                Err(TxError::Store(err)) => return Err(err),
                Err(TxError::Cancelled(c)) => {
                    if c.condition_failed(0) {
                        return Err(if c.old_item(0).is_some() {
                            StoreError::FailedPrecondition(
                                "the owner cannot be removed; make another user the owner first"
                                    .into(),
                            )
                        } else {
                            membership_not_found(customer_id, user_id)
                        });
                    }
                    // The customer changed since it was read: read again.
                }
            }
        }
        Err(too_much_contention())
    }
}

/// `addCustomerUser(owner: true)` naming the customer's owner.
fn already_owner() -> StoreError {
    StoreError::PreconditionAt {
        field: "userId",
        message: "the user is already the customer's owner".into(),
    }
}
