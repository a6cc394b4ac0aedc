//! Inviting, revoking and accepting: each one transaction over the
//! invitation, its token item, its pending pointer and, on acceptance, the
//! user and the membership.

use aws_sdk_dynamodb::types::{
    Delete, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::super::codec::{Item, key, n, s, timestamp, to_item};
use super::super::idempotency::IdempotencyKey;
use super::super::memberships::{self, MemberRole, check_domain, open_customer_item, refusal};
use super::super::transaction::{TxError, backoff, transact};
use super::super::users::Users;
use super::super::{StoreError, audit, customers::Customers, keys, unique};
use super::{
    Accepted, InvitationItem, Invitations, NOT_VALID, NewInvitee, WRITE_ATTEMPTS, epoch, not_found,
    too_much_contention, unacceptable,
};
use crate::domain::access::Permission;
use crate::domain::audit::{Change, EntityType};
use crate::domain::invitation::{Invitation, InvitationStatus, hash_token};
use crate::domain::user::NewUser;

impl Invitations {
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

    /// The invitation `token` accepts, if it can be accepted now. Unknown
    /// and revoked tokens get the same `FAILED_PRECONDITION`; so do expired
    /// and used ones, each with its reason. Asked before the invitee's
    /// password is hashed, so a token that cannot work costs no Argon2id.
    pub async fn acceptable(&self, token: &str) -> Result<Invitation, StoreError> {
        let invitation = self
            .by_token(token)
            .await?
            .ok_or_else(|| StoreError::FailedPrecondition(NOT_VALID.into()))?;
        match unacceptable(&invitation, Utc::now()) {
            Some(err) => Err(err),
            None => Ok(invitation),
        }
    }

    /// Accepts `invitation` (as [`Self::acceptable`] found it): links the
    /// existing user with the invited email, or creates one from
    /// `invitee`, adds the membership with the invited permissions and
    /// marks the invitation `ACCEPTED`, all in one transaction whose
    /// conditions check again that it is still pending. Losing a race to
    /// a concurrent accept is a `CONFLICT`.
    #[allow(clippy::too_many_lines)] // one transaction's items with their parts, kept together
    pub async fn accept(
        &self,
        invitation: &Invitation,
        invitee: &NewInvitee,
        change: &Change,
    ) -> Result<Accepted, StoreError> {
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
                    if existing.is_none()
                        && let Some(err) = users
                            .held_by_interrupted_deletion(&invitation.email)
                            .await?
                    {
                        return Err(err);
                    }
                    // The user with this email appeared, changed or went
                    // away meanwhile: read again.
                }
            }
        }
        Err(too_much_contention())
    }
}
