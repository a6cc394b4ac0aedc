//! Memberships: which users belong to which customer, one item each in the
//! customer's item collection (so deleting a customer finds them all) and
//! in the user's GSI1 list.

use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::codec::{key, s, timestamp, to_item};
use super::error::from_sdk;
use super::paging::fill_page;
use super::transaction::{TxError, transact};
use super::users::Users;
use super::{Db, StoreError, cursor, keys};
use crate::domain::customer::CustomerStatus;
use crate::domain::page::{Page, PageRequest};

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
    created_at: String,
}

/// A user's membership of a customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Membership {
    /// The user.
    pub user_id: Uuid,
    /// Owner or member.
    pub role: MemberRole,
}

/// Transaction item that creates the membership of `user_id` in
/// `customer_id`, unless it exists.
pub(crate) fn put_item(
    db: &Db,
    customer_id: &str,
    user_id: &str,
    role: MemberRole,
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
        created_at: timestamp(Utc::now()),
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

/// Reads and writes memberships.
#[derive(Clone, Debug)]
pub struct Memberships {
    db: Db,
}

impl Memberships {
    pub(crate) fn new(db: Db) -> Self {
        Self { db }
    }

    /// Adds user `user_id` to customer `customer_id` as a member. Refused
    /// unless the customer accepts new resources (`ACTIVE` or `INACTIVE`,
    /// not being deleted) and the user exists; adding twice is a conflict.
    pub async fn add(&self, customer_id: Uuid, user_id: Uuid) -> Result<(), StoreError> {
        let (cid, uid) = (customer_id.to_string(), user_id.to_string());
        let customer_open = ConditionCheck::builder()
            .table_name(self.db.table.as_ref())
            .set_key(Some(key(keys::customer(&cid))))
            .condition_expression(
                "attribute_exists(pk) AND attribute_not_exists(deleting) AND #status IN (:active, :inactive)",
            )
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":active", s(CustomerStatus::Active.as_str()))
            .expression_attribute_values(":inactive", s(CustomerStatus::Inactive.as_str()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(StoreError::internal)?;
        let items = vec![
            TransactWriteItem::builder()
                .condition_check(customer_open)
                .build(),
            Users::exists_check(&self.db, user_id)?,
            put_item(&self.db, &cid, &uid, MemberRole::Member)?,
        ];
        match transact(&self.db, items).await {
            Ok(()) => Ok(()),
            Err(TxError::Store(err)) => Err(err),
            Err(TxError::Cancelled(c)) => Err(if c.condition_failed(0) {
                let alive = c
                    .old_item(0)
                    .is_some_and(|item| !item.contains_key("deleting"));
                if alive {
                    StoreError::FailedPrecondition(
                        "the customer's status does not allow new users".into(),
                    )
                } else {
                    StoreError::NotFound {
                        entity: "Customer",
                        id: cid,
                    }
                }
            } else if c.condition_failed(1) {
                StoreError::NotFound {
                    entity: "User",
                    id: uid,
                }
            } else {
                StoreError::Conflict {
                    field: Some("userId"),
                    message: "the user already belongs to this customer".into(),
                }
            }),
        }
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
        let items = filled
            .items
            .into_iter()
            .map(|item| {
                let user_id = Uuid::parse_str(&item.user_id).map_err(StoreError::internal)?;
                Ok((
                    Membership {
                        user_id,
                        role: item.role,
                    },
                    cursor::encode(&[&item.user_id]),
                ))
            })
            .collect::<Result<_, StoreError>>()?;
        // Unfiltered: the page is never cut short by the read budget.
        Ok(Page::new(items, filled.has_next_page))
    }

    /// Up to `limit` membership keys of a customer, from the start: deletion
    /// removes what it reads, so each call returns the next ones.
    pub(crate) async fn keys_page(
        db: &Db,
        customer_id: &str,
        limit: i32,
    ) -> Result<Vec<super::codec::Item>, StoreError> {
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
