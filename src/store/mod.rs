//! DynamoDB persistence. This layer knows items, keys, conditions,
//! transactions and pagination, and nothing of GraphQL. It takes and returns
//! domain types; every invariant that spans items (uniqueness, the one
//! default tier, reference counts) is enforced here by DynamoDB conditions
//! inside transactions, never by reading first and writing after.
//!
//! Everything lives in one table; `docs/data-model.md` maps each access
//! pattern to the key or index that serves it.

pub mod accounts;
pub mod audit;
mod batch;
mod codec;
pub mod cursor;
pub mod customers;
pub mod error;
pub mod idempotency;
pub mod invitations;
mod keys;
pub mod memberships;
mod paging;
pub mod pricing_tiers;
mod search;
pub mod tables;
mod transaction;
mod unique;
mod update;
pub mod users;

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::config::timeout::TimeoutConfig;

pub use accounts::{AccountFilter, Accounts};
pub use customers::{CustomerFilter, Customers};
pub use error::StoreError;
pub use invitations::Invitations;
pub use memberships::Memberships;
pub use pricing_tiers::PricingTiers;
pub use users::{UserFilter, Users};

/// Handle on the table, cheap to clone; built once per process.
#[derive(Clone, Debug)]
pub struct Store {
    db: Db,
}

/// The client and table every store module works against.
#[derive(Clone, Debug)]
pub(crate) struct Db {
    pub(crate) client: Client,
    pub(crate) table: Arc<str>,
    /// Most items one page of a list may read (see [`Store::with_read_limit`]).
    pub(crate) read_limit: usize,
    /// Days an audit event is kept (see [`Store::with_audit_retention`]).
    pub(crate) audit_retention_days: u32,
}

/// Default of [`Store::with_read_limit`].
pub const DEFAULT_READ_LIMIT: usize = 1_000;

impl Store {
    /// A store over `table`, reached through `client`.
    pub fn new(client: Client, table: impl Into<Arc<str>>) -> Self {
        Self {
            db: Db {
                client,
                table: table.into(),
                read_limit: DEFAULT_READ_LIMIT,
                audit_retention_days: crate::domain::audit::DEFAULT_RETENTION_DAYS,
            },
        }
    }

    /// Bounds the items one page of a list may read. A filter that matches
    /// few items of a large partition would otherwise read all of it to fill
    /// one page; past the bound the page comes back short, with
    /// `hasNextPage` and a cursor past what was read.
    #[must_use]
    pub fn with_read_limit(mut self, items: usize) -> Self {
        self.db.read_limit = items.max(1);
        self
    }

    /// Sets how many days audit events are kept before DynamoDB's time to
    /// live removes them (at least one).
    #[must_use]
    pub fn with_audit_retention(mut self, days: u32) -> Self {
        self.db.audit_retention_days = days.max(1);
        self
    }

    /// The audit trail: who changed what, when and why.
    pub fn audit(&self) -> audit::AuditTrail {
        audit::AuditTrail::new(self.db.clone())
    }

    /// Accounts, their credentials, counts and guards.
    pub fn accounts(&self) -> Accounts {
        Accounts::new(self.db.clone())
    }

    /// Recorded idempotency keys of create mutations.
    pub fn idempotency(&self) -> idempotency::Idempotency {
        idempotency::Idempotency::new(self.db.clone())
    }

    /// Pricing tiers and the default-tier pointer.
    pub fn pricing_tiers(&self) -> PricingTiers {
        PricingTiers::new(self.db.clone())
    }

    /// Customers, their guards, search terms and deletion.
    pub fn customers(&self) -> Customers {
        Customers::new(self.db.clone())
    }

    /// Users.
    pub fn users(&self) -> Users {
        Users::new(self.db.clone())
    }

    /// Invitations to join a customer.
    pub fn invitations(&self) -> Invitations {
        Invitations::new(self.db.clone())
    }

    /// Which users belong to which customers.
    pub fn memberships(&self) -> Memberships {
        Memberships::new(self.db.clone())
    }

    /// Name of the table this store writes to.
    pub fn table_name(&self) -> &str {
        &self.db.table
    }
}

/// How long a DynamoDB call may take. The SDK's defaults set only a connect
/// timeout: a connection that is accepted and never answered would hold a
/// request until the Lambda itself times out (15 s), so every attempt and
/// every operation (all its retries) gets a bound well under that.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Establishing a connection.
    pub connect: Duration,
    /// One attempt, from sending the request to the end of the response
    /// (also the read timeout of the connection).
    pub attempt: Duration,
    /// The whole operation, retries and backoff included.
    pub operation: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(1),
            attempt: Duration::from_secs(2),
            operation: Duration::from_secs(5),
        }
    }
}

impl Timeouts {
    /// The SDK's form of these timeouts.
    pub fn sdk_config(&self) -> TimeoutConfig {
        TimeoutConfig::builder()
            .connect_timeout(self.connect)
            .read_timeout(self.attempt)
            .operation_attempt_timeout(self.attempt)
            .operation_timeout(self.operation)
            .build()
    }
}

/// How DynamoDB calls are retried: the SDK's standard mode (throttling,
/// transient and server errors; exponential backoff with jitter), three
/// attempts, all within [`Timeouts::operation`]. What still fails is
/// reported to clients as `SERVICE_UNAVAILABLE`, marked retryable.
pub fn retry_config() -> RetryConfig {
    RetryConfig::standard().with_max_attempts(3)
}

/// Builds a DynamoDB client from the standard AWS environment
/// (`AWS_REGION`, `AWS_ENDPOINT_URL_DYNAMODB`, the credentials chain) with
/// the default [`Timeouts`].
pub async fn client_from_env() -> Client {
    client_with_timeouts(&Timeouts::default()).await
}

/// Like [`client_from_env`], with the given timeouts.
pub async fn client_with_timeouts(timeouts: &Timeouts) -> Client {
    client(&aws_config(timeouts).await)
}

/// The AWS configuration every SDK client of the process shares: the
/// standard environment (region, endpoint, credentials chain), these
/// timeouts, [`retry_config`] and [`http_client`].
pub async fn aws_config(timeouts: &Timeouts) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(http_client())
        .timeout_config(timeouts.sdk_config())
        .retry_config(retry_config())
        .load()
        .await
}

/// The SDK's own hyper client over rustls with ring, the crypto library
/// the rest of the binary uses too (jsonwebtoken through `auth::crypto`,
/// the JWKS fetch). The SDK's default client would bring aws-lc, 2.9 MB of
/// C for the same TLS (docs/performance.md); the trust roots are the
/// system's, as before.
pub fn http_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    use aws_smithy_http_client::tls;
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https()
}

/// The DynamoDB client for an AWS configuration, counting each call in the
/// current request's metrics.
pub fn client(config: &aws_config::SdkConfig) -> Client {
    let dynamodb = aws_sdk_dynamodb::config::Builder::from(config)
        .interceptor(crate::metrics::DynamoDbCalls)
        .build();
    Client::from_conf(dynamodb)
}
