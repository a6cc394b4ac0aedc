//! The invitation part of the schema: inviting an email to a customer,
//! sending it again, listing and revoking invitations (members with
//! `USERS_READ` / `USERS_MANAGE`, admins), and accepting one.
//!
//! The accept token goes only to the invited mailbox (SES, through
//! `mail::Mailer`), never to whoever invites: holding it proves control of
//! that mailbox. Accepting without a JWT can only create a *new* user; an
//! email that already has an account is accepted only by that user,
//! signed in — nobody joins a customer they did not choose.

use super::connection::Connection as Paged;
use crate::graphql::{audit, idempotency};
use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::Utc;

use super::access;
use super::customers::CustomerNode;
use super::error::ApiError;
use super::input::parse_id;
use super::scalars::DateTime;
#[cfg(test)]
use super::users::permissions;
use super::users::{Permission, UserNode, hash_password};
use crate::domain::access::Caller;
use crate::domain::access::{Action, Decision};
use crate::domain::customer::Customer;
use crate::domain::email::parse_email;
use crate::domain::error::AtField;
use crate::domain::invitation::email::{InvitationEmail, Inviter};
use crate::domain::invitation::{self as model, Invitation, MAX_TOKEN_CHARS, hash_token};
use crate::domain::page::PageRequest;
use crate::domain::password::Password;
use crate::domain::text::clean_text;
use crate::domain::user::MAX_NAME_CHARS;
use crate::mail::Mailer;
use crate::store::Store;
use crate::store::invitations::{INVITER_LOST_RIGHTS, Invitee, NOT_VALID, NewInvitee};

/// How long new invitations last (`INVITATION_TTL`), as schema data.
#[derive(Debug, Clone, Copy)]
pub struct InvitationTtl(pub std::time::Duration);

fn store<'a>(ctx: &Context<'a>) -> &'a Store {
    ctx.data_unchecked::<Store>()
}

/// Where an invitation stands.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "model::InvitationStatus")]
pub enum InvitationStatus {
    /// Waiting to be accepted.
    Pending,
    /// Accepted; the user is a member.
    Accepted,
    /// Revoked, or replaced by a newer invitation to the same email.
    Revoked,
    /// Not accepted in time.
    Expired,
}

/// Whether the invitation email reached the mail service.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "model::DeliveryStatus")]
pub enum InvitationDeliveryStatus {
    /// Saved; the email is being sent (or sending stopped before it could
    /// say): send it again if it stays so.
    Sending,
    /// The mail service accepted the email.
    Sent,
    /// The mail service refused it or could not be reached: send it again
    /// with `resendInvitation`.
    Failed,
}

/// An offer to an email address to become a user of a customer.
pub struct InvitationNode(pub Invitation);

/// An invitation for an email address to join a customer with the given
/// permissions, until it is accepted, revoked or expires.
#[Object(name = "Invitation")]
impl InvitationNode {
    /// Unique identifier.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// The customer the invitee joins; `null` when the caller may not read
    /// it.
    async fn customer(&self, ctx: &Context<'_>) -> Result<Option<CustomerNode>, ApiError> {
        let Some(customer) = store(ctx).customers().get(self.0.customer_id).await? else {
            return Ok(None);
        };
        Ok(
            match access::decision(ctx, &Action::ReadCustomer, &customer).await? {
                Decision::Allow => Some(CustomerNode(customer)),
                _ => None,
            },
        )
    }

    /// The invited email.
    async fn email(&self) -> &str {
        &self.0.email
    }

    /// The permissions the membership will have.
    async fn permissions(&self) -> Vec<Permission> {
        self.0.permissions.iter().copied().map(Into::into).collect()
    }

    /// PENDING, ACCEPTED, REVOKED, or EXPIRED once `expiresAt` has passed.
    async fn status(&self) -> InvitationStatus {
        self.0.status_at(Utc::now()).into()
    }

    /// The user who invited; `null` when a platform admin did (or the user
    /// is gone).
    async fn invited_by(&self, ctx: &Context<'_>) -> Result<Option<UserNode>, ApiError> {
        match self.0.invited_by {
            Some(id) => Ok(store(ctx).users().get(id).await?.map(UserNode)),
            None => Ok(None),
        }
    }

    /// When the invitation was made.
    async fn created_at(&self) -> DateTime {
        DateTime(self.0.created_at)
    }

    /// When its token stops working.
    async fn expires_at(&self) -> DateTime {
        DateTime(self.0.expires_at)
    }

    /// When it was accepted.
    async fn accepted_at(&self) -> Option<DateTime> {
        self.0.accepted_at.map(DateTime)
    }

    /// Whether its latest email reached the mail service; anything but
    /// `SENT` means the invitee may not have it (`resendInvitation`).
    async fn delivery_status(&self) -> InvitationDeliveryStatus {
        self.0.delivery_status.into()
    }

    /// When the mail service accepted its latest email.
    async fn sent_at(&self) -> Option<DateTime> {
        self.0.sent_at.map(DateTime)
    }
}

/// A new invitation, emailed to the invitee.
pub struct InviteCustomerUserPayload {
    invitation: Invitation,
    replayed: bool,
}

/// A new invitation. Its token went to the invited mailbox only; whoever
/// invites never sees it.
#[Object]
impl InviteCustomerUserPayload {
    /// The invitation (`deliveryStatus: SENT` once the email is out).
    async fn invitation(&self) -> InvitationNode {
        InvitationNode(self.invitation.clone())
    }

    /// Whether this answers a repeated `idempotencyKey`: the first call
    /// created and emailed the invitation; this one sent nothing.
    async fn replayed(&self) -> bool {
        self.replayed
    }
}

/// What accepting an invitation produced. Deliberately flat: it may be
/// answered without a JWT, so it exposes nothing to traverse; only the
/// token holder, who proved control of the invited mailbox, sees it.
#[derive(SimpleObject)]
pub struct AcceptInvitationPayload {
    /// The member's user id (the signed-in user, or the new one); it is the
    /// `sub` of that user's tokens.
    user_id: ID,
    /// The customer joined.
    customer_id: ID,
    /// Whether a new user was created.
    created_user: bool,
    /// The permissions granted.
    permissions: Vec<Permission>,
}

/// Invitation queries.
#[derive(Default)]
pub struct InvitationQuery;

#[Object]
impl InvitationQuery {
    /// A customer's invitations, newest first, optionally only those with
    /// `status`; `null` when the customer does not exist or the caller does
    /// not belong to it. Needs `USERS_READ`.
    #[graphql(complexity = "crate::graphql::connection::complexity(first, child_complexity)")]
    async fn invitations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The id (UUID) of the customer.")] customer_id: ID,
        #[graphql(default = 20, desc = "How many items to return, 0 to 100.")] first: i32,
        #[graphql(
            desc = "The `endCursor` of the previous page, to continue after it; omit for the first page."
        )]
        after: Option<String>,
        #[graphql(desc = "The status to move to (or, for a list, the only status to list).")]
        status: Option<InvitationStatus>,
    ) -> Result<Option<Paged<InvitationNode>>, ApiError> {
        let customer_id = parse_id(&customer_id, "customerId")?;
        let page = PageRequest::new(first, after)?;
        let Some(customer) = store(ctx).customers().get(customer_id).await? else {
            return Ok(None);
        };
        if access::visible(ctx, &Action::ReadUsers, customer)
            .await?
            .is_none()
        {
            return Ok(None);
        }
        let page = store(ctx)
            .invitations()
            .list(customer_id, status.map(Into::into), &page)
            .await?;
        Ok(Some(Paged::from_page(page, InvitationNode)))
    }
}

/// Invitation mutations.
#[derive(Default)]
pub struct InvitationMutation;

#[Object]
impl InvitationMutation {
    /// Invites `email` to the customer with `permissions` (a manager can
    /// only grant permissions it holds) and emails the invitee the accept
    /// link; the token is never shown to the inviter. A pending invitation
    /// to the same email is replaced: its token stops working. Refused with
    /// `FAILED_PRECONDITION` when the customer accepts no new users or its
    /// `allowedDomainsRegistration` excludes the email's domain (`field:
    /// email`), `CONFLICT` when a user with that email already belongs to
    /// it. When the email cannot be sent the invitation stays, with
    /// `deliveryStatus: FAILED`, and the answer is `DELIVERY_FAILED`: send
    /// it again with `resendInvitation`. The token lasts `INVITATION_TTL`
    /// (7 days by default).
    async fn invite_customer_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The id (UUID) of the customer.")] customer_id: ID,
        #[graphql(desc = "The email address, compared case-insensitively.")] email: String,
        #[graphql(
            default,
            desc = "What the member may do on this customer once it accepts."
        )]
        permissions: Vec<Permission>,
        #[graphql(
            desc = "Makes a retry safe: a repeated call with this key (1 to 64 characters, scoped to the caller, remembered 24 hours) and the same arguments returns the first result instead of creating again; with other arguments it is `CONFLICT`."
        )]
        idempotency_key: Option<String>,
    ) -> Result<InviteCustomerUserPayload, ApiError> {
        let key = idempotency::key(ctx, idempotency_key, "inviteCustomerUser")?;
        let customer_id = parse_id(&customer_id, "customerId")?;
        let email = parse_email(&email).at_field("email")?;
        let grants = super::users::permissions(permissions);
        let customer = access::customer_for(
            ctx,
            customer_id,
            &Action::ManageUsers {
                grants: grants.clone(),
                ownership: false,
            },
        )
        .await?;
        let ttl = ttl(ctx);
        let invited_by = access::caller(ctx)?.user_id();
        let invitations = store(ctx).invitations();
        let change = audit::change(ctx)?;
        let create = async {
            invitations
                .invite(
                    customer_id,
                    &email,
                    &grants,
                    invited_by,
                    ttl,
                    key.as_ref(),
                    &change,
                )
                .await
                .map(|(invitation, token)| (invitation, Some(token)))
        };
        // A repeat sends nothing: the first call emailed the token.
        let fetch = |id| {
            let invitations = invitations.clone();
            async move {
                let found = invitations.get(id).await?;
                Ok(found.map(|invitation| (invitation, None)))
            }
        };
        let ((invitation, token), _) =
            Box::pin(idempotency::once(ctx, key.as_ref(), create, fetch)).await?;
        let Some(token) = token else {
            return Ok(InviteCustomerUserPayload {
                invitation,
                replayed: true,
            });
        };
        let invitation = deliver(ctx, &customer, invitation, &token).await?;
        Ok(InviteCustomerUserPayload {
            invitation,
            replayed: false,
        })
    }

    /// Emails a pending invitation again with a fresh token and a fresh
    /// lifetime: the old link stops working at once. Needs the rights
    /// inviting would need (`USERS_MANAGE` and every permission it grants).
    /// `FAILED_PRECONDITION` when it is no longer pending; `DELIVERY_FAILED`
    /// when the email cannot be sent (it stays `FAILED`, try again).
    async fn resend_invitation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The id (UUID) of the invitation.")] id: ID,
    ) -> Result<InvitationNode, ApiError> {
        let (invitation, customer) = invitation_for(ctx, &id, |invitation| Action::ManageUsers {
            grants: invitation.permissions.clone(),
            ownership: false,
        })
        .await?;
        let id = invitation.id;
        if !customer.status.accepts_new_resources() {
            return Err(ApiError::new(
                super::error::Code::FailedPrecondition,
                "the customer's status does not allow new users",
            ));
        }
        let (invitation, token) = store(ctx)
            .invitations()
            .reissue(id, ttl(ctx), &audit::change(ctx)?)
            .await?;
        Ok(InvitationNode(
            deliver(ctx, &customer, invitation, &token).await?,
        ))
    }

    /// Revokes a pending invitation; its token stops working at once.
    /// `FAILED_PRECONDITION` when it is no longer pending.
    async fn revoke_invitation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The id (UUID) of the invitation.")] id: ID,
    ) -> Result<InvitationNode, ApiError> {
        let (invitation, _) = invitation_for(ctx, &id, |_| Action::ManageUsers {
            grants: Vec::new(),
            ownership: false,
        })
        .await?;
        let id = invitation.id;
        Ok(InvitationNode(
            store(ctx)
                .invitations()
                .revoke(id, &audit::change(ctx)?)
                .await?,
        ))
    }

    /// Accepts an invitation with the token from its email. Without a JWT
    /// it creates a *new* user with these names and password, and only
    /// when no user has the invited email: otherwise `SIGN_IN_REQUIRED`
    /// (sign in as that user and accept again). With a user's JWT it
    /// accepts for that user, whose email must be the invited one (names
    /// and password are then not used). One transaction: of two concurrent
    /// accepts of one token, one wins and the other gets `CONFLICT`.
    /// Revoked, expired and used tokens are `FAILED_PRECONDITION`, and so
    /// is an invitation whose sender has since lost the rights it grants;
    /// an unknown token is answered exactly like a revoked one. Every such
    /// refusal comes before any password is hashed.
    async fn accept_invitation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The accept token from the invitation email.")] token: String,
        #[graphql(desc = "The first name, for a user the invitation creates.")] first_name: Option<
            String,
        >,
        #[graphql(desc = "The last name, for a user the invitation creates.")] last_name: Option<
            String,
        >,
        #[graphql(
            desc = "The new password, for a user the invitation creates (Argon2id-hashed; never stored or shown as given)."
        )]
        password: Option<String>,
    ) -> Result<AcceptInvitationPayload, ApiError> {
        if token.is_empty() || token.chars().count() > MAX_TOKEN_CHARS {
            return Err(ApiError::new(
                super::error::Code::FailedPrecondition,
                NOT_VALID,
            ));
        }
        let signed_in = match ctx.data_opt::<access::RequestAccess>() {
            Some(_) => access::caller(ctx)?.user_id(),
            None => None,
        };
        // What a new user would need is checked first: cheap, and no use
        // reading anything for input that cannot work.
        let new_user = match signed_in {
            Some(_) => None,
            None => Some((
                clean_text(first_name.as_deref().unwrap_or_default(), 1, MAX_NAME_CHARS)
                    .at_field("firstName")?,
                clean_text(last_name.as_deref().unwrap_or_default(), 1, MAX_NAME_CHARS)
                    .at_field("lastName")?,
                Password::parse(password.unwrap_or_default()).at_field("password")?,
            )),
        };
        // Every refusal the data can give comes before Argon2id: an
        // anonymous caller must not buy a 19 MiB hash with a token that
        // cannot work. Timing tells nothing: tokens are 256 random bits,
        // stored hashed.
        let invitations = store(ctx).invitations();
        let invitation = invitations.acceptable(&token).await?;
        let customer = store(ctx)
            .customers()
            .get(invitation.customer_id)
            .await?
            .ok_or_else(|| ApiError::new(super::error::Code::FailedPrecondition, NOT_VALID))?;
        if !customer.status.accepts_new_resources() {
            return Err(ApiError::new(
                super::error::Code::FailedPrecondition,
                "the customer's status does not allow new users",
            ));
        }
        crate::store::memberships::check_domain(&customer, &invitation.email, "token")?;
        if let Some(max) = customer.quotas.max_users
            && customer.usage.users >= u64::from(max)
        {
            return Err(crate::store::memberships::users_quota_reached(max).into());
        }
        if !invitations.inviter_still_grants(&invitation).await? {
            return Err(ApiError::new(
                super::error::Code::FailedPrecondition,
                INVITER_LOST_RIGHTS,
            ));
        }
        let (invitee, actor) = match (signed_in, new_user) {
            (Some(user_id), _) => (
                Invitee::Existing(user_id),
                crate::domain::audit::Actor {
                    subject: user_id.to_string(),
                    is_admin: false,
                    user_id: Some(user_id.to_string()),
                },
            ),
            (None, Some((first_name, last_name, password))) => {
                if store(ctx)
                    .users()
                    .id_by_email(&invitation.email)
                    .await?
                    .is_some()
                {
                    return Err(ApiError::new(
                        super::error::Code::SignInRequired,
                        crate::store::invitations::SIGN_IN_REQUIRED,
                    ));
                }
                let password_hash = hash_password(password).await?;
                (
                    Invitee::New(NewInvitee {
                        first_name,
                        last_name,
                        password_hash,
                    }),
                    // The store names the new user as the actor.
                    crate::domain::audit::Actor {
                        subject: String::new(),
                        is_admin: false,
                        user_id: None,
                    },
                )
            }
            (None, None) => {
                return Err(ApiError::internal("accept without a caller or a new user"));
            }
        };
        let change = audit::change_by(ctx, actor);
        let accepted = invitations.accept(&invitation, &invitee, &change).await?;
        Ok(AcceptInvitationPayload {
            user_id: ID(accepted.user_id.to_string()),
            customer_id: ID(accepted.invitation.customer_id.to_string()),
            created_user: accepted.created_user,
            permissions: accepted
                .invitation
                .permissions
                .iter()
                .copied()
                .map(Into::into)
                .collect(),
        })
    }
}

/// Invitation `id` with its customer, when the caller may do the action
/// `action_for` names for it on that customer; an invitation of a customer
/// hidden from the caller is `NOT_FOUND` like an unknown one.
async fn invitation_for(
    ctx: &Context<'_>,
    id: &ID,
    action_for: impl Fn(&Invitation) -> Action,
) -> Result<(Invitation, Customer), ApiError> {
    let id = parse_id(id, "id")?;
    let not_found = || {
        ApiError::from(crate::store::StoreError::NotFound {
            entity: "Invitation",
            id: id.to_string(),
        })
    };
    let invitation = store(ctx)
        .invitations()
        .get(id)
        .await?
        .ok_or_else(not_found)?;
    match access::customer_for(ctx, invitation.customer_id, &action_for(&invitation)).await {
        Ok(customer) => Ok((invitation, customer)),
        Err(err) if err.code == super::error::Code::NotFound => Err(not_found()),
        Err(err) => Err(err),
    }
}

/// How long new tokens last (`INVITATION_TTL`).
fn ttl(ctx: &Context<'_>) -> std::time::Duration {
    ctx.data_opt::<InvitationTtl>()
        .map_or(crate::config::DEFAULT_INVITATION_TTL, |t| t.0)
}

/// Emails `invitation` with `token` to the invitee and records how it went.
/// A failure leaves the invitation `FAILED` and answers `DELIVERY_FAILED`
/// (the mail service's own words go to the log only, never the token).
async fn deliver(
    ctx: &Context<'_>,
    customer: &Customer,
    invitation: Invitation,
    token: &str,
) -> Result<Invitation, ApiError> {
    let mailer = ctx.data_unchecked::<Mailer>();
    let inviter = match access::caller(ctx)? {
        Caller::User(id) => match store(ctx).users().get(id).await? {
            Some(user) => Inviter::Member {
                name: format!("{} {}", user.first_name, user.last_name),
                email: user.email,
            },
            None => Inviter::Platform,
        },
        Caller::Platform(_) => Inviter::Platform,
    };
    let customer_name = customer.profile.display_name();
    let email = InvitationEmail {
        to: &invitation.email,
        customer_name: &customer_name,
        inviter: &inviter,
        permissions: &invitation.permissions,
        expires_at: invitation.expires_at,
        accept_url: mailer.accept_url(),
        token,
    }
    .compose();
    let hash = hash_token(token);
    let invitations = store(ctx).invitations();
    match mailer.send(&email).await {
        Ok(()) => Ok(invitations
            .record_delivery(invitation.id, &hash, model::DeliveryStatus::Sent)
            .await?),
        Err(err) => {
            tracing::warn!(
                invitation = %invitation.id,
                error = %super::error::error_chain(&err),
                "invitation email not sent"
            );
            invitations
                .record_delivery(invitation.id, &hash, model::DeliveryStatus::Failed)
                .await?;
            Err(ApiError::new(
                super::error::Code::DeliveryFailed,
                format!(
                    "the invitation `{}` was saved but its email could not be sent; it is listed with deliveryStatus FAILED: send it again with resendInvitation",
                    invitation.id
                ),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn granted_permissions_are_normalised() {
        assert_eq!(
            permissions(vec![Permission::UsersRead, Permission::UsersRead]).len(),
            1
        );
    }
}
