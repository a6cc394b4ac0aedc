//! DataLoaders: every object reached from a list (an account's tier,
//! customer and master; a customer's owner and role users) is fetched
//! through these, so a page of 100 costs one `BatchGetItem` per kind of
//! related object instead of 100 `GetItem`s.
//!
//! A fresh [`Loaders`] is put into every request's data by the HTTP layer:
//! its cache then lives exactly as long as the request, so no caller ever
//! sees another request's (or a stale) object.
//!
//! When a batch is fetched (see `docs/decisions.md`): not after a fixed
//! delay but **as soon as the request cannot make progress without it**.
//! The loaders do not spawn their fetches on the runtime; they hand them
//! to the request's [`FetchQueue`], and [`run_batched`], which drives the
//! whole execution, starts the queued fetches only when the execution
//! future is blocked (pending without having woken itself). By then every
//! item of a list has asked for its keys, however long that took, so a
//! page costs one `BatchGetItem` per kind, and nothing waits for a timer.
//! A fixed delay cannot promise that: async-graphql walks a 100-item list
//! in slices (its `FuturesUnordered` yields every second item), which
//! takes several milliseconds in a debug build and well over the default
//! 1 ms under load, while the same delay is pure added latency for a
//! single object. Hence `delay(0)`, which is harmless here because the
//! fetch does not run concurrently with the resolvers still collecting
//! keys (the KNOWN-TRAPS failure of `delay(0)` is exactly that race).
//! A future that yields through a deferred wake (tokio's `yield_now`, its
//! coop budget) looks blocked, so the fetch merely starts earlier: at worst
//! an extra batch, never a wrong or a missing answer.
//! Max batch 100 (99 for tiers, whose batch also reads the default-tier
//! pointer): `BatchGetItem`'s limit, so one batch is one request.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskContext, Poll, Wake, Waker};
use std::time::Duration;

use async_graphql::Context;
use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use async_graphql::futures_util::future::BoxFuture;
use uuid::Uuid;

use super::error::ApiError;
use crate::domain::account::Account;
use crate::domain::customer::Customer;
use crate::domain::pricing_tier::PricingTier;
use crate::domain::user::User;
use crate::store::Store;

/// The loaders' own delay: none, since [`run_batched`] decides when a
/// fetch starts.
pub const BATCH_DELAY: Duration = Duration::ZERO;
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

fn loader<T: Loader<Uuid>>(
    inner: T,
    max_batch: usize,
    queue: &FetchQueue,
) -> DataLoader<T, HashMapCache> {
    let queue = queue.clone();
    DataLoader::with_cache(
        inner,
        move |fetch| queue.push(fetch),
        HashMapCache::default(),
    )
    .delay(BATCH_DELAY)
    .max_batch_size(max_batch)
}

impl Loaders {
    /// Fresh loaders (empty caches) over `store`, for one request, with
    /// the queue their fetches wait in; run the request with
    /// [`run_batched`] over that queue.
    pub fn new(store: &Store) -> (Self, FetchQueue) {
        let queue = FetchQueue::default();
        let loaders = Self {
            tiers: loader(TierLoader(store.clone()), MAX_BATCH - 1, &queue),
            customers: loader(CustomerLoader(store.clone()), MAX_BATCH, &queue),
            users: loader(UserLoader(store.clone()), MAX_BATCH, &queue),
            accounts: loader(AccountLoader(store.clone()), MAX_BATCH, &queue),
        };
        (loaders, queue)
    }
}

/// The fetches of one request's loaders, waiting to be started.
#[derive(Clone, Default)]
pub struct FetchQueue(Arc<Mutex<Vec<BoxFuture<'static, ()>>>>);

impl FetchQueue {
    fn push(&self, fetch: BoxFuture<'static, ()>) {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(fetch);
    }

    fn take(&self) -> Vec<BoxFuture<'static, ()>> {
        std::mem::take(
            &mut *self
                .0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }
}

/// Records whether the execution woke itself while being polled (it is
/// runnable, just yielding), and passes every wake on to the task.
struct WakeFlag {
    woken: AtomicBool,
    task: Mutex<Option<Waker>>,
}

impl Wake for WakeFlag {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::SeqCst);
        if let Some(task) = self
            .task
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .as_ref()
        {
            task.wake_by_ref();
        }
    }
}

/// Polls of a runnable execution before giving the runtime a turn.
const SPINS: usize = 64;

/// Drives `execution` and the fetches its loaders queue: a queued fetch
/// starts only once `execution` is blocked, so every key asked for until
/// then is in its batch. Everything runs in the caller's task.
pub fn run_batched<F: Future>(queue: FetchQueue, execution: F) -> impl Future<Output = F::Output> {
    Batched {
        execution: Box::pin(execution),
        queue,
        running: Vec::new(),
        flag: Arc::new(WakeFlag {
            woken: AtomicBool::new(false),
            task: Mutex::new(None),
        }),
    }
}

struct Batched<F> {
    execution: Pin<Box<F>>,
    queue: FetchQueue,
    running: Vec<BoxFuture<'static, ()>>,
    flag: Arc<WakeFlag>,
}

impl<F: Future> Future for Batched<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<F::Output> {
        let this = self.get_mut();
        *this
            .flag
            .task
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(cx.waker().clone());
        let waker = Waker::from(this.flag.clone());
        for _ in 0..SPINS {
            this.flag.woken.store(false, Ordering::SeqCst);
            if let Poll::Ready(output) = this
                .execution
                .as_mut()
                .poll(&mut TaskContext::from_waker(&waker))
            {
                return Poll::Ready(output);
            }
            if !this.flag.woken.load(Ordering::SeqCst) {
                // Blocked: every key asked for so far is queued; fetch.
                this.running.extend(this.queue.take());
            }
            this.running
                .retain_mut(|fetch| fetch.as_mut().poll(cx).is_pending());
            if !this.flag.woken.load(Ordering::SeqCst) {
                return Poll::Pending;
            }
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// The current request's loaders.
pub fn loaders<'a>(ctx: &'a Context<'_>) -> Result<&'a Loaders, ApiError> {
    ctx.data_opt::<Loaders>()
        .ok_or_else(|| ApiError::internal("the request carries no data loaders"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::futures_util::future::join_all;

    /// Yields the way async-graphql's `FuturesUnordered` does: wakes
    /// itself at once and returns `Pending`. (tokio's `yield_now` defers
    /// its wake past the poll, so it reads as blocked and would only make
    /// the fetch start earlier.)
    async fn yield_now() {
        let mut yielded = false;
        std::future::poll_fn(|cx| {
            if yielded {
                Poll::Ready(())
            } else {
                yielded = true;
                cx.waker().wake_by_ref();
                Poll::Pending
            }
        })
        .await;
    }

    /// Answers every key with itself and records each batch's size.
    struct Recording(Arc<Mutex<Vec<usize>>>);

    impl Loader<Uuid> for Recording {
        type Value = Uuid;
        type Error = ApiError;

        async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Uuid>, ApiError> {
            self.0.lock().unwrap().push(keys.len());
            tokio::task::yield_now().await;
            Ok(keys.iter().map(|k| (*k, *k)).collect())
        }
    }

    #[tokio::test]
    async fn keys_asked_for_across_many_yields_are_fetched_in_one_batch() {
        let batches = Arc::new(Mutex::new(Vec::new()));
        let queue = FetchQueue::default();
        let loader = loader(Recording(batches.clone()), MAX_BATCH, &queue);
        let ids: Vec<Uuid> = (0..60).map(|_| Uuid::now_v7()).collect();
        let work = join_all(ids.iter().enumerate().map(|(i, id)| {
            let loader = &loader;
            async move {
                // Items reach their load after different numbers of
                // yields, as list items do in async-graphql.
                for _ in 0..i % 7 {
                    yield_now().await;
                }
                loader.load_one(*id).await
            }
        }));
        let results = run_batched(queue, work).await;
        assert!(
            results
                .iter()
                .zip(&ids)
                .all(|(r, id)| r.as_ref().ok() == Some(&Some(*id)))
        );
        assert_eq!(*batches.lock().unwrap(), vec![60]);
    }

    #[tokio::test]
    async fn batches_are_capped_at_the_batch_get_limit() {
        let batches = Arc::new(Mutex::new(Vec::new()));
        let queue = FetchQueue::default();
        let loader = loader(Recording(batches.clone()), MAX_BATCH, &queue);
        let ids: Vec<Uuid> = (0..250).map(|_| Uuid::now_v7()).collect();
        let work = join_all(ids.iter().map(|id| loader.load_one(*id)));
        run_batched(queue, work).await;
        let mut sizes = batches.lock().unwrap().clone();
        sizes.sort_unstable();
        assert_eq!(sizes, vec![50, 100, 100]);
    }
}
