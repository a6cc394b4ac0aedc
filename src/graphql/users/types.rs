//! The user-side object types: `User`, `CustomerMembership`, `Viewer` and
//! the `UserStatus` and `Permission` enums.

use std::collections::HashMap;
use std::hash::BuildHasher;

use crate::graphql::connection::Connection as Paged;
use async_graphql::{Context, Enum, ID, Object};
use uuid::Uuid;

use crate::domain::access::{self as policy, Action, Caller, Decision};
use crate::domain::customer::Customer;
use crate::domain::page::{Page, PageRequest};
use crate::domain::user::{self as model, User};
use crate::graphql::access::{self, RequestAccess};
use crate::graphql::customers::CustomerNode;
use crate::graphql::error::ApiError;
use crate::graphql::input::int;
use crate::graphql::scalars::DateTime;
use crate::store::Store;
use crate::store::memberships::{MemberRole, Membership};

pub(crate) fn store<'a>(ctx: &Context<'a>) -> &'a Store {
    ctx.data_unchecked::<Store>()
}

/// Whether a user may sign in.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "model::UserStatus")]
pub enum UserStatus {
    /// Signs in and acts within its memberships.
    Active,
    /// Its tokens are refused with `UNAUTHENTICATED`.
    Disabled,
}

/// A right a member holds on one customer. The owner holds all of them;
/// each `…_WRITE` / `USERS_MANAGE` includes the matching read.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "policy::Permission")]
pub enum Permission {
    /// Read the customer's profile.
    CustomerRead,
    /// Change the customer's profile (not status, credit, billing flags or
    /// allowed domains, which are admin-only).
    CustomerWrite,
    /// See the customer's users and invitations.
    UsersRead,
    /// Change permissions, remove users and invite new ones.
    UsersManage,
    /// See the customer's accounts.
    AccountsRead,
    /// Change the customer's accounts.
    AccountsWrite,
    /// See the billing fields.
    BillingRead,
    /// Change the billing fields customers may set.
    BillingWrite,
}

/// Converts API permissions to domain ones, sorted and without duplicates.
pub fn permissions(list: Vec<Permission>) -> Vec<policy::Permission> {
    policy::Permission::normalize(list.into_iter().map(Into::into).collect())
}

/// A person who signs in and acts for one or more customers.
pub struct UserNode(pub User);

/// A person who can sign in, member of any number of customers. The
/// password is never readable.
#[Object(name = "User")]
impl UserNode {
    /// Unique identifier (UUIDv7); also the `sub` of the user's tokens.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// Sign-in email, unique among users (case-insensitive).
    async fn email(&self) -> &str {
        &self.0.email
    }

    /// First name.
    async fn first_name(&self) -> &str {
        &self.0.first_name
    }

    /// Last name.
    async fn last_name(&self) -> &str {
        &self.0.last_name
    }

    /// ACTIVE or DISABLED; a disabled user's tokens are refused.
    async fn status(&self) -> UserStatus {
        self.0.status.into()
    }

    /// Last sign-in, when the identity provider reports one (`null` until
    /// then).
    async fn last_login_at(&self) -> Option<DateTime> {
        self.0.last_login_at.map(DateTime)
    }

    /// When the user was created.
    async fn created_at(&self) -> DateTime {
        DateTime(self.0.created_at)
    }

    /// When the user last changed.
    async fn updated_at(&self) -> DateTime {
        DateTime(self.0.updated_at)
    }

    /// Optimistic-locking version; pass it as `expectedVersion`.
    async fn version(&self) -> i32 {
        int(self.0.version)
    }

    /// The customers the user belongs to, newest customer first, `first`
    /// (at most 100) at a time. Only admins and the user itself may list
    /// them (`FORBIDDEN` otherwise).
    #[graphql(complexity = "crate::graphql::connection::complexity(first, child_complexity)")]
    async fn memberships(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20, desc = "How many items to return, 0 to 100.")] first: i32,
        #[graphql(
            desc = "The `endCursor` of the previous page, to continue after it; omit for the first page."
        )]
        after: Option<String>,
    ) -> Result<Paged<CustomerMembershipNode>, ApiError> {
        match access::caller(ctx)? {
            Caller::Platform(role)
                if role.permits(&crate::domain::access::Action::ReadPlatform) => {}
            Caller::User(id) if id == self.0.id => {}
            Caller::Platform(_) | Caller::User(_) => return Err(access::forbidden()),
        }
        memberships_of(ctx, &self.0, first, after).await
    }
}

/// One page of `user`'s memberships with their customers: listed from the
/// user's index, then each membership re-read consistently with its
/// customer in one batch per page (a membership the index still shows but
/// the table no longer holds is left out).
pub async fn memberships_of(
    ctx: &Context<'_>,
    user: &User,
    first: i32,
    after: Option<String>,
) -> Result<Paged<CustomerMembershipNode>, ApiError> {
    let page = PageRequest::new(first, after)?;
    let mut page = store(ctx)
        .memberships()
        .list_for_user(user.id, &page)
        .await?;
    // The index lists the page; the memberships shown, and the access
    // decisions on their customers, come from a consistent read of each.
    let ids: Vec<Uuid> = page.items.iter().map(|(m, _)| m.customer_id).collect();
    let (mut customers, checked) = store(ctx)
        .memberships()
        .customers_with_membership(user.id, &ids)
        .await?;
    if let Ok(state) = ctx.data::<RequestAccess>() {
        state.remember(&checked);
    }
    page.items = page
        .items
        .into_iter()
        .filter_map(|(listed, cursor)| Some((checked.get(listed.customer_id)?.clone(), cursor)))
        .collect();
    let users = HashMap::from([(user.id, user.clone())]);
    Ok(connection(page, &users, &mut customers))
}

/// One page of `customer`'s members with their users (one batched read for
/// the page's users, not one per edge): `Customer.users` and
/// `customerUsers`. The caller checks `USERS_READ` first.
pub async fn members_of(
    ctx: &Context<'_>,
    customer: &Customer,
    page: &PageRequest,
) -> Result<Paged<CustomerMembershipNode>, ApiError> {
    let page = store(ctx).memberships().list(customer.id, page).await?;
    let ids: Vec<_> = page.items.iter().map(|(m, _)| m.user_id).collect();
    let users = store(ctx).users().get_many(&ids).await?;
    let mut customers = HashMap::from([(customer.id, customer.clone())]);
    Ok(connection(page, &users, &mut customers))
}

/// Builds a membership connection from a page, with the users and
/// customers already read; memberships whose user or customer is gone
/// (being deleted) are left out.
pub fn connection<S: BuildHasher, T: BuildHasher>(
    page: Page<Membership>,
    users: &HashMap<Uuid, User, S>,
    customers: &mut HashMap<Uuid, Customer, T>,
) -> Paged<CustomerMembershipNode> {
    let items = page
        .items
        .into_iter()
        .filter_map(|(membership, cursor)| {
            let user = users.get(&membership.user_id)?.clone();
            let customer = customers.get(&membership.customer_id).cloned()?;
            let node = CustomerMembershipNode {
                membership,
                user,
                customer,
            };
            Some((node, cursor))
        })
        .collect();
    let page = Page {
        items,
        has_next_page: page.has_next_page,
        resume_cursor: page.resume_cursor,
    };
    Paged::from_page(page, |node| node)
}

/// A user's membership of a customer, with its permissions.
pub struct CustomerMembershipNode {
    /// The membership.
    pub membership: Membership,
    /// Its user, already read.
    pub user: User,
    /// Its customer, already read.
    pub customer: Customer,
}

/// A user's place in a customer: whether it is the owner, and what it may
/// do there.
#[Object(name = "CustomerMembership")]
impl CustomerMembershipNode {
    /// The customer; `null` when the caller may not read it (no
    /// `CUSTOMER_READ`, or the customer's status denies its users access).
    async fn customer(&self, ctx: &Context<'_>) -> Result<Option<CustomerNode>, ApiError> {
        Ok(
            match access::decision(ctx, &Action::ReadCustomer, &self.customer).await? {
                Decision::Allow => Some(CustomerNode(self.customer.clone())),
                _ => None,
            },
        )
    }

    /// The member.
    async fn user(&self) -> UserNode {
        UserNode(self.user.clone())
    }

    /// Whether this member is the customer's one owner.
    async fn owner(&self) -> bool {
        self.membership.role == MemberRole::Owner
    }

    /// The member's permissions; the owner's list is every permission.
    async fn permissions(&self) -> Vec<Permission> {
        if self.membership.role == MemberRole::Owner {
            policy::Permission::ALL
                .into_iter()
                .map(Into::into)
                .collect()
        } else {
            self.membership
                .permissions
                .iter()
                .copied()
                .map(Into::into)
                .collect()
        }
    }

    /// When the user joined the customer.
    async fn created_at(&self) -> DateTime {
        DateTime(self.membership.created_at)
    }

    /// When the role or permissions last changed.
    async fn updated_at(&self) -> DateTime {
        DateTime(self.membership.updated_at)
    }
}

/// Who the caller is.
pub struct ViewerNode {
    /// The caller's user; `None` for a platform caller.
    pub user: Option<User>,
    /// The caller's platform role; `None` for a user.
    pub role: Option<crate::domain::access::PlatformRole>,
}

/// Who the caller is: a platform admin, or a user with its memberships.
#[Object(name = "Viewer")]
impl ViewerNode {
    /// The signed-in user; `null` for a platform admin (whose token names
    /// no user).
    async fn user(&self) -> Option<UserNode> {
        self.user.clone().map(UserNode)
    }

    /// Whether the caller is a platform admin (and so may do everything).
    async fn is_admin(&self) -> bool {
        self.role == Some(crate::domain::access::PlatformRole::Admin)
    }

    /// The caller's platform role (`admin`, `support`, `billing`,
    /// `telephony-edge`); `null` for a user.
    async fn platform_role(&self) -> Option<&'static str> {
        self.role.map(crate::domain::access::PlatformRole::as_str)
    }

    /// The customers the caller belongs to, newest first (always empty for
    /// an admin).
    #[graphql(complexity = "crate::graphql::connection::complexity(first, child_complexity)")]
    async fn memberships(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20, desc = "How many items to return, 0 to 100.")] first: i32,
        #[graphql(
            desc = "The `endCursor` of the previous page, to continue after it; omit for the first page."
        )]
        after: Option<String>,
    ) -> Result<Paged<CustomerMembershipNode>, ApiError> {
        if let Some(user) = &self.user {
            memberships_of(ctx, user, first, after).await
        } else {
            PageRequest::new(first, after)?;
            Ok(Paged::empty())
        }
    }
}
