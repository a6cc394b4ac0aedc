//! Customer mutations: create (with its owner), patch, status and
//! deletion.

use async_graphql::{Context, ID, Object};

use super::inputs::{CreateCustomerInput, UpdateCustomerInput};
use super::types::{CustomerNode, CustomerStatus};
use super::{MAX_REASON_LEN, customers};
use crate::domain::InvalidInput;
use crate::domain::access::{Action, Caller, Decision};
use crate::domain::customer::{CustomerDraft, CustomerProfile, controls};
use crate::domain::email::same_address;
use crate::domain::text::clean_text;
use crate::domain::user::NewUser;
use crate::graphql::error::ApiError;
use crate::graphql::guard::AdminGuard;
use crate::graphql::idempotency;
use crate::graphql::input::{parse_expected_version, parse_id};
use crate::graphql::{access, audit};
use crate::store::StoreError;

/// The refusal of a change only the platform may make.
pub const PLATFORM_CONTROL: &str =
    "only the platform may open this control; a member may only make it safer";

/// Customer mutations; platform admins only.
#[derive(Default)]
pub struct CustomerMutation;

#[Object]
impl CustomerMutation {
    /// Creates a customer and, in the same transaction, its owner: the user
    /// with the customer's email if one exists (its password untouched),
    /// otherwise a new user with `password`.
    #[graphql(guard = "AdminGuard")]
    async fn create_customer(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The values to use; see the input type for each field and its rules.")]
        input: CreateCustomerInput,
        #[graphql(
            desc = "Makes a retry safe: a repeated call with this key (1 to 64 characters, scoped to the caller, remembered 24 hours) and the same input returns the first result instead of creating again; with another input it is `CONFLICT`."
        )]
        idempotency_key: Option<String>,
    ) -> Result<CustomerNode, ApiError> {
        let key = idempotency::key(ctx, idempotency_key, "createCustomer")?;
        let new = input.into_new_customer()?;
        let store = customers(ctx);
        let change = audit::change(ctx)?;
        let create = async {
            let password = new.password;
            let password_hash = tokio::task::spawn_blocking(move || password.hash())
                .await
                .map_err(StoreError::internal)?
                .map_err(|err| StoreError::internal(err.to_string()))?;
            let owner = NewUser {
                email: new.profile.email.clone(),
                first_name: new.profile.first_name.clone(),
                last_name: new.profile.last_name.clone(),
                password_hash,
            };
            store
                .create(&new.profile, new.status, &owner, key.as_ref(), &change)
                .await
        };
        let (customer, _) = Box::pin(idempotency::once(ctx, key.as_ref(), create, |id| {
            store.get(id)
        }))
        .await?;
        Ok(CustomerNode(customer))
    }

    /// Changes the fields given in `input`. With `expectedVersion`, fails
    /// with `CONFLICT` unless the customer is still at that version.
    /// Members need `CUSTOMER_WRITE` for profile fields and `BILLING_WRITE`
    /// for `automaticRefillAmount`, `lowBalanceAlertAmount` and
    /// `defaultBillMethod`; `credit` and `delinquent` are the platform's
    /// (admin, billing), and so are the allowed domains and moving the
    /// customer to another `email` (admin: a member would otherwise learn
    /// from a `CONFLICT` which addresses other customers use). Opening a
    /// telephony control (international calling, media bypass, unlocking,
    /// a higher outbound call rate or forwarding limit) is the platform's
    /// too: a member may only make those safer (`FORBIDDEN` naming the
    /// field otherwise).
    async fn update_customer(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The id (UUID) of the customer.")] id: ID,
        #[graphql(desc = "The values to use; see the input type for each field and its rules.")]
        input: UpdateCustomerInput,
        #[graphql(
            desc = "Fail with `CONFLICT` unless the entity is still at this `version` (no lost updates)."
        )]
        expected_version: Option<i32>,
    ) -> Result<CustomerNode, ApiError> {
        let id = parse_id(&id, "id")?;
        let expected = parse_expected_version(expected_version)?;
        let mut may_loosen = true;
        let member = access::caller(ctx)? != Caller::ADMIN;
        if member {
            let customer = customers(ctx)
                .get(id)
                .await?
                .ok_or_else(|| access::not_found(id))?;
            for action in input.actions(&customer.profile.email) {
                access::require(ctx, &action, &customer).await?;
            }
            may_loosen = access::decision(ctx, &Action::WritePlatformControls, &customer).await?
                == Decision::Allow;
        }
        let change = audit::change(ctx)?;
        // Decided on the profile the write is conditioned on: a control the
        // platform closed a moment ago is not reopened by a stale patch.
        let loosened = std::sync::OnceLock::new();
        let updated = customers(ctx)
            .update(id, expected, &change, |current| {
                let mut draft = CustomerDraft::from(&current.profile);
                input.clone().apply(&mut draft)?;
                if member && !same_address(&draft.email, &current.profile.email) {
                    // Only the address checked above passes for a member; if
                    // an admin moved the customer meanwhile, a member's
                    // (former) address must not move it back and collide.
                    draft.email.clone_from(&current.profile.email);
                }
                let profile = CustomerProfile::parse(draft).map_err(|e| e.within("input"))?;
                if !may_loosen
                    && let Some(field) =
                        controls::loosened(&current.profile.telephony, &profile.telephony)
                {
                    let _ = loosened.set(field);
                    return Err(InvalidInput::new(field, PLATFORM_CONTROL));
                }
                Ok(profile)
            })
            .await;
        if let Some(field) = loosened.get() {
            return Err(ApiError {
                code: crate::graphql::error::Code::Forbidden,
                message: PLATFORM_CONTROL.into(),
                field: Some((*field).to_owned()),
                reason: None,
            });
        }
        Ok(CustomerNode(updated?))
    }

    /// Moves the customer to `status` (see `CustomerStatus` for the allowed
    /// moves), recording `reason`. TERMINATED flags every account inactive
    /// and disabled.
    #[graphql(guard = "AdminGuard")]
    async fn set_customer_status(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The id (UUID) of the customer.")] id: ID,
        #[graphql(desc = "The status to move to (or, for a list, the only status to list).")]
        status: CustomerStatus,
        #[graphql(desc = "Why, for the record (at most 500 characters).")] reason: Option<String>,
    ) -> Result<CustomerNode, ApiError> {
        let id = parse_id(&id, "id")?;
        let reason = reason
            .map(|r| {
                clean_text(&r, 0, MAX_REASON_LEN).map_err(|m| ApiError::bad_input("reason", m))
            })
            .transpose()?
            .filter(|r| !r.is_empty());
        let mut change = audit::change(ctx)?;
        change.reason = reason;
        Ok(CustomerNode(
            customers(ctx)
                .set_status(id, status.into(), &change)
                .await?,
        ))
    }

    /// Deletes a TERMINATED customer with its memberships, accounts and
    /// reserved values, and returns its id. Refused with
    /// `FAILED_PRECONDITION` otherwise. Safe to retry.
    #[graphql(guard = "AdminGuard")]
    async fn delete_customer(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The id (UUID) of the customer.")] id: ID,
    ) -> Result<ID, ApiError> {
        let uuid = parse_id(&id, "id")?;
        customers(ctx).delete(uuid, &audit::change(ctx)?).await?;
        Ok(ID(uuid.to_string()))
    }
}
