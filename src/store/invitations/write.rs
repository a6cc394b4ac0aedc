//! Inviting, revoking and accepting: each one transaction over the
//! invitation, its token item, its pending pointer and, on acceptance, the
//! user and the membership.

use std::fmt::Write as _;

use aws_sdk_dynamodb::types::{
    ConditionCheck, Delete, Put, ReturnValue, ReturnValuesOnConditionCheckFailure,
    TransactWriteItem, Update,
};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::super::codec::{Item, from_item, key, n, s, timestamp, to_item};
use super::super::error::from_sdk;
use super::super::idempotency::IdempotencyKey;
use super::super::memberships::{self, MemberRole, check_domain, open_customer_item, refusal};
use super::super::transaction::{TxError, backoff, transact};
use super::super::users::Users;
use super::super::{StoreError, audit, customers::Customers, keys, unique};
use super::{
    Accepted, INVITER_LOST_RIGHTS, InvitationItem, Invitations, Invitee, NOT_VALID, WRITE_ATTEMPTS,
    epoch, not_found, too_much_contention, unacceptable,
};
use crate::domain::access::Permission;
use crate::domain::audit::{Change, EntityType};
use crate::domain::invitation::{DeliveryStatus, Invitation, InvitationStatus, hash_token};
use crate::domain::user::{NewUser, UserStatus};

/// The answer when the invited email belongs to an account and no one is
/// signed in as it.
pub const SIGN_IN_REQUIRED: &str = "a user with the invited email already exists: sign in as that user and accept the invitation while signed in";

impl Invitations {
    /// Invites `email` to `customer_id` with `permissions`, valid for
    /// `ttl`. A pending invitation to the same email is revoked in the same
    /// transaction (its token stops working). Returns the invitation, its
    /// delivery `SENDING`, and its accept token, which is not stored and
    /// cannot be read again: the caller emails it, then records the
    /// outcome with [`Self::record_delivery`].
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
                delivery_status: Some(DeliveryStatus::Sending),
                sent_at: None,
                ttl: Some(epoch(expires)),
                version: 1,
            };
            let mut items = vec![open_customer_item(&self.db, &cid, email, None, false)?];
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

    /// Accepts `invitation` (as [`Self::acceptable`] found it) for
    /// `invitee`: a signed-in user whose email is the invited one, or a new
    /// user created from the given names and password (never an existing
    /// user without its sign-in: [`StoreError::SignInRequired`]). Adds the
    /// membership with the invited permissions and marks the invitation
    /// `ACCEPTED`, all in one transaction whose conditions check again that
    /// it is still pending, that the customer still takes the member, and
    /// that whoever invited still holds every right the invitation grants.
    /// Losing a race to a concurrent accept is a `CONFLICT`.
    #[allow(clippy::too_many_lines)] // one transaction's items with their parts, kept together
    pub async fn accept(
        &self,
        invitation: &Invitation,
        invitee: &Invitee,
        change: &Change,
    ) -> Result<Accepted, StoreError> {
        let users = Users::new(self.db.clone());
        let id_s = invitation.id.to_string();
        let cid = invitation.customer_id.to_string();
        for attempt in 0..WRITE_ATTEMPTS {
            if attempt > 0 {
                backoff(attempt).await;
            }
            let now = Utc::now();
            let (user_id, mut items) = match invitee {
                Invitee::Existing(user_id) => {
                    let user = users.get(*user_id).await?.ok_or_else(|| {
                        StoreError::FailedPrecondition("the signed-in user no longer exists".into())
                    })?;
                    if unique::normalize(&user.email) != unique::normalize(&invitation.email) {
                        return Err(wrong_user());
                    }
                    (
                        user.id,
                        vec![
                            self.accept_item(&id_s, user.id, now)?,
                            open_customer_item(&self.db, &cid, &invitation.email, None, true)?,
                            Users::email_check(&self.db, user.id, &user.email)?,
                        ],
                    )
                }
                Invitee::New(new) => {
                    if users.id_by_email(&invitation.email).await?.is_some() {
                        return Err(StoreError::SignInRequired(SIGN_IN_REQUIRED.into()));
                    }
                    let user_id = Uuid::now_v7();
                    let mut items = vec![
                        self.accept_item(&id_s, user_id, now)?,
                        open_customer_item(&self.db, &cid, &invitation.email, None, true)?,
                    ];
                    items.extend(Users::create_items(
                        &self.db,
                        user_id,
                        &NewUser {
                            email: invitation.email.clone(),
                            first_name: new.first_name.clone(),
                            last_name: new.last_name.clone(),
                            password_hash: new.password_hash.clone(),
                        },
                    )?);
                    (user_id, items)
                }
            };
            let membership_at = items.len();
            items.push(memberships::put_with(
                &self.db,
                &cid,
                &user_id.to_string(),
                MemberRole::Member,
                &invitation.permissions,
            )?);
            let inviter_at = items.len();
            if let Some(inviter) = invitation.invited_by {
                items.extend(inviter_checks(&self.db, invitation, inviter)?);
            }
            let pointer = Delete::builder()
                .table_name(self.db.table.as_ref())
                .set_key(Some(key(keys::pending_invitation(
                    &cid,
                    &unique::normalize(&invitation.email),
                ))))
                .build()
                .map_err(StoreError::internal)?;
            items.push(TransactWriteItem::builder().delete(pointer).build());
            // The actor is the user who accepts: signed in, or proven by
            // the token that reached the invited mailbox.
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
                        created_user: matches!(invitee, Invitee::New(_)),
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
                    if invitation.invited_by.is_some()
                        && (c.condition_failed(inviter_at) || c.condition_failed(inviter_at + 1))
                    {
                        return Err(StoreError::FailedPrecondition(INVITER_LOST_RIGHTS.into()));
                    }
                    if matches!(invitee, Invitee::New(_))
                        && let Some(err) = users
                            .held_by_interrupted_deletion(&invitation.email)
                            .await?
                    {
                        return Err(err);
                    }
                    // The user with this email appeared, changed or went
                    // away meanwhile: read again (a new one now means
                    // signing in).
                }
            }
        }
        Err(too_much_contention())
    }

    /// Whether whoever sent `invitation` may still grant it: an active
    /// user whose membership holds `USERS_MANAGE` and every permission
    /// granted. Read consistently; the accept transaction checks the same
    /// again, so this only spares a doomed accept its password hash.
    pub async fn inviter_still_grants(&self, invitation: &Invitation) -> Result<bool, StoreError> {
        let Some(inviter) = invitation.invited_by else {
            return Ok(true);
        };
        let users = Users::new(self.db.clone());
        let members = memberships::Memberships::new(self.db.clone());
        let (user, membership) = tokio::try_join!(
            users.get(inviter),
            members.get(invitation.customer_id, inviter),
        )?;
        let active = user.is_some_and(|u| u.status == UserStatus::Active);
        let holds = membership.is_some_and(|m| {
            let access = m.access();
            access.holds(Permission::UsersManage)
                && invitation.permissions.iter().all(|p| access.holds(*p))
        });
        Ok(active && holds)
    }

    /// Records how sending the email for the token hashed as `token_hash`
    /// went. Only while that token is still the invitation's and it is
    /// still pending: the outcome of an email a resend has since replaced
    /// must not overwrite the newer one's. Returns the invitation as it
    /// now stands.
    pub async fn record_delivery(
        &self,
        id: Uuid,
        token_hash: &str,
        outcome: DeliveryStatus,
    ) -> Result<Invitation, StoreError> {
        let mut update = self
            .db
            .client
            .update_item()
            .table_name(self.db.table.as_ref())
            .set_key(Some(key(keys::invitation(&id.to_string()))))
            .condition_expression("tokenHash = :hash AND #status = :pending")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":hash", s(token_hash))
            .expression_attribute_values(":pending", s(InvitationStatus::Pending.as_str()))
            .expression_attribute_values(":delivery", s(outcome.as_str()))
            .return_values(ReturnValue::AllNew);
        update = if outcome == DeliveryStatus::Sent {
            update
                .update_expression("SET deliveryStatus = :delivery, sentAt = :now")
                .expression_attribute_values(":now", s(timestamp(Utc::now())))
        } else {
            update.update_expression("SET deliveryStatus = :delivery")
        };
        match update.send().await {
            Ok(output) => from_item::<InvitationItem>(output.attributes.unwrap_or_default())?
                .into_domain(),
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(aws_sdk_dynamodb::operation::update_item::UpdateItemError::is_conditional_check_failed_exception) =>
            {
                self.get(id).await?.ok_or_else(|| not_found(id))
            }
            Err(err) => Err(from_sdk(err)),
        }
    }

    /// Gives pending invitation `id` a fresh token and a fresh lifetime of
    /// `ttl`, its delivery `SENDING` again: the old token stops working in
    /// the same transaction. Returns the invitation and the new token, to
    /// be emailed. `FAILED_PRECONDITION` when it is no longer pending
    /// (an expired one may be sent again while its item lasts).
    #[allow(clippy::too_many_lines)] // one transaction's items with their parts, kept together
    pub async fn reissue(
        &self,
        id: Uuid,
        ttl: std::time::Duration,
        change: &Change,
    ) -> Result<(Invitation, String), StoreError> {
        let ttl = chrono::Duration::from_std(ttl).map_err(StoreError::internal)?;
        let id_s = id.to_string();
        for attempt in 0..WRITE_ATTEMPTS {
            if attempt > 0 {
                backoff(attempt).await;
            }
            let raw = self
                .get_raw(keys::invitation(&id_s))
                .await?
                .ok_or_else(|| not_found(id))?;
            let item = from_item::<InvitationItem>(raw)?;
            if item.status != InvitationStatus::Pending {
                return Err(StoreError::FailedPrecondition(format!(
                    "only a pending invitation can be sent again; this one is {}",
                    item.status.as_str()
                )));
            }
            let now = Utc::now();
            let expires = now + ttl;
            let token = crate::domain::invitation::generate_token();
            let hash = hash_token(&token);
            let expiry = n(epoch(expires));
            let update = Update::builder()
                .table_name(self.db.table.as_ref())
                .set_key(Some(key(keys::invitation(&id_s))))
                .update_expression(
                    "SET tokenHash = :new, expiresAt = :expires, #ttl = :ttl, \
                     deliveryStatus = :sending, version = version + :one REMOVE sentAt",
                )
                .condition_expression("#status = :pending AND tokenHash = :old")
                .expression_attribute_names("#status", "status")
                .expression_attribute_names("#ttl", keys::TTL_ATTRIBUTE)
                .expression_attribute_values(":new", s(hash.clone()))
                .expression_attribute_values(":old", s(item.token_hash.clone()))
                .expression_attribute_values(":expires", s(timestamp(expires)))
                .expression_attribute_values(":ttl", expiry.clone())
                .expression_attribute_values(":sending", s(DeliveryStatus::Sending.as_str()))
                .expression_attribute_values(":pending", s(InvitationStatus::Pending.as_str()))
                .expression_attribute_values(":one", n(1))
                .build()
                .map_err(StoreError::internal)?;
            let drop_old = Delete::builder()
                .table_name(self.db.table.as_ref())
                .set_key(Some(key(keys::invitation_token(&item.token_hash))))
                .build()
                .map_err(StoreError::internal)?;
            let mut token_item = key(keys::invitation_token(&hash));
            token_item.insert("entity".into(), s("InvitationToken"));
            token_item.insert("invitationId".into(), s(id_s.clone()));
            token_item.insert(keys::TTL_ATTRIBUTE.into(), expiry.clone());
            let put_token = Put::builder()
                .table_name(self.db.table.as_ref())
                .set_item(Some(token_item))
                .condition_expression("attribute_not_exists(pk)")
                .build()
                .map_err(StoreError::internal)?;
            let mut pointer = key(keys::pending_invitation(
                &item.customer_id,
                &unique::normalize(&item.email),
            ));
            pointer.insert("entity".into(), s("PendingInvitation"));
            pointer.insert("invitationId".into(), s(id_s.clone()));
            pointer.insert(keys::TTL_ATTRIBUTE.into(), expiry);
            let put_pointer = Put::builder()
                .table_name(self.db.table.as_ref())
                .set_item(Some(pointer))
                .condition_expression("attribute_not_exists(pk) OR invitationId = :id")
                .expression_attribute_values(":id", s(id_s.clone()))
                .build()
                .map_err(StoreError::internal)?;
            let customer_id = Uuid::parse_str(&item.customer_id).map_err(StoreError::internal)?;
            let items = vec![
                TransactWriteItem::builder().update(update).build(),
                TransactWriteItem::builder().delete(drop_old).build(),
                TransactWriteItem::builder().put(put_token).build(),
                TransactWriteItem::builder().put(put_pointer).build(),
                audit::record(
                    &self.db,
                    change,
                    EntityType::Invitation,
                    id,
                    Some(customer_id),
                )?,
            ];
            match transact(&self.db, items).await {
                Ok(()) => {
                    let invitation = self.get(id).await?.ok_or_else(|| not_found(id))?;
                    return Ok((invitation, token));
                }
                Err(TxError::Store(err)) => return Err(err),
                Err(TxError::Cancelled(c)) if c.condition_failed(3) => {
                    // A newer invitation to this email replaced this one.
                    return Err(StoreError::FailedPrecondition(
                        "this invitation was replaced by a newer one to the same email".into(),
                    ));
                }
                // Accepted, revoked or sent again meanwhile: read again.
                Err(TxError::Cancelled(_)) => {}
            }
        }
        Err(too_much_contention())
    }

    /// Revokes every pending invitation `user_id` sent for `customer_id`:
    /// a member who leaves takes back what it offered. (An accept checks
    /// the inviter's rights in its own transaction as well, so one that
    /// slips past this sweep still fails.)
    pub async fn revoke_sent_by(
        &self,
        customer_id: Uuid,
        user_id: Uuid,
        change: &Change,
    ) -> Result<usize, StoreError> {
        let mut revoked = 0;
        let mut start = None;
        loop {
            let output = self
                .db
                .client
                .query()
                .table_name(self.db.table.as_ref())
                .index_name(keys::GSI1)
                .key_condition_expression("gsi1pk = :pk")
                .filter_expression("invitedBy = :user AND #status = :pending")
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(
                    ":pk",
                    s(keys::customer_invitations(&customer_id.to_string())),
                )
                .expression_attribute_values(":user", s(user_id.to_string()))
                .expression_attribute_values(":pending", s(InvitationStatus::Pending.as_str()))
                .projection_expression("id")
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(from_sdk)?;
            for mut item in output.items.unwrap_or_default() {
                let Some(id) = item
                    .remove("id")
                    .and_then(|v| v.as_s().ok().and_then(|s| Uuid::parse_str(s).ok()))
                else {
                    continue;
                };
                match self.revoke(id, change).await {
                    Ok(_) => revoked += 1,
                    // Accepted, revoked or gone meanwhile: nothing to take back.
                    Err(StoreError::FailedPrecondition(_) | StoreError::NotFound { .. }) => {}
                    Err(err) => return Err(err),
                }
            }
            match output.last_evaluated_key {
                Some(last) => start = Some(last),
                None => return Ok(revoked),
            }
        }
    }
}

/// The refusal for a signed-in user whose email is not the invited one.
fn wrong_user() -> StoreError {
    StoreError::FailedPrecondition(
        "this invitation was sent to another email address: sign in as the invited user to accept it".into(),
    )
}

/// Transaction items that require whoever sent `invitation` to still be an
/// active user whose membership of the customer holds `USERS_MANAGE` and
/// every permission the invitation grants (the owner holds all; a write
/// permission includes its read).
fn inviter_checks(
    db: &super::super::Db,
    invitation: &Invitation,
    inviter: Uuid,
) -> Result<[TransactWriteItem; 2], StoreError> {
    let mut needed = vec![Permission::UsersManage];
    needed.extend(invitation.permissions.iter().copied());
    needed = Permission::normalize(needed);
    let mut condition = String::from("attribute_exists(pk) AND (#role = :owner OR (");
    let mut check = ConditionCheck::builder()
        .table_name(db.table.as_ref())
        .set_key(Some(key(keys::membership(
            &invitation.customer_id.to_string(),
            &inviter.to_string(),
        ))))
        .expression_attribute_names("#role", "role")
        .expression_attribute_names("#perms", "permissions")
        .expression_attribute_values(":owner", s("OWNER"));
    for (i, permission) in needed.iter().enumerate() {
        if i > 0 {
            condition.push_str(" AND ");
        }
        let name = format!(":p{i}");
        let wire = serde_json::to_value(permission)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .ok_or_else(|| StoreError::internal("permission without a wire name"))?;
        check = check.expression_attribute_values(&name, s(wire));
        let granting: Vec<Permission> = Permission::ALL
            .into_iter()
            .filter(|p| p.implies() == Some(*permission))
            .collect();
        let _ = write!(condition, "(contains(#perms, {name})");
        for (j, writer) in granting.iter().enumerate() {
            let wname = format!(":p{i}w{j}");
            let wire = serde_json::to_value(writer)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .ok_or_else(|| StoreError::internal("permission without a wire name"))?;
            check = check.expression_attribute_values(&wname, s(wire));
            let _ = write!(condition, " OR contains(#perms, {wname})");
        }
        condition.push(')');
    }
    condition.push_str("))");
    let membership = check
        .condition_expression(condition)
        .build()
        .map_err(StoreError::internal)?;
    let user = ConditionCheck::builder()
        .table_name(db.table.as_ref())
        .set_key(Some(key(keys::user(&inviter.to_string()))))
        .condition_expression(
            "attribute_exists(pk) AND attribute_not_exists(deleting) AND #status = :active",
        )
        .expression_attribute_names("#status", "status")
        .expression_attribute_values(":active", s(UserStatus::Active.as_str()))
        .build()
        .map_err(StoreError::internal)?;
    Ok([
        TransactWriteItem::builder()
            .condition_check(membership)
            .build(),
        TransactWriteItem::builder().condition_check(user).build(),
    ])
}
