//! Invitations in DynamoDB.
//!
//! Three items per invitation: the invitation itself (listed per customer on
//! GSI1), a token item keyed by the SHA-256 of the accept token (the only
//! way from a token to its invitation; the token itself is never stored),
//! and, while it is pending, the customer-and-email pointer that makes it
//! the one pending invitation for that email. All three carry the DynamoDB
//! TTL attribute, so expired invitations disappear on their own; an
//! accepted invitation drops its TTL and stays as a record.
//!
//! Invariants and how they hold under concurrency:
//! - **One pending invitation per customer and email**: the pointer is
//!   written conditioned on the invitation it named when read, in the same
//!   transaction that revokes that one and creates the new one.
//! - **A token is accepted once**: accepting updates the invitation from
//!   `PENDING` (and not yet expired) to `ACCEPTED` in the same transaction
//!   that creates the membership (and the user, for a new email), so of two
//!   concurrent accepts one commits and the other finds the condition false.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::codec::{Item, from_item, key, parse_timestamp, s, timestamp};
use super::error::from_sdk;
use super::paging::fill_page;
use super::{Db, StoreError, cursor, keys, unique};
use crate::domain::access::Permission;
use crate::domain::invitation::{DeliveryStatus, Invitation, InvitationStatus};
use crate::domain::page::{Page, PageRequest};

mod write;

pub use write::SIGN_IN_REQUIRED;

/// Attempts at a write that may collide before giving up with `CONFLICT`.
const WRITE_ATTEMPTS: u32 = 10;

/// The one answer for a token that is unknown or revoked, so a client
/// cannot tell whether a token ever existed.
pub const NOT_VALID: &str = "this invitation is not valid: it is unknown or was revoked";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct InvitationItem {
    pk: String,
    sk: String,
    entity: String,
    gsi1pk: String,
    gsi1sk: String,
    id: String,
    customer_id: String,
    email: String,
    permissions: Vec<Permission>,
    status: InvitationStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    invited_by: Option<String>,
    token_hash: String,
    created_at: String,
    expires_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    accepted_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    accepted_user_id: Option<String>,
    /// Absent on invitations from before email delivery, whose token went
    /// to the inviter: they read as `SENT`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    delivery_status: Option<DeliveryStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sent_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ttl: Option<i64>,
    version: u64,
}

impl InvitationItem {
    fn into_domain(self) -> Result<Invitation, StoreError> {
        let id = |raw: &str| Uuid::parse_str(raw).map_err(StoreError::internal);
        Ok(Invitation {
            id: id(&self.id)?,
            customer_id: id(&self.customer_id)?,
            email: self.email,
            permissions: self.permissions,
            status: self.status,
            invited_by: self.invited_by.as_deref().map(id).transpose()?,
            created_at: parse_timestamp(&self.created_at)?,
            expires_at: parse_timestamp(&self.expires_at)?,
            accepted_at: self
                .accepted_at
                .as_deref()
                .map(parse_timestamp)
                .transpose()?,
            delivery_status: self.delivery_status.unwrap_or(DeliveryStatus::Sent),
            sent_at: self.sent_at.as_deref().map(parse_timestamp).transpose()?,
            version: self.version,
        })
    }
}

/// What accepting an invitation produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// The invitation, now `ACCEPTED`.
    pub invitation: Invitation,
    /// The member: an existing user with the invited email, or a new one.
    pub user_id: Uuid,
    /// Whether the user was created by this acceptance.
    pub created_user: bool,
}

/// Who accepts an invitation.
#[derive(Debug, Clone)]
pub enum Invitee {
    /// Someone without an account, proven only by the token (which reached
    /// the invited mailbox): a new user is created. Refused with
    /// [`StoreError::SignInRequired`] when a user has the invited email.
    New(NewInvitee),
    /// A signed-in user whose email is the invited one.
    Existing(Uuid),
}

/// What a new user gets when an invitation is accepted by someone without
/// an account (the email comes from the invitation).
#[derive(Debug, Clone)]
pub struct NewInvitee {
    /// Validated first name.
    pub first_name: String,
    /// Validated last name.
    pub last_name: String,
    /// Argon2id hash of the chosen password.
    pub password_hash: String,
}

fn epoch(at: DateTime<Utc>) -> i64 {
    at.timestamp() + 1
}

fn not_found(id: Uuid) -> StoreError {
    StoreError::NotFound {
        entity: "Invitation",
        id: id.to_string(),
    }
}

fn too_much_contention() -> StoreError {
    StoreError::Conflict {
        field: None,
        message: "the invitation was being changed concurrently; try again".into(),
    }
}

/// The answer when whoever sent an invitation can no longer grant it.
pub const INVITER_LOST_RIGHTS: &str = "this invitation can no longer be accepted: the member who sent it no longer holds the rights it grants; ask for a new invitation";

/// Why a stored invitation cannot be accepted at `now`, if it cannot.
fn unacceptable(invitation: &Invitation, now: DateTime<Utc>) -> Option<StoreError> {
    match invitation.status_at(now) {
        InvitationStatus::Pending => None,
        InvitationStatus::Revoked => Some(StoreError::FailedPrecondition(NOT_VALID.into())),
        InvitationStatus::Expired => Some(StoreError::FailedPrecondition(
            "this invitation has expired; ask for a new one".into(),
        )),
        InvitationStatus::Accepted => Some(StoreError::FailedPrecondition(
            "this invitation was already accepted".into(),
        )),
    }
}

/// Reads and writes invitations.
#[derive(Clone, Debug)]
pub struct Invitations {
    db: Db,
}

impl Invitations {
    pub(crate) fn new(db: Db) -> Self {
        Self { db }
    }

    async fn get_raw(&self, key_pair: (String, String)) -> Result<Option<Item>, StoreError> {
        let output = self
            .db
            .client
            .get_item()
            .table_name(self.db.table.as_ref())
            .set_key(Some(key(key_pair)))
            .consistent_read(true)
            .send()
            .await
            .map_err(from_sdk)?;
        Ok(output.item)
    }

    /// The invitation with `id`, or `None`.
    pub async fn get(&self, id: Uuid) -> Result<Option<Invitation>, StoreError> {
        self.get_raw(keys::invitation(&id.to_string()))
            .await?
            .map(|item| from_item::<InvitationItem>(item)?.into_domain())
            .transpose()
    }

    async fn pointer(&self, customer_id: &str, email: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .get_raw(keys::pending_invitation(
                customer_id,
                &unique::normalize(email),
            ))
            .await?
            .and_then(|mut item| item.remove("invitationId"))
            .and_then(|v| v.as_s().ok().cloned()))
    }

    /// Deletes every invitation of a customer with its token item and
    /// pending pointer: part of the customer's deletion cascade. Deleting
    /// what is already gone is no error, so a retry simply continues.
    pub(crate) async fn delete_for_customer(db: &Db, customer_id: &str) -> Result<(), StoreError> {
        let mut start = None;
        loop {
            let output = db
                .client
                .query()
                .table_name(db.table.as_ref())
                .index_name(keys::GSI1)
                .key_condition_expression("gsi1pk = :pk")
                .expression_attribute_values(":pk", s(keys::customer_invitations(customer_id)))
                .projection_expression("pk, sk, tokenHash, email")
                .limit(100)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(from_sdk)?;
            let mut doomed = Vec::new();
            for mut item in output.items.unwrap_or_default() {
                let text = |item: &mut Item, name: &str| {
                    item.remove(name).and_then(|v| v.as_s().ok().cloned())
                };
                if let Some(hash) = text(&mut item, "tokenHash") {
                    doomed.push(key(keys::invitation_token(&hash)));
                }
                if let Some(email) = text(&mut item, "email") {
                    doomed.push(key(keys::pending_invitation(
                        customer_id,
                        &unique::normalize(&email),
                    )));
                }
                doomed.push(item);
            }
            super::batch::delete_all(db, doomed).await?;
            match output.last_evaluated_key {
                Some(last) => start = Some(last),
                None => return Ok(()),
            }
        }
    }

    /// One page of a customer's invitations, newest first, optionally only
    /// those with `status` (as of now: `EXPIRED` are the pending ones past
    /// their expiry).
    pub async fn list(
        &self,
        customer_id: Uuid,
        status: Option<InvitationStatus>,
        page: &PageRequest,
    ) -> Result<Page<Invitation>, StoreError> {
        let partition = keys::customer_invitations(&customer_id.to_string());
        let start = match &page.after {
            Some(after) => {
                let parts = cursor::decode(after, 1)?;
                Uuid::parse_str(&parts[0]).map_err(|_| StoreError::InvalidCursor)?;
                let mut start = key(keys::invitation(&parts[0]));
                start.insert("gsi1pk".into(), s(partition.clone()));
                start.insert("gsi1sk".into(), s(parts[0].clone()));
                Some(start)
            }
            None => None,
        };
        let now = s(timestamp(Utc::now()));
        let mut query = self
            .db
            .client
            .query()
            .table_name(self.db.table.as_ref())
            .index_name(keys::GSI1)
            .key_condition_expression("gsi1pk = :pk")
            .expression_attribute_values(":pk", s(partition))
            .scan_index_forward(false);
        if let Some(status) = status {
            let (filter, stored) = match status {
                InvitationStatus::Pending => ("#status = :s AND expiresAt > :now", "PENDING"),
                InvitationStatus::Expired => ("#status = :s AND expiresAt <= :now", "PENDING"),
                other => ("#status = :s", other.as_str()),
            };
            query = query
                .filter_expression(filter)
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":s", s(stored));
            if filter.contains(":now") {
                query = query.expression_attribute_values(":now", now);
            }
        }
        let filled =
            fill_page::<InvitationItem>(query, start, page.first, 25, self.db.read_limit).await?;
        let has_next_page = filled.has_next_page;
        let resume_cursor = filled.resume_cursor("gsi1sk");
        let items = filled
            .items
            .into_iter()
            .map(|item| {
                let cursor = cursor::encode(&[&item.id]);
                item.into_domain().map(|i| (i, cursor))
            })
            .collect::<Result<_, _>>()?;
        Ok(Page {
            items,
            has_next_page,
            resume_cursor,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ttl_attribute_is_just_past_the_expiry() {
        let at = DateTime::parse_from_rfc3339("2026-01-01T00:00:00.500Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(epoch(at), at.timestamp() + 1);
    }
}
