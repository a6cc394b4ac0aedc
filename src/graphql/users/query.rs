//! User queries: the admin's user directory, everyone's `viewer`, and a
//! customer's users for its members.

use crate::graphql::connection::Connection as Paged;
use async_graphql::{Context, ID, InputObject, Object};

use super::types::{CustomerMembershipNode, UserNode, UserStatus, ViewerNode, members_of, store};
use crate::domain::access::{Action, Caller};
use crate::domain::customer::search_key;
use crate::domain::page::PageRequest;
use crate::graphql::access;
use crate::graphql::error::ApiError;
use crate::graphql::input::parse_id;
use crate::store::UserFilter;

/// Narrows `users`; both fields optional, combined with AND.
#[derive(InputObject, Default)]
pub struct UserFilterInput {
    /// Only this status.
    status: Option<UserStatus>,
    /// Prefix (at least 2 characters) of the email, first or last name;
    /// case- and accent-insensitive. Results are in match order.
    search: Option<String>,
}

impl UserFilterInput {
    fn parse(self) -> Result<UserFilter, ApiError> {
        let search = self
            .search
            .map(|text| {
                let key = search_key(&text);
                if key.chars().count() < 2 {
                    Err(ApiError::bad_input(
                        "filter.search",
                        "must have at least 2 characters",
                    ))
                } else {
                    Ok(key)
                }
            })
            .transpose()?;
        Ok(UserFilter {
            status: self.status.map(Into::into),
            search,
        })
    }
}

/// User queries.
#[derive(Default)]
pub struct UserQuery;

#[Object]
impl UserQuery {
    /// The caller: its user (`null` for an admin), whether it is an admin,
    /// and the customers it belongs to.
    async fn viewer(&self, ctx: &Context<'_>) -> Result<ViewerNode, ApiError> {
        match access::caller(ctx)? {
            Caller::Platform(role) => {
                if !role.permits(&crate::domain::access::Action::ReadPricingTiers) {
                    return Err(access::forbidden());
                }
                Ok(ViewerNode {
                    user: None,
                    role: Some(role),
                })
            }
            Caller::User(id) => {
                let user = store(ctx)
                    .users()
                    .get(id)
                    .await?
                    .ok_or_else(ApiError::unauthenticated)?;
                Ok(ViewerNode {
                    user: Some(user),
                    role: None,
                })
            }
        }
    }

    /// A customer's users (the owner included) with their permissions,
    /// `first` (at most 100) at a time: the same connection as
    /// `Customer.users`, for members who hold `USERS_READ` without
    /// `CUSTOMER_READ` (each `node.customer` is then `null`). `null` when the
    /// customer does not exist or the caller does not belong to it. Needs
    /// `USERS_READ`.
    #[graphql(complexity = "crate::graphql::connection::complexity(first, child_complexity)")]
    async fn customer_users(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The id (UUID) of the customer.")] customer_id: ID,
        #[graphql(default = 20, desc = "How many items to return, 0 to 100.")] first: i32,
        #[graphql(
            desc = "The `endCursor` of the previous page, to continue after it; omit for the first page."
        )]
        after: Option<String>,
    ) -> Result<Option<Paged<CustomerMembershipNode>>, ApiError> {
        let customer_id = parse_id(&customer_id, "customerId")?;
        let page = PageRequest::new(first, after)?;
        let Some(customer) = store(ctx).customers().get(customer_id).await? else {
            return Ok(None);
        };
        match access::visible(ctx, &Action::ReadUsers, customer).await? {
            Some(customer) => members_of(ctx, &customer, &page).await.map(Some),
            None => Ok(None),
        }
    }

    /// The user with `id`, or `null`. Admins only.
    #[graphql(
        guard = "crate::graphql::guard::PlatformGuard(crate::domain::access::Action::ReadPlatform)"
    )]
    async fn user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The id (UUID) of the user.")] id: ID,
    ) -> Result<Option<UserNode>, ApiError> {
        let id = parse_id(&id, "id")?;
        Ok(store(ctx).users().get(id).await?.map(UserNode))
    }

    /// The user with this email (case-insensitive), or `null`. Admins only.
    #[graphql(
        guard = "crate::graphql::guard::PlatformGuard(crate::domain::access::Action::ReadPlatform)"
    )]
    async fn user_by_email(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The email address, compared case-insensitively.")] email: String,
    ) -> Result<Option<UserNode>, ApiError> {
        Ok(store(ctx).users().get_by_email(&email).await?.map(UserNode))
    }

    /// Users, newest first (in match order when searching), `first` (at
    /// most 100) at a time. Admins only.
    #[graphql(
        guard = "crate::graphql::guard::PlatformGuard(crate::domain::access::Action::ReadPlatform)",
        complexity = "crate::graphql::connection::complexity(first, child_complexity)"
    )]
    async fn users(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20, desc = "How many items to return, 0 to 100.")] first: i32,
        #[graphql(
            desc = "The `endCursor` of the previous page, to continue after it; omit for the first page."
        )]
        after: Option<String>,
        #[graphql(desc = "Narrows the list; every field is optional and they combine with AND.")]
        filter: Option<UserFilterInput>,
    ) -> Result<Paged<UserNode>, ApiError> {
        let page = PageRequest::new(first, after)?;
        let filter = filter.unwrap_or_default().parse()?;
        let page = store(ctx).users().list(&filter, &page).await?;
        Ok(Paged::from_page(page, UserNode))
    }
}
