//! Users: people who sign in and act for one or more customers.

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// A stored user. The password hash never leaves the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// UUIDv7 identifier.
    pub id: Uuid,
    /// Sign-in email, unique among users (case-insensitive).
    pub email: String,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Optimistic-locking version.
    pub version: u64,
}

/// A user to be created, its password already hashed.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Validated email.
    pub email: String,
    /// Validated first name.
    pub first_name: String,
    /// Validated last name.
    pub last_name: String,
    /// Argon2id PHC hash.
    pub password_hash: String,
}
