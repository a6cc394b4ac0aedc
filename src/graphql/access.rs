//! The edge side of the access policy (`domain::access`): who the caller
//! of this request is, its membership of each customer it touches (read at
//! most once per customer per request, never cached across requests, and
//! always with a strongly consistent read, never from the eventually
//! consistent memberships index), and
//! the translation of a decision into a response: a hidden customer reads
//! as `null` in queries and `NOT_FOUND` in mutations, exactly like one that
//! does not exist; anything else refused is `FORBIDDEN`.

use std::collections::HashMap;
use std::sync::Mutex;

use async_graphql::Context;
use uuid::Uuid;

use super::error::{ApiError, Code};
use crate::domain::access::{Action, Caller, Decision, MemberAccess, Target, decide};
use crate::domain::customer::Customer;
use crate::store::Store;
use crate::store::memberships::{CheckedMemberships, Membership};

/// Per-request access state, put into the request data by the HTTP layer
/// once the token and its user are verified.
#[derive(Debug)]
pub struct RequestAccess {
    caller: Caller,
    memberships: Mutex<HashMap<Uuid, Option<MemberAccess>>>,
}

impl RequestAccess {
    /// Access state for `caller`, with nothing read yet.
    pub fn new(caller: Caller) -> Self {
        Self {
            caller,
            memberships: Mutex::new(HashMap::new()),
        }
    }

    /// Records the caller's memberships read consistently in a batch (a page
    /// of its customers), so checks on those customers need no further
    /// read. Only [`CheckedMemberships`] are taken: a list read from the
    /// memberships index may still show a permission revoked a moment ago,
    /// and must never decide access. Another user's memberships are ignored.
    pub fn remember(&self, checked: &CheckedMemberships) {
        if self.caller != Caller::User(checked.user_id()) {
            return;
        }
        if let Ok(mut known) = self.memberships.lock() {
            for (customer_id, membership) in checked.iter() {
                known.insert(customer_id, membership.map(Membership::access));
            }
        }
    }

    /// What is known of the caller's membership of `customer_id`: `None`
    /// when it was not read yet in this request.
    #[expect(
        clippy::option_option,
        reason = "three states: not read yet, read and absent, read and present"
    )]
    fn known(&self, customer_id: Uuid) -> Option<Option<MemberAccess>> {
        self.memberships
            .lock()
            .ok()
            .and_then(|m| m.get(&customer_id).cloned())
    }
}

fn state<'a>(ctx: &'a Context<'_>) -> Result<&'a RequestAccess, ApiError> {
    ctx.data_opt::<RequestAccess>()
        .ok_or_else(ApiError::unauthenticated)
}

/// The verified caller of this request; `UNAUTHENTICATED` when there is
/// none (only `acceptInvitation` runs without one).
pub fn caller(ctx: &Context<'_>) -> Result<Caller, ApiError> {
    state(ctx).map(|s| s.caller)
}

/// The caller's membership of `customer_id` (`None` for admins, who need
/// none).
async fn membership(
    ctx: &Context<'_>,
    access: &RequestAccess,
    customer_id: Uuid,
) -> Result<Option<MemberAccess>, ApiError> {
    let Caller::User(user_id) = access.caller else {
        return Ok(None);
    };
    if let Some(known) = access.known(customer_id) {
        return Ok(known);
    }
    let found = ctx
        .data_unchecked::<Store>()
        .memberships()
        .get(customer_id, user_id)
        .await?
        .map(|m| m.access());
    if let Ok(mut known) = access.memberships.lock() {
        known.insert(customer_id, found.clone());
    }
    Ok(found)
}

/// The policy's decision for `action` on `customer` when it needs no read:
/// the caller is an admin, or its membership of the customer was read
/// already in this request. `None` when the membership is still to be
/// read ([`decision`] does). Checks made once per field take this path
/// first, so they await nothing and keep their futures small.
pub fn decided(
    ctx: &Context<'_>,
    action: &Action,
    customer: &Customer,
) -> Result<Option<Decision>, ApiError> {
    let access = state(ctx)?;
    if let Caller::Platform(_) = access.caller {
        return Ok(Some(decide(access.caller, action, None)));
    }
    Ok(access.known(customer.id).map(|member| {
        decide(
            access.caller,
            action,
            Some(Target {
                status: customer.status,
                membership: member.as_ref(),
            }),
        )
    }))
}

/// The policy's decision for `action` on `customer`.
pub async fn decision(
    ctx: &Context<'_>,
    action: &Action,
    customer: &Customer,
) -> Result<Decision, ApiError> {
    let access = state(ctx)?;
    if let Caller::Platform(_) = access.caller {
        return Ok(decide(access.caller, action, None));
    }
    let member = membership(ctx, access, customer.id).await?;
    Ok(decide(
        access.caller,
        action,
        Some(Target {
            status: customer.status,
            membership: member.as_ref(),
        }),
    ))
}

/// The error a refused action on a customer gets: `NOT_FOUND` (worded as
/// for a customer that does not exist) when hidden, else `FORBIDDEN`.
pub fn refusal(decision: Decision, customer_id: Uuid) -> Option<ApiError> {
    match decision {
        Decision::Allow => None,
        Decision::Hidden => Some(not_found(customer_id)),
        Decision::Forbidden => Some(forbidden()),
    }
}

/// `NOT_FOUND` for a customer id, the same words whether it does not exist
/// or is hidden from the caller.
pub fn not_found(customer_id: Uuid) -> ApiError {
    ApiError::new(
        Code::NotFound,
        format!("Customer `{customer_id}` was not found"),
    )
}

/// `FORBIDDEN` for an action the caller's membership does not allow.
pub fn forbidden() -> ApiError {
    ApiError::new(
        Code::Forbidden,
        "you do not have the permission this operation needs",
    )
}

/// Requires `action` on `customer` (for mutations and fields).
pub async fn require(
    ctx: &Context<'_>,
    action: &Action,
    customer: &Customer,
) -> Result<(), ApiError> {
    match refusal(decision(ctx, action, customer).await?, customer.id) {
        None => Ok(()),
        Some(err) => Err(err),
    }
}

/// For queries: `Some(customer)` when the caller may do `action` on it,
/// `None` when it is hidden, `FORBIDDEN` otherwise.
pub async fn visible(
    ctx: &Context<'_>,
    action: &Action,
    customer: Customer,
) -> Result<Option<Customer>, ApiError> {
    match decision(ctx, action, &customer).await? {
        Decision::Allow => Ok(Some(customer)),
        Decision::Hidden => Ok(None),
        Decision::Forbidden => Err(forbidden()),
    }
}

/// Requires a platform-wide `action` (admin-only ones, or reading tiers).
pub fn require_platform(ctx: &Context<'_>, action: &Action) -> Result<Caller, ApiError> {
    let caller = caller(ctx)?;
    match decide(caller, action, None) {
        Decision::Allow => Ok(caller),
        _ => Err(ApiError::forbidden()),
    }
}

/// Loads customer `id` for a mutation that needs `action` on it:
/// `NOT_FOUND` when it does not exist or is hidden, `FORBIDDEN` when the
/// membership does not allow it.
pub async fn customer_for(
    ctx: &Context<'_>,
    id: Uuid,
    action: &Action,
) -> Result<Customer, ApiError> {
    let customer = ctx
        .data_unchecked::<Store>()
        .customers()
        .get(id)
        .await?
        .ok_or_else(|| not_found(id))?;
    require(ctx, action, &customer).await?;
    Ok(customer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::access::Permission;
    use crate::store::memberships::MemberRole;

    fn membership(customer_id: Uuid, user_id: Uuid) -> Membership {
        Membership {
            customer_id,
            user_id,
            role: MemberRole::Member,
            permissions: vec![Permission::CustomerRead],
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn the_cache_takes_only_the_callers_consistent_reads_absences_included() {
        let (me, someone) = (Uuid::now_v7(), Uuid::now_v7());
        let (member_of, gone, unread) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let access = RequestAccess::new(Caller::User(me));
        // `remember` takes only `CheckedMemberships`, which only the store's
        // consistent batch builds (not `list_for_user`, the index read).
        access.remember(&CheckedMemberships::for_tests(
            me,
            HashMap::from([(member_of, Some(membership(member_of, me))), (gone, None)]),
        ));
        assert_eq!(
            access.known(member_of),
            Some(Some(membership(member_of, me).access()))
        );
        // A membership the consistent read did not find is known absent.
        assert_eq!(access.known(gone), Some(None));
        assert_eq!(access.known(unread), None);
        // Another user's memberships never stand for the caller's.
        let other = RequestAccess::new(Caller::User(someone));
        other.remember(&CheckedMemberships::for_tests(
            me,
            HashMap::from([(member_of, Some(membership(member_of, me)))]),
        ));
        assert_eq!(other.known(member_of), None);
    }

    #[test]
    fn decisions_map_to_stable_codes_and_hidden_reads_like_missing() {
        let id = Uuid::nil();
        assert!(refusal(Decision::Allow, id).is_none());
        let hidden = refusal(Decision::Hidden, id).unwrap();
        assert_eq!(hidden.code, Code::NotFound);
        let missing = ApiError::from(crate::store::StoreError::NotFound {
            entity: "Customer",
            id: id.to_string(),
        });
        assert_eq!(hidden, missing);
        assert_eq!(
            refusal(Decision::Forbidden, id).unwrap().code,
            Code::Forbidden
        );
    }
}
