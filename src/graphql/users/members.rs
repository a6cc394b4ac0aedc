//! A customer's users: adding (admins), changing permissions and
//! ownership, and removing (admins and members with `USERS_MANAGE`, within
//! the policy's limits).

use crate::graphql::idempotency;
use async_graphql::{Context, ID, Object};

#[cfg(test)]
use super::types::permissions;
use super::types::{CustomerMembershipNode, Permission, store};
use crate::domain::access::Action;
use crate::domain::customer::Customer;
use crate::graphql::error::ApiError;
use crate::graphql::guard::AdminGuard;
use crate::graphql::input::parse_id;
use crate::graphql::{access, audit};
use crate::store::memberships::Membership;

async fn node(
    ctx: &Context<'_>,
    membership: Membership,
    customer: Customer,
) -> Result<CustomerMembershipNode, ApiError> {
    let user = store(ctx)
        .users()
        .get(membership.user_id)
        .await?
        .ok_or_else(|| ApiError::internal("a member's user could not be read"))?;
    // The customer may have changed (a new owner): show it as it is now.
    let customer = store(ctx)
        .customers()
        .get(customer.id)
        .await?
        .unwrap_or(customer);
    Ok(CustomerMembershipNode {
        membership,
        user,
        customer,
    })
}

/// Mutations on a customer's users.
#[derive(Default)]
pub struct CustomerUserMutation;

#[Object]
impl CustomerUserMutation {
    /// Makes an existing user a user of the customer with `permissions`;
    /// with `owner: true` it becomes the owner and the previous owner stays
    /// a member with its permissions (one transaction). Refused with
    /// `FAILED_PRECONDITION` when the customer's status accepts no new
    /// users or its `allowedDomainsRegistration` excludes the user's email
    /// domain (`field: userId`), or when `owner: true` names the current
    /// owner (`FAILED_PRECONDITION`, `field: userId`; nothing changes).
    /// Adding a user who is already a member is `CONFLICT`. Admins only;
    /// members invite instead.
    #[graphql(guard = "AdminGuard")]
    async fn add_customer_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The id (UUID) of the customer.")] customer_id: ID,
        #[graphql(desc = "The id (UUID) of the user.")] user_id: ID,
        #[graphql(
            default,
            desc = "What the member may do on this customer (the owner holds every permission)."
        )]
        permissions: Vec<Permission>,
        #[graphql(
            default = false,
            desc = "Make this member the owner: the previous owner stays a member with its permissions."
        )]
        owner: bool,
        #[graphql(
            desc = "Makes a retry safe: a repeated call with this key (1 to 64 characters, scoped to the caller, remembered 24 hours) and the same arguments returns the first result instead of creating again; with other arguments it is `CONFLICT`."
        )]
        idempotency_key: Option<String>,
    ) -> Result<CustomerMembershipNode, ApiError> {
        let key = idempotency::key(ctx, idempotency_key, "addCustomerUser")?;
        let customer_id = parse_id(&customer_id, "customerId")?;
        let user_id = parse_id(&user_id, "userId")?;
        let grants = super::types::permissions(permissions);
        let customer = access::customer_for(
            ctx,
            customer_id,
            &Action::ManageUsers {
                grants: grants.clone(),
                ownership: owner,
            },
        )
        .await?;
        let memberships = store(ctx).memberships();
        let change = audit::change(ctx)?;
        let create =
            memberships.add_member(customer_id, user_id, &grants, owner, key.as_ref(), &change);
        let (membership, _) = Box::pin(idempotency::once(ctx, key.as_ref(), create, |user| {
            memberships.get(customer_id, user)
        }))
        .await?;
        node(ctx, membership, customer).await
    }

    /// Changes a user's permissions (when given) and, with `owner: true`,
    /// makes it the owner: the previous owner stays a member with its
    /// permissions, in one transaction. A manager (`USERS_MANAGE`) can only
    /// grant permissions it holds; only the owner and admins can hand over
    /// ownership. The owner cannot be demoted with `owner: false`
    /// (`FAILED_PRECONDITION`).
    async fn update_customer_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The id (UUID) of the customer.")] customer_id: ID,
        #[graphql(desc = "The id (UUID) of the user.")] user_id: ID,
        #[graphql(
            desc = "What the member may do on this customer (the owner holds every permission)."
        )]
        permissions: Option<Vec<Permission>>,
        #[graphql(
            desc = "Make this member the owner: the previous owner stays a member with its permissions."
        )]
        owner: Option<bool>,
    ) -> Result<CustomerMembershipNode, ApiError> {
        let customer_id = parse_id(&customer_id, "customerId")?;
        let user_id = parse_id(&user_id, "userId")?;
        let grants = permissions.map(super::types::permissions);
        let customer = access::customer_for(
            ctx,
            customer_id,
            &Action::ManageUsers {
                grants: grants.clone().unwrap_or_default(),
                ownership: owner == Some(true),
            },
        )
        .await?;
        let membership = store(ctx)
            .memberships()
            .update_member(
                customer_id,
                user_id,
                grants.as_deref(),
                owner,
                &audit::change(ctx)?,
            )
            .await?;
        node(ctx, membership, customer).await
    }

    /// Removes a user from the customer and clears every role (`adminUser`,
    /// `billingUser`, …) that named it, in one transaction; returns the
    /// user's id, and revokes the invitations it sent that are still
    /// pending. The owner cannot be removed (`FAILED_PRECONDITION`).
    async fn remove_customer_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The id (UUID) of the customer.")] customer_id: ID,
        #[graphql(desc = "The id (UUID) of the user.")] user_id: ID,
    ) -> Result<ID, ApiError> {
        let customer_id = parse_id(&customer_id, "customerId")?;
        let user_id_parsed = parse_id(&user_id, "userId")?;
        access::customer_for(
            ctx,
            customer_id,
            &Action::ManageUsers {
                grants: Vec::new(),
                ownership: false,
            },
        )
        .await?;
        let change = audit::change(ctx)?;
        store(ctx)
            .memberships()
            .remove_member(customer_id, user_id_parsed, &change)
            .await?;
        // A member who leaves takes back the invitations it sent (an accept
        // would refuse them anyway: it checks the sender's rights).
        store(ctx)
            .invitations()
            .revoke_sent_by(customer_id, user_id_parsed, &change)
            .await?;
        Ok(ID(user_id_parsed.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permissions_are_deduplicated_and_sorted() {
        let list = permissions(vec![
            Permission::BillingRead,
            Permission::CustomerRead,
            Permission::BillingRead,
        ]);
        assert_eq!(list.len(), 2);
    }
}
