//! The audit trail: who changed what, when, and why. Every successful
//! mutation records one [`AuditEvent`] in the same DynamoDB transaction as
//! its change, so the trail can neither miss a change nor record one that
//! did not happen. Events name the fields a mutation set, never their
//! values, so no password or secret reaches the trail.

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Who made a change, as the verified token said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The token's subject (`sub`); empty for a change made without a token
    /// (accepting an invitation).
    pub subject: String,
    /// Whether the caller was a platform admin.
    pub is_admin: bool,
    /// The Switchboard user the caller acted as, if any.
    pub user_id: Option<String>,
}

/// The kinds of entity a change is recorded against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntityType {
    /// A pricing tier.
    PricingTier,
    /// A customer.
    Customer,
    /// A telephony account.
    Account,
    /// A user (also a user's membership of a customer).
    User,
    /// An invitation to join a customer.
    Invitation,
}

impl EntityType {
    /// Every entity type, for parsing and documentation.
    pub const ALL: [Self; 5] = [
        Self::PricingTier,
        Self::Customer,
        Self::Account,
        Self::User,
        Self::Invitation,
    ];

    /// The stored (and GraphQL) name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PricingTier => "PRICING_TIER",
            Self::Customer => "CUSTOMER",
            Self::Account => "ACCOUNT",
            Self::User => "USER",
            Self::Invitation => "INVITATION",
        }
    }

    /// The entity type stored as `raw`.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == raw)
    }
}

/// What the edge knows of a change before the store makes it: who, which
/// operation, which fields, why, and in which request. The store turns it
/// into an [`AuditEvent`] once it knows the entity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Who asked for it.
    pub actor: Actor,
    /// The GraphQL mutation, e.g. `setCustomerStatus`.
    pub operation: String,
    /// Names of the fields the mutation set (`input.name`, `status`, …),
    /// never their values.
    pub changed_fields: Vec<String>,
    /// The reason the caller gave, where the mutation takes one.
    pub reason: Option<String>,
    /// The id of the HTTP request (API Gateway's, or the gateway's own), to
    /// join the event to the request's log lines.
    pub request_id: Option<String>,
    /// The caller's address as the gateway saw it (API Gateway's
    /// `sourceIp`, or the socket's peer locally), never a client header;
    /// what creates an entity records it (`createdByIp`).
    pub source_ip: Option<String>,
}

impl Change {
    /// A change the gateway makes on its own behalf rather than a caller's
    /// (seeding a user from a command or a test fixture): actor `system`.
    pub fn system(operation: &str) -> Self {
        Self {
            actor: Actor {
                subject: "system".into(),
                is_admin: true,
                user_id: None,
            },
            operation: operation.into(),
            changed_fields: Vec::new(),
            reason: None,
            request_id: None,
            source_ip: None,
        }
    }

    /// The event recording this change to entity `entity_id` of
    /// `entity_type`, belonging to customer `customer_id` where it has one
    /// (so it also shows in that customer's trail), made now.
    pub fn event(
        &self,
        entity_type: EntityType,
        entity_id: Uuid,
        customer_id: Option<Uuid>,
    ) -> AuditEvent {
        AuditEvent {
            id: Uuid::now_v7(),
            at: Utc::now(),
            actor: self.actor.clone(),
            operation: self.operation.clone(),
            entity_type,
            entity_id,
            customer_id,
            changed_fields: self.changed_fields.clone(),
            reason: self.reason.clone(),
            request_id: self.request_id.clone(),
        }
    }
}

/// One recorded change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    /// Time-ordered id (UUIDv7), so newest-first is id order.
    pub id: Uuid,
    /// When the change was made.
    pub at: DateTime<Utc>,
    /// Who made it.
    pub actor: Actor,
    /// The GraphQL mutation that made it.
    pub operation: String,
    /// The kind of entity changed.
    pub entity_type: EntityType,
    /// The entity changed.
    pub entity_id: Uuid,
    /// The customer the entity belongs to, when it belongs to one.
    pub customer_id: Option<Uuid>,
    /// Names of the fields set.
    pub changed_fields: Vec<String>,
    /// Why, when the caller said.
    pub reason: Option<String>,
    /// The request that made it.
    pub request_id: Option<String>,
}

/// Default number of days an audit event is kept before DynamoDB's TTL
/// removes it.
pub const DEFAULT_RETENTION_DAYS: u32 = 400;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_types_round_trip_through_their_stored_names() {
        for t in EntityType::ALL {
            assert_eq!(EntityType::parse(t.as_str()), Some(t));
        }
        assert_eq!(EntityType::parse("customer"), None);
    }

    #[test]
    fn an_event_carries_the_change_and_names_its_entity() {
        let change = Change {
            actor: Actor {
                subject: "ops".into(),
                is_admin: true,
                user_id: None,
            },
            operation: "setCustomerStatus".into(),
            changed_fields: vec!["status".into()],
            reason: Some("fraud".into()),
            request_id: Some("r1".into()),
            source_ip: None,
        };
        let id = Uuid::now_v7();
        let a = change.event(EntityType::Customer, id, Some(id));
        let b = change.event(EntityType::Customer, id, Some(id));
        assert_eq!(a.entity_id, id);
        assert_eq!(a.reason.as_deref(), Some("fraud"));
        assert!(a.id < b.id, "event ids are time-ordered and distinct");
    }
}
