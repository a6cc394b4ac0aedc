//! The user part of the schema. Users are managed with their own issue;
//! for now they appear as customers' owners, role holders and members.

use async_graphql::{ID, Object};

use super::input::int;
use super::scalars::DateTime;
use crate::domain::user::User;

/// A person who signs in and acts for one or more customers.
pub struct UserNode(pub User);

#[Object(name = "User")]
impl UserNode {
    /// Unique identifier (UUIDv7).
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// Sign-in email, unique among users.
    async fn email(&self) -> &str {
        &self.0.email
    }

    /// First name.
    async fn first_name(&self) -> &str {
        &self.0.first_name
    }

    /// Last name.
    async fn last_name(&self) -> &str {
        &self.0.last_name
    }

    /// When the user was created.
    async fn created_at(&self) -> DateTime {
        DateTime(self.0.created_at)
    }

    /// When the user last changed.
    async fn updated_at(&self) -> DateTime {
        DateTime(self.0.updated_at)
    }

    /// Optimistic-locking version.
    async fn version(&self) -> i32 {
        int(self.0.version)
    }
}
