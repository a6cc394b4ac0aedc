//! The audit trail in DynamoDB. Each write that changes an entity puts its
//! [`AuditEvent`] as one more item of the same `TransactWriteItems`
//! (see [`event_put`]), so an event exists exactly when its change does.
//!
//! Item: `pk = AUDIT#<ENTITY_TYPE>#<entityId>`, `sk = <eventId>` (UUIDv7,
//! time-ordered: a reverse query is newest first). Events of an entity that
//! belongs to a customer also carry `gsi1pk = CUSTOMER#<customerId>#AUDIT`,
//! `gsi1sk = <eventId>`, so a customer's trail includes its accounts,
//! memberships and invitations. A `ttl` (epoch seconds) lets DynamoDB drop
//! events after the configured retention. Events outlive their entity: the
//! deletion cascades never touch `AUDIT#` partitions.

use aws_sdk_dynamodb::types::{Put, TransactWriteItem, Update};
use chrono::Duration as ChronoDuration;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::codec::{Item, key, parse_timestamp, s, timestamp, to_item};
use super::paging::fill_page;
use super::transaction::{TxError, transact};
use super::{Db, StoreError, cursor, keys};
use crate::domain::audit::{Actor, AuditEvent, Change, EntityType};
use crate::domain::page::{Page, PageRequest};

/// Storage form of an event.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AuditItem {
    pk: String,
    sk: String,
    entity: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    gsi1pk: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    gsi1sk: Option<String>,
    id: String,
    at: String,
    actor_subject: String,
    actor_is_admin: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    actor_user_id: Option<String>,
    operation: String,
    entity_type: String,
    entity_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    customer_id: Option<String>,
    changed_fields: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Option<String>,
    ttl: i64,
}

/// Partition of entity `id` of `entity_type`'s events.
fn partition(entity_type: EntityType, id: &str) -> String {
    format!("AUDIT#{}#{id}", entity_type.as_str())
}

/// GSI1 partition of the events of customer `id` and what belongs to it.
fn customer_partition(id: &str) -> String {
    format!("{}#AUDIT", keys::customer_partition(id))
}

impl AuditItem {
    fn new(event: &AuditEvent, retention_days: u32) -> Self {
        let entity_id = event.entity_id.to_string();
        let id = event.id.to_string();
        let customer_id = event.customer_id.map(|c| c.to_string());
        let expires = event.at + ChronoDuration::days(i64::from(retention_days));
        Self {
            pk: partition(event.entity_type, &entity_id),
            sk: id.clone(),
            entity: "AuditEvent".into(),
            gsi1pk: customer_id.as_deref().map(customer_partition),
            gsi1sk: customer_id.as_ref().map(|_| id.clone()),
            id,
            at: timestamp(event.at),
            actor_subject: event.actor.subject.clone(),
            actor_is_admin: event.actor.is_admin,
            actor_user_id: event.actor.user_id.clone(),
            operation: event.operation.clone(),
            entity_type: event.entity_type.as_str().into(),
            entity_id,
            customer_id,
            changed_fields: event.changed_fields.clone(),
            reason: event.reason.clone(),
            request_id: event.request_id.clone(),
            ttl: expires.timestamp(),
        }
    }

    fn into_domain(self) -> Result<AuditEvent, StoreError> {
        let uuid = |raw: &str| Uuid::parse_str(raw).map_err(StoreError::internal);
        Ok(AuditEvent {
            id: uuid(&self.id)?,
            at: parse_timestamp(&self.at)?,
            actor: Actor {
                subject: self.actor_subject,
                is_admin: self.actor_is_admin,
                user_id: self.actor_user_id,
            },
            operation: self.operation,
            entity_type: EntityType::parse(&self.entity_type)
                .ok_or_else(|| StoreError::internal("an audit event of an unknown entity type"))?,
            entity_id: uuid(&self.entity_id)?,
            customer_id: self.customer_id.as_deref().map(uuid).transpose()?,
            changed_fields: self.changed_fields,
            reason: self.reason,
            request_id: self.request_id,
        })
    }
}

/// Transaction item that records `event`. Unconditional: its key is new.
pub(crate) fn event_put(db: &Db, event: &AuditEvent) -> Result<TransactWriteItem, StoreError> {
    let put = Put::builder()
        .table_name(db.table.as_ref())
        .set_item(Some(to_item(&AuditItem::new(
            event,
            db.audit_retention_days,
        ))?))
        .build()
        .map_err(StoreError::internal)?;
    Ok(TransactWriteItem::builder().put(put).build())
}

/// Transaction item that records `change` of `entity_id` of `entity_type`.
pub(crate) fn record(
    db: &Db,
    change: &Change,
    entity_type: EntityType,
    entity_id: Uuid,
    customer_id: Option<Uuid>,
) -> Result<TransactWriteItem, StoreError> {
    event_put(db, &change.event(entity_type, entity_id, customer_id))
}

/// Runs one conditional `update` together with its audit item. `Ok(false)`
/// when the update's condition failed (nothing written, no event).
pub(crate) async fn update_recorded(
    db: &Db,
    update: Update,
    audit: TransactWriteItem,
) -> Result<bool, StoreError> {
    let items = vec![TransactWriteItem::builder().update(update).build(), audit];
    match transact(db, items).await {
        Ok(()) => Ok(true),
        Err(TxError::Store(err)) => Err(err),
        Err(TxError::Cancelled(c)) if c.condition_failed(0) => Ok(false),
        Err(TxError::Cancelled(_)) => Err(StoreError::internal(
            "an audited update failed on its audit item",
        )),
    }
}

/// Reads the audit trail.
#[derive(Clone, Debug)]
pub struct AuditTrail {
    db: Db,
}

impl AuditTrail {
    pub(crate) fn new(db: Db) -> Self {
        Self { db }
    }

    /// One page of the events of one entity, newest first.
    pub async fn for_entity(
        &self,
        entity_type: EntityType,
        entity_id: Uuid,
        page: &PageRequest,
    ) -> Result<Page<AuditEvent>, StoreError> {
        let pk = partition(entity_type, &entity_id.to_string());
        let start = match &page.after {
            Some(after) => {
                let (event, _, _) = decode_cursor(after)?;
                Some(key((pk.clone(), event)))
            }
            None => None,
        };
        let query = self
            .db
            .client
            .query()
            .table_name(self.db.table.as_ref())
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(pk))
            .scan_index_forward(false);
        self.page(query, start, page).await
    }

    /// One page of the events of customer `customer_id` and of what belongs
    /// to it (accounts, memberships, invitations), newest first. Read from
    /// an index, so an event may show a moment after its change.
    pub async fn for_customer(
        &self,
        customer_id: Uuid,
        page: &PageRequest,
    ) -> Result<Page<AuditEvent>, StoreError> {
        let gsi1pk = customer_partition(&customer_id.to_string());
        let start = match &page.after {
            Some(after) => {
                let (event, entity_type, entity_id) = decode_cursor(after)?;
                let mut start: Item = key((
                    partition(entity_type, &entity_id.to_string()),
                    event.clone(),
                ));
                start.insert("gsi1pk".into(), s(gsi1pk.clone()));
                start.insert("gsi1sk".into(), s(event));
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
            .expression_attribute_values(":pk", s(gsi1pk))
            .scan_index_forward(false);
        self.page(query, start, page).await
    }

    async fn page(
        &self,
        query: aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
        start: Option<Item>,
        page: &PageRequest,
    ) -> Result<Page<AuditEvent>, StoreError> {
        let filled =
            fill_page::<AuditItem>(query, start, page.first, 1, self.db.read_limit).await?;
        let has_next_page = filled.has_next_page;
        let items = filled
            .items
            .into_iter()
            .map(|item| {
                let cursor = cursor::encode(&[&item.id, &item.entity_type, &item.entity_id]);
                item.into_domain().map(|event| (event, cursor))
            })
            .collect::<Result<_, _>>()?;
        Ok(Page {
            items,
            has_next_page,
            resume_cursor: None,
        })
    }
}

/// The event id, entity type and entity id a cursor of either list holds.
fn decode_cursor(cursor: &str) -> Result<(String, EntityType, Uuid), StoreError> {
    let parts = cursor::decode(cursor, 3)?;
    Uuid::parse_str(&parts[0]).map_err(|_| StoreError::InvalidCursor)?;
    let entity_type = EntityType::parse(&parts[1]).ok_or(StoreError::InvalidCursor)?;
    let entity_id = Uuid::parse_str(&parts[2]).map_err(|_| StoreError::InvalidCursor)?;
    Ok((parts[0].clone(), entity_type, entity_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_of_a_customer_s_entities_join_its_trail_and_expire_after_the_retention() {
        let customer = Uuid::now_v7();
        let account = Uuid::now_v7();
        let change = Change {
            actor: Actor {
                subject: "a".into(),
                is_admin: true,
                user_id: None,
            },
            operation: "createAccount".into(),
            changed_fields: vec!["input.name".into()],
            reason: None,
            request_id: None,
            source_ip: None,
        };
        let event = change.event(EntityType::Account, account, Some(customer));
        let item = AuditItem::new(&event, 400);
        assert_eq!(item.pk, format!("AUDIT#ACCOUNT#{account}"));
        assert_eq!(
            item.gsi1pk.as_deref(),
            Some(format!("CUSTOMER#{customer}#AUDIT").as_str())
        );
        assert_eq!(item.ttl - event.at.timestamp(), 400 * 86_400);
        let read = item.into_domain().unwrap();
        assert_eq!((read.id, read.entity_id), (event.id, event.entity_id));
        assert_eq!(read.customer_id, Some(customer));
        assert_eq!(read.changed_fields, event.changed_fields);
    }
}
