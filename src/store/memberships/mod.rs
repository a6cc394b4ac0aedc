//! Memberships: which users belong to which customer, with what
//! permissions. One item each, in the customer's item collection (so
//! deleting a customer finds them all) and in the user's GSI1 list.
//!
//! Invariants and how they hold under concurrency:
//! - **Exactly one owner**: the customer's `ownerUserId` and the `OWNER`
//!   role on one membership change together in one transaction, each part
//!   conditioned on the state read, so concurrent transfers serialise and
//!   the losers re-read.
//! - **New members only while the customer accepts them** (`ACTIVE` or
//!   `INACTIVE`, not being deleted) and only with an email domain its
//!   `allowedDomainsRegistration` allows: both are conditions on the
//!   customer item inside the adding transaction, with a check that the
//!   user still has the email the rule was checked against.
//! - **Roles name members**: removing a member clears every role that names
//!   it in the same transaction, conditioned on the customer version read.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
    Update,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::codec::{Item, from_item, key, n, parse_timestamp, s, timestamp, to_item};
use super::customers::{self, Customers};
use super::error::from_sdk;
use super::paging::fill_page;
use super::users::Users;
use super::{Db, StoreError, batch, cursor, keys};
use crate::domain::access::{MemberAccess, Permission};
use crate::domain::customer::{Customer, CustomerStatus};
use crate::domain::page::{Page, PageRequest};
use crate::domain::user::{domain_allowed, email_domain};

mod writes;

/// Attempts at an optimistic write before giving up with `CONFLICT`.
const WRITE_ATTEMPTS: u32 = 10;

/// Role of a member within a customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MemberRole {
    /// The one owner.
    Owner,
    /// Any other user.
    Member,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct MembershipItem {
    pk: String,
    sk: String,
    entity: String,
    gsi1pk: String,
    gsi1sk: String,
    customer_id: String,
    user_id: String,
    role: MemberRole,
    #[serde(default)]
    permissions: Vec<Permission>,
    created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    updated_at: Option<String>,
}

impl MembershipItem {
    fn into_domain(self) -> Result<Membership, StoreError> {
        let created_at = parse_timestamp(&self.created_at)?;
        Ok(Membership {
            customer_id: Uuid::parse_str(&self.customer_id).map_err(StoreError::internal)?,
            user_id: Uuid::parse_str(&self.user_id).map_err(StoreError::internal)?,
            role: self.role,
            permissions: self.permissions,
            created_at,
            updated_at: self
                .updated_at
                .as_deref()
                .map(parse_timestamp)
                .transpose()?
                .unwrap_or(created_at),
        })
    }
}

/// A user's membership of a customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    /// The customer.
    pub customer_id: Uuid,
    /// The user.
    pub user_id: Uuid,
    /// Owner or member.
    pub role: MemberRole,
    /// Permissions given explicitly (the owner holds all regardless).
    pub permissions: Vec<Permission>,
    /// When the user joined.
    pub created_at: DateTime<Utc>,
    /// Last change of role or permissions.
    pub updated_at: DateTime<Utc>,
}

impl Membership {
    /// What the policy needs to know of this membership.
    pub fn access(&self) -> MemberAccess {
        MemberAccess {
            owner: self.role == MemberRole::Owner,
            permissions: self.permissions.clone(),
        }
    }
}

/// A user's memberships of some customers as the table holds them now:
/// read with strongly consistent reads of the membership items, never from
/// the user's index (which lags behind writes). Only this store builds one,
/// so code that caches memberships for access decisions can demand it and
/// cannot be handed a list read from the index.
#[derive(Debug, Clone, Default)]
pub struct CheckedMemberships {
    user_id: Uuid,
    /// Every customer asked about, with the membership found, if any.
    found: HashMap<Uuid, Option<Membership>>,
}

impl CheckedMemberships {
    /// Whose memberships these are.
    pub fn user_id(&self) -> Uuid {
        self.user_id
    }

    /// Every customer asked about, with the membership found (`None`: the
    /// user does not belong to it).
    pub fn iter(&self) -> impl Iterator<Item = (Uuid, Option<&Membership>)> {
        self.found.iter().map(|(id, m)| (*id, m.as_ref()))
    }

    /// The membership of `customer_id`, if it was read and exists.
    pub fn get(&self, customer_id: Uuid) -> Option<&Membership> {
        self.found.get(&customer_id).and_then(Option::as_ref)
    }

    /// A set as the store would read it, for unit tests elsewhere.
    #[cfg(test)]
    pub(crate) fn for_tests(user_id: Uuid, found: HashMap<Uuid, Option<Membership>>) -> Self {
        Self { user_id, found }
    }
}

/// Transaction item that creates the membership of `user_id` in
/// `customer_id`, unless it exists.
pub(crate) fn put_item(
    db: &Db,
    customer_id: &str,
    user_id: &str,
    role: MemberRole,
) -> Result<TransactWriteItem, StoreError> {
    put_with(db, customer_id, user_id, role, &[])
}

/// [`put_item`] with explicit permissions.
pub(crate) fn put_with(
    db: &Db,
    customer_id: &str,
    user_id: &str,
    role: MemberRole,
    permissions: &[Permission],
) -> Result<TransactWriteItem, StoreError> {
    let (pk, sk) = keys::membership(customer_id, user_id);
    let item = MembershipItem {
        pk,
        sk,
        entity: "Membership".into(),
        gsi1pk: keys::user_memberships(user_id),
        gsi1sk: customer_id.to_owned(),
        customer_id: customer_id.to_owned(),
        user_id: user_id.to_owned(),
        role,
        permissions: Permission::normalize(permissions.to_vec()),
        created_at: timestamp(Utc::now()),
        updated_at: None,
    };
    let put = Put::builder()
        .table_name(db.table.as_ref())
        .set_item(Some(to_item(&item)?))
        .condition_expression("attribute_not_exists(pk)")
        .build()
        .map_err(StoreError::internal)?;
    Ok(TransactWriteItem::builder().put(put).build())
}

/// Transaction item that requires `user_id` to be a member of
/// `customer_id`.
pub(crate) fn exists_check(
    db: &Db,
    customer_id: &str,
    user_id: &str,
) -> Result<TransactWriteItem, StoreError> {
    let check = ConditionCheck::builder()
        .table_name(db.table.as_ref())
        .set_key(Some(key(keys::membership(customer_id, user_id))))
        .condition_expression("attribute_exists(pk)")
        .build()
        .map_err(StoreError::internal)?;
    Ok(TransactWriteItem::builder().condition_check(check).build())
}

/// The condition a customer must meet to gain a member whose email domain
/// is `:domain`: alive, accepting new resources, either no registration
/// domains or `:domain` among them, and room under its `maxUsers` quota.
/// Values `:active`, `:inactive`, `:domain`, `:zero`; name `#status`.
const OPEN_TO_DOMAIN: &str = "attribute_exists(pk) AND attribute_not_exists(deleting) \
    AND #status IN (:active, :inactive) \
    AND (size(allowedDomainsRegistration) = :zero OR contains(allowedDomainsRegistration, :domain)) \
    AND (attribute_not_exists(maxUsers) OR (attribute_not_exists(memberCount) AND maxUsers > :zero) \
         OR memberCount < maxUsers)";

/// The update that counts one more member.
const ONE_MORE_MEMBER: &str = "memberCount = if_not_exists(memberCount, :zero) + :one";

/// Transaction item that checks customer `customer_id` so that a user with
/// `email` may join it now and, when the user `joins` in this transaction,
/// counts the new member (the `maxUsers` quota's counter). With
/// `owner_change = Some((old, new))`, also moves `ownerUserId` from `old`
/// to `new`.
pub(crate) fn open_customer_item(
    db: &Db,
    customer_id: &str,
    email: &str,
    owner_change: Option<(Uuid, Uuid)>,
    joins: bool,
) -> Result<TransactWriteItem, StoreError> {
    let customer_key = key(keys::customer(customer_id));
    let values = [
        (":active", s(CustomerStatus::Active.as_str())),
        (":inactive", s(CustomerStatus::Inactive.as_str())),
        (":domain", s(email_domain(email))),
        (":zero", n(0)),
    ];
    Ok(match owner_change {
        None if joins => {
            let mut update = Update::builder()
                .table_name(db.table.as_ref())
                .set_key(Some(customer_key))
                .update_expression(format!("SET {ONE_MORE_MEMBER}"))
                .condition_expression(OPEN_TO_DOMAIN)
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":one", n(1))
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                );
            for (name, value) in values {
                update = update.expression_attribute_values(name, value);
            }
            TransactWriteItem::builder()
                .update(update.build().map_err(StoreError::internal)?)
                .build()
        }
        None => {
            let mut check = ConditionCheck::builder()
                .table_name(db.table.as_ref())
                .set_key(Some(customer_key))
                .condition_expression(OPEN_TO_DOMAIN)
                .expression_attribute_names("#status", "status")
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                );
            for (name, value) in values {
                check = check.expression_attribute_values(name, value);
            }
            TransactWriteItem::builder()
                .condition_check(check.build().map_err(StoreError::internal)?)
                .build()
        }
        Some((old, new)) => {
            let mut update = Update::builder()
                .table_name(db.table.as_ref())
                .set_key(Some(customer_key))
                .update_expression(if joins {
                    format!("SET ownerUserId = :new, updatedAt = :now, version = version + :one, {ONE_MORE_MEMBER}")
                } else {
                    "SET ownerUserId = :new, updatedAt = :now, version = version + :one".to_owned()
                })
                .condition_expression(format!("{OPEN_TO_DOMAIN} AND ownerUserId = :old"))
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":new", s(new.to_string()))
                .expression_attribute_values(":old", s(old.to_string()))
                .expression_attribute_values(":now", s(timestamp(Utc::now())))
                .expression_attribute_values(":one", n(1))
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                );
            for (name, value) in values {
                update = update.expression_attribute_values(name, value);
            }
            TransactWriteItem::builder()
                .update(update.build().map_err(StoreError::internal)?)
                .build()
        }
    })
}

/// The refusal of a member beyond the customer's `maxUsers` quota.
pub(crate) fn users_quota_reached(max: impl std::fmt::Display) -> StoreError {
    StoreError::QuotaExceeded {
        quota: "maxUsers",
        message: format!(
            "the customer has reached its quota of {max} users (maxUsers); the platform can raise it"
        ),
    }
}

/// Why a customer refused a new member, from the item as it was (`None`
/// when it did not exist), or `None` when it would accept now (a
/// concurrent change the caller should retry after).
pub(crate) fn refusal(
    customer_id: &str,
    old: Option<&Item>,
    email: &str,
    field: &'static str,
) -> Option<StoreError> {
    let gone = || StoreError::NotFound {
        entity: "Customer",
        id: customer_id.to_owned(),
    };
    let Some(item) = old else {
        return Some(gone());
    };
    if item.contains_key("deleting") {
        return Some(gone());
    }
    let status = item.get("status").and_then(|v| v.as_s().ok());
    if !status.is_some_and(|s| s == "ACTIVE" || s == "INACTIVE") {
        return Some(StoreError::FailedPrecondition(
            "the customer's status does not allow new users".into(),
        ));
    }
    let allowed: Vec<String> = item
        .get("allowedDomainsRegistration")
        .and_then(|v| v.as_l().ok())
        .map(|l| l.iter().filter_map(|d| d.as_s().ok().cloned()).collect())
        .unwrap_or_default();
    if !domain_allowed(email, &allowed) {
        return Some(StoreError::PreconditionAt {
            field,
            message: format!(
                "the customer accepts only users with an email in {}",
                allowed.join(", ")
            ),
        });
    }
    let number = |name: &str| {
        item.get(name)
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse::<i64>().ok())
    };
    if let Some(max) = number("maxUsers")
        && number("memberCount").unwrap_or(0) >= max
    {
        return Some(users_quota_reached(max));
    }
    None
}

/// The early, friendly form of the domain rule, for a customer already read.
pub(crate) fn check_domain(
    customer: &Customer,
    email: &str,
    field: &'static str,
) -> Result<(), StoreError> {
    let allowed = &customer.profile.allowed_domains_registration;
    if domain_allowed(email, allowed) {
        Ok(())
    } else {
        Err(StoreError::PreconditionAt {
            field,
            message: format!(
                "the customer accepts only users with an email in {}",
                allowed.join(", ")
            ),
        })
    }
}

fn membership_not_found(customer_id: Uuid, user_id: Uuid) -> StoreError {
    StoreError::NotFound {
        entity: "CustomerUser",
        id: format!("{customer_id}/{user_id}"),
    }
}

fn customer_not_found(id: Uuid) -> StoreError {
    StoreError::NotFound {
        entity: "Customer",
        id: id.to_string(),
    }
}

fn user_not_found(id: Uuid) -> StoreError {
    StoreError::NotFound {
        entity: "User",
        id: id.to_string(),
    }
}

fn too_much_contention() -> StoreError {
    StoreError::Conflict {
        field: None,
        message: "the customer's users were being changed concurrently; try again".into(),
    }
}

/// A membership update that sets the role from `from` to `to` (and, when
/// given, the permissions), conditioned on the role read.
fn role_update(
    db: &Db,
    customer_id: Uuid,
    user_id: Uuid,
    from: MemberRole,
    to: MemberRole,
    permissions: Option<&[Permission]>,
) -> Result<TransactWriteItem, StoreError> {
    let role_name = |r: MemberRole| match r {
        MemberRole::Owner => "OWNER",
        MemberRole::Member => "MEMBER",
    };
    let mut expression = "SET #role = :to, updatedAt = :now".to_owned();
    let mut update = Update::builder()
        .table_name(db.table.as_ref())
        .set_key(Some(key(keys::membership(
            &customer_id.to_string(),
            &user_id.to_string(),
        ))))
        .condition_expression("attribute_exists(pk) AND #role = :from")
        .expression_attribute_names("#role", "role")
        .expression_attribute_values(":to", s(role_name(to)))
        .expression_attribute_values(":from", s(role_name(from)))
        .expression_attribute_values(":now", s(timestamp(Utc::now())));
    if let Some(permissions) = permissions {
        expression.push_str(", #permissions = :permissions");
        update = update
            .expression_attribute_names("#permissions", "permissions")
            .expression_attribute_values(":permissions", permission_list(permissions));
    }
    let update = update
        .update_expression(expression)
        .build()
        .map_err(StoreError::internal)?;
    Ok(TransactWriteItem::builder().update(update).build())
}

fn permission_list(permissions: &[Permission]) -> AttributeValue {
    let list: Vec<String> = Permission::normalize(permissions.to_vec())
        .into_iter()
        .map(|p| {
            serde_json::to_value(p)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default()
        })
        .collect();
    AttributeValue::L(list.into_iter().map(AttributeValue::S).collect())
}

/// Reads and writes memberships.
#[derive(Clone, Debug)]
pub struct Memberships {
    db: Db,
}

impl Memberships {
    pub(crate) fn new(db: Db) -> Self {
        Self { db }
    }

    fn customers(&self) -> Customers {
        Customers::new(self.db.clone())
    }

    fn users(&self) -> Users {
        Users::new(self.db.clone())
    }

    /// The membership of `user_id` in `customer_id`, if any (strongly
    /// consistent: it decides access).
    pub async fn get(
        &self,
        customer_id: Uuid,
        user_id: Uuid,
    ) -> Result<Option<Membership>, StoreError> {
        let output = self
            .db
            .client
            .get_item()
            .table_name(self.db.table.as_ref())
            .set_key(Some(key(keys::membership(
                &customer_id.to_string(),
                &user_id.to_string(),
            ))))
            .consistent_read(true)
            .send()
            .await
            .map_err(from_sdk)?;
        output
            .item
            .map(|item| from_item::<MembershipItem>(item)?.into_domain())
            .transpose()
    }

    /// The customers `ids` (those that exist and are not being deleted)
    /// and `user_id`'s membership of each, in one strongly consistent batch
    /// (a customer and its memberships share a partition). A list of
    /// memberships read from the user's index ([`Self::list_for_user`]) is
    /// checked through this before it decides anything: a membership
    /// removed or changed a moment ago may still show there.
    pub async fn customers_with_membership(
        &self,
        user_id: Uuid,
        ids: &[Uuid],
    ) -> Result<(HashMap<Uuid, Customer>, CheckedMemberships), StoreError> {
        let (uid, mut keys) = (user_id.to_string(), Vec::with_capacity(ids.len() * 2));
        for id in ids {
            let cid = id.to_string();
            keys.push(key(keys::customer(&cid)));
            keys.push(key(keys::membership(&cid, &uid)));
        }
        let mut customers = HashMap::new();
        let mut checked = CheckedMemberships {
            user_id,
            found: ids.iter().map(|id| (*id, None)).collect(),
        };
        for item in batch::get_all(&self.db, keys).await? {
            let is_member = item
                .get(keys::SK)
                .and_then(|sk| sk.as_s().ok())
                .is_some_and(|sk| sk.starts_with(keys::MEMBER_PREFIX));
            if is_member {
                let membership = from_item::<MembershipItem>(item)?.into_domain()?;
                checked
                    .found
                    .insert(membership.customer_id, Some(membership));
            } else if let Some(customer) = customers::live_from_item(item)? {
                customers.insert(customer.id, customer);
            }
        }
        Ok((customers, checked))
    }

    /// One page of a customer's members, oldest membership first by user id.
    pub async fn list(
        &self,
        customer_id: Uuid,
        page: &PageRequest,
    ) -> Result<Page<Membership>, StoreError> {
        let partition = keys::customer_partition(&customer_id.to_string());
        let start = match &page.after {
            Some(after) => {
                let parts = cursor::decode(after, 1)?;
                Uuid::parse_str(&parts[0]).map_err(|_| StoreError::InvalidCursor)?;
                Some(key((
                    partition.clone(),
                    format!("{}{}", keys::MEMBER_PREFIX, parts[0]),
                )))
            }
            None => None,
        };
        let query = self
            .db
            .client
            .query()
            .table_name(self.db.table.as_ref())
            .key_condition_expression("pk = :pk AND begins_with(sk, :member)")
            .expression_attribute_values(":pk", AttributeValue::S(partition.clone()))
            .expression_attribute_values(":member", s(keys::MEMBER_PREFIX))
            .consistent_read(true);
        let filled =
            fill_page::<MembershipItem>(query, start, page.first, 1, self.db.read_limit).await?;
        let has_next_page = filled.has_next_page;
        let resume_cursor = filled.resume_cursor("gsi1sk");
        let items = filled
            .items
            .into_iter()
            .map(|item| {
                let cursor = cursor::encode(&[&item.user_id]);
                Ok((item.into_domain()?, cursor))
            })
            .collect::<Result<_, StoreError>>()?;
        Ok(Page {
            items,
            has_next_page,
            resume_cursor,
        })
    }

    /// One page of the customers a user belongs to, newest customer first,
    /// read from the user's index: eventually consistent, so it may still
    /// show a membership just removed or changed (or not yet one just
    /// added). Never decide access on it; check the page with
    /// [`Self::customers_with_membership`].
    pub async fn list_for_user(
        &self,
        user_id: Uuid,
        page: &PageRequest,
    ) -> Result<Page<Membership>, StoreError> {
        let partition = keys::user_memberships(&user_id.to_string());
        let start = match &page.after {
            Some(after) => {
                let parts = cursor::decode(after, 1)?;
                Uuid::parse_str(&parts[0]).map_err(|_| StoreError::InvalidCursor)?;
                let mut start = key(keys::membership(&parts[0], &user_id.to_string()));
                start.insert("gsi1pk".into(), s(partition.clone()));
                start.insert("gsi1sk".into(), s(parts[0].clone()));
                Some(start)
            }
            None => None,
        };
        let query = self
            .db
            .client
            .query()
            .table_name(self.db.table.as_ref())
            .index_name(keys::GSI1)
            .key_condition_expression("gsi1pk = :pk")
            .expression_attribute_values(":pk", s(partition))
            .scan_index_forward(false);
        let filled =
            fill_page::<MembershipItem>(query, start, page.first, 1, self.db.read_limit).await?;
        let has_next_page = filled.has_next_page;
        let resume_cursor = filled.resume_cursor("gsi1sk");
        let items = filled
            .items
            .into_iter()
            .map(|item| {
                let cursor = cursor::encode(&[&item.customer_id]);
                Ok((item.into_domain()?, cursor))
            })
            .collect::<Result<_, StoreError>>()?;
        Ok(Page {
            items,
            has_next_page,
            resume_cursor,
        })
    }

    /// Every customer a user belongs to, with the role (for deletion).
    pub(crate) async fn customers_of(
        &self,
        user_id: Uuid,
    ) -> Result<Vec<(Uuid, MemberRole)>, StoreError> {
        let mut found = Vec::new();
        let mut after = None;
        loop {
            let page = self
                .list_for_user(user_id, &PageRequest { first: 100, after })
                .await?;
            let last = page.items.last().map(|(_, c)| c.clone());
            found.extend(page.items.into_iter().map(|(m, _)| (m.customer_id, m.role)));
            match (page.has_next_page, last) {
                (true, Some(cursor)) => after = Some(cursor),
                _ => return Ok(found),
            }
        }
    }

    /// Up to `limit` membership keys of a customer, from the start: deletion
    /// removes what it reads, so each call returns the next ones.
    pub(crate) async fn keys_page(
        db: &Db,
        customer_id: &str,
        limit: i32,
    ) -> Result<Vec<Item>, StoreError> {
        let output = db
            .client
            .query()
            .table_name(db.table.as_ref())
            .key_condition_expression("pk = :pk AND begins_with(sk, :member)")
            .expression_attribute_values(":pk", s(keys::customer_partition(customer_id)))
            .expression_attribute_values(":member", s(keys::MEMBER_PREFIX))
            .projection_expression("pk, sk")
            .consistent_read(true)
            .limit(limit)
            .send()
            .await
            .map_err(from_sdk)?;
        Ok(output.items.unwrap_or_default())
    }
}
