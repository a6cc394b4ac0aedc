//! DynamoDB persistence. This layer knows items, keys, conditions,
//! transactions and pagination, and nothing of GraphQL. It takes and returns
//! domain types; every invariant that spans items (uniqueness, the one
//! default tier, reference counts) is enforced here by DynamoDB conditions
//! inside transactions, never by reading first and writing after.
//!
//! Everything lives in one table; `docs/data-model.md` maps each access
//! pattern to the key or index that serves it.

mod batch;
mod codec;
pub mod cursor;
pub mod customers;
pub mod error;
pub mod invitations;
mod keys;
pub mod memberships;
mod paging;
pub mod pricing_tiers;
pub mod tables;
mod transaction;
mod unique;
mod update;
pub mod users;

use std::sync::Arc;

use aws_sdk_dynamodb::Client;

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
}

impl Store {
    /// A store over `table`, reached through `client`.
    pub fn new(client: Client, table: impl Into<Arc<str>>) -> Self {
        Self {
            db: Db {
                client,
                table: table.into(),
            },
        }
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

/// Builds a DynamoDB client from the standard AWS environment
/// (`AWS_REGION`, `AWS_ENDPOINT_URL_DYNAMODB`, the credentials chain).
pub async fn client_from_env() -> Client {
    let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    Client::new(&config)
}
