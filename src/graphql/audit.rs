//! The audit trail at the edge: [`change`] describes the mutation being
//! resolved (who, which operation, which fields, which request) for the
//! store to record in the same transaction as the change; `auditEvents` and
//! `Customer.auditEvents` read the trail back (admins only: it names other
//! callers).

use async_graphql::{Context, Enum, ID, Object, SimpleObject};

use super::connection::Connection as Paged;
use super::error::ApiError;
use super::guard::principal;
use super::input::parse_id;
use super::scalars::DateTime;
use crate::domain::audit::{Actor, AuditEvent, Change, EntityType};
use crate::domain::page::PageRequest;
use crate::store::Store;

/// The id of the HTTP request being served, put into the GraphQL request
/// data by the HTTP layer so audit events can name it.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Arguments that say which entity a mutation changes, or how, rather than
/// which fields: left out of `changedFields`.
const NOT_FIELDS: &[&str] = &[
    "id",
    "customerId",
    "userId",
    "expectedVersion",
    "idempotencyKey",
    "reason",
    "token",
];

/// The change the mutation being resolved makes, by the authenticated
/// caller.
pub fn change(ctx: &Context<'_>) -> Result<Change, ApiError> {
    let caller = principal(ctx)?;
    Ok(change_by(
        ctx,
        Actor {
            subject: caller.subject.clone(),
            is_admin: caller.is_admin,
            user_id: caller.user_id.clone(),
        },
    ))
}

/// The change the mutation being resolved makes, by `actor` (for the one
/// mutation that needs no token: accepting an invitation).
pub fn change_by(ctx: &Context<'_>, actor: Actor) -> Change {
    Change {
        actor,
        operation: ctx.field().name().to_owned(),
        changed_fields: changed_fields(ctx),
        reason: None,
        request_id: ctx.data_opt::<RequestId>().map(|r| r.0.clone()),
        source_ip: ctx
            .data_opt::<SourceIp>()
            .and_then(|s| s.0)
            .map(|ip| ip.to_string()),
    }
}

/// The caller's address as the gateway saw it: API Gateway's `sourceIp`
/// on Lambda, the socket's peer locally; never a client-supplied header.
/// Put into each request's data by the HTTP layer.
#[derive(Debug, Clone, Copy)]
pub struct SourceIp(pub Option<std::net::IpAddr>);

/// Names of the fields the mutation sets: the keys of its `input` object
/// and its other value arguments (`status`, `permissions`, `password` …),
/// sorted. Only names: a value never reaches the trail.
fn changed_fields(ctx: &Context<'_>) -> Vec<String> {
    let Ok(arguments) = ctx.field().arguments() else {
        return Vec::new();
    };
    let mut fields: Vec<String> = Vec::new();
    for (name, value) in arguments {
        let name = name.as_str();
        if NOT_FIELDS.contains(&name) {
            continue;
        }
        match (name, value) {
            ("input", async_graphql::Value::Object(object)) => {
                fields.extend(object.keys().map(|k| k.as_str().to_owned()));
            }
            (_, async_graphql::Value::Null) => {}
            (other, _) => fields.push(other.to_owned()),
        }
    }
    fields.sort();
    fields.dedup();
    fields
}

/// The kinds of entity changes are recorded against.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(name = "AuditEntityType")]
pub enum AuditEntityTypeValue {
    /// A pricing tier.
    PricingTier,
    /// A customer.
    Customer,
    /// A telephony account.
    Account,
    /// A user, and its memberships of customers.
    User,
    /// An invitation to join a customer.
    Invitation,
}

impl From<AuditEntityTypeValue> for EntityType {
    fn from(value: AuditEntityTypeValue) -> Self {
        match value {
            AuditEntityTypeValue::PricingTier => Self::PricingTier,
            AuditEntityTypeValue::Customer => Self::Customer,
            AuditEntityTypeValue::Account => Self::Account,
            AuditEntityTypeValue::User => Self::User,
            AuditEntityTypeValue::Invitation => Self::Invitation,
        }
    }
}

impl From<EntityType> for AuditEntityTypeValue {
    fn from(value: EntityType) -> Self {
        match value {
            EntityType::PricingTier => Self::PricingTier,
            EntityType::Customer => Self::Customer,
            EntityType::Account => Self::Account,
            EntityType::User => Self::User,
            EntityType::Invitation => Self::Invitation,
        }
    }
}

/// Who made a change.
#[derive(SimpleObject)]
#[graphql(name = "AuditActor")]
pub struct AuditActorNode {
    /// The token's subject (`sub`); empty for accepting an invitation,
    /// which needs no token.
    subject: String,
    /// Whether the caller was a platform admin.
    is_admin: bool,
    /// The id of the Switchboard user the caller acted as, if any.
    user_id: Option<ID>,
}

/// One change, recorded in the same transaction as the change itself.
pub struct AuditEventNode(pub AuditEvent);

/// One change to an entity: who made it, when, with which mutation, which
/// fields it set (names only, never values) and why. Recorded in the same
/// transaction as the change, so the trail has every change and only
/// changes that happened.
#[Object(name = "AuditEvent")]
impl AuditEventNode {
    /// The event's id (UUIDv7: ids sort in time order).
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// When the change was made.
    async fn at(&self) -> DateTime {
        DateTime(self.0.at)
    }
    /// Who made it.
    async fn actor(&self) -> AuditActorNode {
        AuditActorNode {
            subject: self.0.actor.subject.clone(),
            is_admin: self.0.actor.is_admin,
            user_id: self.0.actor.user_id.clone().map(ID),
        }
    }
    /// The mutation that made it, e.g. `setCustomerStatus`.
    async fn operation(&self) -> &str {
        &self.0.operation
    }
    /// The kind of entity changed.
    async fn entity_type(&self) -> AuditEntityTypeValue {
        self.0.entity_type.into()
    }
    /// The id of the entity changed.
    async fn entity_id(&self) -> ID {
        ID(self.0.entity_id.to_string())
    }
    /// The customer the entity belongs to, when it belongs to one.
    async fn customer_id(&self) -> Option<ID> {
        self.0.customer_id.map(|id| ID(id.to_string()))
    }
    /// Names of the fields the mutation set (never their values).
    async fn changed_fields(&self) -> &[String] {
        &self.0.changed_fields
    }
    /// Why, when the caller said (`setCustomerStatus`'s `reason`).
    async fn reason(&self) -> Option<&str> {
        self.0.reason.as_deref()
    }
    /// The id of the HTTP request that made it, to find its log lines.
    async fn request_id(&self) -> Option<&str> {
        self.0.request_id.as_deref()
    }
}

/// The connection of audit events a customer's `auditEvents` returns.
pub type AuditEventConnection = Paged<AuditEventNode>;

/// Customer `customer_id`'s trail, with its accounts', memberships' and
/// invitations' events (the field that calls it is admin-only).
pub async fn customer_events(
    ctx: &Context<'_>,
    customer_id: uuid::Uuid,
    first: i32,
    after: Option<String>,
) -> Result<AuditEventConnection, ApiError> {
    let page = PageRequest::new(first, after)?;
    let page = ctx
        .data_unchecked::<Store>()
        .audit()
        .for_customer(customer_id, &page)
        .await?;
    Ok(Paged::from_page(page, AuditEventNode))
}

/// Audit trail queries.
#[derive(Default)]
pub struct AuditQuery;

#[Object]
impl AuditQuery {
    /// The changes made to one entity, newest first: who, when, which
    /// operation and fields, and why. Events outlive their entity (a
    /// deleted customer's trail is still here) until the retention
    /// (`AUDIT_RETENTION_DAYS`, default 400) expires them. Admins only.
    #[graphql(
        guard = "crate::graphql::guard::PlatformGuard(crate::domain::access::Action::ReadPlatform)",
        complexity = "crate::graphql::connection::complexity(first, child_complexity)"
    )]
    async fn audit_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The kind of entity.")] entity_type: AuditEntityTypeValue,
        #[graphql(desc = "The id (UUID) of the entity.")] entity_id: ID,
        #[graphql(default = 20, desc = "How many items to return, 0 to 100.")] first: i32,
        #[graphql(
            desc = "The `endCursor` of the previous page, to continue after it; omit for the first page."
        )]
        after: Option<String>,
    ) -> Result<AuditEventConnection, ApiError> {
        let entity_id = parse_id(&entity_id, "entityId")?;
        let page = PageRequest::new(first, after)?;
        let page = ctx
            .data_unchecked::<Store>()
            .audit()
            .for_entity(entity_type.into(), entity_id, &page)
            .await?;
        Ok(Paged::from_page(page, AuditEventNode))
    }
}
