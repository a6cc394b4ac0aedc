//! DataLoaders: every object reached from a list (an account's tier,
//! customer and master; a customer's owner and role users) is fetched
//! through these, so a page of 100 costs one `BatchGetItem` per kind of
//! related object instead of 100 `GetItem`s.
//!
//! A fresh [`Loaders`] is put into every request's data by the HTTP layer:
//! its cache then lives exactly as long as the request, so no caller ever
//! sees another request's (or a stale) object.
//!
//! Batch settings, chosen deliberately (see `docs/decisions.md`):
//! - **delay 200 µs.** The loader waits this long after the first key
//!   before fetching, so the keys of the other items of the same list,
//!   which async-graphql resolves concurrently in the same poll pass,
//!   join the batch. The default 1 ms would add a full millisecond to
//!   every request that touches a loader; `delay(0)` lets the fetch task
//!   (spawned on another worker thread) start before the pass finishes and
//!   splits the batch. 200 µs is well above a 100-item poll pass and well
//!   below one DynamoDB round trip (several ms), which the batch saves.
//! - **max batch 100** (99 for tiers, whose batch also reads the
//!   default-tier pointer): `BatchGetItem`'s limit, so one batch is one
//!   request.

use std::collections::HashMap;
use std::time::Duration;

use async_graphql::Context;
use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use uuid::Uuid;

use super::error::ApiError;
use crate::domain::account::Account;
use crate::domain::customer::Customer;
use crate::domain::pricing_tier::PricingTier;
use crate::domain::user::User;
use crate::store::Store;

/// How long a loader collects keys before fetching.
pub const BATCH_DELAY: Duration = Duration::from_micros(200);
/// Most keys in one `BatchGetItem`.
pub const MAX_BATCH: usize = 100;

/// Loads pricing tiers by id (with `isDefault`).
pub struct TierLoader(Store);
/// Loads customers by id.
pub struct CustomerLoader(Store);
/// Loads users by id.
pub struct UserLoader(Store);
/// Loads accounts by id.
pub struct AccountLoader(Store);

impl Loader<Uuid> for TierLoader {
    type Value = PricingTier;
    type Error = ApiError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, PricingTier>, ApiError> {
        Ok(self.0.pricing_tiers().get_many(keys).await?)
    }
}

impl Loader<Uuid> for CustomerLoader {
    type Value = Customer;
    type Error = ApiError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Customer>, ApiError> {
        Ok(self.0.customers().get_many(keys).await?)
    }
}

impl Loader<Uuid> for UserLoader {
    type Value = User;
    type Error = ApiError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, User>, ApiError> {
        Ok(self.0.users().get_many(keys).await?)
    }
}

impl Loader<Uuid> for AccountLoader {
    type Value = Account;
    type Error = ApiError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Account>, ApiError> {
        Ok(self.0.accounts().get_many(keys).await?)
    }
}

/// The loaders of one request.
pub struct Loaders {
    /// Pricing tiers.
    pub tiers: DataLoader<TierLoader, HashMapCache>,
    /// Customers.
    pub customers: DataLoader<CustomerLoader, HashMapCache>,
    /// Users.
    pub users: DataLoader<UserLoader, HashMapCache>,
    /// Accounts.
    pub accounts: DataLoader<AccountLoader, HashMapCache>,
}

fn loader<T: Loader<Uuid>>(inner: T, max_batch: usize) -> DataLoader<T, HashMapCache> {
    DataLoader::with_cache(inner, tokio::spawn, HashMapCache::default())
        .delay(BATCH_DELAY)
        .max_batch_size(max_batch)
}

impl Loaders {
    /// Fresh loaders (empty caches) over `store`, for one request.
    pub fn new(store: &Store) -> Self {
        Self {
            tiers: loader(TierLoader(store.clone()), MAX_BATCH - 1),
            customers: loader(CustomerLoader(store.clone()), MAX_BATCH),
            users: loader(UserLoader(store.clone()), MAX_BATCH),
            accounts: loader(AccountLoader(store.clone()), MAX_BATCH),
        }
    }
}

/// The current request's loaders.
pub fn loaders<'a>(ctx: &'a Context<'_>) -> Result<&'a Loaders, ApiError> {
    ctx.data_opt::<Loaders>()
        .ok_or_else(|| ApiError::internal("the request carries no data loaders"))
}
