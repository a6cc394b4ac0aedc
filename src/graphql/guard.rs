//! Who may run what. The HTTP layer authenticates every request before the
//! schema runs and puts the [`Principal`] into the request data; these
//! guards read it.

use async_graphql::{Context, Guard};

use super::error::ApiError;
use crate::auth::Principal;

/// The authenticated caller of the current request.
pub fn principal<'a>(ctx: &'a Context<'_>) -> Result<&'a Principal, ApiError> {
    ctx.data_opt::<Principal>()
        .ok_or_else(ApiError::unauthenticated)
}

/// Lets through only platform callers whose role permits the action
/// (`domain::access::PlatformRole::permits`): reads of what only the
/// platform sees for admin, support and billing; `verifyAccountCredentials`
/// for admin and the telephony edge. Everyone else gets `FORBIDDEN`.
pub struct PlatformGuard(pub crate::domain::access::Action);

impl Guard for PlatformGuard {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        super::access::require_platform(ctx, &self.0)
            .map(|_| ())
            .map_err(Into::into)
    }
}

/// Lets only platform admins through; everyone else gets `FORBIDDEN`.
pub struct AdminGuard;

impl Guard for AdminGuard {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        if principal(ctx)?.is_admin {
            Ok(())
        } else {
            Err(ApiError::forbidden().into())
        }
    }
}
