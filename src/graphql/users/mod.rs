//! The user part of the schema: users themselves (admin-managed), the
//! caller's `viewer`, and a customer's users with their permissions.
//!
//! - `types.rs`: `User`, `CustomerMembership`, `Viewer` and the enums;
//! - `query.rs`: `viewer`, `user`, `userByEmail`, `users`, and
//!   `customerUsers` (a customer's users, for members with `USERS_READ`);
//! - `mutation.rs`: creating, changing, disabling and deleting users;
//! - `members.rs`: adding, changing and removing a customer's users.

mod members;
mod mutation;
mod query;
mod types;

pub use members::CustomerUserMutation;
pub use mutation::{UserMutation, hash_password};
pub use query::UserQuery;
pub use types::{
    CustomerMembershipNode, Permission, UserNode, UserStatus, ViewerNode, connection, members_of,
    memberships_of, permissions,
};
