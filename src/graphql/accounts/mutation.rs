//! Account mutations. All admin-only for now: when scoped callers arrive
//! (users issue), `ACCOUNTS_WRITE` lets a caller create, patch and rotate
//! the accounts of its own customers. The checks belong where the
//! `AdminGuard`s are below: `createAccount` (the input's `customerId`),
//! `updateAccount` and `rotateAccountAuthSecret` (the stored account's
//! customer, read inside the store's `update` closure / before rotating),
//! with `creditLimit`, `riskRating`, `riskStatus`, `isVerified` and
//! `pricingTierId` in a patch still requiring an admin. `deleteAccount`
//! and `verifyAccountCredentials` stay admin-only.

use std::time::Duration;

use async_graphql::{Context, ID, Object};
use chrono::Utc;

use super::super::error::{ApiError, Code};
use super::super::guard::AdminGuard;
use super::super::input::{parse_expected_version, parse_id};
use super::super::{audit, idempotency};
use super::types::{AccountNode, CreateAccountPayload, RotateAccountAuthSecretPayload};
use super::{CreateAccountInput, UpdateAccountInput, account_for, admin_only_field};
use crate::domain::InvalidInput;
use crate::domain::access::Action;
use crate::domain::account::controls;
use crate::domain::account::{AccountDraft, AccountProfile};
use crate::domain::credentials::{AuthSecret, SecretHasher, is_auth_id};
use crate::domain::telephony::{self, AwsRanges, Refusal};
use crate::graphql::access;
use crate::store::accounts::CredentialUpdate;
use crate::store::{Accounts, Store};

/// Longest secret accepted for checking; real ones are 43 characters.
const MAX_SECRET_LEN: usize = 256;

/// How account secrets are hashed and how long they last; built once from
/// the configuration and put into the schema's data.
#[derive(Clone, Debug)]
pub struct AccountSecrets {
    /// The keyed hash.
    pub hasher: SecretHasher,
    /// Lifetime of a new secret; `None` for no expiry.
    pub lifetime: Option<Duration>,
    /// Least time between two `lastLogin` writes of one account.
    pub login_stamp_interval: Duration,
}

impl AccountSecrets {
    /// A fresh secret and what the store keeps of it.
    fn issue(&self) -> Result<(AuthSecret, CredentialUpdate), ApiError> {
        let secret = AuthSecret::generate();
        let expires_at = self
            .lifetime
            .map(|d| {
                chrono::Duration::from_std(d)
                    .ok()
                    .and_then(|d| Utc::now().checked_add_signed(d))
                    .ok_or_else(|| ApiError::internal("the account secret lifetime is too long"))
            })
            .transpose()?;
        let update = CredentialUpdate {
            hash: self.hasher.hash(&secret),
            expires_at,
        };
        Ok((secret, update))
    }
}

fn accounts(ctx: &Context<'_>) -> Accounts {
    ctx.data_unchecked::<Store>().accounts()
}

fn secrets<'a>(ctx: &'a Context<'_>) -> Result<&'a AccountSecrets, ApiError> {
    ctx.data_opt::<AccountSecrets>()
        .ok_or_else(|| ApiError::internal("the schema carries no account secret settings"))
}

/// The one answer to every failed credential check, so a caller cannot
/// tell an unknown `authId` from a wrong secret or a disabled account.
fn invalid_credentials() -> ApiError {
    ApiError::new(Code::Unauthenticated, "invalid account credentials")
}

/// A correct secret refused by policy: `FORBIDDEN` with the reason in
/// `extensions.reason`, counted in the metrics line by reason.
fn refused(reason: Refusal) -> ApiError {
    crate::metrics::record_refusal(reason.as_str());
    ApiError {
        code: Code::Forbidden,
        message: format!(
            "the credentials are valid but the account may not be used now ({})",
            reason.as_str()
        ),
        field: None,
        reason: Some(reason.as_str()),
    }
}

/// Turns an edge error met inside a store closure into the domain's.
fn to_invalid(err: ApiError) -> InvalidInput {
    InvalidInput::new(err.field.unwrap_or_default(), err.message)
}

/// The refusal of a change that needs a right beyond `ACCOUNTS_WRITE`.
const PLATFORM_CONTROL: &str = "this change needs a right beyond ACCOUNTS_WRITE: the platform's (risk, tier, base limits, switching on an account the platform switched off, credit and postpaid) or BILLING_WRITE (buying capacity); making the account safer needs none";

/// `FORBIDDEN` at `field`, a change beyond the caller's rights.
fn control_refused(field: &str) -> ApiError {
    ApiError {
        code: crate::graphql::error::Code::Forbidden,
        message: PLATFORM_CONTROL.into(),
        field: Some(field.to_owned()),
        reason: None,
    }
}

/// Refuses the first of `needed` (an action with its input field) that
/// `allowed` lacks.
fn refuse_unless_allowed(
    needed: Vec<(Action, &'static str)>,
    allowed: &[Action],
) -> Result<(), ApiError> {
    match needed
        .into_iter()
        .find(|(action, _)| !allowed.contains(action))
    {
        Some((_, field)) => Err(control_refused(field)),
        None => Ok(()),
    }
}

/// Account mutations; platform admins only.
#[derive(Default)]
pub struct AccountMutation;

fn account_not_found(id: uuid::Uuid) -> ApiError {
    ApiError::from(crate::store::StoreError::NotFound {
        entity: "Account",
        id: id.to_string(),
    })
}

#[Object]
impl AccountMutation {
    /// Creates an account for an ACTIVE customer (else
    /// `FAILED_PRECONDITION`), on `pricingTierId` or the default tier, with
    /// a fresh `authId` and auth secret. The secret is in this payload
    /// only: store it now.
    async fn create_account(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The values to use; see the input type for each field and its rules.")]
        input: CreateAccountInput,
        #[graphql(
            desc = "Makes a retry safe: a repeated call with this key (1 to 64 characters, scoped to the caller, remembered 24 hours) and the same input returns the first result instead of creating again; with another input it is `CONFLICT`."
        )]
        idempotency_key: Option<String>,
    ) -> Result<CreateAccountPayload, ApiError> {
        let key = idempotency::key(ctx, idempotency_key, "createAccount")?;
        admin_only_field(ctx, input.admin_only_field())?;
        let new = input.into_new_account()?;
        access::customer_for(ctx, new.customer_id, &Action::WriteAccounts).await?;
        // A new account is measured against the defaults a member gets:
        // more than that (postpaid, higher base limits, purchases) needs
        // the same rights as raising it later.
        let defaults = AccountProfile::parse(AccountDraft::new(
            new.profile.name.clone(),
            new.profile.email.clone(),
        ))
        .map_err(ApiError::from)?;
        let allowed = super::allowed_controls(ctx, new.customer_id).await?;
        refuse_unless_allowed(controls::needed(&defaults, &new.profile), &allowed)?;
        let (secret, credential) = secrets(ctx)?.issue()?;
        let store = accounts(ctx);
        let change = audit::change(ctx)?;
        let (account, replayed) = Box::pin(idempotency::once(
            ctx,
            key.as_ref(),
            store.create(&new, &credential, key.as_ref(), &change),
            |id| store.get(id),
        ))
        .await?;
        Ok(CreateAccountPayload {
            account: AccountNode(account),
            // A repeated call never shows the secret again: the first call
            // did, and only its hash is kept.
            auth_secret: (!replayed).then(|| secret.expose().to_owned()),
            replayed,
        })
    }

    /// Changes the fields given in `input`; a new `pricingTierId` moves the
    /// account to that (active) tier. With `expectedVersion`, fails with
    /// `CONFLICT` unless the account is still at that version.
    async fn update_account(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The id (UUID) of the account.")] id: ID,
        #[graphql(desc = "The values to use; see the input type for each field and its rules.")]
        input: UpdateAccountInput,
        #[graphql(
            desc = "Fail with `CONFLICT` unless the entity is still at this `version` (no lost updates)."
        )]
        expected_version: Option<i32>,
    ) -> Result<AccountNode, ApiError> {
        let id = parse_id(&id, "id")?;
        let expected = parse_expected_version(expected_version)?;
        // Billing fields alone (credit line, postpaid, purchases) are
        // billing's to change: a billing role or a BILLING_WRITE member
        // needs no ACCOUNTS_WRITE for them; anything else does.
        let billing_only = !input.touches_more_than_billing();
        let found = account_for(
            ctx,
            id,
            if billing_only {
                &Action::ReadAccounts
            } else {
                &Action::WriteAccounts
            },
        )
        .await?
        .ok_or_else(|| account_not_found(id))?;
        let allowed = super::allowed_controls(ctx, found.customer_id).await?;
        if billing_only
            && !allowed
                .iter()
                .any(|a| matches!(a, Action::WriteBilling | Action::WriteBillingControls))
            && account_for(ctx, id, &Action::WriteAccounts).await.is_err()
        {
            return Err(access::forbidden());
        }
        refuse_unless_allowed(input.named_controls(), &allowed)?;
        let by_platform = access::caller(ctx)?.platform_role().is_some();
        let change = audit::change(ctx)?;
        // Decided on the account the write is conditioned on: a member's
        // patch cannot switch on what the platform switched off meanwhile.
        let refused = std::sync::OnceLock::new();
        let updated = accounts(ctx)
            .update(id, expected, &change, |current| {
                let mut draft = AccountDraft::from(&current.profile);
                let mut tier = current.pricing_tier_id;
                input
                    .clone()
                    .apply(&mut draft, &mut tier)
                    .map_err(to_invalid)?;
                let mut profile = AccountProfile::parse(draft).map_err(|e| e.within("input"))?;
                if let Some((_, field)) = controls::needed(&current.profile, &profile)
                    .into_iter()
                    .find(|(action, _)| !allowed.contains(action))
                {
                    let _ = refused.set(field);
                    return Err(crate::domain::InvalidInput::new(field, PLATFORM_CONTROL));
                }
                profile.platform_hold =
                    controls::hold_after(&current.profile, &profile, by_platform);
                Ok((profile, tier))
            })
            .await;
        if let Some(field) = refused.get() {
            return Err(control_refused(field));
        }
        Ok(AccountNode(updated?))
    }

    /// Replaces the account's auth secret (the old one stops working at
    /// once) and sets a new `authTokenExpireTime`. The new secret is in
    /// this payload only.
    async fn rotate_account_auth_secret(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The id (UUID) of the account.")] id: ID,
    ) -> Result<RotateAccountAuthSecretPayload, ApiError> {
        let id = parse_id(&id, "id")?;
        let current = account_for(ctx, id, &Action::WriteAccounts)
            .await?
            .ok_or_else(|| account_not_found(id))?;
        let (secret, credential) = secrets(ctx)?.issue()?;
        let mut change = audit::change(ctx)?;
        change.changed_fields = vec!["authSecret".into(), "authTokenExpireTime".into()];
        let account = accounts(ctx)
            .rotate_secret(id, current.customer_id, &credential, &change)
            .await?;
        Ok(RotateAccountAuthSecretPayload {
            account: AccountNode(account),
            auth_secret: secret.expose().to_owned(),
        })
    }

    /// Deletes an account, freeing its `authId` and its place on its
    /// tier, and returns its id. A master with sub-accounts is refused
    /// with `FAILED_PRECONDITION`.
    #[graphql(guard = "AdminGuard")]
    async fn delete_account(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The id (UUID) of the account.")] id: ID,
        #[graphql(
            desc = "Fail with `CONFLICT` unless the entity is still at this `version` (no lost updates)."
        )]
        expected_version: Option<i32>,
    ) -> Result<ID, ApiError> {
        let uuid = parse_id(&id, "id")?;
        let expected = parse_expected_version(expected_version)?;
        accounts(ctx)
            .delete(uuid, expected, &audit::change(ctx)?)
            .await?;
        Ok(ID(uuid.to_string()))
    }

    /// Checks an account credential for the telephony edge and records
    /// `lastLogin`. Any failure (unknown `authId`, wrong secret, disabled,
    /// inactive or expired) is the same `UNAUTHENTICATED` error, and takes
    /// comparable time.
    #[graphql(
        guard = "crate::graphql::guard::PlatformGuard(crate::domain::access::Action::VerifyCredentials)"
    )]
    async fn verify_account_credentials(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The account's `authId` (`MA_` and 20 upper-case letters and digits).")]
        auth_id: String,
        #[graphql(desc = "The secret the telephony edge received from the caller.")]
        auth_secret: String,
        #[graphql(
            desc = "The caller's source address (IPv4 or IPv6) as the edge saw it; required for accounts with `ipAuthEnabled`, which refuse a check without it."
        )]
        source_ip: Option<String>,
    ) -> Result<AccountNode, ApiError> {
        let source = source_ip
            .as_deref()
            .map(|raw| {
                raw.trim()
                    .parse::<std::net::IpAddr>()
                    .map_err(|_| ApiError::bad_input("sourceIp", "is not an IPv4 or IPv6 address"))
            })
            .transpose()?;
        let hasher = &secrets(ctx)?.hasher;
        let store = accounts(ctx);
        let stored = if is_auth_id(&auth_id) && auth_secret.len() <= MAX_SECRET_LEN {
            store.credentials(&auth_id).await?
        } else {
            None
        };
        // Always one HMAC and one constant-time comparison, dummy or not.
        let matches = hasher.verify(&auth_secret, stored.as_ref().map(|c| c.hash.as_str()));
        let Some(stored) = stored.filter(|_| matches) else {
            return Err(invalid_credentials());
        };
        let account = &stored.account;
        let expired = account
            .auth_token_expire_time
            .is_some_and(|at| at <= Utc::now());
        if expired {
            return Err(invalid_credentials());
        }
        // The secret is proven: from here on a refusal says why. The
        // customer and the master are read now, so a status change takes
        // effect on the next check, before any sweep.
        let customers = ctx.data_unchecked::<crate::store::Store>().customers();
        let (customer, master) = tokio::try_join!(customers.get(account.customer_id), async {
            match account.parent_account_id {
                Some(parent) => store.get(parent).await,
                None => Ok(None),
            }
        })?;
        let status = customer
            .as_ref()
            .map_or(crate::domain::customer::CustomerStatus::Terminated, |c| {
                c.status
            });
        // The answer's `customerTelephony` reads this customer again: give
        // the request's loader the one just read instead of a second GetItem.
        if let Some(customer) = customer {
            crate::graphql::loaders::loaders(ctx)?
                .customers
                .feed_one(customer.id, customer)
                .await;
        }
        let master_profile = match (account.parent_account_id, &master) {
            (Some(_), Some(m)) => Some(&m.profile),
            (Some(_), None) => return Err(refused(Refusal::MasterRefused)),
            (None, _) => None,
        };
        let ranges = ctx.data_opt::<AwsRanges>().cloned().unwrap_or_default();
        telephony::decide(&account.profile, status, master_profile, source, &ranges)
            .map_err(refused)?;
        // `lastLogin` at most once per interval: a busy account is not
        // written on every call.
        let interval = chrono::Duration::from_std(secrets(ctx)?.login_stamp_interval)
            .unwrap_or(chrono::Duration::MAX);
        if account
            .last_login
            .is_some_and(|at| Utc::now() - at < interval)
        {
            return Ok(AccountNode(stored.account));
        }
        match store.record_login(account, &stored.hash).await? {
            Some(account) => Ok(AccountNode(account)),
            None => Err(invalid_credentials()),
        }
    }
}
