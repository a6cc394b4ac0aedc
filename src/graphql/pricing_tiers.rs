//! The pricing-tier part of the schema: the `PricingTier` type, its queries
//! and its admin-only mutations.

use super::audit;
use super::connection::Connection;
use crate::graphql::connection::Connection as Paged;
use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object};

use super::accounts::{AccountNode, account_connection};
use super::error::ApiError;
use super::guard::AdminGuard;
use super::idempotency;
use super::input::{int, non_null, nullable, parse_expected_version, parse_id};
use super::scalars::{DateTime, Decimal};
use crate::domain::currency::CurrencyCode;
use crate::domain::error::AtField;
use crate::domain::page::PageRequest;
use crate::domain::pricing_tier::{
    self, NewPricingTier, PricingTier, PricingTierDraft, PricingTierPatch,
};
use crate::store::{AccountFilter, PricingTiers, Store};

fn tiers(ctx: &Context<'_>) -> PricingTiers {
    ctx.data_unchecked::<Store>().pricing_tiers()
}

/// A rate card that accounts are billed on: a price per minute in one
/// currency, billed in whole increments with a minimum duration.
pub struct PricingTierNode(pub PricingTier);

/// A rate card that accounts are billed on: a price per minute in one
/// currency, billed in whole increments with a minimum duration.
#[Object(name = "PricingTier")]
impl PricingTierNode {
    /// Unique identifier (UUIDv7, sortable by creation time).
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// Display name, unique among tiers regardless of case, e.g. `baseTier`.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// Notes for operators.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }

    /// ISO 4217 code of the currency the rate is in, e.g. `INR`.
    async fn currency(&self) -> &str {
        self.0.currency.code()
    }

    /// Price of one minute of call time, e.g. `"0.4500"`.
    async fn rate_per_minute(&self) -> Decimal {
        Decimal::exact(self.0.rate.per_minute)
    }

    /// Calls are billed in whole multiples of this many seconds (60 bills
    /// by started minute).
    async fn billing_increment_seconds(&self) -> i32 {
        int(self.0.rate.billing_increment_seconds)
    }

    /// Calls shorter than this are billed as this long.
    async fn minimum_duration_seconds(&self) -> i32 {
        int(self.0.rate.minimum_duration_seconds)
    }

    /// Whether accounts may be put on this tier.
    async fn is_active(&self) -> bool {
        self.0.is_active
    }

    /// Whether this is the default tier. Exactly one active tier is the
    /// default once any active tier exists.
    async fn is_default(&self) -> bool {
        self.0.is_default
    }

    /// When the tier was created.
    async fn created_at(&self) -> DateTime {
        DateTime(self.0.created_at)
    }

    /// When the tier last changed.
    async fn updated_at(&self) -> DateTime {
        DateTime(self.0.updated_at)
    }

    /// Version for optimistic locking: pass it as `expectedVersion` to make
    /// an update fail instead of overwriting someone else's change.
    async fn version(&self) -> i32 {
        int(self.0.version)
    }

    /// The accounts billed on this tier, newest first, `first` (at most 100)
    /// at a time; the same connection as `accounts(filter:
    /// {pricingTierId})`. Admins only.
    #[graphql(
        guard = "crate::graphql::guard::PlatformGuard(crate::domain::access::Action::ReadPlatform)",
        complexity = "crate::graphql::connection::complexity(first, child_complexity)"
    )]
    async fn accounts(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20, desc = "How many items to return, 0 to 100.")] first: i32,
        #[graphql(
            desc = "The `endCursor` of the previous page, to continue after it; omit for the first page."
        )]
        after: Option<String>,
    ) -> Result<Paged<AccountNode>, ApiError> {
        let filter = AccountFilter {
            pricing_tier_id: Some(self.0.id),
            ..AccountFilter::default()
        };
        account_connection(ctx, &filter, first, after).await
    }

    /// What a call of `durationSeconds` costs on this tier, rounded to 4
    /// decimal places (half away from zero). A 0-second call costs 0;
    /// otherwise the duration is raised to the minimum and rounded up to
    /// whole billing increments.
    #[expect(
        clippy::unused_async,
        reason = "async-graphql requires resolvers that take arguments to be async"
    )]
    async fn call_cost(
        &self,
        #[graphql(desc = "Length of the call in seconds (0 or more).")] duration_seconds: i32,
    ) -> Result<Decimal, ApiError> {
        Ok(Decimal::exact(
            self.0.rate.call_cost(i64::from(duration_seconds))?,
        ))
    }
}

/// A new pricing tier.
#[derive(InputObject)]
pub struct CreatePricingTierInput {
    /// Unique name (case-insensitive), 1–64 characters.
    name: String,
    /// Optional notes, up to 500 characters.
    description: Option<String>,
    /// ISO 4217 currency code, e.g. `USD`.
    currency: String,
    /// Price per minute: not negative, at most 1000000, up to 8 decimals.
    rate_per_minute: Decimal,
    /// Billing granularity in seconds, 1–3600.
    #[graphql(default = 60)]
    billing_increment_seconds: i32,
    /// Minimum billable duration in seconds, 0–86400.
    #[graphql(default = 0)]
    minimum_duration_seconds: i32,
    /// Whether accounts may be put on the tier.
    #[graphql(default = true)]
    is_active: bool,
    /// Make this the default tier at once. The first active tier becomes the
    /// default anyway.
    #[graphql(default = false)]
    is_default: bool,
}

/// Changes to a pricing tier; omitted fields stay as they are.
#[derive(InputObject)]
pub struct UpdatePricingTierInput {
    /// New unique name.
    name: MaybeUndefined<String>,
    /// New description; `null` clears it.
    description: MaybeUndefined<String>,
    /// New currency code.
    currency: MaybeUndefined<String>,
    /// New price per minute.
    rate_per_minute: MaybeUndefined<Decimal>,
    /// New billing granularity in seconds.
    billing_increment_seconds: MaybeUndefined<i32>,
    /// New minimum billable duration in seconds.
    minimum_duration_seconds: MaybeUndefined<i32>,
    /// Activate or deactivate; the default tier cannot be deactivated.
    is_active: MaybeUndefined<bool>,
}

impl UpdatePricingTierInput {
    fn into_patch(self) -> Result<PricingTierPatch, ApiError> {
        let within = |e: crate::domain::InvalidInput| ApiError::from(e.within("input"));
        Ok(PricingTierPatch {
            name: non_null(self.name, "input.name")?
                .map(|n| pricing_tier::parse_name(&n).at_field("name"))
                .transpose()
                .map_err(within)?,
            description: match nullable(self.description) {
                Some(Some(d)) => Some(
                    pricing_tier::parse_description(&d)
                        .at_field("description")
                        .map_err(within)?,
                ),
                Some(None) => Some(None),
                None => None,
            },
            currency: non_null(self.currency, "input.currency")?
                .map(|c| CurrencyCode::parse(&c).at_field("currency"))
                .transpose()
                .map_err(within)?,
            rate_per_minute: non_null(self.rate_per_minute, "input.ratePerMinute")?
                .map(|r| r.at("input.ratePerMinute"))
                .transpose()?
                .map(|r| pricing_tier::parse_rate_per_minute(r).at_field("ratePerMinute"))
                .transpose()
                .map_err(within)?,
            billing_increment_seconds: non_null(
                self.billing_increment_seconds,
                "input.billingIncrementSeconds",
            )?
            .map(|v| pricing_tier::parse_billing_increment(v).at_field("billingIncrementSeconds"))
            .transpose()
            .map_err(within)?,
            minimum_duration_seconds: non_null(
                self.minimum_duration_seconds,
                "input.minimumDurationSeconds",
            )?
            .map(|v| pricing_tier::parse_minimum_duration(v).at_field("minimumDurationSeconds"))
            .transpose()
            .map_err(within)?,
            is_active: non_null(self.is_active, "input.isActive")?,
        })
    }
}

/// Pricing-tier queries; any authenticated caller may read tiers.
#[derive(Default)]
pub struct PricingTierQuery;

#[Object]
impl PricingTierQuery {
    /// The tier with `id`, or `null` if there is none.
    async fn pricing_tier(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The id (UUID) of the pricing tier.")] id: ID,
    ) -> Result<Option<PricingTierNode>, ApiError> {
        crate::graphql::access::require_platform(
            ctx,
            &crate::domain::access::Action::ReadPricingTiers,
        )?;
        let id = parse_id(&id, "id")?;
        Ok(tiers(ctx).get(id).await?.map(PricingTierNode))
    }

    /// Tiers in case-insensitive name order, `first` (at most 100) at a
    /// time after the cursor `after`. Inactive tiers are left out unless
    /// `includeInactive`.
    #[graphql(complexity = "crate::graphql::connection::complexity(first, child_complexity)")]
    async fn pricing_tiers(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20, desc = "How many items to return, 0 to 100.")] first: i32,
        #[graphql(
            desc = "The `endCursor` of the previous page, to continue after it; omit for the first page."
        )]
        after: Option<String>,
        #[graphql(
            default = false,
            desc = "Also list inactive tiers (admins see them to reactivate them)."
        )]
        include_inactive: bool,
    ) -> Result<Connection<PricingTierNode>, ApiError> {
        crate::graphql::access::require_platform(
            ctx,
            &crate::domain::access::Action::ReadPricingTiers,
        )?;
        let page = PageRequest::new(first, after)?;
        let page = tiers(ctx).list(&page, include_inactive).await?;
        Ok(Connection::from_page(page, PricingTierNode))
    }

    /// The tier new accounts get when none is named; `null` until an active
    /// tier exists.
    async fn default_pricing_tier(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<PricingTierNode>, ApiError> {
        crate::graphql::access::require_platform(
            ctx,
            &crate::domain::access::Action::ReadPricingTiers,
        )?;
        Ok(tiers(ctx).get_default().await?.map(PricingTierNode))
    }
}

/// Pricing-tier mutations; platform admins only.
#[derive(Default)]
pub struct PricingTierMutation;

#[Object]
impl PricingTierMutation {
    /// Creates a tier. The first active tier becomes the default.
    #[graphql(guard = "AdminGuard")]
    async fn create_pricing_tier(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The values to use; see the input type for each field and its rules.")]
        input: CreatePricingTierInput,
        #[graphql(
            desc = "Makes a retry safe: a repeated call with this key (1 to 64 characters, scoped to the caller, remembered 24 hours) and the same input returns the first result instead of creating again; with another input it is `CONFLICT`."
        )]
        idempotency_key: Option<String>,
    ) -> Result<PricingTierNode, ApiError> {
        let key = idempotency::key(ctx, idempotency_key, "createPricingTier")?;
        let new = NewPricingTier::parse(PricingTierDraft {
            name: input.name,
            description: input.description,
            currency: input.currency,
            rate_per_minute: input.rate_per_minute.at("input.ratePerMinute")?,
            billing_increment_seconds: input.billing_increment_seconds,
            minimum_duration_seconds: input.minimum_duration_seconds,
            is_active: input.is_active,
            is_default: input.is_default,
        })
        .map_err(|e| e.within("input"))?;
        let store = tiers(ctx);
        let change = audit::change(ctx)?;
        let create = store.create(new, key.as_ref(), &change);
        let (tier, _) = Box::pin(idempotency::once(ctx, key.as_ref(), create, |id| {
            store.get(id)
        }))
        .await?;
        Ok(PricingTierNode(tier))
    }

    /// Changes the fields given in `input`, leaving the others. With
    /// `expectedVersion`, fails with `CONFLICT` unless the tier is still at
    /// that version.
    #[graphql(guard = "AdminGuard")]
    async fn update_pricing_tier(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The id (UUID) of the pricing tier.")] id: ID,
        #[graphql(desc = "The values to use; see the input type for each field and its rules.")]
        input: UpdatePricingTierInput,
        #[graphql(
            desc = "Fail with `CONFLICT` unless the entity is still at this `version` (no lost updates)."
        )]
        expected_version: Option<i32>,
    ) -> Result<PricingTierNode, ApiError> {
        let id = parse_id(&id, "id")?;
        let expected = parse_expected_version(expected_version)?;
        let patch = input.into_patch()?;
        Ok(PricingTierNode(
            tiers(ctx)
                .update(id, patch, expected, &audit::change(ctx)?)
                .await?,
        ))
    }

    /// Makes the tier the default, in place of the current one. The tier
    /// must be active.
    #[graphql(guard = "AdminGuard")]
    async fn set_default_pricing_tier(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The id (UUID) of the pricing tier.")] id: ID,
    ) -> Result<PricingTierNode, ApiError> {
        let id = parse_id(&id, "id")?;
        let mut change = audit::change(ctx)?;
        change.changed_fields = vec!["isDefault".into()];
        Ok(PricingTierNode(tiers(ctx).set_default(id, &change).await?))
    }

    /// Deletes a tier and returns its id. Refused with
    /// `FAILED_PRECONDITION` while it is the default or accounts are on it.
    #[graphql(guard = "AdminGuard")]
    async fn delete_pricing_tier(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The id (UUID) of the pricing tier.")] id: ID,
        #[graphql(
            desc = "Fail with `CONFLICT` unless the entity is still at this `version` (no lost updates)."
        )]
        expected_version: Option<i32>,
    ) -> Result<ID, ApiError> {
        let uuid = parse_id(&id, "id")?;
        let expected = parse_expected_version(expected_version)?;
        tiers(ctx)
            .delete(uuid, expected, &audit::change(ctx)?)
            .await?;
        Ok(ID(uuid.to_string()))
    }
}
