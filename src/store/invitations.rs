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

use aws_sdk_dynamodb::types::{
    Delete, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::codec::{Item, from_item, key, n, parse_timestamp, s, timestamp, to_item};
use super::error::from_sdk;
use super::idempotency::IdempotencyKey;
use super::memberships::{self, MemberRole, check_domain, open_customer_item, refusal};
use super::paging::fill_page;
use super::transaction::{TxError, backoff, transact};
use super::users::Users;
use super::{Db, StoreError, audit, cursor, customers::Customers, keys, unique};
use crate::domain::access::Permission;
use crate::domain::audit::{Change, EntityType};
use crate::domain::invitation::{Invitation, InvitationStatus, hash_token};
use crate::domain::page::{Page, PageRequest};
use crate::domain::user::NewUser;

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

    /// Invites `email` to `customer_id` with `permissions`, valid for
    /// `ttl`. A pending invitation to the same email is revoked in the same
    /// transaction (its token stops working). Returns the invitation and
    /// its accept token, which is not stored and cannot be read again.
    #[allow(clippy::too_many_arguments)] // what an invitation is made of, and its audit change
    pub async fn invite(
        &self,
        customer_id: Uuid,
        email: &str,
        permissions: &[Permission],
        invited_by: Option<Uuid>,
        ttl: std::time::Duration,
        idempotency: Option<&IdempotencyKey>,
        change: &Change,
    ) -> Result<(Invitation, String), StoreError> {
        let cid = customer_id.to_string();
        let email_key = unique::normalize(email);
        let customer = Customers::new(self.db.clone())
            .get(customer_id)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                entity: "Customer",
                id: cid.clone(),
            })?;
        if !customer.status.accepts_new_resources() {
            return Err(StoreError::FailedPrecondition(
                "the customer's status does not allow new users".into(),
            ));
        }
        check_domain(&customer, email, "email")?;
        let users = Users::new(self.db.clone());
        if let Some(user) = users.id_by_email(email).await?
            && memberships::Memberships::new(self.db.clone())
                .get(customer_id, user)
                .await?
                .is_some()
        {
            return Err(StoreError::Conflict {
                field: Some("email"),
                message: "a user with this email already belongs to the customer".into(),
            });
        }
        let ttl = chrono::Duration::from_std(ttl).map_err(StoreError::internal)?;
        for attempt in 0..WRITE_ATTEMPTS {
            if attempt > 0 {
                backoff(attempt).await;
            }
            let previous = self.pointer(&cid, email).await?;
            let now = Utc::now();
            let expires = now + ttl;
            let uuid = Uuid::now_v7();
            let id = uuid.to_string();
            let token = crate::domain::invitation::generate_token();
            let hash = hash_token(&token);
            let item = InvitationItem {
                pk: keys::invitation(&id).0,
                sk: keys::invitation(&id).1,
                entity: "Invitation".into(),
                gsi1pk: keys::customer_invitations(&cid),
                gsi1sk: id.clone(),
                id: id.clone(),
                customer_id: cid.clone(),
                email: email.to_owned(),
                permissions: Permission::normalize(permissions.to_vec()),
                status: InvitationStatus::Pending,
                invited_by: invited_by.map(|u| u.to_string()),
                token_hash: hash,
                created_at: timestamp(now),
                expires_at: timestamp(expires),
                accepted_at: None,
                accepted_user_id: None,
                ttl: Some(epoch(expires)),
                version: 1,
            };
            let mut items = vec![open_customer_item(&self.db, &cid, email, None)?];
            items.extend(self.new_items(&item, &email_key, previous.as_deref())?);
            if let Some(old) = &previous
                && self
                    .get(Uuid::parse_str(old).map_err(StoreError::internal)?)
                    .await?
                    .is_some_and(|i| i.status == InvitationStatus::Pending)
            {
                items.push(self.revoke_item(old)?);
            }
            items.push(audit::record(
                &self.db,
                change,
                EntityType::Invitation,
                uuid,
                Some(customer_id),
            )?);
            if let Some(key) = idempotency {
                items.push(key.claim(&self.db, &id)?);
            }
            let claim = items.len() - 1;
            match transact(&self.db, items).await {
                Ok(()) => return Ok((item.into_domain()?, token)),
                Err(TxError::Store(err)) => return Err(err),
                Err(TxError::Cancelled(c)) => {
                    if idempotency.is_some() && c.condition_failed(claim) {
                        return Err(StoreError::IdempotencyKeyTaken);
                    }
                    if c.condition_failed(0)
                        && let Some(err) = refusal(&cid, c.old_item(0), email, "email")
                    {
                        return Err(err);
                    }
                    // Another invitation to this email won the race: read
                    // the pointer again and replace that one.
                }
            }
        }
        Err(too_much_contention())
    }

    /// The items that create invitation `item`: the invitation, its token
    /// item and the pending pointer, which must still name `previous`.
    fn new_items(
        &self,
        item: &InvitationItem,
        email_key: &str,
        previous: Option<&str>,
    ) -> Result<[TransactWriteItem; 3], StoreError> {
        let put = |attributes: Item| {
            Put::builder()
                .table_name(self.db.table.as_ref())
                .set_item(Some(attributes))
        };
        let ttl = n(item.ttl.unwrap_or_default());
        let put_new = put(to_item(item)?).condition_expression("attribute_not_exists(pk)");
        let mut token_item = key(keys::invitation_token(&item.token_hash));
        token_item.insert("entity".into(), s("InvitationToken"));
        token_item.insert("invitationId".into(), s(item.id.clone()));
        token_item.insert(keys::TTL_ATTRIBUTE.into(), ttl.clone());
        let put_token = put(token_item).condition_expression("attribute_not_exists(pk)");
        let mut pointer = key(keys::pending_invitation(&item.customer_id, email_key));
        pointer.insert("entity".into(), s("PendingInvitation"));
        pointer.insert("invitationId".into(), s(item.id.clone()));
        pointer.insert(keys::TTL_ATTRIBUTE.into(), ttl);
        let put_pointer = match previous {
            Some(old) => put(pointer)
                .condition_expression("invitationId = :old")
                .expression_attribute_values(":old", s(old)),
            None => put(pointer).condition_expression("attribute_not_exists(pk)"),
        };
        let built = |p: aws_sdk_dynamodb::types::builders::PutBuilder| {
            p.build()
                .map(|p| TransactWriteItem::builder().put(p).build())
                .map_err(StoreError::internal)
        };
        Ok([built(put_new)?, built(put_token)?, built(put_pointer)?])
    }

    /// The update that marks pending, unexpired invitation `id` accepted by
    /// `user_id` at `now`, and drops its TTL so it stays as a record.
    fn accept_item(
        &self,
        id: &str,
        user_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<TransactWriteItem, StoreError> {
        let accept = Update::builder()
            .table_name(self.db.table.as_ref())
            .set_key(Some(key(keys::invitation(id))))
            .update_expression(
                "SET #status = :accepted, acceptedAt = :now, acceptedUserId = :user, \
                 version = version + :one REMOVE #ttl",
            )
            .condition_expression("#status = :pending AND expiresAt > :now")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#ttl", keys::TTL_ATTRIBUTE)
            .expression_attribute_values(":accepted", s(InvitationStatus::Accepted.as_str()))
            .expression_attribute_values(":pending", s(InvitationStatus::Pending.as_str()))
            .expression_attribute_values(":now", s(timestamp(now)))
            .expression_attribute_values(":user", s(user_id.to_string()))
            .expression_attribute_values(":one", n(1))
            .build()
            .map_err(StoreError::internal)?;
        Ok(TransactWriteItem::builder().update(accept).build())
    }

    /// The update that revokes pending invitation `id`.
    fn revoke_item(&self, id: &str) -> Result<TransactWriteItem, StoreError> {
        let update = Update::builder()
            .table_name(self.db.table.as_ref())
            .set_key(Some(key(keys::invitation(id))))
            .update_expression("SET #status = :revoked, version = version + :one")
            .condition_expression("#status = :pending")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":revoked", s(InvitationStatus::Revoked.as_str()))
            .expression_attribute_values(":pending", s(InvitationStatus::Pending.as_str()))
            .expression_attribute_values(":one", n(1))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(StoreError::internal)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// Revokes a pending invitation: its token stops working at once.
    /// `FAILED_PRECONDITION` for one already accepted, revoked or expired.
    pub async fn revoke(&self, id: Uuid, change: &Change) -> Result<Invitation, StoreError> {
        let invitation = self.get(id).await?.ok_or_else(|| not_found(id))?;
        if invitation.status_at(Utc::now()) != InvitationStatus::Pending {
            return Err(StoreError::FailedPrecondition(format!(
                "only a pending invitation can be revoked; this one is {}",
                invitation.status_at(Utc::now()).as_str()
            )));
        }
        let cid = invitation.customer_id.to_string();
        let pointer = Delete::builder()
            .table_name(self.db.table.as_ref())
            .set_key(Some(key(keys::pending_invitation(
                &cid,
                &unique::normalize(&invitation.email),
            ))))
            .condition_expression("attribute_not_exists(pk) OR invitationId = :id")
            .expression_attribute_values(":id", s(id.to_string()))
            .build()
            .map_err(StoreError::internal)?;
        let items = vec![
            self.revoke_item(&id.to_string())?,
            TransactWriteItem::builder().delete(pointer).build(),
            audit::record(
                &self.db,
                change,
                EntityType::Invitation,
                id,
                Some(invitation.customer_id),
            )?,
        ];
        match transact(&self.db, items).await {
            Ok(()) => {}
            Err(TxError::Store(err)) => return Err(err),
            Err(TxError::Cancelled(_)) => {
                let now = self.get(id).await?.ok_or_else(|| not_found(id))?;
                return Err(StoreError::FailedPrecondition(format!(
                    "only a pending invitation can be revoked; this one is {}",
                    now.status_at(Utc::now()).as_str()
                )));
            }
        }
        self.get(id).await?.ok_or_else(|| not_found(id))
    }

    /// The invitation a token belongs to, if the token is known.
    async fn by_token(&self, token: &str) -> Result<Option<Invitation>, StoreError> {
        let Some(id) = self
            .get_raw(keys::invitation_token(&hash_token(token)))
            .await?
            .and_then(|mut item| item.remove("invitationId"))
            .and_then(|v| v.as_s().ok().cloned())
        else {
            return Ok(None);
        };
        self.get(Uuid::parse_str(&id).map_err(StoreError::internal)?)
            .await
    }

    /// Accepts the invitation of `token`: links the existing user with the
    /// invited email, or creates one from `invitee`, adds the membership
    /// with the invited permissions and marks the invitation `ACCEPTED`,
    /// all in one transaction. Unknown and revoked tokens get the same
    /// `FAILED_PRECONDITION`; so do expired and used ones, each with its
    /// reason. Losing a race to a concurrent accept is a `CONFLICT`.
    #[allow(clippy::too_many_lines)] // one transaction's items with their parts, kept together
    pub async fn accept(
        &self,
        token: &str,
        invitee: &NewInvitee,
        change: &Change,
    ) -> Result<Accepted, StoreError> {
        let invitation = self
            .by_token(token)
            .await?
            .ok_or_else(|| StoreError::FailedPrecondition(NOT_VALID.into()))?;
        if let Some(err) = unacceptable(&invitation, Utc::now()) {
            return Err(err);
        }
        let users = Users::new(self.db.clone());
        let id_s = invitation.id.to_string();
        let cid = invitation.customer_id.to_string();
        for attempt in 0..WRITE_ATTEMPTS {
            if attempt > 0 {
                backoff(attempt).await;
            }
            let existing = users.get_by_email(&invitation.email).await?;
            let now = Utc::now();
            let user_id = existing.as_ref().map_or_else(Uuid::now_v7, |u| u.id);
            let mut items = vec![
                self.accept_item(&id_s, user_id, now)?,
                open_customer_item(&self.db, &cid, &invitation.email, None)?,
            ];
            match &existing {
                Some(user) => items.push(Users::email_check(&self.db, user.id, &user.email)?),
                None => items.extend(Users::create_items(
                    &self.db,
                    user_id,
                    &NewUser {
                        email: invitation.email.clone(),
                        first_name: invitee.first_name.clone(),
                        last_name: invitee.last_name.clone(),
                        password_hash: invitee.password_hash.clone(),
                    },
                )?),
            }
            let membership_at = items.len();
            items.push(memberships::put_with(
                &self.db,
                &cid,
                &user_id.to_string(),
                MemberRole::Member,
                &invitation.permissions,
            )?);
            let pointer = Delete::builder()
                .table_name(self.db.table.as_ref())
                .set_key(Some(key(keys::pending_invitation(
                    &cid,
                    &unique::normalize(&invitation.email),
                ))))
                .build()
                .map_err(StoreError::internal)?;
            items.push(TransactWriteItem::builder().delete(pointer).build());
            // Whoever holds the token acts as the user it joins.
            let mut change = change.clone();
            change.actor.user_id = Some(user_id.to_string());
            items.push(audit::record(
                &self.db,
                &change,
                EntityType::Invitation,
                invitation.id,
                Some(invitation.customer_id),
            )?);
            match transact(&self.db, items).await {
                Ok(()) => {
                    let invitation = self
                        .get(invitation.id)
                        .await?
                        .ok_or_else(|| not_found(invitation.id))?;
                    return Ok(Accepted {
                        invitation,
                        user_id,
                        created_user: existing.is_none(),
                    });
                }
                Err(TxError::Store(err)) => return Err(err),
                Err(TxError::Cancelled(c)) => {
                    if c.condition_failed(0) {
                        let now = self
                            .get(invitation.id)
                            .await?
                            .ok_or_else(|| StoreError::FailedPrecondition(NOT_VALID.into()))?;
                        return Err(match now.status_at(Utc::now()) {
                            InvitationStatus::Accepted => StoreError::Conflict {
                                field: Some("token"),
                                message: "the invitation was accepted by a concurrent request"
                                    .into(),
                            },
                            _ => unacceptable(&now, Utc::now()).unwrap_or_else(too_much_contention),
                        });
                    }
                    if c.condition_failed(1)
                        && let Some(err) = refusal(&cid, c.old_item(1), &invitation.email, "token")
                    {
                        return Err(err);
                    }
                    if c.condition_failed(membership_at) {
                        return Err(StoreError::Conflict {
                            field: Some("token"),
                            message: "the invited user already belongs to the customer".into(),
                        });
                    }
                    // The user with this email appeared, changed or went
                    // away meanwhile: read again.
                }
            }
        }
        Err(too_much_contention())
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
