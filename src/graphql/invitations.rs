//! The invitation part of the schema: inviting an email to a customer,
//! listing and revoking invitations (members with `USERS_READ` /
//! `USERS_MANAGE`, admins), and accepting one — the only operation that
//! runs without a JWT, since the invitation's token is the credential.
//!
//! The gateway sends no email: `acceptToken` is returned once, to whoever
//! invited, to be delivered by whatever sends the invitation.

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
use crate::domain::access::{Action, Decision};
use crate::domain::email::parse_email;
use crate::domain::error::AtField;
use crate::domain::invitation::{self as model, Invitation, MAX_TOKEN_CHARS};
use crate::domain::page::PageRequest;
use crate::domain::password::Password;
use crate::domain::text::clean_text;
use crate::domain::user::MAX_NAME_CHARS;
use crate::store::Store;
use crate::store::invitations::{NOT_VALID, NewInvitee};

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
}

/// A new invitation and its token.
pub struct InviteCustomerUserPayload {
    invitation: Invitation,
    /// `None` when this answers a repeated idempotency key.
    token: Option<String>,
}

/// A new invitation with its accept token, shown this once: hand the token
/// to whatever delivers the invitation (the gateway sends no email).
#[Object]
impl InviteCustomerUserPayload {
    /// The invitation.
    async fn invitation(&self) -> InvitationNode {
        InvitationNode(self.invitation.clone())
    }

    /// The secret that accepts the invitation (`acceptInvitation(token:)`).
    /// Shown only here and never stored: deliver it to the invitee (the
    /// gateway sends no email).
    async fn accept_token(&self) -> Option<&str> {
        self.token.as_deref()
    }
    /// Whether this answers a repeated `idempotencyKey`: the first call
    /// showed the token, so `acceptToken` is `null` here (only its hash is
    /// kept).
    async fn replayed(&self) -> bool {
        self.token.is_none()
    }
}

/// What accepting an invitation produced. Deliberately flat: it is
/// answered without a JWT, so it exposes nothing to traverse.
#[derive(SimpleObject)]
pub struct AcceptInvitationPayload {
    /// The member's user id (an existing user with the invited email, or a
    /// new one); it is the `sub` of that user's tokens.
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
    /// only grant permissions it holds). A pending invitation to the same
    /// email is replaced: its token stops working. Refused with
    /// `FAILED_PRECONDITION` when the customer accepts no new users or its
    /// `allowedDomainsRegistration` excludes the email's domain (`field:
    /// email`), `CONFLICT` when a user with that email already belongs to
    /// it. The token lasts `INVITATION_TTL` (7 days by default).
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
        access::customer_for(
            ctx,
            customer_id,
            &Action::ManageUsers {
                grants: grants.clone(),
                ownership: false,
            },
        )
        .await?;
        let ttl = ctx
            .data_opt::<InvitationTtl>()
            .map_or(crate::config::DEFAULT_INVITATION_TTL, |t| t.0);
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
        // A repeat never shows the token again: only its hash is kept.
        let fetch = |id| {
            let invitations = invitations.clone();
            async move {
                let found = invitations.get(id).await?;
                Ok(found.map(|invitation| (invitation, None)))
            }
        };
        let ((invitation, token), _) =
            Box::pin(idempotency::once(ctx, key.as_ref(), create, fetch)).await?;
        Ok(InviteCustomerUserPayload { invitation, token })
    }

    /// Revokes a pending invitation; its token stops working at once.
    /// `FAILED_PRECONDITION` when it is no longer pending.
    async fn revoke_invitation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The id (UUID) of the invitation.")] id: ID,
    ) -> Result<InvitationNode, ApiError> {
        let id = parse_id(&id, "id")?;
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
        let action = Action::ManageUsers {
            grants: Vec::new(),
            ownership: false,
        };
        match access::customer_for(ctx, invitation.customer_id, &action).await {
            Ok(_) => {}
            Err(err) if err.code == super::error::Code::NotFound => return Err(not_found()),
            Err(err) => return Err(err),
        }
        Ok(InvitationNode(
            store(ctx)
                .invitations()
                .revoke(id, &audit::change(ctx)?)
                .await?,
        ))
    }

    /// Accepts an invitation with its token — no JWT needed (or used): the
    /// token is the credential. The existing user with the invited email is
    /// linked (its name and password stay as they are), or a new user is
    /// created with these names and password. One transaction: of two
    /// concurrent accepts of one token, one wins and the other gets
    /// `CONFLICT`. Revoked, expired and used tokens are `FAILED_PRECONDITION`;
    /// an unknown token is answered exactly like a revoked one.
    async fn accept_invitation(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The accept token from `inviteCustomerUser` (the credential: no JWT needed)."
        )]
        token: String,
        #[graphql(desc = "The first name, for a user the invitation creates.")] first_name: String,
        #[graphql(desc = "The last name, for a user the invitation creates.")] last_name: String,
        #[graphql(desc = "The new password (Argon2id-hashed; never stored or shown as given).")]
        password: String,
    ) -> Result<AcceptInvitationPayload, ApiError> {
        let first_name = clean_text(&first_name, 1, MAX_NAME_CHARS).at_field("firstName")?;
        let last_name = clean_text(&last_name, 1, MAX_NAME_CHARS).at_field("lastName")?;
        let password = Password::parse(password).at_field("password")?;
        if token.is_empty() || token.chars().count() > MAX_TOKEN_CHARS {
            return Err(ApiError::new(
                super::error::Code::FailedPrecondition,
                NOT_VALID,
            ));
        }
        // The token first: one that cannot work costs no Argon2id (an
        // anonymous caller could otherwise buy a 19 MiB hash per request).
        // Timing tells nothing: tokens are 256 random bits, stored hashed.
        let invitations = store(ctx).invitations();
        let invitation = invitations.acceptable(&token).await?;
        let password_hash = hash_password(password).await?;
        // No token says who the caller is: the store names the user the
        // invitation joins as the actor.
        let change = audit::change_by(
            ctx,
            crate::domain::audit::Actor {
                subject: String::new(),
                is_admin: false,
                user_id: None,
            },
        );
        let accepted = invitations
            .accept(
                &invitation,
                &NewInvitee {
                    first_name,
                    last_name,
                    password_hash,
                },
                &change,
            )
            .await?;
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
